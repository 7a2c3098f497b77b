/**
 * Interleaved timing: authlane and oauth4webapi run in alternating rounds (who goes first swaps
 * every round), with the platform floor in the same rounds, on freshly built inputs that are made
 * before each batch and never timed. Reported numbers are medians over rounds: of each side's
 * ops/s, of the per-round authlane/oauth4webapi ratio, and of each library's per-op cost as a
 * multiple of the floor's.
 *
 * Each batch is timed twice: by the process's CPU time (user + system, all threads, from
 * getrusage) and by the wall clock. CPU time is the primary measure: on shared cores, time the
 * process spends descheduled behind other work lands in the wall clock of whichever batch was
 * running, while CPU time counts only the work done. The wall-clock ratio is reported beside it.
 *
 * @module
 */

import process from "node:process";
import type { Op, Workload } from "./_workloads.ts";

/** How long and how often to measure. */
export interface Plan {
  rounds: number;
  /** Target duration of one timed batch, in milliseconds. */
  batchMs: number;
  /** Warm-up time per side before calibration, in milliseconds. */
  warmupMs: number;
  /** Pause between batches, in milliseconds. */
  pauseMs: number;
}

/** The medians of one workload. */
export interface Result {
  authlaneOps: number;
  oauth4webapiOps: number;
  floorOps: number;
  /** authlane ops/s divided by oauth4webapi ops/s (median of per-round ratios). */
  ratio: number;
  /** authlane per-op time as a multiple of the floor's. */
  authlaneFloor: number;
  /** oauth4webapi per-op time as a multiple of the floor's. */
  oauth4webapiFloor: number;
  /** authlane per-op time as a multiple of the platform op's (crypto-bound workloads). */
  authlanePlatform?: number;
  /** oauth4webapi per-op time as a multiple of the platform op's. */
  oauth4webapiPlatform?: number;
  /** Building one input (Response, Request or URL), in microseconds. */
  buildUs: number;
  /** Spread of the per-round ratio: [min, max]. */
  ratioRange: [number, number];
  /** The middle half of the per-round ratios: [25th, 75th percentile]. */
  ratioQuartiles: [number, number];
  /** The same ratio by the wall clock. */
  wallRatio: number;
  rounds: number;
}

/** The `p`-quantile (0–1) of `values`, interpolated between the nearest ranks. */
export function quantile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * p;
  const low = Math.floor(at);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** V8's `gc()` when the run has `--v8-flags=--expose-gc`: every batch starts on a clean heap. */
const collect = (globalThis as { gc?: () => void }).gc;

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Runs one batch; returns [CPU ms, wall ms]. */
async function timeBatch<I>(op: Op<I>, inputs: I[], sync: boolean): Promise<[number, number]> {
  const n = inputs.length;
  const cpu = cpuMs();
  const start = performance.now();
  if (sync) {
    for (let i = 0; i < n; i++) op(inputs[i]!);
  } else {
    for (let i = 0; i < n; i++) await op(inputs[i]!);
  }
  const wall = performance.now() - start;
  return [cpuMs() - cpu, wall];
}

/** Runs `op` in small batches for about `ms`, returning the last batch's time per op. */
async function warm<I>(w: Workload<I>, op: Op<I>, ms: number): Promise<number> {
  const deadline = performance.now() + ms;
  let n = 16;
  let perOp = Infinity;
  while (performance.now() < deadline) {
    const [, elapsed] = await timeBatch(op, await w.build(n), w.sync);
    perOp = elapsed / n;
    if (elapsed < 10 && n < 4096) n *= 2;
  }
  return perOp;
}

function batchSize(perOpMs: number, plan: Plan): number {
  return Math.max(8, Math.min(50_000, Math.round(plan.batchMs / perOpMs)));
}

/** One timed batch of one side, per operation. */
export interface Batch {
  /** CPU milliseconds per operation. */
  cpu: number;
  /** Wall-clock milliseconds per operation. */
  wall: number;
  /** CPU microseconds to build one input (not part of `cpu`). */
  buildUs: number;
}

/**
 * One side of a workload (authlane, oauth4webapi, the floor, the bare platform work) as the
 * rounds drive it: in this process ({@link localSide}) or in a process of its own
 * (bench/_side.ts), so that a library is timed with no other library's code running beside it.
 */
