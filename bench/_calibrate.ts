/**
 * Calibration of the harness: one workload run as authlane against itself (A/A), oauth4webapi
 * against itself (B/B), then the real comparison (A/B), each in a fresh set of rounds. A/A and
 * B/B should print 1.00; how far they stray is the noise floor of the ratio on this machine
 * (about ±6% here). Run a workload on its own this way to see it without the heap and JIT state
 * the workloads before it leave in `deno task bench`.
 *
 * `deno run -A --v8-flags=--expose-gc bench/_calibrate.ts 1s`
 *
 * @module
 */

import { measure, type Plan } from "./_harness.ts";
import { makeFixtures } from "./_fixtures.ts";
import { makeWorkloads } from "./_workloads.ts";

const id = Deno.args[0] ?? "1s";
const workloads = await makeWorkloads(await makeFixtures());
const w = workloads.find((x) => x.id === id);
if (w === undefined) throw new Error(`no workload ${id}`);
const plan: Plan = { rounds: 21, batchMs: 40, warmupMs: 400, pauseMs: 3 };
const aa = await measure({ ...w, oauth4webapi: w.authlane }, plan);
console.log(`${id} A/A (authlane vs authlane):         ratio ${aa.ratio.toFixed(2)}`);
const bb = await measure({ ...w, authlane: w.oauth4webapi }, plan);
console.log(`${id} B/B (oauth4webapi vs oauth4webapi): ratio ${bb.ratio.toFixed(2)}`);
const ab = await measure(w, plan);
console.log(`${id} A/B (authlane vs oauth4webapi):     ratio ${ab.ratio.toFixed(2)}`);
