/**
 * validateJwtAccessToken(): RFC 9068 §4 token checks, RFC 6750 §2.1 header parsing, RFC 9449 §4.3
 * DPoP proofs and RFC 8705 §3 certificate binding. Each rule has a refused lie and an accepted
 * variant. Tokens are signed by the fake authorization server (its JWKS served through
 * `customFetch`); DPoP proofs are hand-built with `signJws`, and thumbprints come from jose and
 * openssl as independent oracles.
 */

import assert from "node:assert/strict";
import { calculateJwkThumbprint } from "jose";
import * as oauth from "@authlane/oauth";
import { DPOP_PROOF_MAX_AGE } from "../src/jwt_access_token.ts";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, startFakeAs } from "./_fake_as.ts";
import { b64u, generateTestKey, keys, signJws, type TestKey } from "./_keys.ts";
import { getPki } from "./_pki.ts";

const server = createFakeAs();
const AUDIENCE = "https://rs.example";
const RESOURCE = "https://rs.example/api/items";
const options: oauth.ValidateJWTAccessTokenOptions = { ...server.options };

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function defined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

function atClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const t = now();
  return defined({
    iss: server.issuer,
    aud: AUDIENCE,
    sub: "user-1",
    iat: t,
    exp: t + 300,
    jti: crypto.randomUUID(),
    client_id: "client",
    scope: "read write",
    ...overrides,
  });
}

/** An access token signed by the server (ES256 unless `key` says otherwise). */
async function accessToken(
  overrides?: Record<string, unknown>,
  header?: Record<string, unknown>,
  key?: TestKey | "RS256" | "ES256",
): Promise<string> {
  return await server.sign(atClaims(overrides), { typ: "at+jwt", ...header }, key);
}

interface RequestInit {
  scheme?: string;
  dpop?: string | string[];
  headers?: Record<string, string>;
  method?: string;
  url?: string;
}

function resourceRequest(token: string, init: RequestInit = {}): Request {
  const headers = new Headers(init.headers);
  headers.set("authorization", `${init.scheme ?? "Bearer"} ${token}`);
  for (const proof of [init.dpop ?? []].flat()) headers.append("dpop", proof);
  return new Request(init.url ?? RESOURCE, { method: init.method ?? "GET", headers });
}

async function validate(
  request: Request,
  extra?: oauth.ValidateJWTAccessTokenOptions,
): Promise<oauth.JWTAccessTokenClaims> {
  return await oauth.validateJwtAccessToken(server.as, request, AUDIENCE, {
    ...options,
    ...extra,
  });
}

// ---------------------------------------------------------------------------------------------
// DPoP proof building
// ---------------------------------------------------------------------------------------------

const holder = await generateTestKey("ES256");
const stranger = await generateTestKey("ES256");

function publicJwkOf(key: TestKey): Record<string, unknown> {
  const { kty, crv, x, y, n, e } = key.publicJwk as Record<string, unknown>;
  return defined({ kty, crv, x, y, n, e });
}

async function jktOf(key: TestKey): Promise<string> {
  return await calculateJwkThumbprint(
    publicJwkOf(key) as Parameters<typeof calculateJwkThumbprint>[0],
  );
}

async function athOf(token: string): Promise<string> {
  return b64u(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))),
  );
}

interface ProofInit {
  /** The key that signs. @default holder */
  signer?: TestKey;
  /** The key whose public JWK goes in the header. @default signer */
  jwkOf?: TestKey;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  method?: string;
  url?: string;
}

async function proof(token: string, init: ProofInit = {}): Promise<string> {
  const signer = init.signer ?? holder;
  const header = defined({
    typ: "dpop+jwt",
    alg: signer.alg,
    jwk: publicJwkOf(init.jwkOf ?? signer),
    ...init.header,
  });
  const claims = defined({
    jti: crypto.randomUUID(),
    htm: init.method ?? "GET",
    htu: init.url ?? RESOURCE,
    iat: now(),
    ath: await athOf(token),
    ...init.claims,
  });
  return await signJws(JSON.stringify(header), JSON.stringify(claims), signer.privateKey);
}

/** A DPoP-bound token for `holder` and a request presenting it with a valid proof. */
async function dpopRequest(
  init: ProofInit & { tokenClaims?: Record<string, unknown>; scheme?: string } = {},
): Promise<{ token: string; request: Request }> {
  const token = await accessToken({ cnf: { jkt: await jktOf(holder) }, ...init.tokenClaims });
  const request = resourceRequest(token, {
    scheme: init.scheme ?? "DPoP",
    dpop: await proof(token, init),
    method: init.method ?? "GET",
    url: RESOURCE,
  });
  return { token, request };
}

