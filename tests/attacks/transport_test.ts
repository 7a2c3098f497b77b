/**
 * Attack family: transport (RFC 9700 §4.1, §4.13; RFC 6749 §10.9; RFC 8705 §5). A network
 * attacker wins if the client talks plain HTTP, follows a scheme it should not, resolves an
 * endpoint somewhere the metadata did not name, or sends credentials beyond the endpoint they are
 * for. Every URL the library requests must be `https:` unless `[allowInsecureRequests]`, is
 * refused before any byte is sent, and credentials only ever go to the endpoint the metadata
 * names.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { createFakeAs, type FakeAs, type FakeRequest } from "../_fake_as.ts";

type Endpoint =
  | "token_endpoint"
  | "userinfo_endpoint"
  | "introspection_endpoint"
  | "revocation_endpoint"
  | "pushed_authorization_request_endpoint"
  | "device_authorization_endpoint"
  | "backchannel_authentication_endpoint"
  | "registration_endpoint"
  | "jwks_uri";

/** One request helper per endpoint, sending to `as` with `options`. */
const SENDERS: Record<
  Endpoint,
  (as: oauth.AuthorizationServer, client: oauth.Client, options: object) => Promise<unknown>
> = {
  token_endpoint: (as, c, o) =>
    oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretPost("fake-secret"), {}, o),
  userinfo_endpoint: (as, c, o) => oauth.userInfoRequest(as, c, "access-token", o),
  introspection_endpoint: (as, c, o) =>
    oauth.introspectionRequest(as, c, oauth.ClientSecretPost("fake-secret"), "token", o),
  revocation_endpoint: (as, c, o) =>
    oauth.revocationRequest(as, c, oauth.ClientSecretPost("fake-secret"), "token", o),
  pushed_authorization_request_endpoint: (as, c, o) =>
    oauth.pushedAuthorizationRequest(as, c, oauth.ClientSecretPost("fake-secret"), {}, o),
  device_authorization_endpoint: (as, c, o) =>
    oauth.deviceAuthorizationRequest(as, c, oauth.ClientSecretPost("fake-secret"), {}, o),
  backchannel_authentication_endpoint: (as, c, o) =>
    oauth.backchannelAuthenticationRequest(as, c, oauth.ClientSecretPost("fake-secret"), {}, o),
  registration_endpoint: (as, _c, o) =>
    oauth.dynamicClientRegistrationRequest(as, {}, { ...o, initialAccessToken: "iat" }),
  jwks_uri: async (as, c, o) => {
    const server = createFakeAs();
    const response = new Response(
      JSON.stringify({
        access_token: "at",
        token_type: "Bearer",
        id_token: await server.idToken(),
      }),
      { headers: { "content-type": "application/json" } },
    );
    await oauth.processGenericTokenEndpointResponse(server.as, c, response);
    return await oauth.validateApplicationLevelSignature(as, response, o);
  },
};

const ENDPOINTS = Object.keys(SENDERS) as Endpoint[];

async function drain(result: unknown): Promise<void> {
  if (result instanceof Response) await result.body?.cancel();
}

for (const endpoint of ENDPOINTS) {
  Deno.test(`downgrade to http: an http: ${endpoint} is refused before any request`, async () => {
    const server = createFakeAs();
    const as = { ...server.as, [endpoint]: server.as[endpoint].replace("https:", "http:") };
    await assertOAuthError(
      () => SENDERS[endpoint](as, server.client, server.options),
      oauth.OperationProcessingError,
      oauth.HTTP_REQUEST_FORBIDDEN,
    );
    assert.deepEqual(server.requests, []);
  });
}

Deno.test("downgrade to http: an http: mTLS alias is refused although the plain endpoint is https:", async () => {
  const server = createFakeAs();
  const client = { ...server.client, use_mtls_endpoint_aliases: true };
  const aliased = ENDPOINTS.filter((e) => e in server.as.mtls_endpoint_aliases);
  assert.ok(aliased.length >= 6);
  for (const endpoint of aliased) {
    const aliases = server.as.mtls_endpoint_aliases as Record<string, string>;
    const as = {
      ...server.as,
      mtls_endpoint_aliases: {
        ...aliases,
        [endpoint]: aliases[endpoint]!.replace("https:", "http:"),
      },
    };
    await assertOAuthError(
      () => SENDERS[endpoint](as, client, server.options),
      oauth.OperationProcessingError,
      oauth.HTTP_REQUEST_FORBIDDEN,
    ).catch((err) => assert.fail(`${endpoint}: ${err}`));
  }
  assert.deepEqual(server.requests, []);
});

