/**
 * RFC 8705 through the public endpoint helpers, over real TLS sockets: with
 * `client.use_mtls_endpoint_aliases` every request to the authorization server goes to
 * `as.mtls_endpoint_aliases[endpoint] ?? as[endpoint]` and travels over `[customFetch]` when
 * given, else over the client's own mutual-TLS adapter built from `client[clientCertificate]`.
 *
 * Two TLS servers play the authorization server: `normal` serves the plain endpoints and `alias`
 * serves the mTLS aliases under `/mtls`. Both report the `x5t#S256` of the certificate the client
 * presented (computed from the DER on the socket, independently of authlane).
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { keys, signJws } from "./_keys.ts";
import { getPki, type Pki } from "./_pki.ts";
import {
  startTlsServer,
  type TlsRequest,
  type TlsResponse,
  type TlsServer,
} from "./_tls_server.ts";

const ISSUER = "https://as.example";
const RESOURCE = "https://rs.example";
const ALIAS_PREFIX = "/mtls";

/** A `[customFetch]` that fits every endpoint helper. */
type Fetch = (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;

/** The options every case passes through to its helper. */
interface Options {
  [oauth.customFetch]?: Fetch;
}

/** The endpoints the fake servers answer, by metadata member. */
const PATHS = {
  token_endpoint: "/token",
  revocation_endpoint: "/revoke",
  introspection_endpoint: "/introspect",
  userinfo_endpoint: "/userinfo",
  device_authorization_endpoint: "/device",
  backchannel_authentication_endpoint: "/bc-authorize",
  pushed_authorization_request_endpoint: "/par",
} as const;

type Endpoint = keyof typeof PATHS;

/** Signs an RFC 9068 access token, bound to `x5tS256` when the client presented a certificate. */
async function issueAccessToken(clientId: string, x5tS256: string | null): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: ISSUER,
    aud: RESOURCE,
    sub: clientId,
    client_id: clientId,
    iat: now,
    exp: now + 300,
    jti: crypto.randomUUID(),
    ...(x5tS256 === null ? {} : { cnf: { "x5t#S256": x5tS256 } }),
  };
  const header = { alg: "ES256", typ: "at+jwt", kid: keys.ES256.kid };
  return await signJws(JSON.stringify(header), JSON.stringify(claims), keys.ES256.privateKey);
}

/** The authorization server's answer for a path (without the alias prefix). */
async function answer(path: string, body: string, x5tS256: string | null): Promise<TlsResponse> {
  const form = new URLSearchParams(body);
  switch (path) {
    case PATHS.token_endpoint:
      return {
        body: {
          access_token: await issueAccessToken(form.get("client_id") ?? "unknown", x5tS256),
          token_type: "Bearer",
          expires_in: 300,
        },
      };
    case PATHS.revocation_endpoint:
      return { status: 200 };
    case PATHS.introspection_endpoint:
      return { body: { active: true, client_id: form.get("client_id") } };
    case PATHS.userinfo_endpoint:
      return { body: { sub: "alice" } };
    case PATHS.device_authorization_endpoint:
      return {
        body: {
          device_code: "device-code",
          user_code: "WDJB-MJHT",
          verification_uri: `${ISSUER}/device`,
          expires_in: 600,
        },
      };
    case PATHS.backchannel_authentication_endpoint:
      return { body: { auth_req_id: "auth-req-id", expires_in: 600 } };
    case PATHS.pushed_authorization_request_endpoint:
      return {
        status: 201,
        body: { request_uri: "urn:ietf:params:oauth:request_uri:abc", expires_in: 60 },
      };
    case "/jwks":
      return { body: { keys: [keys.ES256.publicJwk] } };
    default:
      return { status: 404 };
  }
}

function route(request: TlsRequest): Promise<TlsResponse> {
  const url = new URL(request.path, "https://localhost");
  const path = url.pathname.startsWith(`${ALIAS_PREFIX}/`)
    ? url.pathname.slice(ALIAS_PREFIX.length)
    : url.pathname;
  return answer(path, request.body, request.x5tS256);
}

