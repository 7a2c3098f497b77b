// RFC 7009 token revocation: what the request carries, and that only a 200 counts as success.

import assert from "node:assert/strict";
import {
  allowInsecureRequests,
  ClientSecretBasic,
  ClientSecretPost,
  HTTP_REQUEST_FORBIDDEN,
  MISSING_SERVER_METADATA,
  OperationProcessingError,
  processRevocationResponse,
  RESPONSE_BODY_ERROR,
  RESPONSE_IS_NOT_CONFORM,
  ResponseBodyError,
  revocationRequest,
  TlsClientAuth,
  WWW_AUTHENTICATE_CHALLENGE,
  WWWAuthenticateChallengeError,
} from "@authlane/oauth";
import { createFakeAs, type FakeAs, startFakeAs } from "./_fake_as.ts";
import { assertOAuthError, assertTypeError } from "./_assert.ts";

function setup(options?: Parameters<typeof createFakeAs>[0]) {
  const server = createFakeAs(options);
  return { server, auth: ClientSecretBasic(server.clientSecret) };
}

async function revoke(server: FakeAs): Promise<Response> {
  return await revocationRequest(
    server.as,
    server.client,
    ClientSecretBasic(server.clientSecret),
    "the-token",
    server.options,
  );
}

Deno.test("revocationRequest() posts the token and hint with client authentication to the revocation endpoint", async () => {
  const { server, auth } = setup();
  const response = await revocationRequest(server.as, server.client, auth, "the-token", {
    ...server.options,
    additionalParameters: { token_type_hint: "refresh_token", token: "smuggled" },
  });
  await response.body?.cancel();
  const request = server.lastRequest("revocation")!;
  assert.equal(request.method, "POST");
  assert.equal(request.url.href, server.as.revocation_endpoint);
  assert.equal(request.mtls, false);
  assert.deepEqual(request.form?.getAll("token"), ["the-token"]);
  assert.equal(request.form?.get("token_type_hint"), "refresh_token");
  assert.equal(request.clientAuth?.method, "client_secret_basic");
  assert.match(request.headers.get("content-type")!, /^application\/x-www-form-urlencoded/);
});

Deno.test("revocationRequest() authenticates with client_secret_post when asked to", async () => {
  const { server } = setup();
  const response = await revocationRequest(
    server.as,
    server.client,
    ClientSecretPost(server.clientSecret),
    "t",
    server.options,
  );
  await response.body?.cancel();
  const request = server.lastRequest("revocation")!;
  assert.equal(request.clientAuth?.method, "client_secret_post");
  assert.equal(request.form?.get("client_id"), "client");
  assert.equal(request.headers.get("authorization"), null);
});

Deno.test("revocationRequest() uses the mTLS alias when the client uses mtls_endpoint_aliases", async () => {
  const { server } = setup({ client: { client_id: "client", use_mtls_endpoint_aliases: true } });
  const response = await revocationRequest(
    server.as,
    server.client,
    TlsClientAuth(),
    "t",
    server.options,
  );
  await response.body?.cancel();
  const request = server.lastRequest("revocation")!;
  assert.equal(request.mtls, true);
  assert.equal(request.url.href, server.as.mtls_endpoint_aliases.revocation_endpoint);
});

