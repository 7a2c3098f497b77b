/**
 * Attack family: JOSE (RFC 8725 §2, §3; RFC 7515 §4.1; RFC 7517 §4). The attacker shapes a JWS
 * header to choose the algorithm, smuggle a key, or confuse key selection, or serves a key set
 * that is not one. Signed tokens are presented where they are verified: JWT access tokens at a
 * resource server (`validateJwtAccessToken`), JARM responses, ID tokens through
 * `validateApplicationLevelSignature`, and token endpoint ID tokens for the `alg` policy.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { createFakeAs, type FakeAs } from "../_fake_as.ts";
import { b64u, generateTestKey, keys } from "../_keys.ts";
import { isTypedError, REDIRECT_URI, routeByOrigin } from "./_attack.ts";

const RS = "https://rs.example";

/** Valid JWT access token claims (RFC 9068 §2.2) for the server. */
function atClaims(
  server: FakeAs,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const t = server.now();
  return {
    iss: server.issuer,
    aud: RS,
    sub: "user-1",
    client_id: server.client.client_id,
    iat: t,
    exp: t + 300,
    jti: crypto.randomUUID(),
    ...overrides,
  };
}

/** A resource request carrying the token as a Bearer credential. */
function resourceRequest(token: string): Request {
  return new Request(`${RS}/data`, { headers: { authorization: `Bearer ${token}` } });
}

async function presentAccessToken(
  server: FakeAs,
  token: string,
  options: oauth.ValidateJWTAccessTokenOptions = {},
): Promise<oauth.JWTAccessTokenClaims> {
  return await oauth.validateJwtAccessToken(server.as, resourceRequest(token), RS, {
    ...server.options,
    ...options,
  });
}

/** Runs a token response carrying `idToken` through the generic processor. */
async function processIdToken(
  server: FakeAs,
  idToken: string,
  client: oauth.Client = server.client,
): Promise<Response> {
  const response = new Response(
    JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: idToken }),
    { headers: { "content-type": "application/json" } },
  );
  await oauth.processGenericTokenEndpointResponse(server.as, client, response);
  return response;
}

// --- alg: none ---------------------------------------------------------------------------------

