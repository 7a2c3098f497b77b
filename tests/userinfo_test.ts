/**
 * UserInfo (OpenID Connect Core §5.3): what `userInfoRequest()` sends (Bearer or DPoP, accept
 * header, mTLS alias, https rule) and every refusal of `processUserInfoResponse()`, for JSON and
 * signed (JWT) responses, each next to the legitimate variant.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import * as o4w from "oauth4webapi";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import {
  challenge,
  createFakeAs,
  type FakeAs,
  json,
  jwtResponse,
  now,
  oauthError,
  startFakeAs,
} from "./_fake_as.ts";
import {
  assertJwksFetchedAsRequested,
  assertSignatureLeftOpen,
  requestOnlyOptions,
} from "./_jwks_io.ts";
import { generateTestKey } from "./_keys.ts";

const SIGNED: oauth.Client = { client_id: "client", userinfo_signed_response_alg: "ES256" };

async function sha256b64u(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Valid signed-userinfo claims from `server`, then `overrides` (`undefined` deletes). */
function userinfoClaims(server: FakeAs, overrides?: Record<string, unknown>) {
  const claims: Record<string, unknown> = {
    iss: server.issuer,
    aud: server.client.client_id,
    sub: "user-1",
    email: "user-1@as.example",
    ...overrides,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims;
}

async function signedResponse(
  server: FakeAs,
  overrides?: Record<string, unknown>,
  header?: Record<string, unknown>,
  key?: Parameters<FakeAs["sign"]>[2],
): Promise<Response> {
  return jwtResponse(await server.sign(userinfoClaims(server, overrides), header, key));
}

/** `processUserInfoResponse()` for the SIGNED client, expecting the subject "user-1". */
function processSigned(
  server: FakeAs,
  response: Response,
  options?: Parameters<typeof oauth.processUserInfoResponse>[4],
): Promise<oauth.UserInfoResponse> {
  return oauth.processUserInfoResponse(server.as, SIGNED, "user-1", response, options);
}

/** `userInfoRequest()` for the SIGNED client with the access token "at-1". */
function requestSigned(
  server: FakeAs,
  options: oauth.UserInfoRequestOptions = server.options,
): Promise<Response> {
  return oauth.userInfoRequest(server.as, SIGNED, "at-1", options);
}

/** A key with the kid of the server's key that the server's JWKS does not have. */
function impostor(server: FakeAs) {
  return generateTestKey("ES256", server.key.kid);
}

// --- userInfoRequest() ----------------------------------------------------------------------------

Deno.test("userInfoRequest() sends a GET with a Bearer token accepting JSON to userinfo_endpoint", async () => {
  const server = createFakeAs();
  const response = await oauth.userInfoRequest(server.as, server.client, "at-1", server.options);
  const sent = server.lastRequest("userinfo")!;
  assert.equal(sent.method, "GET");
  assert.equal(sent.url.href, server.as.userinfo_endpoint);
  assert.equal(sent.mtls, false);
  assert.equal(sent.headers.get("authorization"), "Bearer at-1");
  assert.equal(sent.headers.get("accept"), "application/json, application/jwt");
  assert.equal(sent.dpop, undefined);
  const userinfo = await oauth.processUserInfoResponse(
    server.as,
    server.client,
    "user-1",
    response,
  );
  assert.equal(userinfo.sub, "user-1");
  assert.equal(userinfo.email, "user-1@as.example");
});

Deno.test("userInfoRequest() accepts application/jwt when userinfo_signed_response_alg is set", async () => {
  const server = createFakeAs({ client: SIGNED });
  const response = await requestSigned(server);
  assert.equal(server.lastRequest("userinfo")!.headers.get("accept"), "application/jwt");
  const userinfo = await processSigned(server, response, server.options);
  assert.equal(userinfo.sub, "user-1");
  assert.equal(server.requestsTo("jwks").length, 1, "the signature was verified");
});

Deno.test("userInfoRequest() sends a DPoP token with a proof bound to it when options.DPoP is set", async () => {
  const server = createFakeAs();
  const DPoP = oauth.DPoP(server.client, await oauth.generateKeyPair("ES256"));
  const response = await oauth.userInfoRequest(server.as, server.client, "at-2", {
    DPoP,
    ...server.options,
  });
  const sent = server.lastRequest("userinfo")!;
  assert.equal(sent.headers.get("authorization"), "DPoP at-2");
  assert.equal(sent.dpop?.header?.typ, "dpop+jwt");
  assert.equal(sent.dpop?.claims?.htm, "GET");
  assert.equal(sent.dpop?.claims?.htu, server.as.userinfo_endpoint);
  assert.equal(sent.dpop?.claims?.ath, await sha256b64u("at-2"));
  // The fake server verified the proof (signature, htm, htu, ath) before answering 200.
  assert.equal(response.status, 200);
  await oauth.processUserInfoResponse(server.as, server.client, "user-1", response);
});

Deno.test("userInfoRequest() sends what oauth4webapi sends: Accept, and a caller's own DPoP header switching the scheme", async () => {
  const as = { issuer: "https://as.example", userinfo_endpoint: "https://as.example/userinfo" };
  const send = async (lib: typeof oauth | typeof o4w, headers?: Record<string, string>) => {
    let seen: Headers | undefined;
    const options = {
      headers,
      [lib.customFetch]: (_url: string, init: RequestInit) => {
        seen = new Headers(init.headers);
        return Promise.resolve(Response.json({ sub: "user-1" }));
      },
    };
    const response = await lib.userInfoRequest(as, { client_id: "c" }, "at-3", options);
    await response.body?.cancel();
    return {
      accept: seen?.get("accept"),
      authorization: seen?.get("authorization"),
      dpop: seen?.get("dpop"),
    };
  };
  for (const headers of [undefined, { dpop: "caller-proof" }]) {
    const ours = await send(oauth, headers);
    assert.deepEqual(ours, await send(o4w, headers));
    assert.equal(ours.authorization, headers ? "DPoP at-3" : "Bearer at-3");
  }
});

Deno.test("userInfoRequest() retries with the nonce after a DPoP use_dpop_nonce challenge", async () => {
  const server = createFakeAs();
  server.dpopNonce = "ui-nonce";
  const DPoP = oauth.DPoP(server.client, await oauth.generateKeyPair("ES256"));
  const fetchUserInfo = async () => {
    const response = await oauth.userInfoRequest(server.as, server.client, "at", {
      DPoP,
      ...server.options,
    });
    return await oauth.processUserInfoResponse(server.as, server.client, "user-1", response);
  };
  const err = await assertOAuthError(
    fetchUserInfo,
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(oauth.isDPoPNonceError(err), true);
  assert.equal((await fetchUserInfo()).sub, "user-1");
  assert.equal(server.lastRequest("userinfo")!.dpop?.claims?.nonce, "ui-nonce");
});

Deno.test("userInfoRequest() uses the mTLS endpoint alias when use_mtls_endpoint_aliases is set", async () => {
  const client: oauth.Client = { client_id: "client", use_mtls_endpoint_aliases: true };
  const server = createFakeAs({ client });
  const response = await oauth.userInfoRequest(server.as, client, "at", server.options);
  await response.body?.cancel();
  const sent = server.lastRequest("userinfo")!;
  assert.equal(sent.mtls, true);
  assert.equal(sent.url.href, server.as.mtls_endpoint_aliases.userinfo_endpoint);
});

Deno.test("userInfoRequest() refuses mutual TLS with neither a client certificate nor customFetch", async () => {
  const client: oauth.Client = { client_id: "client", use_mtls_endpoint_aliases: true };
  const server = createFakeAs({ client });
  await assertTypeError(
    () => oauth.userInfoRequest(server.as, client, "at"),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("userInfoRequest() refuses an http: endpoint without allowInsecureRequests, before any request", async () => {
  const server = createFakeAs({ issuer: "http://as.example" });
  await assertOAuthError(
    () => oauth.userInfoRequest(server.as, server.client, "at", server.options),
    oauth.OperationProcessingError,
    oauth.HTTP_REQUEST_FORBIDDEN,
  );
  assert.equal(server.requests.length, 0);
  const response = await oauth.userInfoRequest(server.as, server.client, "at", {
    ...server.options,
    [oauth.allowInsecureRequests]: true,
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();
});

Deno.test("userInfoRequest() refuses metadata without a userinfo_endpoint", async () => {
  const server = createFakeAs({ metadata: { userinfo_endpoint: undefined } });
  await assertOAuthError(
    () => oauth.userInfoRequest(server.as, server.client, "at", server.options),
    oauth.OperationProcessingError,
    oauth.MISSING_SERVER_METADATA,
    { attribute: "userinfo_endpoint" },
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("userInfoRequest() keeps custom headers but refuses a caller's Authorization header", async () => {
  const server = createFakeAs();
  await assertTypeError(
    () =>
      oauth.userInfoRequest(server.as, server.client, "at", {
        ...server.options,
        headers: { Authorization: "x" },
      }),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(server.requests.length, 0);
  const response = await oauth.userInfoRequest(server.as, server.client, "at", {
    ...server.options,
    headers: { "x-request-id": "r-1" },
  });
  await response.body?.cancel();
  assert.equal(server.lastRequest("userinfo")!.headers.get("x-request-id"), "r-1");
});

Deno.test("userInfoRequest() refuses an empty or missing access token", async () => {
  const server = createFakeAs();
  await assertTypeError(
    () => oauth.userInfoRequest(server.as, server.client, "", server.options),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () =>
      oauth.userInfoRequest(
        server.as,
        server.client,
        undefined as unknown as string,
        server.options,
      ),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(server.requests.length, 0);
});

// --- processUserInfoResponse(): JSON ------------------------------------------------------------

Deno.test("processUserInfoResponse() returns the claims when sub matches the expected subject", async () => {
  const server = createFakeAs();
  const body = { sub: "user-1", name: "A", address: { country: "FR" }, email_verified: true };
  const userinfo = await oauth.processUserInfoResponse(
    server.as,
    server.client,
    "user-1",
    json(body),
  );
  assert.deepEqual(userinfo, body);
});

Deno.test("processUserInfoResponse() refuses a sub that differs from the ID token's", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () =>
      oauth.processUserInfoResponse(server.as, server.client, "user-1", json({ sub: "user-2" })),
    oauth.OperationProcessingError,
    oauth.JSON_ATTRIBUTE_COMPARISON,
    { attribute: "sub", expected: "user-1", body: { sub: "user-2" } },
  );
});

Deno.test("processUserInfoResponse() skips the subject comparison only with skipSubjectCheck", async () => {
  const server = createFakeAs();
  const userinfo = await oauth.processUserInfoResponse(
    server.as,
    server.client,
    oauth.skipSubjectCheck,
    json({ sub: "anyone" }),
  );
  assert.equal(userinfo.sub, "anyone");
});

Deno.test("processUserInfoResponse() refuses a missing, empty or non-string sub", async () => {
  const server = createFakeAs();
  for (const body of [{ name: "no sub" }, { sub: "" }, { sub: 1 }, { sub: null }]) {
    await assertOAuthError(
      () =>
        oauth.processUserInfoResponse(server.as, server.client, oauth.skipSubjectCheck, json(body)),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute: "sub" },
    );
  }
});

Deno.test("processUserInfoResponse() refuses a body that is not JSON", async () => {
  const server = createFakeAs();
  const response = new Response("<html>hi</html>", { headers: { "content-type": "text/html" } });
  await assertOAuthError(
    () => oauth.processUserInfoResponse(server.as, server.client, "user-1", response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_JSON,
  );
});

Deno.test("processUserInfoResponse() refuses JSON that is not an object, or not JSON at all", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () => oauth.processUserInfoResponse(server.as, server.client, "user-1", json(["user-1"])),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  const broken = new Response("{", { headers: { "content-type": "application/json" } });
  await assertOAuthError(
    () => oauth.processUserInfoResponse(server.as, server.client, "user-1", broken),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
});

Deno.test("processUserInfoResponse() throws WWWAuthenticateChallengeError for a 401 challenge", async () => {
  const server = createFakeAs();
  server.override(
    "userinfo",
    challenge('Bearer error="invalid_token", error_description="expired"'),
  );
  const response = await oauth.userInfoRequest(server.as, server.client, "at", server.options);
  const err = await assertOAuthError(
    () => oauth.processUserInfoResponse(server.as, server.client, "user-1", response),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(err.status, 401);
  assert.equal(err.cause[0]?.scheme, "bearer");
  assert.equal(err.cause[0]?.parameters.error, "invalid_token");
  assert.equal(oauth.isDPoPNonceError(err), false);
});

Deno.test("processUserInfoResponse() reads no OAuth error body, as oauth4webapi: userinfo errors are challenges", async () => {
  // OpenID Connect Core §5.3.3 / RFC 6750 §3: the UserInfo endpoint reports errors in
  // WWW-Authenticate; a body is not an error report, so the status alone is judged.
  const server = createFakeAs();
  const response = oauthError("invalid_request", "bad", 400);
  await assertOAuthError(
    () => oauth.processUserInfoResponse(server.as, server.client, "user-1", response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_CONFORM,
    { status: 400 },
  );
  assert.equal(response.bodyUsed, true, "the body is released");
});

Deno.test("processUserInfoResponse() refuses a non-200 status without an error body", async () => {
  const server = createFakeAs();
  for (const status of [201, 500]) {
    await assertOAuthError(
      () =>
        oauth.processUserInfoResponse(
          server.as,
          server.client,
          "user-1",
          json({ sub: "user-1" }, status),
        ),
      oauth.OperationProcessingError,
      oauth.RESPONSE_IS_NOT_CONFORM,
      { status, expected: 200 },
    );
  }
});

Deno.test("processUserInfoResponse() refuses unsigned JSON when a signed response is registered", async () => {
  const server = createFakeAs({ client: SIGNED });
  await assertOAuthError(
    processSigned(server, json({ sub: "user-1" })),
    oauth.OperationProcessingError,
    oauth.JWT_USERINFO_EXPECTED,
  );
});

Deno.test("processUserInfoResponse() refuses invalid arguments before reading the body", async () => {
  const server = createFakeAs();
  const response = json({ sub: "user-1" });
  await assertTypeError(
    () => oauth.processUserInfoResponse(server.as, server.client, "", response),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () =>
      oauth.processUserInfoResponse(
        server.as,
        server.client,
        undefined as unknown as string,
        response,
      ),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(response.bodyUsed, false);
  await response.text();
  await assertTypeError(
    () => oauth.processUserInfoResponse(server.as, server.client, "user-1", response),
    "ERR_INVALID_ARG_VALUE",
  );
});

// --- processUserInfoResponse(): signed (JWT) ----------------------------------------------------

Deno.test("processUserInfoResponse() accepts a signed response after verifying it with the JWKS", async () => {
  const server = createFakeAs({ client: SIGNED });
  const response = await signedResponse(server);
  const cache = {};
  const userinfo = await processSigned(server, response, {
    ...server.options,
    [oauth.jwksCache]: cache,
  });
  assert.equal(userinfo.sub, "user-1");
  assert.equal(userinfo.email, "user-1@as.example");
  assert.deepEqual((cache as oauth.ExportedJWKSCache).jwks, server.jwks);
  // The JWS is remembered, so validateApplicationLevelSignature works on the response too.
  await oauth.validateApplicationLevelSignature(server.as, response, {
    ...server.options,
    [oauth.jwksCache]: cache,
  });
});

/** A signed response SIGNED's processing refuses: how it differs from a valid one, and the error. */
interface SignedRefusal {
  /** Claim overrides (`undefined` deletes). */
  claims?: Record<string, unknown>;
  /** The signing key when not the server's ES256 key: another of its algs, or a key it lacks. */
  key?: "RS256" | ((server: FakeAs) => ReturnType<typeof generateTestKey>);
  /** The `code` of the `OperationProcessingError`. */
  code: string;
  /** The members its `cause` must have. */
  cause?: Record<string, unknown> | ((server: FakeAs) => Record<string, unknown>);
  /** Refused before the JWKS is fetched. */
  noJwksFetch?: true;
}

/** Each test's name (after `processUserInfoResponse() `) and the responses it refuses in turn. */
const SIGNED_REFUSALS: Record<string, SignedRefusal[]> = {
  "refuses a signed response whose signature does not verify": [{
    key: impostor,
    code: oauth.INVALID_RESPONSE,
    cause: (server) => ({ alg: "ES256", kid: server.key.kid }),
  }],
  "refuses a signed response from a key the JWKS does not have": [{
    key: () => generateTestKey("ES256", "unknown-kid"),
    code: oauth.KEY_SELECTION,
  }],
  "refuses a signed response in an alg other than the registered one": [{
    key: "RS256",
    code: oauth.INVALID_RESPONSE,
    cause: { expected: ["ES256"] },
    noJwksFetch: true,
  }],
  "refuses a signed response issued for another client": ["someone-else", [
    "someone-else",
    "third",
  ]].map((aud) => ({
    claims: { aud },
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: { claim: "aud", expected: "client" },
  })),
  "refuses a signed response from another issuer": [{
    claims: { iss: "https://evil.example" },
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: (server) => ({ claim: "iss", expected: server.issuer }),
  }],
  "requires iss and aud in a signed response": ["iss", "aud"].map((claim) => ({
    claims: { [claim]: undefined },
    code: oauth.INVALID_RESPONSE,
    cause: { claim },
  })),
  "refuses an expired signed response": [{
    claims: { exp: now() - 3600 },
    code: oauth.JWT_TIMESTAMP_CHECK,
    cause: { claim: "exp" },
  }],
  "compares the sub of a signed response too": [
    {
      claims: { sub: "user-2" },
      code: oauth.JSON_ATTRIBUTE_COMPARISON,
      cause: { attribute: "sub", expected: "user-1" },
    },
    { claims: { sub: undefined }, code: oauth.INVALID_RESPONSE },
  ],
};

for (const [name, refusals] of Object.entries(SIGNED_REFUSALS)) {
  Deno.test(`processUserInfoResponse() ${name}`, async () => {
    const server = createFakeAs({ client: SIGNED });
    for (const { claims, key, code, cause, noJwksFetch } of refusals) {
      const response = await signedResponse(
        server,
        claims,
        {},
        typeof key === "function" ? await key(server) : key,
      );
      await assertOAuthError(
        processSigned(server, response, server.options),
        oauth.OperationProcessingError,
        code,
        typeof cause === "function" ? cause(server) : cause,
      );
      if (noJwksFetch) assert.equal(server.requestsTo("jwks").length, 0);
    }
  });
}

Deno.test("processUserInfoResponse() refuses a signed response when neither client nor server names an alg", async () => {
  const server = createFakeAs({ metadata: { userinfo_signing_alg_values_supported: undefined } });
  const err = await assertOAuthError(
    async () =>
      oauth.processUserInfoResponse(
        server.as,
        server.client,
        "user-1",
        await signedResponse(server),
        server.options,
      ),
    oauth.OperationProcessingError,
    oauth.UNSUPPORTED_OPERATION,
  );
  assert.ok(err.cause);
  assert.equal(server.requestsTo("jwks").length, 0);
});

Deno.test("processUserInfoResponse() accepts a signed response in an alg the server advertises", async () => {
  const server = createFakeAs();
  const userinfo = await oauth.processUserInfoResponse(
    server.as,
    server.client,
    "user-1",
    await signedResponse(server, {}, {}, "RS256"),
    server.options,
  );
  assert.equal(userinfo.sub, "user-1");
  assert.equal(server.requestsTo("jwks").length, 1);
});

Deno.test("processUserInfoResponse() refuses an unsecured alg none userinfo JWT", async () => {
  const server = createFakeAs({ client: SIGNED });
  const jwt = await server.signWith({ alg: "none" }, JSON.stringify(userinfoClaims(server)));
  await assertOAuthError(
    processSigned(server, jwtResponse(jwt), server.options),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

Deno.test("processUserInfoResponse() accepts an aud array that includes the client", async () => {
  const server = createFakeAs({ client: SIGNED });
  const response = await signedResponse(server, { aud: ["other-api", "client"] });
  const userinfo = await processSigned(server, response, server.options);
  assert.deepEqual(userinfo.aud, ["other-api", "client"]);
});

Deno.test("processUserInfoResponse() refuses an encrypted response without jweDecrypt", async () => {
  const server = createFakeAs({ client: SIGNED });
  await assertOAuthError(
    processSigned(server, jwtResponse("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"), server.options),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

Deno.test("processUserInfoResponse() decrypts with jweDecrypt and then verifies the inner JWT", async () => {
  const server = createFakeAs({ client: SIGNED });
  const jwe = "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d";
  const inner = await server.sign(userinfoClaims(server));
  const seen: string[] = [];
  const userinfo = await processSigned(server, jwtResponse(jwe), {
    ...server.options,
    [oauth.jweDecrypt]: (value) => {
      seen.push(value);
      return Promise.resolve(inner);
    },
  });
  assert.deepEqual(seen, [jwe]);
  assert.equal(userinfo.sub, "user-1");
  assert.equal(server.requestsTo("jwks").length, 1);
});

// --- signed responses: no hidden network I/O (issue 16 item 2) ----------------------------------

Deno.test("processUserInfoResponse() fetches the JWKS with the options of the userInfoRequest() that produced the response", async () => {
  // openid-client's call pattern: options to the request, none to the processor.
  const server = createFakeAs({ client: SIGNED });
  const { options, signalled } = requestOnlyOptions(server);
  const response = await requestSigned(server, options);
  assert.equal((await processSigned(server, response)).sub, "user-1");
  await assertJwksFetchedAsRequested(
    server,
    response,
    server.as.userinfo_endpoint,
    signalled,
  );
});

Deno.test("processUserInfoResponse() refuses a bad signature when the options are given to the request only", async () => {
  const server = createFakeAs({ client: SIGNED });
  server.override("userinfo", await signedResponse(server, {}, {}, await impostor(server)));
  const response = await requestSigned(server);
  await assertOAuthError(
    processSigned(server, response),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.equal(server.requestsTo("jwks").length, 1);
});

Deno.test("processUserInfoResponse() fetches an http: jwks_uri when the request allowed insecure requests", async () => {
  await using server = await startFakeAs({ client: SIGNED });
  assert.equal(new URL(server.as.jwks_uri).protocol, "http:");
  const userinfo = await processSigned(server, await requestSigned(server));
  assert.equal(userinfo.sub, "user-1");
  assert.equal(server.requestsTo("jwks").length, 1);
  // An [allowInsecureRequests]: false given to the processor wins, and refuses the http: fetch.
  await assertOAuthError(
    processSigned(server, await requestSigned(server), {
      [oauth.allowInsecureRequests]: false,
      [oauth.jwksCache]: {},
    }),
    oauth.OperationProcessingError,
    oauth.HTTP_REQUEST_FORBIDDEN,
  );
});

Deno.test("left open: processUserInfoResponse() makes no request for a response it did not see requested, and leaves its signature to validateApplicationLevelSignature()", async () => {
  const server = createFakeAs({ client: SIGNED });
  // A test suite's Response, signed by a key the server does not have.
  const response = await signedResponse(server, {}, {}, await impostor(server));
  await assertSignatureLeftOpen(server, response, async (response) => {
    assert.equal((await processSigned(server, response)).sub, "user-1");
  });
  // The claims are still checked without the network.
  await assertOAuthError(
    processSigned(server, await signedResponse(server, { iss: "https://evil.example" })),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss" },
  );
  assert.equal(server.requests.length, 1, "only validateApplicationLevelSignature() fetched");
});

Deno.test("processUserInfoResponse() verifies a built response when it is given a [jwksCache], without fetching a cached JWKS", async () => {
  const server = createFakeAs({ client: SIGNED });
  const options = {
    [oauth.jwksCache]: { jwks: structuredClone(server.jwks), uat: now() },
  };
  assert.equal((await processSigned(server, await signedResponse(server), options)).sub, "user-1");
  await assertOAuthError(
    processSigned(server, await signedResponse(server, {}, {}, await impostor(server)), options),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("processUserInfoResponse() options override the request's for the JWKS fetch", async () => {
  const server = createFakeAs({ client: SIGNED });
  const response = await requestSigned(server, {
    ...server.options,
    headers: { "x-trace": "from-the-request" },
  });
  const seen: string[] = [];
  await processSigned(server, response, {
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<"GET", undefined>) => {
      seen.push(url);
      return server.fetch(url, init);
    },
    headers: { "x-trace": "from-the-processor" },
  });
  assert.deepEqual(seen, [server.as.jwks_uri]);
  assert.equal(server.lastRequest("jwks")!.headers.get("x-trace"), "from-the-processor");
});

Deno.test("processUserInfoResponse() uses a [jwksCache] that was passed along to userInfoRequest()", async () => {
  // One options object spread into every call, as applications do.
  const server = createFakeAs({ client: SIGNED });
  const cache = {};
  const options = { ...server.options, [oauth.jwksCache]: cache };
  for (let i = 0; i < 2; i++) await processSigned(server, await requestSigned(server, options));
  assert.equal(server.requestsTo("jwks").length, 1);
  assert.deepEqual((cache as oauth.ExportedJWKSCache).jwks, server.jwks);
});
