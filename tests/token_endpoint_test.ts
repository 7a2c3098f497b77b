/**
 * Token endpoint responses (RFC 6749 §5.1, §5.2, §7.1): the shared processor behind every grant's
 * `processXxxResponse`. The server lies about status, media type, body shape, member types and
 * token types; the processor refuses each lie with the expected class and code, never echoing a
 * token into an error's `cause`.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, type FakeAs } from "./_fake_as.ts";

/** A 200 token response without an ID token, with `overrides` applied. */
async function body(server: FakeAs, overrides?: Record<string, unknown>): Promise<Response> {
  return server.json(await server.tokenBody({ id_token: undefined, ...overrides }));
}

function process(server: FakeAs, response: Response, options?: oauth.ProcessTokenResponseOptions) {
  return oauth.processClientCredentialsResponse(server.as, server.client, response, options);
}

function raw(text: string, status = 200, contentType = "application/json"): Response {
  return new Response(text, { status, headers: { "content-type": contentType } });
}

/** Checks that an INVALID_RESPONSE cause names the attribute and holds no token value. */
function redacted(attribute: string) {
  return (cause: unknown) => {
    const c = cause as { attribute: string; body: Record<string, unknown> };
    assert.equal(c.attribute, attribute);
    for (const name of ["access_token", "refresh_token", "id_token"]) {
      const value = c.body[name];
      if (value !== undefined && typeof value === "string") assert.equal(value, "[redacted]");
    }
  };
}

// --- token_type (RFC 6749 §7.1, RFC 9449 §5) ----------------------------------------------------

Deno.test("processClientCredentialsResponse() lowercases a Bearer token_type", async () => {
  const server = createFakeAs();
  for (const tokenType of ["Bearer", "bearer", "BEARER"]) {
    const result = await process(server, await body(server, { token_type: tokenType }));
    assert.equal(result.token_type, "bearer");
  }
});

Deno.test("processClientCredentialsResponse() lowercases a DPoP token_type", async () => {
  const server = createFakeAs();
  const result = await process(server, await body(server, { token_type: "DPoP" }));
  assert.equal(result.token_type, "dpop");
});