Deno.test("downgrade to http: discovery, resource discovery, protected resources and client configuration refuse http: before any request", async () => {
  const server = createFakeAs();
  const calls: (() => Promise<unknown>)[] = [
    () => oauth.discoveryRequest(new URL("http://as.example"), server.options),
    () => oauth.resourceDiscoveryRequest(new URL("http://as.example/resource"), server.options),
    () =>
      oauth.protectedResourceRequest(
        "access-token",
        "GET",
        new URL("http://as.example/resource"),
        undefined,
        undefined,
        server.options,
      ),
    () =>
      oauth.clientConfigurationRequest(
        {
          registration_client_uri: "http://as.example/register/client",
          registration_access_token: "rat",
        },
        "GET",
        undefined,
        server.options,
      ),
  ];
  for (const call of calls) {
    await assertOAuthError(call, oauth.OperationProcessingError, oauth.HTTP_REQUEST_FORBIDDEN);
  }
  assert.deepEqual(server.requests, []);
});

Deno.test("downgrade to http: allowInsecureRequests is the only way to reach an http: endpoint", async () => {
  const server = createFakeAs();
  const as = { ...server.as, token_endpoint: server.as.token_endpoint.replace("https:", "http:") };
  const response = await SENDERS.token_endpoint(as, server.client, {
    ...server.options,
    [oauth.allowInsecureRequests]: true,
  });
  await drain(response);
  assert.equal(server.requests.length, 1);
});

Deno.test("scheme smuggling: endpoints with other schemes are refused even with allowInsecureRequests", async () => {
  const server = createFakeAs();
  const schemes = [
    "file:///etc/passwd",
    "data:application/json,{}",
    "javascript:alert(1)",
    "ftp://as.example/token",
    "ws://as.example/token",
    "blob:https://as.example/1",
  ];
  for (const endpoint of ENDPOINTS) {
    for (const url of schemes) {
      await assertOAuthError(
        () =>
          SENDERS[endpoint]({ ...server.as, [endpoint]: url }, server.client, {
            ...server.options,
            [oauth.allowInsecureRequests]: true,
          }),
        oauth.OperationProcessingError,
        oauth.REQUEST_PROTOCOL_FORBIDDEN,
      ).catch((err) => assert.fail(`${endpoint} ${url}: ${err}`));
    }
  }
  assert.deepEqual(server.requests, []);
});

Deno.test("endpoint confusion: an endpoint that is not an absolute URL is refused, never resolved against anything", async () => {
  const server = createFakeAs();
  for (const endpoint of ENDPOINTS) {
    for (const url of ["//attacker.example/token", "/token", "token", "", "https//as.example"]) {
      await assertOAuthError(
        () => SENDERS[endpoint]({ ...server.as, [endpoint]: url }, server.client, server.options),
        oauth.OperationProcessingError,
        oauth.INVALID_SERVER_METADATA,
        { attribute: endpoint },
      ).catch((err) => assert.fail(`${endpoint} ${JSON.stringify(url)}: ${err}`));
    }
  }
  assert.deepEqual(server.requests, []);
});

Deno.test("endpoint confusion: a non-string endpoint is refused before any request", async () => {
  const server = createFakeAs();
  for (const value of [{ href: "https://attacker.example" }, ["https://attacker.example"], 42]) {
    await assertOAuthError(
      () =>
        SENDERS.token_endpoint(
          { ...server.as, token_endpoint: value as unknown as string },
          server.client,
          server.options,
        ),
      oauth.OperationProcessingError,
      oauth.INVALID_SERVER_METADATA,
    );
  }
  assert.deepEqual(server.requests, []);
});

Deno.test("credential smuggling: an endpoint carrying user:pass@ is refused before any request, for every endpoint", async () => {
  const server = createFakeAs();
  for (const endpoint of ENDPOINTS) {
    const smuggled = server.as[endpoint].replace("https://", "https://attacker:pw@");
    await assertOAuthError(
      () =>
        SENDERS[endpoint]({ ...server.as, [endpoint]: smuggled }, server.client, server.options),
      oauth.OperationProcessingError,
      oauth.INVALID_SERVER_METADATA,
      { attribute: endpoint },
    ).catch((err) => assert.fail(`${endpoint}: ${err}`));
  }
  assert.deepEqual(server.requests, []);
  // The same endpoints without the userinfo part are reached.
  await drain(await SENDERS.token_endpoint(server.as, server.client, server.options));
  assert.equal(server.requests.length, 1);
});

Deno.test("credential smuggling: an mTLS alias carrying user:pass@ is refused before any request", async () => {
  const server = createFakeAs();
  const client = { ...server.client, use_mtls_endpoint_aliases: true };
  const aliases = server.as.mtls_endpoint_aliases as Record<string, string>;
  const aliased = ENDPOINTS.filter((e) => e in aliases);
  for (const endpoint of aliased) {
    const as = {
      ...server.as,
      mtls_endpoint_aliases: {
        ...aliases,
        [endpoint]: aliases[endpoint]!.replace("https://", "https://user@"),
      },
    };
    await assertOAuthError(
      () => SENDERS[endpoint](as, client, server.options),
      oauth.OperationProcessingError,
      oauth.INVALID_SERVER_METADATA,
    ).catch((err) => assert.fail(`${endpoint}: ${err}`));
  }
  assert.deepEqual(server.requests, []);
});

