/**
 * Attack family: resource exhaustion (RFC 9700 §4.15 spirit; RFC 8628 §3.5; RFC 9449 §8).
 * A hostile or broken server tries to make the client buffer without bound, hang, overflow its
 * stack, or poll or retry forever. Bodies are capped in decoded bytes (1 MiB by default,
 * `[maxResponseSize]` to change it), every request made by the library runs under a timeout that
 * covers the body too (30 s by default), deep JSON ends in data or a typed error, and the library
 * never retries or polls on its own: one call, one request.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "../_assert.ts";
import { createFakeAs, type FakeAs, startFakeAs } from "../_fake_as.ts";
import { exposure } from "./_attack.ts";

const MiB = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

// --- helpers -----------------------------------------------------------------------------------

/** A stream of `total` JSON-whitespace bytes in 64 KiB chunks that counts what was pulled. */
function countingStream(
  total: number,
): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close();
      pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

function jsonResponse(body: BodyInit, headers: HeadersInit = {}): Response {
  return new Response(body, { headers: { "content-type": "application/json", ...headers } });
}

/** A token body padded with whitespace to `size` bytes. */
function paddedTokenBody(size: number): string {
  const json = '{"access_token":"at","token_type":"Bearer"}';
  return json.slice(0, -1) + " ".repeat(size - json.length) + "}";
}

/**
 * Runs `fn` with the library's default timeout shortened to `ms`: `AbortSignal.timeout` is
 * wrapped so the test still observes which delays the library asked for.
 */
async function withShortDefaultTimeout<T>(
  ms: number,
  fn: (requested: number[]) => Promise<T>,
): Promise<T> {
  const original = AbortSignal.timeout;
  const requested: number[] = [];
  AbortSignal.timeout = (delay: number) => {
    requested.push(delay);
    return original.call(AbortSignal, ms);
  };
  try {
    return await fn(requested);
  } finally {
    AbortSignal.timeout = original;
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof DOMException && err.name === "TimeoutError";
}

/** The platform's `AbortSignal.timeout`, untouched by {@link withShortDefaultTimeout}. */
const platformTimeout = AbortSignal.timeout.bind(AbortSignal);

/** Waits `ms` milliseconds the way the rules allow: on a tiny timeout signal. */
function tick(ms: number): Promise<void> {
  return new Promise((resolve) => platformTimeout(ms).addEventListener("abort", () => resolve()));
}

/** A token response run through the generic processor with a custom fetch. */
async function tokenVia(
  server: FakeAs,
  fetch: (
    url: string,
    init: oauth.CustomFetchOptions<"POST", URLSearchParams>,
  ) => Promise<Response>,
  options: oauth.TokenEndpointRequestOptions = {},
): Promise<oauth.TokenEndpointResponse> {
  const response = await oauth.clientCredentialsGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(server.clientSecret),
    {},
    { [oauth.customFetch]: fetch, ...options },
  );
  return await oauth.processClientCredentialsResponse(server.as, server.client, response);
}

// --- body caps ---------------------------------------------------------------------------------

Deno.test("oversized body: a 32 MiB token response is refused at the 1 MiB default without buffering it", async () => {
  const server = createFakeAs();
  const { stream, pulled } = countingStream(32 * MiB);
  await assertOAuthError(
    () => tokenVia(server, () => Promise.resolve(jsonResponse(stream))),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
    { maxBytes: MiB },
  );
  assert.ok(pulled() <= 2 * MiB, `read ${pulled()} bytes`);
});

Deno.test("oversized body: a body whose Content-Length understates its size is still cut at the cap", async () => {
  const server = createFakeAs();
  const { stream, pulled } = countingStream(32 * MiB);
  await assertOAuthError(
    () => tokenVia(server, () => Promise.resolve(jsonResponse(stream, { "content-length": "44" }))),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
  );
  assert.ok(pulled() <= 2 * MiB, `read ${pulled()} bytes of a body declared as 44`);
});

Deno.test("oversized body: over a real socket, bytes past the declared Content-Length are never read as body", async () => {
  const body = '{"access_token":"at","token_type":"Bearer"}';
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    try {
      await conn.read(new Uint8Array(64 * 1024));
      const head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" +
        `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
      await conn.write(new TextEncoder().encode(head + body));
      await conn.write(new Uint8Array(2 * MiB).fill(0x20)).catch(() => {});
    } finally {
      conn.close();
    }
  })();
  try {
    const as = {
      issuer: "http://127.0.0.1",
      token_endpoint: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/token`,
    };
    const client = { client_id: "client" };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost("secret"),
      {},
      { [oauth.allowInsecureRequests]: true, [oauth.maxResponseSize]: 1024 },
    );
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    assert.equal(result.access_token, "at");
  } finally {
    await served;
    listener.close();
  }
});

