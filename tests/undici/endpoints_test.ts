/**
 * The undici way: every endpoint helper run as an oauth4webapi user's test suite runs it, with
 * undici's `fetch` as the `[customFetch]` and a `MockAgent` standing in for the servers (replies
 * given as plain objects, so without a Content-Type, as such suites usually write them). Each
 * case runs on authlane and on real oauth4webapi 3.8.8 and must pass on both; interceptors match
 * what a server would check (method, path, credentials, grant parameters), so a request that
 * goes astray finds no interceptor and fails.
 */
import assert from "node:assert/strict";
import * as authlane from "@authlane/oauth";
import * as o4w from "oauth4webapi";
import { type Lib, mockAgent } from "./_mock.ts";

const LIBS: [string, Lib][] = [["authlane", authlane], ["oauth4webapi", o4w as unknown as Lib]];

const ISSUER = "https://as.example";
const RS = "https://rs.example";
const as = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  token_endpoint: `${ISSUER}/token`,
  userinfo_endpoint: `${ISSUER}/userinfo`,
  introspection_endpoint: `${ISSUER}/introspect`,
  revocation_endpoint: `${ISSUER}/revoke`,
  pushed_authorization_request_endpoint: `${ISSUER}/par`,
  device_authorization_endpoint: `${ISSUER}/device`,
  backchannel_authentication_endpoint: `${ISSUER}/bc`,
  registration_endpoint: `${ISSUER}/register`,
};
const client: authlane.Client = { client_id: "client" };
const TOKENS = { access_token: "at", token_type: "Bearer", expires_in: 60, refresh_token: "rt" };
const BASIC = `Basic ${btoa("client:secret")}`;

/**
 * An ID token as the token endpoint returns it. Its signature is not checked there (OpenID
 * Connect Core §3.1.3.7 (6), TLS), so the mock's need not verify.
 */
function idToken(): string {
  const b64u = (value: unknown) =>
    btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: ISSUER, aud: "client", sub: "alice", iat: now, exp: now + 300 };
  return `${b64u({ alg: "RS256" })}.${b64u(claims)}.c2lnbmF0dXJl`;
}

/** An interceptor body matcher on form parameters. */
function form(expected: Record<string, string>) {
  return (body: string) => {
    const params = new URLSearchParams(body);
    return Object.entries(expected).every(([k, v]) => params.get(k) === v);
  };
}

/** Runs `fn` on both libraries, each with a MockAgent of its own. */
function both(name: string, fn: (L: Lib, mock: ReturnType<typeof mockAgent>) => Promise<void>) {
  for (const [library, L] of LIBS) {
    Deno.test(`undici MockAgent (${library}): ${name}`, async () => {
      await using mock = mockAgent();
      await fn(L, mock);
    });
  }
}

both("discoveryRequest() and processDiscoveryResponse() read the metadata", async (L, mock) => {
  mock.pool(ISSUER).intercept({ path: "/.well-known/openid-configuration", method: "GET" })
    .reply(200, as);
  const issuer = new URL(ISSUER);
  const metadata = await L.processDiscoveryResponse(
    issuer,
    await L.discoveryRequest(issuer, mock.options(L)),
  );
  assert.equal(metadata.token_endpoint, as.token_endpoint);
});

both(
  "discoveryRequest() with algorithm oauth2 reads RFC 8414 metadata of a path issuer",
  async (L, mock) => {
    const issuer = new URL(`${ISSUER}/tenant`);
    mock.pool(ISSUER)
      .intercept({ path: "/.well-known/oauth-authorization-server/tenant", method: "GET" })
      .reply(200, { ...as, issuer: issuer.href }, {
        headers: { "content-type": "application/json" },
      });
    const metadata = await L.processDiscoveryResponse(
      issuer,
      await L.discoveryRequest(issuer, { ...mock.options(L), algorithm: "oauth2" }),
    );
    assert.equal(metadata.issuer, issuer.href);
  },
);

both("resourceDiscoveryRequest() reads RFC 9728 metadata", async (L, mock) => {
  const resource = new URL(`${RS}/api`);
  mock.pool(RS).intercept({ path: "/.well-known/oauth-protected-resource/api", method: "GET" })
    .reply(200, { resource: resource.href, authorization_servers: [ISSUER] });
  const metadata = await L.processResourceDiscoveryResponse(
    resource,
    await L.resourceDiscoveryRequest(resource, mock.options(L)),
  );
  assert.deepEqual(metadata.authorization_servers, [ISSUER]);
});