/** Turns a {@link TlsResponse} into a `Response`, for a `[customFetch]` that stands in for TLS. */
function toResponse(reply: TlsResponse): Response {
  const headers = new Headers(reply.headers);
  let body = reply.body ?? "";
  if (typeof body !== "string") {
    body = JSON.stringify(body);
    headers.set("content-type", "application/json");
  }
  return new Response(body, { status: reply.status ?? 200, headers });
}

/** One endpoint helper, called and its response processed the way an application would. */
interface EndpointCase {
  /** The public helper under test. */
  name: string;
  /** The metadata member it resolves. */
  endpoint: Endpoint;
  /** Whether the client authenticates (every endpoint but userinfo). */
  authenticated: boolean;
  /** Form parameters the helper sends besides `client_id`. */
  sent: Record<string, string>;
  call(as: oauth.AuthorizationServer, client: oauth.Client, options: Options): Promise<Response>;
  process(
    as: oauth.AuthorizationServer,
    client: oauth.Client,
    response: Response,
  ): Promise<unknown>;
}

const tlsAuth = oauth.TlsClientAuth();

const ALL_CASES: readonly EndpointCase[] = [
  {
    name: "clientCredentialsGrantRequest",
    endpoint: "token_endpoint",
    authenticated: true,
    sent: { grant_type: "client_credentials", scope: "read" },
    call: (as, client, options) =>
      oauth.clientCredentialsGrantRequest(as, client, tlsAuth, { scope: "read" }, options),
    process: (as, client, response) => oauth.processClientCredentialsResponse(as, client, response),
  },
  {
    name: "refreshTokenGrantRequest",
    endpoint: "token_endpoint",
    authenticated: true,
    sent: { grant_type: "refresh_token", refresh_token: "refresh-token" },
    call: (as, client, options) =>
      oauth.refreshTokenGrantRequest(as, client, tlsAuth, "refresh-token", options),
    process: (as, client, response) => oauth.processRefreshTokenResponse(as, client, response),
  },
  {
    name: "revocationRequest",
    endpoint: "revocation_endpoint",
    authenticated: true,
    sent: { token: "token-to-revoke" },
    call: (as, client, options) =>
      oauth.revocationRequest(as, client, tlsAuth, "token-to-revoke", options),
    process: (_as, _client, response) => oauth.processRevocationResponse(response),
  },
  {
    name: "introspectionRequest",
    endpoint: "introspection_endpoint",
    authenticated: true,
    sent: { token: "token-to-introspect" },
    call: (as, client, options) =>
      oauth.introspectionRequest(as, client, tlsAuth, "token-to-introspect", options),
    process: (as, client, response) => oauth.processIntrospectionResponse(as, client, response),
  },
  {
    name: "userInfoRequest",
    endpoint: "userinfo_endpoint",
    authenticated: false,
    sent: {},
    call: (as, client, options) => oauth.userInfoRequest(as, client, "access-token", options),
    process: (as, client, response) => oauth.processUserInfoResponse(as, client, "alice", response),
  },
  {
    name: "deviceAuthorizationRequest",
    endpoint: "device_authorization_endpoint",
    authenticated: true,
    sent: { scope: "read" },
    call: (as, client, options) =>
      oauth.deviceAuthorizationRequest(as, client, tlsAuth, { scope: "read" }, options),
    process: (as, client, response) =>
      oauth.processDeviceAuthorizationResponse(as, client, response),
  },
  {
    name: "backchannelAuthenticationRequest",
    endpoint: "backchannel_authentication_endpoint",
    authenticated: true,
    sent: { scope: "openid", login_hint: "alice" },
    call: (as, client, options) =>
      oauth.backchannelAuthenticationRequest(
        as,
        client,
        tlsAuth,
        { scope: "openid", login_hint: "alice" },
        options,
      ),
    process: (as, client, response) =>
      oauth.processBackchannelAuthenticationResponse(as, client, response),
  },
  {
    name: "pushedAuthorizationRequest",
    endpoint: "pushed_authorization_request_endpoint",
    authenticated: true,
    sent: { response_type: "code", redirect_uri: "https://app.example/cb" },
    call: (as, client, options) =>
      oauth.pushedAuthorizationRequest(
        as,
        client,
        tlsAuth,
        { response_type: "code", redirect_uri: "https://app.example/cb" },
        options,
      ),
    process: (as, client, response) =>
      oauth.processPushedAuthorizationResponse(as, client, response),
  },
];

