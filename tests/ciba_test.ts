// OpenID Connect CIBA (poll mode): the backchannel authentication request, the checks of its
// acknowledgement, the CIBA grant and its response, which must carry a valid ID token.

import assert from "node:assert/strict";
import {
  backchannelAuthenticationGrantRequest,
  backchannelAuthenticationRequest,
  ClientSecretBasic,
  ClientSecretPost,
  getValidatedIdTokenClaims,
  INVALID_RESPONSE,
  JWT_CLAIM_COMPARISON,
  JWT_TIMESTAMP_CHECK,
  MISSING_SERVER_METADATA,
  OperationProcessingError,
  processBackchannelAuthenticationGrantResponse,
  processBackchannelAuthenticationResponse,
  RESPONSE_BODY_ERROR,
  RESPONSE_IS_NOT_CONFORM,
  ResponseBodyError,
  TlsClientAuth,
  WWW_AUTHENTICATE_CHALLENGE,
  WWWAuthenticateChallengeError,
} from "@authlane/oauth";
import { createFakeAs, type FakeAs, startFakeAs } from "./_fake_as.ts";
import { assertOAuthError, assertTypeError } from "./_assert.ts";

const CIBA_GRANT = "urn:openid:params:grant-type:ciba";
const HINT = { scope: "openid", login_hint: "alice@example.com" };

function setup(options?: Parameters<typeof createFakeAs>[0]) {
  const server = createFakeAs(options);
  return { server, auth: ClientSecretBasic(server.clientSecret) };
}

function ackBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    auth_req_id: "1c266114-a1be-4252-8ad1-04986c5b9ac1",
    expires_in: 120,
    interval: 2,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete body[name];
    else body[name] = value;
  }
  return body;
}

async function ack(server: FakeAs): Promise<Response> {
  return await backchannelAuthenticationRequest(
    server.as,
    server.client,
    ClientSecretBasic(server.clientSecret),
    HINT,
    server.options,
  );
}

async function grant(server: FakeAs): Promise<Response> {
  return await backchannelAuthenticationGrantRequest(
    server.as,
    server.client,
    ClientSecretBasic(server.clientSecret),
    "req-1",
    server.options,
  );
}

// -- backchannelAuthenticationRequest ---------------------------------------------------------

Deno.test("backchannelAuthenticationRequest() posts the parameters with client authentication to the backchannel endpoint", async () => {
  const { server } = setup();
  const response = await backchannelAuthenticationRequest(
    server.as,
    server.client,
    ClientSecretPost(server.clientSecret),
    { ...HINT, binding_message: "W4SCT" },
    server.options,
  );
  await response.body?.cancel();
  const request = server.lastRequest("backchannel")!;
  assert.equal(request.method, "POST");
  assert.equal(request.url.href, server.as.backchannel_authentication_endpoint);
  assert.equal(request.mtls, false);
  assert.equal(request.form?.get("scope"), "openid");
  assert.equal(request.form?.get("login_hint"), "alice@example.com");
  assert.equal(request.form?.get("binding_message"), "W4SCT");
  assert.equal(request.clientAuth?.method, "client_secret_post");
  assert.equal(request.headers.get("accept"), "application/json");
});

Deno.test("backchannelAuthenticationRequest() uses the mTLS alias when the client uses mtls_endpoint_aliases", async () => {
  const { server } = setup({ client: { client_id: "client", use_mtls_endpoint_aliases: true } });
  const response = await backchannelAuthenticationRequest(
    server.as,
    server.client,
    TlsClientAuth(),
    HINT,
    server.options,
  );
  await response.body?.cancel();
  const request = server.lastRequest("backchannel")!;
  assert.equal(request.mtls, true);
  assert.equal(
    request.url.href,
    server.as.mtls_endpoint_aliases.backchannel_authentication_endpoint,
  );
});

Deno.test("backchannelAuthenticationRequest() refuses a server without a backchannel endpoint before any request", async () => {
  const { server, auth } = setup({
    metadata: { backchannel_authentication_endpoint: undefined },
  });
  await assertOAuthError(
    () => backchannelAuthenticationRequest(server.as, server.client, auth, HINT, server.options),
    OperationProcessingError,
    MISSING_SERVER_METADATA,
    { attribute: "backchannel_authentication_endpoint" },
  );
  assert.equal(server.requests.length, 0);
});

// -- processBackchannelAuthenticationResponse -------------------------------------------------

Deno.test("processBackchannelAuthenticationResponse() returns the fake server's acknowledgement", async () => {
  const { server } = setup();
  const result = await processBackchannelAuthenticationResponse(
    server.as,
    server.client,
    await ack(server),
  );
  assert.equal(typeof result.auth_req_id, "string");
  assert.equal(result.expires_in, 120);
  assert.equal(result.interval, undefined);
});

