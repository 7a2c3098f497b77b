/**
 * `validateJwt` (src/jwt.ts): each check with a lying server refused (class, code, the claim at
 * fault) and the legitimate variant accepted, against the in-process fake authorization server
 * and its JWKS.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, type FakeAs, now } from "./_fake_as.ts";
import { generateTestKey } from "./_keys.ts";

interface Refusal {
  name: string;
  /** Makes the token (and may bend the server). */
  token: (server: FakeAs) => Promise<string>;
  options?: oauth.ValidateJwtOptions;
  error: typeof oauth.OperationProcessingError | typeof oauth.UnsupportedOperationError;
  code: string;
  /** The claim the error's cause names, when it names one. */
  claim?: string;
}

const REFUSALS: Refusal[] = [
  {
    name: "a signature by a key the server does not publish",
    token: async (s) => await s.idToken({}, undefined, await generateTestKey("ES256", "es256")),
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
  },
  {
    name: "a kid the JWKS does not hold",
    token: (s) => s.idToken({}, { kid: "nobody" }),
    error: oauth.OperationProcessingError,
    code: oauth.KEY_SELECTION,
  },
  {
    name: "an alg outside signingAlgorithms",
    token: (s) => s.idToken(),
    options: { signingAlgorithms: ["RS256"] },
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
  },
  {
    name: 'alg "none"',
    token: (s) => s.idToken({}, { alg: "none" }),
    error: oauth.UnsupportedOperationError,
    code: oauth.UNSUPPORTED_OPERATION,
  },
  {
    name: "another issuer",
    token: (s) => s.idToken({ iss: "https://evil.example" }),
    error: oauth.OperationProcessingError,
    code: oauth.JWT_CLAIM_COMPARISON,
    claim: "iss",
  },
  {
    name: "no iss",
    token: (s) => s.idToken({ iss: undefined }),
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
    claim: "iss",
  },
  {
    name: "no exp",
    token: (s) => s.idToken({ exp: undefined }),
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
    claim: "exp",
  },
  {
    name: "an exp in the past, beyond the tolerance",
    token: (s) => s.idToken({ exp: now() - 31 }),
    error: oauth.OperationProcessingError,
    code: oauth.JWT_TIMESTAMP_CHECK,
    claim: "exp",
  },
  {
    name: "an nbf in the future, beyond the tolerance",
    token: (s) => s.idToken({ nbf: now() + 31 }),
    error: oauth.OperationProcessingError,
    code: oauth.JWT_TIMESTAMP_CHECK,
    claim: "nbf",
  },
  {
    name: "another audience",
    token: (s) => s.idToken({ aud: ["a", "b"] }),
    options: { expectedAudience: "api" },
    error: oauth.OperationProcessingError,
    code: oauth.JWT_CLAIM_COMPARISON,
    claim: "aud",
  },
  {
    name: "no aud when one is expected",
    token: (s) => s.idToken({ aud: undefined }),
    options: { expectedAudience: "api" },
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
    claim: "aud",
  },
  {
    name: "a required claim missing",
    token: (s) => s.idToken(),
    options: { requiredClaims: ["exp", "jti"] },
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
    claim: "jti",
  },
  {
    name: "a mistyped sub",
    token: (s) => s.idToken({ sub: 42 }),
    error: oauth.OperationProcessingError,
    code: oauth.INVALID_RESPONSE,
    claim: "sub",
  },
];

for (const refusal of REFUSALS) {
  Deno.test(`validateJwt() refuses ${refusal.name}`, async () => {
    const server = createFakeAs();
    const jwt = await refusal.token(server);
    await assertOAuthError(
      () => oauth.validateJwt(server.as, jwt, { ...server.options, ...refusal.options }),
      refusal.error as typeof oauth.OperationProcessingError,
      refusal.code,
      refusal.claim === undefined ? undefined : { claim: refusal.claim },
    );
  });
}

Deno.test("validateJwt() returns the header and claims of a token the server signed", async () => {
  const server = createFakeAs();
  for (const alg of ["ES256", "RS256", "PS256", "EdDSA", "ES384"] as const) {
    const jwt = await server.idToken({ aud: ["api", "other"], jti: "j" }, undefined, alg);
    const { header, claims } = await oauth.validateJwt(server.as, jwt, {
      ...server.options,
      expectedAudience: "api",
      requiredClaims: ["exp", "jti"],
    });
    assert.equal(header.alg, alg);
    assert.equal(typeof header.kid, "string");
    assert.equal(claims.iss, server.issuer);
    assert.equal(claims.jti, "j");
  }
  assert.equal(server.requestsTo("jwks").length, 1, "the JWKS is fetched once, then cached");
});

Deno.test("validateJwt() takes tokens within the tolerance, [clockSkew], and no exp when not required", async () => {
  const server = createFakeAs();
  const within = await server.idToken({ exp: now() - 20, nbf: now() + 20 });
  await oauth.validateJwt(server.as, within, server.options);
  const later = await server.idToken({ exp: now() + 3600, nbf: now() + 1800 });
  await oauth.validateJwt(server.as, later, { ...server.options, [oauth.clockSkew]: 1800 });
  const endless = await server.idToken({ exp: undefined });
  await oauth.validateJwt(server.as, endless, { ...server.options, requiredClaims: [] });
});

Deno.test("validateJwt() refuses bad arguments before any request", async () => {
  const server = createFakeAs();
  const jwt = await server.idToken();
  await assertTypeError(
    () => oauth.validateJwt(server.as, "", server.options),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () => oauth.validateJwt(server.as, jwt, { ...server.options, signingAlgorithms: [] }),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () =>
      oauth.validateJwt(server.as, jwt, {
        ...server.options,
        requiredClaims: "exp" as unknown as string[],
      }),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => oauth.validateJwt(server.as, jwt, { ...server.options, [oauth.clockTolerance]: -1 }),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("validateJwt() needs the server's jwks_uri", async () => {
  const server = createFakeAs({ metadata: { jwks_uri: undefined } });
  await assertOAuthError(
    () => oauth.validateJwt(server.as, "a.b.c", server.options),
    oauth.OperationProcessingError,
  );
  const jwt = await server.idToken();
  await assertOAuthError(
    () => oauth.validateJwt(server.as, jwt, server.options),
    oauth.OperationProcessingError,
    oauth.MISSING_SERVER_METADATA,
  );
});