/** Where a request carried any client credential or token. */
function credentialsOf(request: FakeRequest): string[] {
  const found: string[] = [];
  if (request.headers.has("authorization")) found.push("authorization");
  for (const name of ["client_secret", "client_assertion", "token", "refresh_token"]) {
    if (request.form?.has(name)) found.push(name);
  }
  if (request.url.search.length > 0) found.push(`query ${request.url.search}`);
  return found;
}

Deno.test("credential routing: each credential goes only to the endpoint the metadata names for it", async () => {
  const server = createFakeAs();
  for (const endpoint of ENDPOINTS) {
    await drain(await SENDERS[endpoint](server.as, server.client, server.options));
  }
  const seen = server.requests.map((r) => [r.url.href, credentialsOf(r)]);
  assert.deepEqual(seen, [
    [server.as.token_endpoint, ["client_secret"]],
    [server.as.userinfo_endpoint, ["authorization"]],
    [server.as.introspection_endpoint, ["client_secret", "token"]],
    [server.as.revocation_endpoint, ["client_secret", "token"]],
    [server.as.pushed_authorization_request_endpoint, ["client_secret"]],
    [server.as.device_authorization_endpoint, ["client_secret"]],
    [server.as.backchannel_authentication_endpoint, ["client_secret"]],
    [server.as.registration_endpoint, ["authorization"]],
    [server.as.jwks_uri, []],
  ]);
});

Deno.test("credential routing: with mTLS aliases credentials go to the aliases the metadata names, and discovery and the JWKS get none", async () => {
  const server = createFakeAs();
  const client = { ...server.client, use_mtls_endpoint_aliases: true };
  const aliases = server.as.mtls_endpoint_aliases as Record<string, string>;
  for (const endpoint of ENDPOINTS) {
    await drain(await SENDERS[endpoint](server.as, client, server.options));
  }
  await drain(await oauth.discoveryRequest(new URL(server.issuer), server.options));
  for (const request of server.requests) {
    const endpoint = ENDPOINTS.find((e) => (aliases[e] ?? server.as[e]) === request.url.href);
    if (request.route === "discovery" || request.route === "jwks") {
      assert.deepEqual(credentialsOf(request), [], request.route);
      assert.equal(request.mtls, false);
    } else {
      assert.ok(endpoint, `${request.url.href} is not an endpoint the metadata names`);
      assert.equal(request.mtls, endpoint in aliases, endpoint);
    }
  }
});

Deno.test("credential routing: the access token travels in the Authorization header only, never in a URL", async () => {
  const server = createFakeAs();
  const token = "secret-access-token";
  await drain(await oauth.userInfoRequest(server.as, server.client, token, server.options));
  await drain(
    await oauth.protectedResourceRequest(
      token,
      "GET",
      new URL(`${server.resource}?page=2`),
      undefined,
      undefined,
      server.options,
    ),
  );
  for (const request of server.requests) {
    assert.equal(request.headers.get("authorization"), `Bearer ${token}`);
    assert.ok(!request.url.href.includes(token));
  }
});

Deno.test("credential routing: every request the library makes asks the transport not to follow redirects", async () => {
  const server = createFakeAs();
  const modes: (string | undefined)[] = [];
  const options = {
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) => {
      modes.push(init.redirect);
      return server.fetch(url, init as Parameters<FakeAs["fetch"]>[1]);
    },
  };
  for (const endpoint of ENDPOINTS) {
    await drain(await SENDERS[endpoint](server.as, server.client, options));
  }
  await drain(await oauth.discoveryRequest(new URL(server.issuer), options));
  await drain(
    await oauth.protectedResourceRequest(
      "at",
      "GET",
      new URL(server.resource),
      undefined,
      undefined,
      options,
    ),
  );
  assert.equal(modes.length, ENDPOINTS.length + 2);
  assert.ok(modes.every((m) => m === "manual"), JSON.stringify(modes));
});

Deno.test("credential routing: a DPoP proof is bound to the URL it is sent to", async () => {
  const server = createFakeAs();
  const DPoP = oauth.DPoP(server.client, await oauth.generateKeyPair("ES256"));
  const response = await oauth.clientCredentialsGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(server.clientSecret),
    {},
    { ...server.options, DPoP },
  );
  await drain(response);
  const proof = server.lastRequest("token")?.dpop?.claims;
  assert.equal(proof?.htu, server.as.token_endpoint);
  assert.equal(proof?.htm, "POST");
});

Deno.test("DPoP downgrade (left open, RFC 9449 §5): a Bearer token answered to a DPoP request is returned with its token_type for the caller to judge", async () => {
  const server = createFakeAs();
  server.override("token", { access_token: "unbound", token_type: "Bearer", expires_in: 60 });
  const DPoP = oauth.DPoP(server.client, await oauth.generateKeyPair("ES256"));
  const response = await oauth.clientCredentialsGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(server.clientSecret),
    {},
    { ...server.options, DPoP },
  );
  const result = await oauth.processClientCredentialsResponse(server.as, server.client, response);
  assert.equal(result.token_type, "bearer");
});