// ---------------------------------------------------------------------------------------------
// Arguments and the Authorization header (RFC 6750 §2.1)
// ---------------------------------------------------------------------------------------------

Deno.test("validateJwtAccessToken() accepts a valid Bearer JWT access token and returns its claims", async () => {
  const token = await accessToken({ sub: "user-42" });
  const claims = await validate(resourceRequest(token));
  assert.equal(claims.sub, "user-42");
  assert.equal(claims.iss, server.issuer);
  assert.equal(claims.client_id, "client");
  assert.equal(claims.scope, "read write");
});

Deno.test("validateJwtAccessToken() accepts the scheme name in any case", async () => {
  const token = await accessToken();
  const claims = await validate(resourceRequest(token, { scheme: "bEaReR" }));
  assert.equal(claims.sub, "user-1");
});

Deno.test("validateJwtAccessToken() refuses a request without an Authorization header", async () => {
  const request = new Request(RESOURCE);
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.INVALID_REQUEST,
    { header: "authorization" },
  );
});

Deno.test("validateJwtAccessToken() refuses an Authorization scheme other than Bearer and DPoP", async () => {
  const token = await accessToken();
  for (const scheme of ["Basic", "MAC", "Bearer:"]) {
    await assertOAuthError(
      () => validate(resourceRequest(token, { scheme })),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
      { scheme },
    );
  }
});

Deno.test("validateJwtAccessToken() refuses a malformed Authorization header", async () => {
  const token = await accessToken();
  for (
    const value of [
      "Bearer",
      "Bearer ",
      `Bearer ${token} extra`,
      `Bearer ${token}, Bearer x`,
      `Bearer "${token}"`,
    ]
  ) {
    const request = new Request(RESOURCE, { headers: { authorization: value } });
    await assertOAuthError(
      () => validate(request),
      oauth.OperationProcessingError,
      oauth.INVALID_REQUEST,
    );
  }
});

Deno.test("validateJwtAccessToken() keeps the token out of the error cause", async () => {
  const token = await accessToken();
  const request = new Request(RESOURCE, { headers: { authorization: `Bearer ${token} x` } });
  const err = await assertOAuthError(() => validate(request), oauth.OperationProcessingError);
  assert.ok(!JSON.stringify(err.cause).includes(token));
  assert.ok(!err.message.includes(token));
});

