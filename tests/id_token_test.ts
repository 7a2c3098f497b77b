/**
 * ID token validation at the token endpoint (OpenID Connect Core §3.1.3.7): each rule is staged
 * twice, once with the server lying (refused with the expected class, code and cause) and once
 * with the legitimate variant (accepted). Responses are built in memory and handed straight to
 * `processAuthorizationCodeResponse`.
 */
import assert from "node:assert/strict";
import { compactDecrypt, CompactEncrypt } from "jose";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, type FakeAs } from "./_fake_as.ts";
import { generateTestKey, type TestAlg } from "./_keys.ts";

type Claims = Record<string, unknown>;

/** A token endpoint response whose `id_token` is `idToken` (`undefined` leaves it out). */
async function tokenResponse(server: FakeAs, idToken: string | undefined): Promise<Response> {
  return server.json(await server.tokenBody({ id_token: idToken }));
}

/** Processes a code response whose `id_token` is `idToken` (`undefined` leaves it out). */
async function processToken(
  server: FakeAs,
  idToken: string | undefined,
  options?: oauth.ProcessAuthorizationCodeResponseOptions,
): Promise<oauth.TokenEndpointResponse> {
  return await oauth.processAuthorizationCodeResponse(
    server.as,
    server.client,
    await tokenResponse(server, idToken),
    options,
  );
}

/** Processes a code response carrying an ID token built from `claims` (and `header`). */
async function processWith(
  server: FakeAs,
  claims: Claims,
  options?: oauth.ProcessAuthorizationCodeResponseOptions,
  overrides: { header?: Claims; as?: oauth.AuthorizationServer; client?: oauth.Client } = {},
): Promise<oauth.TokenEndpointResponse> {
  const idToken = await server.idToken(claims, overrides.header);
  return await oauth.processAuthorizationCodeResponse(
    overrides.as ?? server.as,
    overrides.client ?? server.client,
    await tokenResponse(server, idToken),
    options,
  );
}

/** Processes a refresh token response whose ID token has `claims` over the valid ones. */
async function refreshWith(server: FakeAs, claims: Claims): Promise<oauth.TokenEndpointResponse> {
  return await oauth.processRefreshTokenResponse(
    server.as,
    server.client,
    await tokenResponse(server, await server.idToken(claims)),
  );
}

/** An ID token staged on `server` that `processAuthorizationCodeResponse` must refuse. */
interface Refusal {
  claims: Claims;
  options?: oauth.ProcessAuthorizationCodeResponseOptions;
  /** Client metadata overrides. */
  client?: Partial<oauth.Client>;
  code: string;
  cause?: Record<string, unknown>;
}

/** A named rule: each staged token refused with an `OperationProcessingError`. */
type RefusalRule = [name: string, stages: ((server: FakeAs) => Refusal)[]];

/** Registers one test per rule; each test stages its tokens on a fresh fake server. */
function testRefusals(rules: readonly RefusalRule[]): void {
  for (const [name, stages] of rules) {
    Deno.test(`processAuthorizationCodeResponse() refuses ${name}`, async () => {
      const server = createFakeAs();
      for (const stage of stages) {
        const { claims, options, client, code, cause } = stage(server);
        await assertOAuthError(
          () =>
            processWith(server, claims, options, {
              client: client === undefined ? undefined : { ...server.client, ...client },
            }),
          oauth.OperationProcessingError,
          code,
          cause,
        );
      }
    });
  }
}

// --- the baseline ------------------------------------------------------------------------------

Deno.test("processAuthorizationCodeResponse() accepts a valid ID token and exposes its claims", async () => {
  const server = createFakeAs();
  const result = await processWith(server, { auth_time: server.now() - 5 });
  const claims = oauth.getValidatedIdTokenClaims(result)!;
  assert.equal(claims.iss, server.issuer);
  assert.equal(claims.sub, "user-1");
  assert.equal(claims.aud, server.client.client_id);
  assert.equal(typeof claims.exp, "number");
  assert.equal(result.token_type, "bearer");
});

// --- alg policy (§3.1.3.7 (7)) ----------------------------------------------------------------

/** How a token is refused: its error class, code and (some of) its cause. */
interface AlgRefusal {
  error: typeof oauth.OperationProcessingError | typeof oauth.UnsupportedOperationError;
  code: string;
  cause?: Record<string, unknown> | ((cause: unknown) => void);
}

/** One alg-policy rule: the server's metadata, the client, the tokens, and how they fare. */
interface AlgPolicyCase {
  name: string;
  /** Metadata overrides (`undefined` removes a member). */
  metadata?: Record<string, oauth.JsonValue | undefined>;
  /** Client metadata overrides. */
  client?: Partial<oauth.Client>;
  /** Each token: the server key signing it (the default key when absent) and header overrides. */
  tokens: { alg?: TestAlg; header?: Claims }[];
  /** How each token is refused; each is accepted when absent. */
  refused?: AlgRefusal;
  /** A check on the staging itself (that the lie is really told). */
  staged?: (server: FakeAs, idToken: string) => void;
}

