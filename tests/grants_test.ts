/**
 * The core grants on the wire: authorization code with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5),
 * refresh token (RFC 6749 §6), client credentials (RFC 6749 §4.4) and the generic grant (RFC 8693
 * token exchange). What is sent, what a caller cannot override, what is refused before any
 * request, and where the request goes (RFC 8705 §5 mTLS endpoint aliases).
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, type FakeAs } from "./_fake_as.ts";

// RFC 7636 Appendix B.
const VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT_URI = "https://app.example/cb";
const STATE = "af0ifjsldkj";
const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

/** Runs the authorization route and validates the callback; PKCE on unless `pkce` is false. */
async function authorize(
  server: FakeAs,
  extra: Record<string, string> = {},
  pkce = true,
): Promise<URLSearchParams> {
  const callback = await server.authorize({
    response_type: "code",
    client_id: server.client.client_id,
    redirect_uri: REDIRECT_URI,
    state: STATE,
    ...(pkce ? { code_challenge: CHALLENGE, code_challenge_method: "S256" } : {}),
    ...extra,
  });
  return oauth.validateAuthResponse(server.as, server.client, callback, STATE);
}

function auth(server: FakeAs): oauth.ClientAuth {
  return oauth.ClientSecretPost(server.clientSecret);
}

Deno.test("fixture: the PKCE pair is RFC 7636 Appendix B's", async () => {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(VERIFIER));
  const b64u = btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  assert.equal(b64u, CHALLENGE);
});

// --- authorization code -----------------------------------------------------------------------

Deno.test("authorizationCodeGrantRequest() refuses raw callback parameters before any request", async () => {
  const server = createFakeAs();
  const callback = await server.authorize({
    response_type: "code",
    client_id: server.client.client_id,
    redirect_uri: REDIRECT_URI,
    state: STATE,
  });
  const validated = oauth.validateAuthResponse(server.as, server.client, callback, STATE);
  for (
    const params of [
      callback.searchParams,
      new URLSearchParams({ code: validated.get("code")! }),
      new URLSearchParams(validated), // a copy loses the mark
    ]
  ) {
    await assertTypeError(
      () =>
        oauth.authorizationCodeGrantRequest(
          server.as,
          server.client,
          auth(server),
          params,
          REDIRECT_URI,
          VERIFIER,
          server.options,
        ),
      "ERR_INVALID_ARG_VALUE",
    );
  }
  assert.equal(server.requestsTo("token").length, 0);
});

Deno.test("authorizationCodeGrantRequest() sends code, redirect_uri, code_verifier and grant_type", async () => {
  const server = createFakeAs();
  const params = await authorize(server, { nonce: "n-0S6_WzA2Mj", scope: "openid" });
  const response = await oauth.authorizationCodeGrantRequest(
    server.as,
    server.client,
    auth(server),
    params,
    REDIRECT_URI,
    VERIFIER,
    server.options,
  );
  const sent = server.lastRequest("token")!;
  assert.equal(sent.method, "POST");
  assert.equal(sent.url.href, server.as.token_endpoint);
  assert.equal(sent.form?.get("grant_type"), "authorization_code");
  assert.equal(sent.form?.get("code"), params.get("code"));
  assert.equal(sent.form?.get("redirect_uri"), REDIRECT_URI);
  assert.equal(sent.form?.get("code_verifier"), VERIFIER);
  assert.equal(sent.form?.get("client_id"), server.client.client_id);
  assert.equal(sent.form?.has("state"), false);
  assert.equal(sent.form?.has("iss"), false);
  assert.equal(sent.headers.get("accept"), "application/json");
  assert.match(sent.headers.get("content-type") ?? "", /^application\/x-www-form-urlencoded/);
  // The fake AS checked PKCE and single use; its answer validates.
  const result = await oauth.processAuthorizationCodeResponse(server.as, server.client, response, {
    expectedNonce: "n-0S6_WzA2Mj",
  });
  assert.equal(result.token_type, "bearer");
  assert.equal(result.scope, "openid");
  assert.equal(oauth.getValidatedIdTokenClaims(result)?.nonce, "n-0S6_WzA2Mj");
});

Deno.test("authorizationCodeGrantRequest() with the wrong verifier gets the server's invalid_grant", async () => {
  const server = createFakeAs();
  const params = await authorize(server);
  const response = await oauth.authorizationCodeGrantRequest(
    server.as,
    server.client,
    auth(server),
    params,
    REDIRECT_URI,
    "wrong-verifier-wrong-verifier-wrong-verifier",
    server.options,
  );
  await assertOAuthError(
    () => oauth.processAuthorizationCodeResponse(server.as, server.client, response),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
    { error: "invalid_grant" },
  );
});

