// RFC 7662 token introspection with RFC 9701 JWT responses: what the request carries and asks
// for, the checks of JSON responses, and the checks of signed (and encrypted) JWT responses,
// whose signature authlane verifies, fetching the JWKS only as the caller asked for the response.

import assert from "node:assert/strict";
import { compactDecrypt, CompactEncrypt } from "jose";
import {
  allowInsecureRequests,
  type Client,
  ClientSecretBasic,
  HTTP_REQUEST_FORBIDDEN,
  introspectionRequest,
  INVALID_RESPONSE,
  jweDecrypt,
  jwksCache,
  JWT_CLAIM_COMPARISON,
  JWT_TIMESTAMP_CHECK,
  KEY_SELECTION,
  MISSING_SERVER_METADATA,
  OperationProcessingError,
  processIntrospectionResponse,
  RESPONSE_BODY_ERROR,
  RESPONSE_IS_NOT_CONFORM,
  RESPONSE_IS_NOT_JSON,
  ResponseBodyError,
  TlsClientAuth,
  UNSUPPORTED_OPERATION,
  UnsupportedOperationError,
  validateApplicationLevelSignature,
  WWW_AUTHENTICATE_CHALLENGE,
  WWWAuthenticateChallengeError,
} from "@authlane/oauth";
import { createFakeAs, type FakeAs, startFakeAs } from "./_fake_as.ts";
import { generateTestKey, type SigningKeyInput } from "./_keys.ts";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import {
  assertJwksFetchedAsRequested,
  assertSignatureLeftOpen,
  requestOnlyOptions,
} from "./_jwks_io.ts";

const JWT_TYPE = "application/token-introspection+jwt";

function setup(options?: Parameters<typeof createFakeAs>[0]) {
  const server = createFakeAs(options);
  return { server, auth: ClientSecretBasic(server.clientSecret) };
}

async function introspect(
  server: FakeAs,
  client: Client = server.client,
  requestJwtResponse?: boolean,
): Promise<Response> {
  return await introspectionRequest(
    server.as,
    client,
    ClientSecretBasic(server.clientSecret),
    "the-token",
    { ...server.options, ...(requestJwtResponse === undefined ? {} : { requestJwtResponse }) },
  );
}

