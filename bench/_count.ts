/**
 * Instructions per operation, counted by valgrind's callgrind: repeatable where wall and CPU time
 * are not (a shared machine, other processes on the same cores). For each side of a workload it
 * runs the same script twice under callgrind, once with `n` timed operations and once with `2n`,
 * each after the same warm-up, and reports the difference divided by `n`: start-up, fixtures and
 * warm-up cancel out, what is left is the operation (with its share of GC and JIT work, counted on
 * every thread).
 *
 * `deno run -A bench/_count.ts 1 [n=2000] [sides=authlane,oauth4webapi,floor]`
 *
 * Inside the child it is the driver: `bench/_count.ts --child <id> <side> <n>`. Instructions are
 * not time (a Web Crypto call's instructions weigh differently from JIT code's), so this is for
 * comparing two versions of the same path, and the two libraries on one workload. Workload ids
 * are `deno task bench`'s; `read:code` and `read:discovery` count a variant of
 * bench/_read_steps.ts instead (`AUTHLANE_BEFORE` adds older bundles there). Repeat (the fourth
 * argument): on this machine two counts of one bundle agreed to 0.01% in one case and differed by
 * 6% in another (a blob fetch goes through the runtime's threads); each count takes minutes.
 *
 * @module
 */

import { makeFixtures } from "./_fixtures.ts";
import { makeWorkloads, type Op } from "./_workloads.ts";
import { readSteps } from "./_read_steps.ts";
import { median } from "./_harness.ts";

const WARMUP = 1500;
const BATCH = 500;

/** The inputs and the operation a child counts: a workload's side, or a read step. */
async function subject(
  id: string,
  side: string,
): Promise<{ build(n: number): unknown[] | Promise<unknown[]>; op: Op<unknown> }> {
  if (id.startsWith("read:")) {
    const steps = await readSteps(id.slice(5));
    const op = steps.variants[side];
    if (op === undefined) throw new Error(`no read step ${side}`);
    return { build: steps.build, op: op as Op<unknown> };
  }
  const w = (await makeWorkloads(await makeFixtures())).find((x) => x.id === id);
  if (w === undefined) throw new Error(`no workload ${id}`);
  const op = side === "floor"
    ? w.floor
    : side === "platform"
    ? w.platform!
    : side === "oauth4webapi"
    ? w.oauth4webapi
    : w.authlane;
  return { build: (n) => w.build(n), op };
}

async function child(id: string, side: string, n: number): Promise<void> {
  const { build, op } = await subject(id, side);
  for (let done = 0; done < WARMUP; done += BATCH) {
    const inputs = await build(BATCH);
    for (let i = 0; i < BATCH; i++) await op(inputs[i]!);
  }
  const inputs = await build(n);
  (globalThis as { gc?: () => void }).gc?.();
  // The counted window: callgrind zeroes its counters when getcwd(3) is entered and dumps them
  // when gethostname(3) is, the two libc calls behind these two Deno APIs.
  Deno.cwd();
  for (let i = 0; i < n; i++) await op(inputs[i]!);
  Deno.hostname();
}

async function instructions(id: string, side: string, n: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "authlane-count-" });
  try {
    const out = await new Deno.Command("valgrind", {
      args: [
        "--tool=callgrind",
        "--zero-before=getcwd",
        "--dump-before=gethostname",
        `--callgrind-out-file=${dir}/cg.out`,
        Deno.execPath(),
        "run",
        "-A",
        // V8's predictable mode: one thread, no time-based GC or compilation heuristics, so the
        // count repeats.
        "--v8-flags=--expose-gc,--predictable",
        new URL(import.meta.url).pathname,
        "--child",
        id,
        side,
        String(n),
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`valgrind failed:\n${new TextDecoder().decode(out.stderr)}`);
    // The last dump made at gethostname(3) is the counted window (the runtime calls it once
    // at start-up too). Its "totals" line is the cost inside the window on every thread.
    let last: { part: number; text: string } | undefined;
    for await (const entry of Deno.readDir(dir)) {
      const text = await Deno.readTextFile(`${dir}/${entry.name}`);
      if (!text.includes("Trigger: --dump-before=gethostname")) continue;
      const part = Number(/^part:\s*(\d+)/m.exec(text)?.[1] ?? 0);
      if (last === undefined || part > last.part) last = { part, text };
    }
    const match = /^totals:\s*(\d+)/m.exec(last?.text ?? "");
    if (match === null) throw new Error("no counted window in the dumps");
    return Number(match[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (Deno.args[0] === "--child") {
  const [, id, side, n] = Deno.args;
  await child(id!, side!, Number(n));
} else {
  const id = Deno.args[0] ?? "1";
  const n = Number(Deno.args[1] ?? 2000);
  const sides = (Deno.args[2] ?? "authlane,oauth4webapi,floor").split(",");
  const repeat = Number(Deno.args[3] ?? 1);
  const per: Record<string, number> = {};
  for (const side of sides) {
    const runs: number[] = [];
    for (let r = 0; r < repeat; r++) {
      const [one, two] = await Promise.all([
        instructions(id, side, n),
        instructions(id, side, 2 * n),
      ]);
      runs.push((two - one) / n);
    }
    per[side] = median(runs);
    if (repeat > 1) console.log(`  ${side} runs: ${runs.map((r) => Math.round(r)).join(" ")}`);
    console.log(
      `${id} ${side.padEnd(13)} ${Math.round(per[side]!).toLocaleString("en-US")} instr/op`,
    );
  }
  if (per.authlane !== undefined && per.oauth4webapi !== undefined) {
    console.log(`${id} oauth4webapi/authlane: ${(per.oauth4webapi / per.authlane).toFixed(3)}`);
  }
}