Deno.test("processClientCredentialsResponse() refuses an unknown token_type", async () => {
  const server = createFakeAs();
  for (const tokenType of ["MAC", "bearer ", "Basic"]) {
    await assertOAuthError(
      async () => process(server, await body(server, { token_type: tokenType })),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test("processClientCredentialsResponse() refuses a token_type named after an Object.prototype member", async () => {
  const server = createFakeAs();
  for (const tokenType of ["constructor", "Constructor", "__proto__", "hasOwnProperty"]) {
    await assertOAuthError(
      async () =>
        process(server, await body(server, { token_type: tokenType }), {
          recognizedTokenTypes: { mac: () => {} },
        }),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test("processClientCredentialsResponse() accepts a token_type with a recognizedTokenTypes handler and calls it", async () => {
  const server = createFakeAs();
  const calls: [Response, oauth.TokenEndpointResponse][] = [];
  const response = await body(server, { token_type: "MAC", mac_key: "k" });
  const result = await process(server, response, {
    recognizedTokenTypes: { mac: (res, json) => void calls.push([res, json]) },
  });
  assert.equal(result.token_type, "mac");
  assert.equal(calls.length, 1);
  assert.equal(calls[0]![0], response);
  assert.equal(calls[0]![1], result);
});

Deno.test("processClientCredentialsResponse() lets a recognizedTokenTypes handler refuse the response", async () => {
  const server = createFakeAs();
  const refusal = new Error("mac_key missing");
  await assert.rejects(
    async () =>
      process(server, await body(server, { token_type: "MAC" }), {
        recognizedTokenTypes: {
          mac: () => {
            throw refusal;
          },
        },
      }),
    (err) => err === refusal,
  );
});

// --- body member types (RFC 6749 §5.1) --------------------------------------------------------

const INVALID_MEMBERS: [string, string, Record<string, unknown>][] = [
  ["a missing access_token", "access_token", { access_token: undefined }],
  ["an empty access_token", "access_token", { access_token: "" }],
  ["a numeric access_token", "access_token", { access_token: 12345 }],
  ["a missing token_type", "token_type", { token_type: undefined }],
  ["an empty token_type", "token_type", { token_type: "" }],
  ["a string expires_in", "expires_in", { expires_in: "soon" }],
  ["a negative expires_in", "expires_in", { expires_in: -1 }],
  ["a boolean expires_in", "expires_in", { expires_in: true }],
  ["a non-string scope", "scope", { scope: ["openid", "email"] }],
  ["a numeric scope", "scope", { scope: 1 }],
  ["a non-string refresh_token", "refresh_token", { refresh_token: { value: "rt" } }],
  ["an empty refresh_token", "refresh_token", { refresh_token: "" }],
  ["a non-array authorization_details", "authorization_details", {
    authorization_details: { type: "x" },
  }],
  ["authorization_details with non-objects", "authorization_details", {
    authorization_details: ["x"],
  }],
];

for (const [what, attribute, overrides] of INVALID_MEMBERS) {
  Deno.test(`processClientCredentialsResponse() refuses ${what} without echoing tokens`, async () => {
    const server = createFakeAs();
    const response = server.json(
      await server.tokenBody({ id_token: "header.payload.signature", ...overrides }),
    );
    const err = await assertOAuthError(
      () => process(server, response),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      redacted(attribute),
    );
    const text = JSON.stringify(err.cause) + err.message;
    assert.doesNotMatch(text, /header\.payload\.signature/);
  });
}

Deno.test("processClientCredentialsResponse() keeps token values out of the cause of a refused body", async () => {
  const server = createFakeAs();
  const secretish = "at-SENTINEL-0123456789";
  const refresh = "rt-SENTINEL-9876543210";
  const err = await assertOAuthError(
    () =>
      process(
        server,
        server.json({ access_token: secretish, refresh_token: refresh, expires_in: "x" }),
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { attribute: "token_type" },
  );
  const cause = err.cause as { body: Record<string, unknown> };
  assert.equal(cause.body.access_token, "[redacted]");
  assert.equal(cause.body.refresh_token, "[redacted]");
  const everything = `${err.message} ${JSON.stringify(err.cause)} ${
    Deno.inspect(err, { depth: Infinity })
  }`;
  assert.ok(!everything.includes(secretish));
  assert.ok(!everything.includes(refresh));
});

Deno.test("processClientCredentialsResponse() tolerates a body without expires_in and scope", async () => {
  const server = createFakeAs();
  const result = await process(
    server,
    server.json({ access_token: "at", token_type: "Bearer" }),
  );
  assert.equal(result.access_token, "at");
  assert.equal(result.expires_in, undefined);
  assert.equal(result.scope, undefined);
  assert.equal(result.refresh_token, undefined);
});

Deno.test("processClientCredentialsResponse() accepts expires_in 0, an empty scope and authorization_details", async () => {
  const server = createFakeAs();
  const details = [{ type: "payment_initiation", actions: ["initiate"] }];
  const result = await process(
    server,
    await body(server, { expires_in: 0, scope: "", authorization_details: details }),
  );
  assert.equal(result.expires_in, 0);
  assert.equal(result.scope, "");
  assert.deepEqual(result.authorization_details, details);
});

// --- body shape and media type --------------------------------------------------------------

Deno.test("processClientCredentialsResponse() refuses a body that is not a JSON object", async () => {
  const server = createFakeAs();
  for (const text of ["[]", '[{"access_token":"at","token_type":"bearer"}]', "null", '"at"', "1"]) {
    await assertOAuthError(
      () => process(server, raw(text)),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { status: 200 },
    );
  }
});

Deno.test("processClientCredentialsResponse() refuses a body that does not parse and is not declared as JSON", async () => {
  const server = createFakeAs();
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "text/json"]) {
    await assertOAuthError(
      () => process(server, raw("access_token=at&token_type=bearer", 200, type)),
      oauth.OperationProcessingError,
      oauth.RESPONSE_IS_NOT_JSON,
      { status: 200 },
    );
  }
  const none = new Response("access_token=at", { status: 200 });
  none.headers.delete("content-type");
  await assertOAuthError(
    () => process(server, none),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_JSON,
  );
});

Deno.test("processClientCredentialsResponse() reads a JSON body whatever its content type, as oauth4webapi does", async () => {
  const server = createFakeAs();
  const text = JSON.stringify(await server.tokenBody());
  for (const type of ["text/plain", "text/json"]) {
    assert.equal(typeof (await process(server, raw(text, 200, type))).access_token, "string");
  }
  const none = new Response(text, { status: 200 });
  none.headers.delete("content-type");
  assert.equal(typeof (await process(server, none)).access_token, "string");
});

Deno.test("processClientCredentialsResponse() accepts a JSON body with parameters and a +json type", async () => {
  const server = createFakeAs();
  const text = JSON.stringify({ access_token: "at", token_type: "bearer" });
  for (const type of ["application/json;charset=UTF-8", "Application/JSON", "application/x+json"]) {
    const result = await process(server, raw(text, 200, type));
    assert.equal(result.access_token, "at");
  }
});

Deno.test("processClientCredentialsResponse() refuses a body that is not valid JSON", async () => {
  const server = createFakeAs();
  for (const text of ['{"access_token": "at",', "", "{'a': 1}"]) {
    await assertOAuthError(
      () => process(server, raw(text)),
      oauth.OperationProcessingError,
      oauth.PARSE_ERROR,
    );
  }
});

// --- status codes (RFC 6749 §5.2) ---------------------------------------------------------------

Deno.test("processClientCredentialsResponse() turns a 400 invalid_grant body into a ResponseBodyError", async () => {
  const server = createFakeAs();
  const err = await assertOAuthError(
    () => process(server, server.oauthError("invalid_grant", "code was already used")),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
    { error: "invalid_grant", error_description: "code was already used" },
  );
  assert.equal(err.error, "invalid_grant");
  assert.equal(err.error_description, "code was already used");
  assert.equal(err.status, 400);
  assert.ok(err.response instanceof Response);
  assert.ok(!Object.keys(err).includes("response"));
});

Deno.test("processClientCredentialsResponse() refuses a 200 body carrying an error as not a token", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () => process(server, server.json({ error: "invalid_grant" })),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { attribute: "access_token" },
  );
});

Deno.test("processClientCredentialsResponse() refuses a 500 that is not JSON as not conform", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () => process(server, raw("<h1>oops</h1>", 500, "text/html")),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_CONFORM,
    { status: 500, expected: 200 },
  );
});

Deno.test("processClientCredentialsResponse() refuses a 201 token body as not conform", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    async () => process(server, server.json(await server.tokenBody(), 201)),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_CONFORM,
    { status: 201 },
  );
});

Deno.test("processClientCredentialsResponse() turns a WWW-Authenticate challenge into a WWWAuthenticateChallengeError", async () => {
  const server = createFakeAs();
  const err = await assertOAuthError(
    () => process(server, server.challenge('Basic realm="as", error="invalid_client"')),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(err.status, 401);
  assert.equal(err.cause[0]?.scheme.toLowerCase(), "basic");
  assert.equal(err.cause[0]?.parameters.error, "invalid_client");
});

Deno.test("processClientCredentialsResponse() refuses a used body and a non-Response before reading", async () => {
  const server = createFakeAs();
  const response = await body(server);
  await response.text();
  await assertTypeError(() => process(server, response), "ERR_INVALID_ARG_VALUE");
  await assertTypeError(
    async () => process(server, (await server.tokenBody()) as unknown as Response),
    "ERR_INVALID_ARG_TYPE",
  );
});

// --- hostile JSON ---------------------------------------------------------------------------------

Deno.test("processClientCredentialsResponse() does not let __proto__ members pollute Object.prototype", async () => {
  const server = createFakeAs();
  const hostile =
    '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},' +
    '"access_token":"at","token_type":"Bearer"}';
  const result = await process(server, raw(hostile));
  assert.equal(result.access_token, "at");
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((result as unknown as Record<string, unknown>).polluted, undefined);
  // The redacted copy made for a refusal is built the same way.
  await assertOAuthError(
    () => process(server, raw('{"__proto__":{"polluted":"yes"},"access_token":"at"}')),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

// --- the generic grant processor and the others share these rules ------------------------

Deno.test("processGenericTokenEndpointResponse() and processRefreshTokenResponse() apply the same body rules", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    async () =>
      oauth.processGenericTokenEndpointResponse(
        server.as,
        server.client,
        await body(server, { access_token: undefined }),
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { attribute: "access_token" },
  );
  await assertOAuthError(
    async () =>
      oauth.processRefreshTokenResponse(
        server.as,
        server.client,
        await body(server, { token_type: "MAC" }),
      ),
    oauth.UnsupportedOperationError,
  );
  const ok = await oauth.processGenericTokenEndpointResponse(
    server.as,
    server.client,
    await body(server, { issued_token_type: "urn:ietf:params:oauth:token-type:access_token" }),
  );
  assert.equal(ok.issued_token_type, "urn:ietf:params:oauth:token-type:access_token");
});

Deno.test("processClientCredentialsResponse() refuses invalid as and client before reading", async () => {
  const server = createFakeAs();
  const response = await body(server);
  await assertTypeError(
    () =>
      oauth.processClientCredentialsResponse(
        { issuer: "" } as oauth.AuthorizationServer,
        server.client,
        response,
      ),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () =>
      oauth.processClientCredentialsResponse(
        server.as,
        null as unknown as oauth.Client,
        response,
      ),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(response.bodyUsed, false);
  await response.body?.cancel();
});