Deno.test("oversized body: a declared Content-Length over the cap is refused before reading", async () => {
  const server = createFakeAs();
  const { stream, pulled } = countingStream(32 * MiB);
  await assertOAuthError(
    () =>
      tokenVia(
        server,
        () => Promise.resolve(jsonResponse(stream, { "content-length": String(32 * MiB) })),
      ),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
  );
  assert.ok(pulled() <= 64 * 1024, `read ${pulled()} bytes`);
});

Deno.test("oversized body: the JWKS, discovery and userinfo documents obey the same cap", async () => {
  const server = createFakeAs();
  const huge = () => jsonResponse(countingStream(4 * MiB).stream);
  const idTokenResponse = jsonResponse(
    JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: await server.idToken() }),
  );
  await oauth.processGenericTokenEndpointResponse(server.as, server.client, idTokenResponse);
  const calls: [string, () => Promise<unknown>][] = [
    ["jwks", () =>
      oauth.validateApplicationLevelSignature(server.as, idTokenResponse, {
        [oauth.customFetch]: () => Promise.resolve(huge()),
      })],
    ["discovery", async () =>
      oauth.processDiscoveryResponse(
        new URL(server.issuer),
        await oauth.discoveryRequest(new URL(server.issuer), {
          [oauth.customFetch]: () => Promise.resolve(huge()),
        }),
      )],
    ["userinfo", async () =>
      oauth.processUserInfoResponse(
        server.as,
        server.client,
        "user-1",
        await oauth.userInfoRequest(server.as, server.client, "at", {
          [oauth.customFetch]: () => Promise.resolve(huge()),
        }),
      )],
  ];
  for (const [name, call] of calls) {
    await assertOAuthError(call, oauth.OperationProcessingError, oauth.RESPONSE_TOO_LARGE).catch(
      (err) => assert.fail(`${name}: ${err}`),
    );
  }
});

Deno.test("oversized body: [maxResponseSize] lowers the cap for one request", async () => {
  const server = createFakeAs();
  const fetch = () => Promise.resolve(jsonResponse(paddedTokenBody(2048)));
  await assertOAuthError(
    () => tokenVia(server, fetch, { [oauth.maxResponseSize]: 1024 }),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
    { maxBytes: 1024 },
  );
  const result = await tokenVia(server, fetch, { [oauth.maxResponseSize]: 2048 });
  assert.equal(result.access_token, "at");
});

Deno.test("oversized body: [maxResponseSize] raises the cap for a server known to send large bodies", async () => {
  const server = createFakeAs();
  const fetch = () => Promise.resolve(jsonResponse(paddedTokenBody(3 * MiB)));
  await assertOAuthError(
    () => tokenVia(server, fetch),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
    { maxBytes: MiB },
  );
  const result = await tokenVia(server, fetch, { [oauth.maxResponseSize]: 4 * MiB });
  assert.equal(result.access_token, "at");
});

Deno.test("oversized body: [maxResponseSize] applies to the JWKS fetched during validation", async () => {
  const server = createFakeAs();
  const response = jsonResponse(
    JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: await server.idToken() }),
  );
  await oauth.processGenericTokenEndpointResponse(server.as, server.client, response);
  await assertOAuthError(
    () =>
      oauth.validateApplicationLevelSignature(server.as, response, {
        ...server.options,
        [oauth.maxResponseSize]: 64,
      }),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
    { maxBytes: 64 },
  );
  await oauth.validateApplicationLevelSignature(server.as, response, server.options);
});

Deno.test("oversized body: an invalid [maxResponseSize] is refused before any request", async () => {
  const server = createFakeAs();
  for (const value of [0, -1, 1.5, NaN, Infinity, 2 ** 60]) {
    await assertTypeError(
      () => tokenVia(server, server.fetch, { [oauth.maxResponseSize]: value }),
      "ERR_INVALID_ARG_VALUE",
    );
  }
  for (const value of ["1024", 1024n, null]) {
    await assertTypeError(
      // @ts-expect-error: hostile option types
      () => tokenVia(server, server.fetch, { [oauth.maxResponseSize]: value }),
      "ERR_INVALID_ARG_TYPE",
    );
  }
  assert.equal(server.requests.length, 0);
});

