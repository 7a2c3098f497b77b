/**
 * Attack family: authorization code injection and PKCE downgrade (RFC 9700 §4.5, §2.1.1; RFC 7636
 * §4.6). A stolen or attacker-obtained code is pushed into the victim's flow; PKCE binds the code
 * to the session that asked for it, so the client must always send its verifier (unless told
 * `nopkce`) and let no caller-supplied parameter replace it.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "../_assert.ts";
import { createFakeAs } from "../_fake_as.ts";
import { authorize, newSession, redeem, REDIRECT_URI } from "./_attack.ts";

Deno.test("code injection: a code obtained in another session is refused because the victim's verifier does not match its challenge", async () => {
  const server = createFakeAs();
  const attacker = newSession();
  const victim = newSession();
  const stolen = await authorize(server, attacker);
  // The attacker plants the code in the victim's callback, state included.
  stolen.searchParams.set("state", victim.state);
  const params = oauth.validateAuthResponse(server.as, server.client, stolen, victim.state);
  const response = await redeem(server, params, victim.verifier);
  const err = await assertOAuthError(
    () => oauth.processAuthorizationCodeResponse(server.as, server.client, response),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
    { error: "invalid_grant" },
  );
  assert.equal(err.status, 400);
  assert.equal(server.lastRequest("token")?.form?.get("code_verifier"), victim.verifier);
});

Deno.test("PKCE downgrade: the client always sends its code verifier with the code", async () => {
  const server = createFakeAs();
  const session = newSession();
  const params = oauth.validateAuthResponse(
    server.as,
    server.client,
    await authorize(server, session),
    session.state,
  );
  const response = await redeem(server, params, session.verifier);
  await oauth.processAuthorizationCodeResponse(server.as, server.client, response, {
    expectedNonce: session.nonce,
  });
  assert.deepEqual(server.lastRequest("token")?.form?.getAll("code_verifier"), [session.verifier]);
});

Deno.test("PKCE downgrade: additionalParameters cannot replace the code verifier, the code or the redirect URI", async () => {
  const server = createFakeAs();
  const session = newSession();
  const params = oauth.validateAuthResponse(
    server.as,
    server.client,
    await authorize(server, session),
    session.state,
  );
  const response = await redeem(server, params, session.verifier, {
    additionalParameters: [
      ["code_verifier", oauth.generateRandomCodeVerifier()],
      ["code", "injected-code"],
      ["redirect_uri", "https://attacker.example/cb"],
      ["grant_type", "client_credentials"],
    ],
  });
  await response.body?.cancel();
  const form = server.lastRequest("token")!.form!;
  assert.deepEqual(form.getAll("code_verifier"), [session.verifier]);
  assert.deepEqual(form.getAll("code"), [params.get("code")]);
  assert.deepEqual(form.getAll("redirect_uri"), [REDIRECT_URI]);
  assert.deepEqual(form.getAll("grant_type"), ["authorization_code"]);
});

Deno.test("PKCE downgrade: the verifier is left out only when nopkce is passed", async () => {
  const server = createFakeAs();
  const session = newSession();
  const callback = await server.authorize({
    response_type: "code",
    client_id: server.client.client_id,
    redirect_uri: REDIRECT_URI,
    state: session.state,
  });
  const params = oauth.validateAuthResponse(server.as, server.client, callback, session.state);
  const response = await redeem(server, params, oauth.nopkce);
  await oauth.processAuthorizationCodeResponse(server.as, server.client, response);
  assert.equal(server.lastRequest("token")?.form?.has("code_verifier"), false);
});

Deno.test("PKCE downgrade: an empty or missing code verifier is refused before any request", async () => {
  const server = createFakeAs();
  const session = newSession();
  const params = oauth.validateAuthResponse(
    server.as,
    server.client,
    await authorize(server, session),
    session.state,
  );
  for (const verifier of ["", undefined, null, 42]) {
    await assertTypeError(
      // @ts-expect-error: a verifier lost on the way
      () => redeem(server, params, verifier),
      verifier === "" ? "ERR_INVALID_ARG_VALUE" : "ERR_INVALID_ARG_TYPE",
    );
  }
  assert.equal(server.requestsTo("token").length, 0);
});

Deno.test("PKCE downgrade: a code whose challenge was stripped from the authorization request is refused at the token endpoint", async () => {
  // RFC 9700 §2.1.1: a server that receives a verifier for a code issued without a challenge
  // refuses it, so an attacker who strips code_challenge gains nothing.
  const server = createFakeAs();
  const session = newSession();
  const callback = await server.authorize({
    response_type: "code",
    client_id: server.client.client_id,
    redirect_uri: REDIRECT_URI,
    state: session.state,
  });
  const params = oauth.validateAuthResponse(server.as, server.client, callback, session.state);
  const response = await redeem(server, params, session.verifier);
  await assertOAuthError(
    () => oauth.processAuthorizationCodeResponse(server.as, server.client, response),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
    { error: "invalid_grant" },
  );
});

Deno.test("code injection: callback parameters that skipped validateAuthResponse are refused before any request", async () => {
  const server = createFakeAs();
  const session = newSession();
  const callback = await authorize(server, session);
  const validated = oauth.validateAuthResponse(server.as, server.client, callback, session.state);
  for (
    const forged of [
      callback.searchParams,
      new URLSearchParams({ code: "injected", state: session.state, iss: server.issuer }),
      new URLSearchParams(validated),
    ]
  ) {
    await assertTypeError(
      () => redeem(server, forged, session.verifier),
      "ERR_INVALID_ARG_VALUE",
    );
  }
  assert.equal(server.requestsTo("token").length, 0);
});

Deno.test("code injection: a replayed code is refused by the server on its second use", async () => {
  const server = createFakeAs();
  const session = newSession();
  const params = oauth.validateAuthResponse(
    server.as,
    server.client,
    await authorize(server, session),
    session.state,
  );
  const first = await redeem(server, params, session.verifier);
  await oauth.processAuthorizationCodeResponse(server.as, server.client, first, {
    expectedNonce: session.nonce,
  });
  const replay = await redeem(server, params, session.verifier);
  await assertOAuthError(
    () =>
      oauth.processAuthorizationCodeResponse(server.as, server.client, replay, {
        expectedNonce: session.nonce,
      }),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
    { error: "invalid_grant" },
  );
});

Deno.test("code injection: a code redeemed with another redirect URI is refused by the server", async () => {
  const server = createFakeAs();
  const session = newSession();
  const params = oauth.validateAuthResponse(
    server.as,
    server.client,
    await authorize(server, session),
    session.state,
  );
  const response = await oauth.authorizationCodeGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(server.clientSecret),
    params,
    "https://app.example/other",
    session.verifier,
    server.options,
  );
  await assertOAuthError(
    () => oauth.processAuthorizationCodeResponse(server.as, server.client, response),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
    { error: "invalid_grant" },
  );
});

Deno.test("PKCE: calculatePKCECodeChallenge() refuses verifiers outside RFC 7636 §4.1 instead of hashing them", async () => {
  for (
    const verifier of [
      "short",
      "a".repeat(42),
      "a".repeat(129),
      `${"a".repeat(43)} `,
      "é".repeat(43),
    ]
  ) {
    await assertTypeError(
      () => oauth.calculatePKCECodeChallenge(verifier),
      "ERR_INVALID_ARG_VALUE",
    );
  }
});

Deno.test("PKCE: the challenge is S256 of the verifier (RFC 7636 Appendix B)", async () => {
  assert.equal(
    await oauth.calculatePKCECodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
});

Deno.test("PKCE: generated verifiers carry 256 bits in 43 unreserved characters and never repeat", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const verifier = oauth.generateRandomCodeVerifier();
    assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
    seen.add(verifier);
  }
  assert.equal(seen.size, 200);
});
