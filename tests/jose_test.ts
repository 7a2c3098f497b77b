/**
 * Unit tests of `src/_jose.ts`: how signing and verifying map a key to Web Crypto parameters, JWK
 * import, export and thumbprints (with ML-DSA's `AKP` keys), and the hash claims, checked against
 * jose and oauth4webapi 3.8 (npm).
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair as joseGenerateKeyPair,
  type JWK as JoseJWK,
  SignJWT,
} from "jose";
import * as o4w from "oauth4webapi";
import {
  decodeJws,
  exportPublicJwk,
  halfHash,
  importPublicJwk,
  jwkThumbprint,
  signJwt,
  verifySignature,
} from "../src/_jose.ts";
import { createFakeAs } from "./_fake_as.ts";
import { keys } from "./_keys.ts";

const ML_DSA = ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"] as const;

function assertInvalidSignature(err: unknown): boolean {
  return err instanceof oauth.OperationProcessingError && err.code === oauth.INVALID_RESPONSE;
}

function assertUnsupported(err: unknown): boolean {
  return err instanceof oauth.UnsupportedOperationError &&
    err.code === oauth.UNSUPPORTED_OPERATION;
}

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
      assertInvalidSignature,
    );
  }
});

Deno.test("signJwt() with an ML-DSA key names its parameter set; verifySignature() checks it", async () => {
  for (const alg of ML_DSA) {
    const pair = await oauth.generateKeyPair(alg);
    const jwt = await signJwt({ kid: "pq" }, { sub: "x" }, pair.privateKey);
    const jws = decodeJws(jwt);
    assert.deepEqual(jws.header, { kid: "pq", alg });
    await verifySignature(jws, alg, pair.publicKey);
    const other = await oauth.generateKeyPair(alg);
    await assert.rejects(verifySignature(jws, alg, other.publicKey), assertInvalidSignature);
  }
});

Deno.test("importPublicJwk() imports an AKP JWK (alg, pub) and verifies what jose signs with ML-DSA", async () => {
  for (const alg of ML_DSA) {
    const pair = await joseGenerateKeyPair(alg, { extractable: true });
    const jwt = await new SignJWT({ sub: "pq" }).setProtectedHeader({ alg, kid: "k" }).sign(
      pair.privateKey,
    );
    // jose's private JWK (with priv): only the public members are imported.
    const privateJwk = await exportJWK(pair.privateKey) as oauth.JWK;
    assert.equal(typeof privateJwk.priv, "string");
    const publicJwk = { ...await exportJWK(pair.publicKey), kid: "k", use: "sig" } as oauth.JWK;
    for (const jwk of [publicJwk, privateJwk]) {
      const key = await importPublicJwk(jwk, alg);
      assert.equal(key.type, "public");
      assert.deepEqual(key.usages, ["verify"]);
      await verifySignature(decodeJws(jwt), alg, key);
    }
    const [h, p] = jwt.split(".");
    const forged = decodeJws(`${h}.${p}.${"A".repeat(100)}`);
    await assert.rejects(
      verifySignature(forged, alg, await importPublicJwk(publicJwk, alg)),
      assertInvalidSignature,
    );
  }
});

Deno.test("importPublicJwk() refuses an AKP JWK without alg, or for another parameter set", async () => {
  const jwk = await exportJWK((await joseGenerateKeyPair("ML-DSA-65")).publicKey) as oauth.JWK;
  const { alg: _alg, ...withoutAlg } = jwk;
  await assert.rejects(importPublicJwk(withoutAlg, "ML-DSA-65"), assertUnsupported);
  await assert.rejects(importPublicJwk({ ...jwk }, "ML-DSA-44"), assertUnsupported);
  await assert.rejects(
    importPublicJwk({ ...jwk, alg: "ML-DSA-44" }, "ML-DSA-44"),
    assertUnsupported,
  );
  await assert.rejects(importPublicJwk({ ...jwk }, "ES256"), assertUnsupported);
  await importPublicJwk({ ...jwk }, "ML-DSA-65"); // the legitimate variant
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

Deno.test("exportPublicJwk() and jwkThumbprint() of ML-DSA keys: alg, kty and pub, as jose computes", async () => {
  for (const alg of ML_DSA) {
    const pair = await oauth.generateKeyPair(alg);
    const jwk = await exportPublicJwk(pair.publicKey);
    assert.deepEqual(Object.keys(jwk), ["alg", "kty", "pub"]);
    assert.equal(jwk.alg, alg);
    assert.equal(jwk.kty, "AKP");
    const expected = await calculateJwkThumbprint(jwk as JoseJWK, "sha256");
    assert.equal(await jwkThumbprint({ ...jwk, kid: "ignored", use: "sig" }), expected);
    // RFC 7638 §3.2 for AKP: alg is a required member, so another parameter set is another print.
    const otherSet = alg === "ML-DSA-44" ? "ML-DSA-87" : "ML-DSA-44";
    assert.notEqual(await jwkThumbprint({ ...jwk, alg: otherSet }), expected);
    await assert.rejects(
      jwkThumbprint({ kty: "AKP", pub: jwk.pub }),
      (err) =>
        err instanceof TypeError && (err as { code?: string }).code === "ERR_INVALID_ARG_VALUE",
    );
  }
});

Deno.test("halfHash() makes oauth4webapi's c_hash and s_hash for every algorithm of JWS_ALGORITHMS", async () => {
  // oauth4webapi validates a code id_token response signed and hashed here: the same hash per
  // alg (SHA-2 of the alg's size, SHA-512 for Ed25519, SHAKE256 for ML-DSA).
  const code = "SplxlOBeZQQYbYS6WxSbIA";
  const state = "af0ifjsldkj";
  const nonce = "n-0S6_WzA2Mj";
  for (const alg of Object.keys(oauth.JWS_ALGORITHMS)) {
    const server = createFakeAs();
    const pair = await oauth.generateKeyPair(alg);
    const jwk = { ...await exportPublicJwk(pair.publicKey), kid: "k", alg, use: "sig" };
    server.jwks = { keys: [jwk] };
    const idToken = await server.idToken(
      {
        nonce,
        c_hash: await halfHash(code, alg),
        s_hash: await halfHash(state, alg),
        auth_time: Math.floor(Date.now() / 1000),
      },
      { alg, kid: "k" },
      { privateKey: pair.privateKey, alg, kid: "k" },
    );
    const params = new URLSearchParams({ code, state, id_token: idToken, iss: server.issuer });
    const client = { ...server.client, id_token_signed_response_alg: alg };
    const result = await o4w.validateCodeIdTokenResponse(
      server.as as o4w.AuthorizationServer,
      client,
      params,
      nonce,
      state,
      undefined,
      { [o4w.customFetch]: server.fetch },
    );
    assert.equal(result.get("code"), code, alg);
    const other = await halfHash("another code", alg);
    assert.notEqual(other, await halfHash(code, alg));
  }
  await assert.rejects(halfHash(code, "HS256"), assertUnsupported);
  await assert.rejects(halfHash(code, "none"), assertUnsupported);
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