Deno.test("gzip bomb: 16 MiB that compress to a few KiB are refused by decoded size over a real socket", async () => {
  const raw = new Uint8Array(16 * MiB).fill(0x20);
  const gz = new Uint8Array(
    await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  assert.ok(gz.byteLength < 64 * 1024);
  await using server = await startFakeAs();
  server.override(
    "token",
    new Response(gz, {
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
    }),
  );
  const response = await oauth.clientCredentialsGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(server.clientSecret),
    {},
    server.options,
  );
  await assertOAuthError(
    () => oauth.processClientCredentialsResponse(server.as, server.client, response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
    { maxBytes: MiB },
  );
});

// --- timeouts ----------------------------------------------------------------------------------

Deno.test("slowloris: every request the library makes runs under the 30-second default timeout", async () => {
  const server = createFakeAs();
  const auth = oauth.ClientSecretPost(server.clientSecret);
  const s = server;
  await withShortDefaultTimeout(10_000, async (requested) => {
    const idToken = jsonResponse(
      JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: await s.idToken() }),
    );
    await oauth.processGenericTokenEndpointResponse(s.as, s.client, idToken);
    const calls: (() => Promise<unknown>)[] = [
      () => oauth.discoveryRequest(new URL(s.issuer), s.options),
      () => oauth.resourceDiscoveryRequest(new URL(s.resource), s.options),
      () => oauth.validateApplicationLevelSignature(s.as, idToken, s.options),
      () => oauth.clientCredentialsGrantRequest(s.as, s.client, auth, {}, s.options),
      () => oauth.refreshTokenGrantRequest(s.as, s.client, auth, "rt", s.options),
      () => oauth.genericTokenEndpointRequest(s.as, s.client, auth, "urn:x", {}, s.options),
      () => oauth.userInfoRequest(s.as, s.client, "at", s.options),
      () => oauth.introspectionRequest(s.as, s.client, auth, "at", s.options),
      () => oauth.revocationRequest(s.as, s.client, auth, "at", s.options),
      () => oauth.pushedAuthorizationRequest(s.as, s.client, auth, {}, s.options),
      () => oauth.deviceAuthorizationRequest(s.as, s.client, auth, {}, s.options),
      () => oauth.deviceCodeGrantRequest(s.as, s.client, auth, "dc", s.options),
      () => oauth.backchannelAuthenticationRequest(s.as, s.client, auth, {}, s.options),
      () => oauth.backchannelAuthenticationGrantRequest(s.as, s.client, auth, "ar", s.options),
      () => oauth.dynamicClientRegistrationRequest(s.as, {}, s.options),
      () =>
        oauth.protectedResourceRequest(
          "at",
          "GET",
          new URL(s.resource),
          undefined,
          undefined,
          s.options,
        ),
    ];
    for (const call of calls) {
      const result = await call();
      if (result instanceof Response) await result.body?.cancel();
    }
    assert.equal(s.requests.length, calls.length);
    assert.deepEqual(requested, calls.map(() => DEFAULT_TIMEOUT_MS));
  });
});

Deno.test("slowloris: a token endpoint that never sends headers ends in a TimeoutError under the default timeout", async () => {
  const never = Promise.withResolvers<Response>();
  await using server = await startFakeAs();
  server.override("token", () => never.promise);
  try {
    await withShortDefaultTimeout(150, async () => {
      await assert.rejects(
        oauth.clientCredentialsGrantRequest(
          server.as,
          server.client,
          oauth.ClientSecretPost(server.clientSecret),
          {},
          server.options,
        ),
        isTimeout,
      );
    });
  } finally {
    never.resolve(new Response("late"));
  }
});

/** A response whose body starts and then stalls until `release()`. */
function stalledBody(): { response: () => Response; release: () => void } {
  const controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
  return {
    response: () =>
      jsonResponse(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controllers.push(controller);
            controller.enqueue(new TextEncoder().encode('{"keys":['));
          },
        }),
      ),
    release: () => {
      for (const c of controllers) {
        try {
          c.close();
        } catch { /* already cancelled by the aborted client */ }
      }
    },
  };
}

Deno.test("slowloris: a token body that stalls after the headers ends in a TimeoutError under the default timeout", async () => {
  const stall = stalledBody();
  await using server = await startFakeAs();
  server.override("token", () => stall.response());
  try {
    await withShortDefaultTimeout(200, async () => {
      const response = await oauth.clientCredentialsGrantRequest(
        server.as,
        server.client,
        oauth.ClientSecretPost(server.clientSecret),
        {},
        server.options,
      );
      await assert.rejects(
        oauth.processClientCredentialsResponse(server.as, server.client, response),
        isTimeout,
      );
    });
  } finally {
    stall.release();
  }
});

