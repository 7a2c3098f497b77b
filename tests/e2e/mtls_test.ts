/**
 * End to end, RFC 8705 against a real OpenID Provider (oidc-provider over TLS on loopback, with
 * `tls_client_auth` and certificate-bound access tokens): discovery publishes
 * `mtls_endpoint_aliases` on another host and port (a TCP pass-through to the same provider, as a
 * dedicated `mtls.` host would be), and a client with `use_mtls_endpoint_aliases` and
 * `client[clientCertificate]` authenticates with its certificate alone, through the aliases.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import {
  type OidcProviderHarness,
  RESOURCE,
  RESOURCE_SCOPE,
  startProvider,
} from "../_oidc_provider.ts";
import { getPki, type Pki } from "../_pki.ts";
import { authorizationUrl, codeRequest, redeem } from "./_code_flow.ts";

const CLIENT_ID = "mtls-client";
/** The subject of the PKI's EC client certificate (`openssl req -subj /CN=ec`). */
const SUBJECT_DN = "CN=ec";

type Fetch = (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;

/**
 * A TCP pass-through on 127.0.0.1 to a port known later: TLS runs end to end between the client
 * and the provider, so the provider still sees the client certificate, while the pass-through
 * counts the connections that used the alias.
 */
interface PassThrough extends AsyncDisposable {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
}

function startPassThrough(target: () => number): PassThrough {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const pipes: Promise<unknown>[] = [];
  let connections = 0;
  const closeQuietly = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch {
      // already closed by the other direction
    }
  };
  const relay = async (inbound: Deno.Conn) => {
    open.add(inbound);
    let outbound: Deno.Conn | undefined;
    try {
      outbound = await Deno.connect({ hostname: "127.0.0.1", port: target() });
      open.add(outbound);
      await Promise.allSettled([
        inbound.readable.pipeTo(outbound.writable),
        outbound.readable.pipeTo(inbound.writable),
      ]);
    } finally {
      closeQuietly(inbound);
      if (outbound) closeQuietly(outbound);
    }
  };
  const accepting = (async () => {
    for await (const inbound of listener) {
      connections++;
      pipes.push(relay(inbound).catch(() => {}));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get connections() {
      return connections;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of [...open]) closeQuietly(conn);
      await accepting;
      await Promise.allSettled(pipes);
    },
  };
}

interface Env extends AsyncDisposable {
  pki: Pki;
  op: OidcProviderHarness;
  alias: PassThrough;
  as: oauth.AuthorizationServer;
  /** Trusts the test CA, presents no certificate. */
  caFetch: Fetch;
  /** A client tracked for cleanup: the EC certificate and the aliases unless overridden. */
  client(overrides?: Partial<oauth.Client>): oauth.Client;
}

/** The provider's path of each aliased endpoint. */
const ALIASED = {
  token_endpoint: "/token",
  userinfo_endpoint: "/me",
  introspection_endpoint: "/token/introspection",
  revocation_endpoint: "/token/revocation",
} as const;

async function startEnv(): Promise<Env> {
  const pki = await getPki();
  const httpClient = Deno.createHttpClient({ caCerts: [pki.ca] });
  const caFetch: Fetch = (url, init) => fetch(url, { ...init, client: httpClient } as RequestInit);
  let op: OidcProviderHarness | undefined;
  const alias = startPassThrough(() => op!.port);
  const aliasOrigin = `https://localhost:${alias.port}`;
  const clients: oauth.Client[] = [];
  try {
    op = await startProvider({
      tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca },
      fetch: (input, init) => fetch(input, { ...init, client: httpClient }),
      features: {
        mTLS: { enabled: true, tlsClientAuth: true, certificateBoundAccessTokens: true },
      },
      configuration: {
        discovery: {
          mtls_endpoint_aliases: Object.fromEntries(
            Object.entries(ALIASED).map(([endpoint, path]) => [endpoint, `${aliasOrigin}${path}`]),
          ),
        },
      },
      clients: [{
        client_id: CLIENT_ID,
        token_endpoint_auth_method: "tls_client_auth",
        tls_client_auth_subject_dn: SUBJECT_DN,
        tls_client_certificate_bound_access_tokens: true,
        grant_types: ["authorization_code", "refresh_token", "client_credentials"],
        response_types: ["code"],
        redirect_uris: ["http://127.0.0.1/cb"],
      }],
    });
  } catch (err) {
    httpClient.close();
    await alias[Symbol.asyncDispose]();
    throw err;
  }
  const issuer = new URL(op.issuer);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { [oauth.customFetch]: caFetch }),
  );
  const provider = op;
  return {
    pki,
    op: provider,
    alias,
    as,
    caFetch,
    client(overrides = {}) {
      const client: oauth.Client = {
        client_id: CLIENT_ID,
        use_mtls_endpoint_aliases: true,
        [oauth.clientCertificate]: { cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] },
        ...overrides,
      };
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) oauth.closeMtlsConnections(client);
      httpClient.close();
      await provider.close();
      await alias[Symbol.asyncDispose]();
    },
  };
}