/** Refused by the alg policy (§3.1.3.7 (7)): `INVALID_RESPONSE`, with the allowed algs. */
function notAllowed(cause: AlgRefusal["cause"]): AlgRefusal {
  return { error: oauth.OperationProcessingError, code: oauth.INVALID_RESPONSE, cause };
}

/** Refused before any policy: not a JWS authlane processes. */
const UNSUPPORTED: AlgRefusal = {
  error: oauth.UnsupportedOperationError,
  code: oauth.UNSUPPORTED_OPERATION,
};

const ALG_POLICY: AlgPolicyCase[] = [
  {
    name: "refuses an alg the server does not advertise",
    tokens: [{ alg: "PS256" }], // the fake server advertises ES256, RS256
    refused: notAllowed((cause) => {
      const c = cause as { header: Claims; expected: string[] };
      assert.equal(c.header.alg, "PS256");
      assert.deepEqual(c.expected, ["ES256", "RS256"]);
    }),
  },
  {
    name: "accepts every alg the server advertises",
    tokens: [{ alg: "ES256" }, { alg: "RS256" }],
  },
  {
    name: "refuses an advertised alg when the client registered another",
    client: { id_token_signed_response_alg: "PS256" },
    tokens: [{ alg: "ES256" }],
    refused: notAllowed({ expected: ["PS256"] }),
  },
  {
    name: "accepts the client's registered alg even when unadvertised",
    client: { id_token_signed_response_alg: "PS256" },
    tokens: [{ alg: "PS256" }],
  },
  {
    name: "refuses anything but RS256 when neither side names an alg",
    metadata: { id_token_signing_alg_values_supported: undefined },
    tokens: [{ alg: "ES256" }, { alg: "PS256" }, { alg: "EdDSA" }],
    refused: notAllowed({ expected: ["RS256"] }),
    staged: (server) => assert.equal(server.as.id_token_signing_alg_values_supported, undefined),
  },
  {
    // An empty id_token_signing_alg_values_supported is broken metadata, not "use the RS256
    // default".
    name: "refuses every alg when the server advertises an empty list",
    metadata: { id_token_signing_alg_values_supported: [] },
    tokens: [{ alg: "RS256" }, { alg: "ES256" }],
    refused: notAllowed({ expected: [] }),
  },
  {
    name: "refuses every alg when the client registered an empty one",
    client: { id_token_signed_response_alg: "" },
    tokens: [{ alg: "ES256" }],
    refused: notAllowed({ expected: [""] }),
  },
  {
    name: "accepts RS256 when neither side names an alg",
    metadata: { id_token_signing_alg_values_supported: undefined },
    tokens: [{ alg: "RS256" }],
  },
  {
    name: "refuses an unsecured ID token even when the server advertises none",
    metadata: { id_token_signing_alg_values_supported: ["none", "ES256"] },
    tokens: [{ header: { alg: "none", kid: undefined } }],
    refused: UNSUPPORTED,
    staged: (_, idToken) => assert.ok(idToken.endsWith(".")),
  },
  {
    name: "refuses an unknown crit header extension",
    tokens: [{ header: { crit: ["exp"], exp: 1 } }, { header: { crit: ["urn:example:ext"] } }],
    refused: UNSUPPORTED,
  },
  {
    name: "accepts unknown header members that are not critical",
    tokens: [{ header: { typ: "JWT", "urn:example:ext": true } }],
  },
  {
    name: "refuses an unencoded payload (b64: false)",
    tokens: [{ header: { b64: false, crit: ["b64"] } }, { header: { b64: false } }],
    refused: UNSUPPORTED,
  },
];

for (const rule of ALG_POLICY) {
  Deno.test(`processAuthorizationCodeResponse() ${rule.name}`, async () => {
    const server = createFakeAs(rule.metadata ? { metadata: rule.metadata } : {});
    const client = { ...server.client, ...rule.client };
    for (const token of rule.tokens) {
      const idToken = await server.idToken({}, token.header, token.alg);
      rule.staged?.(server, idToken);
      const process = async () =>
        oauth.processAuthorizationCodeResponse(
          server.as,
          client,
          await tokenResponse(server, idToken),
        );
      if (rule.refused === undefined) {
        assert.equal(oauth.getValidatedIdTokenClaims(await process())?.sub, "user-1");
      } else {
        await assertOAuthError(
          process,
          rule.refused.error as typeof oauth.OperationProcessingError,
          rule.refused.code,
          rule.refused.cause,
        );
      }
    }
  });
}

// --- iss, aud, azp (§3.1.3.7 (2)–(5)) -------------------------------------------------------

