/**
 * Attack family: hostile response bodies (RFC 8259; RFC 7515 §5.2; RFC 6749 §5.1). The server, or
 * whatever sits between it and the client, answers with something that is not the JSON object a
 * processor expects: not JSON, not an object, mislabelled, with repeated or prototype-named
 * members, or with numbers and strings no honest server would send. Each processor either
 * refuses it with a typed error or returns plain data; nothing the caller receives, nor
 * `Object.prototype`, is polluted.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { createFakeAs, type FakeAs } from "../_fake_as.ts";
import { b64u } from "../_keys.ts";

/** One processor fed a hand-made response. */
interface Processor {
  name: string;
  /** The status its success path expects. */
  status: number;
  run: (server: FakeAs, response: Response) => Promise<unknown>;
}

const PROCESSORS: Processor[] = [
  {
    name: "token",
    status: 200,
    run: (s, r) => oauth.processGenericTokenEndpointResponse(s.as, s.client, r),
  },
  {
    name: "discovery",
    status: 200,
    run: (s, r) => oauth.processDiscoveryResponse(new URL(s.issuer), r),
  },
  {
    name: "resource metadata",
    status: 200,
    run: (s, r) => oauth.processResourceDiscoveryResponse(new URL(s.resource), r),
  },
  {
    name: "userinfo",
    status: 200,
    run: (s, r) => oauth.processUserInfoResponse(s.as, s.client, oauth.skipSubjectCheck, r),
  },
  {
    name: "introspection",
    status: 200,
    run: (s, r) => oauth.processIntrospectionResponse(s.as, s.client, r),
  },
  {
    name: "device authorization",
    status: 200,
    run: (s, r) => oauth.processDeviceAuthorizationResponse(s.as, s.client, r),
  },
  {
    name: "backchannel authentication",
    status: 200,
    run: (s, r) => oauth.processBackchannelAuthenticationResponse(s.as, s.client, r),
  },
  {
    name: "PAR",
    status: 201,
    run: (s, r) => oauth.processPushedAuthorizationResponse(s.as, s.client, r),
  },
  {
    name: "registration",
    status: 201,
    run: (_s, r) => oauth.processDynamicClientRegistrationResponse(r),
  },
  {
    name: "JWKS",
    status: 200,
    run: async (s, r) => {
      const response = new Response(
        JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: await s.idToken() }),
        { headers: { "content-type": "application/json" } },
      );
      await oauth.processGenericTokenEndpointResponse(s.as, s.client, response);
      return await oauth.validateApplicationLevelSignature(s.as, response, {
        [oauth.customFetch]: () => Promise.resolve(r),
      });
    },
  },
];

function body(
  text: string | Uint8Array,
  status: number,
  contentType: string | null = "application/json",
): Response {
  const headers = new Headers();
  if (contentType !== null) headers.set("content-type", contentType);
  return new Response(text as BodyInit, { status, headers });
}

/** Runs every processor on `make(processor)`; each must refuse with `Class` and `code`. */
async function refusedEverywhere(
  make: (p: Processor) => Response,
  Class: typeof oauth.OperationProcessingError,
  code: string,
): Promise<void> {
  const server = createFakeAs();
  for (const p of PROCESSORS) {
    await assertOAuthError(() => p.run(server, make(p)), Class, code).catch((err) =>
      assert.fail(`${p.name}: ${err}`)
    );
  }
}

function assertPrototypeClean(): void {
  const probe: Record<string, unknown> = {};
  assert.equal(probe.polluted, undefined, "Object.prototype was polluted");
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"), false);
}

// --- not JSON, not an object, mislabelled ------------------------------------------------------