Deno.test("slowloris: a JWKS that stalls after the headers ends in a TimeoutError under the default timeout", async () => {
  const stall = stalledBody();
  await using server = await startFakeAs();
  server.override("jwks", () => stall.response());
  const idToken = jsonResponse(
    JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: await server.idToken() }),
  );
  await oauth.processGenericTokenEndpointResponse(server.as, server.client, idToken);
  try {
    await withShortDefaultTimeout(200, async () => {
      await assert.rejects(
        oauth.validateApplicationLevelSignature(server.as, idToken, server.options),
        isTimeout,
      );
    });
  } finally {
    stall.release();
  }
});

Deno.test("slowloris: a discovery document that never arrives ends in a TimeoutError under the default timeout", async () => {
  const never = Promise.withResolvers<Response>();
  await using server = await startFakeAs();
  server.override("discovery", () => never.promise);
  try {
    await withShortDefaultTimeout(150, async () => {
      await assert.rejects(
        oauth.discoveryRequest(new URL(server.issuer), server.options),
        isTimeout,
      );
    });
  } finally {
    never.resolve(new Response("late"));
  }
});

Deno.test("slowloris: a body dribbled one byte at a time ends in a TimeoutError though bytes keep coming", async () => {
  let stopped = false;
  let dribbled = 0;
  await using server = await startFakeAs();
  server.override("userinfo", () =>
    jsonResponse(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (stopped) return controller.close();
          await tick(10);
          controller.enqueue(new Uint8Array([0x20]));
          dribbled++;
        },
        cancel() {
          stopped = true;
        },
      }),
    ));
  try {
    await withShortDefaultTimeout(250, async () => {
      const response = await oauth.userInfoRequest(server.as, server.client, "at", server.options);
      await assert.rejects(
        oauth.processUserInfoResponse(server.as, server.client, "user-1", response),
        isTimeout,
      );
    });
    assert.ok(dribbled >= 2, `only ${dribbled} byte(s) were sent before the timeout`);
  } finally {
    stopped = true;
  }
});

Deno.test("slowloris: a caller's signal replaces the default for the whole exchange", async () => {
  const server = createFakeAs();
  const seen: string[] = [];
  await withShortDefaultTimeout(10_000, async (requested) => {
    const response = await oauth.discoveryRequest(new URL(server.issuer), {
      ...server.options,
      signal: (url) => {
        seen.push(url);
        return new AbortController().signal;
      },
    });
    await response.body?.cancel();
    assert.deepEqual(requested, []);
  });
  assert.equal(seen.length, 1);
});

// --- deep JSON ---------------------------------------------------------------------------------

const DEPTH = 100_000;
const deepArray = () => "[".repeat(DEPTH) + "]".repeat(DEPTH);

