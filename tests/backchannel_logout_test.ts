/**
 * validateLogoutToken(): OpenID Connect Back-Channel Logout 1.0 §2.5 (the logout request) and
 * §2.6 (token validation). Each rule has a refused lie and an accepted variant; tokens are signed
 * by the fake authorization server, whose JWKS is served through `customFetch`.
 */

import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, startFakeAs } from "./_fake_as.ts";
import { b64u, generateTestKey, type TestKey } from "./_keys.ts";

const EVENT = "http://schemas.openid.net/event/backchannel-logout";
const server = createFakeAs();
const options: oauth.ValidateLogoutTokenOptions = { ...server.options };

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function defined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

function logoutClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const t = now();
  return defined({
    iss: server.issuer,
    aud: server.client.client_id,
    iat: t,
    exp: t + 120,
    jti: crypto.randomUUID(),
    events: { [EVENT]: {} },
    sub: "user-1",
    sid: "session-1",
    ...overrides,
  });
}

async function logoutToken(
  overrides?: Record<string, unknown>,
  header?: Record<string, unknown>,
  key?: TestKey | "RS256" | "ES256",
): Promise<string> {
  return await server.sign(logoutClaims(overrides), { typ: "logout+jwt", ...header }, key);
}

async function validate(
  token: string | Request,
  client: oauth.Client = server.client,
  extra?: oauth.ValidateLogoutTokenOptions,
): Promise<oauth.LogoutTokenClaims> {
  return await oauth.validateLogoutToken(server.as, client, token, { ...options, ...extra });
}

function logoutRequest(body: string, init: { method?: string; contentType?: string } = {}) {
  return new Request("https://rp.example/backchannel-logout", {
    method: init.method ?? "POST",
    headers: { "content-type": init.contentType ?? "application/x-www-form-urlencoded" },
    body: init.method === "GET" ? undefined : body,
  });
}

// ---------------------------------------------------------------------------------------------
// Accepted tokens
// ---------------------------------------------------------------------------------------------

Deno.test("validateLogoutToken() accepts a valid logout token and returns its claims", async () => {
  const claims = await validate(await logoutToken());
  assert.equal(claims.iss, server.issuer);
  assert.equal(claims.sub, "user-1");
  assert.equal(claims.sid, "session-1");
  assert.deepEqual(claims.events[EVENT], {});
});

Deno.test("validateLogoutToken() reads logout_token from the OP's form POST", async () => {
  const token = await logoutToken();
  const request = logoutRequest(new URLSearchParams({ logout_token: token }).toString());
  const claims = await validate(request);
  assert.equal(claims.sid, "session-1");
  assert.ok(request.bodyUsed);
});

Deno.test("validateLogoutToken() verifies the signature with the JWKS fetched over HTTP", async () => {
  await using live = await startFakeAs();
  const token = await live.sign({ ...logoutClaims(), iss: live.issuer }, { typ: "logout+jwt" });
  const claims = await oauth.validateLogoutToken(live.as, live.client, token, live.options);
  assert.equal(claims.iss, live.issuer);
  assert.equal(live.requestsTo("jwks").length, 1);
});

// ---------------------------------------------------------------------------------------------
// The logout request (§2.5)
// ---------------------------------------------------------------------------------------------

Deno.test("validateLogoutToken() refuses a logout request that is not a form POST", async () => {
  const token = await logoutToken();
  const form = new URLSearchParams({ logout_token: token }).toString();
  await assertOAuthError(
    () => validate(logoutRequest(form, { method: "GET" })),
    oauth.OperationProcessingError,
    oauth.INVALID_REQUEST,
    { method: "GET" },
  );
  await assertOAuthError(
    () =>
      validate(logoutRequest(JSON.stringify({ logout_token: token }), {
        contentType: "application/json",
      })),
    oauth.OperationProcessingError,
    oauth.INVALID_REQUEST,
    { contentType: "application/json" },
  );
  const charset = logoutRequest(form, {
    contentType: "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
  });
  assert.equal((await validate(charset)).sub, "user-1");
});

Deno.test("validateLogoutToken() refuses a logout request without exactly one logout_token", async () => {
  const token = await logoutToken();
  const cases: [string, number][] = [
    ["", 0],
    ["token=abc", 0],
    [`logout_token=${token}&logout_token=${token}`, 2],
  ];
  for (const [body, count] of cases) {
    await assertOAuthError(
      () => validate(logoutRequest(body)),
      oauth.OperationProcessingError,
      oauth.INVALID_REQUEST,
      { parameter: "logout_token", count },
    );
  }
  await assertOAuthError(
    () => validate(logoutRequest("logout_token=")),
    oauth.OperationProcessingError,
    oauth.INVALID_REQUEST,
    { parameter: "logout_token" },
  );
});