Deno.test("non-JSON body: an HTML page labelled application/json is refused by every processor", async () => {
  await refusedEverywhere(
    (p) => body("<html>maintenance</html>", p.status),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
});

Deno.test("non-JSON body: JSON cut off mid-stream is refused by every processor", async () => {
  await refusedEverywhere(
    (p) => body('{"access_token":"at","token_type":', p.status),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
});

Deno.test("non-JSON body: bytes that are not UTF-8 are refused by every processor", async () => {
  await refusedEverywhere(
    (p) => body(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), p.status),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
});

for (const value of ["[]", '"a string"', "42", "null", "true"]) {
  Deno.test(`JSON that is not an object: ${value} is refused by every processor`, async () => {
    await refusedEverywhere(
      (p) => body(value, p.status),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  });
}

for (const contentType of [null, "text/html", "text/plain", "text/json", "application/jsonp"]) {
  Deno.test(`wrong content type: a body that is not JSON, served as ${contentType ?? "no content type"}, is refused by every processor as RESPONSE_IS_NOT_JSON`, async () => {
    await refusedEverywhere(
      (p) => body("<html><body>502 Bad Gateway</body></html>", p.status, contentType),
      oauth.OperationProcessingError,
      oauth.RESPONSE_IS_NOT_JSON,
    );
  });

  // As oauth4webapi does, the content type only speaks when the body does not parse: a JSON
  // object is read and judged on its members (here the required ones are missing).
  Deno.test(`wrong content type: a JSON object served as ${contentType ?? "no content type"} is read, and judged on its members`, async () => {
    await refusedEverywhere(
      (p) => body("{}", p.status, contentType),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  });
}

Deno.test("wrong content type: JSON media types with parameters, any case, or a +json suffix are accepted", async () => {
  const server = createFakeAs();
  for (
    const type of [
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/vnd.example+json",
    ]
  ) {
    const result = await oauth.processGenericTokenEndpointResponse(
      server.as,
      server.client,
      body('{"access_token":"at","token_type":"Bearer"}', 200, type),
    );
    assert.equal(result.access_token, "at");
  }
});

Deno.test("wrong content type: unsigned userinfo is refused when the client registered signed userinfo", async () => {
  const server = createFakeAs();
  const client = { ...server.client, userinfo_signed_response_alg: "ES256" };
  await assertOAuthError(
    () =>
      oauth.processUserInfoResponse(
        server.as,
        client,
        "user-1",
        body('{"sub":"user-1"}', 200),
      ),
    oauth.OperationProcessingError,
    oauth.JWT_USERINFO_EXPECTED,
  );
});

Deno.test("wrong content type: an unsigned introspection response is refused when the client registered signed ones", async () => {
  const server = createFakeAs();
  const client = { ...server.client, introspection_signed_response_alg: "ES256" };
  await assertOAuthError(
    () => oauth.processIntrospectionResponse(server.as, client, body('{"active":true}', 200)),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: "application/token-introspection+jwt" },
  );
});

Deno.test("non-JSON body: a UTF-8 byte order mark is ignored, as RFC 8259 §8.1 allows", async () => {
  const server = createFakeAs();
  const text = new TextEncoder().encode('\ufeff{"access_token":"at","token_type":"Bearer"}');
  const result = await oauth.processGenericTokenEndpointResponse(
    server.as,
    server.client,
    body(text, 200),
  );
  assert.equal(result.access_token, "at");
});

Deno.test("non-JSON body: an error status with an unreadable body is not conform, never a ResponseBodyError", async () => {
  const server = createFakeAs();
  for (const text of ["<html>", '{"error":42}', '{"error":""}', "[]"]) {
    await assertOAuthError(
      () => oauth.processGenericTokenEndpointResponse(server.as, server.client, body(text, 400)),
      oauth.OperationProcessingError,
      oauth.RESPONSE_IS_NOT_CONFORM,
      { status: 400 },
    );
  }
});

// --- duplicate members -------------------------------------------------------------------------

Deno.test("duplicate keys: a token response repeating a member is judged by its last value (RFC 8259 §4)", async () => {
  const server = createFakeAs();
  const result = await oauth.processGenericTokenEndpointResponse(
    server.as,
    server.client,
    body(
      '{"access_token":"first","token_type":"evil","access_token":"last","token_type":"DPoP"}',
      200,
    ),
  );
  assert.equal(result.access_token, "last");
  assert.equal(result.token_type, "dpop");
});

/** A hostile ID token in an otherwise honest token response; the processor must refuse it. */
interface HostileIdToken {
  name: string;
  token: (server: FakeAs) => Promise<string>;
  error: typeof oauth.OperationProcessingError | typeof oauth.UnsupportedOperationError;
  code: string;
  cause?: Record<string, unknown>;
}

/** A JWS over `payload` with the server's key and a plain `{ alg, kid }` header. */
function signPayload(server: FakeAs, payload: string): Promise<string> {
  return server.signWith({ alg: "ES256", kid: server.key.kid }, payload);
}

const HOSTILE_ID_TOKENS: HostileIdToken[] = [
  {
    name:
      "duplicate keys: an ID token repeating aud is judged by its last value (RFC 7515 §5.2, RFC 7519 §4)",
    token: (server) => {
      const claims = JSON.stringify(server.idTokenClaims()).slice(0, -1);
      return signPayload(server, `${claims},"aud":"other-client"}`);
    },
    error: oauth.OperationProcessingError,
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: { claim: "aud" },
  },
  {
    name: "duplicate keys: a JWS header repeating alg with none last is refused",
    token: (server) =>
      server.signWith(
        '{"alg":"ES256","kid":"es256","alg":"none"}',
        JSON.stringify(server.idTokenClaims()),
        "ES256",
      ),
    error: oauth.UnsupportedOperationError,
    code: oauth.UNSUPPORTED_OPERATION,
  },
  {
    name: "__proto__ keys: ID token claims cannot take iss or aud from __proto__",
    token: (server) => {
      const { iss: _iss, aud: _aud, ...rest } = server.idTokenClaims();
      const proto = JSON.stringify({ iss: server.issuer, aud: "client", polluted: 1 });
      return signPayload(server, JSON.stringify(rest).replace(/^\{/, `{"__proto__":${proto},`));
    },
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
    cause: { claim: "iss" },
  },
  {
    name: "__proto__ keys: a JWS header cannot take alg from __proto__",
    token: (server) =>
      server.signWith(
        '{"__proto__":{"alg":"ES256"},"kid":"es256"}',
        JSON.stringify(server.idTokenClaims()),
        "ES256",
      ),
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
  },
  {
    name: "enormous numbers: an ID token exp that overflows to Infinity is refused as a claim type",
    token: (server) =>
      signPayload(
        server,
        JSON.stringify(server.idTokenClaims({ exp: 0 })).replace('"exp":0', '"exp":1e400'),
      ),
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
    cause: { claim: "exp" },
  },
  {
    name: "enormous strings: a JWT segment of a megabyte of junk is refused as a parse error",
    token: () => Promise.resolve(`${b64u('{"alg":"ES256"}')}.${"!".repeat(900 * 1024)}.sig`),
    error: oauth.OperationProcessingError,
    code: oauth.PARSE_ERROR,
  },
];

for (const attack of HOSTILE_ID_TOKENS) {
  Deno.test(attack.name, async () => {
    const server = createFakeAs();
    const idToken = await attack.token(server);
    await assertOAuthError(
      () =>
        oauth.processGenericTokenEndpointResponse(
          server.as,
          server.client,
          body(
            JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: idToken }),
            200,
          ),
        ),
      attack.error as typeof oauth.OperationProcessingError,
      attack.code,
      attack.cause,
    );
    assertPrototypeClean();
  });
}

/** Token response bodies no honest server sends; each is refused. */
interface HostileTokenBody {
  name: string;
  cases: { body: string; cause: Record<string, unknown> }[];
  options?: oauth.ProcessTokenResponseOptions;
  error: typeof oauth.OperationProcessingError | typeof oauth.UnsupportedOperationError;
  code: string;
}

const HOSTILE_TOKEN_BODIES: HostileTokenBody[] = [
  {
    name: "__proto__ keys: a token response cannot supply access_token through __proto__",
    cases: [{
      body: '{"__proto__":{"access_token":"at","polluted":1},"token_type":"Bearer"}',
      cause: { attribute: "access_token" },
    }],
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
  },
  {
    name: "constructor keys: token types named after Object.prototype members are unsupported",
    cases: ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"].map((type) => ({
      body: JSON.stringify({ access_token: "at", token_type: type }),
      cause: { token_type: type.toLowerCase() },
    })),
    options: { recognizedTokenTypes: {} },
    error: oauth.UnsupportedOperationError,
    code: oauth.UNSUPPORTED_OPERATION,
  },
  {
    name: "enormous numbers: an expires_in that overflows to Infinity or is negative is refused",
    cases: ["1e400", "-1", `1${"0".repeat(400)}`, "-1e400"].map((value) => ({
      body: `{"access_token":"at","token_type":"Bearer","expires_in":${value}}`,
      cause: { attribute: "expires_in" },
    })),
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
  },
];