const ISS_AUD_AZP: RefusalRule[] = [
  ["an ID token from another issuer", [(server) => ({
    claims: { iss: "https://attacker.example" },
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: { claim: "iss", expected: server.issuer },
  })]],
  ["an issuer that differs only by a trailing slash", [(server) => ({
    claims: { iss: `${server.issuer}/` },
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: { claim: "iss" },
  })]],
  ["an ID token issued to another client", [
    (server) => ({
      claims: { aud: "someone-else" },
      code: oauth.JWT_CLAIM_COMPARISON,
      cause: { claim: "aud", expected: server.client.client_id },
    }),
    () => ({
      claims: { aud: ["someone-else", "another"], azp: "someone-else" },
      code: oauth.JWT_CLAIM_COMPARISON,
      cause: { claim: "aud" },
    }),
  ]],
  ["extra audiences without azp", [(server) => ({
    claims: { aud: [server.client.client_id, "untrusted"] },
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: { claim: "aud" },
  })]],
  ["an azp naming another client", [
    (server) => ({
      claims: { aud: [server.client.client_id, "other"], azp: "other" },
      code: oauth.JWT_CLAIM_COMPARISON,
      cause: { claim: "azp", expected: server.client.client_id },
    }),
    () => ({ claims: { azp: "other" }, code: oauth.JWT_CLAIM_COMPARISON, cause: { claim: "azp" } }),
  ]],
];

testRefusals(ISS_AUD_AZP);

Deno.test("processAuthorizationCodeResponse() accepts extra audiences when azp is the client", async () => {
  const server = createFakeAs();
  const result = await processWith(server, {
    aud: [server.client.client_id, "resource-server"],
    azp: server.client.client_id,
  });
  assert.deepEqual(oauth.getValidatedIdTokenClaims(result)?.aud, [
    server.client.client_id,
    "resource-server",
  ]);
});

Deno.test("processAuthorizationCodeResponse() accepts a single-element aud array", async () => {
  const server = createFakeAs();
  const result = await processWith(server, { aud: [server.client.client_id] });
  assert.deepEqual(oauth.getValidatedIdTokenClaims(result)?.aud, [server.client.client_id]);
});

// --- exp, nbf, clock options (§3.1.3.7 (9)) ----------------------------------------------------

const EXP_NBF: RefusalRule[] = [
  ["an ID token expired beyond the tolerance", [(server) => ({
    claims: { exp: server.now() - 60, iat: server.now() - 400 },
    code: oauth.JWT_TIMESTAMP_CHECK,
    cause: { claim: "exp", tolerance: 30 },
  })]],
  ["a just-expired ID token when [clockTolerance] is 0", [(server) => ({
    claims: { exp: server.now() - 10 },
    client: { [oauth.clockTolerance]: 0 },
    code: oauth.JWT_TIMESTAMP_CHECK,
    cause: { claim: "exp", tolerance: 0 },
  })]],
  ["an nbf in the future beyond the tolerance", [(server) => ({
    claims: { nbf: server.now() + 120 },
    code: oauth.JWT_TIMESTAMP_CHECK,
    cause: { claim: "nbf", tolerance: 30 },
  })]],
];

testRefusals(EXP_NBF);

Deno.test("processAuthorizationCodeResponse() accepts an ID token expired within the default 30 s tolerance", async () => {
  const server = createFakeAs();
  const result = await processWith(server, { exp: server.now() - 10, iat: server.now() - 400 });
  assert.ok(oauth.getValidatedIdTokenClaims(result));
});

Deno.test("processAuthorizationCodeResponse() refuses a valid ID token when a positive [clockSkew] moves now past exp", async () => {
  const server = createFakeAs();
  const exp = server.now() + 20;
  assert.ok(oauth.getValidatedIdTokenClaims(await processWith(server, { exp })));
  const client = { ...server.client, [oauth.clockSkew]: 120 };
  await assertOAuthError(
    () => processWith(server, { exp }, undefined, { client }),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "exp" },
  );
});

Deno.test("processAuthorizationCodeResponse() accepts an old ID token when a negative [clockSkew] moves now back", async () => {
  const server = createFakeAs();
  const claims = { exp: server.now() - 120, iat: server.now() - 400 };
  await assertOAuthError(
    () => processWith(server, claims),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
  );
  const client = { ...server.client, [oauth.clockSkew]: -120 };
  assert.ok(
    oauth.getValidatedIdTokenClaims(await processWith(server, claims, undefined, { client })),
  );
});

Deno.test("processAuthorizationCodeResponse() accepts a future nbf when a positive [clockSkew] moves now forward", async () => {
  const server = createFakeAs();
  const claims = { nbf: server.now() + 120 };
  const client = { ...server.client, [oauth.clockSkew]: 120 };
  assert.ok(
    oauth.getValidatedIdTokenClaims(await processWith(server, claims, undefined, { client })),
  );
});

Deno.test("processAuthorizationCodeResponse() accepts an nbf in the future within the tolerance", async () => {
  const server = createFakeAs();
  const result = await processWith(server, { nbf: server.now() + 10 });
  assert.ok(oauth.getValidatedIdTokenClaims(result));
});