Deno.test("revocationRequest() refuses an empty or missing token before any request", async () => {
  const { server, auth } = setup();
  await assertTypeError(
    () => revocationRequest(server.as, server.client, auth, "", server.options),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () => revocationRequest(server.as, server.client, auth, 1 as unknown as string, server.options),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("revocationRequest() refuses a server without a revocation endpoint before any request", async () => {
  const { server, auth } = setup({ metadata: { revocation_endpoint: undefined } });
  await assertOAuthError(
    () => revocationRequest(server.as, server.client, auth, "t", server.options),
    OperationProcessingError,
    MISSING_SERVER_METADATA,
    { attribute: "revocation_endpoint" },
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("revocationRequest() refuses an http: endpoint unless insecure requests are allowed", async () => {
  const { server, auth } = setup({ metadata: { revocation_endpoint: "http://as.example/revoke" } });
  await assertOAuthError(
    () => revocationRequest(server.as, server.client, auth, "t", server.options),
    OperationProcessingError,
    HTTP_REQUEST_FORBIDDEN,
  );
  assert.equal(server.requests.length, 0);
  const response = await revocationRequest(server.as, server.client, auth, "t", {
    ...server.options,
    [allowInsecureRequests]: true,
  });
  await response.body?.cancel();
  assert.equal(server.requests.length, 1);
});

Deno.test("processRevocationResponse() resolves to undefined for a 200", async () => {
  const { server } = setup();
  assert.equal(await processRevocationResponse(await revoke(server)), undefined);
});

Deno.test("processRevocationResponse() ignores the body of a 200", async () => {
  const { server } = setup();
  server.override("revocation", new Response("ignored", { status: 200 }));
  const response = await revoke(server);
  assert.equal(await processRevocationResponse(response), undefined);
  assert.equal(response.bodyUsed, true);
});

Deno.test("processRevocationResponse() refuses a 204 (RFC 7009 §2.2 prescribes 200)", async () => {
  const { server } = setup();
  server.override("revocation", new Response(null, { status: 204 }));
  await assertOAuthError(
    async () => processRevocationResponse(await revoke(server)),
    OperationProcessingError,
    RESPONSE_IS_NOT_CONFORM,
    { status: 204, expected: 200 },
  );
});

Deno.test("processRevocationResponse() refuses a 500 without an error body", async () => {
  const { server } = setup();
  server.override("revocation", new Response("oops", { status: 500 }));
  await assertOAuthError(
    async () => processRevocationResponse(await revoke(server)),
    OperationProcessingError,
    RESPONSE_IS_NOT_CONFORM,
    { status: 500 },
  );
});

Deno.test("processRevocationResponse() reports unsupported_token_type as ResponseBodyError", async () => {
  const { server } = setup();
  server.override("revocation", server.oauthError("unsupported_token_type", "nope", 400));
  const err = await assertOAuthError(
    async () => processRevocationResponse(await revoke(server)),
    ResponseBodyError,
    RESPONSE_BODY_ERROR,
    { error: "unsupported_token_type", error_description: "nope" },
  );
  assert.equal(err.status, 400);
  assert.equal(err.error_description, "nope");
});

Deno.test("processRevocationResponse() reports a challenge for wrong client credentials", async () => {
  const server = createFakeAs();
  const response = await revocationRequest(
    server.as,
    server.client,
    ClientSecretBasic("wrong"),
    "t",
    server.options,
  );
  const err = await assertOAuthError(
    () => processRevocationResponse(response),
    WWWAuthenticateChallengeError,
    WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(err.status, 401);
});

Deno.test("processRevocationResponse() refuses what is not a Response, and an error whose body was read", async () => {
  await assertTypeError(
    () => processRevocationResponse({} as Response),
    "ERR_INVALID_ARG_TYPE",
  );
  const used = new Response('{"error":"invalid_request"}', {
    status: 400,
    headers: { "content-type": "application/json" },
  });
  await used.text();
  await assertTypeError(() => processRevocationResponse(used), "ERR_INVALID_ARG_VALUE");
});

Deno.test("processRevocationResponse() accepts a 200 whose body was read: it never reads it, as oauth4webapi", async () => {
  const used = new Response("x");
  await used.text();
  assert.equal(await processRevocationResponse(used), undefined);
});

Deno.test("revocation: a token is revoked over a loopback socket", async () => {
  await using server = await startFakeAs();
  const auth = ClientSecretBasic(server.clientSecret);
  const response = await revocationRequest(server.as, server.client, auth, "abc", {
    ...server.options,
    additionalParameters: new URLSearchParams({ token_type_hint: "access_token" }),
  });
  assert.equal(await processRevocationResponse(response), undefined);
  assert.equal(server.lastRequest("revocation")?.form?.get("token"), "abc");
});