for (const attack of HOSTILE_TOKEN_BODIES) {
  Deno.test(attack.name, async () => {
    const server = createFakeAs();
    for (const { body: text, cause } of attack.cases) {
      await assertOAuthError(
        () =>
          oauth.processGenericTokenEndpointResponse(
            server.as,
            server.client,
            body(text, 200),
            attack.options,
          ),
        attack.error as typeof oauth.OperationProcessingError,
        attack.code,
        cause,
      );
    }
    assertPrototypeClean();
  });
}

// --- prototype members -------------------------------------------------------------------------

Deno.test("__proto__ keys: a token response's __proto__ member stays plain data on a plain object", async () => {
  const server = createFakeAs();
  const result = await oauth.processGenericTokenEndpointResponse(
    server.as,
    server.client,
    body(
      '{"access_token":"at","token_type":"Bearer","__proto__":{"polluted":1,"isAdmin":true},' +
        '"constructor":{"prototype":{"polluted":1}}}',
      200,
    ),
  );
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.equal((result as Record<string, unknown>).isAdmin, undefined);
  assert.equal((result as Record<string, unknown>).polluted, undefined);
  assert.ok(Object.hasOwn(result, "__proto__"));
  assertPrototypeClean();
});

Deno.test("__proto__ keys: validated ID token claims with a __proto__ member are a plain object", async () => {
  const server = createFakeAs();
  const payload = JSON.stringify(server.idTokenClaims()).replace(
    /^\{/,
    '{"__proto__":{"polluted":1,"email_verified":true},',
  );
  const token = await server.signWith({ alg: "ES256", kid: server.key.kid }, payload);
  const result = await oauth.processGenericTokenEndpointResponse(
    server.as,
    server.client,
    body(JSON.stringify({ access_token: "at", token_type: "Bearer", id_token: token }), 200),
  );
  const claims = oauth.getValidatedIdTokenClaims(result)!;
  assert.equal(Object.getPrototypeOf(claims), Object.prototype);
  assert.equal(claims.email_verified, undefined);
  assertPrototypeClean();
});

Deno.test("__proto__ keys: userinfo cannot take sub from __proto__", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () =>
      oauth.processUserInfoResponse(
        server.as,
        server.client,
        "user-1",
        body('{"__proto__":{"sub":"user-1"}}', 200),
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { attribute: "sub" },
  );
});