Deno.test("authorizationCodeGrantRequest() omits code_verifier with nopkce", async () => {
  const server = createFakeAs();
  const params = await authorize(server, {}, false);
  const response = await oauth.authorizationCodeGrantRequest(
    server.as,
    server.client,
    auth(server),
    params,
    REDIRECT_URI,
    oauth.nopkce,
    server.options,
  );
  const sent = server.lastRequest("token")!;
  assert.equal(sent.form?.has("code_verifier"), false);
  assert.equal(sent.form?.get("code"), params.get("code"));
  await oauth.processAuthorizationCodeResponse(server.as, server.client, response);
});

Deno.test("authorizationCodeGrantRequest() refuses an empty or missing code verifier before any request", async () => {
  const server = createFakeAs();
  const params = await authorize(server);
  const call = (verifier: unknown) =>
    oauth.authorizationCodeGrantRequest(
      server.as,
      server.client,
      auth(server),
      params,
      REDIRECT_URI,
      verifier as string,
      server.options,
    );
  await assertTypeError(() => call(""), "ERR_INVALID_ARG_VALUE");
  await assertTypeError(() => call(undefined), "ERR_INVALID_ARG_TYPE");
  await assertTypeError(() => call(Symbol("nopkce")), "ERR_INVALID_ARG_TYPE");
  assert.equal(server.requestsTo("token").length, 0);
});

