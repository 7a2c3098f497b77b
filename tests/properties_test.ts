/**
 * Property-based tests (fast-check) for the parsers and encoders not covered next to their
 * module: the RFC 6749 §2.3.1 form encoding behind `client_secret_basic`, JWT segment decoding,
 * callback URL and form_post parsing, JSON response bodies, `Content-Type` reading, URL scheme
 * checks and DPoP nonce errors. Whatever the input, a call either succeeds or raises one of the
 * library's typed errors; never another exception, never a hang. (WWW-Authenticate parsing and
 * well-known URL building have their properties in their own test files.)
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as oauth from "@authlane/oauth";
import { isTypedError } from "./attacks/_attack.ts";
import { createFakeAs } from "./_fake_as.ts";
import { b64u } from "./_keys.ts";

const server = createFakeAs();
const RUNS = { numRuns: 300 };

/** Runs `fn`; a throw must be a typed error. Returns the result, or undefined after a throw. */
async function typedOrValue<T>(fn: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (!isTypedError(err)) {
      throw new Error(`untyped ${(err as Error)?.name}: ${(err as Error)?.message}`, {
        cause: err,
      });
    }
    return undefined;
  }
}

/** Strings of any code points, lone surrogates included. */
const anyString = fc.string({
  unit: fc.oneof(
    { weight: 9, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
    },
  ),
  maxLength: 64,
});
/** Strings that survive as HTTP header values. */
const headerValue = fc.string({ unit: "binary-ascii", maxLength: 200 }).map((s) =>
  // deno-lint-ignore no-control-regex -- control characters are what is being removed
  s.replace(/[\x00-\x1f\x7f]/g, "").trim()
);

/** RFC 6749 §2.3.1: form-decode (`+` is a space, then percent-decoding). */
function formDecode(value: string): string {
  return decodeURIComponent(value.replaceAll("+", " "));
}

function basicCredentials(headers: Headers): [string, string] {
  const value = headers.get("authorization") ?? "";
  assert.match(value, /^Basic [A-Za-z0-9+/]*={0,2}$/);
  const bytes = Uint8Array.from(atob(value.slice(6)), (c) => c.charCodeAt(0));
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  const colon = text.indexOf(":");
  return [formDecode(text.slice(0, colon)), formDecode(text.slice(colon + 1))];
}

// --- client_secret_basic -----------------------------------------------------------------------

Deno.test("fast-check: client_secret_basic form-encodes any client_id and secret so a server decodes them back, or refuses them typed", async () => {
  await fc.assert(
    fc.asyncProperty(anyString, anyString, async (clientId, secret) => {
      let sent: Headers | undefined;
      await typedOrValue(async () => {
        const response = await oauth.clientCredentialsGrantRequest(
          server.as,
          { client_id: clientId },
          oauth.ClientSecretBasic(secret),
          {},
          {
            [oauth.customFetch]: (_url, init) => {
              sent = new Headers(init.headers);
              return Promise.resolve(new Response(null, { status: 204 }));
            },
          },
        );
        await response.body?.cancel();
      });
      if (sent === undefined) {
        // Refused before any request: only an empty or malformed (lone surrogate) value may be.
        assert.ok(
          clientId === "" || secret === "" || !clientId.isWellFormed() || !secret.isWellFormed(),
          `refused ${JSON.stringify([clientId, secret])}`,
        );
        return;
      }
      assert.deepEqual(basicCredentials(sent), [clientId, secret]);
      // Only the characters form encoding leaves alone (and "%", "+"), so the one ":" splits them.
      const raw = atob(sent.get("authorization")!.slice(6));
      assert.match(raw, /^[A-Za-z0-9%+*._-]*:[A-Za-z0-9%+*._-]*$/);
    }),
    RUNS,
  );
});

// --- JWT segments ------------------------------------------------------------------------------

/** Compact-JWS-shaped strings: arbitrary segments, base64url of arbitrary JSON or bytes. */
const segment = fc.oneof(
  anyString,
  fc.jsonValue().map((v) => b64u(JSON.stringify(v) ?? "")),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => b64u(bytes)),
  fc.record({ alg: fc.oneof(fc.constantFrom("ES256", "RS256", "none", "HS256"), anyString) }, {
    requiredKeys: [],
  }).map((h) => b64u(JSON.stringify(h))),
);
const jwtLike = fc.oneof(
  anyString,
  fc.tuple(segment, segment, segment).map((parts) => parts.join(".")),
  fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join(".")),
);

