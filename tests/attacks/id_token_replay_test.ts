/**
 * Attack family: ID token replay and substitution (RFC 9700 §4.5.3, OpenID Connect Core
 * §3.1.3.7, §3.3.2.11, §5.3.4, §15.5.2). The attacker replays an ID token from another session,
 * another client or another time, or substitutes one token for another beside a code.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { createFakeAs, type FakeAs } from "../_fake_as.ts";
import { b64u, generateTestKey, type TestKey } from "../_keys.ts";
import { authorize, type FlowSession, newSession, redeem } from "./_attack.ts";

/** Left half of SHA-256, base64url: `c_hash` / `s_hash` / `at_hash` for ES256 (OIDC Core §3.3.2.11). */
async function halfHash(value: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)),
  );
  return b64u(digest.slice(0, 16));
}

/** Runs a code flow and returns the raw token response, after `bend` changed the token route. */
async function tokenResponse(
  server: FakeAs,
  session: FlowSession,
  body?: Record<string, unknown>,
): Promise<Response> {
  const params = oauth.validateAuthResponse(
    server.as,
    server.client,
    await authorize(server, session),
    session.state,
  );
  if (body) server.override("token", await server.tokenBody(body));
  return await redeem(server, params, session.verifier);
}

/** A code flow whose token response the attacker bent; the processor must refuse it. */
interface TokenEndpointAttack {
  name: string;
  /** The token response members to replace (`id_token: undefined` removes it). */
  body: (server: FakeAs, session: FlowSession) => Promise<Record<string, unknown>>;
  /** The processor options of the client (`undefined`: it sent no nonce). */
  options?: (session: FlowSession) => oauth.ProcessAuthorizationCodeResponseOptions;
  code: string;
  cause: (server: FakeAs, session: FlowSession) => Record<string, unknown>;
}

const withNonce = (session: FlowSession) => ({ expectedNonce: session.nonce });

const TOKEN_ENDPOINT_ATTACKS: TokenEndpointAttack[] = [
  {
    name: "ID token replay: a token whose nonce belongs to another session is refused",
    body: async (server) => ({ id_token: await server.idToken({ nonce: newSession().nonce }) }),
    options: withNonce,
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: (_, session) => ({ claim: "nonce", expected: session.nonce }),
  },
  {
    name: "ID token replay: a token carrying a nonce is refused when the session sent none",
    body: async (server) => ({ id_token: await server.idToken({ nonce: "from-elsewhere" }) }),
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: () => ({ claim: "nonce", expected: undefined }),
  },
  {
    name:
      "ID token replay: a response stripped of its ID token is refused when the session sent a nonce",
    body: () => Promise.resolve({ id_token: undefined }),
    options: withNonce,
    code: oauth.INVALID_RESPONSE,
    cause: () => ({ attribute: "id_token" }),
  },
  {
    name: "ID token replay: a token issued to another client is refused by its aud",
    body: async (server, session) => ({
      id_token: await server.idToken({ aud: "other-client", nonce: session.nonce }),
    }),
    options: withNonce,
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: (server) => ({ claim: "aud", expected: server.client.client_id }),
  },
  {
    name: "ID token substitution: a token for several audiences without azp is refused",
    body: async (server, session) => ({
      id_token: await server.idToken({
        aud: [server.client.client_id, "other-client"],
        nonce: session.nonce,
      }),
    }),
    options: withNonce,
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: () => ({ claim: "aud" }),
  },
  {
    name: "ID token substitution: a token whose azp is another client is refused",
    body: async (server, session) => ({
      id_token: await server.idToken({
        aud: [server.client.client_id, "other-client"],
        azp: "other-client",
        nonce: session.nonce,
      }),
    }),
    options: withNonce,
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: (server) => ({ claim: "azp", expected: server.client.client_id }),
  },
  {
    name: "ID token replay: an expired token is refused",
    body: async (server, session) => {
      const t = server.now();
      return {
        id_token: await server.idToken({ nonce: session.nonce, iat: t - 7200, exp: t - 3600 }),
      };
    },
    options: withNonce,
    code: oauth.JWT_TIMESTAMP_CHECK,
    cause: () => ({ claim: "exp" }),
  },
  {
    name: "ID token replay: a token for an authentication older than max_age is refused",
    body: async (server, session) => ({
      id_token: await server.idToken({ nonce: session.nonce, auth_time: server.now() - 3600 }),
    }),
    options: (session) => ({ expectedNonce: session.nonce, maxAge: 300 }),
    code: oauth.JWT_TIMESTAMP_CHECK,
    cause: () => ({ claim: "auth_time" }),
  },
];