Deno.test("validateJwtAccessToken() refuses invalid arguments before any request", async () => {
  const token = await accessToken();
  const fresh = createFakeAs();
  const call = (
    as: unknown,
    request: unknown,
    audience: unknown,
    extra?: Record<string, unknown>,
  ) =>
    oauth.validateJwtAccessToken(
      as as oauth.AuthorizationServer,
      request as Request,
      audience as string,
      { ...fresh.options, ...extra } as oauth.ValidateJWTAccessTokenOptions,
    );
  const good = resourceRequest(token);
  await assertTypeError(() => call({}, good, AUDIENCE), "ERR_INVALID_ARG_TYPE");
  await assertTypeError(() => call(fresh.as, "GET /", AUDIENCE), "ERR_INVALID_ARG_TYPE");
  await assertTypeError(() => call(fresh.as, good, ""), "ERR_INVALID_ARG_VALUE");
  await assertTypeError(
    () => call(fresh.as, good, AUDIENCE, { signingAlgorithms: "RS256" }),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => call(fresh.as, good, AUDIENCE, { signingAlgorithms: [] }),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () => call(fresh.as, good, AUDIENCE, { clientCertificate: 42 }),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => call(fresh.as, good, AUDIENCE, { clientCertificate: "not a certificate" }),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () => call(fresh.as, good, AUDIENCE, { trustClientCertHeader: "yes" }),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => call(fresh.as, good, AUDIENCE, { [oauth.clockTolerance]: -1 }),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(fresh.requests.length, 0);
});

// ---------------------------------------------------------------------------------------------
// Signature and algorithm (RFC 9068 §4)
// ---------------------------------------------------------------------------------------------

Deno.test('validateJwtAccessToken() refuses an unsecured token (alg "none")', async () => {
  const token = await server.signWith({ alg: "none", typ: "at+jwt" }, JSON.stringify(atClaims()));
  await assertOAuthError(
    () => validate(resourceRequest(token)),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

/** The classic confusion: an HMAC keyed with the bytes of the server's RSA public key. */
async function hmacWithRsaPublicKey(): Promise<string[]> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.RS256.publicKey));
  const pem = `-----BEGIN PUBLIC KEY-----\n${
    spki.toBase64().match(/.{1,64}/g)!.join("\n")
  }\n-----END PUBLIC KEY-----\n`;
  const secrets = [pem, JSON.stringify(keys.RS256.publicJwk)];
  const tokens: string[] = [];
  for (const secret of secrets) {
    const hmac = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    tokens.push(
      await signJws(
        JSON.stringify({ alg: "HS256", typ: "at+jwt", kid: "rs256" }),
        JSON.stringify(atClaims()),
        hmac,
      ),
    );
  }
  return tokens;
}

Deno.test("validateJwtAccessToken() refuses HS256 signed with the server's RSA public key", async () => {
  for (const token of await hmacWithRsaPublicKey()) {
    await assertOAuthError(
      () => validate(resourceRequest(token)),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      (cause) => {
        const { header, expected } = cause as { header: { alg: string }; expected: string[] };
        assert.equal(header.alg, "HS256");
        assert.ok(expected.includes("RS256") && !expected.some((alg) => alg.startsWith("HS")));
      },
    );
  }
});

Deno.test("validateJwtAccessToken() never accepts HS256 even when signingAlgorithms lists it", async () => {
  for (const token of await hmacWithRsaPublicKey()) {
    await assertOAuthError(
      () => validate(resourceRequest(token), { signingAlgorithms: ["HS256", "RS256"] }),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test("validateJwtAccessToken() refuses an alg outside signingAlgorithms and accepts one inside", async () => {
  const es256 = await accessToken();
  await assertOAuthError(
    () => validate(resourceRequest(es256), { signingAlgorithms: ["RS256"] }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: ["RS256"] },
  );
  const rs256 = await accessToken({}, {}, "RS256");
  const claims = await validate(resourceRequest(rs256), { signingAlgorithms: ["RS256"] });
  assert.equal(claims.sub, "user-1");
});

Deno.test("validateJwtAccessToken() accepts every asymmetric algorithm of the JWKS by default", async () => {
  for (const key of server.keys) {
    const token = await accessToken({}, {}, key);
    const claims = await validate(resourceRequest(token));
    assert.equal(claims.iss, server.issuer, key.alg);
  }
});

Deno.test("validateJwtAccessToken() refuses a token signed by a key the server does not hold", async () => {
  const impostor = await generateTestKey("ES256", server.key.kid);
  const token = await accessToken({}, {}, impostor);
  await assertOAuthError(
    () => validate(resourceRequest(token)),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAccessToken() refuses a token whose claims were changed after signing", async () => {
  const token = await accessToken({ scope: "read" });
  const [header, , signature] = token.split(".");
  const forged = `${header}.${b64u(JSON.stringify(atClaims({ scope: "admin" })))}.${signature}`;
  await assertOAuthError(
    () => validate(resourceRequest(forged)),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAccessToken() refuses a token that is not a JWS", async () => {
  const cases: [string, string][] = [
    ["opaque-token", oauth.INVALID_RESPONSE],
    ["e30.e30", oauth.INVALID_RESPONSE],
    [`${b64u("[]")}.e30.`, oauth.INVALID_RESPONSE],
    [`${b64u('{"alg":"ES256","typ":"at+jwt"}')}.+++.`, oauth.PARSE_ERROR],
    [`${b64u("{")}.e30.`, oauth.PARSE_ERROR],
  ];
  for (const [token, code] of cases) {
    await assertOAuthError(
      () => validate(resourceRequest(token)),
      oauth.OperationProcessingError,
      code,
    );
  }
});

Deno.test("validateJwtAccessToken() fetches the JWKS from jwks_uri over HTTP", async () => {
  await using live = await startFakeAs();
  const token = await live.sign(
    { ...atClaims(), iss: live.issuer },
    { typ: "at+jwt" },
  );
  const claims = await oauth.validateJwtAccessToken(live.as, resourceRequest(token), AUDIENCE, {
    ...live.options,
  });
  assert.equal(claims.iss, live.issuer);
  assert.equal(live.requestsTo("jwks").length, 1);
});

// ---------------------------------------------------------------------------------------------
// typ (RFC 9068 §4 (2))
// ---------------------------------------------------------------------------------------------

Deno.test("validateJwtAccessToken() refuses a token whose typ is not at+jwt", async () => {
  for (const typ of ["JWT", "jwt", "dpop+jwt", "application/jwt", undefined, 1]) {
    const token = await accessToken({}, { typ });
    await assertOAuthError(
      () => validate(resourceRequest(token)),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { expected: "at+jwt" },
    );
  }
});

Deno.test("validateJwtAccessToken() accepts typ application/at+jwt in any case", async () => {
  for (const typ of ["application/at+jwt", "AT+JWT", "Application/At+Jwt"]) {
    const token = await accessToken({}, { typ });
    const claims = await validate(resourceRequest(token));
    assert.equal(claims.sub, "user-1");
  }
});

// ---------------------------------------------------------------------------------------------
// Claims (RFC 9068 §2.2, §4)
// ---------------------------------------------------------------------------------------------

Deno.test("validateJwtAccessToken() refuses a token missing any required claim", async () => {
  for (const claim of ["iss", "exp", "aud", "sub", "iat", "jti", "client_id"]) {
    const token = await accessToken({ [claim]: undefined });
    await assertOAuthError(
      () => validate(resourceRequest(token)),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim },
    );
  }
});

Deno.test("validateJwtAccessToken() refuses mistyped sub, jti and client_id", async () => {
  for (const claim of ["sub", "jti", "client_id"]) {
    const token = await accessToken({ [claim]: 42 });
    await assertOAuthError(
      () => validate(resourceRequest(token)),
      oauth.OperationProcessingError,
      oauth.INVALID_REQUEST,
      { claim },
    );
  }
});

Deno.test("validateJwtAccessToken() refuses mistyped registered claims", async () => {
  const cases: [string, unknown][] = [
    ["iss", 1],
    ["aud", 5],
    ["aud", [AUDIENCE, 5]],
    ["exp", String(now() + 300)],
    ["iat", "now"],
    ["nbf", true],
  ];
  for (const [claim, value] of cases) {
    const token = await accessToken({ [claim]: value });
    await assertOAuthError(
      () => validate(resourceRequest(token)),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim },
    );
  }
});

Deno.test("validateJwtAccessToken() refuses a token from another issuer", async () => {
  const token = await accessToken({ iss: "https://evil.example" });
  await assertOAuthError(
    () => validate(resourceRequest(token)),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss", expected: server.issuer },
  );
});

Deno.test("validateJwtAccessToken() refuses a token for another audience", async () => {
  for (const aud of ["https://other-rs.example", ["https://other-rs.example"], []]) {
    const token = await accessToken({ aud });
    await assertOAuthError(
      () => validate(resourceRequest(token)),
      oauth.OperationProcessingError,
      oauth.JWT_CLAIM_COMPARISON,
      { claim: "aud", expected: AUDIENCE },
    );
  }
});

Deno.test("validateJwtAccessToken() accepts an audience array that contains the resource server", async () => {
  const token = await accessToken({ aud: ["https://other-rs.example", AUDIENCE] });
  const claims = await validate(resourceRequest(token));
  assert.deepEqual(claims.aud, ["https://other-rs.example", AUDIENCE]);
});

Deno.test("validateJwtAccessToken() refuses an expired token", async () => {
  const token = await accessToken({ exp: now() - 31 });
  await assertOAuthError(
    () => validate(resourceRequest(token)),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "exp" },
  );
});

Deno.test("validateJwtAccessToken() accepts a token expired within the clock tolerance", async () => {
  const token = await accessToken({ exp: now() - 10 });
  assert.equal((await validate(resourceRequest(token))).sub, "user-1");
  await assertOAuthError(
    () => validate(resourceRequest(token), { [oauth.clockTolerance]: 0 }),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "exp", tolerance: 0 },
  );
});

Deno.test("validateJwtAccessToken() applies [clockSkew] to exp", async () => {
  const token = await accessToken({ exp: now() - 600 });
  assert.equal(
    (await validate(resourceRequest(token), { [oauth.clockSkew]: -900 })).sub,
    "user-1",
  );
  const fresh = await accessToken();
  await assertOAuthError(
    () => validate(resourceRequest(fresh), { [oauth.clockSkew]: 3600 }),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "exp" },
  );
});

Deno.test("validateJwtAccessToken() refuses a token not valid yet (nbf)", async () => {
  const token = await accessToken({ nbf: now() + 120 });
  await assertOAuthError(
    () => validate(resourceRequest(token)),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "nbf" },
  );
  const soon = await accessToken({ nbf: now() + 10 });
  assert.equal((await validate(resourceRequest(soon))).sub, "user-1");
});

// ---------------------------------------------------------------------------------------------
// Confirmation (RFC 7800 §3.1)
// ---------------------------------------------------------------------------------------------

Deno.test("validateJwtAccessToken() refuses a cnf claim that is not an object", async () => {
  for (const cnf of ["jkt", ["jkt"], null]) {
    const token = await accessToken({ cnf });
    await assertOAuthError(
      () => validate(resourceRequest(token)),
      oauth.OperationProcessingError,
      oauth.INVALID_REQUEST,
      { claim: "cnf" },
    );
  }
});

Deno.test("validateJwtAccessToken() refuses several confirmation methods at once", async () => {
  const pki = await getPki();
  const token = await accessToken({
    cnf: { jkt: await jktOf(holder), "x5t#S256": pki.ec.x5tS256 },
  });
  const request = resourceRequest(token, { scheme: "DPoP", dpop: await proof(token) });
  await assertOAuthError(
    () => validate(request, { clientCertificate: pki.ec.cert }),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

Deno.test("validateJwtAccessToken() refuses an unknown confirmation method", async () => {
  const token = await accessToken({ cnf: { jwk: publicJwkOf(holder) } });
  await assertOAuthError(
    () => validate(resourceRequest(token)),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
    { method: "jwk" },
  );
});

Deno.test("validateJwtAccessToken() refuses a confirmation value that is not a string", async () => {
  for (const cnf of [{ jkt: 1 }, { "x5t#S256": "" }]) {
    const token = await accessToken({ cnf });
    await assertOAuthError(
      () => validate(resourceRequest(token)),
      oauth.OperationProcessingError,
      oauth.INVALID_REQUEST,
    );
  }
});

Deno.test("validateJwtAccessToken() treats an empty cnf as an unbound token", async () => {
  const token = await accessToken({ cnf: {} });
  assert.equal((await validate(resourceRequest(token))).sub, "user-1");
});

// ---------------------------------------------------------------------------------------------
// DPoP (RFC 9449 §4.3, §7.1)
// ---------------------------------------------------------------------------------------------

Deno.test("validateJwtAccessToken() accepts a DPoP-bound token with a valid proof", async () => {
  const { request } = await dpopRequest();
  const claims = await validate(request);
  assert.equal(claims.cnf?.jkt, await jktOf(holder));
});

Deno.test("validateJwtAccessToken() accepts DPoP proofs for other methods and key types", async () => {
  for (const alg of ["RS256", "PS256", "EdDSA", "ES384"] as const) {
    const key = await generateTestKey(alg);
    const token = await accessToken({ cnf: { jkt: await jktOf(key) } });
    const request = resourceRequest(token, {
      scheme: "DPoP",
      method: "POST",
      dpop: await proof(token, { signer: key, method: "POST" }),
    });
    assert.equal((await validate(request)).sub, "user-1", alg);
  }
});

Deno.test("validateJwtAccessToken() refuses a DPoP-bound token without a DPoP proof", async () => {
  const token = await accessToken({ cnf: { jkt: await jktOf(holder) } });
  for (const scheme of ["DPoP", "Bearer"]) {
    await assertOAuthError(
      () => validate(resourceRequest(token, { scheme })),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { header: "dpop" },
    );
  }
});

Deno.test("validateJwtAccessToken() refuses a DPoP-bound token sent with the Bearer scheme", async () => {
  const { request } = await dpopRequest({ scheme: "Bearer" });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { header: "authorization", scheme: "bearer" },
  );
});

Deno.test("validateJwtAccessToken() refuses an unbound token sent with the DPoP scheme", async () => {
  const token = await accessToken();
  const request = resourceRequest(token, { scheme: "DPoP", dpop: await proof(token) });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAccessToken() refuses an unbound token when requireDPoP is set", async () => {
  const token = await accessToken();
  await assertOAuthError(
    () => validate(resourceRequest(token), { requireDPoP: true }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { header: "dpop" },
  );
  const { request } = await dpopRequest();
  assert.equal((await validate(request, { requireDPoP: true })).sub, "user-1");
});

Deno.test("validateJwtAccessToken() refuses a Bearer request that carries a DPoP proof", async () => {
  const token = await accessToken();
  const request = resourceRequest(token, { dpop: await proof(token) });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAccessToken() refuses a request with two DPoP headers", async () => {
  const token = await accessToken({ cnf: { jkt: await jktOf(holder) } });
  const request = resourceRequest(token, {
    scheme: "DPoP",
    dpop: [await proof(token), await proof(token)],
  });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { header: "dpop" },
  );
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof that is not a JWS", async () => {
  const token = await accessToken({ cnf: { jkt: await jktOf(holder) } });
  const cases: [string, string][] = [
    ["not-a-jwt", oauth.INVALID_RESPONSE],
    ["e30.e30", oauth.INVALID_RESPONSE],
    [`${b64u("[]")}.e30.`, oauth.INVALID_RESPONSE],
    [`${b64u("{")}.e30.`, oauth.PARSE_ERROR],
  ];
  for (const [dpop, code] of cases) {
    await assertOAuthError(
      () => validate(resourceRequest(token, { scheme: "DPoP", dpop })),
      oauth.OperationProcessingError,
      code,
    );
  }
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof with the wrong typ", async () => {
  for (const typ of ["JWT", "at+jwt", undefined]) {
    const { request } = await dpopRequest({ header: { typ } });
    await assertOAuthError(
      () => validate(request),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { expected: "dpop+jwt" },
    );
  }
  const { request } = await dpopRequest({ header: { typ: "application/DPoP+JWT" } });
  assert.equal((await validate(request)).sub, "user-1");
});

Deno.test('validateJwtAccessToken() refuses an unsecured DPoP proof (alg "none")', async () => {
  const token = await accessToken({ cnf: { jkt: await jktOf(holder) } });
  const unsigned = await signJws(
    JSON.stringify({ typ: "dpop+jwt", alg: "none", jwk: publicJwkOf(holder) }),
    JSON.stringify({
      jti: "j",
      htm: "GET",
      htu: RESOURCE,
      iat: now(),
      ath: await athOf(token),
    }),
    null,
  );
  await assertOAuthError(
    () => validate(resourceRequest(token, { scheme: "DPoP", dpop: unsigned })),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof alg outside signingAlgorithms", async () => {
  const rsaHolder = await generateTestKey("RS256");
  const token = await accessToken({ cnf: { jkt: await jktOf(rsaHolder) } });
  const request = resourceRequest(token, {
    scheme: "DPoP",
    dpop: await proof(token, { signer: rsaHolder }),
  });
  await assertOAuthError(
    () => validate(request, { signingAlgorithms: ["ES256"] }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: ["ES256"] },
  );
  const { request: es256 } = await dpopRequest();
  assert.equal((await validate(es256, { signingAlgorithms: ["ES256"] })).sub, "user-1");
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof with a symmetric alg", async () => {
  const token = await accessToken({ cnf: { jkt: await jktOf(holder) } });
  const hmac = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode("shared"),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const forged = await signJws(
    JSON.stringify({ typ: "dpop+jwt", alg: "HS256", jwk: publicJwkOf(holder) }),
    JSON.stringify({ jti: "j", htm: "GET", htu: RESOURCE, iat: now(), ath: await athOf(token) }),
    hmac,
  );
  await assertOAuthError(
    () => validate(resourceRequest(token, { scheme: "DPoP", dpop: forged })),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof whose jwk is not an object", async () => {
  for (const jwk of [undefined, "key", [publicJwkOf(holder)]]) {
    const { request } = await dpopRequest({ header: { jwk } });
    await assertOAuthError(
      () => validate(request),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  }
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof whose jwk holds a private key", async () => {
  const privateJwk = { ...publicJwkOf(holder), d: (holder.privateJwk as { d: string }).d };
  const { request } = await dpopRequest({ header: { jwk: privateJwk } });
  const err = await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.ok(
    !JSON.stringify(err.cause).includes(privateJwk.d),
    "the private key stays out of the cause",
  );
});

Deno.test("validateJwtAccessToken() refuses a symmetric jwk in a DPoP proof", async () => {
  const { request } = await dpopRequest({ header: { jwk: { kty: "oct", k: "c2VjcmV0" } } });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof whose jwk does not fit its alg", async () => {
  const { request } = await dpopRequest({ header: { jwk: publicJwkOf(keys.RS256) } });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof signed by another key than its jwk", async () => {
  const { request } = await dpopRequest({ signer: stranger, jwkOf: holder });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof missing a required claim", async () => {
  for (const claim of ["iat", "jti", "htm", "htu", "ath"]) {
    const { request } = await dpopRequest({ claims: { [claim]: undefined } });
    await assertOAuthError(
      () => validate(request),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim },
    );
  }
});

Deno.test("validateJwtAccessToken() refuses mistyped DPoP proof claims", async () => {
  const cases: [string, unknown][] = [["jti", 1], ["jti", ""], ["htm", ["GET"]], ["htu", 1], [
    "ath",
    null,
  ], ["iat", "now"]];
  for (const [claim, value] of cases) {
    const { request } = await dpopRequest({ claims: { [claim]: value } });
    await assertOAuthError(
      () => validate(request),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim },
    );
  }
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof made for another method", async () => {
  const { request } = await dpopRequest({ claims: { htm: "POST" } });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "htm", expected: "GET" },
  );
  const lower = await dpopRequest({ claims: { htm: "get" } });
  await assertOAuthError(
    () => validate(lower.request),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "htm" },
  );
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof made for another URL", async () => {
  for (
    const htu of [
      "https://rs.example/api/other",
      "https://evil.example/api/items",
      "http://rs.example/api/items",
      "https://rs.example:8443/api/items",
      "/api/items",
      "not a url",
    ]
  ) {
    const { request } = await dpopRequest({ claims: { htu } });
    await assertOAuthError(
      () => validate(request),
      oauth.OperationProcessingError,
      oauth.JWT_CLAIM_COMPARISON,
      { claim: "htu", expected: RESOURCE },
    );
  }
});

Deno.test("validateJwtAccessToken() compares htu without query and fragment, normalised", async () => {
  for (
    const htu of [
      `${RESOURCE}?page=2`,
      `${RESOURCE}#top`,
      "HTTPS://RS.EXAMPLE:443/api/items",
      "https://rs.example/api/./items",
    ]
  ) {
    const token = await accessToken({ cnf: { jkt: await jktOf(holder) } });
    const request = resourceRequest(token, {
      scheme: "DPoP",
      url: `${RESOURCE}?page=3`,
      dpop: await proof(token, { claims: { htu } }),
    });
    assert.equal((await validate(request)).sub, "user-1", htu);
  }
});

Deno.test("validateJwtAccessToken() refuses a stale DPoP proof", async () => {
  const { request } = await dpopRequest({ claims: { iat: now() - DPOP_PROOF_MAX_AGE - 5 } });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "iat", maxAge: DPOP_PROOF_MAX_AGE },
  );
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof issued in the future", async () => {
  const { request } = await dpopRequest({ claims: { iat: now() + 120 } });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "iat" },
  );
});