// --- required claims and claim types --------------------------------------------------------

for (const claim of ["iss", "sub", "aud", "iat", "exp"]) {
  Deno.test(`processAuthorizationCodeResponse() refuses an ID token without "${claim}"`, async () => {
    const server = createFakeAs();
    await assertOAuthError(
      () => processWith(server, { [claim]: undefined }),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim },
    );
  });
}

const WRONG_TYPES: [string, unknown][] = [
  ["iss", 1],
  ["sub", 42],
  ["sub", { id: "user-1" }],
  ["aud", 1],
  ["aud", ["client", 1]],
  ["aud", { client: true }],
  ["exp", "9999999999"],
  ["exp", null],
  ["iat", "now"],
  ["nbf", true],
  ["nonce", 7],
  ["azp", ["client"]],
  ["auth_time", "yesterday"],
  ["jti", 1],
];

for (const [claim, value] of WRONG_TYPES) {
  Deno.test(`processAuthorizationCodeResponse() refuses "${claim}" of type ${JSON.stringify(value)}`, async () => {
    const server = createFakeAs();
    await assertOAuthError(
      () => processWith(server, { [claim]: value }, { expectedNonce: oauth.expectNoNonce }),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim },
    );
  });
}

Deno.test("processAuthorizationCodeResponse() accepts registered claims of the right types alongside private claims", async () => {
  const server = createFakeAs();
  const t = server.now();
  const result = await processWith(server, {
    nbf: t - 1,
    jti: "id-1",
    auth_time: t - 1,
    acr: "urn:mace:incommon:iap:silver",
    amr: ["pwd"],
    "https://example.com/claim": { nested: [1, 2] },
  });
  const claims = oauth.getValidatedIdTokenClaims(result)!;
  assert.deepEqual(claims.amr, ["pwd"]);
  assert.deepEqual(claims["https://example.com/claim"], { nested: [1, 2] });
});

// --- nonce (§3.1.3.7 (11)) ---------------------------------------------------------------------

const NONCE: RefusalRule[] = [
  ["a nonce other than the expected one", [() => ({
    claims: { nonce: "replayed" },
    options: { expectedNonce: "n-0S6_WzA2Mj" },
    code: oauth.JWT_CLAIM_COMPARISON,
    cause: { claim: "nonce", expected: "n-0S6_WzA2Mj" },
  })]],
  ["a missing nonce when one is expected", [() => ({
    claims: {},
    options: { expectedNonce: "n-0S6_WzA2Mj" },
    code: oauth.INVALID_RESPONSE,
    cause: { claim: "nonce" },
  })]],
  ["a nonce when none was sent (the default)", [
    () => ({
      claims: { nonce: "injected" },
      code: oauth.JWT_CLAIM_COMPARISON,
      cause: { claim: "nonce", expected: undefined },
    }),
    () => ({
      claims: { nonce: "injected" },
      options: { expectedNonce: oauth.expectNoNonce },
      code: oauth.JWT_CLAIM_COMPARISON,
      cause: { claim: "nonce" },
    }),
  ]],
];

testRefusals(NONCE);

Deno.test("processAuthorizationCodeResponse() accepts the expected nonce, and no nonce when none was sent", async () => {
  const server = createFakeAs();
  const nonce = "n-0S6_WzA2Mj";
  const result = await processWith(server, { nonce }, { expectedNonce: nonce });
  assert.equal(oauth.getValidatedIdTokenClaims(result)?.nonce, nonce);
  const plain = await processWith(server, {}, { expectedNonce: oauth.expectNoNonce });
  assert.equal(oauth.getValidatedIdTokenClaims(plain)?.nonce, undefined);
});

