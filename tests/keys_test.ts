/**
 * `generateKeyPair` (src/keys.ts) for ML-DSA-44/65/87, and what the pairs it makes are good for:
 * DPoP proofs, client assertions and request objects signed with ML-DSA, checked against jose
 * and against oauth4webapi 3.8 (npm) on the same keys. The RSA, EC and Ed25519 cases of
 * `generateKeyPair` are in dpop_test.ts; the table's columns in jws_algorithms_test.ts.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK } from "jose";
import * as o4w from "oauth4webapi";
import { assertOAuthError } from "./_assert.ts";
import { createFakeAs } from "./_fake_as.ts";

const ML_DSA = ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"] as const;

/** Verifies a compact JWS with jose against the public JWK given, for `alg` only. */
async function joseVerifies(jws: string, jwk: oauth.JWK, alg: string): Promise<void> {
  const key = await importJWK(jwk as Parameters<typeof importJWK>[0], alg);
  const { protectedHeader } = await compactVerify(jws, key, { algorithms: [alg] });
  assert.equal(protectedHeader.alg, alg);
}

for (const alg of ML_DSA) {
  Deno.test(`generateKeyPair("${alg}") makes a sign/verify pair whose public key is extractable`, async () => {
    const { privateKey, publicKey } = await oauth.generateKeyPair(alg);
    assert.equal(privateKey.algorithm.name, alg);
    assert.equal(publicKey.algorithm.name, alg);
    assert.equal(privateKey.type, "private");
    assert.deepEqual(privateKey.usages, ["sign"]);
    assert.deepEqual(publicKey.usages, ["verify"]);
    assert.equal(publicKey.extractable, true);
    assert.equal(privateKey.extractable, false);
    const open = await oauth.generateKeyPair(alg, { extractable: true });
    assert.equal(open.privateKey.extractable, true);
    // oauth4webapi 3.8 makes the same kind of pair.
    const theirs = await o4w.generateKeyPair(alg);
    assert.deepEqual(theirs.privateKey.algorithm, privateKey.algorithm);
  });

  Deno.test(`an ${alg} DPoP proof carries an AKP jwk (alg, kty, pub) that verifies it, with the thumbprint jose and oauth4webapi compute`, async () => {
    const server = createFakeAs();
    const pair = await oauth.generateKeyPair(alg);
    const DPoP = oauth.DPoP(server.client, pair);
    const response = await oauth.clientCredentialsGrantRequest(
      server.as,
      server.client,
      oauth.ClientSecretBasic(server.clientSecret),
      { scope: "api" },
      { ...server.options, DPoP },
    );
    await response.body?.cancel();
    const proof = server.requestsTo("token")[0]!.headers.get("dpop")!;
    const header = decodeProtectedHeader(proof);
    assert.equal(header.alg, alg);
    assert.equal(header.typ, "dpop+jwt");
    const jwk = header.jwk as oauth.JWK;
    assert.deepEqual(Object.keys(jwk).sort(), ["alg", "kty", "pub"]);
    assert.equal(jwk.kty, "AKP");
    assert.equal(jwk.alg, alg);
    await joseVerifies(proof, jwk, alg);
    const thumbprint = await DPoP.calculateThumbprint();
    assert.equal(thumbprint, await calculateJwkThumbprint(jwk as never, "sha256"));
    assert.equal(thumbprint, await o4w.DPoP({}, pair).calculateThumbprint());
  });

  Deno.test(`${alg} keys sign client assertions and request objects that jose verifies, with oauth4webapi's header`, async () => {
    const server = createFakeAs();
    const pair = await oauth.generateKeyPair(alg);
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey) as oauth.JWK;
    const response = await oauth.clientCredentialsGrantRequest(
      server.as,
      server.client,
      oauth.PrivateKeyJwt({ key: pair.privateKey, kid: "pq" }),
      {},
      server.options,
    );
    await response.body?.cancel();
    const assertion = server.requestsTo("token")[0]!.form!.get("client_assertion")!;
    assert.deepEqual(decodeProtectedHeader(assertion), { alg, kid: "pq" });
    await joseVerifies(assertion, jwk, alg);

    const params = { response_type: "code", redirect_uri: "https://app.example/cb" };
    const ours = await oauth.issueRequestObject(server.as, server.client, params, pair.privateKey);
    const theirs = await o4w.issueRequestObject(server.as, server.client, params, pair.privateKey);
    assert.deepEqual(decodeProtectedHeader(ours), decodeProtectedHeader(theirs));
    await joseVerifies(ours, jwk, alg);
  });
}

Deno.test("generateKeyPair() refuses names that are not algorithms, such as Object.prototype's", async () => {
  for (const alg of ["toString", "__proto__", "constructor", "hasOwnProperty", "ml-dsa-65"]) {
    await assertOAuthError(
      () => oauth.generateKeyPair(alg),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test('generateKeyPair("EdDSA") makes an Ed25519 pair, which signs as Ed25519 (RFC 9864)', async () => {
  const server = createFakeAs();
  const pair = await oauth.generateKeyPair("EdDSA");
  assert.equal(pair.privateKey.algorithm.name, "Ed25519");
  const jwt = await oauth.issueRequestObject(server.as, server.client, {}, pair.privateKey);
  assert.equal(decodeProtectedHeader(jwt).alg, "Ed25519");
});
