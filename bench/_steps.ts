/**
 * Step timing for the code-grant path (workload 1): each internal step of authlane on its own,
 * beside oauth4webapi's whole call, so a profile's hot spots can be confirmed in microseconds.
 *
 * `deno run -A bench/_steps.ts`
 *
 * @module
 */

import * as o4w from "oauth4webapi";
import * as authlane from "../mod.ts";
import { checkStatus, readJsonObject, readText } from "../src/_http.ts";
import { decodeJws } from "../src/_jose.ts";
import { validateIdTokenClaims } from "../src/id_token.ts";
import {
  CLIENT_ID,
  idTokenClaims,
  makeFixtures,
  NONCE,
  signJws,
  tokenResponseText,
} from "./_fixtures.ts";
import { median } from "./_harness.ts";

const f = await makeFixtures();
const idToken = await signJws(f.es, { kid: f.es.kid, typ: "JWT" }, idTokenClaims(f.now));
const text = tokenResponseText(idToken);
const bytes = new TextEncoder().encode(text);
const as = { issuer: "https://as.example.com", token_endpoint: "https://as.example.com/token" };
const client = { client_id: CLIENT_ID, id_token_signed_response_alg: "ES256" };
const headers = { "content-type": "application/json", "content-length": String(bytes.byteLength) };
const make = () => new Response(bytes.slice(), { headers });

const gc = (globalThis as { gc?: () => void }).gc;

async function time(name: string, fn: (r: Response) => unknown, n = 4000): Promise<void> {
  const runs: number[] = [];
  for (let k = 0; k < 15; k++) {
    const inputs = Array.from({ length: n }, make);
    gc?.();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn(inputs[i]!);
    runs.push(((performance.now() - t0) * 1000) / n);
  }
  console.log(
    `${name.padEnd(44)} min ${Math.min(...runs).toFixed(2).padStart(7)} µs   median ${
      median(runs).toFixed(2).padStart(7)
    } µs`,
  );
}

await time("noop (await only)", (r) => r);
await time("headers.get x1", (r) => r.headers.get("www-authenticate"));
await time("checkStatus", (r) => checkStatus(r, 200, "x"));
await time("Response.json()", (r) => r.json());
await time("readText", (r) => readText(r));
await time("checkStatus + readJsonObject", async (r) => {
  await checkStatus(r, 200, "x");
  return readJsonObject(r);
});
await time("decodeJws", () => decodeJws(idToken));
await time(
  "validateIdTokenClaims",
  () => validateIdTokenClaims(as, client, idToken, { expectedNonce: NONCE, authTime: true }),
);
await time(
  "authlane processAuthorizationCodeResponse",
  (r) => authlane.processAuthorizationCodeResponse(as, client, r, { expectedNonce: NONCE }),
);
await time(
  "o4w processAuthorizationCodeResponse",
  (r) => o4w.processAuthorizationCodeResponse(as, client, r, { expectedNonce: NONCE }),
);