Deno.test("validateLogoutToken() refuses an oversized logout request body", async () => {
  const token = await logoutToken();
  const body = `logout_token=${token}&padding=${"x".repeat(70 * 1024)}`;
  await assertOAuthError(
    () => validate(logoutRequest(body)),
    oauth.OperationProcessingError,
    oauth.INVALID_REQUEST,
    { maxBytes: 64 * 1024 },
  );
  const streamed = new Request("https://rp.example/backchannel-logout", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new Blob([body]).stream(),
  });
  await assertOAuthError(
    () => validate(streamed),
    oauth.OperationProcessingError,
    oauth.INVALID_REQUEST,
    { maxBytes: 64 * 1024 },
  );
});

Deno.test("validateLogoutToken() refuses invalid arguments before any request", async () => {
  const fresh = createFakeAs();
  const token = await logoutToken();
  const call = (as: unknown, client: unknown, value: unknown) =>
    oauth.validateLogoutToken(
      as as oauth.AuthorizationServer,
      client as oauth.Client,
      value as string,
      fresh.options,
    );
  await assertTypeError(() => call({}, fresh.client, token), "ERR_INVALID_ARG_TYPE");
  await assertTypeError(() => call(fresh.as, {}, token), "ERR_INVALID_ARG_TYPE");
  await assertTypeError(() => call(fresh.as, fresh.client, 42), "ERR_INVALID_ARG_TYPE");
  await assertTypeError(() => call(fresh.as, fresh.client, ""), "ERR_INVALID_ARG_VALUE");
  const used = logoutRequest(`logout_token=${token}`);
  await used.text();
  await assertTypeError(() => call(fresh.as, fresh.client, used), "ERR_INVALID_ARG_VALUE");
  assert.equal(fresh.requests.length, 0);
});

// ---------------------------------------------------------------------------------------------
// Signature, alg and typ (§2.6 (2), (3); §2.4)
// ---------------------------------------------------------------------------------------------