Deno.test("deep JSON: a token response nesting 100 000 arrays deep ends in data or a typed error, never a stack overflow", async () => {
  const server = createFakeAs();
  // Where a string is required: a typed refusal.
  const err = await assertOAuthError(
    () =>
      oauth.processGenericTokenEndpointResponse(
        server.as,
        server.client,
        jsonResponse(`{"access_token":${deepArray()},"token_type":"Bearer"}`),
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { attribute: "access_token" },
  );
  assert.ok(exposure(err).length > 0, "the error can be logged");
  // As the top-level value: a typed refusal.
  await assertOAuthError(
    () =>
      oauth.processGenericTokenEndpointResponse(
        server.as,
        server.client,
        jsonResponse(deepArray()),
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  // In an extension member: plain data.
  const result = await oauth.processGenericTokenEndpointResponse(
    server.as,
    server.client,
    jsonResponse(`{"access_token":"at","token_type":"Bearer","ext":${deepArray()}}`),
  );
  assert.ok(Array.isArray(result.ext));
  assert.ok(Deno.inspect(result).length > 0);
});

Deno.test("deep JSON: an ID token with a deeply nested claim is validated, and a deeply nested aud is refused", async () => {
  const server = createFakeAs();
  const sign = (claim: string) =>
    server.signWith(
      { alg: "ES256", kid: server.key.kid },
      JSON.stringify(server.idTokenClaims()).replace(/^\{/, `{${claim},`),
    );
  const accepted = jsonResponse(
    JSON.stringify({
      access_token: "at",
      token_type: "Bearer",
      id_token: await sign(`"deep":${deepArray()}`),
    }),
  );
  await oauth.processGenericTokenEndpointResponse(server.as, server.client, accepted);
  await oauth.validateApplicationLevelSignature(server.as, accepted, server.options);
  const deepAud = await server.signWith(
    { alg: "ES256", kid: server.key.kid },
    JSON.stringify(server.idTokenClaims({ aud: 0 })).replace('"aud":0', `"aud":${deepArray()}`),
  );
  await assertOAuthError(
    () =>
      oauth.processGenericTokenEndpointResponse(
        server.as,
        server.client,
        jsonResponse(
          JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: deepAud }),
        ),
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { claim: "aud" },
  );
});

Deno.test("deep JSON: a JWKS key with a deeply nested member still verifies or fails typed", async () => {
  const server = createFakeAs();
  server.override(
    "jwks",
    jsonResponse(
      JSON.stringify(server.jwks).replace('"kty":"EC"', `"kty":"EC","x5c":${deepArray()}`),
    ),
  );
  const response = jsonResponse(
    JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: await server.idToken() }),
  );
  await oauth.processGenericTokenEndpointResponse(server.as, server.client, response);
  await oauth.validateApplicationLevelSignature(server.as, response, server.options);
});

Deno.test("deep JSON: a DPoP proof whose jwk nests deeply is refused typed at the resource server", async () => {
  const server = createFakeAs();
  const t = server.now();
  const token = await server.sign({
    iss: server.issuer,
    aud: "https://rs.example",
    sub: "user-1",
    client_id: "client",
    iat: t,
    exp: t + 60,
    jti: "j",
    cnf: { jkt: "x" },
  }, { typ: "at+jwt" });
  const proof = await server.signWith(
    `{"typ":"dpop+jwt","alg":"ES256","jwk":${deepArray()}}`,
    JSON.stringify({ iat: t, jti: "p", htm: "GET", htu: "https://rs.example/data", ath: "a" }),
  );
  const request = new Request("https://rs.example/data", {
    headers: { authorization: `DPoP ${token}`, dpop: proof },
  });
  await assertOAuthError(
    () => oauth.validateJwtAccessToken(server.as, request, "https://rs.example", server.options),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE, // oauth4webapi's code for a defective DPoP proof
  );
});

// --- bounded retries and polling ---------------------------------------------------------------

Deno.test("DPoP nonce: a server demanding a nonce gets one request per call, and the retry carries the nonce", async () => {
  const server = createFakeAs();
  server.dpopNonce = "nonce-1";
  const DPoP = oauth.DPoP(server.client, await oauth.generateKeyPair("ES256"));
  const call = async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      server.as,
      server.client,
      oauth.ClientSecretPost(server.clientSecret),
      {},
      { ...server.options, DPoP },
    );
    return await oauth.processClientCredentialsResponse(server.as, server.client, response);
  };
  const err = await assertOAuthError(call, oauth.ResponseBodyError, oauth.RESPONSE_BODY_ERROR, {
    error: "use_dpop_nonce",
  });
  assert.ok(oauth.isDPoPNonceError(err));
  assert.equal(server.requestsTo("token").length, 1, "the library did not retry on its own");
  const result = await call();
  assert.equal(result.token_type, "dpop");
  assert.equal(server.lastRequest("token")?.dpop?.claims?.nonce, "nonce-1");
});

Deno.test("DPoP nonce: a server rotating its nonce on every answer never makes the library loop", async () => {
  const server = createFakeAs();
  let n = 0;
  server.dpopNonce = `nonce-${n}`;
  server.override("token", async (_req, _body, next) => {
    const response = await next();
    server.dpopNonce = `nonce-${++n}`; // stale by the time the client uses it
    return response;
  });
  const DPoP = oauth.DPoP(server.client, await oauth.generateKeyPair("ES256"));
  for (let i = 1; i <= 3; i++) {
    const response = await oauth.clientCredentialsGrantRequest(
      server.as,
      server.client,
      oauth.ClientSecretPost(server.clientSecret),
      {},
      { ...server.options, DPoP },
    );
    const err = await assertOAuthError(
      () => oauth.processClientCredentialsResponse(server.as, server.client, response),
      oauth.ResponseBodyError,
      oauth.RESPONSE_BODY_ERROR,
    );
    assert.ok(oauth.isDPoPNonceError(err));
    assert.equal(server.requestsTo("token").length, i);
  }
});

