/**
 * ID token validation (OpenID Connect Core §3.1.3.7, §12.2 for refreshed tokens), the registry of
 * validated claims behind `getValidatedIdTokenClaims`, and `validateApplicationLevelSignature`,
 * which verifies the signature of a JWT received over TLS (an ID token from the token endpoint,
 * a JWT userinfo or introspection response) against the server's JWKS.
 *
 * @module
 */

import { assertAs, isResponseLike } from "./_assert.ts";
import type { HttpOptions } from "./_http.ts";
import { type DecodedJws, decodeSigned } from "./_jose.ts";
import {
  allowedAlgs,
  checkAudience,
  checkAuthorizedParty,
  checkClaimTypes,
  checkIssuer,
  checkTimestamps,
  decodeChecked,
  requireClaims,
  verifyWithServerKeys,
} from "./_jwt.ts";
import { toleranceOf } from "./_time.ts";
import {
  argError,
  INVALID_RESPONSE,
  JWT_CLAIM_COMPARISON,
  JWT_TIMESTAMP_CHECK,
  processingError,
  unsupported,
} from "./errors.ts";
import { expectNoNonce, jweDecrypt, skipAuthTimeCheck } from "./symbols.ts";
import type {
  AuthorizationServer,
  Client,
  IDToken,
  JsonObject,
  JWEDecryptOptions,
  TokenEndpointResponse,
  ValidateSignatureOptions,
} from "./types.ts";

/** What the ID token of a response is checked against. */
export interface IdTokenChecks {
  /** Expected `nonce`; `expectNoNonce` means none may be present; `undefined` skips the check. */
  expectedNonce?: string | typeof expectNoNonce;
  /** `max_age` of the request, or `skipAuthTimeCheck`; `undefined` falls back to the client's. */
  maxAge?: number | typeof skipAuthTimeCheck;
  /** Whether the `auth_time` / `max_age` rules apply (authorization code and hybrid flows). */
  authTime?: boolean;
}

/** OpenID Connect Core §2: the claims every ID token carries. */
const REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "exp"] as const;

const validatedClaims = new WeakMap<object, IDToken>();
const signedResponses = new WeakMap<object, string>();

/**
 * Records the JWS received in a response so {@link validateApplicationLevelSignature} can verify
 * it: the compact JWS only, not its parsed header and claims, which would live on with every
 * response a caller keeps (about 400 bytes more each, and more to copy in every young-generation
 * collection while they live).
 */
export function rememberJws(response: Response, jws: DecodedJws): void {
  signedResponses.set(response, jws.compact);
}

/** Records validated ID token claims against the object returned to the caller. */
export function rememberClaims(result: object, claims: IDToken): void {
  validatedClaims.set(result, claims);
}

/**
 * Decrypts a compact JWE with the caller's `[jweDecrypt]` when the value has five segments. A
 * value that is no JWE comes back as it is, synchronously: the common case pays no promise.
 */
export function decryptIfNeeded(
  value: string,
  options?: JWEDecryptOptions,
): string | Promise<string> {
  let dots = 0;
  for (let i = value.indexOf("."); i !== -1; i = value.indexOf(".", i + 1)) dots++;
  return dots === 4 ? decryptJwe(value, options) : value;
}

async function decryptJwe(value: string, options?: JWEDecryptOptions): Promise<string> {
  const decrypt = options?.[jweDecrypt];
  if (typeof decrypt !== "function") {
    throw unsupported("JWE decryption is not configured, pass a [jweDecrypt] function", {});
  }
  const plaintext = await decrypt(value);
  if (typeof plaintext !== "string") throw argError("[jweDecrypt] must resolve to a string");
  return plaintext;
}

/**
 * Validates an ID token's header and claims per OpenID Connect Core §3.1.3.7: `alg` against the
 * client's `id_token_signed_response_alg`, the server's advertised algorithms, or RS256 (7);
 * required claims; a non-negative `auth_time` when present (§2); `iss` (2), with the
 * metadata's `[_expectedIssuer]` for issuer templates; `aud` and `azp` (3)–(5); `exp`, `nbf` with
 * clock skew and tolerance (9); `nonce` (11); `auth_time` with `max_age` / `default_max_age` /
 * `require_auth_time` (13). The signature is not verified here: over the token endpoint's TLS
 * channel the server is authenticated (6); use {@link validateApplicationLevelSignature}.
 */
export function validateIdTokenClaims(
  as: AuthorizationServer,
  client: Client,
  jwt: string,
  checks: IdTokenChecks = {},
): { jws: DecodedJws; claims: IDToken } {
  const allowed = allowedAlgs(
    client.id_token_signed_response_alg,
    as.id_token_signing_alg_values_supported,
    "RS256",
  )!;
  const jws = decodeChecked(jwt, allowed, "ID Token signing algorithm");
  const claims = jws.claims;
  requireClaims(claims, REQUIRED_CLAIMS);
  checkClaimTypes(claims);
  checkAuthTimeValue(claims);
  checkIssuer(as, jws);
  checkAudience(claims, client.client_id);
  checkAuthorizedParty(claims, client.client_id, "ID Token");
  const now = checkTimestamps(claims, client);
  if (checks.authTime) checkAuthTime(claims, client, checks.maxAge, now);
  if (checks.expectedNonce !== undefined) {
    const expected = checks.expectedNonce === expectNoNonce ? undefined : checks.expectedNonce;
    // A nonce was sent: its absence is a missing claim (INVALID_RESPONSE, as in oauth4webapi),
    // its replacement a failed comparison.
    if (expected !== undefined) requireClaims(claims, ["nonce"]);
    if (claims.nonce !== expected) {
      throw processingError('unexpected ID Token "nonce" claim value', JWT_CLAIM_COMPARISON, {
        claims,
        claim: "nonce",
        expected,
      });
    }
  }
  return { jws, claims: claims as IDToken };
}