/** Two TLS servers (plain endpoints and aliases), a CA-trusting no-certificate fetch, clients. */
interface Env extends AsyncDisposable {
  pki: Pki;
  normal: TlsServer;
  alias: TlsServer;
  /** Metadata with every endpoint on `normal` and every alias on `alias`. */
  as: oauth.AuthorizationServer;
  /** A `[customFetch]` that trusts the test CA and presents no certificate. */
  caFetch: Fetch;
  /** A client tracked for cleanup; the EC certificate and aliases unless overridden. */
  client(overrides?: Partial<oauth.Client>): oauth.Client;
  /** URL of `endpoint` on the normal server. */
  normalUrl(endpoint: Endpoint): string;
  /** URL of `endpoint`'s alias. */
  aliasUrl(endpoint: Endpoint): string;
}

async function startEnv(options: { requireClientCert?: boolean } = {}): Promise<Env> {
  const pki = await getPki();
  const normal = await startTlsServer(pki, { handler: route, ...options });
  const alias = await startTlsServer(pki, { handler: route, ...options });
  const httpClient = Deno.createHttpClient({ caCerts: [pki.ca] });
  const clients: oauth.Client[] = [];
  const normalUrl = (endpoint: Endpoint) => `${normal.url}${PATHS[endpoint]}`;
  const aliasUrl = (endpoint: Endpoint) => `${alias.url}${ALIAS_PREFIX}${PATHS[endpoint]}`;
  const endpoints = Object.keys(PATHS) as Endpoint[];
  const as: oauth.AuthorizationServer = {
    issuer: ISSUER,
    jwks_uri: `${normal.url}/jwks`,
    ...Object.fromEntries(endpoints.map((endpoint) => [endpoint, normalUrl(endpoint)])),
    mtls_endpoint_aliases: Object.fromEntries(
      endpoints.map((endpoint) => [endpoint, aliasUrl(endpoint)]),
    ),
  };
  return {
    pki,
    normal,
    alias,
    as,
    caFetch: (url, init) => fetch(url, { ...init, client: httpClient } as RequestInit),
    client(overrides = {}) {
      const client: oauth.Client = {
        client_id: "mtls-client",
        use_mtls_endpoint_aliases: true,
        [oauth.clientCertificate]: { cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] },
        ...overrides,
      };
      clients.push(client);
      return client;
    },
    normalUrl,
    aliasUrl,
    async [Symbol.asyncDispose]() {
      for (const client of clients) oauth.closeMtlsConnections(client);
      httpClient.close();
      await Promise.all([normal.close(), alias.close()]);
    },
  };
}

/** Replaces `Deno.createHttpClient` for the duration of `fn`, restoring it in `finally`. */
async function withCreateHttpClient(
  replacement: typeof Deno.createHttpClient | undefined,
  fn: () => unknown,
): Promise<void> {
  const original = Object.getOwnPropertyDescriptor(Deno, "createHttpClient")!;
  if (replacement) {
    Object.defineProperty(Deno, "createHttpClient", { ...original, value: replacement });
  } else {
    delete (Deno as { createHttpClient?: unknown }).createHttpClient;
  }
  try {
    await fn();
  } finally {
    Object.defineProperty(Deno, "createHttpClient", original);
  }
}

/** Runs `fn` while counting calls to `Deno.createHttpClient`; returns the count. */
async function countCreateHttpClient(fn: () => unknown): Promise<number> {
  let calls = 0;
  const original = Deno.createHttpClient;
  await withCreateHttpClient((options) => {
    calls++;
    return original(options);
  }, fn);
  return calls;
}

