/**
 * What reading a fetched Response's headers costs, on its own (no body read): the `headers`
 * getter, one `get()` of a name Deno fast-paths (`content-type`), one of a name it does not
 * (`content-length`), the three authlane's body cap needs, and the same by `has()` or by one
 * `forEach` pass (authlane's read of a native Response since issue 14's second round). Fresh `fetch()` Responses each time (Deno builds a header list's lowercased
 * copy on first use and keeps it), interleaved rounds, CPU time, medians.
 *
 * `deno run -A --v8-flags=--expose-gc bench/_headers.ts`
 *
 * @module
 */

import process from "node:process";
import { collectFraming, type Framing } from "../src/_http.ts";
import { median } from "./_harness.ts";

const text = JSON.stringify({ access_token: "x".repeat(60), token_type: "Bearer" });
const url = URL.createObjectURL(
  new Blob([new TextEncoder().encode(text)], { type: "application/json" }),
);
const gc = (globalThis as { gc?: () => void }).gc;
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const variants: Record<string, (r: Response) => unknown> = {
  "headers getter": (r) => r.headers,
  "get content-type (fast path)": (r) => r.headers.get("content-type"),
  "get content-length": (r) => r.headers.get("content-length"),
  "get CL, CE, TE (before)": (r) => {
    const h = r.headers;
    return [h.get("content-length"), h.get("content-encoding"), h.get("transfer-encoding")];
  },
  "get CL, has CE, has TE": (r) => {
    const h = r.headers;
    return [h.get("content-length"), h.has("content-encoding"), h.has("transfer-encoding")];
  },
  "forEach, picking the three": (r) => {
    const found: string[] = [];
    r.headers.forEach((value, name) => {
      if (
        name === "content-length" || name === "content-encoding" || name === "transfer-encoding"
      ) found.push(value);
    });
    return found;
  },
  "forEach with thisArg (authlane)": (r) => {
    const framing: Framing = { length: null, coding: null, transfer: null };
    r.headers.forEach(collectFraming, framing);
    return framing;
  },
  "3 × get content-type": (r) => {
    const h = r.headers;
    return [h.get("content-type"), h.get("content-type"), h.get("content-type")];
  },
};

const names = Deno.args.length > 0 ? Deno.args : Object.keys(variants);
const results: Record<string, number[]> = {};
for (let round = 0; round < 30; round++) {
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    const n = 2000;
    const inputs = await Promise.all(Array.from({ length: n }, () => fetch(url)));
    gc?.();
    const fn = variants[name]!;
    const t0 = cpu();
    for (let i = 0; i < n; i++) fn(inputs[i]!);
    (results[name] ??= []).push((cpu() - t0) / n);
    for (const r of inputs) await r.body?.cancel();
  }
}
console.log("fetched Response headers, CPU µs per Response, median of 30 rounds:");
for (const name of names) console.log(`  ${name.padEnd(32)} ${median(results[name]!).toFixed(2)}`);
