/**
 * Errors a person can act on (issue 12): each failure a new user meets first, against real
 * sockets where the failure is about sockets, asserting what compatible code relies on (the class
 * and `name` oauth4webapi lets through: `TypeError` from fetch, `DOMException` `TimeoutError` /
 * `AbortError`), the string `code` authlane adds, the original kept as `cause`, and the parts of
 * the message that tell the person what went wrong and what to change: the URL (never its
 * query), the reason, the HTTP status, expected vs actual values, and the option to set.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { createFakeAs, startFakeAs } from "./_fake_as.ts";
import { getPki } from "./_pki.ts";
import { startTlsServer } from "./_tls_server.ts";

const http = { [oauth.allowInsecureRequests]: true } as const;

async function caught(fn: () => unknown): Promise<Error & { code?: unknown }> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof Error, `an Error, got ${String(err)}`);
    return err as Error & { code?: unknown };
  }
  return assert.fail("expected a failure");
}

/** Discovery of `issuer`, as the README's first recipe does it. */
async function discover(issuer: string, options: oauth.DiscoveryRequestOptions = http) {
  const url = new URL(issuer);
  return await oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url, options));
}

/** A port on 127.0.0.1 with nothing listening. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A TCP server that accepts connections and never answers. */
function hangingServer(): { origin: string } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) connections.push(conn);
    } catch { /* closed */ }
  })();
  return {
    origin: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    async [Symbol.asyncDispose]() {
      for (const conn of connections) conn.close();
      listener.close();
      await accepting;
    },
  };
}