/** Asserts what an endpoint received: the form (or bearer token) and nothing that authenticates. */
function assertSent(request: TlsRequest, testCase: EndpointCase, client: oauth.Client): void {
  assert.equal(request.headers["authorization"] === undefined, testCase.authenticated);
  if (!testCase.authenticated) {
    assert.equal(request.method, "GET");
    assert.equal(request.headers["authorization"], "Bearer access-token");
    return;
  }
  assert.equal(request.method, "POST");
  const form = Object.fromEntries(new URLSearchParams(request.body));
  // RFC 8705 §2: the certificate authenticates; only client_id identifies the client.
  assert.deepEqual(form, { ...testCase.sent, client_id: client.client_id });
}

function assertUntouched(...servers: TlsServer[]): void {
  for (const server of servers) {
    assert.equal(server.requests.length, 0, "a request reached a server");
    assert.equal(server.connections, 0, "a TLS connection was opened");
  }
}

for (const testCase of ALL_CASES) {
  Deno.test(`${testCase.name}() sends to the mTLS alias and presents client[clientCertificate] when use_mtls_endpoint_aliases is true`, async () => {
    await using env = await startEnv();
    const client = env.client();
    const response = await testCase.call(env.as, client, {});
    await testCase.process(env.as, client, response);

    assert.equal(env.alias.requests.length, 1);
    const [seen] = env.alias.requests;
    assert.equal(`${env.alias.url}${seen!.path}`, env.aliasUrl(testCase.endpoint));
    assert.equal(seen!.x5tS256, env.pki.ec.x5tS256);
    assertSent(seen!, testCase, client);
    assertUntouched(env.normal);
  });
}

Deno.test("endpoint helpers use the normal endpoint over mutual TLS when the server has no alias for it", async () => {
  await using env = await startEnv();
  const client = env.client();
  const withoutAliases: oauth.AuthorizationServer[] = [
    { ...env.as, mtls_endpoint_aliases: undefined },
    { ...env.as, mtls_endpoint_aliases: {} },
    // only another endpoint is aliased
    { ...env.as, mtls_endpoint_aliases: { registration_endpoint: `${env.alias.url}/register` } },
  ];
  const calls = await countCreateHttpClient(async () => {
    for (const as of withoutAliases) {
      for (const testCase of ALL_CASES) {
        const before = env.normal.requests.length;
        await testCase.process(as, client, await testCase.call(as, client, {}));
        const seen = env.normal.requests[before];
        assert.ok(seen, `${testCase.name}() reached the normal endpoint`);
        assert.equal(`${env.normal.url}${seen.path}`, env.normalUrl(testCase.endpoint));
        assert.equal(seen.x5tS256, env.pki.ec.x5tS256, `${testCase.name}() presented the cert`);
        assertSent(seen, testCase, client);
      }
    }
  });
  assert.equal(calls, 1, "one adapter for the client across every endpoint");
  // Pooled: fewer connections than requests. Not exactly one: hyper may open a second connection
  // when a request starts before the previous connection is back in the pool.
  assert.ok(env.normal.connections < env.normal.requests.length);
  assertUntouched(env.alias);
});

Deno.test("endpoint helpers mix aliased and unaliased endpoints over the one adapter of a client", async () => {
  await using env = await startEnv();
  const client = env.client();
  const as: oauth.AuthorizationServer = {
    ...env.as,
    mtls_endpoint_aliases: { token_endpoint: env.aliasUrl("token_endpoint") },
  };
  const token = ALL_CASES.find((c) => c.endpoint === "token_endpoint")!;
  const introspection = ALL_CASES.find((c) => c.endpoint === "introspection_endpoint")!;
  const calls = await countCreateHttpClient(async () => {
    await token.process(as, client, await token.call(as, client, {}));
    await introspection.process(as, client, await introspection.call(as, client, {}));
  });
  assert.equal(calls, 1);
  assert.deepEqual(env.alias.requests.map((r) => [r.path, r.x5tS256]), [
    [`${ALIAS_PREFIX}/token`, env.pki.ec.x5tS256],
  ]);
  assert.deepEqual(env.normal.requests.map((r) => [r.path, r.x5tS256]), [
    ["/introspect", env.pki.ec.x5tS256],
  ]);
});

