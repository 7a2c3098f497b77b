// RFC 8628 device authorization grant: the request to the device authorization endpoint, the
// checks of its response, the device code grant and its polling errors.

import assert from "node:assert/strict";
import {
  ClientSecretBasic,
  deviceAuthorizationRequest,
  deviceCodeGrantRequest,
  getValidatedIdTokenClaims,
  HTTP_REQUEST_FORBIDDEN,
  INVALID_RESPONSE,
  JWT_CLAIM_COMPARISON,
  MISSING_SERVER_METADATA,
  OperationProcessingError,
  processDeviceAuthorizationResponse,
  processDeviceCodeResponse,
  RESPONSE_BODY_ERROR,
  RESPONSE_IS_NOT_CONFORM,
  RESPONSE_IS_NOT_JSON,
  ResponseBodyError,
  TlsClientAuth,
  type TokenEndpointResponse,
  WWW_AUTHENTICATE_CHALLENGE,
  WWWAuthenticateChallengeError,
} from "@authlane/oauth";
import { createFakeAs, type FakeAs, type FakeResponder, startFakeAs } from "./_fake_as.ts";
import { assertOAuthError, assertTypeError, type ErrorClass } from "./_assert.ts";

const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

function setup(options?: Parameters<typeof createFakeAs>[0]) {
  const server = createFakeAs(options);
  return { server, auth: ClientSecretBasic(server.clientSecret) };
}

function validBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    device_code: "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
    user_code: "WDJB-MJHT",
    verification_uri: "https://as.example/device",
    verification_uri_complete: "https://as.example/device?user_code=WDJB-MJHT",
    expires_in: 1800,
    interval: 5,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete body[name];
    else body[name] = value;
  }
  return body;
}

async function authorizationResponse(server: FakeAs): Promise<Response> {
  return await deviceAuthorizationRequest(
    server.as,
    server.client,
    ClientSecretBasic(server.clientSecret),
    { scope: "openid" },
    server.options,
  );
}

/** Requests a device authorization at `server` and processes its answer. */
async function processAuthorization(server: FakeAs) {
  return await processDeviceAuthorizationResponse(
    server.as,
    server.client,
    await authorizationResponse(server),
  );
}

// -- deviceAuthorizationRequest ---------------------------------------------------------------

Deno.test("deviceAuthorizationRequest() posts the parameters with client authentication to the device authorization endpoint", async () => {
  const { server, auth } = setup();
  const response = await deviceAuthorizationRequest(
    server.as,
    server.client,
    auth,
    { scope: "openid profile", resource: "https://api.example" },
    server.options,
  );
  await response.body?.cancel();
  const request = server.lastRequest("device_authorization")!;
  assert.equal(request.method, "POST");
  assert.equal(request.url.href, server.as.device_authorization_endpoint);
  assert.equal(request.mtls, false);
  assert.equal(request.form?.get("scope"), "openid profile");
  assert.equal(request.form?.get("resource"), "https://api.example");
  assert.equal(request.clientAuth?.method, "client_secret_basic");
  assert.equal(request.clientAuth?.clientId, "client");
  assert.match(request.headers.get("content-type")!, /^application\/x-www-form-urlencoded/);
  assert.equal(request.headers.get("accept"), "application/json");
});

Deno.test("deviceAuthorizationRequest() uses the mTLS alias when the client uses mtls_endpoint_aliases", async () => {
  const { server } = setup({ client: { client_id: "client", use_mtls_endpoint_aliases: true } });
  const response = await deviceAuthorizationRequest(
    server.as,
    server.client,
    TlsClientAuth(),
    {},
    server.options,
  );
  await response.body?.cancel();
  const request = server.lastRequest("device_authorization")!;
  assert.equal(request.mtls, true);
  assert.equal(request.url.href, server.as.mtls_endpoint_aliases.device_authorization_endpoint);
  assert.equal(request.form?.get("client_id"), "client");
});