export interface Side {
  /** Runs the side for about `ms` (warm-up); returns the last batch's wall ms per operation. */
  warm(ms: number): Promise<number>;
  /** Builds `n` inputs (timed apart), collects garbage, pauses, times one batch, pauses. */
  batch(n: number, pauseMs: number): Promise<Batch>;
}

/** A side that runs `op` in this process. */
export function localSide<I>(w: Workload<I>, op: Op<I>): Side {
  return {
    warm: (ms) => warm(w, op, ms),
    async batch(n, pauseMs) {
      const cpu = cpuMs();
      const inputs = await w.build(n);
      const buildUs = ((cpuMs() - cpu) / n) * 1000;
      collect?.();
      await pause(pauseMs);
      const [c, wall] = await timeBatch(op, inputs, w.sync);
      await pause(pauseMs);
      return { cpu: c / n, wall: wall / n, buildUs };
    },
  };
}

/** The sides of one workload. */
export interface Sides {
  authlane: Side;
  oauth4webapi: Side;
  floor: Side;
  platform?: Side;
}

/** Measures one workload with every side in this process. */
export function measure<I>(w: Workload<I>, plan: Plan): Promise<Result> {
  return measureSides({
    authlane: localSide(w, w.authlane),
    oauth4webapi: localSide(w, w.oauth4webapi),
    floor: localSide(w, w.floor),
    platform: w.platform === undefined ? undefined : localSide(w, w.platform),
  }, plan);
}

/** Measures one workload: warm-up and calibration, then interleaved rounds of the sides. */
export async function measureSides(sides: Sides, plan: Plan): Promise<Result> {
  const perA = await sides.authlane.warm(plan.warmupMs);
  const perB = await sides.oauth4webapi.warm(plan.warmupMs);
  const perF = await sides.floor.warm(plan.warmupMs / 2);
  const nLib = batchSize((perA + perB) / 2, plan);
  const nFloor = batchSize(perF, plan);

  const aOps: number[] = [];
  const bOps: number[] = [];
  const fOps: number[] = [];
  const ratios: number[] = [];
  const aFloor: number[] = [];
  const bFloor: number[] = [];
  const builds: number[] = [];
  const wallRatios: number[] = [];
  const aPlatform: number[] = [];
  const bPlatform: number[] = [];
  const platform = sides.platform;
  const perP = platform === undefined ? 0 : await platform.warm(plan.warmupMs / 2);
  const nPlatform = platform === undefined ? 0 : batchSize(perP, plan);

  /** Per-op [CPU ms, wall ms] of one batch. */
  const run = async (side: Side, n: number): Promise<[number, number]> => {
    const b = await side.batch(n, plan.pauseMs);
    builds.push(b.buildUs);
    return [b.cpu, b.wall];
  };

  for (let round = 0; round < plan.rounds; round++) {
    let a: [number, number], b: [number, number], f: [number, number];
    if (round % 2 === 0) {
      a = await run(sides.authlane, nLib);
      b = await run(sides.oauth4webapi, nLib);
      f = await run(sides.floor, nFloor);
    } else {
      f = await run(sides.floor, nFloor);
      b = await run(sides.oauth4webapi, nLib);
      a = await run(sides.authlane, nLib);
    }
    aOps.push(1000 / a[0]);
    bOps.push(1000 / b[0]);
    fOps.push(1000 / f[0]);
    ratios.push(b[0] / a[0]);
    wallRatios.push(b[1] / a[1]);
    aFloor.push(a[0] / f[0]);
    bFloor.push(b[0] / f[0]);
    if (platform !== undefined) {
      const p = await run(platform, nPlatform);
      aPlatform.push(a[0] / p[0]);
      bPlatform.push(b[0] / p[0]);
    }
  }
  return {
    authlaneOps: median(aOps),
    oauth4webapiOps: median(bOps),
    floorOps: median(fOps),
    ratio: median(ratios),
    authlaneFloor: median(aFloor),
    oauth4webapiFloor: median(bFloor),
    authlanePlatform: aPlatform.length > 0 ? median(aPlatform) : undefined,
    oauth4webapiPlatform: bPlatform.length > 0 ? median(bPlatform) : undefined,
    buildUs: median(builds),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    ratioQuartiles: [quantile(ratios, 0.25), quantile(ratios, 0.75)],
    wallRatio: median(wallRatios),
    rounds: plan.rounds,
  };
}