Deno.test("endpoint helpers throw ERR_INVALID_ARG_VALUE naming clientCertificate and send nothing when the client has neither a certificate nor [customFetch]", async () => {
  await using env = await startEnv();
  const client = env.client({ [oauth.clientCertificate]: undefined });
  const calls = await countCreateHttpClient(async () => {
    for (const testCase of ALL_CASES) {
      const err = await assertTypeError(
        () => testCase.call(env.as, client, {}),
        "ERR_INVALID_ARG_VALUE",
      );
      assert.match(err.message, /clientCertificate/, testCase.name);
      assert.match(err.message, /customFetch/, testCase.name);
    }
  });
  assert.equal(calls, 0);
  assertUntouched(env.normal, env.alias);
});

Deno.test("endpoint helpers refuse an unusable client[clientCertificate] before any I/O", async () => {
  await using env = await startEnv();
  const client = env.client({
    [oauth.clientCertificate]: { cert: env.pki.ec.cert, key: env.pki.ec.encryptedKey },
  });
  const calls = await countCreateHttpClient(async () => {
    for (const testCase of ALL_CASES) {
      await assertTypeError(() => testCase.call(env.as, client, {}), "ERR_INVALID_ARG_VALUE");
    }
  });
  assert.equal(calls, 0);
  assertUntouched(env.normal, env.alias);
});

Deno.test("endpoint helpers call an explicit [customFetch] with the alias instead of the mTLS adapter", async () => {
  await using env = await startEnv();
  const client = env.client();
  const seen: { url: string; method: string }[] = [];
  const custom: Fetch = async (url, init) => {
    seen.push({ url, method: init.method });
    const body = init.body instanceof URLSearchParams ? init.body.toString() : "";
    const path = new URL(url).pathname.slice(ALIAS_PREFIX.length);
    return toResponse(await answer(path, body, null));
  };
  const calls = await countCreateHttpClient(async () => {
    for (const testCase of ALL_CASES) {
      await testCase.process(
        env.as,
        client,
        await testCase.call(env.as, client, { [oauth.customFetch]: custom }),
      );
    }
  });
  assert.deepEqual(
    seen,
    ALL_CASES.map((c) => ({
      url: env.aliasUrl(c.endpoint),
      method: c.authenticated ? "POST" : "GET",
    })),
  );
  assert.equal(calls, 0, "no adapter is built when [customFetch] is given");
  assertUntouched(env.normal, env.alias);
});

Deno.test("endpoint helpers use the normal endpoint and present no certificate when use_mtls_endpoint_aliases is false", async () => {
  await using env = await startEnv();
  for (const flag of [false, undefined]) {
    // The certificate is set, but without the flag authlane must not use it.
    const client = env.client({ use_mtls_endpoint_aliases: flag });
    const calls = await countCreateHttpClient(async () => {
      for (const testCase of ALL_CASES) {
        const before = env.normal.requests.length;
        const response = await testCase.call(env.as, client, {
          [oauth.customFetch]: env.caFetch,
        });
        await testCase.process(env.as, client, response);
        const request = env.normal.requests[before]!;
        assert.equal(`${env.normal.url}${request.path}`, env.normalUrl(testCase.endpoint));
        assert.equal(request.x5tS256, null, `${testCase.name}() presented no certificate`);
      }
    });
    assert.equal(calls, 0);
  }
  assertUntouched(env.alias);
});

Deno.test("endpoint helpers without use_mtls_endpoint_aliases go through the global fetch, not the adapter", async () => {
  await using env = await startEnv();
  const client = env.client({ use_mtls_endpoint_aliases: false });
  const testCase = ALL_CASES[0]!;
  // The global fetch does not trust the test CA: the handshake fails, proving no adapter (whose
  // caCerts trust it) carried the request.
  const calls = await countCreateHttpClient(async () => {
    await assert.rejects(() => testCase.call(env.as, client, {}), (err: Error) => {
      assert.ok(err instanceof TypeError, String(err));
      assert.equal((err as { code?: unknown }).code, oauth.TLS_ERROR, err.message);
      assert.match(err.message, /TLS certificate is not trusted/);
      return true;
    });
  });
  assert.equal(calls, 0);
  assert.equal(env.normal.requests.length, 0);
  assertUntouched(env.alias);
});

