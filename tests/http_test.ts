/**
 * Transport tests over real loopback sockets: timeouts, redirects, body caps (also after gzip
 * decoding), scheme enforcement, and what a `[customFetch]` receives.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
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