Deno.test("fast-check: an ID token of any shape in a token response is processed or refused typed", async () => {
  await fc.assert(
    fc.asyncProperty(jwtLike, async (idToken) => {
      const response = new Response(
        JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: idToken }),
        { headers: { "content-type": "application/json" } },
      );
      await typedOrValue(() =>
        oauth.processGenericTokenEndpointResponse(server.as, server.client, response)
      );
    }),
    RUNS,
  );
});

Deno.test("fast-check: an Authorization and DPoP header of any shape at a resource server are validated or refused typed", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(headerValue, jwtLike.map((t) => `Bearer ${t}`), jwtLike.map((t) => `DPoP ${t}`)),
      fc.option(jwtLike, { nil: undefined }),
      async (authorization, dpop) => {
        let request: Request;
        try {
          const headers = new Headers({ authorization });
          if (dpop !== undefined) headers.set("dpop", dpop);
          request = new Request("https://rs.example/data", { headers });
        } catch {
          return; // not a valid header value: the platform never hands it to the library
        }
        await typedOrValue(() =>
          oauth.validateJwtAccessToken(server.as, request, "https://rs.example", server.options)
        );
      },
    ),
    RUNS,
  );
});

Deno.test("fast-check: a JARM response parameter of any shape is validated or refused typed", async () => {
  await fc.assert(
    fc.asyncProperty(jwtLike, async (jwt) => {
      const params = new URLSearchParams({ response: jwt });
      await typedOrValue(() =>
        oauth.validateJwtAuthResponse(server.as, server.client, params, undefined, server.options)
      );
    }),
    RUNS,
  );
});

// --- callback parsing --------------------------------------------------------------------------

const parameterName = fc.oneof(
  fc.constantFrom(
    "code",
    "state",
    "iss",
    "error",
    "error_description",
    "response",
    "id_token",
    "access_token",
    "token",
    "__proto__",
  ),
  anyString,
);
const callbackQuery = fc.oneof(
  anyString,
  fc.array(
    fc.tuple(parameterName, fc.oneof(anyString, fc.constant(server.issuer), fc.constant("xyz"))),
    { maxLength: 8 },
  ).map((pairs) => new URLSearchParams(pairs).toString()),
);
const expectedState = fc.oneof(
  anyString,
  fc.constant("xyz"),
  fc.constantFrom(oauth.expectNoState, oauth.skipStateCheck),
);

Deno.test("fast-check: any callback URL is validated or refused typed", async () => {
  await fc.assert(
    fc.asyncProperty(
      callbackQuery,
      fc.string({ maxLength: 32 }),
      expectedState,
      async (query, fragment, state) => {
        const url = new URL("https://app.example/cb");
        url.search = query;
        url.hash = fragment;
        const result = await typedOrValue(() =>
          oauth.validateAuthResponse(server.as, server.client, url, state)
        );
        if (result !== undefined) {
          assert.ok(result instanceof URLSearchParams);
          assert.equal(result.get("iss") ?? server.issuer, server.issuer);
        }
      },
    ),
    RUNS,
  );
});

Deno.test("fast-check: any form_post body and content type are parsed or refused typed", async () => {
  await fc.assert(
    fc.asyncProperty(
      anyString,
      fc.oneof(headerValue, fc.constant("application/x-www-form-urlencoded")),
      fc.constantFrom("POST", "GET", "PUT"),
      async (body, contentType, method) => {
        let request: Request;
        try {
          request = new Request("https://app.example/cb", {
            method,
            headers: { "content-type": contentType },
            body: method === "GET" ? undefined : body,
          });
        } catch {
          return;
        }
        const params = await typedOrValue(() => oauth.formPostResponse(request));
        if (params !== undefined) {
          await typedOrValue(() =>
            oauth.validateAuthResponse(server.as, server.client, params, oauth.skipStateCheck)
          );
        }
      },
    ),
    RUNS,
  );
});