Deno.test("authorizationCodeGrantRequest() refuses an empty redirect_uri before any request", async () => {
  const server = createFakeAs();
  const params = await authorize(server);
  await assertTypeError(
    () =>
      oauth.authorizationCodeGrantRequest(
        server.as,
        server.client,
        auth(server),
        params,
        "",
        VERIFIER,
        server.options,
      ),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(server.requestsTo("token").length, 0);
});

Deno.test("authorizationCodeGrantRequest() refuses validated parameters without a code before any request", async () => {
  const server = createFakeAs();
  const url = new URL(`${REDIRECT_URI}?state=${STATE}&iss=${encodeURIComponent(server.issuer)}`);
  const params = oauth.validateAuthResponse(server.as, server.client, url, STATE);
  await assertOAuthError(
    () =>
      oauth.authorizationCodeGrantRequest(
        server.as,
        server.client,
        auth(server),
        params,
        REDIRECT_URI,
        VERIFIER,
        server.options,
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.equal(server.requestsTo("token").length, 0);
});

Deno.test("authorizationCodeGrantRequest() keeps its own parameters over additionalParameters", async () => {
  const server = createFakeAs();
  const params = await authorize(server);
  const response = await oauth.authorizationCodeGrantRequest(
    server.as,
    server.client,
    auth(server),
    params,
    REDIRECT_URI,
    VERIFIER,
    {
      ...server.options,
      additionalParameters: {
        code: "attacker-code",
        grant_type: "password",
        redirect_uri: "https://attacker.example/cb",
        code_verifier: "attacker-verifier",
        client_id: "attacker-client",
        resource: "https://rs.example/api",
      },
    },
  );
  const form = server.lastRequest("token")!.form!;
  assert.deepEqual(form.getAll("code"), [params.get("code")]);
  assert.deepEqual(form.getAll("grant_type"), ["authorization_code"]);
  assert.deepEqual(form.getAll("redirect_uri"), [REDIRECT_URI]);
  assert.deepEqual(form.getAll("code_verifier"), [VERIFIER]);
  assert.deepEqual(form.getAll("client_id"), [server.client.client_id]);
  assert.equal(form.get("resource"), "https://rs.example/api");
  await oauth.processAuthorizationCodeResponse(server.as, server.client, response);
});

// --- refresh token ---------------------------------------------------------------------------

Deno.test("refreshTokenGrantRequest() sends the refresh token and additional parameters", async () => {
  const server = createFakeAs();
  const response = await oauth.refreshTokenGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretBasic(server.clientSecret),
    "rt-1",
    {
      ...server.options,
      additionalParameters: { scope: "openid email", refresh_token: "rt-other", grant_type: "x" },
    },
  );
  const sent = server.lastRequest("token")!;
  assert.deepEqual(sent.form?.getAll("grant_type"), ["refresh_token"]);
  assert.deepEqual(sent.form?.getAll("refresh_token"), ["rt-1"]);
  assert.equal(sent.form?.get("scope"), "openid email");
  assert.equal(sent.clientAuth?.method, "client_secret_basic");
  const result = await oauth.processRefreshTokenResponse(server.as, server.client, response);
  assert.equal(typeof result.access_token, "string");
  assert.equal(typeof result.refresh_token, "string");
});

Deno.test("refreshTokenGrantRequest() refuses an empty or missing refresh token before any request", async () => {
  const server = createFakeAs();
  const call = (token: unknown) =>
    oauth.refreshTokenGrantRequest(
      server.as,
      server.client,
      auth(server),
      token as string,
      server.options,
    );
  await assertTypeError(() => call(""), "ERR_INVALID_ARG_VALUE");
  await assertTypeError(() => call(undefined), "ERR_INVALID_ARG_TYPE");
  assert.equal(server.requests.length, 0);
});

// --- client credentials ----------------------------------------------------------------------

Deno.test("clientCredentialsGrantRequest() sends scope and every resource", async () => {
  const server = createFakeAs();
  const parameters = new URLSearchParams({ scope: "api:read api:write" });
  parameters.append("resource", "https://rs1.example");
  parameters.append("resource", "https://rs2.example");
  const response = await oauth.clientCredentialsGrantRequest(
    server.as,
    server.client,
    auth(server),
    parameters,
    server.options,
  );
  const form = server.lastRequest("token")!.form!;
  assert.equal(form.get("grant_type"), "client_credentials");
  assert.equal(form.get("scope"), "api:read api:write");
  assert.deepEqual(form.getAll("resource"), ["https://rs1.example", "https://rs2.example"]);
  // The caller's object is not modified.
  assert.equal(parameters.has("grant_type"), false);
  assert.equal(parameters.has("client_secret"), false);
  const result = await oauth.processClientCredentialsResponse(server.as, server.client, response);
  assert.equal(result.scope, "api:read api:write");
  assert.equal(result.refresh_token, undefined);
});

Deno.test("clientCredentialsGrantRequest() accepts records and pairs, and keeps its grant_type", async () => {
  const server = createFakeAs();
  for (
    const parameters of [
      { scope: "a", grant_type: "password" },
      [["scope", "a"], ["grant_type", "password"]],
    ]
  ) {
    const response = await oauth.clientCredentialsGrantRequest(
      server.as,
      server.client,
      auth(server),
      parameters,
      server.options,
    );
    const form = server.lastRequest("token")!.form!;
    assert.deepEqual(form.getAll("grant_type"), ["client_credentials"]);
    assert.equal(form.get("scope"), "a");
    await oauth.processClientCredentialsResponse(server.as, server.client, response);
  }
});

// --- generic grant (RFC 8693 token exchange) ------------------------------------------------

Deno.test("genericTokenEndpointRequest() sends a token exchange request and processes its answer", async () => {
  const server = createFakeAs();
  const response = await oauth.genericTokenEndpointRequest(
    server.as,
    server.client,
    auth(server),
    TOKEN_EXCHANGE,
    {
      subject_token: "subject-at",
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience: "https://backend.example",
      grant_type: "authorization_code",
    },
    server.options,
  );
  const form = server.lastRequest("token")!.form!;
  assert.deepEqual(form.getAll("grant_type"), [TOKEN_EXCHANGE]);
  assert.equal(form.get("subject_token"), "subject-at");
  assert.equal(form.get("subject_token_type"), ACCESS_TOKEN_TYPE);
  assert.equal(form.get("audience"), "https://backend.example");
  const result = await oauth.processGenericTokenEndpointResponse(
    server.as,
    server.client,
    response,
  );
  assert.equal(result.issued_token_type, ACCESS_TOKEN_TYPE);
  assert.equal(result.token_type, "bearer");
});

Deno.test("genericTokenEndpointRequest() refuses an empty grant type before any request", async () => {
  const server = createFakeAs();
  await assertTypeError(
    () =>
      oauth.genericTokenEndpointRequest(
        server.as,
        server.client,
        auth(server),
        "",
        {},
        server.options,
      ),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () =>
      oauth.genericTokenEndpointRequest(
        server.as,
        server.client,
        auth(server),
        TOKEN_EXCHANGE,
        "subject_token=x" as unknown as Record<string, string>,
        server.options,
      ),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(server.requests.length, 0);
});

// --- where the request goes ---------------------------------------------------------------------

type GrantCall = (
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  server: FakeAs,
  options: oauth.TokenEndpointRequestOptions,
) => Promise<Response>;

/** Each grant, ready to send; the code grant needs a validated callback first. */
async function grants(server: FakeAs): Promise<[string, GrantCall][]> {
  const params = await authorize(server);
  return [
    [
      "authorizationCodeGrantRequest()",
      (as, client, s, options) =>
        oauth.authorizationCodeGrantRequest(
          as,
          client,
          auth(s),
          params,
          REDIRECT_URI,
          VERIFIER,
          options,
        ),
    ],
    [
      "refreshTokenGrantRequest()",
      (as, client, s, options) =>
        oauth.refreshTokenGrantRequest(as, client, auth(s), "rt", options),
    ],
    [
      "clientCredentialsGrantRequest()",
      (as, client, s, options) =>
        oauth.clientCredentialsGrantRequest(as, client, auth(s), { scope: "a" }, options),
    ],
    [
      "genericTokenEndpointRequest()",
      (as, client, s, options) =>
        oauth.genericTokenEndpointRequest(as, client, auth(s), TOKEN_EXCHANGE, {
          subject_token: "x",
          subject_token_type: ACCESS_TOKEN_TYPE,
        }, options),
    ],
  ];
}

Deno.test("every grant request refuses metadata without token_endpoint before any request", async () => {
  const server = createFakeAs();
  const { token_endpoint: _omitted, ...as } = server.as;
  for (const [name, call] of await grants(server)) {
    await assertOAuthError(
      () => call(as, server.client, server, server.options),
      oauth.OperationProcessingError,
      oauth.MISSING_SERVER_METADATA,
      (cause) => assert.deepEqual(cause, { attribute: "token_endpoint" }, name),
    );
  }
  assert.equal(server.requestsTo("token").length, 0);
});

Deno.test("every grant request refuses an http: token endpoint unless insecure requests are allowed", async () => {
  const server = createFakeAs();
  const as = { ...server.as, token_endpoint: "http://as.example/token" };
  for (const [, call] of await grants(server)) {
    await assertOAuthError(
      () => call(as, server.client, server, server.options),
      oauth.OperationProcessingError,
      oauth.HTTP_REQUEST_FORBIDDEN,
    );
  }
  assert.equal(server.requestsTo("token").length, 0);
});

Deno.test("every grant request uses the mTLS token endpoint alias when the client asks for aliases", async () => {
  const server = createFakeAs();
  const client = { ...server.client, use_mtls_endpoint_aliases: true };
  for (const [name, call] of await grants(server)) {
    const response = await call(server.as, client, server, server.options);
    await response.body?.cancel();
    const sent = server.lastRequest("token")!;
    assert.equal(sent.url.href, server.as.mtls_endpoint_aliases.token_endpoint, name);
    assert.equal(sent.mtls, true, name);
  }
});

Deno.test("every grant request falls back to token_endpoint when the alias is absent", async () => {
  const server = createFakeAs();
  const { token_endpoint: _omitted, ...aliases } = server.as.mtls_endpoint_aliases;
  const as = { ...server.as, mtls_endpoint_aliases: aliases };
  const client = { ...server.client, use_mtls_endpoint_aliases: true };
  for (const [name, call] of await grants(server)) {
    const response = await call(as, client, server, server.options);
    await response.body?.cancel();
    const sent = server.lastRequest("token")!;
    assert.equal(sent.url.href, server.as.token_endpoint, name);
    assert.equal(sent.mtls, false, name);
  }
});

Deno.test("every grant request ignores the aliases when the client does not ask for them", async () => {
  const server = createFakeAs();
  for (const [name, call] of await grants(server)) {
    const response = await call(server.as, server.client, server, server.options);
    await response.body?.cancel();
    const sent = server.lastRequest("token")!;
    assert.equal(sent.url.href, server.as.token_endpoint, name);
    assert.equal(sent.mtls, false, name);
  }
});

Deno.test("refreshTokenGrantRequest() sends caller headers but keeps its own content-type", async () => {
  const server = createFakeAs();
  const response = await oauth.refreshTokenGrantRequest(
    server.as,
    server.client,
    auth(server),
    "rt",
    {
      ...server.options,
      headers: { "x-request-id": "abc", "content-type": "application/json" },
    },
  );
  await response.body?.cancel();
  const sent = server.lastRequest("token")!;
  assert.equal(sent.headers.get("x-request-id"), "abc");
  assert.match(sent.headers.get("content-type") ?? "", /^application\/x-www-form-urlencoded/);
  assert.ok(sent.headers.get("user-agent"));
  assert.equal(sent.form?.get("refresh_token"), "rt");
});
