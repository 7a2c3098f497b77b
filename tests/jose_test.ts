/**
 * Unit tests of `src/_jose.ts`: how signing and verifying map a key to Web Crypto parameters.
 */
import assert from "node:assert/strict";
import * as oauth from "../mod.ts";
import { decodeJws, signJwt, verifySignature } from "../src/_jose.ts";
import { keys } from "./_keys.ts";

Deno.test("signJwt() signs with the key's own algorithm when the header names another", async () => {
  // A [modifyAssertion] may rewrite header.alg (oauth4webapi signs with the key regardless).
  for (const [key, alg] of [[keys.RS256, "PS256"], [keys.ES256, "ES384"]] as const) {
    const jwt = await signJwt({ alg }, { sub: "x" }, key.privateKey);
    const jws = decodeJws(jwt);
    assert.equal(jws.header.alg, alg);
    await verifySignature(jws, key.alg, key.publicKey);
  }
});

Deno.test("signJwt() and verifySignature() use the key's hash and salt", async () => {
  for (const key of [keys.RS256, keys.PS256, keys.ES256, keys.ES384, keys.EdDSA]) {
    const jwt = await signJwt({}, { sub: "x" }, key.privateKey);
    const jws = decodeJws(jwt);
    await verifySignature(jws, jws.header.alg as string, key.publicKey);
    const tampered = decodeJws(`${jwt.slice(0, jwt.lastIndexOf("."))}.${"A".repeat(86)}`);
    await assert.rejects(
      verifySignature(tampered, jws.header.alg as string, key.publicKey),
      (err) => err instanceof oauth.OperationProcessingError && err.code === oauth.INVALID_RESPONSE,
    );
  }
});