Deno.test("fast-check: any hybrid callback is validated or refused typed", async () => {
  await fc.assert(
    fc.asyncProperty(callbackQuery, jwtLike, async (query, idToken) => {
      const params = new URLSearchParams(query);
      params.set("id_token", idToken);
      await typedOrValue(() =>
        oauth.validateCodeIdTokenResponse(
          server.as,
          server.client,
          params,
          "nonce",
          oauth.expectNoState,
          undefined,
          server.options,
        )
      );
    }),
    { numRuns: 150 },
  );
});

// --- JSON bodies -------------------------------------------------------------------------------

const bodyText = fc.oneof(
  anyString,
  fc.jsonValue().map((v) => JSON.stringify(v) ?? ""),
  fc.dictionary(
    fc.oneof(
      fc.constantFrom(
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "refresh_token",
        "id_token",
        "error",
        "issuer",
        "keys",
        "__proto__",
        "constructor",
      ),
      anyString,
    ),
    fc.jsonValue({ maxDepth: 3 }),
  ).map((o) => JSON.stringify(o)),
);

Deno.test("fast-check: any token, discovery or userinfo response body, status and content type is processed or refused typed", async () => {
  await fc.assert(
    fc.asyncProperty(
      bodyText,
      fc.integer({ min: 200, max: 599 }),
      fc.oneof(fc.constant("application/json"), headerValue),
      async (text, status, contentType) => {
        const make = () => {
          const headers = new Headers();
          try {
            headers.set("content-type", contentType);
          } catch { /* an invalid value is left out */ }
          return new Response([204, 205, 304].includes(status) ? null : text, { status, headers });
        };
        await typedOrValue(() =>
          oauth.processGenericTokenEndpointResponse(server.as, server.client, make())
        );
        await typedOrValue(() => oauth.processDiscoveryResponse(new URL(server.issuer), make()));
        await typedOrValue(() =>
          oauth.processUserInfoResponse(server.as, server.client, oauth.skipSubjectCheck, make())
        );
        await typedOrValue(() =>
          oauth.processIntrospectionResponse(server.as, server.client, make())
        );
      },
    ),
    RUNS,
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("fast-check: a WWW-Authenticate header of any shape on a 401 becomes a challenge or a typed error", async () => {
  await fc.assert(
    fc.asyncProperty(headerValue, async (challenge) => {
      let response: Response;
      try {
        response = new Response(null, { status: 401, headers: { "www-authenticate": challenge } });
      } catch {
        return;
      }
      await typedOrValue(() =>
        oauth.processUserInfoResponse(server.as, server.client, "sub", response)
      );
    }),
    RUNS,
  );
});

// --- small parsers -----------------------------------------------------------------------------

Deno.test("fast-check: getContentType() reads any header value without throwing", () => {
  fc.assert(
    fc.property(headerValue, (value) => {
      let response: Response;
      try {
        response = new Response(null, { headers: { "content-type": value } });
      } catch {
        return;
      }
      const type = oauth.getContentType(response);
      assert.ok(type === undefined || (type === type.toLowerCase() && !type.includes(";")));
    }),
    RUNS,
  );
});

Deno.test("fast-check: checkProtocol() passes https:, passes http: only when allowed, and refuses every other URL typed", () => {
  fc.assert(
    fc.property(
      fc.webUrl({ validSchemes: ["https", "http", "ftp", "file", "ws", "data"] }),
      fc.boolean(),
      (href, enforce) => {
        const url = URL.parse(href);
        if (url === null) return;
        try {
          oauth.checkProtocol(url, enforce);
          assert.ok(url.protocol === "https:" || (url.protocol === "http:" && !enforce));
        } catch (err) {
          assert.ok(isTypedError(err));
          assert.notEqual(url.protocol, "https:");
        }
      },
    ),
    RUNS,
  );
});

Deno.test("fast-check: isDPoPNonceError() answers a boolean for any value", () => {
  fc.assert(
    fc.property(fc.anything(), (value) => {
      assert.equal(typeof oauth.isDPoPNonceError(value), "boolean");
    }),
    RUNS,
  );
});

Deno.test("fast-check: calculatePKCECodeChallenge() hashes or refuses any string typed", async () => {
  await fc.assert(
    fc.asyncProperty(anyString, async (verifier) => {
      const challenge = await typedOrValue(() => oauth.calculatePKCECodeChallenge(verifier));
      if (challenge !== undefined) assert.match(challenge, /^[A-Za-z0-9_-]{43}$/);
    }),
    RUNS,
  );
});
