/**
 * Profiling driver: runs one side of one workload in a loop, for `deno run --cpu-prof`, printing
 * the CPU time of every slice of the run so spikes (GC, deoptimisation) show.
 *
 * `deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof bench/_profile.ts 1s authlane 3000`
 *
 * @module
 */

import process from "node:process";
import { makeFixtures } from "./_fixtures.ts";
import { makeWorkloads } from "./_workloads.ts";

const [id = "1", side = "authlane", count = "5000", slices = "10"] = Deno.args;
const workloads = await makeWorkloads(await makeFixtures());
const w = workloads.find((x) => x.id === id);
if (w === undefined) throw new Error(`no workload ${id}`);
const op = side === "floor" ? w.floor : side === "oauth4webapi" ? w.oauth4webapi : w.authlane;
const n = Number(count);
const per = Math.ceil(n / Number(slices));
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const out: string[] = [];
let total = 0;
for (let done = 0; done < n; done += per) {
  const inputs = await w.build(per);
  (globalThis as { gc?: () => void }).gc?.();
  const c0 = cpu();
  for (let i = 0; i < per; i++) await op(inputs[i]!);
  const c = cpu() - c0;
  total += c;
  out.push(((c * 1000) / per).toFixed(1));
}
console.log(`${id} ${side}: ${(total * 1000 / n).toFixed(2)} µs CPU/op; slices: ${out.join(" ")}`);
