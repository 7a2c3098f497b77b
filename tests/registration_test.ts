// RFC 7591 dynamic client registration and RFC 7592 registration management (read, update,
// delete at the client configuration endpoint).

import assert from "node:assert/strict";
import {
  clientConfigurationRequest,
  clockSkew,
  DPoP,
  type DPoPHandle,
  dynamicClientRegistrationRequest,
  HTTP_REQUEST_FORBIDDEN,
  INVALID_RESPONSE,
  MISSING_SERVER_METADATA,
  OperationProcessingError,
  processClientConfigurationResponse,
  processDynamicClientRegistrationResponse,
  REQUEST_PROTOCOL_FORBIDDEN,
  RESPONSE_BODY_ERROR,
  RESPONSE_IS_NOT_CONFORM,
  ResponseBodyError,
  WWW_AUTHENTICATE_CHALLENGE,
  WWWAuthenticateChallengeError,
} from "@authlane/oauth";
import { createFakeAs, type FakeAs, startFakeAs } from "./_fake_as.ts";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { keys } from "./_keys.ts";

const METADATA = {
  redirect_uris: ["https://app.example/cb"],
  token_endpoint_auth_method: "client_secret_basic",
  client_name: "Test App",
};

/** A registration response body; a member set to `undefined` is deleted. */
function registered(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    ...METADATA,
    client_id: "client-1",
    client_secret: "s3cret",
    client_secret_expires_at: 0,
    client_id_issued_at: 1_700_000_000,
    registration_client_uri: "https://as.example/register?client_id=client-1",
    registration_access_token: "rat-1",
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete body[name];
    else body[name] = value;
  }
  return body;
}

async function register(server: FakeAs): Promise<Response> {
  return await dynamicClientRegistrationRequest(server.as, METADATA, server.options);
}

/** A DPoP handle stand-in that records what the transport asks of it. */
function recordingDPoP() {
  const proofs: { url: string; method: string; accessToken?: string }[] = [];
  const nonces: Response[] = [];
  const handle = {
    calculateThumbprint: () => Promise.resolve("thumbprint"),
    addProof(url: URL, headers: Headers, method: string, accessToken?: string) {
      proofs.push({ url: url.href, method, ...(accessToken ? { accessToken } : {}) });
      headers.set("dpop", "proof.jwt.value");
      return Promise.resolve();
    },
    cacheNonce(response: Response) {
      nonces.push(response);
    },
  };
  return { handle: handle as DPoPHandle, proofs, nonces };
}

/**
 * Makes the registration route an RFC 7592 server: POST registers (201 with
 * `registration_client_uri` and `registration_access_token`); GET, PUT and DELETE at
 * `registration_client_uri` need the Bearer registration access token.
 */
function manageRegistrations(server: FakeAs) {
  const store = new Map<string, { metadata: Record<string, unknown>; token: string }>();
  const uriOf = (id: string) => `${server.as.registration_endpoint}?client_id=${id}`;
  const information = (id: string) => {
    const entry = store.get(id)!;
    return {
      ...entry.metadata,
      registration_client_uri: uriOf(id),
      registration_access_token: entry.token,
    };
  };
  server.override("registration", (req, body) => {
    if (req.method === "POST") {
      const id = `client-${store.size + 1}`;
      const metadata = {
        ...JSON.parse(body as string),
        client_id: id,
        client_secret: `secret-${id}`,
        client_secret_expires_at: 0,
        client_id_issued_at: server.now(),
      };
      store.set(id, { metadata, token: `rat-${id}` });
      return server.json(information(id), 201);
    }
    const id = new URL(req.url).searchParams.get("client_id") ?? "";
    const entry = store.get(id);
    if (!entry || req.headers.get("authorization") !== `Bearer ${entry.token}`) {
      return server.challenge('Bearer error="invalid_token"'); // RFC 7592 §2.1
    }
    switch (req.method) {
      case "GET":
        return server.json(information(id));
      case "PUT": {
        const update = JSON.parse(body as string) as Record<string, unknown>;
        if (update.client_id !== id) return server.oauthError("invalid_client_metadata");
        entry.metadata = {
          ...update,
          client_secret: entry.metadata.client_secret,
          client_secret_expires_at: 0,
          client_id_issued_at: entry.metadata.client_id_issued_at,
        };
        return server.json(information(id));
      }
      case "DELETE":
        store.delete(id);
        return new Response(null, { status: 204 });
      default:
        return new Response(null, { status: 405 });
    }
  });
  return store;
}