Deno.test("validateJwtAccessToken() accepts a DPoP proof within its window", async () => {
  for (const iat of [now() - DPOP_PROOF_MAX_AGE + 30, now() + 10]) {
    const { request } = await dpopRequest({ claims: { iat } });
    assert.equal((await validate(request)).sub, "user-1", String(iat));
  }
  const old = await dpopRequest({ claims: { iat: now() - 3600 } });
  assert.equal((await validate(old.request, { [oauth.clockSkew]: -3600 })).sub, "user-1");
});

Deno.test("validateJwtAccessToken() refuses a DPoP proof made for another access token", async () => {
  const other = await accessToken({ cnf: { jkt: await jktOf(holder) } });
  const { request } = await dpopRequest({ claims: { ath: await athOf(other) } });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "ath" },
  );
});

Deno.test("validateJwtAccessToken() refuses a token bound to another key than the proof's", async () => {
  const { request } = await dpopRequest({ signer: stranger });
  await assertOAuthError(
    () => validate(request),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "cnf.jkt", expected: await jktOf(stranger) },
  );
});

// ---------------------------------------------------------------------------------------------
// Certificate-bound tokens (RFC 8705 §3, RFC 9440)
// ---------------------------------------------------------------------------------------------

function clientCertHeader(der: Uint8Array): string {
  return `:${der.toBase64()}:`;
}