/** A plain-HTTP server on loopback answering with `handler`. */
function plainServer(handler: (request: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Replaces the default 30-second timeout with `ms` while `fn` runs. */
async function withShortDefaultTimeout<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const original = AbortSignal.timeout;
  AbortSignal.timeout = () => original.call(AbortSignal, ms);
  try {
    return await fn();
  } finally {
    AbortSignal.timeout = original;
  }
}

// --- no response: the socket failures of the issue ---------------------------------------------

Deno.test("errors: a refused port is a TypeError coded OAUTH_NETWORK_ERROR naming the URL and the port", async () => {
  const port = closedPort();
  const err = await caught(() => discover(`http://127.0.0.1:${port}`));
  assert.ok(err instanceof TypeError);
  assert.equal(err.name, "TypeError");
  assert.equal(err.code, oauth.NETWORK_ERROR);
  assert.equal(
    err.message,
    `GET http://127.0.0.1:${port}/.well-known/openid-configuration failed: connection refused ` +
      `by 127.0.0.1:${port}: is the server running on that port?`,
  );
  assert.ok(err.cause instanceof TypeError, "fetch's own error is the cause");
});

Deno.test("errors: an unknown host (.invalid) is OAUTH_NETWORK_ERROR saying the DNS lookup failed", async () => {
  const err = await caught(() => discover("https://nonexistent.invalid"));
  assert.ok(err instanceof TypeError);
  assert.equal(err.name, "TypeError");
  assert.equal(err.code, oauth.NETWORK_ERROR);
  assert.equal(
    err.message,
    "GET https://nonexistent.invalid/.well-known/openid-configuration failed: the host " +
      "nonexistent.invalid was not found (DNS lookup failed)",
  );
  assert.ok(err.cause instanceof TypeError);
});

Deno.test("errors: https:// to a plain-HTTP port is OAUTH_TLS_ERROR pointing to http: and [allowInsecureRequests]", async () => {
  await using server = plainServer(() => Response.json({}));
  const err = await caught(() => discover(`https://127.0.0.1:${server.port}`));
  assert.ok(err instanceof TypeError);
  assert.equal(err.name, "TypeError");
  assert.equal(err.code, oauth.TLS_ERROR);
  assert.match(
    err.message,
    new RegExp(
      `^GET https://127\\.0\\.0\\.1:${server.port}/\\.well-known/openid-configuration failed: ` +
        `TLS handshake failed: 127\\.0\\.0\\.1:${server.port} does not answer in TLS; if it ` +
        "serves plain http, use an http: URL and set \\[allowInsecureRequests\\]",
    ),
  );
});

Deno.test("errors: a server certificate from an unknown CA is OAUTH_TLS_ERROR saying how to trust the CA", async () => {
  await using server = await startTlsServer(await getPki());
  const err = await caught(() => discover(server.url));
  assert.ok(err instanceof TypeError);
  assert.equal(err.name, "TypeError");
  assert.equal(err.code, oauth.TLS_ERROR);
  assert.ok(err.message.startsWith(`GET ${server.url}/.well-known/openid-configuration failed: `));
  assert.match(err.message, /TLS certificate is not trusted/);
  assert.match(err.message, /DENO_CERT/);
  assert.match(err.message, /NODE_EXTRA_CA_CERTS/);
  assert.equal(server.requests.length, 0);
});

Deno.test("errors: a hanging server with a short signal is a TimeoutError coded OAUTH_REQUEST_TIMEOUT naming the URL", async () => {
  await using server = hangingServer();
  const signal = AbortSignal.timeout(100);
  const err = await caught(() => discover(server.origin, { ...http, signal }));
  assert.ok(err instanceof DOMException);
  assert.equal(err.name, "TimeoutError");
  assert.equal(err.code, oauth.REQUEST_TIMEOUT);
  assert.equal(
    err.message,
    `GET ${server.origin}/.well-known/openid-configuration timed out (the options.signal timeout ` +
      "fired before the response arrived)",
  );
  assert.equal(err.cause, signal.reason, "the signal's own reason is the cause");
});

Deno.test("errors: a hanging server under the default timeout names the default and the signal option", async () => {
  await using server = hangingServer();
  const err = await withShortDefaultTimeout(100, () => caught(() => discover(server.origin)));
  assert.ok(err instanceof DOMException);
  assert.equal(err.name, "TimeoutError");
  assert.equal(err.code, oauth.REQUEST_TIMEOUT);
  assert.equal(
    err.message,
    `GET ${server.origin}/.well-known/openid-configuration timed out: no complete response ` +
      "within 30 seconds (the default timeout; pass options.signal, e.g. " +
      "AbortSignal.timeout(ms), to change it)",
  );
  assert.ok(err.cause instanceof DOMException && err.cause.name === "TimeoutError");
});

Deno.test("errors: the caller's abort is an AbortError coded OAUTH_REQUEST_ABORTED naming the URL", async () => {
  await using server = hangingServer();
  const controller = new AbortController();
  const pending = caught(() => discover(server.origin, { ...http, signal: controller.signal }));
  setTimeout(() => controller.abort(), 50);
  const err = await pending;
  assert.ok(err instanceof DOMException);
  assert.equal(err.name, "AbortError");
  assert.equal(err.code, oauth.REQUEST_ABORTED);
  assert.equal(
    err.message,
    `GET ${server.origin}/.well-known/openid-configuration was aborted by options.signal`,
  );
  assert.equal(err.cause, controller.signal.reason);
});

Deno.test("errors: an abort reason of the caller's own (not a DOMException) is thrown as it is", async () => {
  await using server = hangingServer();
  const controller = new AbortController();
  const mine = new Error("shutting down");
  const pending = caught(() => discover(server.origin, { ...http, signal: controller.signal }));
  setTimeout(() => controller.abort(mine), 50);
  assert.equal(await pending, mine);
});

Deno.test("errors: a signal that already fired ends the request at once, coded", async () => {
  const fake = createFakeAs();
  const err = await caught(() =>
    oauth.discoveryRequest(new URL(fake.issuer), { ...fake.options, signal: AbortSignal.abort() })
  );
  assert.equal(err.name, "AbortError");
  assert.equal(err.code, oauth.REQUEST_ABORTED);
  assert.equal(fake.requests.length, 0);
});

/** A response whose body sends a first chunk and then stalls until disposal. */
function stallingToken() {
  const controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
  return {
    handler: () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controllers.push(controller);
            controller.enqueue(new TextEncoder().encode('{"access_token":'));
          },
        }),
        { headers: { "content-type": "application/json" } },
      ),
    release() {
      for (const controller of controllers) {
        try {
          controller.close();
        } catch { /* cancelled by the aborted client */ }
      }
    },
  };
}