function jwtClaims(jwt: string): Record<string, unknown> {
  const payload = jwt.split(".")[1]!;
  const binary = atob(payload.replaceAll("-", "+").replaceAll("_", "/"));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
}

Deno.test("e2e: discovery publishes the mTLS aliases on another host and the certificate-bound token capability", async () => {
  await using env = await startEnv();
  assert.equal(env.as.issuer, env.op.issuer);
  assert.equal(env.as.tls_client_certificate_bound_access_tokens, true);
  assert.ok(env.as.token_endpoint_auth_methods_supported?.includes("tls_client_auth"));
  for (const [endpoint, path] of Object.entries(ALIASED)) {
    assert.equal(
      env.as.mtls_endpoint_aliases?.[endpoint],
      `https://localhost:${env.alias.port}${path}`,
    );
    assert.notEqual(env.as.mtls_endpoint_aliases?.[endpoint], env.as[endpoint]);
  }
});

Deno.test("e2e: clientCredentialsGrantRequest() with TlsClientAuth() gets a JWT access token bound to the certificate through the mTLS alias", async () => {
  await using env = await startEnv();
  const client = env.client();
  const tokens = await oauth.processClientCredentialsResponse(
    env.as,
    client,
    await oauth.clientCredentialsGrantRequest(env.as, client, oauth.TlsClientAuth(), {
      resource: RESOURCE,
      scope: RESOURCE_SCOPE,
    }),
  );
  assert.equal(env.alias.connections, 1, "the request went to the alias");

  // RFC 8705 §3.1: cnf["x5t#S256"] is the thumbprint of the certificate the client presented.
  const thumbprint = await oauth.calculateCertificateThumbprint(env.pki.ec.cert);
  assert.equal(thumbprint, env.pki.ec.x5tS256);
  const claims = jwtClaims(tokens.access_token);
  assert.deepEqual(claims.cnf, { "x5t#S256": thumbprint });
  assert.equal(claims.client_id, CLIENT_ID);

  // A resource server accepts the token with that certificate and refuses it with another.
  const request = () =>
    new Request(`${RESOURCE}/data`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
  const rsOptions = { [oauth.customFetch]: env.caFetch };
  const validated = await oauth.validateJwtAccessToken(env.as, request(), RESOURCE, {
    ...rsOptions,
    clientCertificate: env.pki.ec.cert,
  });
  assert.equal(validated.client_id, CLIENT_ID);
  await assertOAuthError(
    () =>
      oauth.validateJwtAccessToken(env.as, request(), RESOURCE, {
        ...rsOptions,
        clientCertificate: env.pki.rsa.cert,
      }),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "cnf.x5t#S256" },
  );
});