Deno.test("processAuthorizationCodeResponse() refuses an empty expectedNonce before reading the response", async () => {
  const server = createFakeAs();
  const response = await tokenResponse(server, await server.idToken());
  await assertTypeError(
    () =>
      oauth.processAuthorizationCodeResponse(server.as, server.client, response, {
        expectedNonce: "",
      }),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(response.bodyUsed, false);
  await response.body?.cancel();
});

Deno.test("processAuthorizationCodeResponse() rejects a bad option, never throws synchronously", async () => {
  const server = createFakeAs();
  const response = await tokenResponse(server, await server.idToken());
  let promise: Promise<unknown> | undefined;
  // Its options are checked outside an async function; they must still end in a rejection.
  const options = {
    get expectedNonce(): string {
      throw new TypeError("getter");
    },
  };
  promise = oauth.processAuthorizationCodeResponse(server.as, server.client, response, options);
  await assert.rejects(promise, TypeError);
  promise = oauth.processAuthorizationCodeResponse(server.as, server.client, response, {
    maxAge: -1,
  });
  await assertTypeError(promise, "ERR_INVALID_ARG_VALUE");
  assert.equal(response.bodyUsed, false);
  await response.body?.cancel();
});

Deno.test("processAuthorizationCodeResponse() refuses an invalid maxAge before reading the response", async () => {
  const server = createFakeAs();
  for (
    const [maxAge, code] of [
      [-1, "ERR_INVALID_ARG_VALUE"],
      [Number.NaN, "ERR_INVALID_ARG_VALUE"],
      ["300", "ERR_INVALID_ARG_TYPE"],
    ] as const
  ) {
    // No ID token: before, an invalid maxAge was only noticed when one came.
    const response = await tokenResponse(server, undefined);
    await assertTypeError(
      () =>
        oauth.processAuthorizationCodeResponse(server.as, server.client, response, {
          maxAge: maxAge as number,
        }),
      code,
    );
    assert.equal(response.bodyUsed, false);
    await response.body?.cancel();
  }
});

// --- auth_time and max_age (§3.1.3.7 (13)) ----------------------------------------------------

const AUTH_TIME: RefusalRule[] = [
  ["a stale auth_time under maxAge", [(server) => ({
    claims: { auth_time: server.now() - 1000 },
    options: { maxAge: 300 },
    code: oauth.JWT_TIMESTAMP_CHECK,
    cause: { claim: "auth_time", maxAge: 300 },
  })]],
  ["a missing auth_time when maxAge was requested", [() => ({
    claims: {},
    options: { maxAge: 300 },
    code: oauth.INVALID_RESPONSE,
    cause: { claim: "auth_time" },
  })]],
  ["a missing auth_time when the client requires it", [() => ({
    claims: {},
    client: { require_auth_time: true },
    code: oauth.INVALID_RESPONSE,
    cause: { claim: "auth_time" },
  })]],
];

testRefusals(AUTH_TIME);

Deno.test("processAuthorizationCodeResponse() accepts a fresh auth_time under maxAge, with tolerance", async () => {
  const server = createFakeAs();
  const fresh = await processWith(server, { auth_time: server.now() - 10 }, { maxAge: 300 });
  assert.ok(oauth.getValidatedIdTokenClaims(fresh)?.auth_time);
  // 10 s past max_age is within the 30 s tolerance.
  const edge = await processWith(server, { auth_time: server.now() - 310 }, { maxAge: 300 });
  assert.ok(oauth.getValidatedIdTokenClaims(edge));
});

Deno.test("processAuthorizationCodeResponse() accepts any present auth_time when the client requires it without max age", async () => {
  const server = createFakeAs();
  const client = { ...server.client, require_auth_time: true };
  const result = await processWith(server, { auth_time: server.now() - 86400 }, undefined, {
    client,
  });
  assert.ok(oauth.getValidatedIdTokenClaims(result));
});

Deno.test("processAuthorizationCodeResponse() applies the client's default_max_age", async () => {
  const server = createFakeAs();
  const client = { ...server.client, default_max_age: 300 };
  await assertOAuthError(
    () => processWith(server, { auth_time: server.now() - 1000 }, undefined, { client }),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "auth_time", maxAge: 300 },
  );
  await assertOAuthError(
    () => processWith(server, {}, undefined, { client }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { claim: "auth_time" },
  );
  const fresh = await processWith(server, { auth_time: server.now() - 10 }, undefined, { client });
  assert.ok(oauth.getValidatedIdTokenClaims(fresh));
});

Deno.test("processAuthorizationCodeResponse() lets an explicit maxAge take precedence over default_max_age", async () => {
  const server = createFakeAs();
  const client = { ...server.client, default_max_age: 3600 };
  await assertOAuthError(
    () => processWith(server, { auth_time: server.now() - 1000 }, { maxAge: 60 }, { client }),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { maxAge: 60 },
  );
});

Deno.test("processAuthorizationCodeResponse() skips the auth_time checks with skipAuthTimeCheck", async () => {
  const server = createFakeAs();
  const client = { ...server.client, default_max_age: 60, require_auth_time: true };
  const stale = await processWith(
    server,
    { auth_time: server.now() - 100000 },
    { maxAge: oauth.skipAuthTimeCheck },
    { client },
  );
  assert.ok(oauth.getValidatedIdTokenClaims(stale));
  const missing = await processWith(server, {}, { maxAge: oauth.skipAuthTimeCheck }, { client });
  assert.ok(oauth.getValidatedIdTokenClaims(missing));
});

// --- presence of the ID token ----------------------------------------------------------------

/** Options that ask for an ID token: a response without one is refused. */
const MISSING_ID_TOKEN: {
  when: string;
  options: oauth.ProcessAuthorizationCodeResponseOptions;
  /** Options under which the same response is accepted. */
  accepted?: oauth.ProcessAuthorizationCodeResponseOptions;
}[] = [
  { when: "requireIdToken is set", options: { requireIdToken: true } },
  {
    // authlane is stricter than oauth4webapi: a nonce means OpenID Connect was asked for, and a
    // response without the ID token would otherwise skip the nonce check silently.
    when: "a nonce was sent",
    options: { expectedNonce: "n-0S6_WzA2Mj" },
  },
  {
    // As in oauth4webapi: a numeric maxAge asks for OpenID Connect, and without the ID token the
    // max_age check would be skipped silently.
    when: "maxAge was sent",
    options: { maxAge: 300 },
    accepted: { maxAge: oauth.skipAuthTimeCheck },
  },
];

for (const { when, options, accepted } of MISSING_ID_TOKEN) {
  Deno.test(`processAuthorizationCodeResponse() refuses a response without id_token when ${when}`, async () => {
    const server = createFakeAs();
    await assertOAuthError(
      () => processToken(server, undefined, options),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute: "id_token" },
    );
    if (accepted !== undefined) {
      const result = await processToken(server, undefined, accepted);
      assert.equal(result.id_token, undefined);
    }
  });
}