Deno.test("validateJwtAccessToken() accepts a certificate-bound token with the bound certificate", async () => {
  const pki = await getPki();
  const token = await accessToken({ cnf: { "x5t#S256": pki.ec.x5tS256 } });
  for (const clientCertificate of [pki.ec.cert, pki.ec.der]) {
    const claims = await validate(resourceRequest(token), { clientCertificate });
    assert.equal(claims.cnf?.["x5t#S256"], pki.ec.x5tS256);
  }
});

Deno.test("validateJwtAccessToken() refuses a certificate-bound token with another certificate", async () => {
  const pki = await getPki();
  const token = await accessToken({ cnf: { "x5t#S256": pki.ec.x5tS256 } });
  for (const other of [pki.rsa, pki.rogue]) {
    await assertOAuthError(
      () => validate(resourceRequest(token), { clientCertificate: other.cert }),
      oauth.OperationProcessingError,
      oauth.JWT_CLAIM_COMPARISON,
      { claim: "cnf.x5t#S256", expected: other.x5tS256 },
    );
  }
});

Deno.test("validateJwtAccessToken() refuses a certificate-bound token when no certificate is known", async () => {
  const pki = await getPki();
  const token = await accessToken({ cnf: { "x5t#S256": pki.ec.x5tS256 } });
  await assertOAuthError(
    () => validate(resourceRequest(token)),
    oauth.OperationProcessingError,
    oauth.INVALID_REQUEST,
    { claim: "cnf.x5t#S256" },
  );
});