/** RFC 9701 §5 claims; a member set to `undefined` is deleted. */
function jwtClaims(server: FakeAs, overrides: Record<string, unknown> = {}) {
  const claims: Record<string, unknown> = {
    iss: server.issuer,
    aud: server.client.client_id,
    iat: server.now(),
    token_introspection: { active: true, scope: "api", client_id: "client", sub: "user-1" },
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return claims;
}

/** Makes the introspection route answer with a signed JWT. */
async function serveJwt(
  server: FakeAs,
  overrides: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key?: SigningKeyInput,
): Promise<string> {
  const jwt = await server.sign(
    jwtClaims(server, overrides),
    { typ: "token-introspection+jwt", ...header },
    key,
  );
  server.override("introspection", server.jwtResponse(jwt, JWT_TYPE));
  return jwt;
}

async function processJwt(server: FakeAs, client: Client = server.client) {
  return await processIntrospectionResponse(
    server.as,
    client,
    await introspect(server, client, true),
    server.options,
  );
}

// -- introspectionRequest ---------------------------------------------------------------------

Deno.test("introspectionRequest() posts the token and hint with client authentication, accepting JSON", async () => {
  const { server, auth } = setup();
  const response = await introspectionRequest(server.as, server.client, auth, "the-token", {
    ...server.options,
    additionalParameters: { token_type_hint: "access_token", token: "smuggled" },
  });
  await response.body?.cancel();
  const request = server.lastRequest("introspection")!;
  assert.equal(request.method, "POST");
  assert.equal(request.url.href, server.as.introspection_endpoint);
  assert.equal(request.mtls, false);
  assert.deepEqual(request.form?.getAll("token"), ["the-token"]);
  assert.equal(request.form?.get("token_type_hint"), "access_token");
  assert.equal(request.clientAuth?.method, "client_secret_basic");
  assert.equal(request.headers.get("accept"), "application/json");
});

Deno.test("introspectionRequest() asks for a JWT response when requestJwtResponse is true", async () => {
  const { server } = setup();
  await (await introspect(server, server.client, true)).body?.cancel();
  assert.equal(server.lastRequest("introspection")?.headers.get("accept"), JWT_TYPE);
});

Deno.test("introspectionRequest() asks for a JWT response when the client has introspection_signed_response_alg", async () => {
  const { server } = setup();
  const client = { ...server.client, introspection_signed_response_alg: "ES256" };
  await (await introspect(server, client)).body?.cancel();
  assert.equal(server.lastRequest("introspection")?.headers.get("accept"), JWT_TYPE);
});

Deno.test("introspectionRequest() asks for JSON when requestJwtResponse is false, whatever the client metadata", async () => {
  const { server } = setup();
  const client = { ...server.client, introspection_signed_response_alg: "ES256" };
  await (await introspect(server, client, false)).body?.cancel();
  assert.equal(server.lastRequest("introspection")?.headers.get("accept"), "application/json");
});

Deno.test("introspectionRequest() uses the mTLS alias when the client uses mtls_endpoint_aliases", async () => {
  const { server } = setup({ client: { client_id: "client", use_mtls_endpoint_aliases: true } });
  const response = await introspectionRequest(
    server.as,
    server.client,
    TlsClientAuth(),
    "t",
    server.options,
  );
  await response.body?.cancel();
  const request = server.lastRequest("introspection")!;
  assert.equal(request.mtls, true);
  assert.equal(request.url.href, server.as.mtls_endpoint_aliases.introspection_endpoint);
});

Deno.test("introspectionRequest() refuses an empty token before any request", async () => {
  const { server, auth } = setup();
  await assertTypeError(
    () => introspectionRequest(server.as, server.client, auth, "", server.options),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("introspectionRequest() refuses a server without an introspection endpoint before any request", async () => {
  const { server, auth } = setup({ metadata: { introspection_endpoint: undefined } });
  await assertOAuthError(
    () => introspectionRequest(server.as, server.client, auth, "t", server.options),
    OperationProcessingError,
    MISSING_SERVER_METADATA,
    { attribute: "introspection_endpoint" },
  );
  assert.equal(server.requests.length, 0);
});

// -- processIntrospectionResponse: JSON -------------------------------------------------------

Deno.test("processIntrospectionResponse() returns a JSON introspection response", async () => {
  const { server } = setup();
  const result = await processIntrospectionResponse(
    server.as,
    server.client,
    await introspect(server),
  );
  assert.equal(result.active, true);
  assert.equal(result.client_id, "client");
  assert.equal(result.token_type, "Bearer");
});

Deno.test("processIntrospectionResponse() accepts an inactive token", async () => {
  const { server } = setup();
  server.override("introspection", { active: false });
  const result = await processIntrospectionResponse(
    server.as,
    server.client,
    await introspect(server),
  );
  assert.deepEqual({ ...result }, { active: false });
});

for (
  const [what, body] of [
    ["a missing active", { scope: "api" }],
    ["a string active", { active: "true" }],
    ["a numeric active", { active: 1 }],
  ] as const
) {
  Deno.test(`processIntrospectionResponse() refuses ${what} in a JSON response`, async () => {
    const { server } = setup();
    server.override("introspection", body);
    await assertOAuthError(
      async () => processIntrospectionResponse(server.as, server.client, await introspect(server)),
      OperationProcessingError,
      INVALID_RESPONSE,
      { attribute: "active", body },
    );
  });
}

Deno.test("processIntrospectionResponse() refuses a JSON response when the client registered signed responses", async () => {
  const { server } = setup();
  const client = { ...server.client, introspection_signed_response_alg: "ES256" };
  // the server ignores the Accept header and downgrades to unsigned JSON
  server.override("introspection", { active: true });
  await assertOAuthError(
    async () =>
      processIntrospectionResponse(
        server.as,
        client,
        await introspect(server, client),
        server.options,
      ),
    OperationProcessingError,
    INVALID_RESPONSE,
    { contentType: "application/json", expected: JWT_TYPE },
  );
  assert.equal(server.requestsTo("jwks").length, 0);
});

Deno.test("processIntrospectionResponse() refuses a 201 status", async () => {
  const { server } = setup();
  server.override("introspection", server.json({ active: true }, 201));
  await assertOAuthError(
    async () => processIntrospectionResponse(server.as, server.client, await introspect(server)),
    OperationProcessingError,
    RESPONSE_IS_NOT_CONFORM,
    { status: 201, expected: 200 },
  );
});

Deno.test("processIntrospectionResponse() refuses a body that is neither JSON nor a JWT", async () => {
  const { server } = setup();
  server.override(
    "introspection",
    new Response("active=true", { headers: { "content-type": "text/plain" } }),
  );
  await assertOAuthError(
    async () => processIntrospectionResponse(server.as, server.client, await introspect(server)),
    OperationProcessingError,
    RESPONSE_IS_NOT_JSON,
  );
});

Deno.test("processIntrospectionResponse() reports an error body as ResponseBodyError", async () => {
  const { server } = setup();
  server.override("introspection", server.oauthError("invalid_request", "missing token"));
  await assertOAuthError(
    async () => processIntrospectionResponse(server.as, server.client, await introspect(server)),
    ResponseBodyError,
    RESPONSE_BODY_ERROR,
    { error: "invalid_request" },
  );
});

Deno.test("processIntrospectionResponse() reports a challenge for wrong client credentials", async () => {
  const server = createFakeAs();
  const response = await introspectionRequest(
    server.as,
    server.client,
    ClientSecretBasic("wrong"),
    "t",
    server.options,
  );
  await assertOAuthError(
    () => processIntrospectionResponse(server.as, server.client, response),
    WWWAuthenticateChallengeError,
    WWW_AUTHENTICATE_CHALLENGE,
  );
});

// -- processIntrospectionResponse: JWT (RFC 9701) ---------------------------------------------

Deno.test("processIntrospectionResponse() returns the token_introspection claim of the fake server's JWT, after verifying its signature", async () => {
  const { server } = setup();
  const response = await introspect(server, server.client, true);
  const result = await processIntrospectionResponse(
    server.as,
    server.client,
    response,
    server.options,
  );
  assert.equal(result.active, true);
  assert.equal(result.client_id, "client");
  assert.equal(server.requestsTo("jwks").length, 1);
  await validateApplicationLevelSignature(server.as, response, server.options);
});

Deno.test("processIntrospectionResponse() accepts the typ with its application/ prefix, in any case", async () => {
  const { server } = setup();
  await serveJwt(server, {}, { typ: "Application/Token-Introspection+JWT" });
  assert.equal((await processJwt(server)).active, true);
});

for (
  const [what, typ] of [
    ["a JWT typ", "JWT"],
    ["a missing typ", undefined],
    ["an access token typ", "at+jwt"],
  ] as const
) {
  Deno.test(`processIntrospectionResponse() refuses ${what} in a JWT response`, async () => {
    const { server } = setup();
    await serveJwt(server, {}, { typ });
    await assertOAuthError(
      () => processJwt(server),
      OperationProcessingError,
      INVALID_RESPONSE,
      (cause) => {
        const { header, expected } = cause as { header: Record<string, unknown>; expected: string };
        assert.equal(header.typ, typ);
        assert.equal(expected, "token-introspection+jwt");
      },
    );
  });
}

Deno.test("processIntrospectionResponse() refuses a JWT from another issuer", async () => {
  const { server } = setup();
  await serveJwt(server, { iss: "https://evil.example" });
  await assertOAuthError(
    () => processJwt(server),
    OperationProcessingError,
    JWT_CLAIM_COMPARISON,
    { claim: "iss", expected: server.issuer },
  );
});

Deno.test("processIntrospectionResponse() refuses a JWT for another audience", async () => {
  const { server } = setup();
  await serveJwt(server, { aud: ["another-client"] });
  await assertOAuthError(
    () => processJwt(server),
    OperationProcessingError,
    JWT_CLAIM_COMPARISON,
    { claim: "aud", expected: "client" },
  );
});

Deno.test("processIntrospectionResponse() accepts an aud array that contains the client", async () => {
  const { server } = setup();
  await serveJwt(server, { aud: ["resource-server", "client"] });
  assert.equal((await processJwt(server)).active, true);
});

for (const claim of ["iss", "aud", "iat"]) {
  Deno.test(`processIntrospectionResponse() refuses a JWT without ${claim}`, async () => {
    const { server } = setup();
    await serveJwt(server, { [claim]: undefined });
    await assertOAuthError(
      () => processJwt(server),
      OperationProcessingError,
      INVALID_RESPONSE,
      { claim },
    );
  });
}

Deno.test("processIntrospectionResponse() refuses an expired JWT", async () => {
  const { server } = setup();
  const t = server.now();
  await serveJwt(server, { iat: t - 600, exp: t - 120 });
  await assertOAuthError(
    () => processJwt(server),
    OperationProcessingError,
    JWT_TIMESTAMP_CHECK,
    { claim: "exp" },
  );
});

Deno.test("processIntrospectionResponse() refuses a JWT signed by a key the server does not publish under that kid", async () => {
  const { server } = setup();
  const impostor = await generateTestKey("ES256", server.key.kid);
  await serveJwt(server, {}, {}, impostor);
  await assertOAuthError(
    () => processJwt(server),
    OperationProcessingError,
    INVALID_RESPONSE,
    { alg: "ES256", kid: server.key.kid },
  );
});

Deno.test("processIntrospectionResponse() refuses a JWT whose payload was altered after signing", async () => {
  const { server } = setup();
  const jwt = await server.sign(jwtClaims(server, { token_introspection: { active: false } }), {
    typ: "token-introspection+jwt",
  });
  const [header, , signature] = jwt.split(".");
  const forged = btoa(JSON.stringify(jwtClaims(server)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  server.override(
    "introspection",
    server.jwtResponse(`${header}.${forged}.${signature}`, JWT_TYPE),
  );
  await assertOAuthError(() => processJwt(server), OperationProcessingError, INVALID_RESPONSE);
});

Deno.test("processIntrospectionResponse() refuses a JWT whose kid the server does not publish", async () => {
  const { server } = setup();
  const stranger = await generateTestKey("ES256", "stranger");
  await serveJwt(server, {}, {}, stranger);
  await assertOAuthError(() => processJwt(server), OperationProcessingError, KEY_SELECTION);
});

for (
  const [what, value] of [
    ["a missing token_introspection claim", undefined],
    ["a string token_introspection claim", "active"],
    ["an array token_introspection claim", [{ active: true }]],
  ] as const
) {
  Deno.test(`processIntrospectionResponse() refuses ${what}`, async () => {
    const { server } = setup();
    await serveJwt(server, { token_introspection: value });
    await assertOAuthError(
      () => processJwt(server),
      OperationProcessingError,
      INVALID_RESPONSE,
      { claim: "token_introspection" },
    );
  });
}

Deno.test("processIntrospectionResponse() refuses a token_introspection claim without a boolean active", async () => {
  const { server } = setup();
  await serveJwt(server, { token_introspection: { active: "yes", scope: "api" } });
  await assertOAuthError(
    () => processJwt(server),
    OperationProcessingError,
    INVALID_RESPONSE,
    { claim: "token_introspection", attribute: "active" },
  );
});

Deno.test("processIntrospectionResponse() refuses an alg other than the client's introspection_signed_response_alg", async () => {
  const { server } = setup();
  const client = { ...server.client, introspection_signed_response_alg: "RS256" };
  await serveJwt(server); // ES256
  await assertOAuthError(
    () => processJwt(server, client),
    OperationProcessingError,
    INVALID_RESPONSE,
    { expected: ["RS256"] },
  );
  assert.equal(server.requestsTo("jwks").length, 0);
});

Deno.test("processIntrospectionResponse() accepts the client's introspection_signed_response_alg", async () => {
  const { server } = setup();
  const client = { ...server.client, introspection_signed_response_alg: "RS256" };
  await serveJwt(server, {}, {}, "RS256");
  assert.equal((await processJwt(server, client)).active, true);
});

Deno.test("processIntrospectionResponse() falls back to RS256 when neither client nor server names an alg", async () => {
  const { server } = setup({ metadata: { introspection_signing_alg_values_supported: undefined } });
  await serveJwt(server); // ES256
  await assertOAuthError(
    () => processJwt(server),
    OperationProcessingError,
    INVALID_RESPONSE,
    { expected: ["RS256"] },
  );
  await serveJwt(server, {}, {}, "RS256");
  assert.equal((await processJwt(server)).active, true);
});

Deno.test("processIntrospectionResponse() refuses an unsigned JWT", async () => {
  const { server } = setup();
  await serveJwt(server, {}, { alg: "none" });
  await assertOAuthError(
    () => processJwt(server),
    UnsupportedOperationError,
    UNSUPPORTED_OPERATION,
  );
});

Deno.test("processIntrospectionResponse() refuses an encrypted JWT without a [jweDecrypt] function", async () => {
  const { server } = setup();
  const key = crypto.getRandomValues(new Uint8Array(32));
  const jwt = await server.sign(jwtClaims(server), { typ: "token-introspection+jwt" });
  const jwe = await new CompactEncrypt(new TextEncoder().encode(jwt))
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", cty: "JWT" })
    .encrypt(key);
  server.override("introspection", server.jwtResponse(jwe, JWT_TYPE));
  await assertOAuthError(
    () => processJwt(server),
    UnsupportedOperationError,
    UNSUPPORTED_OPERATION,
  );
});

Deno.test("processIntrospectionResponse() decrypts an encrypted JWT with [jweDecrypt] and verifies the inner signature", async () => {
  const { server } = setup();
  const key = crypto.getRandomValues(new Uint8Array(32));
  const jwt = await server.sign(jwtClaims(server), { typ: "token-introspection+jwt" });
  const jwe = await new CompactEncrypt(new TextEncoder().encode(jwt))
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", cty: "JWT" })
    .encrypt(key);
  server.override("introspection", server.jwtResponse(jwe, JWT_TYPE));
  const decrypted: string[] = [];
  const result = await processIntrospectionResponse(
    server.as,
    server.client,
    await introspect(server, server.client, true),
    {
      ...server.options,
      [jweDecrypt]: async (value: string) => {
        decrypted.push(value);
        return new TextDecoder().decode((await compactDecrypt(value, key)).plaintext);
      },
    },
  );
  assert.deepEqual(decrypted, [jwe]);
  assert.equal(result.active, true);
  assert.equal(server.requestsTo("jwks").length, 1);
});

Deno.test("processIntrospectionResponse() fills and reuses a [jwksCache]", async () => {
  const { server } = setup();
  const cache = {};
  for (let i = 0; i < 2; i++) {
    await serveJwt(server);
    await processIntrospectionResponse(
      server.as,
      server.client,
      await introspect(server, server.client, true),
      { ...server.options, [jwksCache]: cache },
    );
  }
  assert.equal(server.requestsTo("jwks").length, 1);
  assert.deepEqual(Object.keys(cache).sort(), ["jwks", "uat"]);
});

Deno.test("JWT introspection: a signed response is requested, fetched and verified over a loopback socket", async () => {
  await using server = await startFakeAs();
  const client = { ...server.client, introspection_signed_response_alg: "ES256" };
  const response = await introspectionRequest(
    server.as,
    client,
    ClientSecretBasic(server.clientSecret),
    "some-token",
    server.options,
  );
  assert.equal(response.headers.get("content-type"), JWT_TYPE);
  const result = await processIntrospectionResponse(server.as, client, response, server.options);
  assert.equal(result.active, true);
  assert.equal(server.requestsTo("jwks").length, 1);
});

// -- JWT responses: no hidden network I/O (issue 16 item 2) ----------------------------------

Deno.test("processIntrospectionResponse() fetches the JWKS with the options of the introspectionRequest() that produced the response", async () => {
  // openid-client's call pattern: options to the request, none to the processor. The fake server
  // has no socket: a JWKS fetch with the global fetch would fail.
  const { server } = setup();
  await serveJwt(server);
  const { options, signalled } = requestOnlyOptions(server);
  const response = await introspectionRequest(
    server.as,
    server.client,
    // Its Authorization header is meant for the introspection endpoint only.
    ClientSecretBasic(server.clientSecret),
    "the-token",
    { ...options, requestJwtResponse: true },
  );
  const result = await processIntrospectionResponse(server.as, server.client, response);
  assert.equal(result.active, true);
  await assertJwksFetchedAsRequested(
    server,
    response,
    server.as.introspection_endpoint,
    signalled,
  );
});

Deno.test("processIntrospectionResponse() refuses a bad signature when the options are given to the request only", async () => {
  const { server } = setup();
  await serveJwt(server, {}, {}, await generateTestKey("ES256", server.key.kid));
  const response = await introspect(server, server.client, true);
  await assertOAuthError(
    () => processIntrospectionResponse(server.as, server.client, response),
    OperationProcessingError,
    INVALID_RESPONSE,
  );
  assert.equal(server.requestsTo("jwks").length, 1);
});

Deno.test("processIntrospectionResponse() fetches an http: jwks_uri only when the request allowed insecure requests", async () => {
  await using server = await startFakeAs();
  const client = { ...server.client, introspection_signed_response_alg: "ES256" };
  const response = await introspect(server, client);
  assert.equal((await processIntrospectionResponse(server.as, client, response)).active, true);
  assert.equal(server.requestsTo("jwks").length, 1);
  await assertOAuthError(
    processIntrospectionResponse(server.as, client, await introspect(server, client), {
      [allowInsecureRequests]: false,
      [jwksCache]: {},
    }),
    OperationProcessingError,
    HTTP_REQUEST_FORBIDDEN,
  );
});

Deno.test("left open: processIntrospectionResponse() makes no request for a response it did not see requested, and leaves its signature to validateApplicationLevelSignature()", async () => {
  const { server } = setup();
  const impostor = await generateTestKey("ES256", server.key.kid);
  // A test suite's Response, signed by a key the server does not have.
  const jwt = await server.sign(jwtClaims(server), { typ: "token-introspection+jwt" }, impostor);
  await assertSignatureLeftOpen(server, server.jwtResponse(jwt, JWT_TYPE), async (response) => {
    assert.equal(
      (await processIntrospectionResponse(server.as, server.client, response)).active,
      true,
    );
  });
  // The claims are still checked without the network.
  const foreign = await server.sign(
    jwtClaims(server, { aud: "someone-else" }),
    { typ: "token-introspection+jwt" },
  );
  await assertOAuthError(
    () =>
      processIntrospectionResponse(server.as, server.client, server.jwtResponse(foreign, JWT_TYPE)),
    OperationProcessingError,
    JWT_CLAIM_COMPARISON,
    { claim: "aud" },
  );
  assert.equal(server.requests.length, 1, "only validateApplicationLevelSignature() fetched");
});