Deno.test("processBackchannelAuthenticationResponse() accepts an interval and extra members", async () => {
  const { server } = setup();
  server.override("backchannel", ackBody({ interval: 7, extra: true }));
  const result = await processBackchannelAuthenticationResponse(
    server.as,
    server.client,
    await ack(server),
  );
  assert.equal(result.interval, 7);
  assert.equal(result.extra, true);
});

const INVALID_ACKS: [string, Record<string, unknown>, string][] = [
  ["a missing auth_req_id", { auth_req_id: undefined }, "auth_req_id"],
  ["an empty auth_req_id", { auth_req_id: "" }, "auth_req_id"],
  ["a numeric auth_req_id", { auth_req_id: 1 }, "auth_req_id"],
  ["a missing expires_in", { expires_in: undefined }, "expires_in"],
  ["a zero expires_in", { expires_in: 0 }, "expires_in"],
  ["a negative expires_in", { expires_in: -120 }, "expires_in"],
  ["a string expires_in", { expires_in: "120" }, "expires_in"],
  ["a zero interval", { interval: 0 }, "interval"],
  ["a string interval", { interval: "2" }, "interval"],
];

for (const [what, overrides, attribute] of INVALID_ACKS) {
  Deno.test(`processBackchannelAuthenticationResponse() refuses ${what}`, async () => {
    const { server } = setup();
    server.override("backchannel", ackBody(overrides));
    const err = await assertOAuthError(
      async () =>
        processBackchannelAuthenticationResponse(server.as, server.client, await ack(server)),
      OperationProcessingError,
      INVALID_RESPONSE,
      { attribute },
    );
    // auth_req_id is a credential at the token endpoint: it never reaches an error's cause
    const body = (err.cause as { body: Record<string, unknown> }).body;
    if (typeof ackBody(overrides).auth_req_id === "string") {
      assert.equal(body.auth_req_id, "[redacted]");
    }
  });
}

Deno.test("processBackchannelAuthenticationResponse() reports the server's refusal of a request without a hint", async () => {
  const { server, auth } = setup();
  const response = await backchannelAuthenticationRequest(
    server.as,
    server.client,
    auth,
    { scope: "openid" },
    server.options,
  );
  const err = await assertOAuthError(
    () => processBackchannelAuthenticationResponse(server.as, server.client, response),
    ResponseBodyError,
    RESPONSE_BODY_ERROR,
    { error: "invalid_request" },
  );
  assert.equal(err.status, 400);
});

Deno.test("processBackchannelAuthenticationResponse() refuses a 201 status", async () => {
  const { server } = setup();
  server.override("backchannel", server.json(ackBody(), 201));
  await assertOAuthError(
    async () =>
      processBackchannelAuthenticationResponse(server.as, server.client, await ack(server)),
    OperationProcessingError,
    RESPONSE_IS_NOT_CONFORM,
    { status: 201, expected: 200 },
  );
});

Deno.test("processBackchannelAuthenticationResponse() reports a challenge for wrong client credentials", async () => {
  const server = createFakeAs();
  const response = await backchannelAuthenticationRequest(
    server.as,
    server.client,
    ClientSecretBasic("wrong"),
    HINT,
    server.options,
  );
  await assertOAuthError(
    () => processBackchannelAuthenticationResponse(server.as, server.client, response),
    WWWAuthenticateChallengeError,
    WWW_AUTHENTICATE_CHALLENGE,
  );
});

// -- backchannelAuthenticationGrantRequest / processBackchannelAuthenticationGrantResponse ------

Deno.test("backchannelAuthenticationGrantRequest() sends the CIBA grant with the auth_req_id", async () => {
  const { server, auth } = setup();
  const response = await backchannelAuthenticationGrantRequest(
    server.as,
    server.client,
    auth,
    "req-1",
    { ...server.options, additionalParameters: { auth_req_id: "smuggled" } },
  );
  await response.body?.cancel();
  const request = server.lastRequest("token")!;
  assert.equal(request.url.href, server.as.token_endpoint);
  assert.equal(request.form?.get("grant_type"), CIBA_GRANT);
  assert.deepEqual(request.form?.getAll("auth_req_id"), ["req-1"]);
  assert.equal(request.clientAuth?.method, "client_secret_basic");
});

Deno.test("backchannelAuthenticationGrantRequest() uses the token endpoint's mTLS alias when the client uses mtls_endpoint_aliases", async () => {
  const { server } = setup({ client: { client_id: "client", use_mtls_endpoint_aliases: true } });
  const response = await backchannelAuthenticationGrantRequest(
    server.as,
    server.client,
    TlsClientAuth(),
    "req-1",
    server.options,
  );
  await response.body?.cancel();
  assert.equal(server.lastRequest("token")?.mtls, true);
});