Deno.test("validateJwtAccessToken() ignores the Client-Cert header unless trustClientCertHeader is set", async () => {
  const pki = await getPki();
  const token = await accessToken({ cnf: { "x5t#S256": pki.ec.x5tS256 } });
  const request = () =>
    resourceRequest(token, { headers: { "client-cert": clientCertHeader(pki.ec.der) } });
  for (const extra of [{}, { trustClientCertHeader: false }]) {
    await assertOAuthError(
      () => validate(request(), extra),
      oauth.OperationProcessingError,
      oauth.INVALID_REQUEST,
      { claim: "cnf.x5t#S256" },
    );
  }
  const claims = await validate(request(), { trustClientCertHeader: true });
  assert.equal(claims.cnf?.["x5t#S256"], pki.ec.x5tS256);
});

Deno.test("validateJwtAccessToken() refuses a trusted Client-Cert header holding another certificate", async () => {
  const pki = await getPki();
  const token = await accessToken({ cnf: { "x5t#S256": pki.ec.x5tS256 } });
  const request = resourceRequest(token, {
    headers: { "client-cert": clientCertHeader(pki.rsa.der) },
  });
  await assertOAuthError(
    () => validate(request, { trustClientCertHeader: true }),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "cnf.x5t#S256", expected: pki.rsa.x5tS256 },
  );
});

