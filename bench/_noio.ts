/**
 * Workload 1 (and 5) with the I/O taken out, for profiles and tight A/Bs of the library's own
 * work: a `Response` subclass whose `bytes()` / `json()` resolve at once with a body made before
 * timing, whose `type` is "basic" and whose headers are a fresh `Headers` with the names a server
 * sends. Both libraries take their usual path on it (authlane its one-call read).
 *
 * `deno run -A --v8-flags=--expose-gc bench/_noio.ts [code|discovery] [authlane|oauth4webapi|both] [n]`
 * (add `--cpu-prof` to profile one side).
 *
 * @module
 */

import process from "node:process";
import * as o4w from "oauth4webapi";
import * as authlane from "../mod.ts";
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

const [which = "code", side = "both", count = "3000"] = Deno.args;
const f = await makeFixtures();
const idToken = await signJws(f.es, { kid: f.es.kid, typ: "JWT" }, idTokenClaims(f.now));
const text = which === "discovery" ? f.discoveryText : tokenResponseText(idToken);
const bytes = new TextEncoder().encode(text);
const decoder = new TextDecoder();

class Ready extends Response {
  #headers = new Headers([
    ["content-type", "application/json"],
    ["content-length", String(bytes.byteLength)],
    ["date", "Fri, 04 Dec 2026 17:00:00 GMT"],
  ]);
  #used = false;
  override get type(): ResponseType {
    return "basic";
  }
  override get headers(): Headers {
    return this.#headers;
  }
  override get bodyUsed(): boolean {
    return this.#used;
  }
  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    this.#used = true;
    return Promise.resolve(bytes.slice());
  }
  override json(): Promise<unknown> {
    this.#used = true;
    return Promise.resolve(JSON.parse(decoder.decode(bytes.slice())));
  }
}

const as = { issuer: ISSUER, token_endpoint: `${ISSUER}/token` };
const client = { client_id: CLIENT_ID, id_token_signed_response_alg: "ES256" };
const expected = new URL(ISSUER);
const whole = (lib: typeof authlane) =>
  which === "discovery"
    ? (r: Response) => lib.processDiscoveryResponse(expected, r)
    : async (r: Response) =>
      lib.getValidatedIdTokenClaims(
        await lib.processAuthorizationCodeResponse(as, client, r, { expectedNonce: NONCE }),
      );
const sides: Record<string, (r: Response) => unknown> = {
  authlane: whole(authlane),
  oauth4webapi: whole(o4w as unknown as typeof authlane),
  "json()": (r) => r.json(),
};
const names = side === "both" ? Object.keys(sides) : [side];
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const n = Number(count);
const results: Record<string, number[]> = {};
const rounds = side === "both" ? 31 : 60;
for (let round = 0; round < rounds; round++) {
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    const inputs = Array.from({ length: n }, () => new Ready(null));
    (globalThis as { gc?: () => void }).gc?.();
    const fn = sides[name]!;
    const t0 = cpu();
    for (let i = 0; i < n; i++) await fn(inputs[i]!);
    (results[name] ??= []).push((cpu() - t0) / n);
  }
}
console.log(`${which}, no I/O, CPU µs per op, median of ${rounds} rounds of ${n}:`);
for (const name of names) console.log(`  ${name.padEnd(14)} ${median(results[name]!).toFixed(2)}`);