for (const attack of TOKEN_ENDPOINT_ATTACKS) {
  Deno.test(attack.name, async () => {
    const server = createFakeAs();
    const session = newSession();
    const response = await tokenResponse(server, session, await attack.body(server, session));
    await assertOAuthError(
      () =>
        oauth.processAuthorizationCodeResponse(
          server.as,
          server.client,
          response,
          attack.options?.(session),
        ),
      oauth.OperationProcessingError,
      attack.code,
      attack.cause(server, session),
    );
  });
}

/** A front-channel `code id_token` response the attacker put together. */
interface HybridAttack {
  name: string;
  /** The validator the client calls. */
  validate: typeof oauth.validateCodeIdTokenResponse;
  /** The code in the response. */
  code: string;
  /** The ID token's claims (besides the defaults) in the victim's session. */
  claims: (session: FlowSession, code: string) => Promise<Record<string, unknown>>;
  /** The key that signs the ID token; the server's by default. */
  key?: (server: FakeAs) => Promise<TestKey>;
  /** The expected error code, or `undefined` for a response that must be accepted. */
  error?: string;
  cause?: Record<string, unknown>;
}

const HYBRID_ATTACKS: HybridAttack[] = [
  {
    name:
      "ID token substitution: a hybrid ID token whose c_hash belongs to another code is refused",
    validate: oauth.validateCodeIdTokenResponse,
    code: "injected-code",
    claims: async (session) => ({
      nonce: session.nonce,
      c_hash: await halfHash("the-code-it-was-issued-with"),
    }),
    error: oauth.JWT_CLAIM_COMPARISON,
    cause: { claim: "c_hash" },
  },
  {
    name:
      "ID token substitution: a detached signature whose s_hash belongs to another state is refused",
    validate: oauth.validateDetachedSignatureResponse,
    code: "the-code",
    claims: async (session, code) => ({
      nonce: session.nonce,
      c_hash: await halfHash(code),
      s_hash: await halfHash("another-state"),
    }),
    error: oauth.JWT_CLAIM_COMPARISON,
    cause: { claim: "s_hash" },
  },
  {
    name: "ID token replay: a hybrid ID token replayed into another session fails the nonce check",
    validate: oauth.validateCodeIdTokenResponse,
    code: "the-code",
    claims: async (_, code) => ({ nonce: newSession().nonce, c_hash: await halfHash(code) }),
    error: oauth.JWT_CLAIM_COMPARISON,
    cause: { claim: "nonce" },
  },
  {
    name: "ID token substitution: a front-channel ID token signed by a stranger's key is refused",
    validate: oauth.validateCodeIdTokenResponse,
    code: "the-code",
    claims: async (session, code) => ({ nonce: session.nonce, c_hash: await halfHash(code) }),
    key: (server) => generateTestKey("ES256", server.key.kid),
    error: oauth.INVALID_RESPONSE,
  },
  {
    name:
      "ID token substitution: a hybrid response with matching c_hash, nonce and signature is accepted",
    validate: oauth.validateCodeIdTokenResponse,
    code: "the-code",
    claims: async (session, code) => ({ nonce: session.nonce, c_hash: await halfHash(code) }),
  },
];

for (const attack of HYBRID_ATTACKS) {
  Deno.test(attack.name, async () => {
    const server = createFakeAs();
    const session = newSession();
    const params = new URLSearchParams({
      code: attack.code,
      state: session.state,
      id_token: await server.idToken(
        await attack.claims(session, attack.code),
        undefined,
        await attack.key?.(server),
      ),
    });
    const validate = () =>
      attack.validate(
        server.as,
        server.client,
        params,
        session.nonce,
        session.state,
        undefined,
        server.options,
      );
    if (attack.error === undefined) {
      assert.equal((await validate()).get("code"), attack.code);
      return;
    }
    await assertOAuthError(validate, oauth.OperationProcessingError, attack.error, attack.cause);
  });
}