Deno.test("deviceAuthorizationRequest() refuses a server without a device authorization endpoint before any request", async () => {
  const { server, auth } = setup({ metadata: { device_authorization_endpoint: undefined } });
  await assertOAuthError(
    () => deviceAuthorizationRequest(server.as, server.client, auth, {}, server.options),
    OperationProcessingError,
    MISSING_SERVER_METADATA,
    { attribute: "device_authorization_endpoint" },
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("deviceAuthorizationRequest() refuses an http: endpoint unless insecure requests are allowed", async () => {
  const { server, auth } = setup({
    metadata: { device_authorization_endpoint: "http://as.example/device_authorization" },
  });
  await assertOAuthError(
    () => deviceAuthorizationRequest(server.as, server.client, auth, {}, server.options),
    OperationProcessingError,
    HTTP_REQUEST_FORBIDDEN,
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("deviceAuthorizationRequest() refuses parameters that are not a parameter collection", async () => {
  const { server, auth } = setup();
  await assertTypeError(
    () =>
      deviceAuthorizationRequest(
        server.as,
        server.client,
        auth,
        "scope=openid" as unknown as Record<string, string>,
        server.options,
      ),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(server.requests.length, 0);
});

// -- processDeviceAuthorizationResponse -------------------------------------------------------

Deno.test("processDeviceAuthorizationResponse() returns the fake server's device authorization response", async () => {
  const { server } = setup();
  const result = await processAuthorization(server);
  assert.equal(typeof result.device_code, "string");
  assert.equal(result.user_code, "WDJB-MJHT");
  assert.equal(result.verification_uri, "https://as.example/device");
  assert.equal(result.expires_in, 600);
  assert.equal(result.interval, 5);
});

Deno.test("processDeviceAuthorizationResponse() accepts a response without the optional members", async () => {
  const { server } = setup();
  server.override(
    "device_authorization",
    validBody({ verification_uri_complete: undefined, interval: undefined, extra: "kept" }),
  );
  const result = await processAuthorization(server);
  assert.equal(result.interval, undefined);
  assert.equal(result.verification_uri_complete, undefined);
  assert.equal(result.extra, "kept");
});

const INVALID_BODIES: [string, Record<string, unknown>, string][] = [
  ["a missing device_code", { device_code: undefined }, "device_code"],
  ["an empty device_code", { device_code: "" }, "device_code"],
  ["a numeric device_code", { device_code: 42 }, "device_code"],
  ["a missing user_code", { user_code: undefined }, "user_code"],
  ["an empty user_code", { user_code: "" }, "user_code"],
  ["a user_code that is an array", { user_code: ["WDJB"] }, "user_code"],
  ["a missing verification_uri", { verification_uri: undefined }, "verification_uri"],
  ["an empty verification_uri", { verification_uri: "" }, "verification_uri"],
  ["a missing expires_in", { expires_in: undefined }, "expires_in"],
  ["a zero expires_in", { expires_in: 0 }, "expires_in"],
  ["a negative expires_in", { expires_in: -1 }, "expires_in"],
  ["a string expires_in", { expires_in: "1800" }, "expires_in"],
  [
    "a numeric verification_uri_complete",
    { verification_uri_complete: 1 },
    "verification_uri_complete",
  ],
  [
    "an empty verification_uri_complete",
    { verification_uri_complete: "" },
    "verification_uri_complete",
  ],
  ["a zero interval", { interval: 0 }, "interval"],
  ["a string interval", { interval: "5" }, "interval"],
  ["a null interval", { interval: null }, "interval"],
];

for (const [what, overrides, attribute] of INVALID_BODIES) {
  Deno.test(`processDeviceAuthorizationResponse() refuses ${what}`, async () => {
    const { server } = setup();
    server.override("device_authorization", validBody(overrides));
    const err = await assertOAuthError(
      () => processAuthorization(server),
      OperationProcessingError,
      INVALID_RESPONSE,
      { attribute },
    );
    // the device code is a credential: it never reaches an error's cause
    const body = (err.cause as { body: Record<string, unknown> }).body;
    if (typeof validBody(overrides).device_code === "string") {
      assert.equal(body.device_code, "[redacted]");
    }
  });
}

/** A device authorization endpoint answer the processor must refuse, and how. */
interface Refused<E extends Error = Error> {
  name: string;
  /** What the endpoint answers. */
  answer: (server: FakeAs) => FakeResponder | Promise<FakeResponder>;
  error: ErrorClass<E>;
  code: string;
  cause?: Record<string, unknown>;
  /** Further checks of the error. */
  check?: (err: E) => void;
}

const AUTHORIZATION_REFUSALS: Refused<OperationProcessingError | ResponseBodyError>[] = [
  {
    name: "refuses a 201 status",
    answer: (server) => server.json(validBody(), 201),
    error: OperationProcessingError,
    code: RESPONSE_IS_NOT_CONFORM,
    cause: { status: 201, expected: 200 },
  },
  {
    name: "refuses a body that is not JSON",
    answer: () => new Response("device_code=x", { headers: { "content-type": "text/plain" } }),
    error: OperationProcessingError,
    code: RESPONSE_IS_NOT_JSON,
  },
  {
    name: "reports an error body as ResponseBodyError",
    answer: (server) => server.oauthError("invalid_scope", "no such scope"),
    error: ResponseBodyError,
    code: RESPONSE_BODY_ERROR,
    cause: { error: "invalid_scope" },
    check: (err) => {
      assert.equal((err as ResponseBodyError).error, "invalid_scope");
      assert.equal((err as ResponseBodyError).status, 400);
    },
  },
];

for (const refusal of AUTHORIZATION_REFUSALS) {
  Deno.test(`processDeviceAuthorizationResponse() ${refusal.name}`, async () => {
    const { server } = setup();
    server.override("device_authorization", await refusal.answer(server));
    const err = await assertOAuthError(
      () => processAuthorization(server),
      refusal.error,
      refusal.code,
      refusal.cause,
    );
    refusal.check?.(err);
  });
}

Deno.test("processDeviceAuthorizationResponse() reports a challenge for wrong client credentials", async () => {
  const server = createFakeAs();
  const response = await deviceAuthorizationRequest(
    server.as,
    server.client,
    ClientSecretBasic("wrong"),
    {},
    server.options,
  );
  const err = await assertOAuthError(
    () => processDeviceAuthorizationResponse(server.as, server.client, response),
    WWWAuthenticateChallengeError,
    WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(err.status, 401);
  assert.equal(err.cause[0]?.scheme, "basic");
});

Deno.test("processDeviceAuthorizationResponse() refuses a response whose body was read", async () => {
  const { server } = setup();
  const response = await authorizationResponse(server);
  await response.text();
  await assertTypeError(
    () => processDeviceAuthorizationResponse(server.as, server.client, response),
    "ERR_INVALID_ARG_VALUE",
  );
});

// -- deviceCodeGrantRequest / processDeviceCodeResponse ---------------------------------------

Deno.test("deviceCodeGrantRequest() sends the device_code grant with client authentication", async () => {
  const { server, auth } = setup();
  const response = await deviceCodeGrantRequest(server.as, server.client, auth, "the-code", {
    ...server.options,
    additionalParameters: { device_code: "smuggled", extra: "1" },
  });
  await response.body?.cancel();
  const request = server.lastRequest("token")!;
  assert.equal(request.url.href, server.as.token_endpoint);
  assert.equal(request.form?.get("grant_type"), DEVICE_CODE_GRANT);
  assert.deepEqual(request.form?.getAll("device_code"), ["the-code"]);
  assert.equal(request.form?.get("extra"), "1");
  assert.equal(request.clientAuth?.method, "client_secret_basic");
});

Deno.test("deviceCodeGrantRequest() uses the token endpoint's mTLS alias when the client uses mtls_endpoint_aliases", async () => {
  const { server } = setup({ client: { client_id: "client", use_mtls_endpoint_aliases: true } });
  const response = await deviceCodeGrantRequest(
    server.as,
    server.client,
    TlsClientAuth(),
    "the-code",
    server.options,
  );
  await response.body?.cancel();
  const request = server.lastRequest("token")!;
  assert.equal(request.mtls, true);
  assert.equal(request.url.href, server.as.mtls_endpoint_aliases.token_endpoint);
});

Deno.test("deviceCodeGrantRequest() refuses an empty device code before any request", async () => {
  const { server, auth } = setup();
  await assertTypeError(
    () => deviceCodeGrantRequest(server.as, server.client, auth, "", server.options),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () =>
      deviceCodeGrantRequest(server.as, server.client, auth, undefined as never, server.options),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(server.requests.length, 0);
});

/** One poll of the token endpoint (RFC 8628 §3.4) and how its answer is processed (§3.5). */
interface Poll {
  name: string;
  /** What the token endpoint answers; its default is tokens without an ID token. */
  answer?: (server: FakeAs) => FakeResponder | Promise<FakeResponder>;
  /** Checks of the result, for an answer that is accepted. */
  accepted?: (result: TokenEndpointResponse) => void;
  /** How the answer is refused. */
  refused?: Omit<Refused<OperationProcessingError | ResponseBodyError>, "name" | "answer">;
}

const POLLS: Poll[] = [
  {
    name: "returns the tokens once the user approved",
    accepted: (result) => {
      assert.equal(typeof result.access_token, "string");
      assert.equal(result.token_type, "bearer");
      assert.equal(getValidatedIdTokenClaims(result), undefined);
    },
  },
  ...["authorization_pending", "slow_down", "expired_token", "access_denied"].map((error) => ({
    name: `throws ResponseBodyError with error ${error} while polling`,
    answer: (server: FakeAs) => server.oauthError(error),
    refused: {
      error: ResponseBodyError,
      code: RESPONSE_BODY_ERROR,
      cause: { error },
      check: (err: OperationProcessingError | ResponseBodyError) => {
        assert.equal((err as ResponseBodyError).error, error);
        assert.equal((err as ResponseBodyError).status, 400);
      },
    },
  })),
  {
    name: "validates an ID token when the response carries one",
    answer: async (server) =>
      await server.tokenBody({ id_token: await server.idToken({ iss: "https://evil.example" }) }),
    refused: {
      error: OperationProcessingError,
      code: JWT_CLAIM_COMPARISON,
      cause: { claim: "iss" },
    },
  },
  {
    name: "accepts a valid ID token and exposes its claims",
    answer: (server) => server.tokenBody(),
    accepted: (result) => assert.equal(getValidatedIdTokenClaims(result)?.sub, "user-1"),
  },
  {
    name: "refuses a token response without access_token",
    answer: () => ({ token_type: "Bearer" }),
    refused: {
      error: OperationProcessingError,
      code: INVALID_RESPONSE,
      cause: { attribute: "access_token" },
    },
  },
];

for (const poll of POLLS) {
  Deno.test(`processDeviceCodeResponse() ${poll.name}`, async () => {
    const { server, auth } = setup();
    if (poll.answer) server.override("token", await poll.answer(server));
    const response = await deviceCodeGrantRequest(
      server.as,
      server.client,
      auth,
      "code",
      server.options,
    );
    const process = () => processDeviceCodeResponse(server.as, server.client, response);
    if (poll.refused === undefined) {
      poll.accepted!(await process());
      return;
    }
    const err = await assertOAuthError(
      process,
      poll.refused.error,
      poll.refused.code,
      poll.refused.cause,
    );
    poll.refused.check?.(err);
  });
}

// -- over a socket ----------------------------------------------------------------------------

Deno.test("device flow: authorization, one pending poll, then tokens over a loopback socket", async () => {
  await using server = await startFakeAs();
  const auth = ClientSecretBasic(server.clientSecret);
  const device = await processDeviceAuthorizationResponse(
    server.as,
    server.client,
    await deviceAuthorizationRequest(
      server.as,
      server.client,
      auth,
      { scope: "api" },
      server.options,
    ),
  );
  server.overrideOnce("token", server.oauthError("authorization_pending"));
  const pending = await deviceCodeGrantRequest(
    server.as,
    server.client,
    auth,
    device.device_code,
    server.options,
  );
  await assertOAuthError(
    () => processDeviceCodeResponse(server.as, server.client, pending),
    ResponseBodyError,
    RESPONSE_BODY_ERROR,
    { error: "authorization_pending" },
  );
  const granted = await deviceCodeGrantRequest(
    server.as,
    server.client,
    auth,
    device.device_code,
    server.options,
  );
  const tokens = await processDeviceCodeResponse(server.as, server.client, granted);
  assert.equal(tokens.scope, undefined);
  assert.equal(typeof tokens.access_token, "string");
  const polls = server.requestsTo("token");
  assert.equal(polls.length, 2);
  for (const poll of polls) assert.equal(poll.form?.get("device_code"), device.device_code);
});