Deno.test("errors: a body that stalls after the headers ends in the coded TimeoutError, under the caller's signal and the default", async () => {
  const stall = stallingToken();
  await using server = await startFakeAs();
  server.override("token", stall.handler);
  const auth = oauth.ClientSecretPost(server.clientSecret);
  try {
    for (const signal of [AbortSignal.timeout(150), undefined]) {
      const err = await withShortDefaultTimeout(150, async () => {
        const response = await oauth.clientCredentialsGrantRequest(
          server.as,
          server.client,
          auth,
          {},
          { ...server.options, ...(signal === undefined ? {} : { signal }) },
        );
        return await caught(() =>
          oauth.processClientCredentialsResponse(server.as, server.client, response)
        );
      });
      assert.ok(err instanceof DOMException);
      assert.equal(err.name, "TimeoutError");
      assert.equal(err.code, oauth.REQUEST_TIMEOUT);
      assert.ok(err.message.startsWith(`POST ${server.as.token_endpoint} timed out`), err.message);
    }
  } finally {
    stall.release();
  }
});

Deno.test("errors: one signal shared by many requests still aborts a later one", async () => {
  await using fake = await startFakeAs();
  await using hanging = hangingServer();
  const controller = new AbortController();
  const options = { ...http, signal: controller.signal };
  for (let i = 0; i < 20; i++) {
    await oauth.processDiscoveryResponse(
      new URL(fake.issuer),
      await oauth.discoveryRequest(new URL(fake.issuer), options),
    );
  }
  const pending = caught(() => discover(hanging.origin, options));
  setTimeout(() => controller.abort(), 50);
  const err = await pending;
  assert.equal(err.name, "AbortError");
  assert.equal(err.code, oauth.REQUEST_ABORTED);
});

Deno.test("errors: a query in the URL never reaches the message", async () => {
  const port = closedPort();
  const err = await caught(() =>
    oauth.protectedResourceRequest(
      "access-token-value",
      "GET",
      new URL(`http://127.0.0.1:${port}/api?api_key=SECRET-KEY#frag`),
      undefined,
      undefined,
      http,
    )
  );
  assert.equal(err.code, oauth.NETWORK_ERROR);
  assert.ok(err.message.includes(`GET http://127.0.0.1:${port}/api failed`), err.message);
  assert.ok(!err.message.includes("SECRET-KEY"));
  assert.ok(!err.message.includes("access-token-value"));
});

Deno.test("errors: a [customFetch] error of its own passes through unchanged; its TypeError is coded", async () => {
  const fake = createFakeAs();
  const own = new Error("mine");
  const err = await caught(() =>
    oauth.discoveryRequest(new URL(fake.issuer), { [oauth.customFetch]: () => Promise.reject(own) })
  );
  assert.equal(err, own);
  const network = new TypeError("fetch failed", { cause: new Error("socket hang up") });
  const coded = await caught(() =>
    oauth.discoveryRequest(new URL(fake.issuer), {
      [oauth.customFetch]: () => Promise.reject(network),
    })
  );
  assert.ok(coded instanceof TypeError);
  assert.equal(coded.code, oauth.NETWORK_ERROR);
  assert.equal(coded.cause, network);
  assert.match(coded.message, /the connection was closed before a response arrived/);
});

// --- a response, but the wrong one ------------------------------------------------------------

Deno.test("errors: http: without [allowInsecureRequests] names the URL and the option", async () => {
  const err = await caught(() => oauth.discoveryRequest(new URL("http://127.0.0.1:9/op")));
  assert.ok(err instanceof oauth.OperationProcessingError);
  assert.equal(err.code, oauth.HTTP_REQUEST_FORBIDDEN);
  assert.equal(
    err.message,
    "only requests to HTTPS are allowed, not http://127.0.0.1:9/op; " +
      "set [allowInsecureRequests]: true in the options to allow http: (local development only)",
  );
});

Deno.test("errors: discovery answering for another issuer says both values and the URL", async () => {
  await using server = plainServer(() => Response.json({ issuer: "https://elsewhere.example" }));
  const err = await caught(() => discover(`${server.origin}/tenant`));
  assert.ok(err instanceof oauth.OperationProcessingError);
  assert.equal(err.code, oauth.JSON_ATTRIBUTE_COMPARISON);
  assert.equal(
    err.message,
    '"response" body "issuer" property does not match the expected value: expected ' +
      `"${server.origin}/tenant", got "https://elsewhere.example" (HTTP 200 from ` +
      `${server.origin}/tenant/.well-known/openid-configuration)`,
  );
});

Deno.test("errors: an issuer that differs only by a trailing slash says it must be identical", async () => {
  await using server = plainServer((r) =>
    Response.json({ issuer: `${new URL(r.url).origin}/tenant/` })
  );
  const err = await caught(() => discover(`${server.origin}/tenant`));
  assert.equal(err.code, oauth.JSON_ATTRIBUTE_COMPARISON);
  assert.match(err.message, /must be the identical string \(RFC 8414 §3\.3\)/);
  assert.ok(err.message.includes(`pass "${server.origin}/tenant/"`), err.message);
});

