/**
 * Validation of a JWT the authorization server signed, for kinds of token authlane has no
 * dedicated validator for (RFC 7519 §7.2, RFC 8725 §3): the signature against the server's
 * `jwks_uri` key set (fetched with the body cap and timeout, cached, key selection per OpenID
 * Connect Core §10.1.1), `alg` against an allow-list, `iss`, optionally `aud`, and `exp`/`nbf` with
 * `[clockSkew]` and `[clockTolerance]`. ID tokens, JARM responses, logout tokens and JWT access
 * tokens have their own validators, which check what their specifications add.
 *
 * @module
 */

import { assertAs, assertNonEmptyString, isJsonObject } from "./_assert.ts";
import type { HttpOptions } from "./_http.ts";
import { decodeJws } from "./_jose.ts";
import {
  checkAlg,
  checkAudience,
  checkClaimTypes,
  checkIssuer,
  checkTimestamps,
  requireClaims,
  signingAlgorithmsOption,
  verifyWithServerKeys,
} from "./_jwt.ts";
import { clientTime, toleranceOf } from "./_time.ts";
import { argError } from "./errors.ts";
import type { clockSkew, clockTolerance } from "./symbols.ts";
import type {
  AuthorizationServer,
  HttpRequestOptions,
  JsonObject,
  JWKSCacheOptions,
  JWTPayload,
} from "./types.ts";

/** Options of {@link validateJwt}. */
export interface ValidateJwtOptions extends HttpRequestOptions<"GET">, JWKSCacheOptions {
  /** The audience the token must be for (`aud` is it or contains it); unchecked when absent. */
  expectedAudience?: string;
  /**
   * JWS algorithms accepted.
   * @default every algorithm authlane verifies (`verify` in `JWS_ALGORITHMS`)
   */
  signingAlgorithms?: string[];
  /** Claims that must be present besides `iss` (and `aud` with `expectedAudience`). @default ["exp"] */
  requiredClaims?: string[];
  /** Seconds added to the local clock for the `exp` and `nbf` checks. @default 0 */
  [clockSkew]?: number;
  /** Seconds of leeway for the `exp` and `nbf` checks. @default 30 */
  [clockTolerance]?: number;
}

/** A JWT that {@link validateJwt} validated. */
export interface ValidatedJwt {
  /** Its protected header (`alg`, `kid`, `typ`, …). */
  readonly header: JsonObject;
  /** Its claims. */
  readonly claims: JWTPayload;
}

const DEFAULT_REQUIRED_CLAIMS: readonly string[] = ["exp"];

function requiredClaimsOption(value: unknown): readonly string[] {
  if (value === undefined) return DEFAULT_REQUIRED_CLAIMS;
  if (!Array.isArray(value) || value.some((name) => typeof name !== "string")) {
    throw argError('"options.requiredClaims" must be an array of strings');
  }
  return value;
}

/**
 * Validates a JWT signed by the authorization server, of a kind authlane has no dedicated
 * validator for (a token handed over by another party, a security event token, an ID token seen
 * by a tool rather than by its client). authlane addition.
 *
 * The checks, in order: the token is a compact JWS (no `none`, no unknown `crit`, no `b64:
 * false`; RFC 7515, RFC 8725 §3.1); its `alg` is among `signingAlgorithms`; its signature verifies
 * with the one key of the server's `jwks_uri` key set that fits `alg` and `kid` (fetched with the
 * request options given, under the response size cap and timeout, cached and refetched like
 * every JWKS); `iss` is the server's issuer; the `requiredClaims` are present; registered claims
 * have their types; `aud` is or contains `expectedAudience` when one is given; `exp` and `nbf`
 * hold on the clock with `[clockSkew]` and `[clockTolerance]` (RFC 7519 §4.1).
 *
 * Prefer the dedicated validators where there is one: `processAuthorizationCodeResponse` (ID
 * tokens: `nonce`, `azp`, `auth_time`), `validateJwtAuthResponse`, `validateLogoutToken` and
 * `validateJwtAccessToken` check what their specifications add.
 *
 * @param as Authorization server metadata, with `issuer` and `jwks_uri`.
 * @param jwt The compact JWS.
 * @param options Expected audience, accepted algorithms, required claims, clock options, and the
 *   request options of the JWKS fetch.
 * @returns The header and claims.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for a bad argument.
 * @throws {UnsupportedOperationError} For `alg: "none"` or another unsupported algorithm, an
 *   unknown `crit`, or a JWE.
 * @throws {OperationProcessingError} `PARSE_ERROR` / `INVALID_RESPONSE` for a malformed token, a
 *   disallowed `alg`, a failed signature or a missing or mistyped claim; `KEY_SELECTION` when no
 *   single key fits; `JWT_CLAIM_COMPARISON` for `iss` or `aud`; `JWT_TIMESTAMP_CHECK` for `exp` or
 *   `nbf`; `MISSING_SERVER_METADATA` without `jwks_uri`, and the JWKS fetch's codes.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const token: string;
 * const { header, claims } = await oauth.validateJwt(as, token, {
 *   expectedAudience: "https://api.example",
 *   signingAlgorithms: ["ES256", "ML-DSA-65"],
 * });
 * console.log(header.kid, claims.sub);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7519#section-7.2 | RFC 7519 §7.2}
 * @see {@link https://www.rfc-editor.org/rfc/rfc8725#section-3 | RFC 8725 §3}
 */
export async function validateJwt(
  as: AuthorizationServer,
  jwt: string,
  options?: ValidateJwtOptions,
): Promise<ValidatedJwt> {
  assertAs(as);
  assertNonEmptyString(jwt, '"jwt"');
  if (options !== undefined && !isJsonObject(options)) {
    throw argError('"options" must be an object');
  }
  const allowed = signingAlgorithmsOption(options?.signingAlgorithms);
  const required = requiredClaimsOption(options?.requiredClaims);
  const audience = options?.expectedAudience;
  if (audience !== undefined) assertNonEmptyString(audience, '"options.expectedAudience"');
  toleranceOf(options);
  clientTime(options);

  const jws = decodeJws(jwt);
  checkAlg(jws.header, allowed, "JWT signing algorithm");
  await verifyWithServerKeys(as, jws, options as HttpOptions & JWKSCacheOptions);

  const claims = jws.claims;
  requireClaims(claims, ["iss", ...required, ...(audience === undefined ? [] : ["aud"])]);
  checkClaimTypes(claims);
  checkIssuer(as, jws);
  if (audience !== undefined) checkAudience(claims, audience);
  checkTimestamps(claims, options);
  return { header: jws.header, claims: claims as JWTPayload };
}