Deno.test("validateJwtAccessToken() prefers the clientCertificate option over the Client-Cert header", async () => {
  const pki = await getPki();
  const token = await accessToken({ cnf: { "x5t#S256": pki.ec.x5tS256 } });
  const spoofed = resourceRequest(token, {
    headers: { "client-cert": clientCertHeader(pki.ec.der) },
  });
  await assertOAuthError(
    () => validate(spoofed, { trustClientCertHeader: true, clientCertificate: pki.rsa.cert }),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
  );
});

Deno.test("validateJwtAccessToken() refuses a malformed Client-Cert header", async () => {
  const pki = await getPki();
  const token = await accessToken({ cnf: { "x5t#S256": pki.ec.x5tS256 } });
  const good = clientCertHeader(pki.ec.der);
  for (
    const value of [
      good.slice(1, -1),
      `${good}, ${good}`,
      ":AAAA:",
      `:${pki.ec.der.toBase64({ alphabet: "base64url" })}:`,
      pki.ec.cert.replaceAll("\n", " "),
    ]
  ) {
    const request = resourceRequest(token, { headers: { "client-cert": value } });
    await assertOAuthError(
      () => validate(request, { trustClientCertHeader: true }),
      oauth.OperationProcessingError,
      oauth.INVALID_REQUEST,
      { header: "client-cert" },
    );
  }
});

Deno.test("validateJwtAccessToken() does not need a certificate for an unbound token", async () => {
  const pki = await getPki();
  const token = await accessToken();
  assert.equal(
    (await validate(resourceRequest(token), { clientCertificate: pki.rsa.cert })).sub,
    "user-1",
  );
});

Deno.test("validateJwtAccessToken() refuses an mTLS-bound token presented with a DPoP proof", async () => {
  const pki = await getPki();
  const token = await accessToken({ cnf: { "x5t#S256": pki.ec.x5tS256 } });
  const request = resourceRequest(token, { scheme: "DPoP", dpop: await proof(token) });
  await assertOAuthError(
    () => validate(request, { clientCertificate: pki.ec.cert }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});