Deno.test("errors: a 404 at discovery names the status, the URL, and where else to look", async () => {
  await using server = plainServer(() => new Response("not here", { status: 404 }));
  const err = await caught(() => discover(`${server.origin}/x`));
  assert.ok(err instanceof oauth.OperationProcessingError);
  assert.equal(err.code, oauth.RESPONSE_IS_NOT_CONFORM);
  assert.equal(
    err.message,
    '"response" is not a conform Authorization Server Metadata response: unexpected HTTP status ' +
      `code 404, expected 200 (${server.origin}/x/.well-known/openid-configuration); check the ` +
      `issuer "${server.origin}/x"; a server without OpenID Connect discovery may publish RFC ` +
      '8414 metadata (discoveryRequest(issuer, { algorithm: "oauth2" })) or none (then build the ' +
      "AuthorizationServer object yourself)",
  );
  assert.deepEqual(err.cause, { status: 404, expected: 200 });
});

Deno.test("errors: a 301 says redirects are not followed and where the server points, without its query", async () => {
  await using server = plainServer(() =>
    new Response(null, {
      status: 301,
      headers: { location: "/moved/.well-known/openid-configuration?token=SECRET" },
    })
  );
  const err = await caught(() => discover(server.origin));
  assert.equal(err.code, oauth.RESPONSE_IS_NOT_CONFORM);
  assert.equal(
    err.message,
    '"response" is not a conform Authorization Server Metadata response: unexpected HTTP status ' +
      `code 301, expected 200 (${server.origin}/.well-known/openid-configuration); redirects are ` +
      `not followed, and the server points to ${server.origin}/moved/.well-known/openid-configuration`,
  );
  assert.ok(!err.message.includes("SECRET"));
});

Deno.test("errors: the /.well-known/openid-configuration URL pasted as the issuer names the issuer to pass", async () => {
  await using server = plainServer(() => new Response(null, { status: 404 }));
  const err = await caught(() => discover(`${server.origin}/.well-known/openid-configuration`));
  assert.equal(err.code, oauth.RESPONSE_IS_NOT_CONFORM);
  assert.ok(
    err.message.endsWith(
      `"${server.origin}/.well-known/openid-configuration" is a metadata document URL, not an ` +
        `identifier: pass "${server.origin}" (the /.well-known/ path is added by the request)`,
    ),
    err.message,
  );
});

Deno.test("errors: an HTML page where JSON belongs says expected and actual content type", async () => {
  await using server = plainServer(() =>
    new Response("<html>login</html>", { headers: { "content-type": "text/html; charset=utf-8" } })
  );
  const err = await caught(() => discover(server.origin));
  assert.equal(err.code, oauth.RESPONSE_IS_NOT_JSON);
  assert.equal(
    err.message,
    'unexpected response content-type, expected "application/json", got "text/html" (HTTP 200 ' +
      `from ${server.origin}/.well-known/openid-configuration)`,
  );
});

Deno.test("errors: a status error at an endpoint names status and URL also for a [customFetch] response", async () => {
  const fake = createFakeAs();
  fake.override("token", new Response("busy", { status: 503 }));
  const response = await oauth.clientCredentialsGrantRequest(
    fake.as,
    fake.client,
    oauth.ClientSecretPost(fake.clientSecret),
    {},
    fake.options,
  );
  const err = await caught(() =>
    oauth.processClientCredentialsResponse(fake.as, fake.client, response)
  );
  assert.equal(err.code, oauth.RESPONSE_IS_NOT_CONFORM);
  assert.equal(
    err.message,
    '"response" is not a conform Token Endpoint response: unexpected HTTP status code 503, ' +
      `expected 200 (${fake.as.token_endpoint})`,
  );
});