Deno.test("backchannelAuthenticationGrantRequest() refuses an empty auth_req_id before any request", async () => {
  const { server, auth } = setup();
  await assertTypeError(
    () => backchannelAuthenticationGrantRequest(server.as, server.client, auth, "", server.options),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("processBackchannelAuthenticationGrantResponse() returns the tokens and the validated ID token claims", async () => {
  const { server } = setup();
  const result = await processBackchannelAuthenticationGrantResponse(
    server.as,
    server.client,
    await grant(server),
  );
  assert.equal(typeof result.access_token, "string");
  assert.equal(result.token_type, "bearer");
  const claims = getValidatedIdTokenClaims(result);
  assert.equal(claims?.sub, "user-1");
  assert.equal(claims?.iss, server.issuer);
});

Deno.test("processBackchannelAuthenticationGrantResponse() refuses a token response without an ID token", async () => {
  const { server } = setup();
  server.override("token", await server.tokenBody({ id_token: undefined }));
  const err = await assertOAuthError(
    async () =>
      processBackchannelAuthenticationGrantResponse(server.as, server.client, await grant(server)),
    OperationProcessingError,
    INVALID_RESPONSE,
    { attribute: "id_token" },
  );
  // the access token that did come back is not echoed in the error
  const body = (err.cause as { body: Record<string, unknown> }).body;
  assert.equal(body.access_token, "[redacted]");
});

Deno.test("processBackchannelAuthenticationGrantResponse() refuses an ID token issued to another client", async () => {
  const { server } = setup();
  server.override(
    "token",
    await server.tokenBody({ id_token: await server.idToken({ aud: "other" }) }),
  );
  await assertOAuthError(
    async () =>
      processBackchannelAuthenticationGrantResponse(server.as, server.client, await grant(server)),
    OperationProcessingError,
    JWT_CLAIM_COMPARISON,
    { claim: "aud", expected: "client" },
  );
});

Deno.test("processBackchannelAuthenticationGrantResponse() refuses an expired ID token", async () => {
  const { server } = setup();
  const t = server.now();
  server.override(
    "token",
    await server.tokenBody({ id_token: await server.idToken({ iat: t - 600, exp: t - 300 }) }),
  );
  await assertOAuthError(
    async () =>
      processBackchannelAuthenticationGrantResponse(server.as, server.client, await grant(server)),
    OperationProcessingError,
    JWT_TIMESTAMP_CHECK,
    { claim: "exp" },
  );
});

for (const error of ["authorization_pending", "slow_down", "expired_token", "access_denied"]) {
  Deno.test(`processBackchannelAuthenticationGrantResponse() throws ResponseBodyError with error ${error} while polling`, async () => {
    const { server } = setup();
    server.override("token", server.oauthError(error));
    const err = await assertOAuthError(
      async () =>
        processBackchannelAuthenticationGrantResponse(
          server.as,
          server.client,
          await grant(server),
        ),
      ResponseBodyError,
      RESPONSE_BODY_ERROR,
      { error },
    );
    assert.equal(err.error, error);
  });
}

// -- over a socket ----------------------------------------------------------------------------

Deno.test("CIBA poll mode: acknowledgement, one slow_down, then tokens with an ID token over a loopback socket", async () => {
  await using server = await startFakeAs();
  const auth = ClientSecretBasic(server.clientSecret);
  const { auth_req_id } = await processBackchannelAuthenticationResponse(
    server.as,
    server.client,
    await backchannelAuthenticationRequest(server.as, server.client, auth, HINT, server.options),
  );
  server.overrideOnce("token", server.oauthError("slow_down"));
  const slow = await backchannelAuthenticationGrantRequest(
    server.as,
    server.client,
    auth,
    auth_req_id,
    server.options,
  );
  await assertOAuthError(
    () => processBackchannelAuthenticationGrantResponse(server.as, server.client, slow),
    ResponseBodyError,
    RESPONSE_BODY_ERROR,
    { error: "slow_down" },
  );
  const granted = await backchannelAuthenticationGrantRequest(
    server.as,
    server.client,
    auth,
    auth_req_id,
    server.options,
  );
  const result = await processBackchannelAuthenticationGrantResponse(
    server.as,
    server.client,
    granted,
  );
  assert.equal(getValidatedIdTokenClaims(result)?.aud, "client");
  assert.equal(server.lastRequest("token")?.form?.get("auth_req_id"), auth_req_id);
});