both("clientCredentialsGrantRequest() with client_secret_basic gets tokens", async (L, mock) => {
  mock.pool(ISSUER).intercept({
    path: "/token",
    method: "POST",
    headers: { authorization: BASIC },
    body: form({ grant_type: "client_credentials", scope: "api" }),
  }).reply(200, TOKENS);
  const response = await L.clientCredentialsGrantRequest(
    as,
    client,
    L.ClientSecretBasic("secret"),
    { scope: "api" },
    mock.options(L),
  );
  const tokens = await L.processClientCredentialsResponse(as, client, response);
  assert.equal(tokens.access_token, "at");
  assert.equal(tokens.token_type, "bearer");
});

both("authorizationCodeGrantRequest() redeems a code with PKCE", async (L, mock) => {
  const verifier = L.generateRandomCodeVerifier();
  mock.pool(ISSUER).intercept({
    path: "/token",
    method: "POST",
    body: form({
      grant_type: "authorization_code",
      code: "the-code",
      code_verifier: verifier,
      redirect_uri: "https://app.example/cb",
      client_id: "client",
      client_secret: "secret",
    }),
  }).reply(200, TOKENS);
  const params = L.validateAuthResponse(
    as,
    client,
    new URL("https://app.example/cb?code=the-code&state=s"),
    "s",
  );
  const response = await L.authorizationCodeGrantRequest(
    as,
    client,
    L.ClientSecretPost("secret"),
    params,
    "https://app.example/cb",
    verifier,
    mock.options(L),
  );
  const tokens = await L.processAuthorizationCodeResponse(as, client, response);
  assert.equal(tokens.refresh_token, "rt");
});

both("refreshTokenGrantRequest() refreshes", async (L, mock) => {
  mock.pool(ISSUER).intercept({
    path: "/token",
    method: "POST",
    body: form({ grant_type: "refresh_token", refresh_token: "rt" }),
  }).reply(200, { ...TOKENS, access_token: "at-2" });
  const tokens = await L.processRefreshTokenResponse(
    as,
    client,
    await L.refreshTokenGrantRequest(as, client, L.None(), "rt", mock.options(L)),
  );
  assert.equal(tokens.access_token, "at-2");
});

both(
  "refreshTokenGrantRequest() surfaces invalid_grant as a ResponseBodyError",
  async (L, mock) => {
    mock.pool(ISSUER).intercept({ path: "/token", method: "POST" })
      .reply(400, { error: "invalid_grant", error_description: "expired" }, {
        headers: { "content-type": "application/json" },
      });
    const response = await L.refreshTokenGrantRequest(as, client, L.None(), "rt", mock.options(L));
    await assert.rejects(
      () => L.processRefreshTokenResponse(as, client, response),
      (err) => err instanceof L.ResponseBodyError && err.error === "invalid_grant",
    );
  },
);

both("a bare 403 from the token endpoint is RESPONSE_IS_NOT_JSON", async (L, mock) => {
  mock.pool(ISSUER).intercept({ path: "/token", method: "POST" }).reply(403, "");
  const response = await L.clientCredentialsGrantRequest(
    as,
    client,
    L.ClientSecretBasic("wrong"),
    {},
    mock.options(L),
  );
  await assert.rejects(
    () => L.processClientCredentialsResponse(as, client, response),
    (err) => err instanceof L.OperationProcessingError && err.code === L.RESPONSE_IS_NOT_JSON,
  );
});

both(
  "a token response with a WWW-Authenticate challenge beside the 200 still yields the tokens",
  async (L, mock) => {
    mock.pool(ISSUER).intercept({ path: "/token", method: "POST" })
      .reply(200, TOKENS, { headers: { "www-authenticate": 'Key realm="kong"' } });
    const tokens = await L.processClientCredentialsResponse(
      as,
      client,
      await L.clientCredentialsGrantRequest(as, client, L.None(), {}, mock.options(L)),
    );
    assert.equal(tokens.access_token, "at");
  },
);

both("genericTokenEndpointRequest() performs a token exchange", async (L, mock) => {
  mock.pool(ISSUER).intercept({
    path: "/token",
    method: "POST",
    body: form({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: "st",
    }),
  }).reply(200, { ...TOKENS, issued_token_type: "urn:ietf:params:oauth:token-type:access_token" });
  const tokens = await L.processGenericTokenEndpointResponse(
    as,
    client,
    await L.genericTokenEndpointRequest(
      as,
      client,
      L.None(),
      "urn:ietf:params:oauth:grant-type:token-exchange",
      { subject_token: "st", subject_token_type: "urn:ietf:params:oauth:token-type:access_token" },
      mock.options(L),
    ),
  );
  assert.equal(tokens.issued_token_type, "urn:ietf:params:oauth:token-type:access_token");
});

