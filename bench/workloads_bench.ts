/**
 * The same workloads for `deno bench` (one group per workload: authlane as the baseline,
 * oauth4webapi and the floor beside it). Each iteration builds its input outside the timed
 * section. The interleaved `bench/run.ts` (`deno task bench`) is the reference measurement; this
 * file is a quick cross-check with Deno's own statistics.
 *
 * `deno bench -A bench/`
 *
 * @module
 */

import { makeFixtures } from "./_fixtures.ts";
import { makeWorkloads, type Op, type Workload } from "./_workloads.ts";

const workloads = await makeWorkloads(await makeFixtures());

function register(w: Workload, side: string, op: Op<unknown>, baseline: boolean): void {
  Deno.bench({
    name: `${w.id} ${side}`,
    group: `${w.id}: ${w.title}`,
    baseline,
    async fn(b) {
      const [input] = await w.build(1);
      b.start();
      await op(input);
      b.end();
    },
  });
}

for (const w of workloads) {
  if (w.pending !== undefined) continue;
  register(w, "authlane", w.authlane, true);
  register(w, "oauth4webapi", w.oauth4webapi, false);
  register(w, "floor", w.floor, false);
}
