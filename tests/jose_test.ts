/**
 * Unit tests of `src/_jose.ts`: how signing and verifying map a key to Web Crypto parameters.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { calculateJwkThumbprint, type JWK as JoseJWK } from "jose";
import { decodeJws, jwkThumbprint, signJwt, verifySignature } from "../src/_jose.ts";
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

Deno.test("jwkThumbprint() matches RFC 7638 §3.1's example", async () => {
  const jwk = {
    kty: "RSA",
    n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    e: "AQAB",
    alg: "RS256",
    kid: "2011-04-29",
  };
  assert.equal(await jwkThumbprint(jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
});

Deno.test("jwkThumbprint() equals jose's calculateJwkThumbprint for generated keys", async () => {
  const algorithms: (RsaHashedKeyGenParams | EcKeyGenParams | { name: string })[] = [
    { name: "ECDSA", namedCurve: "P-256" },
    { name: "ECDSA", namedCurve: "P-384" },
    { name: "ECDSA", namedCurve: "P-521" },
    { name: "Ed25519" },
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
  ];
  for (const algorithm of algorithms) {
    for (let i = 0; i < 3; i++) {
      const pair = await crypto.subtle.generateKey(algorithm, true, [
        "sign",
        "verify",
      ]) as CryptoKeyPair;
      const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
      // Extra members (key_ops, ext, alg, kid) are not part of the thumbprint.
      const extended = { ...jwk, kid: `k${i}`, alg: "whatever" } as oauth.JWK;
      assert.equal(
        await jwkThumbprint(extended),
        await calculateJwkThumbprint(jwk as JoseJWK, "sha256"),
      );
    }
  }
  const oct = { kty: "oct", k: "GawgguFyGrWKav7AX4VKUg" };
  assert.equal(await jwkThumbprint(oct), await calculateJwkThumbprint(oct, "sha256"));
});

Deno.test("jwkThumbprint() escapes members as JSON and ignores member order", async () => {
  const a = await jwkThumbprint({ y: 'y"1', x: "x\\1", kty: "EC", crv: "P-256" });
  const expected = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode('{"crv":"P-256","kty":"EC","x":"x\\\\1","y":"y\\"1"}'),
    ),
  );
  assert.equal(a, expected.toBase64({ alphabet: "base64url", omitPadding: true }));
});

Deno.test("jwkThumbprint() refuses unknown key types and missing or empty members", async () => {
  for (const kty of ["none", "constructor", "__proto__", undefined]) {
    await assert.rejects(
      jwkThumbprint({ kty, x: "AAAA", crv: "P-256" } as unknown as oauth.JWK),
      (err) => err instanceof oauth.UnsupportedOperationError,
    );
  }
  for (
    const jwk of [{ kty: "EC", crv: "P-256", x: "AAAA" }, { kty: "RSA", e: "", n: "AAAA" }, {
      kty: "OKP",
      crv: "Ed25519",
      x: 1,
    }]
  ) {
    await assert.rejects(
      jwkThumbprint(jwk as unknown as oauth.JWK),
      (err) =>
        err instanceof TypeError && (err as { code?: string }).code === "ERR_INVALID_ARG_VALUE",
    );
  }
});

Deno.test("decodeJws() refuses base64url padding in any segment (RFC 7515 §2)", async () => {
  const jwt = await signJwt({}, { sub: "x" }, keys.ES256.privateKey);
  const [h, p, s] = jwt.split(".") as [string, string, string];
  decodeJws(jwt); // the unpadded original parses
  // "eyJ…" segments whose length is not a multiple of 4 get one or two "=" when padded.
  const pad = (segment: string) => segment + "=".repeat((4 - (segment.length % 4)) % 4 || 4);
  for (const padded of [`${pad(h)}.${p}.${s}`, `${h}.${pad(p)}.${s}`, `${h}.${p}.${pad(s)}`]) {
    assert.throws(
      () => decodeJws(padded),
      (err) => err instanceof oauth.OperationProcessingError && err.code === oauth.PARSE_ERROR,
    );
  }
});
