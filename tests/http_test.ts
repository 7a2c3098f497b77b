/**
 * Transport tests over real loopback sockets: timeouts, redirects, body caps (also after gzip
 * decoding), scheme enforcement, and what a `[customFetch]` receives.
 */
import assert from "node:assert/strict";
import { Response as UndiciResponse } from "undici";
import * as oauth from "@authlane/oauth";
import * as o4w from "oauth4webapi";
import { readText } from "../src/_http.ts";
import { assertOAuthError, assertTypeError } from "./_assert.ts";

interface Server extends AsyncDisposable {
  origin: string;
  hits: Request[];
}

function serve(handler: (req: Request) => Response | Promise<Response>): Server {
  const hits: Request[] = [];
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    (req) => {
      hits.push(req);
      return handler(req);
    },
  );
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    hits,
    async [Symbol.asyncDispose]() {
      ac.abort();
      await server.finished;
    },
  };
}

const client: oauth.Client = { client_id: "client" };
const auth = oauth.ClientSecretPost("secret");
const insecure = { [oauth.allowInsecureRequests]: true } as const;

function asFor(origin: string): oauth.AuthorizationServer {
  return { issuer: origin, token_endpoint: `${origin}/token` };
}

Deno.test("clientCredentialsGrantRequest() refuses an http: token endpoint without allowInsecureRequests, before any request", async () => {
  await using server = serve(() => Response.json({}));
  await assertOAuthError(
    () => oauth.clientCredentialsGrantRequest(asFor(server.origin), client, auth, {}),
    oauth.OperationProcessingError,
    oauth.HTTP_REQUEST_FORBIDDEN,
  );
  assert.equal(server.hits.length, 0);
});

Deno.test("clientCredentialsGrantRequest() refuses schemes other than https: and http:", async () => {
  const as = { issuer: "https://as.example", token_endpoint: "ftp://as.example/token" };
  await assertOAuthError(
    () => oauth.clientCredentialsGrantRequest(as, client, auth, {}, insecure),
    oauth.OperationProcessingError,
    oauth.REQUEST_PROTOCOL_FORBIDDEN,
  );
});