Deno.test("DPoP nonce: a DPoP-Nonce outside RFC 9449 §8.1's characters is never echoed", async () => {
  const server = createFakeAs();
  const DPoP = oauth.DPoP(server.client, await oauth.generateKeyPair("ES256"));
  const send = async () => {
    const response = await oauth.protectedResourceRequest(
      "at",
      "GET",
      new URL(server.resource),
      undefined,
      undefined,
      { ...server.options, DPoP },
    );
    await response.body?.cancel();
  };
  for (const nonce of ['a"b', "a b", "a\\b", "é"]) {
    server.overrideOnce("resource", new Response(null, { headers: { "dpop-nonce": nonce } }));
    await send();
    await send();
    assert.equal(server.lastRequest("resource")?.dpop?.claims?.nonce, undefined, nonce);
  }
});

Deno.test("DPoP nonce: a handle remembers nonces for at most 100 origins", async () => {
  const DPoP = oauth.DPoP({}, await oauth.generateKeyPair("ES256"));
  const proofs = new Map<string, string | null>();
  const fetch = (url: string, init: { headers: Record<string, string> }) => {
    proofs.set(new URL(url).origin, init.headers.dpop ?? null);
    return Promise.resolve(new Response(null, { headers: { "dpop-nonce": "n" } }));
  };
  const send = async (i: number) => {
    const response = await oauth.protectedResourceRequest(
      "at",
      "GET",
      new URL(`https://rs${i}.example/`),
      undefined,
      undefined,
      { [oauth.customFetch]: fetch, DPoP },
    );
    await response.body?.cancel();
  };
  for (let i = 0; i <= 100; i++) await send(i);
  await send(0);
  const claims = JSON.parse(
    atob(proofs.get("https://rs0.example")!.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")),
  );
  assert.equal(claims.nonce, undefined, "the oldest origin was forgotten");
});

Deno.test("polling: slow_down and authorization_pending come back to the caller after one request each", async () => {
  const server = createFakeAs();
  const auth = oauth.ClientSecretPost(server.clientSecret);
  for (const error of ["authorization_pending", "slow_down"]) {
    server.overrideOnce("token", server.oauthError(error));
    const device = await oauth.deviceCodeGrantRequest(
      server.as,
      server.client,
      auth,
      "device-code",
      server.options,
    );
    await assertOAuthError(
      () => oauth.processDeviceCodeResponse(server.as, server.client, device),
      oauth.ResponseBodyError,
      oauth.RESPONSE_BODY_ERROR,
      { error },
    );
    server.overrideOnce("token", server.oauthError(error));
    const ciba = await oauth.backchannelAuthenticationGrantRequest(
      server.as,
      server.client,
      auth,
      "auth-req-id",
      server.options,
    );
    await assertOAuthError(
      () => oauth.processBackchannelAuthenticationGrantResponse(server.as, server.client, ciba),
      oauth.ResponseBodyError,
      oauth.RESPONSE_BODY_ERROR,
      { error },
    );
  }
  assert.equal(server.requestsTo("token").length, 4);
});

Deno.test("polling: a device or CIBA interval that is not a positive number is refused", async () => {
  const server = createFakeAs();
  for (const interval of [0, -5, "5", null, true]) {
    await assertOAuthError(
      () =>
        oauth.processDeviceAuthorizationResponse(
          server.as,
          server.client,
          jsonResponse(JSON.stringify({
            device_code: "d",
            user_code: "u",
            verification_uri: "https://as.example/device",
            expires_in: 600,
            interval,
          })),
        ),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute: "interval" },
    );
    await assertOAuthError(
      () =>
        oauth.processBackchannelAuthenticationResponse(
          server.as,
          server.client,
          jsonResponse(JSON.stringify({ auth_req_id: "r", expires_in: 120, interval })),
        ),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute: "interval" },
    );
  }
});

Deno.test("polling: the server's interval is handed to the caller as sent, absent when absent", async () => {
  const server = createFakeAs();
  const auth = oauth.ClientSecretPost(server.clientSecret);
  const response = await oauth.deviceAuthorizationRequest(
    server.as,
    server.client,
    auth,
    {},
    server.options,
  );
  const device = await oauth.processDeviceAuthorizationResponse(server.as, server.client, response);
  assert.equal(device.interval, 5);
  const ciba = await oauth.processBackchannelAuthenticationResponse(
    server.as,
    server.client,
    jsonResponse('{"auth_req_id":"r","expires_in":120}'),
  );
  assert.equal(ciba.interval, undefined);
});