Deno.test("processAuthorizationCodeResponse() accepts a plain OAuth response without id_token by default", async () => {
  const server = createFakeAs();
  const result = await processToken(server, undefined);
  assert.equal(result.id_token, undefined);
  assert.equal(oauth.getValidatedIdTokenClaims(result), undefined);
});

Deno.test("processAuthorizationCodeResponse() refuses an id_token that is not a non-empty string", async () => {
  const server = createFakeAs();
  for (const id_token of ["", 42, { a: 1 }, null]) {
    await assertOAuthError(
      async () =>
        oauth.processAuthorizationCodeResponse(
          server.as,
          server.client,
          server.json(await server.tokenBody({ id_token })),
        ),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute: "id_token" },
    );
  }
});

// --- malformed and encrypted tokens --------------------------------------------------------

Deno.test("processAuthorizationCodeResponse() refuses malformed JWTs with oauth4webapi's codes", async () => {
  // "Invalid JWT" and "... must be a top level object" are INVALID_RESPONSE in oauth4webapi; only
  // undecodable base64url or JSON is PARSE_ERROR.
  const server = createFakeAs();
  const valid = await server.idToken();
  const [h, p, s] = valid.split(".") as [string, string, string];
  const cases: [string, string, string][] = [
    ["two segments", `${h}.${p}`, oauth.INVALID_RESPONSE],
    ["four segments", `${h}.${p}.${s}.${s}`, oauth.INVALID_RESPONSE],
    ["one segment", h, oauth.INVALID_RESPONSE],
    ["bad base64url header", `!!!.${p}.${s}`, oauth.PARSE_ERROR],
    ["bad base64url payload", `${h}.%%%.${s}`, oauth.PARSE_ERROR],
    ["non-JSON header", await server.signWith("not json", JSON.stringify({})), oauth.PARSE_ERROR],
    [
      "non-JSON payload",
      await server.signWith({ alg: "ES256", kid: "es256" }, "{not json"),
      oauth.PARSE_ERROR,
    ],
    [
      "array payload",
      await server.signWith(
        { alg: "ES256", kid: "es256" },
        JSON.stringify([server.idTokenClaims()]),
      ),
      oauth.INVALID_RESPONSE,
    ],
    [
      "string payload",
      await server.signWith({ alg: "ES256", kid: "es256" }, JSON.stringify("claims")),
      oauth.INVALID_RESPONSE,
    ],
    ["array header", await server.signWith("[]", JSON.stringify({})), oauth.INVALID_RESPONSE],
    [
      "header without alg",
      await server.signWith({ kid: "es256" }, JSON.stringify(server.idTokenClaims())),
      oauth.INVALID_RESPONSE,
    ],
  ];
  for (const [what, jwt, code] of cases) {
    const err = await assertOAuthError(
      () => processToken(server, jwt),
      oauth.OperationProcessingError,
    );
    assert.equal((err as oauth.OperationProcessingError).code, code, what);
  }
});