async function registerManaged(server: FakeAs) {
  manageRegistrations(server);
  const result = await processDynamicClientRegistrationResponse(await register(server));
  return {
    result,
    reference: {
      registration_client_uri: result.registration_client_uri as string,
      registration_access_token: result.registration_access_token as string,
    },
  };
}

// -- dynamicClientRegistrationRequest ---------------------------------------------------------

Deno.test("dynamicClientRegistrationRequest() posts the metadata as JSON to the registration endpoint", async () => {
  const server = createFakeAs();
  const metadata = { ...METADATA, [clockSkew]: 5 } as typeof METADATA;
  const response = await dynamicClientRegistrationRequest(server.as, metadata, server.options);
  await response.body?.cancel();
  const request = server.lastRequest("registration")!;
  assert.equal(request.method, "POST");
  assert.equal(request.url.href, server.as.registration_endpoint);
  assert.equal(request.headers.get("content-type"), "application/json");
  assert.equal(request.headers.get("accept"), "application/json");
  assert.equal(request.headers.get("authorization"), null);
  assert.deepEqual(request.json, METADATA);
});

Deno.test("dynamicClientRegistrationRequest() sends the initial access token as a Bearer token", async () => {
  const server = createFakeAs();
  const response = await dynamicClientRegistrationRequest(server.as, METADATA, {
    ...server.options,
    initialAccessToken: "initial-token",
  });
  await response.body?.cancel();
  assert.equal(
    server.lastRequest("registration")?.headers.get("authorization"),
    "Bearer initial-token",
  );
});

Deno.test("dynamicClientRegistrationRequest() sends a DPoP-bound initial access token with the DPoP scheme and a proof", async () => {
  const server = createFakeAs();
  const dpop = recordingDPoP();
  const response = await dynamicClientRegistrationRequest(server.as, METADATA, {
    ...server.options,
    initialAccessToken: "initial-token",
    DPoP: dpop.handle,
  });
  await response.body?.cancel();
  const request = server.lastRequest("registration")!;
  assert.equal(request.headers.get("authorization"), "DPoP initial-token");
  assert.equal(request.headers.get("dpop"), "proof.jwt.value");
  assert.deepEqual(dpop.proofs, [{
    url: server.as.registration_endpoint,
    method: "POST",
    accessToken: "initial-token",
  }]);
  assert.deepEqual(dpop.nonces, [response]);
});

Deno.test("dynamicClientRegistrationRequest() binds a real DPoP proof to the initial access token", async () => {
  const server = createFakeAs();
  const handle = DPoP(server.client, keys.ES256);
  const response = await dynamicClientRegistrationRequest(server.as, METADATA, {
    ...server.options,
    initialAccessToken: "initial-token",
    DPoP: handle,
  });
  await response.body?.cancel();
  const request = server.lastRequest("registration")!;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("initial-token"));
  const ath = btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  assert.equal(request.headers.get("authorization"), "DPoP initial-token");
  assert.equal(request.dpop?.header?.typ, "dpop+jwt");
  assert.equal(request.dpop?.claims?.htm, "POST");
  assert.equal(request.dpop?.claims?.htu, server.as.registration_endpoint);
  assert.equal(request.dpop?.claims?.ath, ath);
});

Deno.test("dynamicClientRegistrationRequest() sends no Authorization for an empty initialAccessToken, as oauth4webapi", async () => {
  const server = createFakeAs();
  const response = await dynamicClientRegistrationRequest(server.as, METADATA, {
    ...server.options,
    initialAccessToken: "",
  });
  await response.body?.cancel();
  assert.equal(server.lastRequest("registration")!.headers.has("authorization"), false);
});