Deno.test("errors: ResponseBodyError and WWWAuthenticateChallengeError name the error, the status and the URL", async () => {
  const fake = createFakeAs();
  const auth = oauth.ClientSecretPost(fake.clientSecret);
  fake.overrideOnce("token", fake.oauthError("invalid_grant", "the refresh token is gone", 400));
  let err = await caught(async () =>
    oauth.processRefreshTokenResponse(
      fake.as,
      fake.client,
      await oauth.refreshTokenGrantRequest(fake.as, fake.client, auth, "rt", fake.options),
    )
  );
  assert.ok(err instanceof oauth.ResponseBodyError);
  assert.equal(
    err.message,
    'server responded with an error in the response body: "invalid_grant" (HTTP 400 from ' +
      `${fake.as.token_endpoint})`,
  );
  assert.ok(!err.message.includes("gone"), "error_description stays in the properties");
  assert.equal(err.error_description, "the refresh token is gone");

  fake.overrideOnce(
    "userinfo",
    new Response(null, {
      status: 401,
      headers: { "www-authenticate": 'Bearer error="invalid_token", error_description="expired"' },
    }),
  );
  err = await caught(async () =>
    oauth.processUserInfoResponse(
      fake.as,
      fake.client,
      oauth.skipSubjectCheck,
      await oauth.userInfoRequest(fake.as, fake.client, "at", fake.options),
    )
  );
  assert.ok(err instanceof oauth.WWWAuthenticateChallengeError);
  assert.equal(
    err.message,
    "server responded with a challenge in the WWW-Authenticate HTTP Header: " +
      `bearer error="invalid_token" (HTTP 401 from ${fake.as.userinfo_endpoint})`,
  );
});

Deno.test("errors: AuthorizationResponseError names the error; an RFC 9207 iss mismatch both issuers", async () => {
  const as = { issuer: "https://as.example" };
  const client = { client_id: "c" };
  let err = await caught(() =>
    oauth.validateAuthResponse(
      as,
      client,
      new URLSearchParams({ error: "access_denied", state: "s", iss: as.issuer }),
      "s",
    )
  );
  assert.ok(err instanceof oauth.AuthorizationResponseError);
  assert.equal(
    err.message,
    'authorization response from the server is an error: "access_denied"',
  );
  err = await caught(() =>
    oauth.validateAuthResponse(
      as,
      client,
      new URLSearchParams({ code: "c", state: "s", iss: "https://evil.example" }),
      "s",
    )
  );
  assert.equal(err.code, oauth.INVALID_RESPONSE);
  assert.match(
    err.message,
    /^unexpected "iss" \(issuer\) response parameter value: expected "https:\/\/as\.example", got "https:\/\/evil\.example"/,
  );
});

Deno.test("errors: JWT iss and aud mismatches say expected and actual", async () => {
  const fake = createFakeAs();
  const audience = "https://api.example";
  const t = Math.floor(Date.now() / 1000);
  const claims = {
    iss: fake.issuer,
    aud: "https://other.example",
    sub: "user-1",
    client_id: "client",
    iat: t,
    exp: t + 300,
    jti: crypto.randomUUID(),
  };
  const request = async (overrides: Record<string, unknown>) =>
    new Request(audience, {
      headers: {
        authorization: `Bearer ${await fake.sign({ ...claims, ...overrides }, { typ: "at+jwt" })}`,
      },
    });
  let err = await caught(async () =>
    oauth.validateJwtAccessToken(fake.as, await request({}), audience, fake.options)
  );
  assert.equal(err.code, oauth.JWT_CLAIM_COMPARISON);
  assert.equal(
    err.message,
    `unexpected JWT "aud" (audience) claim value: expected "${audience}", got ` +
      '"https://other.example"',
  );
  err = await caught(async () =>
    oauth.validateJwtAccessToken(
      fake.as,
      await request({ aud: audience, iss: "https://mix-up.example" }),
      audience,
      fake.options,
    )
  );
  assert.equal(err.code, oauth.JWT_CLAIM_COMPARISON);
  assert.equal(
    err.message,
    `unexpected JWT "iss" (issuer) claim value: expected "${fake.issuer}", got ` +
      '"https://mix-up.example"',
  );
});

Deno.test("errors: a server value in a message is quoted and cut, so it cannot forge log lines", async () => {
  await using server = plainServer(() =>
    Response.json({ issuer: `https://x.example/\n[error] forged line${"a".repeat(500)}` })
  );
  const err = await caught(() => discover(server.origin));
  assert.equal(err.code, oauth.JSON_ATTRIBUTE_COMPARISON);
  assert.ok(!err.message.includes("\n"));
  assert.ok(err.message.includes("\\n[error] forged line"));
  assert.ok(err.message.length < 600, String(err.message.length));
});

// --- the reasons, as other runtimes word them ---------------------------------------------------

/** A `fetch failed` TypeError as undici (Node.js) raises it, with a system error as its cause. */
function undiciError(code: string, message: string): TypeError {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });
}