Deno.test("endpoint helpers reuse one adapter and its connection pool per client object", async () => {
  await using env = await startEnv();
  const first = env.client();
  const token = ALL_CASES[0]!;
  const introspection = ALL_CASES.find((c) => c.endpoint === "introspection_endpoint")!;
  const revocation = ALL_CASES.find((c) => c.endpoint === "revocation_endpoint")!;

  let calls = await countCreateHttpClient(async () => {
    for (let i = 0; i < 5; i++) {
      await token.process(env.as, first, await token.call(env.as, first, {}));
    }
    await introspection.process(env.as, first, await introspection.call(env.as, first, {}));
    await revocation.process(env.as, first, await revocation.call(env.as, first, {}));
  });
  assert.equal(calls, 1, "one adapter for the client");
  assert.equal(env.alias.requests.length, 7);
  // Its pool reuses connections. Not exactly one: hyper may open a second connection when a
  // request starts before the previous connection is back in the pool.
  assert.ok(env.alias.connections < 7, "the client's requests share pooled connections");

  // A second client object with an equal certificate gets its own adapter, so its first request
  // cannot reuse the first client's connections.
  const second = env.client();
  let before = env.alias.connections;
  calls = await countCreateHttpClient(async () => {
    await token.process(env.as, second, await token.call(env.as, second, {}));
  });
  assert.equal(calls, 1);
  assert.ok(env.alias.connections > before, "a new pool opens a new connection");
  calls = await countCreateHttpClient(async () => {
    await token.process(env.as, first, await token.call(env.as, first, {}));
  });
  assert.equal(calls, 0, "the first client keeps its adapter");

  // Closing the adapter makes the next request build a fresh one, on a fresh connection.
  oauth.closeMtlsConnections(first);
  before = env.alias.connections;
  calls = await countCreateHttpClient(async () => {
    await token.process(env.as, first, await token.call(env.as, first, {}));
  });
  assert.equal(calls, 1);
  assert.ok(env.alias.connections > before);
  assert.ok(env.alias.requests.every((r) => r.x5tS256 === env.pki.ec.x5tS256));
});

Deno.test("endpoint helpers present the new certificate after client[clientCertificate] is replaced", async () => {
  await using env = await startEnv();
  const client = env.client();
  const token = ALL_CASES[0]!;
  await token.process(env.as, client, await token.call(env.as, client, {}));
  client[oauth.clientCertificate] = {
    cert: env.pki.rsa.cert,
    key: env.pki.rsa.key,
    caCerts: [env.pki.ca],
  };
  await token.process(env.as, client, await token.call(env.as, client, {}));
  assert.deepEqual(env.alias.requests.map((r) => r.x5tS256), [
    env.pki.ec.x5tS256,
    env.pki.rsa.x5tS256,
  ]);
});

Deno.test("endpoint helpers name [customFetch] and send nothing when the runtime has no Deno.createHttpClient", async () => {
  await using env = await startEnv();
  const client = env.client();
  await withCreateHttpClient(undefined, async () => {
    for (const testCase of ALL_CASES) {
      const err = await assertTypeError(
        () => testCase.call(env.as, client, {}),
        "ERR_INVALID_ARG_VALUE",
      );
      assert.match(err.message, /customFetch/, testCase.name);
    }
  });
  assertUntouched(env.normal, env.alias);
});

Deno.test("endpoint helpers work outside Deno when [customFetch] presents the certificate", async () => {
  await using env = await startEnv();
  const client = env.client();
  // What a user on another runtime brings: their own certificate-presenting fetch.
  using own = Deno.createHttpClient({
    cert: env.pki.rsa.cert,
    key: env.pki.rsa.key,
    caCerts: [env.pki.ca],
  });
  const custom: Fetch = (url, init) => fetch(url, { ...init, client: own } as RequestInit);
  await withCreateHttpClient(undefined, async () => {
    for (const testCase of ALL_CASES) {
      await testCase.process(
        env.as,
        client,
        await testCase.call(env.as, client, { [oauth.customFetch]: custom }),
      );
    }
  });
  assert.equal(env.alias.requests.length, ALL_CASES.length);
  assert.ok(env.alias.requests.every((r) => r.x5tS256 === env.pki.rsa.x5tS256));
  assertUntouched(env.normal);
});