Deno.test("dynamicClientRegistrationRequest() refuses invalid arguments before any request", async () => {
  const server = createFakeAs();
  await assertTypeError(
    () => dynamicClientRegistrationRequest(server.as, null as never, server.options),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => dynamicClientRegistrationRequest({} as never, METADATA, server.options),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("dynamicClientRegistrationRequest() refuses a server without a registration endpoint before any request", async () => {
  const server = createFakeAs({ metadata: { registration_endpoint: undefined } });
  await assertOAuthError(
    () => register(server),
    OperationProcessingError,
    MISSING_SERVER_METADATA,
    { attribute: "registration_endpoint" },
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("dynamicClientRegistrationRequest() refuses an http: registration endpoint unless insecure requests are allowed", async () => {
  const server = createFakeAs({
    metadata: { registration_endpoint: "http://as.example/register" },
  });
  await assertOAuthError(() => register(server), OperationProcessingError, HTTP_REQUEST_FORBIDDEN);
  assert.equal(server.requests.length, 0);
});

// -- processDynamicClientRegistrationResponse -------------------------------------------------

Deno.test("processDynamicClientRegistrationResponse() returns the fake server's registered client", async () => {
  const server = createFakeAs();
  const client = await processDynamicClientRegistrationResponse(await register(server));
  assert.match(client.client_id, /^client-/);
  assert.equal(typeof client.client_secret, "string");
  assert.equal(client.client_secret_expires_at, 0);
  assert.deepEqual(client.redirect_uris, METADATA.redirect_uris);
});

Deno.test("processDynamicClientRegistrationResponse() accepts a public client without a secret", async () => {
  const server = createFakeAs();
  const response = await dynamicClientRegistrationRequest(
    server.as,
    { ...METADATA, token_endpoint_auth_method: "none" },
    server.options,
  );
  const client = await processDynamicClientRegistrationResponse(response);
  assert.equal(client.client_secret, undefined);
  assert.equal(client.token_endpoint_auth_method, "none");
});

Deno.test("processDynamicClientRegistrationResponse() accepts RFC 7592 management credentials", async () => {
  const server = createFakeAs();
  server.override("registration", server.json(registered(), 201));
  const client = await processDynamicClientRegistrationResponse(await register(server));
  assert.equal(client.registration_access_token, "rat-1");
  assert.equal(client.registration_client_uri, "https://as.example/register?client_id=client-1");
});

Deno.test("processDynamicClientRegistrationResponse() refuses a 200 status (RFC 7591 §3.2.1 prescribes 201)", async () => {
  const server = createFakeAs();
  server.override("registration", server.json(registered(), 200));
  await assertOAuthError(
    async () => processDynamicClientRegistrationResponse(await register(server)),
    OperationProcessingError,
    RESPONSE_IS_NOT_CONFORM,
    { status: 200, expected: 201 },
  );
});

const INVALID_REGISTRATIONS: [string, Record<string, unknown>, string][] = [
  ["a missing client_id", { client_id: undefined }, "client_id"],
  ["an empty client_id", { client_id: "" }, "client_id"],
  ["a numeric client_id", { client_id: 7 }, "client_id"],
  ["an empty client_secret", { client_secret: "" }, "client_secret"],
  [
    "a client_secret without client_secret_expires_at",
    { client_secret_expires_at: undefined },
    "client_secret_expires_at",
  ],
  [
    "a string client_secret_expires_at",
    { client_secret_expires_at: "0" },
    "client_secret_expires_at",
  ],
  ["a string client_id_issued_at", { client_id_issued_at: "now" }, "client_id_issued_at"],
  [
    "a registration_access_token without registration_client_uri",
    { registration_client_uri: undefined },
    "registration_client_uri",
  ],
  [
    "a registration_client_uri without registration_access_token",
    { registration_access_token: undefined },
    "registration_access_token",
  ],
  [
    "a registration_client_uri that is not a URL",
    { registration_client_uri: "/register/1" },
    "registration_client_uri",
  ],
];

for (const [what, overrides, attribute] of INVALID_REGISTRATIONS) {
  Deno.test(`processDynamicClientRegistrationResponse() refuses ${what}`, async () => {
    const server = createFakeAs();
    server.override("registration", server.json(registered(overrides), 201));
    const err = await assertOAuthError(
      async () => processDynamicClientRegistrationResponse(await register(server)),
      OperationProcessingError,
      INVALID_RESPONSE,
      { attribute },
    );
    // credentials never reach an error's cause
    const body = (err.cause as { body: Record<string, unknown> }).body;
    for (const secret of ["client_secret", "registration_access_token"]) {
      if (typeof body[secret] === "string") assert.equal(body[secret], "[redacted]");
    }
  });
}

Deno.test("processDynamicClientRegistrationResponse() reports invalid_redirect_uri as ResponseBodyError", async () => {
  const server = createFakeAs();
  server.override("registration", server.oauthError("invalid_redirect_uri", "not https"));
  const err = await assertOAuthError(
    async () => processDynamicClientRegistrationResponse(await register(server)),
    ResponseBodyError,
    RESPONSE_BODY_ERROR,
    { error: "invalid_redirect_uri" },
  );
  assert.equal(err.status, 400);
});

Deno.test("processDynamicClientRegistrationResponse() reports a rejected initial access token as a challenge", async () => {
  const server = createFakeAs();
  server.override("registration", server.challenge('Bearer error="invalid_token"'));
  const err = await assertOAuthError(
    async () => processDynamicClientRegistrationResponse(await register(server)),
    WWWAuthenticateChallengeError,
    WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(err.cause[0]?.parameters.error, "invalid_token");
});

// -- RFC 7592: clientConfigurationRequest / processClientConfigurationResponse ----------------

Deno.test("clientConfigurationRequest() reads a registration with GET and the registration access token", async () => {
  const server = createFakeAs();
  const { result, reference } = await registerManaged(server);
  const response = await clientConfigurationRequest(reference, "GET", undefined, server.options);
  const read = await processClientConfigurationResponse(response, "GET");
  assert.equal(read.client_id, result.client_id);
  assert.deepEqual(read.redirect_uris, METADATA.redirect_uris);
  const request = server.lastRequest("registration")!;
  assert.equal(request.method, "GET");
  assert.equal(request.url.href, reference.registration_client_uri);
  assert.equal(
    request.headers.get("authorization"),
    `Bearer ${reference.registration_access_token}`,
  );
  assert.equal(request.headers.get("accept"), "application/json");
  assert.equal(request.headers.get("content-type"), null);
  assert.equal(request.body, "");
});

Deno.test("clientConfigurationRequest() updates a registration with PUT, without the server-managed members", async () => {
  const server = createFakeAs();
  const { result, reference } = await registerManaged(server);
  const redirect_uris = ["https://app.example/cb", "https://app.example/cb2"];
  const response = await clientConfigurationRequest(
    reference,
    "PUT",
    { ...result, redirect_uris },
    server.options,
  );
  const updated = await processClientConfigurationResponse(response, "PUT");
  assert.deepEqual(updated.redirect_uris, redirect_uris);
  const request = server.lastRequest("registration")!;
  assert.equal(request.method, "PUT");
  assert.equal(request.headers.get("content-type"), "application/json");
  const sent = request.json as Record<string, unknown>;
  assert.equal(sent.client_id, result.client_id);
  assert.equal(sent.client_secret, result.client_secret); // RFC 7592 §2.2 allows it
  for (
    const name of [
      "registration_access_token",
      "registration_client_uri",
      "client_secret_expires_at",
      "client_id_issued_at",
    ]
  ) {
    assert.equal(name in sent, false, `${name} must not be sent (RFC 7592 §2.2)`);
  }
});

Deno.test("clientConfigurationRequest() deletes a registration with DELETE; the token no longer works", async () => {
  const server = createFakeAs();
  const { reference } = await registerManaged(server);
  const response = await clientConfigurationRequest(reference, "DELETE", undefined, server.options);
  assert.equal(await processClientConfigurationResponse(response, "DELETE"), undefined);
  assert.equal(server.lastRequest("registration")?.method, "DELETE");
  const again = await clientConfigurationRequest(reference, "GET", undefined, server.options);
  const err = await assertOAuthError(
    () => processClientConfigurationResponse(again, "GET"),
    WWWAuthenticateChallengeError,
    WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(err.status, 401);
  assert.equal(err.cause[0]?.parameters.error, "invalid_token");
});

Deno.test("clientConfigurationRequest() sends a DPoP-bound registration access token with the DPoP scheme", async () => {
  const server = createFakeAs();
  server.override("registration", server.json(registered()));
  const dpop = recordingDPoP();
  const reference = {
    registration_client_uri: "https://as.example/register?client_id=client-1",
    registration_access_token: "rat-1",
  };
  const response = await clientConfigurationRequest(reference, "GET", undefined, {
    ...server.options,
    DPoP: dpop.handle,
  });
  await response.body?.cancel();
  assert.equal(server.lastRequest("registration")?.headers.get("authorization"), "DPoP rat-1");
  assert.deepEqual(dpop.proofs, [{
    url: reference.registration_client_uri,
    method: "GET",
    accessToken: "rat-1",
  }]);
});

Deno.test("processClientConfigurationResponse() refuses a DELETE answered with 200", async () => {
  const server = createFakeAs();
  server.override("registration", server.json({}));
  const response = await clientConfigurationRequest(
    registered() as never,
    "DELETE",
    undefined,
    server.options,
  );
  await assertOAuthError(
    () => processClientConfigurationResponse(response, "DELETE"),
    OperationProcessingError,
    RESPONSE_IS_NOT_CONFORM,
    { status: 200, expected: 204 },
  );
});

Deno.test("processClientConfigurationResponse() refuses a GET answered with 204", async () => {
  const server = createFakeAs();
  server.override("registration", new Response(null, { status: 204 }));
  const response = await clientConfigurationRequest(
    registered() as never,
    "GET",
    undefined,
    server.options,
  );
  await assertOAuthError(
    () => processClientConfigurationResponse(response, "GET"),
    OperationProcessingError,
    RESPONSE_IS_NOT_CONFORM,
    { status: 204, expected: 200 },
  );
});

Deno.test("processClientConfigurationResponse() refuses read client information without client_id", async () => {
  const server = createFakeAs();
  server.override("registration", server.json(registered({ client_id: undefined })));
  const response = await clientConfigurationRequest(
    registered() as never,
    "GET",
    undefined,
    server.options,
  );
  await assertOAuthError(
    () => processClientConfigurationResponse(response, "GET"),
    OperationProcessingError,
    INVALID_RESPONSE,
    { attribute: "client_id" },
  );
});

Deno.test("processClientConfigurationResponse() refuses updated client information with a rotated token but no URI", async () => {
  const server = createFakeAs();
  server.override(
    "registration",
    server.json(
      registered({ registration_access_token: "rat-2", registration_client_uri: undefined }),
    ),
  );
  const response = await clientConfigurationRequest(
    registered() as never,
    "PUT",
    { client_id: "client-1" },
    server.options,
  );
  const err = await assertOAuthError(
    () => processClientConfigurationResponse(response, "PUT"),
    OperationProcessingError,
    INVALID_RESPONSE,
    { attribute: "registration_client_uri" },
  );
  const body = (err.cause as { body: Record<string, unknown> }).body;
  assert.equal(body.registration_access_token, "[redacted]");
});

Deno.test("processClientConfigurationResponse() reports invalid_client_metadata on update as ResponseBodyError", async () => {
  const server = createFakeAs();
  const { reference } = await registerManaged(server);
  const response = await clientConfigurationRequest(
    reference,
    "PUT",
    { client_id: "someone-else" },
    server.options,
  );
  await assertOAuthError(
    () => processClientConfigurationResponse(response, "PUT"),
    ResponseBodyError,
    RESPONSE_BODY_ERROR,
    { error: "invalid_client_metadata" },
  );
});

Deno.test("processClientConfigurationResponse() refuses an unknown method", async () => {
  await assertTypeError(
    () => processClientConfigurationResponse(new Response(null, { status: 204 }), "PATCH" as never),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("clientConfigurationRequest() refuses invalid arguments before any request", async () => {
  const server = createFakeAs();
  const reference = {
    registration_client_uri: "https://as.example/register?client_id=client-1",
    registration_access_token: "rat-1",
  };
  const cases: [() => Promise<Response>, "ERR_INVALID_ARG_TYPE" | "ERR_INVALID_ARG_VALUE"][] = [
    [
      () => clientConfigurationRequest(reference, "PATCH" as never, undefined, server.options),
      "ERR_INVALID_ARG_VALUE",
    ],
    [
      () => clientConfigurationRequest(reference, "PUT", undefined, server.options),
      "ERR_INVALID_ARG_TYPE",
    ],
    [
      () => clientConfigurationRequest(reference, "PUT", { client_name: "x" }, server.options),
      "ERR_INVALID_ARG_TYPE",
    ],
    [
      () => clientConfigurationRequest(reference, "GET", { client_id: "c" }, server.options),
      "ERR_INVALID_ARG_VALUE",
    ],
    [
      () => clientConfigurationRequest(reference, "DELETE", { client_id: "c" }, server.options),
      "ERR_INVALID_ARG_VALUE",
    ],
    [
      () =>
        clientConfigurationRequest(
          { ...reference, registration_client_uri: "/register/1" },
          "GET",
          undefined,
          server.options,
        ),
      "ERR_INVALID_ARG_VALUE",
    ],
    [
      () =>
        clientConfigurationRequest(
          { ...reference, registration_access_token: "" },
          "GET",
          undefined,
          server.options,
        ),
      "ERR_INVALID_ARG_VALUE",
    ],
    [
      () =>
        clientConfigurationRequest(
          { registration_client_uri: reference.registration_client_uri } as never,
          "GET",
          undefined,
          server.options,
        ),
      "ERR_INVALID_ARG_TYPE",
    ],
  ];
  for (const [call, code] of cases) await assertTypeError(call, code);
  assert.equal(server.requests.length, 0);
});

Deno.test("clientConfigurationRequest() refuses a non-https registration_client_uri unless insecure requests are allowed", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () =>
      clientConfigurationRequest(
        { registration_client_uri: "http://as.example/register/1", registration_access_token: "t" },
        "GET",
        undefined,
        server.options,
      ),
    OperationProcessingError,
    HTTP_REQUEST_FORBIDDEN,
  );
  await assertOAuthError(
    () =>
      clientConfigurationRequest(
        { registration_client_uri: "ftp://as.example/register/1", registration_access_token: "t" },
        "GET",
        undefined,
        server.options,
      ),
    OperationProcessingError,
    REQUEST_PROTOCOL_FORBIDDEN,
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("registration lifecycle: register, read, update and delete over a loopback socket", async () => {
  await using server = await startFakeAs();
  const { result, reference } = await registerManaged(server);
  assert.ok(reference.registration_client_uri.startsWith("http://127.0.0.1:"));
  const read = await processClientConfigurationResponse(
    await clientConfigurationRequest(reference, "GET", undefined, server.options),
    "GET",
  );
  assert.equal(read.client_id, result.client_id);
  const updated = await processClientConfigurationResponse(
    await clientConfigurationRequest(
      reference,
      "PUT",
      { ...read, client_name: "Renamed" },
      server.options,
    ),
    "PUT",
  );
  assert.equal(updated.client_name, "Renamed");
  const deleted = await processClientConfigurationResponse(
    await clientConfigurationRequest(reference, "DELETE", undefined, server.options),
    "DELETE",
  );
  assert.equal(deleted, undefined);
  assert.deepEqual(
    server.requestsTo("registration").map((r) => r.method),
    ["POST", "GET", "PUT", "DELETE"],
  );
});
