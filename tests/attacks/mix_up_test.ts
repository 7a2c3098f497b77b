/**
 * Attack family: mix-up (RFC 9700 §4.4). Two authorization servers, an honest one and an attacker,
 * and a client registered at both. The attacker tries to get a response of one server accepted as
 * the other's, so that a code, an ID token or metadata crosses over.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { createFakeAs, type FakeAs } from "../_fake_as.ts";
import { generateTestKey } from "../_keys.ts";
import { authorize, newSession, redeem, REDIRECT_URI, routeByOrigin } from "./_attack.ts";

/** The honest server and the attacker, each with its own signing key. */
async function pair(): Promise<{ honest: FakeAs; attacker: FakeAs }> {
  const honest = createFakeAs({ issuer: "https://honest.example" });
  const attacker = createFakeAs({
    issuer: "https://attacker.example",
    keys: [await generateTestKey("ES256", "es256")], // same kid as the honest key, other key
  });
  return { honest, attacker };
}

function tokenRequests(...servers: FakeAs[]): number {
  return servers.reduce((n, s) => n + s.requestsTo("token").length, 0);
}

Deno.test("mix-up: an honest server's code is refused by the iss check when the client thinks it talks to the attacker", async () => {
  const { honest, attacker } = await pair();
  // The client started a flow with the attacker's server; the attacker redirected the user to the
  // honest server, which answers with its own code and iss.
  const session = newSession();
  const callback = await authorize(honest, session);
  assert.equal(callback.searchParams.get("iss"), honest.issuer);
  await assertOAuthError(
    () => oauth.validateAuthResponse(attacker.as, attacker.client, callback, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: attacker.issuer },
  );
  assert.equal(tokenRequests(honest, attacker), 0, "the code never reaches any token endpoint");
});

Deno.test("mix-up: a code from a second server is refused by the iss check", async () => {
  const { honest, attacker } = await pair();
  const session = newSession();
  const callback = await authorize(attacker, session);
  await assertOAuthError(
    () => oauth.validateAuthResponse(honest.as, honest.client, callback, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: honest.issuer },
  );
  assert.equal(tokenRequests(honest, attacker), 0);
});

Deno.test("mix-up: a response stripped of iss is refused when the server advertises RFC 9207", async () => {
  const { honest, attacker } = await pair();
  const session = newSession();
  const callback = await authorize(attacker, session);
  callback.searchParams.delete("iss");
  assert.equal(honest.as.authorization_response_iss_parameter_supported, true);
  await assertOAuthError(
    () => oauth.validateAuthResponse(honest.as, honest.client, callback, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: honest.issuer },
  );
});

