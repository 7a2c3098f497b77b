/**
 * Protected resource requests (RFC 6750 §2.1, RFC 9449 §7.1): Bearer or DPoP, headers kept and
 * reserved ones refused, method normalisation, the https rule, and `WWW-Authenticate` challenges
 * turned into errors while other responses come back untouched.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, startFakeAs } from "./_fake_as.ts";

type Init = oauth.CustomFetchOptions<string, unknown>;

function recorder(respond?: (url: string, init: Init) => Response) {
  const calls: { url: string; init: Init }[] = [];
  const fetch = (url: string, init: Init): Promise<Response> => {
    calls.push({ url, init });
    return Promise.resolve(respond?.(url, init) ?? new Response(null, { status: 204 }));
  };
  return { calls, options: { [oauth.customFetch]: fetch } };
}

/** A plain GET of `RS` with the access token "at", answered by `respond`. */
function getResource(respond: () => Response): Promise<Response> {
  const { options } = recorder(respond);
  return oauth.protectedResourceRequest("at", "GET", RS, undefined, undefined, options);
}

async function sha256b64u(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const keyPair = await oauth.generateKeyPair("ES256");
const RS = new URL("https://rs.example/api/items");

Deno.test("protectedResourceRequest() sends the token as Bearer without DPoP", async () => {
  const server = createFakeAs();
  const response = await oauth.protectedResourceRequest(
    "at-1",
    "GET",
    new URL(server.resource),
    undefined,
    undefined,
    server.options,
  );
  assert.equal(response.status, 200);
  const echo = await response.json();
  assert.equal(echo.authorization, "Bearer at-1");
  assert.equal(echo.dpop, null);
});

Deno.test("protectedResourceRequest() sends a DPoP token with a proof bound to it when options.DPoP is set", async () => {
  const server = createFakeAs();
  const url = new URL(`${server.resource}?page=2#frag`);
  const response = await oauth.protectedResourceRequest(
    "at-2",
    "POST",
    url,
    new Headers({ "content-type": "application/json" }),
    '{"a":1}',
    { DPoP: oauth.DPoP({}, keyPair), ...server.options },
  );
  // The fake server verified the proof (signature, htm, htu, ath) before answering 200.
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const sent = server.lastRequest("resource")!;
  assert.equal(sent.headers.get("authorization"), "DPoP at-2");
  assert.equal(sent.dpop?.claims?.htm, "POST");
  assert.equal(sent.dpop?.claims?.htu, server.resource);
  assert.equal(sent.dpop?.claims?.ath, await sha256b64u("at-2"));
  assert.equal(sent.body, '{"a":1}');
  assert.equal(sent.url.search, "?page=2");
});

Deno.test("protectedResourceRequest() keeps the caller's headers and sets a user-agent", async () => {
  const fetcher = recorder();
  const response = await oauth.protectedResourceRequest(
    "at",
    "GET",
    RS,
    new Headers({ accept: "application/xml", "x-trace": "t-1" }),
    undefined,
    fetcher.options,
  );
  assert.equal(response.status, 204);
  const headers = fetcher.calls[0]!.init.headers;
  assert.equal(headers.accept, "application/xml");
  assert.equal(headers["x-trace"], "t-1");
  assert.ok(headers["user-agent"]);
  assert.equal(fetcher.calls[0]!.init.redirect, "manual");
});

Deno.test("protectedResourceRequest() refuses Authorization among the caller's headers, as oauth4webapi does", async () => {
  const fetcher = recorder();
  for (const name of ["Authorization", "authorization"]) {
    await assertTypeError(
      () =>
        oauth.protectedResourceRequest(
          "at",
          "GET",
          RS,
          new Headers({ [name]: "Bearer other" }),
          undefined,
          fetcher.options,
        ),
      "ERR_INVALID_ARG_VALUE",
    );
  }
  assert.equal(fetcher.calls.length, 0);
});

Deno.test("protectedResourceRequest() sends a caller-formed DPoP proof as is, with the DPoP Authorization scheme", async () => {
  const fetcher = recorder();
  const proof = "eyJhbGciOiJFUzI1NiJ9.e30.externally-formed";
  const response = await oauth.protectedResourceRequest(
    "at-ext",
    "GET",
    RS,
    new Headers({ DPoP: proof }),
    undefined,
    fetcher.options,
  );
  assert.equal(response.status, 204);
  const headers = fetcher.calls[0]!.init.headers;
  assert.equal(headers.dpop, proof);
  assert.equal(headers.authorization, "DPoP at-ext");
});

Deno.test("protectedResourceRequest() replaces a caller's DPoP header with the handle's proof when options.DPoP is given", async () => {
  const fetcher = recorder();
  await oauth.protectedResourceRequest("at", "GET", RS, new Headers({ DPoP: "stale" }), undefined, {
    ...fetcher.options,
    DPoP: oauth.DPoP({}, keyPair),
  });
  const headers = fetcher.calls[0]!.init.headers;
  assert.notEqual(headers.dpop, "stale");
  assert.equal(headers.dpop!.split(".").length, 3);
  assert.equal(headers.authorization, "DPoP at");
});

Deno.test("protectedResourceRequest() refuses a URL carrying user:pass@ credentials, before any request", async () => {
  const fetcher = recorder();
  await assertTypeError(
    () =>
      oauth.protectedResourceRequest(
        "at",
        "GET",
        new URL("https://user:pass@rs.example/api"),
        undefined,
        undefined,
        fetcher.options,
      ),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(fetcher.calls.length, 0);
});

Deno.test("protectedResourceRequest() refuses an http: URL without allowInsecureRequests, before any request", async () => {
  const fetcher = recorder();
  const url = new URL("http://rs.example/api");
  await assertOAuthError(
    () => oauth.protectedResourceRequest("at", "GET", url, undefined, undefined, fetcher.options),
    oauth.OperationProcessingError,
    oauth.HTTP_REQUEST_FORBIDDEN,
  );
  await assertOAuthError(
    () =>
      oauth.protectedResourceRequest(
        "at",
        "GET",
        new URL("ftp://rs.example/api"),
        undefined,
        undefined,
        { ...fetcher.options, [oauth.allowInsecureRequests]: true },
      ),
    oauth.OperationProcessingError,
    oauth.REQUEST_PROTOCOL_FORBIDDEN,
  );
  assert.equal(fetcher.calls.length, 0);
  const response = await oauth.protectedResourceRequest("at", "GET", url, undefined, undefined, {
    ...fetcher.options,
    [oauth.allowInsecureRequests]: true,
  });
  assert.equal(response.status, 204);
  assert.equal(fetcher.calls[0]!.url, "http://rs.example/api");
});

Deno.test("protectedResourceRequest() reaches a loopback resource over real fetch with allowInsecureRequests", async () => {
  await using server = await startFakeAs();
  const response = await oauth.protectedResourceRequest(
    "at-3",
    "GET",
    new URL(server.resource),
    undefined,
    undefined,
    { DPoP: oauth.DPoP({}, keyPair), ...server.options },
  );
  assert.equal(response.status, 200);
  const echo = await response.json();
  assert.equal(echo.authorization, "DPoP at-3");
  assert.ok(echo.dpop);
});

Deno.test("protectedResourceRequest() throws WWWAuthenticateChallengeError when the response carries a challenge", async () => {
  const server = createFakeAs();
  server.override(
    "resource",
    new Response("denied", {
      status: 401,
      headers: { "www-authenticate": 'Bearer realm="api", error="invalid_token"' },
    }),
  );
  const err = await assertOAuthError(
    () =>
      oauth.protectedResourceRequest(
        "at",
        "GET",
        new URL(server.resource),
        undefined,
        undefined,
        server.options,
      ),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(err.status, 401);
  assert.deepEqual(err.cause, [
    { scheme: "bearer", parameters: { realm: "api", error: "invalid_token" } },
  ]);
  assert.equal(err.response.bodyUsed, false, "the body is left for the caller");
  assert.equal(await err.response.text(), "denied");
  assert.equal(oauth.isDPoPNonceError(err), false);
});

Deno.test("protectedResourceRequest() returns a response whose WWW-Authenticate header is malformed, as oauth4webapi does", async () => {
  const response = await getResource(() =>
    new Response("denied", {
      status: 401,
      headers: { "www-authenticate": 'Bearer realm="unterminated' },
    })
  );
  assert.equal(response.status, 401);
  assert.equal(await response.text(), "denied");
});

Deno.test("protectedResourceRequest() returns responses without a challenge as they are, whatever the status", async () => {
  for (const status of [200, 403, 404, 500]) {
    const response = await getResource(() => new Response(`status ${status}`, { status }));
    assert.equal(response.status, status);
    assert.equal(await response.text(), `status ${status}`);
  }
});

Deno.test("protectedResourceRequest() lets a DPoP nonce challenge be retried with the nonce", async () => {
  const server = createFakeAs();
  server.dpopNonce = "rs-nonce";
  const DPoP = oauth.DPoP({}, keyPair);
  const call = () =>
    oauth.protectedResourceRequest("at", "GET", new URL(server.resource), undefined, undefined, {
      DPoP,
      ...server.options,
    });
  const err = await call().then(
    () => assert.fail("expected a challenge"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof oauth.WWWAuthenticateChallengeError);
  assert.equal(oauth.isDPoPNonceError(err), true);
  const response = await call();
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(server.lastRequest("resource")!.dpop?.claims?.nonce, "rs-nonce");
});

Deno.test("protectedResourceRequest() normalises the method as fetch does and uses it for htm", async () => {
  const fetcher = recorder();
  const DPoP = oauth.DPoP({}, keyPair);
  for (const [given, sent] of [["post", "POST"], ["delete", "DELETE"], ["PATCH", "PATCH"]]) {
    await oauth.protectedResourceRequest("at", given!, RS, undefined, undefined, {
      DPoP,
      ...fetcher.options,
    });
    const call = fetcher.calls.at(-1)!;
    assert.equal(call.init.method, sent);
    const claims = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.from(
          atob(call.init.headers.dpop!.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")),
          (c) => c.charCodeAt(0),
        ),
      ),
    );
    assert.equal(claims.htm, sent);
  }
});

Deno.test("protectedResourceRequest() refuses invalid or forbidden methods and a body on GET", async () => {
  const fetcher = recorder();
  for (const method of ["", "GE T", "CONNECT", "trace"]) {
    await assertTypeError(
      () => oauth.protectedResourceRequest("at", method, RS, undefined, undefined, fetcher.options),
      "ERR_INVALID_ARG_VALUE",
    );
  }
  await assertTypeError(
    () => oauth.protectedResourceRequest("at", "GET", RS, undefined, "body", fetcher.options),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(fetcher.calls.length, 0);
});

Deno.test("protectedResourceRequest() refuses a missing token or a url that is not a URL", async () => {
  const fetcher = recorder();
  await assertTypeError(
    () => oauth.protectedResourceRequest("", "GET", RS, undefined, undefined, fetcher.options),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () =>
      oauth.protectedResourceRequest(
        "at",
        "GET",
        "https://rs.example" as unknown as URL,
        undefined,
        undefined,
        fetcher.options,
      ),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(fetcher.calls.length, 0);
});
