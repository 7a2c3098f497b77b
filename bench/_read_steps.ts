/**
 * Where the time of reading a fetch()-produced JSON response goes, step by step, interleaved in
 * rounds like the main bench (CPU time, medians): `Response.json()`, the same with the header
 * reads authlane's transport makes, authlane's `readText`, and both libraries' whole call. The
 * numbers behind the README's explanation of workloads 1 and 5.
 *
 * `deno run -A --v8-flags=--expose-gc bench/_read_steps.ts [code|discovery] [variant...]`
 *
 * @module
 */

import process from "node:process";
import * as o4w from "oauth4webapi";
import * as authlane from "../mod.ts";
import { toText } from "../src/_encoding.ts";
import { readText } from "../src/_http.ts";
import {
  CLIENT_ID,
  idTokenClaims,
  ISSUER,
  makeFixtures,
  NONCE,
  signJws,
  tokenResponseText,
} from "./_fixtures.ts";
import { median } from "./_harness.ts";

const [which = "code", ...only] = Deno.args;
const f = await makeFixtures();
const idToken = await signJws(f.es, { kid: f.es.kid, typ: "JWT" }, idTokenClaims(f.now));
const text = which === "discovery" ? f.discoveryText : tokenResponseText(idToken);
const url = URL.createObjectURL(
  new Blob([new TextEncoder().encode(text)], { type: "application/json" }),
);
const as = { issuer: ISSUER, token_endpoint: `${ISSUER}/token` };
const client = { client_id: CLIENT_ID, id_token_signed_response_alg: "ES256" };
const expected = new URL(ISSUER);
const decoder = new TextDecoder();
const gc = (globalThis as { gc?: () => void }).gc;
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const variants: Record<string, (r: Response) => unknown> = {
  "json()": (r) => r.json(),
  "bytes() + decode + parse": async (r) => JSON.parse(decoder.decode(await r.bytes())),
  "+ 1st header read": async (r) => {
    r.headers.get("content-length");
    return JSON.parse(decoder.decode(await r.bytes()));
  },
  "+ 2 more header reads": async (r) => {
    r.headers.get("content-length");
    r.headers.has("content-encoding");
    r.headers.has("transfer-encoding");
    return JSON.parse(decoder.decode(await r.bytes()));
  },
  "+ strict UTF-8 (toText)": async (r) => {
    r.headers.get("content-length");
    r.headers.has("content-encoding");
    r.headers.has("transfer-encoding");
    return JSON.parse(toText(await r.bytes()));
  },
  "readText + parse": async (r) => JSON.parse(await readText(r)),
  "authlane": which === "discovery"
    ? (r) => authlane.processDiscoveryResponse(expected, r)
    : async (r) =>
      authlane.getValidatedIdTokenClaims(
        await authlane.processAuthorizationCodeResponse(as, client, r, { expectedNonce: NONCE }),
      ),
  "oauth4webapi": which === "discovery"
    ? (r) => o4w.processDiscoveryResponse(expected, r)
    : async (r) =>
      o4w.getValidatedIdTokenClaims(
        await o4w.processAuthorizationCodeResponse(as, client, r, { expectedNonce: NONCE }),
      ),
};

const names = only.length > 0 ? only : Object.keys(variants);
const results: Record<string, number[]> = {};
for (let round = 0; round < 25; round++) {
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    const n = 1500;
    const inputs = await Promise.all(Array.from({ length: n }, () => fetch(url)));
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 2));
    const fn = variants[name]!;
    const t0 = cpu();
    for (let i = 0; i < n; i++) await fn(inputs[i]!);
    (results[name] ??= []).push((cpu() - t0) / n);
  }
}
console.log(`${which} response (${text.length} bytes), CPU µs per op, median of 25 rounds:`);
for (const name of names) console.log(`  ${name.padEnd(28)} ${median(results[name]!).toFixed(2)}`);