both(
  "userInfoRequest() presents the token and processUserInfoResponse() checks the subject",
  async (L, mock) => {
    mock.pool(ISSUER).intercept({
      path: "/userinfo",
      method: "GET",
      headers: { authorization: "Bearer at" },
    }).reply(200, { sub: "user-1", email: "u@example.com" });
    const userinfo = await L.processUserInfoResponse(
      as,
      client,
      "user-1",
      await L.userInfoRequest(as, client, "at", mock.options(L)),
    );
    assert.equal(userinfo.email, "u@example.com");
  },
);

both(
  "processUserInfoResponse() reports an invalid_token challenge and leaves its body readable",
  async (L, mock) => {
    mock.pool(ISSUER).intercept({ path: "/userinfo", method: "GET" })
      .reply(401, "token expired", {
        headers: { "www-authenticate": 'Bearer error="invalid_token"' },
      });
    const response = await L.userInfoRequest(as, client, "at", mock.options(L));
    const err = await L.processUserInfoResponse(as, client, "user-1", response).then(
      () => assert.fail("expected a challenge"),
      (err) => err,
    );
    assert.ok(err instanceof L.WWWAuthenticateChallengeError);
    assert.equal(err.cause[0]?.parameters.error, "invalid_token");
    assert.equal(await err.response.text(), "token expired");
  },
);

both("introspectionRequest() reads an introspection response", async (L, mock) => {
  mock.pool(ISSUER).intercept({
    path: "/introspect",
    method: "POST",
    headers: { authorization: BASIC },
    body: form({ token: "at" }),
  }).reply(200, { active: true, scope: "api" });
  const info = await L.processIntrospectionResponse(
    as,
    client,
    await L.introspectionRequest(as, client, L.ClientSecretBasic("secret"), "at", mock.options(L)),
  );
  assert.equal(info.active, true);
});

both("revocationRequest() revokes", async (L, mock) => {
  mock.pool(ISSUER).intercept({
    path: "/revoke",
    method: "POST",
    body: form({ token: "rt", token_type_hint: "refresh_token" }),
  }).reply(200, "");
  const response = await L.revocationRequest(as, client, L.None(), "rt", {
    ...mock.options(L),
    additionalParameters: { token_type_hint: "refresh_token" },
  });
  assert.equal(await L.processRevocationResponse(response), undefined);
});

both("pushedAuthorizationRequest() pushes and gets a request_uri", async (L, mock) => {
  mock.pool(ISSUER).intercept({
    path: "/par",
    method: "POST",
    body: form({ response_type: "code", client_id: "client" }),
  }).reply(201, { request_uri: "urn:ietf:params:oauth:request_uri:1", expires_in: 60 });
  const par = await L.processPushedAuthorizationResponse(
    as,
    client,
    await L.pushedAuthorizationRequest(as, client, L.None(), {
      response_type: "code",
      redirect_uri: "https://app.example/cb",
    }, mock.options(L)),
  );
  assert.equal(par.request_uri, "urn:ietf:params:oauth:request_uri:1");
});

both("the device flow: authorization, authorization_pending, then tokens", async (L, mock) => {
  const pool = mock.pool(ISSUER);
  pool.intercept({ path: "/device", method: "POST", body: form({ scope: "openid" }) }).reply(200, {
    device_code: "dc",
    user_code: "UC",
    verification_uri: `${ISSUER}/activate`,
    expires_in: 600,
    interval: 5,
  });
  const grant = { grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: "dc" };
  pool.intercept({ path: "/token", method: "POST", body: form(grant) })
    .reply(400, { error: "authorization_pending" }, {
      headers: { "content-type": "application/json" },
    });
  pool.intercept({ path: "/token", method: "POST", body: form(grant) }).reply(200, TOKENS);
  const device = await L.processDeviceAuthorizationResponse(
    as,
    client,
    await L.deviceAuthorizationRequest(as, client, L.None(), { scope: "openid" }, mock.options(L)),
  );
  assert.equal(device.user_code, "UC");
  const poll = async () =>
    await L.processDeviceCodeResponse(
      as,
      client,
      await L.deviceCodeGrantRequest(as, client, L.None(), device.device_code, mock.options(L)),
    );
  await assert.rejects(
    poll,
    (err) => err instanceof L.ResponseBodyError && err.error === "authorization_pending",
  );
  assert.equal((await poll()).access_token, "at");
});

