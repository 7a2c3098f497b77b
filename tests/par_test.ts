/**
 * Pushed authorization requests (RFC 9126): what is sent where, and every refusal of a response
 * that is not a conform `201 Created` with `request_uri` and `expires_in`.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, json } from "./_fake_as.ts";
import { keys } from "./_keys.ts";

const PARAMS = {
  response_type: "code",
  redirect_uri: "https://app.example/cb",
  scope: "openid",
  code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGeSJRlEXk",
  code_challenge_method: "S256",
};

Deno.test("pushedAuthorizationRequest() posts the parameters and client_id to the PAR endpoint", async () => {
  const server = createFakeAs();
  const auth = oauth.ClientSecretBasic(server.clientSecret);
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    auth,
    PARAMS,
    server.options,
  );
  const result = await oauth.processPushedAuthorizationResponse(server.as, server.client, response);
  assert.match(result.request_uri, /^urn:ietf:params:oauth:request_uri:/);
  assert.equal(result.expires_in, 60);
  const sent = server.lastRequest("par")!;
  assert.equal(sent.method, "POST");
  assert.equal(sent.mtls, false);
  assert.equal(sent.url.href, server.as.pushed_authorization_request_endpoint);
  assert.equal(sent.clientAuth?.method, "client_secret_basic");
  assert.equal(sent.form?.get("client_id"), server.client.client_id);
  for (const [name, value] of Object.entries(PARAMS)) assert.equal(sent.form?.get(name), value);
  assert.equal(sent.headers.get("accept"), "application/json");
  assert.equal(sent.dpop, undefined);
  // The request_uri then stands for the pushed parameters at the authorization endpoint.
  const callback = await server.authorize({
    client_id: server.client.client_id,
    request_uri: result.request_uri,
  });
  assert.ok(callback.searchParams.get("code"));
});

Deno.test("pushedAuthorizationRequest() refuses a request_uri parameter before any request", async () => {
  const server = createFakeAs();
  await assertTypeError(
    () =>
      oauth.pushedAuthorizationRequest(
        server.as,
        server.client,
        oauth.None(),
        { ...PARAMS, request_uri: "urn:example:1" },
        server.options,
      ),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("pushedAuthorizationRequest() refuses metadata without a PAR endpoint before any request", async () => {
  const server = createFakeAs({
    metadata: { pushed_authorization_request_endpoint: undefined },
  });
  await assertOAuthError(
    () =>
      oauth.pushedAuthorizationRequest(
        server.as,
        server.client,
        oauth.None(),
        PARAMS,
        server.options,
      ),
    oauth.OperationProcessingError,
    oauth.MISSING_SERVER_METADATA,
    { attribute: "pushed_authorization_request_endpoint" },
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("pushedAuthorizationRequest() refuses an http: PAR endpoint unless insecure requests are allowed", async () => {
  const server = createFakeAs({ issuer: "http://as.example" });
  await assertOAuthError(
    () =>
      oauth.pushedAuthorizationRequest(
        server.as,
        server.client,
        oauth.None(),
        PARAMS,
        server.options,
      ),
    oauth.OperationProcessingError,
    oauth.HTTP_REQUEST_FORBIDDEN,
  );
  assert.equal(server.requests.length, 0);
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    oauth.None(),
    PARAMS,
    { ...server.options, [oauth.allowInsecureRequests]: true },
  );
  assert.equal(response.status, 201);
  await response.body?.cancel();
});

Deno.test("pushedAuthorizationRequest() uses the mTLS alias when the client asks for mTLS endpoint aliases", async () => {
  const server = createFakeAs();
  const client: oauth.Client = { ...server.client, use_mtls_endpoint_aliases: true };
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    client,
    oauth.TlsClientAuth(),
    PARAMS,
    server.options,
  );
  await oauth.processPushedAuthorizationResponse(server.as, client, response);
  const sent = server.lastRequest("par")!;
  assert.equal(sent.mtls, true);
  assert.equal(
    sent.url.href,
    server.as.mtls_endpoint_aliases.pushed_authorization_request_endpoint,
  );
  assert.equal(sent.form?.get("client_id"), client.client_id);
});

Deno.test("pushedAuthorizationRequest() uses the plain endpoint when the client does not ask for mTLS aliases", async () => {
  const server = createFakeAs();
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    { ...server.client, use_mtls_endpoint_aliases: false },
    oauth.ClientSecretPost(server.clientSecret),
    PARAMS,
    server.options,
  );
  assert.equal(response.status, 201);
  await response.body?.cancel();
  assert.equal(server.lastRequest("par")!.mtls, false);
});

Deno.test("pushedAuthorizationRequest() sends a DPoP proof for the PAR endpoint when given a DPoP handle", async () => {
  const server = createFakeAs();
  const DPoP = oauth.DPoP(server.client, {
    privateKey: keys.ES256.privateKey,
    publicKey: keys.ES256.publicKey,
  });
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(server.clientSecret),
    PARAMS,
    { ...server.options, DPoP },
  );
  // The fake server verifies the proof (RFC 9449 §4.3) and would answer 400 if it were wrong.
  await oauth.processPushedAuthorizationResponse(server.as, server.client, response);
  const proof = server.lastRequest("par")!.dpop!;
  assert.equal(proof.header?.typ, "dpop+jwt");
  assert.equal(proof.claims?.htm, "POST");
  assert.equal(proof.claims?.htu, server.as.pushed_authorization_request_endpoint);
  assert.equal(server.lastRequest("par")!.form?.has("dpop_jkt"), false);
});

Deno.test("pushedAuthorizationRequest() sends the DPoP nonce learnt from a use_dpop_nonce error on the next request", async () => {
  const server = createFakeAs();
  server.dpopNonce = "nonce-1";
  const DPoP = oauth.DPoP(server.client, {
    privateKey: keys.ES256.privateKey,
    publicKey: keys.ES256.publicKey,
  });
  const first = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    oauth.None(),
    PARAMS,
    { ...server.options, DPoP },
  );
  const err = await assertOAuthError(
    () => oauth.processPushedAuthorizationResponse(server.as, server.client, first),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.error, "use_dpop_nonce");
  const second = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    oauth.None(),
    PARAMS,
    { ...server.options, DPoP },
  );
  await oauth.processPushedAuthorizationResponse(server.as, server.client, second);
  assert.equal(server.lastRequest("par")!.dpop?.claims?.nonce, "nonce-1");
});

Deno.test("processPushedAuthorizationResponse() refuses a 200 where RFC 9126 §2.2 requires 201", async () => {
  const server = createFakeAs();
  server.override("par", json({ request_uri: "urn:example:1", expires_in: 60 }, 200));
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    oauth.None(),
    PARAMS,
    server.options,
  );
  await assertOAuthError(
    () => oauth.processPushedAuthorizationResponse(server.as, server.client, response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_CONFORM,
    { status: 200, expected: 201 },
  );
});

Deno.test("processPushedAuthorizationResponse() turns an OAuth 2.0 error body into ResponseBodyError", async () => {
  const server = createFakeAs();
  server.override("par", server.oauthError("invalid_request", "bad scope"));
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    oauth.None(),
    PARAMS,
    server.options,
  );
  const err = await assertOAuthError(
    () => oauth.processPushedAuthorizationResponse(server.as, server.client, response),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
    { error: "invalid_request" },
  );
  assert.equal(err.status, 400);
  assert.equal(err.error_description, "bad scope");
});

Deno.test("processPushedAuthorizationResponse() turns a WWW-Authenticate challenge into WWWAuthenticateChallengeError", async () => {
  const server = createFakeAs();
  server.override("par", server.challenge('Basic realm="as"'));
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    oauth.None(),
    PARAMS,
    server.options,
  );
  const err = await assertOAuthError(
    () => oauth.processPushedAuthorizationResponse(server.as, server.client, response),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(err.cause[0]?.scheme, "basic");
});

Deno.test("processPushedAuthorizationResponse() refuses a body that is not JSON", async () => {
  const server = createFakeAs();
  server.override(
    "par",
    new Response("request_uri=urn:x", {
      status: 201,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }),
  );
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    oauth.None(),
    PARAMS,
    server.options,
  );
  await assertOAuthError(
    () => oauth.processPushedAuthorizationResponse(server.as, server.client, response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_JSON,
  );
});

const BAD_BODIES: [string, Record<string, unknown>, string][] = [
  ["a missing request_uri", { expires_in: 60 }, "request_uri"],
  ["an empty request_uri", { request_uri: "", expires_in: 60 }, "request_uri"],
  ["a numeric request_uri", { request_uri: 1, expires_in: 60 }, "request_uri"],
  ["a missing expires_in", { request_uri: "urn:example:1" }, "expires_in"],
  ["a zero expires_in", { request_uri: "urn:example:1", expires_in: 0 }, "expires_in"],
  ["a negative expires_in", { request_uri: "urn:example:1", expires_in: -5 }, "expires_in"],
  ["a string expires_in", { request_uri: "urn:example:1", expires_in: "60" }, "expires_in"],
];

for (const [what, body, attribute] of BAD_BODIES) {
  Deno.test(`processPushedAuthorizationResponse() refuses ${what}`, async () => {
    const server = createFakeAs();
    server.override("par", json(body, 201));
    const response = await oauth.pushedAuthorizationRequest(
      server.as,
      server.client,
      oauth.None(),
      PARAMS,
      server.options,
    );
    await assertOAuthError(
      () => oauth.processPushedAuthorizationResponse(server.as, server.client, response),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute },
    );
  });
}

Deno.test("processPushedAuthorizationResponse() keeps extra members of a conform response", async () => {
  const server = createFakeAs();
  server.override("par", json({ request_uri: "urn:example:1", expires_in: 90, extra: "x" }, 201));
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    oauth.None(),
    PARAMS,
    server.options,
  );
  const result = await oauth.processPushedAuthorizationResponse(server.as, server.client, response);
  assert.deepEqual(result, { request_uri: "urn:example:1", expires_in: 90, extra: "x" });
});

Deno.test("processPushedAuthorizationResponse() refuses a response whose body was already read", async () => {
  const response = json({ request_uri: "urn:example:1", expires_in: 60 }, 201);
  await response.text();
  await assertTypeError(
    () =>
      oauth.processPushedAuthorizationResponse(
        { issuer: "https://as.example" },
        { client_id: "client" },
        response,
      ),
    "ERR_INVALID_ARG_VALUE",
  );
});