Deno.test("alg none: an unsigned ID token is refused even when the client registered none", async () => {
  const server = createFakeAs();
  const unsigned = await server.signWith({ alg: "none" }, JSON.stringify(server.idTokenClaims()));
  for (
    const client of [server.client, { ...server.client, id_token_signed_response_alg: "none" }]
  ) {
    await assertOAuthError(
      () => processIdToken(server, unsigned, client),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test("alg none: an unsigned JWT access token is refused before the JWKS is fetched", async () => {
  const server = createFakeAs();
  const unsigned = await server.signWith(
    { alg: "none", typ: "at+jwt" },
    JSON.stringify(atClaims(server)),
  );
  await assertOAuthError(
    () => presentAccessToken(server, unsigned),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
  assert.equal(server.requestsTo("jwks").length, 0);
});

Deno.test("alg none: an unsigned JARM response is refused", async () => {
  const server = createFakeAs();
  const jwt = await server.signWith(
    { alg: "none" },
    JSON.stringify({ iss: server.issuer, aud: server.client.client_id, exp: server.now() + 60 }),
  );
  const callback = new URL(REDIRECT_URI);
  callback.searchParams.set("response", jwt);
  await assertOAuthError(
    () =>
      oauth.validateJwtAuthResponse(server.as, server.client, callback, undefined, server.options),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

Deno.test("alg none: case variants of none are refused as algorithms outside the allowed list", async () => {
  const server = createFakeAs();
  for (const alg of ["NONE", "None", "nOnE"]) {
    const unsigned = await server.signWith({ alg }, JSON.stringify(server.idTokenClaims()), null);
    await assertOAuthError(
      () => processIdToken(server, unsigned),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { expected: ["ES256", "RS256"] },
    );
  }
});

// --- HS256 with the public key -----------------------------------------------------------------

async function hmacKey(bytes: Uint8Array): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "raw",
    bytes as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/** The RSA public key's bytes in every form an attacker might try as an HMAC secret. */
async function publicKeyForms(): Promise<{ spki: Uint8Array; [form: string]: Uint8Array }> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.RS256.publicKey));
  const b64 = btoa(String.fromCharCode(...spki)).replace(/(.{64})/g, "$1\n");
  const pem = `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
  const text = new TextEncoder();
  return {
    spki,
    pem: text.encode(pem),
    jwk: text.encode(JSON.stringify(keys.RS256.publicJwk)),
    n: text.encode(String(keys.RS256.publicJwk.n)),
  };
}

Deno.test("HS256 key confusion: an ID token MACed with the server's RSA public key is refused by the alg policy", async () => {
  const server = createFakeAs();
  for (const [form, bytes] of Object.entries(await publicKeyForms())) {
    const token = await server.signWith(
      { alg: "HS256", kid: keys.RS256.kid },
      JSON.stringify(server.idTokenClaims()),
      { privateKey: await hmacKey(bytes), alg: "HS256" },
    );
    await assertOAuthError(
      () => processIdToken(server, token),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { expected: ["ES256", "RS256"] },
    ).catch((err) => assert.fail(`${form}: ${err}`));
    // A client that registered HS256 still cannot have it: no HMAC verification exists.
    await assertOAuthError(
      () =>
        processIdToken(server, token, { ...server.client, id_token_signed_response_alg: "HS256" }),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test("HS256 key confusion: a JWT access token MACed with the RSA public key is refused at the resource server", async () => {
  const server = createFakeAs();
  const { spki } = await publicKeyForms();
  const token = await server.signWith(
    { alg: "HS256", typ: "at+jwt", kid: keys.RS256.kid },
    JSON.stringify(atClaims(server)),
    { privateKey: await hmacKey(spki), alg: "HS256" },
  );
  await assertOAuthError(
    () => presentAccessToken(server, token),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  await assertOAuthError(
    () => presentAccessToken(server, token, { signingAlgorithms: ["HS256"] }),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
  assert.equal(server.requestsTo("jwks").length, 0);
});

// --- alg outside the allowed list --------------------------------------------------------------

Deno.test("alg outside the allowed list: an ES384 ID token is refused when the server advertises ES256 and RS256", async () => {
  const server = createFakeAs();
  const token = await server.idToken({}, undefined, "ES384");
  await assertOAuthError(
    () => processIdToken(server, token),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: ["ES256", "RS256"] },
  );
});

Deno.test("alg outside the allowed list: an RS256 ID token is refused when the client registered PS256", async () => {
  const server = createFakeAs();
  const token = await server.idToken({}, undefined, "RS256");
  await assertOAuthError(
    () =>
      processIdToken(server, token, { ...server.client, id_token_signed_response_alg: "PS256" }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: ["PS256"] },
  );
});

Deno.test("alg outside the allowed list: a JWT access token in an algorithm the resource server did not list is refused", async () => {
  const server = createFakeAs();
  const token = await server.sign(atClaims(server), { typ: "at+jwt" }, "EdDSA");
  await assertOAuthError(
    () => presentAccessToken(server, token, { signingAlgorithms: ["ES256"] }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("alg confusion: a header naming RS256 over an ES256 key's kid finds no key", async () => {
  const server = createFakeAs();
  const token = await server.sign(atClaims(server), { typ: "at+jwt", alg: "RS256", kid: "es256" });
  await assertOAuthError(
    () => presentAccessToken(server, token),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
  );
});

Deno.test("alg confusion: a non-string alg is refused", async () => {
  const server = createFakeAs();
  for (const alg of [["ES256"], 256, null, ""]) {
    const token = await server.signWith(
      JSON.stringify({ alg, typ: "at+jwt" }),
      JSON.stringify(atClaims(server)),
    );
    await assertOAuthError(
      () => presentAccessToken(server, token),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  }
});

// --- crit and b64 ------------------------------------------------------------------------------

Deno.test("unknown crit: a token requiring an extension the library does not understand is refused", async () => {
  const server = createFakeAs();
  for (const header of [{ crit: ["exp"], exp: 1 }, { crit: ["urn:x:policy"], "urn:x:policy": 1 }]) {
    const token = await server.sign(atClaims(server), { typ: "at+jwt", ...header });
    await assertOAuthError(
      () => presentAccessToken(server, token),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
    await assertOAuthError(
      () => processIdToken(server, token),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test("unknown crit: a crit that is not a non-empty array of names is refused", async () => {
  const server = createFakeAs();
  for (const crit of ["exp", [], [1]]) {
    const token = await server.sign(atClaims(server), { typ: "at+jwt", crit });
    await assertOAuthError(
      () => presentAccessToken(server, token),
      oauth.OperationProcessingError,
      oauth.PARSE_ERROR,
    );
  }
});

Deno.test("b64:false: an unencoded-payload JWS (RFC 7797) is refused", async () => {
  const server = createFakeAs();
  for (const header of [{ b64: false, crit: ["b64"] }, { b64: false }]) {
    const token = await server.sign(server.idTokenClaims(), header);
    await assertOAuthError(
      () => processIdToken(server, token),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

// --- header key sources ------------------------------------------------------------------------

Deno.test("embedded jwk: a token signed by the attacker's key and carrying it in jwk is refused", async () => {
  const server = createFakeAs();
  const attackerKey = await generateTestKey("ES256", "es256");
  const token = await server.sign(
    atClaims(server),
    { typ: "at+jwt", jwk: attackerKey.publicJwk },
    attackerKey,
  );
  await assertOAuthError(
    () => presentAccessToken(server, token),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

for (
  const [name, header] of [
    ["jku", (attacker: FakeAs) => ({ jku: `${attacker.issuer}/jwks` })],
    ["x5u", (attacker: FakeAs) => ({ x5u: `${attacker.issuer}/cert.pem` })],
  ] as const
) {
  Deno.test(`${name}: a token pointing at the attacker's key URL is refused and the URL is never fetched`, async () => {
    const server = createFakeAs();
    const attacker = createFakeAs({
      issuer: "https://attacker.example",
      keys: [await generateTestKey("ES256", "es256")],
    });
    const token = await attacker.sign(atClaims(server), { typ: "at+jwt", ...header(attacker) });
    await assertOAuthError(
      () =>
        presentAccessToken(server, token, { [oauth.customFetch]: routeByOrigin(server, attacker) }),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
    assert.deepEqual(attacker.requests, []);
    assert.deepEqual(server.requests.map((r) => r.route), ["jwks"]);
  });
}

Deno.test("x5c: a token carrying the attacker's certificate chain is refused", async () => {
  const server = createFakeAs();
  const attackerKey = await generateTestKey("ES256", "es256");
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", attackerKey.publicKey));
  const token = await server.sign(
    atClaims(server),
    { typ: "at+jwt", x5c: [btoa(String.fromCharCode(...spki))] },
    attackerKey,
  );
  await assertOAuthError(
    () => presentAccessToken(server, token),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("embedded jwk: an ID token carrying the attacker's key fails validateApplicationLevelSignature", async () => {
  const server = createFakeAs();
  const attackerKey = await generateTestKey("ES256", "es256");
  const token = await server.idToken({}, { jwk: attackerKey.publicJwk }, attackerKey);
  const response = await processIdToken(server, token);
  await assertOAuthError(
    () => oauth.validateApplicationLevelSignature(server.as, response, server.options),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

// --- key selection -----------------------------------------------------------------------------

Deno.test("kid absent: a token without kid is refused when several keys could verify it", async () => {
  const server = createFakeAs();
  const second = await generateTestKey("ES256", "es256-b");
  server.jwks = { keys: [...server.jwks.keys, second.publicJwk] };
  const token = await server.sign(atClaims(server), { typ: "at+jwt", kid: undefined });
  await assertOAuthError(
    () => presentAccessToken(server, token),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
    { candidates: 2 },
  );
});

Deno.test("duplicate kids: a JWKS publishing two keys under the token's kid is refused", async () => {
  const server = createFakeAs();
  const twin = await generateTestKey("ES256", "es256");
  server.jwks = { keys: [...server.jwks.keys, twin.publicJwk] };
  const token = await server.sign(atClaims(server), { typ: "at+jwt" });
  await assertOAuthError(
    () => presentAccessToken(server, token),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
    { candidates: 2 },
  );
});

Deno.test("key restrictions: keys whose use, key_ops or alg forbid verification are never selected", async () => {
  const restrictions: Record<string, unknown>[] = [
    { use: "enc" },
    { key_ops: ["encrypt"] },
    { key_ops: ["sign"] },
    { key_ops: "verify" },
    { alg: "ES384" },
    { alg: "HS256" },
  ];
  for (const restriction of restrictions) {
    const server = createFakeAs();
    server.jwks = { keys: [{ ...keys.ES256.publicJwk, ...restriction }] };
    const token = await server.sign(atClaims(server), { typ: "at+jwt" });
    await assertOAuthError(
      () => presentAccessToken(server, token),
      oauth.OperationProcessingError,
      oauth.KEY_SELECTION,
      { candidates: 0 },
    ).catch((err) => assert.fail(`${JSON.stringify(restriction)}: ${err}`));
  }
});

Deno.test("key restrictions: a symmetric key in the JWKS under the token's kid is never used", async () => {
  const server = createFakeAs();
  server.jwks = { keys: [{ kty: "oct", k: b64u("secret"), kid: "es256", alg: "HS256" }] };
  const token = await server.sign(atClaims(server), { typ: "at+jwt" });
  await assertOAuthError(
    () => presentAccessToken(server, token),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
  );
});

Deno.test("key restrictions: keys marked use sig, key_ops verify, or left unmarked verify", async () => {
  for (
    const marks of [{ use: "sig" }, { key_ops: ["verify"] }, { use: undefined, alg: undefined }]
  ) {
    const server = createFakeAs();
    server.jwks = { keys: [{ ...keys.ES256.publicJwk, ...marks }] };
    const token = await server.sign(atClaims(server), { typ: "at+jwt" });
    const claims = await presentAccessToken(server, token);
    assert.equal(claims.sub, "user-1");
  }
});

Deno.test("key substitution: a signature spliced from another token is refused", async () => {
  const server = createFakeAs();
  const genuine = await server.sign(atClaims(server), { typ: "at+jwt" });
  const other = await server.sign(atClaims(server, { sub: "admin" }), { typ: "at+jwt" });
  const [header, payload] = other.split(".");
  const spliced = `${header}.${payload}.${genuine.split(".")[2]}`;
  await assertOAuthError(
    () => presentAccessToken(server, spliced),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("key substitution: a token signed by a stranger under the server's kid is refused", async () => {
  const server = createFakeAs();
  const token = await server.sign(
    atClaims(server),
    { typ: "at+jwt" },
    await generateTestKey("ES256", "es256"),
  );
  await assertOAuthError(
    () => presentAccessToken(server, token),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

// --- a JWKS that is not a JWKS -----------------------------------------------------------------

Deno.test("bad JWKS: a key set that is not a JWK Set is refused", async () => {
  for (const body of [[], {}, { keys: {} }, { keys: "none" }, { keys: [1, 2] }, { keys: [null] }]) {
    const server = createFakeAs();
    server.override("jwks", server.json(body));
    const token = await server.sign(atClaims(server), { typ: "at+jwt" });
    await assertOAuthError(
      () => presentAccessToken(server, token),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    ).catch((err) => assert.fail(`${JSON.stringify(body)}: ${err}`));
  }
});

Deno.test("bad JWKS: an HTML page where the key set should be is refused", async () => {
  const server = createFakeAs();
  server.override(
    "jwks",
    new Response("<html><body>Sign in</body></html>", { headers: { "content-type": "text/html" } }),
  );
  const token = await server.sign(atClaims(server), { typ: "at+jwt" });
  await assertOAuthError(
    () => presentAccessToken(server, token),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_JSON,
  );
});

Deno.test("bad JWKS: keys of unknown types or with broken members match nothing or fail import", async () => {
  const server = createFakeAs();
  server.jwks = {
    keys: [{ kty: "XYZ", kid: "es256" }, {
      kty: "EC",
      crv: "P-256",
      kid: "es256",
      x: "AA",
      y: "AA",
    }],
  };
  const token = await server.sign(atClaims(server), { typ: "at+jwt" });
  // The broken EC key is refused at import or at verification, depending on the platform's
  // importer; either way as one of the library's errors, never as the platform's TypeError.
  const err = await presentAccessToken(server, token).then(
    () => assert.fail("a token verified against a broken key"),
    (err: unknown) => err,
  );
  assert.ok(isTypedError(err), String(err));
  assert.ok(
    err instanceof oauth.UnsupportedOperationError ||
      (err instanceof oauth.OperationProcessingError && err.code === oauth.INVALID_RESPONSE),
  );
});

Deno.test("JWE: an encrypted token is refused when no decryption is configured", async () => {
  const server = createFakeAs();
  const jwe = [b64u('{"alg":"RSA-OAEP","enc":"A128GCM"}'), "a", "b", "c", "d"].join(".");
  await assertOAuthError(
    () => processIdToken(server, jwe),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

Deno.test("JOSE: the server's own token verifies at every entry point", async () => {
  const server = createFakeAs();
  const claims = await presentAccessToken(
    server,
    await server.sign(atClaims(server), { typ: "at+jwt" }),
  );
  assert.equal(claims.client_id, server.client.client_id);
  const response = await processIdToken(server, await server.idToken());
  await oauth.validateApplicationLevelSignature(server.as, response, server.options);
});