Deno.test("clientCredentialsGrantRequest() does not follow a redirect, so credentials never reach its target", async () => {
  await using server = serve((req) => {
    if (new URL(req.url).pathname === "/token") {
      return new Response(null, { status: 307, headers: { location: "/elsewhere" } });
    }
    return Response.json({ access_token: "x", token_type: "bearer" });
  });
  const response = await oauth.clientCredentialsGrantRequest(
    asFor(server.origin),
    client,
    auth,
    {},
    insecure,
  );
  assert.equal(response.status, 307);
  await assertOAuthError(
    () => oauth.processClientCredentialsResponse(asFor(server.origin), client, response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_CONFORM,
    { status: 307 },
  );
  assert.deepEqual(server.hits.map((r) => new URL(r.url).pathname), ["/token"]);
});

Deno.test("clientCredentialsGrantRequest() rejects with the signal's reason when the server never answers", async () => {
  const never = Promise.withResolvers<Response>();
  await using server = serve(() => never.promise);
  try {
    await assert.rejects(
      oauth.clientCredentialsGrantRequest(asFor(server.origin), client, auth, {}, {
        ...insecure,
        signal: AbortSignal.timeout(150),
      }),
      (err: unknown) => err instanceof DOMException && err.name === "TimeoutError",
    );
  } finally {
    never.resolve(new Response("late"));
  }
});

Deno.test("processClientCredentialsResponse() ends in the signal's error when the body stalls after the headers", async () => {
  let stop: (() => void) | undefined;
  await using server = serve(() => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"access_token":'));
        stop = () => controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  try {
    const response = await oauth.clientCredentialsGrantRequest(
      asFor(server.origin),
      client,
      auth,
      {},
      {
        ...insecure,
        signal: AbortSignal.timeout(200),
      },
    );
    await assert.rejects(
      oauth.processClientCredentialsResponse(asFor(server.origin), client, response),
      (err: unknown) => err instanceof DOMException && err.name === "TimeoutError",
    );
  } finally {
    stop?.();
  }
});

Deno.test("processClientCredentialsResponse() refuses a body over the cap without buffering it whole", async () => {
  let sent = 0;
  await using server = serve(() => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 16 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  const response = await oauth.clientCredentialsGrantRequest(
    asFor(server.origin),
    client,
    auth,
    {},
    insecure,
  );
  await assertOAuthError(
    () => oauth.processClientCredentialsResponse(asFor(server.origin), client, response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
  );
  assert.ok(sent < 8 * 1024 * 1024, `the server was read ${sent} bytes far past the cap`);
});

Deno.test("processClientCredentialsResponse() counts decoded bytes, so a gzip bomb is refused", async () => {
  const raw = new Uint8Array(4 * 1024 * 1024).fill(0x20);
  const gz = new Uint8Array(
    await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  assert.ok(gz.byteLength < 64 * 1024);
  await using server = serve(() =>
    new Response(gz, {
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
    })
  );
  const response = await oauth.clientCredentialsGrantRequest(
    asFor(server.origin),
    client,
    auth,
    {},
    insecure,
  );
  await assertOAuthError(
    () => oauth.processClientCredentialsResponse(asFor(server.origin), client, response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
  );
});

/**
 * A fetched response whose one-call reads fail: what reads it must go through the body stream,
 * counting. `calls` records the one-call reads tried.
 */
function withoutOneCallRead(response: Response): { response: Response; calls: string[] } {
  const calls: string[] = [];
  for (const name of ["bytes", "arrayBuffer", "text", "json", "blob"] as const) {
    Object.defineProperty(response, name, {
      value: () => {
        calls.push(name);
        return Promise.reject(new Error(`read whole with ${name}()`));
      },
    });
  }
  return { response, calls };
}

Deno.test("a fetched response is read in one call only with a Content-Length and no Content-Encoding or Transfer-Encoding", async () => {
  const body = JSON.stringify({ access_token: "at", token_type: "Bearer" });
  const gz = new Uint8Array(
    await new Response(new Blob([body]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  // The framing headers in any case and order: the read decides on what fetch exposes.
  await using server = serve((req) =>
    new URL(req.url).pathname === "/gzip"
      ? new Response(gz, {
        headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" },
      })
      : new Response(body, { headers: { "content-type": "application/json" } })
  );
  const as = (path: string) => ({ ...asFor(server.origin), token_endpoint: server.origin + path });
  const coded = withoutOneCallRead(
    await oauth.clientCredentialsGrantRequest(as("/gzip"), client, auth, {}, insecure),
  );
  assert.equal(coded.response.type, "basic");
  assert.equal(coded.response.headers.get("content-encoding"), "gzip");
  assert.ok(coded.response.headers.get("content-length") !== null);
  const tokens = await oauth.processClientCredentialsResponse(as("/gzip"), client, coded.response);
  assert.equal(tokens.access_token, "at");
  assert.deepEqual(coded.calls, [], "a coded body was read in one call");
  // The legitimate variant: a plain body with its length is read in one call.
  const plain = withoutOneCallRead(
    await oauth.clientCredentialsGrantRequest(as("/plain"), client, auth, {}, insecure),
  );
  await assert.rejects(
    oauth.processClientCredentialsResponse(as("/plain"), client, plain.response),
    /read whole with bytes\(\)/,
  );
  assert.deepEqual(plain.calls, ["bytes"]);
  await plain.response.body?.cancel();
});

Deno.test("clientCredentialsGrantRequest() hands customFetch a manual-redirect POST with the caller's headers", async () => {
  let seen: { url: string; init: oauth.CustomFetchOptions<"POST", URLSearchParams> } | undefined;
  const as = { issuer: "https://as.example", token_endpoint: "https://as.example/token" };
  const response = await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: "a b" }, {
    headers: { "x-trace": "1" },
    [oauth.customFetch]: (url, init) => {
      seen = { url, init };
      return Promise.resolve(Response.json({ access_token: "at", token_type: "Bearer" }));
    },
  });
  assert.ok(seen);
  assert.equal(seen.url, "https://as.example/token");
  assert.equal(seen.init.method, "POST");
  assert.equal(seen.init.redirect, "manual");
  assert.equal(seen.init.headers["x-trace"], "1");
  assert.equal(seen.init.headers["accept"], "application/json");
  assert.match(seen.init.headers["content-type"]!, /^application\/x-www-form-urlencoded/);
  assert.ok(seen.init.signal instanceof AbortSignal, "a default timeout signal is always set");
  assert.equal(seen.init.body.get("grant_type"), "client_credentials");
  assert.equal(seen.init.body.get("scope"), "a b");
  const result = await oauth.processClientCredentialsResponse(as, client, response);
  assert.equal(result.token_type, "bearer");
});

Deno.test("clientCredentialsGrantRequest() refuses a customFetch that returns something other than a Response", async () => {
  const as = { issuer: "https://as.example", token_endpoint: "https://as.example/token" };
  await assertTypeError(
    () =>
      oauth.clientCredentialsGrantRequest(as, client, auth, {}, {
        // @ts-expect-error: a hostile customFetch
        [oauth.customFetch]: () => Promise.resolve({ status: 200 }),
      }),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("processClientCredentialsResponse() refuses a chunked body over the cap even when it also declares a small Content-Length", async () => {
  // RFC 9112 §6.3 (3): Transfer-Encoding overrides Content-Length, and fetch keeps both headers,
  // so the declared 64 bytes must not be trusted to bound what is read.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const origin = `http://127.0.0.1:${listener.addr.port}`;
  let sent = 0;
  const served = (async () => {
    const conn = await listener.accept();
    try {
      await conn.read(new Uint8Array(64 * 1024));
      const encoder = new TextEncoder();
      await conn.write(encoder.encode(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 64\r\n" +
          "transfer-encoding: chunked\r\n\r\n",
      ));
      const chunk = encoder.encode(`10000\r\n${" ".repeat(0x10000)}\r\n`);
      while (sent < 32 * 1024 * 1024) {
        await conn.write(chunk);
        sent += 0x10000;
      }
      await conn.write(encoder.encode("0\r\n\r\n"));
    } catch {
      // the client hung up, as it should
    } finally {
      conn.close();
    }
  })();
  try {
    const response = await oauth.clientCredentialsGrantRequest(
      asFor(origin),
      client,
      auth,
      {},
      insecure,
    );
    assert.equal(response.headers.get("content-length"), "64");
    await assertOAuthError(
      () => oauth.processClientCredentialsResponse(asFor(origin), client, response),
      oauth.OperationProcessingError,
      oauth.RESPONSE_TOO_LARGE,
    );
  } finally {
    await served;
    listener.close();
  }
  assert.ok(sent < 16 * 1024 * 1024, `the server was read ${sent} bytes far past the cap`);
});

Deno.test("processClientCredentialsResponse() keeps a malformed body's tokens out of the PARSE_ERROR", async () => {
  const as = { issuer: "https://as.example", token_endpoint: "https://as.example/token" };
  const secret = "at-0123456789-secret-token";
  const response = new Response(secret, {
    headers: { "content-type": "application/json" },
  });
  const err = await assertOAuthError(
    () => oauth.processClientCredentialsResponse(as, client, response),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
  // V8 quotes the first 10 characters of the text it could not parse.
  assert.ok(!Deno.inspect(err, { depth: 10 }).includes(secret.slice(0, 10)));
});

// --- Response-likes: undici's, another realm's ------------------------------------------------

const AS = { issuer: "https://as.example", token_endpoint: "https://as.example/token" };
const TOKENS = '{"access_token":"at","token_type":"Bearer"}';
const JSON_HEADERS = { "content-type": "application/json" };

/**
 * What another realm's `Response` looks like from here: its prototype says "Response", but it is
 * not an instance of this realm's class. It forwards to a real one; `type`, the headers and the
 * body stream can be overridden to stage what a foreign implementation might do.
 */
class ForeignResponse {
  #inner: Response;
  #type: string;
  #body: ReadableStream<Uint8Array> | null | undefined;
  constructor(inner: Response, type = inner.type, body?: ReadableStream<Uint8Array> | null) {
    this.#inner = inner;
    this.#type = type;
    this.#body = body;
  }
  get [Symbol.toStringTag]() {
    return "Response";
  }
  get status() {
    return this.#inner.status;
  }
  get headers() {
    return this.#inner.headers;
  }
  get type() {
    return this.#type;
  }
  get bodyUsed() {
    return this.#inner.bodyUsed;
  }
  get body() {
    return this.#body === undefined ? this.#inner.body : this.#body;
  }
  bytes() {
    return this.#inner.bytes();
  }
  arrayBuffer() {
    return this.#inner.arrayBuffer();
  }
}

function endless(): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  return new ReadableStream({ pull: (c) => c.enqueue(chunk) });
}

function stalled(): ReadableStream<Uint8Array> {
  return new ReadableStream({ pull: () => new Promise(() => {}) });
}

Deno.test("clientCredentialsGrantRequest() takes undici's Response from a customFetch, and the processor reads it", async () => {
  const response = await oauth.clientCredentialsGrantRequest(AS, client, auth, {}, {
    [oauth.customFetch]: () =>
      Promise.resolve(
        new UndiciResponse(TOKENS, { headers: JSON_HEADERS }) as unknown as Response,
      ),
  });
  assert.equal(response instanceof Response, false);
  const tokens = await oauth.processClientCredentialsResponse(AS, client, response);
  assert.equal(tokens.access_token, "at");
});

Deno.test("processClientCredentialsResponse() reads a Response of another realm", async () => {
  const foreign = new ForeignResponse(new Response(TOKENS, { headers: JSON_HEADERS }));
  const tokens = await oauth.processClientCredentialsResponse(
    AS,
    client,
    foreign as unknown as Response,
  );
  assert.equal(tokens.access_token, "at");
});

Deno.test("processClientCredentialsResponse() caps undici's Response that streams far past its Content-Length", async () => {
  const response = new UndiciResponse(endless(), {
    headers: { ...JSON_HEADERS, "content-length": "44" },
  }) as unknown as Response;
  await assertOAuthError(
    () => oauth.processClientCredentialsResponse(AS, client, response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
    { maxBytes: 1024 * 1024 },
  );
});

Deno.test("processClientCredentialsResponse() applies the request's [maxResponseSize] to undici's Response", async () => {
  const request = (max: number) =>
    oauth.clientCredentialsGrantRequest(AS, client, auth, {}, {
      [oauth.maxResponseSize]: max,
      [oauth.customFetch]: () =>
        Promise.resolve(
          new UndiciResponse(TOKENS, { headers: JSON_HEADERS }) as unknown as Response,
        ),
    });
  await assertOAuthError(
    async () => oauth.processClientCredentialsResponse(AS, client, await request(16)),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
    { maxBytes: 16 },
  );
  const tokens = await oauth.processClientCredentialsResponse(AS, client, await request(1024));
  assert.equal(tokens.access_token, "at");
});

Deno.test("processClientCredentialsResponse() counts a Response-like's bytes when a content coding makes the length meaningless", async () => {
  // A fetch-produced ("basic") Response-like whose Content-Length is the encoded size: the
  // decoded bytes are counted as they stream.
  const inner = new Response(endless(), {
    headers: { ...JSON_HEADERS, "content-length": "20", "content-encoding": "gzip" },
  });
  await assertOAuthError(
    () =>
      oauth.processClientCredentialsResponse(
        AS,
        client,
        new ForeignResponse(inner, "basic") as unknown as Response,
      ),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
  );
});

Deno.test("processClientCredentialsResponse() refuses invalid UTF-8 in a Response-like", async () => {
  const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
  await assertOAuthError(
    () =>
      oauth.processClientCredentialsResponse(
        AS,
        client,
        new UndiciResponse(bytes, { headers: JSON_HEADERS }) as unknown as Response,
      ),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
});

for (const kind of ["a Response of another realm", "a constructed Response"]) {
  Deno.test(`processClientCredentialsResponse() gives up on ${kind} whose body ignores the request's timeout`, async () => {
    const response = await oauth.clientCredentialsGrantRequest(AS, client, auth, {}, {
      signal: AbortSignal.timeout(50),
      [oauth.customFetch]: () => {
        const inner = new Response(stalled(), { headers: JSON_HEADERS });
        return Promise.resolve(
          kind === "a constructed Response"
            ? inner
            : new ForeignResponse(inner, "default") as unknown as Response,
        );
      },
    });
    await assert.rejects(
      () => oauth.processClientCredentialsResponse(AS, client, response),
      (err) => err instanceof DOMException && err.name === "TimeoutError",
    );
  });
}

Deno.test("processClientCredentialsResponse() gives up on a fetch-framed Response-like whose body outlives the request's timeout", async () => {
  const response = await oauth.clientCredentialsGrantRequest(AS, client, auth, {}, {
    signal: AbortSignal.timeout(50),
    [oauth.customFetch]: () => {
      const inner = new Response(stalled(), {
        headers: { ...JSON_HEADERS, "content-length": "44" },
      });
      return Promise.resolve(new ForeignResponse(inner, "basic") as unknown as Response);
    },
  });
  await assert.rejects(
    () => oauth.processClientCredentialsResponse(AS, client, response),
    (err) => err instanceof DOMException && err.name === "TimeoutError",
  );
});

Deno.test("readText() reads a fetch-framed Response-like in one call, without a stream reader", async () => {
  const inner = new Response(TOKENS, {
    headers: { ...JSON_HEADERS, "content-length": String(TOKENS.length) },
  });
  const poisoned = new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  poisoned.getReader = () => {
    throw new Error("the counting reader was used");
  };
  const foreign = new ForeignResponse(inner, "basic", poisoned) as unknown as Response;
  assert.equal(await readText(foreign), TOKENS);
});

Deno.test("readText() reads a constructed Response-like through the counting reader", async () => {
  const inner = new Response(TOKENS, {
    headers: { ...JSON_HEADERS, "content-length": String(TOKENS.length) },
  });
  let readerUsed = false;
  const body = inner.body!;
  const getReader = body.getReader.bind(body);
  body.getReader = ((...args: []) => {
    readerUsed = true;
    return getReader(...args);
  }) as typeof body.getReader;
  const foreign = new ForeignResponse(inner, "default", body) as unknown as Response;
  assert.equal(await readText(foreign), TOKENS);
  assert.equal(readerUsed, true);
});

Deno.test("processClientCredentialsResponse() refuses an object that only has a Response's members, as oauth4webapi does", async () => {
  const lookalike = {
    status: 200,
    headers: new Headers(JSON_HEADERS),
    body: new Response(TOKENS).body,
    bodyUsed: false,
  };
  for (
    const process of [oauth.processClientCredentialsResponse, o4w.processClientCredentialsResponse]
  ) {
    await assertTypeError(
      () => process(AS, client, lookalike as unknown as Response),
      "ERR_INVALID_ARG_TYPE",
    );
  }
  await lookalike.body?.cancel();
});

// --- request shape, beside oauth4webapi -----------------------------------------------------

interface Sent {
  method: string;
  url: string;
  accept: string | null;
  contentType: string | null;
  authorization: string | null;
  dpop: boolean;
  userAgent: boolean;
}

function shapeRecorder() {
  const sent: Sent[] = [];
  const fetch = (url: string, init: { method: string; headers: Record<string, string> }) => {
    const headers = new Headers(init.headers);
    sent.push({
      method: init.method,
      url,
      accept: headers.get("accept"),
      contentType: headers.get("content-type"),
      authorization: headers.get("authorization")?.split(" ")[0] ?? null,
      dpop: headers.has("dpop"),
      userAgent: headers.has("user-agent"),
    });
    return Promise.resolve(new Response(null, { status: 204 }));
  };
  return { sent, fetch };
}

type Lib = typeof oauth;

const SHAPE_AS = {
  issuer: "https://as.example",
  token_endpoint: "https://as.example/token",
  pushed_authorization_request_endpoint: "https://as.example/par",
  device_authorization_endpoint: "https://as.example/device",
  backchannel_authentication_endpoint: "https://as.example/bc",
  introspection_endpoint: "https://as.example/introspect",
  revocation_endpoint: "https://as.example/revoke",
  registration_endpoint: "https://as.example/register",
};

const SHAPES: Record<string, (L: Lib, o: Record<symbol, unknown>) => Promise<Response>> = {
  "discoveryRequest (oidc)": (L, o) => L.discoveryRequest(new URL("https://as.example/t"), o),
  "discoveryRequest (oauth2)": (L, o) =>
    L.discoveryRequest(new URL("https://as.example/t"), { ...o, algorithm: "oauth2" }),
  "resourceDiscoveryRequest": (L, o) =>
    L.resourceDiscoveryRequest(new URL("https://rs.example/a"), o),
  "clientCredentialsGrantRequest (basic)": (L, o) =>
    L.clientCredentialsGrantRequest(SHAPE_AS, client, L.ClientSecretBasic("s"), {}, o),
  "refreshTokenGrantRequest": (L, o) =>
    L.refreshTokenGrantRequest(SHAPE_AS, client, L.ClientSecretPost("s"), "rt", o),
  "genericTokenEndpointRequest": (L, o) =>
    L.genericTokenEndpointRequest(SHAPE_AS, client, L.None(), "urn:x", {}, o),
  "authorizationCodeGrantRequest": (L, o) =>
    L.authorizationCodeGrantRequest(
      SHAPE_AS,
      client,
      L.None(),
      L.validateAuthResponse(SHAPE_AS, client, new URLSearchParams({ code: "c" })),
      "https://app.example/cb",
      "v".repeat(43),
      o,
    ),
  "pushedAuthorizationRequest": (L, o) =>
    L.pushedAuthorizationRequest(SHAPE_AS, client, L.None(), { response_type: "code" }, o),
  "deviceAuthorizationRequest": (L, o) =>
    L.deviceAuthorizationRequest(SHAPE_AS, client, L.None(), {}, o),
  "deviceCodeGrantRequest": (L, o) => L.deviceCodeGrantRequest(SHAPE_AS, client, L.None(), "d", o),
  "backchannelAuthenticationRequest": (L, o) =>
    L.backchannelAuthenticationRequest(SHAPE_AS, client, L.None(), { scope: "openid" }, o),
  "backchannelAuthenticationGrantRequest": (L, o) =>
    L.backchannelAuthenticationGrantRequest(SHAPE_AS, client, L.None(), "a", o),
  "introspectionRequest": (L, o) => L.introspectionRequest(SHAPE_AS, client, L.None(), "t", o),
  "introspectionRequest (JWT)": (L, o) =>
    L.introspectionRequest(SHAPE_AS, client, L.None(), "t", { ...o, requestJwtResponse: true }),
  "revocationRequest (with the caller's Accept)": (L, o) =>
    L.revocationRequest(SHAPE_AS, client, L.None(), "t", {
      ...o,
      headers: { accept: "text/plain" },
    }),
  "dynamicClientRegistrationRequest": (L, o) =>
    L.dynamicClientRegistrationRequest(SHAPE_AS, { redirect_uris: ["https://app.example/cb"] }, o),
  "dynamicClientRegistrationRequest (initial access token, caller's DPoP proof)": (L, o) =>
    L.dynamicClientRegistrationRequest(SHAPE_AS, {}, {
      ...o,
      initialAccessToken: "iat",
      headers: { dpop: "proof" },
    }),
  "protectedResourceRequest": (L, o) =>
    L.protectedResourceRequest("at", "GET", new URL("https://rs.example/a"), undefined, null, o),
  "protectedResourceRequest (caller's DPoP proof)": (L, o) =>
    L.protectedResourceRequest(
      "at",
      "POST",
      new URL("https://rs.example/a"),
      new Headers({ dpop: "proof", "content-type": "text/plain" }),
      "x",
      o,
    ),
};

Deno.test("every request helper sends the method, URL, Accept, Content-Type, Authorization scheme, DPoP and User-Agent oauth4webapi sends", async () => {
  const mismatches: string[] = [];
  for (const [name, call] of Object.entries(SHAPES)) {
    const ours = shapeRecorder();
    const theirs = shapeRecorder();
    await call(oauth, { [oauth.customFetch]: ours.fetch });
    await call(o4w as unknown as Lib, { [o4w.customFetch]: theirs.fetch });
    try {
      assert.deepEqual(ours.sent, theirs.sent);
    } catch {
      mismatches.push(`${name}: ${JSON.stringify(ours.sent)} vs ${JSON.stringify(theirs.sent)}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

Deno.test("the User-Agent is left out in a browser, as oauth4webapi leaves it out", async () => {
  const script = `
    Object.defineProperty(globalThis, "navigator", {
      value: { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/1" },
      configurable: true,
    });
    const as = { issuer: "https://as.example", token_endpoint: "https://as.example/token" };
    const seen = [];
    const fetch = (_url, init) => {
      seen.push("user-agent" in init.headers);
      return Promise.resolve(new Response(null, { status: 204 }));
    };
    for (const L of [await import("@authlane/oauth"), await import("oauth4webapi")]) {
      await L.clientCredentialsGrantRequest(as, { client_id: "c" }, L.None(), {}, {
        [L.customFetch]: fetch,
      });
    }
    console.log(JSON.stringify(seen));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=js", script],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.success, true, new TextDecoder().decode(output.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(output.stdout)), [false, false]);
});