async function encryptionKeys(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(
    {
      name: "RSA-OAEP",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    false,
    ["encrypt", "decrypt"],
  ) as CryptoKeyPair;
}

async function encrypt(jwt: string, key: CryptoKey): Promise<string> {
  return await new CompactEncrypt(new TextEncoder().encode(jwt))
    .setProtectedHeader({ alg: "RSA-OAEP-256", enc: "A256GCM", cty: "JWT" })
    .encrypt(key);
}

function decrypter(key: CryptoKey): (jwe: string) => Promise<string> {
  return async (jwe) => new TextDecoder().decode((await compactDecrypt(jwe, key)).plaintext);
}

Deno.test("processAuthorizationCodeResponse() refuses an encrypted ID token without [jweDecrypt]", async () => {
  const server = createFakeAs();
  const pair = await encryptionKeys();
  const jwe = await encrypt(await server.idToken(), pair.publicKey);
  assert.equal(jwe.split(".").length, 5);
  await assertOAuthError(
    () => processToken(server, jwe),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

Deno.test("processAuthorizationCodeResponse() decrypts an encrypted ID token with [jweDecrypt] and validates it", async () => {
  const server = createFakeAs();
  const pair = await encryptionKeys();
  const jwe = await encrypt(await server.idToken({ nonce: "abc" }), pair.publicKey);
  const result = await processToken(server, jwe, {
    expectedNonce: "abc",
    [oauth.jweDecrypt]: decrypter(pair.privateKey),
  });
  assert.equal(oauth.getValidatedIdTokenClaims(result)?.nonce, "abc");
});

Deno.test("processAuthorizationCodeResponse() still validates the claims of a decrypted ID token", async () => {
  const server = createFakeAs();
  const pair = await encryptionKeys();
  const jwe = await encrypt(await server.idToken({ aud: "someone-else" }), pair.publicKey);
  await assertOAuthError(
    () => processToken(server, jwe, { [oauth.jweDecrypt]: decrypter(pair.privateKey) }),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "aud" },
  );
});

// --- getValidatedIdTokenClaims ---------------------------------------------------------------

Deno.test("getValidatedIdTokenClaims() returns the validated claims of a processed response", async () => {
  const server = createFakeAs();
  const idToken = await server.idToken({ name: "Jane" });
  const result = await processToken(server, idToken);
  const claims = oauth.getValidatedIdTokenClaims(result)!;
  assert.equal(claims.name, "Jane");
  assert.equal(result.id_token, idToken);
});

Deno.test("getValidatedIdTokenClaims() returns undefined for a processed response without an ID token", async () => {
  const server = createFakeAs();
  const result = await oauth.processRefreshTokenResponse(
    server.as,
    server.client,
    await tokenResponse(server, undefined),
  );
  assert.equal(oauth.getValidatedIdTokenClaims(result), undefined);
});

Deno.test("getValidatedIdTokenClaims() refuses an object that was not returned by a processor", async () => {
  const server = createFakeAs();
  const idToken = await server.idToken();
  const forged = {
    access_token: "at",
    token_type: "bearer",
    id_token: idToken,
  } as oauth.TokenEndpointResponse;
  await assertTypeError(() => oauth.getValidatedIdTokenClaims(forged), "ERR_INVALID_ARG_VALUE");
  // A copy of a processed result is not the processed result.
  const result = await processToken(server, idToken);
  await assertTypeError(
    () => oauth.getValidatedIdTokenClaims({ ...result }),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () => oauth.getValidatedIdTokenClaims(null as unknown as oauth.TokenEndpointResponse),
    "ERR_INVALID_ARG_VALUE",
  );
});

// --- the signature is left to validateApplicationLevelSignature ----------------------------

Deno.test("processAuthorizationCodeResponse() does not check the signature, validateApplicationLevelSignature() does", async () => {
  const server = createFakeAs();
  const stranger = await generateTestKey("ES256", "es256"); // same kid as the server's key
  const response = await tokenResponse(server, await server.idToken({}, undefined, stranger));
  const result = await oauth.processAuthorizationCodeResponse(server.as, server.client, response);
  assert.equal(oauth.getValidatedIdTokenClaims(result)?.sub, "user-1");
  await assertOAuthError(
    () => oauth.validateApplicationLevelSignature(server.as, response, server.options),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateApplicationLevelSignature() accepts an ID token signed by the server's key", async () => {
  const server = createFakeAs();
  const response = await tokenResponse(server, await server.idToken());
  await oauth.processAuthorizationCodeResponse(server.as, server.client, response);
  await oauth.validateApplicationLevelSignature(server.as, response, server.options);
  assert.equal(server.requestsTo("jwks").length, 1);
});

Deno.test("processRefreshTokenResponse() validates a refreshed ID token's iss and aud", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () => refreshWith(server, { iss: "https://evil.example" }),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss" },
  );
  const ok = await refreshWith(server, { nonce: "from-the-original-login" });
  assert.equal(oauth.getValidatedIdTokenClaims(ok)?.nonce, "from-the-original-login");
});

// --- issuer templates: [_expectedIssuer] (issue 16 item 3) ---------------------------------------

/** Microsoft Entra ID's multi-tenant metadata: its `issuer` is a template filled with `tid`. */
const ENTRA_TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0";
const TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";
const OTHER_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/** The server's metadata with the issuer template and openid-client's `[_expectedIssuer]`. */
function entraAs(server: FakeAs): oauth.AuthorizationServer {
  return {
    ...server.as,
    issuer: ENTRA_TEMPLATE,
    [oauth._expectedIssuer]: ({ claims }: { claims: Claims }) =>
      ENTRA_TEMPLATE.replace("{tenantid}", String(claims.tid)),
  } as oauth.AuthorizationServer;
}

Deno.test("processAuthorizationCodeResponse() accepts the tenant's issuer that [_expectedIssuer] derives from the template", async () => {
  const server = createFakeAs();
  const iss = `https://login.microsoftonline.com/${TENANT}/v2.0`;
  const result = await processWith(server, { iss, tid: TENANT }, undefined, {
    as: entraAs(server),
  });
  assert.equal(oauth.getValidatedIdTokenClaims(result)?.iss, iss);
});

Deno.test("processAuthorizationCodeResponse() refuses an ID token whose iss is another tenant's than its tid", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () =>
      processWith(
        server,
        { iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`, tid: TENANT },
        undefined,
        { as: entraAs(server) },
      ),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss", expected: `https://login.microsoftonline.com/${TENANT}/v2.0` },
  );
});

Deno.test("processAuthorizationCodeResponse() refuses the template itself as iss, and a tenant issuer without [_expectedIssuer]", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () =>
      processWith(server, { iss: ENTRA_TEMPLATE, tid: TENANT }, undefined, { as: entraAs(server) }),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss" },
  );
  const { [oauth._expectedIssuer]: _, ...plain } = entraAs(server) as oauth.AuthorizationServer & {
    [oauth._expectedIssuer]?: unknown;
  };
  await assertOAuthError(
    () =>
      processWith(
        server,
        { iss: `https://login.microsoftonline.com/${TENANT}/v2.0`, tid: TENANT },
        undefined,
        { as: plain },
      ),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss", expected: ENTRA_TEMPLATE },
  );
});

