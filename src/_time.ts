/**
 * Epoch-second clock with the client's `[clockSkew]` (an offset added to local time) and
 * `[clockTolerance]` (leeway for timestamp checks, default 30 s).
 *
 * @module
 */

import { argError } from "./errors.ts";
import { clockSkew, clockTolerance } from "./symbols.ts";

/** Default leeway for timestamp checks, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE = 30;

/** Holder of the clock options (a `Client`, or the options of a resource-server call). */
export interface ClockOptions {
  [clockSkew]?: number;
  [clockTolerance]?: number;
}

/** The local time in whole epoch seconds. */
export function epochTime(): number {
  return Math.floor(Date.now() / 1000);
}

function finiteSeconds(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw argError(`${name} must be a finite number of seconds`, "ERR_INVALID_ARG_TYPE");
  }
  return value;
}

/** The current time as the client sees it: local time plus `[clockSkew]`. */
export function clientTime(holder?: ClockOptions): number {
  return epochTime() + (finiteSeconds(holder?.[clockSkew], "[clockSkew]") ?? 0);
}

/** The client's `[clockTolerance]`, defaulting to 30 seconds; negative values are refused. */
export function toleranceOf(holder?: ClockOptions): number {
  const value = finiteSeconds(holder?.[clockTolerance], "[clockTolerance]");
  if (value === undefined) return DEFAULT_CLOCK_TOLERANCE;
  if (value < 0) throw argError("[clockTolerance] must not be negative", "ERR_INVALID_ARG_VALUE");
  return value;
}