Deno.test("mix-up: an error response from a second server is refused before it is reported as the server's error", async () => {
  const { honest, attacker } = await pair();
  const session = newSession();
  const callback = new URL(REDIRECT_URI);
  callback.searchParams.set("error", "access_denied");
  callback.searchParams.set("state", session.state);
  callback.searchParams.set("iss", attacker.issuer);
  const err = await assertOAuthError(
    () => oauth.validateAuthResponse(honest.as, honest.client, callback, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.ok(!(err instanceof oauth.AuthorizationResponseError));
});

Deno.test("mix-up: an iss differing from the issuer only by a trailing slash is refused (RFC 9207 §2.4 exact comparison)", async () => {
  const { honest } = await pair();
  const session = newSession();
  const callback = await authorize(honest, session);
  callback.searchParams.set("iss", `${honest.issuer}/`);
  await assertOAuthError(
    () => oauth.validateAuthResponse(honest.as, honest.client, callback, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("mix-up: a repeated iss whose first value is the attacker's is refused", async () => {
  const { honest, attacker } = await pair();
  const session = newSession();
  const callback = await authorize(honest, session);
  callback.searchParams.delete("iss");
  callback.searchParams.append("iss", attacker.issuer);
  callback.searchParams.append("iss", honest.issuer);
  await assertOAuthError(
    () => oauth.validateAuthResponse(honest.as, honest.client, callback, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { parameter: "iss" },
  );
});

Deno.test("mix-up: issuer-bound state sends the code only to the token endpoint of the server the state was issued for", async () => {
  const { honest, attacker } = await pair();
  // The client bound its state to the honest issuer. An attacker that forges the honest iss gets
  // past the front channel, but the code still goes to the honest token endpoint only.
  const session = newSession();
  const callback = await authorize(attacker, session);
  callback.searchParams.set("iss", honest.issuer);
  const params = oauth.validateAuthResponse(honest.as, honest.client, callback, session.state);
  const fetch = routeByOrigin(honest, attacker);
  const response = await redeem(honest, params, session.verifier, { [oauth.customFetch]: fetch });
  await response.body?.cancel();
  assert.equal(honest.requestsTo("token").length, 1);
  assert.equal(attacker.requests.length, 1, "only the attacker's own authorization request");
  assert.equal(attacker.requestsTo("token").length, 0);
});

Deno.test("mix-up: a JARM response signed by a second server is refused", async () => {
  const { honest, attacker } = await pair();
  const session = newSession();
  const callback = await authorize(attacker, session, { response_mode: "jwt" });
  await assertOAuthError(
    () =>
      oauth.validateJwtAuthResponse(honest.as, honest.client, callback, session.state, {
        [oauth.customFetch]: routeByOrigin(honest, attacker),
      }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.equal(attacker.requestsTo("jwks").length, 0, "the attacker's keys are never fetched");
});

Deno.test("mix-up: a JARM response forging the honest iss is refused by its signature", async () => {
  const { honest, attacker } = await pair();
  const session = newSession();
  const jwt = await attacker.sign({
    iss: honest.issuer,
    aud: honest.client.client_id,
    exp: attacker.now() + 60,
    code: "stolen",
    state: session.state,
  });
  const callback = new URL(REDIRECT_URI);
  callback.searchParams.set("response", jwt);
  await assertOAuthError(
    () =>
      oauth.validateJwtAuthResponse(honest.as, honest.client, callback, session.state, {
        [oauth.customFetch]: routeByOrigin(honest, attacker),
      }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("mix-up: a JARM response of the honest server validates against the honest server", async () => {
  const { honest } = await pair();
  const session = newSession();
  const callback = await authorize(honest, session, { response_mode: "jwt" });
  const params = await oauth.validateJwtAuthResponse(
    honest.as,
    honest.client,
    callback,
    session.state,
    honest.options,
  );
  assert.equal(params.get("iss"), honest.issuer);
});

Deno.test("mix-up: an ID token issued by a second server is refused by the iss claim", async () => {
  const { honest, attacker } = await pair();
  const session = newSession();
  const callback = await authorize(honest, session);
  const params = oauth.validateAuthResponse(honest.as, honest.client, callback, session.state);
  honest.override("token", await honest.tokenBody({ id_token: await attacker.idToken() }));
  const response = await redeem(honest, params, session.verifier);
  await assertOAuthError(
    () => oauth.processAuthorizationCodeResponse(honest.as, honest.client, response),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss", expected: honest.issuer },
  );
});

Deno.test("mix-up: a hybrid response carrying a second server's ID token is refused", async () => {
  const { honest, attacker } = await pair();
  const session = newSession();
  const code = "code-from-attacker";
  const params = new URLSearchParams({
    code,
    state: session.state,
    id_token: await attacker.idToken({ nonce: session.nonce, c_hash: "irrelevant" }),
  });
  await assertOAuthError(
    () =>
      oauth.validateCodeIdTokenResponse(
        honest.as,
        honest.client,
        params,
        session.nonce,
        session.state,
        undefined,
        { [oauth.customFetch]: routeByOrigin(honest, attacker) },
      ),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss" },
  );
});

Deno.test("mix-up: metadata naming a second issuer is refused at discovery", async () => {
  const { honest, attacker } = await pair();
  const response = await oauth.discoveryRequest(new URL(honest.issuer), {
    [oauth.customFetch]: (url, init) =>
      attacker.fetch(url.replace(honest.issuer, attacker.issuer), init),
  });
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(new URL(honest.issuer), response),
    oauth.OperationProcessingError,
    oauth.JSON_ATTRIBUTE_COMPARISON,
  );
});

Deno.test("mix-up: the honest server's own response passes every check", async () => {
  const { honest } = await pair();
  const session = newSession();
  const callback = await authorize(honest, session);
  const params = oauth.validateAuthResponse(honest.as, honest.client, callback, session.state);
  const response = await redeem(honest, params, session.verifier);
  const result = await oauth.processAuthorizationCodeResponse(honest.as, honest.client, response, {
    expectedNonce: session.nonce,
  });
  assert.equal(oauth.getValidatedIdTokenClaims(result)?.iss, honest.issuer);
});

Deno.test("mix-up (left open, RFC 9700 §4.4.2.2): without RFC 9207 support a response lacking iss is accepted", async () => {
  // oauth4webapi semantics: with no iss parameter and no advertisement there is nothing to
  // compare; RFC 9700 §4.4.2.2 leaves the defence to distinct redirect URIs per server.
  const honest = createFakeAs({
    issuer: "https://legacy.example",
    metadata: { authorization_response_iss_parameter_supported: undefined },
  });
  const session = newSession();
  const callback = await authorize(honest, session);
  callback.searchParams.delete("iss");
  const params = oauth.validateAuthResponse(honest.as, honest.client, callback, session.state);
  assert.ok(params.has("code"));
});