Deno.test("endpoint helpers refuse a malformed mTLS alias before building the adapter", async () => {
  await using env = await startEnv();
  const client = env.client();
  const calls = await countCreateHttpClient(async () => {
    for (const testCase of ALL_CASES) {
      const as: oauth.AuthorizationServer = {
        ...env.as,
        mtls_endpoint_aliases: { [testCase.endpoint]: "not a URL" },
      };
      await assertOAuthError(
        () => testCase.call(as, client, {}),
        oauth.OperationProcessingError,
        oauth.INVALID_SERVER_METADATA,
        { attribute: testCase.endpoint },
      );
    }
  });
  assert.equal(calls, 0);
  assertUntouched(env.normal, env.alias);
});

Deno.test("endpoint helpers refuse an http: mTLS alias before building the adapter", async () => {
  await using env = await startEnv();
  const client = env.client();
  const calls = await countCreateHttpClient(async () => {
    for (const testCase of ALL_CASES) {
      const as: oauth.AuthorizationServer = {
        ...env.as,
        mtls_endpoint_aliases: {
          [testCase.endpoint]: env.aliasUrl(testCase.endpoint).replace("https:", "http:"),
        },
      };
      await assertOAuthError(
        () => testCase.call(as, client, {}),
        oauth.OperationProcessingError,
        oauth.HTTP_REQUEST_FORBIDDEN,
      );
    }
  });
  assert.equal(calls, 0);
  assertUntouched(env.normal, env.alias);
});

Deno.test("clientCredentialsGrantRequest() lets the TLS error surface when the server refuses the certificate", async () => {
  await using env = await startEnv({ requireClientCert: true });
  const client = env.client({
    [oauth.clientCertificate]: {
      cert: env.pki.rogue.cert,
      key: env.pki.rogue.key,
      caCerts: [env.pki.ca],
    },
  });
  await assert.rejects(() => ALL_CASES[0]!.call(env.as, client, {}), (err: Error) => {
    assert.match(err.message, /ended the TLS handshake/);
    assert.ok(err instanceof TypeError, "the platform's class");
    assert.ok(
      [oauth.TLS_ERROR, oauth.NETWORK_ERROR].includes((err as { code?: string }).code!),
      err.message,
    );
    assert.ok(err.cause instanceof TypeError, "the platform's error is the cause");
    return true;
  });
  assert.equal(env.alias.requests.length, 0);
  assert.ok(env.alias.tlsErrors.length >= 1);

  // The CA-signed certificate is accepted by the same server.
  const trusted = env.client();
  await oauth.processClientCredentialsResponse(
    env.as,
    trusted,
    await ALL_CASES[0]!.call(env.as, trusted, {}),
  );
  assert.equal(env.alias.requests[0]?.x5tS256, env.pki.ec.x5tS256);
});

Deno.test("validateJwtAccessToken() accepts a token bound over mTLS only with the certificate that obtained it", async () => {
  await using env = await startEnv();
  const client = env.client();
  const tokens = await oauth.processClientCredentialsResponse(
    env.as,
    client,
    await oauth.clientCredentialsGrantRequest(env.as, client, tlsAuth, { scope: "read" }),
  );
  const [issued] = env.alias.requests;
  assert.equal(issued?.x5tS256, env.pki.ec.x5tS256);

  const bearer = () =>
    new Request(`${RESOURCE}/resource`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
  const rsOptions = { [oauth.customFetch]: env.caFetch };

  // RFC 8705 §3: the token carries the thumbprint of the certificate the server saw.
  const claims = await oauth.validateJwtAccessToken(env.as, bearer(), RESOURCE, {
    ...rsOptions,
    clientCertificate: env.pki.ec.cert,
  });
  assert.deepEqual(claims.cnf, { "x5t#S256": env.pki.ec.x5tS256 });
  assert.equal(
    await oauth.calculateCertificateThumbprint(env.pki.ec.cert),
    env.pki.ec.x5tS256,
  );
  // The DER form of the same certificate is accepted too.
  await oauth.validateJwtAccessToken(env.as, bearer(), RESOURCE, {
    ...rsOptions,
    clientCertificate: env.pki.ec.der,
  });

  // A token replayed with another certificate is refused.
  await assertOAuthError(
    () =>
      oauth.validateJwtAccessToken(env.as, bearer(), RESOURCE, {
        ...rsOptions,
        clientCertificate: env.pki.rsa.cert,
      }),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "cnf.x5t#S256", expected: env.pki.rsa.x5tS256 },
  );
  // And so is one presented without any certificate.
  await assertOAuthError(
    () => oauth.validateJwtAccessToken(env.as, bearer(), RESOURCE, rsOptions),
    oauth.OperationProcessingError,
    oauth.INVALID_REQUEST,
    { claim: "cnf.x5t#S256" },
  );
});