Deno.test("e2e: the provider refuses tls_client_auth without the registered certificate", async () => {
  await using env = await startEnv();
  const attempts: [string, oauth.Client, { [oauth.customFetch]?: Fetch }][] = [
    // CA-signed, but its subject is CN=rsa, not the registered CN=ec.
    [
      "another subject",
      env.client({
        [oauth.clientCertificate]: {
          cert: env.pki.rsa.cert,
          key: env.pki.rsa.key,
          caCerts: [env.pki.ca],
        },
      }),
      {},
    ],
    // Self-signed: the provider's CA does not vouch for it.
    [
      "an untrusted certificate",
      env.client({
        [oauth.clientCertificate]: {
          cert: env.pki.rogue.cert,
          key: env.pki.rogue.key,
          caCerts: [env.pki.ca],
        },
      }),
      {},
    ],
    // Without use_mtls_endpoint_aliases no certificate is presented at all.
    ["no certificate", env.client({ use_mtls_endpoint_aliases: false }), {
      [oauth.customFetch]: env.caFetch,
    }],
  ];
  for (const [label, client, options] of attempts) {
    const before = env.alias.connections;
    const response = await oauth.clientCredentialsGrantRequest(
      env.as,
      client,
      oauth.TlsClientAuth(),
      { resource: RESOURCE, scope: RESOURCE_SCOPE },
      options,
    );
    const err = await assertOAuthError(
      () => oauth.processClientCredentialsResponse(env.as, client, response),
      oauth.ResponseBodyError,
      oauth.RESPONSE_BODY_ERROR,
    );
    assert.equal(err.error, "invalid_client", label);
    assert.equal(err.status, 401, label);
    // The mTLS clients went through the alias; the other one to the ordinary endpoint.
    assert.equal(env.alias.connections > before, client.use_mtls_endpoint_aliases === true, label);
  }
});

Deno.test("e2e: a code flow over mTLS: the code exchange, userinfo, introspection, refresh and revocation go through the aliases", async () => {
  await using env = await startEnv();
  const client = env.client();
  const clientAuth = oauth.TlsClientAuth();
  const redirectUri = "http://127.0.0.1/cb";

  // The browser leg goes to the ordinary authorization endpoint, without a certificate.
  const pending = await codeRequest(CLIENT_ID, redirectUri);
  const callback = await env.op.login(authorizationUrl(env.as, pending.params));
  assert.equal(env.alias.connections, 0);

  const params = oauth.validateAuthResponse(env.as, client, callback, pending.state);
  const { tokens, claims: { sub } } = await redeem(
    env.as,
    client,
    clientAuth,
    params,
    redirectUri,
    pending,
    {},
  );
  assert.ok(tokens.refresh_token);

  // The certificate-bound access token works at userinfo with the same certificate...
  const userinfo = await oauth.processUserInfoResponse(
    env.as,
    client,
    sub,
    await oauth.userInfoRequest(env.as, client, tokens.access_token),
  );
  assert.equal(userinfo.email, `${sub}@example.com`);

  // ...and not with another one (RFC 8705 §3: the resource checks the binding).
  const stolen = env.client({
    [oauth.clientCertificate]: {
      cert: env.pki.rsa.cert,
      key: env.pki.rsa.key,
      caCerts: [env.pki.ca],
    },
  });
  const refused = await oauth.userInfoRequest(env.as, stolen, tokens.access_token);
  const challenge = await assertOAuthError(
    () => oauth.processUserInfoResponse(env.as, stolen, sub, refused),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(challenge.cause[0]?.parameters.error, "invalid_token");

  // Introspection reports the binding.
  const introspected = await oauth.processIntrospectionResponse(
    env.as,
    client,
    await oauth.introspectionRequest(env.as, client, clientAuth, tokens.access_token),
  );
  assert.equal(introspected.active, true);
  assert.deepEqual(introspected.cnf, { "x5t#S256": env.pki.ec.x5tS256 });

  const refreshed = await oauth.processRefreshTokenResponse(
    env.as,
    client,
    await oauth.refreshTokenGrantRequest(env.as, client, clientAuth, tokens.refresh_token!),
  );
  assert.notEqual(refreshed.access_token, tokens.access_token);

  await oauth.processRevocationResponse(
    await oauth.revocationRequest(env.as, client, clientAuth, refreshed.access_token),
  );
  const revoked = await oauth.processIntrospectionResponse(
    env.as,
    client,
    await oauth.introspectionRequest(env.as, client, clientAuth, refreshed.access_token),
  );
  assert.equal(revoked.active, false);

  // Seven back-channel calls, all through the alias: the client's adapter pools its
  // connections (the other certificate's adapter has its own).
  assert.ok(env.alias.connections >= 2);
  assert.ok(env.alias.connections < 7);
});