Deno.test("ID token substitution: userinfo for another subject is refused (OIDC Core §5.3.4)", async () => {
  const server = createFakeAs();
  server.override("userinfo", { sub: "someone-else", name: "Mallory" });
  const response = await oauth.userInfoRequest(server.as, server.client, "at", server.options);
  await assertOAuthError(
    () => oauth.processUserInfoResponse(server.as, server.client, "user-1", response),
    oauth.OperationProcessingError,
    oauth.JSON_ATTRIBUTE_COMPARISON,
    { attribute: "sub", expected: "user-1" },
  );
});

Deno.test("ID token replay: a signed userinfo response issued to another client is refused", async () => {
  const server = createFakeAs();
  const client = { ...server.client, userinfo_signed_response_alg: "ES256" };
  server.override(
    "userinfo",
    server.jwtResponse(
      await server.sign({ iss: server.issuer, aud: "other-client", sub: "user-1" }),
    ),
  );
  const response = await oauth.userInfoRequest(server.as, client, "at", server.options);
  await assertOAuthError(
    () => oauth.processUserInfoResponse(server.as, client, "user-1", response, server.options),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "aud" },
  );
});

Deno.test("ID token replay: the session's own ID token is accepted", async () => {
  const server = createFakeAs();
  const session = newSession();
  const response = await tokenResponse(server, session);
  const result = await oauth.processAuthorizationCodeResponse(server.as, server.client, response, {
    expectedNonce: session.nonce,
  });
  assert.equal(oauth.getValidatedIdTokenClaims(result)?.nonce, session.nonce);
});

Deno.test("ID token substitution (left open, OIDC Core §3.1.3.7 (6)): a token endpoint ID token's signature is checked only on request", async () => {
  const server = createFakeAs();
  const session = newSession();
  const forged = await server.idToken(
    { nonce: session.nonce },
    undefined,
    await generateTestKey("ES256", server.key.kid),
  );
  const response = await tokenResponse(server, session, { id_token: forged });
  // TLS authenticates the token endpoint, so the processor trusts the channel …
  await oauth.processAuthorizationCodeResponse(server.as, server.client, response, {
    expectedNonce: session.nonce,
  });
  // … and an application that wants the signature checked asks for it.
  await assertOAuthError(
    () => oauth.validateApplicationLevelSignature(server.as, response, server.options),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("ID token substitution (left open, OIDC Core §3.1.3.8): a token endpoint ID token's at_hash is not compared", async () => {
  const server = createFakeAs();
  const session = newSession();
  const response = await tokenResponse(server, session, {
    access_token: "the-access-token",
    id_token: await server.idToken({
      nonce: session.nonce,
      at_hash: await halfHash("another-access-token"),
    }),
  });
  const result = await oauth.processAuthorizationCodeResponse(server.as, server.client, response, {
    expectedNonce: session.nonce,
  });
  assert.equal(result.access_token, "the-access-token");
});

Deno.test("ID token replay (left open, OIDC Core §12.2): a refreshed ID token for another subject is not compared with the first", async () => {
  const server = createFakeAs();
  server.override(
    "token",
    await server.tokenBody({ id_token: await server.idToken({ sub: "user-2" }) }),
  );
  const response = await oauth.refreshTokenGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(server.clientSecret),
    "rt",
    server.options,
  );
  const result = await oauth.processRefreshTokenResponse(server.as, server.client, response);
  // The processor has no memory of the first ID token; comparing sub is the application's job.
  assert.equal(oauth.getValidatedIdTokenClaims(result)?.sub, "user-2");
});

Deno.test("ID token replay (left open, OIDC Core §3.1.3.7 (10)): an ID token issued long ago but not expired is accepted", async () => {
  const server = createFakeAs();
  const session = newSession();
  const t = server.now();
  const response = await tokenResponse(server, session, {
    id_token: await server.idToken({ nonce: session.nonce, iat: t - 30 * 86400, exp: t + 60 }),
  });
  // The acceptable iat range is client-specific; exp (and nonce) bound the token here.
  const result = await oauth.processAuthorizationCodeResponse(server.as, server.client, response, {
    expectedNonce: session.nonce,
  });
  assert.equal(oauth.getValidatedIdTokenClaims(result)?.iat, t - 30 * 86400);
});
