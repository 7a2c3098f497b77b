/**
 * Where the time of reading a fetch()-produced JSON response goes, step by step, interleaved in
 * rounds like the main bench (CPU time, medians): `Response.json()`, the same with the header
 * reads authlane's transport makes, authlane's `readText`, and both libraries' whole call. The
 * numbers behind the README's explanation of workloads 1 and 5.
 *
 * `deno run -A --v8-flags=--expose-gc bench/_read_steps.ts [code|discovery] [variant...]`
 *
 * With `AUTHLANE_BEFORE=path/to/an/older/authlane.js` in the environment (several, comma-separated),
 * each bundle's whole call runs in the same rounds as "authlane <file name>". Beware: two copies of
 * the library in one process share the runtime's JIT state, and on this machine the same bundle
 * loaded twice measured 20–40% apart depending on which ran first; `bench/_count.ts` (separate
 * processes, instruction counts) and `deno task bench --only=…` on a patched `dist/authlane.js`
 * are the A/Bs to trust.
 * `bench/_count.ts read:code "authlane"` counts the instructions of one variant instead.
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

/** The steps of one response kind: how to make fetched inputs, and each variant's operation. */
export interface ReadSteps {
  text: string;
  build(n: number): Promise<Response[]>;
  variants: Record<string, (r: Response) => unknown>;
}

/** The variants for a token response (`code`) or a discovery document (`discovery`). */
export async function readSteps(which: string): Promise<ReadSteps> {
  const others: [string, typeof authlane][] = [];
  for (const path of Deno.env.get("AUTHLANE_BEFORE")?.split(",") ?? []) {
    const url = new URL(path, `file://${Deno.cwd()}/`);
    others.push([`authlane ${url.pathname.split("/").pop()}`, await import(url.href)]);
  }
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
  const whole = (lib: typeof authlane) =>
    which === "discovery"
      ? (r: Response) => lib.processDiscoveryResponse(expected, r)
      : async (r: Response) =>
        lib.getValidatedIdTokenClaims(
          await lib.processAuthorizationCodeResponse(as, client, r, { expectedNonce: NONCE }),
        );
  const variants: Record<string, (r: Response) => unknown> = {
    "json()": (r) => r.json(),
    "bytes() + decode + parse": async (r) => JSON.parse(decoder.decode(await r.bytes())),
    "+ 1st header get": async (r) => {
      r.headers.get("content-length");
      return JSON.parse(decoder.decode(await r.bytes()));
    },
    "+ 2 more gets": async (r) => {
      const headers = r.headers;
      headers.get("content-length");
      headers.get("content-encoding");
      headers.get("transfer-encoding");
      return JSON.parse(decoder.decode(await r.bytes()));
    },
    "(2 more has() instead)": async (r) => {
      const headers = r.headers;
      headers.get("content-length");
      headers.has("content-encoding");
      headers.has("transfer-encoding");
      return JSON.parse(decoder.decode(await r.bytes()));
    },
    "+ strict UTF-8 (toText)": async (r) => {
      const headers = r.headers;
      headers.get("content-length");
      headers.get("content-encoding");
      headers.get("transfer-encoding");
      return JSON.parse(toText(await r.bytes()));
    },
    "readText + parse": async (r) => JSON.parse(await readText(r)),
    "authlane": whole(authlane),
    ...Object.fromEntries(others.map(([name, lib]) => [name, whole(lib)])),
    "oauth4webapi": whole(o4w as unknown as typeof authlane),
  };
  return {
    text,
    build: (n) => Promise.all(Array.from({ length: n }, () => fetch(url))),
    variants,
  };
}

if (import.meta.main) {
  const [which = "code", ...only] = Deno.args;
  const { text, build, variants } = await readSteps(which);
  const gc = (globalThis as { gc?: () => void }).gc;
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  const names = only.length > 0 ? only : Object.keys(variants);
  const results: Record<string, number[]> = {};
  for (let round = 0; round < 25; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const n = 1500;
      const inputs = await build(n);
      gc?.();
      await new Promise((resolve) => setTimeout(resolve, 2));
      const fn = variants[name]!;
      const t0 = cpu();
      for (let i = 0; i < n; i++) await fn(inputs[i]!);
      (results[name] ??= []).push((cpu() - t0) / n);
    }
  }
  console.log(`${which} response (${text.length} bytes), CPU µs per op, median of 25 rounds:`);
  for (const name of names) {
    console.log(`  ${name.padEnd(28)} ${median(results[name]!).toFixed(2)}`);
  }
}