Deno.test("__proto__ keys: discovery metadata cannot take issuer from __proto__", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () =>
      oauth.processDiscoveryResponse(
        new URL(server.issuer),
        body(`{"__proto__":{"issuer":"${server.issuer}"}}`, 200),
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { attribute: "issuer" },
  );
});

Deno.test("__proto__ keys: an mtls_endpoint_aliases __proto__ member cannot redirect the token request", async () => {
  const server = createFakeAs();
  const metadata = JSON.stringify({ ...server.as, mtls_endpoint_aliases: {} }).replace(
    '"mtls_endpoint_aliases":{}',
    '"mtls_endpoint_aliases":{"__proto__":{"token_endpoint":"https://attacker.example/token"}}',
  );
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(new URL(server.issuer), body(metadata, 200)),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { attribute: "mtls_endpoint_aliases" },
  );
  // Metadata the application parsed itself never reaches the prototype either.
  const as = JSON.parse(metadata) as oauth.AuthorizationServer;
  const client = { ...server.client, use_mtls_endpoint_aliases: true };
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    oauth.ClientSecretPost(server.clientSecret),
    {},
    server.options,
  );
  await response.body?.cancel();
  assert.equal(server.lastRequest()?.url.href, server.as.token_endpoint);
});

Deno.test("__proto__ keys: a JWKS cannot take keys from __proto__", async () => {
  const server = createFakeAs();
  const jwks = PROCESSORS.find((p) => p.name === "JWKS")!;
  await assertOAuthError(
    () => jwks.run(server, body(`{"__proto__":${JSON.stringify(server.jwks)}}`, 200)),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

// --- enormous numbers and strings --------------------------------------------------------------

Deno.test("enormous numbers: a device or CIBA polling interval that overflows is refused", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () =>
      oauth.processDeviceAuthorizationResponse(
        server.as,
        server.client,
        body(
          '{"device_code":"d","user_code":"u","verification_uri":"https://as.example/device",' +
            '"expires_in":600,"interval":1e400}',
          200,
        ),
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
        body('{"auth_req_id":"r","expires_in":1e400}', 200),
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { attribute: "expires_in" },
  );
});

Deno.test("enormous strings: a 900 KiB access token under the 1 MiB cap is returned intact", async () => {
  const server = createFakeAs();
  const token = "a".repeat(900 * 1024);
  const result = await oauth.processGenericTokenEndpointResponse(
    server.as,
    server.client,
    body(JSON.stringify({ access_token: token, token_type: "Bearer" }), 200),
  );
  assert.equal(result.access_token.length, token.length);
});