both("CIBA: backchannel authentication, then the grant", async (L, mock) => {
  const pool = mock.pool(ISSUER);
  pool.intercept({
    path: "/bc",
    method: "POST",
    body: form({ scope: "openid", login_hint: "alice" }),
  }).reply(200, { auth_req_id: "ar", expires_in: 120 });
  pool.intercept({
    path: "/token",
    method: "POST",
    body: form({ grant_type: "urn:openid:params:grant-type:ciba", auth_req_id: "ar" }),
  }).reply(200, { ...TOKENS, id_token: idToken() }); // CIBA Core 1.0 §10.1.1: with an ID token
  const started = await L.processBackchannelAuthenticationResponse(
    as,
    client,
    await L.backchannelAuthenticationRequest(as, client, L.None(), {
      scope: "openid",
      login_hint: "alice",
    }, mock.options(L)),
  );
  const tokens = await L.processBackchannelAuthenticationGrantResponse(
    as,
    client,
    await L.backchannelAuthenticationGrantRequest(
      as,
      client,
      L.None(),
      started.auth_req_id,
      mock.options(L),
    ),
  );
  assert.equal(tokens.access_token, "at");
});

both(
  "dynamicClientRegistrationRequest() registers with an initial access token",
  async (L, mock) => {
    mock.pool(ISSUER).intercept({
      path: "/register",
      method: "POST",
      headers: { authorization: "Bearer iat", "content-type": "application/json" },
      body: (body: string) => JSON.parse(body).redirect_uris?.[0] === "https://app.example/cb",
    }).reply(201, { client_id: "new-client", redirect_uris: ["https://app.example/cb"] });
    const registered = await L.processDynamicClientRegistrationResponse(
      await L.dynamicClientRegistrationRequest(as, { redirect_uris: ["https://app.example/cb"] }, {
        ...mock.options(L),
        initialAccessToken: "iat",
      }),
    );
    assert.equal(registered.client_id, "new-client");
  },
);

both("protectedResourceRequest() calls an API with the access token", async (L, mock) => {
  mock.pool(RS).intercept({
    path: "/api/items?page=2",
    method: "POST",
    headers: { authorization: "Bearer at", "content-type": "application/json" },
    body: '{"a":1}',
  }).reply(200, { items: [] });
  const response = await L.protectedResourceRequest(
    "at",
    "POST",
    new URL(`${RS}/api/items?page=2`),
    new Headers({ "content-type": "application/json" }),
    '{"a":1}',
    mock.options(L),
  );
  assert.deepEqual(await response.json(), { items: [] });
});

both(
  "protectedResourceRequest() with DPoP retries once for the nonce the resource demands",
  async (L, mock) => {
    const pool = mock.pool(RS);
    pool.intercept({ path: "/api", method: "GET" }).reply(401, "", {
      headers: {
        "www-authenticate": 'DPoP error="use_dpop_nonce", algs="ES256"',
        "dpop-nonce": "n-1",
      },
    });
    pool.intercept({
      path: "/api",
      method: "GET",
      headers: {
        authorization: "DPoP at",
        dpop: (proof: string) =>
          JSON.parse(new TextDecoder().decode(
            Uint8Array.from(
              atob(proof.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")),
              (c) => c.charCodeAt(0),
            ),
          )).nonce === "n-1",
      },
    }).reply(200, "ok");
    const DPoP = L.DPoP(client, await L.generateKeyPair("ES256"));
    const call = () =>
      L.protectedResourceRequest("at", "GET", new URL(`${RS}/api`), undefined, undefined, {
        ...mock.options(L),
        DPoP,
      });
    const response = await call().catch(async (err) => {
      assert.ok(L.isDPoPNonceError(err));
      await (err as { response: Response }).response.body?.cancel();
      return await call();
    });
    assert.equal(await response.text(), "ok");
  },
);

both(
  "protectedResourceRequest() sends an externally formed DPoP proof with the DPoP scheme",
  async (L, mock) => {
    mock.pool(RS).intercept({
      path: "/api",
      method: "GET",
      headers: { authorization: "DPoP at", dpop: "external.proof.jws" },
    }).reply(200, "ok");
    const response = await L.protectedResourceRequest(
      "at",
      "GET",
      new URL(`${RS}/api`),
      new Headers({ dpop: "external.proof.jws" }),
      undefined,
      mock.options(L),
    );
    assert.equal(await response.text(), "ok");
  },
);