Deno.test("validateJwtAccessToken() accepts the token of a second client bound to its own certificate", async () => {
  await using env = await startEnv();
  const client = env.client({
    client_id: "rsa-client",
    [oauth.clientCertificate]: {
      cert: env.pki.rsa.cert,
      key: env.pki.rsa.key,
      caCerts: [env.pki.ca],
    },
  });
  const tokens = await oauth.processClientCredentialsResponse(
    env.as,
    client,
    await oauth.clientCredentialsGrantRequest(env.as, client, tlsAuth, {}),
  );
  const request = new Request(`${RESOURCE}/resource`, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  const claims = await oauth.validateJwtAccessToken(env.as, request, RESOURCE, {
    [oauth.customFetch]: env.caFetch,
    clientCertificate: env.pki.rsa.cert,
  });
  assert.equal(claims.client_id, "rsa-client");
  assert.deepEqual(claims.cnf, { "x5t#S256": env.pki.rsa.x5tS256 });
  await assertOAuthError(
    () =>
      oauth.validateJwtAccessToken(env.as, request.clone(), RESOURCE, {
        [oauth.customFetch]: env.caFetch,
        clientCertificate: env.pki.ec.cert,
      }),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
  );
});

Deno.test("protectedResourceRequest() presents the bound certificate when [customFetch] is mtlsFetch()", async () => {
  await using env = await startEnv();
  const client = env.client();
  const tokens = await oauth.processClientCredentialsResponse(
    env.as,
    client,
    await oauth.clientCredentialsGrantRequest(env.as, client, tlsAuth, {}),
  );
  // A resource server that checks the binding against the certificate of the TLS connection.
  await using rs = await startTlsServer(env.pki, {
    handler: ({ headers, x5tS256 }) => {
      const token = headers["authorization"]?.replace(/^Bearer /, "") ?? "";
      const payload = JSON.parse(
        new TextDecoder().decode(Uint8Array.fromBase64(token.split(".")[1]!, {
          alphabet: "base64url",
        })),
      );
      return payload.cnf?.["x5t#S256"] === x5tS256
        ? { body: { ok: true } }
        : { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } };
    },
  });
  const url = new URL(`${rs.url}/data`);

  using holder = oauth.mtlsFetch({
    cert: env.pki.ec.cert,
    key: env.pki.ec.key,
    caCerts: [env.pki.ca],
  });
  const ok = await oauth.protectedResourceRequest(
    tokens.access_token,
    "GET",
    url,
    undefined,
    null,
    {
      [oauth.customFetch]: holder,
    },
  );
  assert.deepEqual(await ok.json(), { ok: true });

  using thief = oauth.mtlsFetch({
    cert: env.pki.rsa.cert,
    key: env.pki.rsa.key,
    caCerts: [env.pki.ca],
  });
  await assertOAuthError(
    () =>
      oauth.protectedResourceRequest(tokens.access_token, "GET", url, undefined, null, {
        [oauth.customFetch]: thief,
      }),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.deepEqual(rs.requests.map((r) => r.x5tS256), [env.pki.ec.x5tS256, env.pki.rsa.x5tS256]);
});