/**
 * OpenID Connect Core §2: `auth_time` is a time, a number of seconds since the epoch (a
 * NumericDate, RFC 7519 §2, so fractions are allowed): a negative one is refused wherever it
 * appears, whether or not `max_age` applies, as oauth4webapi does. Its type was checked before.
 */
function checkAuthTimeValue(claims: JsonObject): void {
  if (typeof claims.auth_time === "number" && claims.auth_time < 0) {
    throw processingError(
      'ID Token "auth_time" (authentication time) must be a non-negative number',
      INVALID_RESPONSE,
      { claims, claim: "auth_time" },
    );
  }
}

/** Refuses a `maxAge` (or `default_max_age`) that is not a non-negative number of seconds. */
export function assertMaxAge(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw argError(
      `${name} must be a non-negative number`,
      typeof value === "number" ? "ERR_INVALID_ARG_VALUE" : "ERR_INVALID_ARG_TYPE",
    );
  }
}

function checkAuthTime(
  claims: Record<string, unknown>,
  client: Client,
  maxAgeOption: number | typeof skipAuthTimeCheck | undefined,
  now: number,
): void {
  if (maxAgeOption === skipAuthTimeCheck) return;
  let maxAge = maxAgeOption;
  if (maxAge !== undefined) {
    assertMaxAge(maxAge, '"maxAge"');
  } else if (client.default_max_age !== undefined) {
    maxAge = client.default_max_age;
    assertMaxAge(maxAge, '"client.default_max_age"');
  }
  if (maxAge === undefined && client.require_auth_time !== true) return;
  if (claims.auth_time === undefined) {
    throw processingError('JWT "auth_time" (authentication time) claim missing', INVALID_RESPONSE, {
      claims,
      claim: "auth_time",
    });
  }
  if (maxAge === undefined) return;
  const tolerance = toleranceOf(client);
  if ((claims.auth_time as number) + maxAge < now - tolerance) {
    throw processingError(
      "too much time has elapsed since the last End-User authentication",
      JWT_TIMESTAMP_CHECK,
      { claims, claim: "auth_time", now, tolerance, maxAge },
    );
  }
}

/**
 * Returns the validated claims of the ID token that came with a token endpoint response, or
 * `undefined` when it carried none.
 *
 * @param ref A result of `processAuthorizationCodeResponse`, `processRefreshTokenResponse` or
 *   another token response processor.
 * @returns The ID token claims.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` when `ref` did not come from a processor.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * const result = await oauth.processAuthorizationCodeResponse(as, client, response);
 * const claims = oauth.getValidatedIdTokenClaims(result);
 * console.log(claims?.sub);
 * ```
 */
export function getValidatedIdTokenClaims(ref: TokenEndpointResponse): IDToken | undefined {
  if (typeof ref !== "object" || ref === null) {
    throw argError(
      '"ref" must be a result of a token endpoint response processor',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  const claims = validatedClaims.get(ref);
  if (claims !== undefined) return claims;
  if (typeof ref.id_token === "string") {
    throw argError(
      '"ref" was not returned by a token endpoint response processor',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  return undefined;
}

/**
 * Verifies the signature of the JWT that a processed response carried (an ID token from the
 * token endpoint, a JWT userinfo or JWT introspection response) against the authorization
 * server's JWKS (`jwks_uri`: fetched, cached, refetched once on an unknown `kid`).
 *
 * OpenID Connect Core §3.1.3.7 (6) lets a client trust the token endpoint's TLS channel instead;
 * call this when your deployment requires signature verification anyway (for example FAPI).
 *
 * @param as Authorization server metadata (with `jwks_uri`).
 * @param ref The `Response` that was passed to the processor.
 * @param options `[jwksCache]`, `[customFetch]`, `signal`, `headers`, `[allowInsecureRequests]`
 *   for the JWKS fetch.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `ref` is not a response,
 *   `ERR_INVALID_ARG_VALUE` when the response was not processed or held no JWT.
 * @throws {OperationProcessingError} `KEY_SELECTION` when no single key matches,
 *   `INVALID_RESPONSE` when the signature does not verify, and the JWKS fetch's codes.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * await oauth.processAuthorizationCodeResponse(as, client, response);
 * await oauth.validateApplicationLevelSignature(as, response);
 * ```
 */
export async function validateApplicationLevelSignature(
  as: AuthorizationServer,
  ref: Response,
  options?: ValidateSignatureOptions,
): Promise<void> {
  assertAs(as);
  // Any response a processor accepted is known here, a Response-like one included.
  const jws = typeof ref === "object" && ref !== null ? signedResponses.get(ref) : undefined;
  if (jws === undefined && !isResponseLike(ref)) {
    throw argError('"ref" must be an instance of Response');
  }
  if (jws === undefined) {
    throw argError(
      '"ref" does not contain a processed JWT (ID Token, JWT UserInfo or JWT Introspection response)',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  await verifyWithServerKeys(
    as,
    decodeSigned(jws),
    options as HttpOptions & ValidateSignatureOptions,
  );
}