Deno.test("processAuthorizationCodeResponse() falls back to as.issuer when [_expectedIssuer] returns undefined", async () => {
  const server = createFakeAs();
  const as = {
    ...server.as,
    [oauth._expectedIssuer]: () => undefined,
  } as oauth.AuthorizationServer;
  const result = await processWith(server, {}, undefined, { as });
  assert.equal(oauth.getValidatedIdTokenClaims(result)?.iss, server.issuer);
  await assertOAuthError(
    () => processWith(server, { iss: "https://elsewhere.example" }, undefined, { as }),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss", expected: server.issuer },
  );
});

Deno.test("processAuthorizationCodeResponse() refuses an [_expectedIssuer] that is not a function, and a non-string it returns", async () => {
  const server = createFakeAs();
  const notAFunction = { ...server.as, [oauth._expectedIssuer]: "x" } as oauth.AuthorizationServer;
  await assertTypeError(
    () => processWith(server, {}, undefined, { as: notAFunction }),
    "ERR_INVALID_ARG_TYPE",
  );
  const returnsNumber = {
    ...server.as,
    [oauth._expectedIssuer]: () => 1,
  } as oauth.AuthorizationServer;
  await assertOAuthError(
    () => processWith(server, {}, undefined, { as: returnsNumber }),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss", expected: 1 },
  );
});

// --- auth_time values (issue 16 item 8) ---------------------------------------------------------

Deno.test("processAuthorizationCodeResponse() refuses a negative auth_time even when no max_age applies", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () => processWith(server, { auth_time: -1 }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { claim: "auth_time" },
  );
  await assertOAuthError(
    () => processWith(server, { auth_time: -1 }, { maxAge: oauth.skipAuthTimeCheck }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { claim: "auth_time" },
  );
});

Deno.test("processRefreshTokenResponse() refuses a negative auth_time in a refreshed ID token", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () => refreshWith(server, { auth_time: -86400 }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { claim: "auth_time" },
  );
});

Deno.test("processAuthorizationCodeResponse() refuses an auth_time that is not a finite number", async () => {
  const server = createFakeAs();
  for (const auth_time of ["1700000000", null, true, [1]]) {
    await assertOAuthError(
      () => processWith(server, { auth_time }),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim: "auth_time" },
    );
  }
});

Deno.test("processAuthorizationCodeResponse() accepts an auth_time of 0 and a fractional one (RFC 7519 §2 NumericDate)", async () => {
  const server = createFakeAs();
  for (const auth_time of [0, server.now() - 10.25]) {
    const result = await processWith(server, { auth_time });
    assert.equal(oauth.getValidatedIdTokenClaims(result)?.auth_time, auth_time);
  }
});

// --- validateApplicationLevelSignature() arguments ----------------------------------------------

Deno.test("validateApplicationLevelSignature() refuses a ref that is not a response, and a response no processor accepted", async () => {
  const server = createFakeAs();
  for (const ref of [undefined, "response", {}]) {
    await assertTypeError(
      () => oauth.validateApplicationLevelSignature(server.as, ref as unknown as Response),
      "ERR_INVALID_ARG_TYPE",
    );
  }
  const unprocessed = await tokenResponse(server, await server.idToken());
  await assertTypeError(
    () => oauth.validateApplicationLevelSignature(server.as, unprocessed, server.options),
    "ERR_INVALID_ARG_VALUE",
  );
  await unprocessed.body?.cancel();
  assert.equal(server.requests.length, 0);
});