/** As Deno (hyper, rustls) raises it: the reason in the cause's message. */
function denoError(detail: string): TypeError {
  return new TypeError("fetch failed", {
    cause: new Error(`error sending request for url (https://as.example/x): ${detail}`),
  });
}

const REASONS: [string, TypeError, string, RegExp][] = [
  [
    "undici: refused (an AggregateError for IPv4 and IPv6)",
    new TypeError("fetch failed", {
      cause: new AggregateError([
        Object.assign(new Error("connect ECONNREFUSED ::1:8443"), { code: "ECONNREFUSED" }),
      ]),
    }),
    oauth.NETWORK_ERROR,
    /connection refused by as\.example:8443/,
  ],
  [
    "undici: DNS",
    undiciError("ENOTFOUND", "getaddrinfo ENOTFOUND as.example"),
    oauth.NETWORK_ERROR,
    /the host as\.example was not found/,
  ],
  [
    "undici: unknown CA",
    undiciError("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"),
    oauth.TLS_ERROR,
    /not trusted/,
  ],
  [
    "undici: self-signed",
    undiciError("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"),
    oauth.TLS_ERROR,
    /not trusted/,
  ],
  [
    "undici: plain HTTP on the port",
    undiciError("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"),
    oauth.TLS_ERROR,
    /does not answer in TLS/,
  ],
  [
    "undici: another host's certificate",
    undiciError(
      "ERR_TLS_CERT_ALTNAME_INVALID",
      "Hostname/IP does not match certificate's altnames",
    ),
    oauth.TLS_ERROR,
    /not valid for as\.example/,
  ],
  [
    "undici: expired",
    undiciError("CERT_HAS_EXPIRED", "certificate has expired"),
    oauth.TLS_ERROR,
    /expired or is not valid yet/,
  ],
  [
    "undici: the server refused the client certificate",
    undiciError("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "tlsv13 alert certificate required"),
    oauth.TLS_ERROR,
    /ended the TLS handshake/,
  ],
  [
    "undici: the socket closed",
    undiciError("UND_ERR_SOCKET", "other side closed"),
    oauth.NETWORK_ERROR,
    /closed before a response arrived/,
  ],
  [
    "undici: connect timeout",
    undiciError("UND_ERR_CONNECT_TIMEOUT", "Connect Timeout Error"),
    oauth.NETWORK_ERROR,
    /connecting to as\.example:8443 timed out/,
  ],
  [
    "rustls: expired",
    denoError("client error (Connect): invalid peer certificate: Expired"),
    oauth.TLS_ERROR,
    /expired/,
  ],
  [
    "rustls: another host's certificate",
    denoError("client error (Connect): invalid peer certificate: NotValidForName"),
    oauth.TLS_ERROR,
    /not valid for as\.example/,
  ],
  [
    "hyper: closed",
    denoError("client error (SendRequest): connection closed before message completed"),
    oauth.NETWORK_ERROR,
    /closed before a response arrived/,
  ],
  [
    "fetch: a bad port",
    new TypeError("fetch failed", { cause: new Error("bad port") }),
    oauth.NETWORK_ERROR,
    /port 8443 is one fetch refuses to use/,
  ],
  [
    "something else: the runtime's words, without the URL's query",
    new TypeError("fetch failed", {
      cause: new Error("odd failure for https://as.example/x?token=SECRET (details)"),
    }),
    oauth.NETWORK_ERROR,
    /no response \("odd failure for https:\/\/as\.example\/x \(details\)"\)$/,
  ],
];

Deno.test("errors: the reason is read from each runtime's error (undici, rustls, hyper), the code from the kind", async () => {
  const as = { issuer: "https://as.example:8443", token_endpoint: "https://as.example:8443/token" };
  for (const [name, thrown, code, reason] of REASONS) {
    const err = await caught(() =>
      oauth.clientCredentialsGrantRequest(as, { client_id: "c" }, oauth.None(), {}, {
        [oauth.customFetch]: () => Promise.reject(thrown),
      })
    );
    assert.ok(err instanceof TypeError, name);
    assert.equal(err.code, code, `${name}: ${err.message}`);
    assert.ok(err.message.startsWith("POST https://as.example:8443/token failed: "), err.message);
    assert.match(err.message, reason, name);
    assert.equal(err.cause, thrown, name);
    assert.ok(!err.message.includes("SECRET"), name);
  }
});