Deno.test("validateLogoutToken() refuses a token signed by a key the server does not hold", async () => {
  const impostor = await generateTestKey("ES256", server.key.kid);
  const token = await logoutToken({}, {}, impostor);
  await assertOAuthError(
    () => validate(token),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateLogoutToken() refuses a token whose claims were changed after signing", async () => {
  const token = await logoutToken({ sid: "session-1" });
  const [header, , signature] = token.split(".");
  const forged = `${header}.${
    b64u(JSON.stringify(logoutClaims({ sid: "session-2" })))
  }.${signature}`;
  await assertOAuthError(
    () => validate(forged),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test('validateLogoutToken() refuses an unsecured token (alg "none")', async () => {
  const token = await server.signWith(
    { alg: "none", typ: "logout+jwt" },
    JSON.stringify(logoutClaims()),
  );
  await assertOAuthError(
    () => validate(token),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

Deno.test("validateLogoutToken() follows the ID token alg policy", async () => {
  const rs256 = await logoutToken({}, {}, "RS256");
  const es256 = await logoutToken();
  const strict = { ...server.client, id_token_signed_response_alg: "RS256" };
  await assertOAuthError(
    () => validate(es256, strict),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: ["RS256"] },
  );
  assert.equal((await validate(rs256, strict)).sub, "user-1");
  // Without client or server configuration only RS256 is accepted (§2.6 (3)).
  const bare = createFakeAs({ metadata: { id_token_signing_alg_values_supported: undefined } });
  const bareToken = await bare.sign(logoutClaims({ iss: bare.issuer }), { typ: "logout+jwt" });
  await assertOAuthError(
    () => oauth.validateLogoutToken(bare.as, bare.client, bareToken, bare.options),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: ["RS256"] },
  );
});

Deno.test("validateLogoutToken() refuses a token whose typ is not logout+jwt", async () => {
  for (const typ of ["JWT", "at+jwt", "secevent+jwt", 1]) {
    const token = await logoutToken({}, { typ });
    await assertOAuthError(
      () => validate(token),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { expected: "logout+jwt" },
    );
  }
});

Deno.test("validateLogoutToken() accepts typ logout+jwt in any form, or no typ", async () => {
  for (const typ of [undefined, "application/logout+jwt", "Logout+JWT"]) {
    const token = await logoutToken({}, { typ });
    assert.equal((await validate(token)).sub, "user-1", String(typ));
  }
});

// ---------------------------------------------------------------------------------------------
// Claims (§2.4, §2.6 (4)–(7))
// ---------------------------------------------------------------------------------------------

Deno.test("validateLogoutToken() refuses a token missing a required claim", async () => {
  for (const claim of ["iss", "aud", "iat", "exp", "jti", "events"]) {
    const token = await logoutToken({ [claim]: undefined });
    await assertOAuthError(
      () => validate(token),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim },
    );
  }
});

Deno.test("validateLogoutToken() refuses mistyped claims", async () => {
  const cases: [string, unknown][] = [["jti", 1], ["sub", 1], ["sid", 1], ["iat", "now"], [
    "exp",
    "later",
  ]];
  for (const [claim, value] of cases) {
    const token = await logoutToken({ [claim]: value });
    await assertOAuthError(
      () => validate(token),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim },
    );
  }
});

Deno.test("validateLogoutToken() refuses a token containing a nonce", async () => {
  for (const nonce of ["n-0S6_WzA2Mj", 1]) {
    const token = await logoutToken({ nonce });
    await assertOAuthError(
      () => validate(token),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim: "nonce" },
    );
  }
});

Deno.test("validateLogoutToken() refuses an ID token passed off as a logout token", async () => {
  const idToken = await server.idToken({ nonce: "n" });
  await assertOAuthError(
    () => validate(idToken),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateLogoutToken() refuses a token without the back-channel logout event", async () => {
  const cases: unknown[] = [
    "logout",
    [EVENT],
    {},
    { "http://schemas.openid.net/event/other": {} },
  ];
  for (const events of cases) {
    const token = await logoutToken({ events });
    await assertOAuthError(
      () => validate(token),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim: "events" },
    );
  }
});

Deno.test("validateLogoutToken() refuses a logout event whose value is not an object", async () => {
  for (const value of [true, "yes", [], null]) {
    const token = await logoutToken({ events: { [EVENT]: value } });
    await assertOAuthError(
      () => validate(token),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim: "events" },
    );
  }
  const extra = await logoutToken({ events: { [EVENT]: { reason: "x" }, "urn:other": 1 } });
  assert.deepEqual((await validate(extra)).events[EVENT], { reason: "x" });
});

Deno.test("validateLogoutToken() refuses a token with neither sid nor sub", async () => {
  const token = await logoutToken({ sid: undefined, sub: undefined });
  await assertOAuthError(
    () => validate(token),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { claim: "sub" },
  );
});

Deno.test("validateLogoutToken() accepts a token with only sid or only sub", async () => {
  const sidOnly = await validate(await logoutToken({ sub: undefined }));
  assert.equal(sidOnly.sid, "session-1");
  assert.equal(sidOnly.sub, undefined);
  const subOnly = await validate(await logoutToken({ sid: undefined }));
  assert.equal(subOnly.sub, "user-1");
  assert.equal(subOnly.sid, undefined);
});

Deno.test("validateLogoutToken() refuses a token from another issuer", async () => {
  const token = await logoutToken({ iss: "https://evil.example" });
  await assertOAuthError(
    () => validate(token),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss", expected: server.issuer },
  );
});

Deno.test("validateLogoutToken() refuses a token issued to another client", async () => {
  for (const aud of ["other-client", ["other-client"]]) {
    const token = await logoutToken({ aud });
    await assertOAuthError(
      () => validate(token),
      oauth.OperationProcessingError,
      oauth.JWT_CLAIM_COMPARISON,
      { claim: "aud", expected: server.client.client_id },
    );
  }
});

Deno.test("validateLogoutToken() applies the ID token azp rule to several audiences", async () => {
  const aud = [server.client.client_id, "other-client"];
  await assertOAuthError(
    async () => validate(await logoutToken({ aud })),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "aud" },
  );
  await assertOAuthError(
    async () => validate(await logoutToken({ aud, azp: "other-client" })),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "azp" },
  );
  const claims = await validate(await logoutToken({ aud, azp: server.client.client_id }));
  assert.deepEqual(claims.aud, aud);
});

Deno.test("validateLogoutToken() refuses an expired token", async () => {
  const token = await logoutToken({ exp: now() - 31 });
  await assertOAuthError(
    () => validate(token),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "exp" },
  );
});

Deno.test("validateLogoutToken() accepts a token expired within tolerance", async () => {
  const recent = await logoutToken({ exp: now() - 10 });
  assert.equal((await validate(recent)).sub, "user-1");
  await assertOAuthError(
    () => validate(recent, server.client, { [oauth.clockTolerance]: 0 }),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "exp", tolerance: 0 },
  );
});

Deno.test("validateLogoutToken() takes clock options from the call, else from the client", async () => {
  const old = await logoutToken({ exp: now() - 600 });
  const skewed = { ...server.client, [oauth.clockSkew]: -900 };
  assert.equal((await validate(old, skewed)).sub, "user-1");
  await assertOAuthError(
    () => validate(old, skewed, { [oauth.clockSkew]: 0 }),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "exp" },
  );
  assert.equal((await validate(old, server.client, { [oauth.clockSkew]: -900 })).sub, "user-1");
});

Deno.test("validateLogoutToken() refuses a JWE without [jweDecrypt] and decrypts with it", async () => {
  const token = await logoutToken();
  const jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..iv.ciphertext.tag";
  await assertOAuthError(
    () => validate(jwe),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
  const claims = await validate(jwe, server.client, {
    [oauth.jweDecrypt]: (value) => Promise.resolve(value === jwe ? token : "wrong"),
  });
  assert.equal(claims.sub, "user-1");
});
