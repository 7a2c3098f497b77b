/**
 * JWT claim checks shared by ID tokens (OpenID Connect Core §3.1.3.7), signed userinfo (§5.3.2),
 * JARM, JWT introspection responses (RFC 9701), JWT access tokens (RFC 9068 §4) and DPoP proofs
 * (RFC 9449 §4.3): signing-algorithm policy, required claims, claim types, `iss` (with an
 * issuer template's `[_expectedIssuer]`), `aud`, and `exp`/`nbf`/`iat` with `[clockSkew]` and
 * `[clockTolerance]` (RFC 7519 §4.1); and the JWKS fetch options a signed response inherits from
 * the request that produced it.
 *
 * @module
 */

import type { HttpOptions } from "./_http.ts";
import {
  type DecodedJws,
  decodeJws,
  type SignedJws,
  SUPPORTED_ALGS,
  verifySignature,
} from "./_jose.ts";
import { clientTime, type ClockOptions, toleranceOf } from "./_time.ts";
import {
  argError,
  INVALID_RESPONSE,
  JWT_CLAIM_COMPARISON,
  JWT_TIMESTAMP_CHECK,
  type OAuthErrorCode,
  processingError,
  quote,
  unsupported,
} from "./errors.ts";
import { selectVerificationKey } from "./jwks.ts";
import {
  _expectedIssuer,
  allowInsecureRequests,
  customFetch,
  jwksCache,
  maxResponseSize,
} from "./symbols.ts";
import type { AuthorizationServer, JsonObject, JWKSCacheOptions } from "./types.ts";

const CLAIM_NAMES: Record<string, string> = {
  iss: "issuer",
  sub: "subject",
  aud: "audience",
  exp: "expiration time",
  nbf: "not before",
  iat: "issued at",
  jti: "JWT ID",
  auth_time: "authentication time",
  nonce: "nonce",
  client_id: "client id",
};

function label(claim: string): string {
  const name = CLAIM_NAMES[claim];
  return name ? `"${claim}" (${name})` : `"${claim}"`;
}

/**
 * Resolves the JWS algorithms accepted for a signed response: the client's registered value, else
 * the server's advertised list, else `fallback` (RS256 for ID tokens, JARM and introspection).
 * `undefined` means nothing is configured and the caller must refuse.
 */
export function allowedAlgs(
  clientValue: unknown,
  serverValues: unknown,
  fallback: string | undefined,
): string[] | undefined {
  // Whichever side names algorithms is authoritative, even with an empty value: a client that
  // registered "" or a server that advertises [] allows nothing, as in oauth4webapi (OpenID
  // Connect Discovery §3 requires the list, so an empty one is broken metadata, not a default).
  if (typeof clientValue === "string") return [clientValue];
  if (Array.isArray(serverValues)) {
    return serverValues.filter((v): v is string => typeof v === "string");
  }
  return fallback === undefined ? undefined : [fallback];
}

/** Refuses a JWS whose `alg` header is not among the allowed algorithms. */
export function checkAlg(header: JsonObject, allowed: readonly string[], reason: string): void {
  const alg = header.alg as string;
  if (!allowed.includes(alg)) {
    throw processingError('unexpected JWT "alg" header parameter', INVALID_RESPONSE, {
      header,
      expected: allowed,
      reason,
    });
  }
  if (!SUPPORTED_ALGS.has(alg)) {
    throw unsupported(`unsupported JWS "alg" identifier ${JSON.stringify(alg)}`, { header });
  }
}

/** Every JWS algorithm authlane verifies: the default of a `signingAlgorithms` option. */
const VERIFIABLE_ALGS: readonly string[] = [...SUPPORTED_ALGS];

/**
 * Reads a `signingAlgorithms` option: a non-empty array of `alg` strings, by default every
 * algorithm authlane verifies (the `verify` column of `JWS_ALGORITHMS`).
 */
export function signingAlgorithmsOption(value: unknown): readonly string[] {
  if (value === undefined) return VERIFIABLE_ALGS;
  if (!Array.isArray(value) || value.some((alg) => typeof alg !== "string")) {
    throw argError('"options.signingAlgorithms" must be an array of strings');
  }
  if (value.length === 0) {
    throw argError('"options.signingAlgorithms" must not be empty', "ERR_INVALID_ARG_VALUE");
  }
  return value;
}

/**
 * Refuses a JWT whose `typ` header is not `expected`, compared case-insensitively with an
 * optional `application/` prefix (RFC 7515 §4.1.9, RFC 8725 §3.11 explicit typing).
 */
export function checkTyp(header: JsonObject, expected: string, code: OAuthErrorCode): void {
  const typ = header.typ;
  const normalized = typeof typ === "string"
    ? typ.toLowerCase().replace(/^application\//, "")
    : undefined;
  if (normalized !== expected) {
    throw processingError('unexpected JWT "typ" header parameter value', code, {
      header,
      expected,
    });
  }
}

/** Refuses a JWT missing any of the named claims. */
export function requireClaims(
  claims: JsonObject,
  names: readonly string[],
  code: OAuthErrorCode = INVALID_RESPONSE,
): void {
  for (const name of names) {
    if (claims[name] === undefined) {
      throw processingError(`JWT ${label(name)} claim missing`, code, { claims, claim: name });
    }
  }
}

const STRING_CLAIMS = ["iss", "sub", "jti", "nonce", "azp"] as const;
const NUMERIC_CLAIMS = ["exp", "nbf", "iat", "auth_time"] as const;

function isString(value: unknown): value is string {
  return typeof value === "string";
}

/**
 * Checks the types of the registered claims that are present: `iss`, `sub`, `jti` strings; `aud`
 * a string or an array of strings; `exp`, `nbf`, `iat` (and `auth_time`) finite numbers.
 */
export function checkClaimTypes(claims: JsonObject, code: OAuthErrorCode = INVALID_RESPONSE): void {
  for (const name of STRING_CLAIMS) {
    if (claims[name] !== undefined && !isString(claims[name])) {
      throw processingError(`unexpected JWT ${label(name)} claim type`, code, {
        claims,
        claim: name,
      });
    }
  }
  const aud = claims.aud;
  if (aud !== undefined && !isString(aud) && !(Array.isArray(aud) && aud.every(isString))) {
    throw processingError(`unexpected JWT ${label("aud")} claim type`, code, {
      claims,
      claim: "aud",
    });
  }
  for (const name of NUMERIC_CLAIMS) {
    const value = claims[name];
    if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value))) {
      throw processingError(`unexpected JWT ${label(name)} claim type`, code, {
        claims,
        claim: name,
      });
    }
  }
}

/**
 * Checks `exp` (must be after now minus tolerance) and `nbf` (must not be after now plus
 * tolerance), with now taken from the clock options (`[clockSkew]`). Returns the time used.
 */
export function checkTimestamps(claims: JsonObject, clock?: ClockOptions): number {
  const now = clientTime(clock);
  const tolerance = toleranceOf(clock);
  const exp = claims.exp as number | undefined;
  if (exp !== undefined && exp <= now - tolerance) {
    throw processingError(
      'unexpected JWT "exp" (expiration time) claim value, expiration is past current timestamp',
      JWT_TIMESTAMP_CHECK,
      { claims, claim: "exp", now, tolerance },
    );
  }
  const nbf = claims.nbf as number | undefined;
  if (nbf !== undefined && nbf > now + tolerance) {
    throw processingError('unexpected JWT "nbf" (not before) claim value', JWT_TIMESTAMP_CHECK, {
      claims,
      claim: "nbf",
      now,
      tolerance,
    });
  }
  return now;
}

/**
 * The issuer a JWT from `as` must name: `as.issuer`, unless the metadata carries an
 * `[_expectedIssuer]` function, as openid-client sets for servers whose metadata `issuer` is a
 * template (Microsoft Entra ID's multi-tenant `https://login.microsoftonline.com/{tenantid}/v2.0`).
 * That function is given the (not yet trusted) header and claims and returns the issuer to
 * require, for instance the template filled with the token's `tid`; `undefined` means
 * `as.issuer`. The returned value is then compared exactly, like `as.issuer`.
 */
export function expectedIssuerOf(
  as: AuthorizationServer,
  jws: Pick<DecodedJws, "header" | "claims">,
): unknown {
  const template = (as as { [_expectedIssuer]?: unknown })[_expectedIssuer];
  if (template === undefined || template === null) return as.issuer;
  if (typeof template !== "function") {
    throw argError('"as[_expectedIssuer]" must be a function', "ERR_INVALID_ARG_TYPE");
  }
  const expected: unknown = template({ header: jws.header, claims: jws.claims });
  // Whatever else it returns is compared as is (a non-string never equals a valid `iss`).
  return expected === undefined || expected === null ? as.issuer : expected;
}

/** Refuses a JWT whose `iss` is not the issuer of `as` (see {@link expectedIssuerOf}). */
export function checkIssuer(
  as: AuthorizationServer,
  jws: Pick<DecodedJws, "header" | "claims">,
): void {
  const expected = expectedIssuerOf(as, jws);
  const claims = jws.claims;
  if (claims.iss !== expected) {
    throw processingError(
      `unexpected JWT "iss" (issuer) claim value: expected ${quote(expected)}, got ` +
        quote(claims.iss),
      JWT_CLAIM_COMPARISON,
      { claims, claim: "iss", expected },
    );
  }
}

/** Refuses a JWT whose `aud` neither is nor contains the expected audience. */
export function checkAudience(claims: JsonObject, expected: string): void {
  const aud = claims.aud;
  const ok = Array.isArray(aud) ? aud.includes(expected) : aud === expected;
  if (!ok) {
    throw processingError(
      `unexpected JWT "aud" (audience) claim value: expected ${quote(expected)}, got ` +
        quote(aud),
      JWT_CLAIM_COMPARISON,
      { claims, claim: "aud", expected },
    );
  }
}

/**
 * OpenID Connect Core §3.1.3.7 (3)–(5), shared by ID tokens and logout tokens: several audiences
 * need an `azp`, and an `azp` must be the client.
 */
export function checkAuthorizedParty(
  claims: JsonObject,
  clientId: string,
  token: "ID Token" | "Logout Token",
): void {
  if (Array.isArray(claims.aud) && claims.aud.length !== 1 && claims.azp === undefined) {
    throw processingError(
      `${token} "aud" (audience) claim includes additional untrusted audiences`,
      JWT_CLAIM_COMPARISON,
      { claims, claim: "aud" },
    );
  }
  if (claims.azp !== undefined && claims.azp !== clientId) {
    throw processingError(
      `unexpected ${token} "azp" (authorized party) claim value`,
      JWT_CLAIM_COMPARISON,
      { claims, claim: "azp", expected: clientId },
    );
  }
}

/**
 * Decodes a JWT and checks its `alg` against the allowed list, without verifying the signature
 * (for channels where TLS authenticates the server, OpenID Connect Core §3.1.3.7 (6)).
 */
export function decodeChecked(jwt: string, allowed: readonly string[], reason: string): DecodedJws {
  const jws = decodeJws(jwt);
  checkAlg(jws.header, allowed, reason);
  return jws;
}

/** Verifies a decoded JWS against the authorization server's JWKS. */
export async function verifyWithServerKeys(
  as: AuthorizationServer,
  jws: SignedJws,
  options?: HttpOptions & JWKSCacheOptions,
): Promise<void> {
  const key = await selectVerificationKey(as, jws.header, options);
  await verifySignature(jws, jws.header.alg as string, key);
}

/**
 * The transport options of the request that produced each response (`userInfoRequest`,
 * `introspectionRequest`), so that verifying the JWT it carries fetches the JWKS the same way
 * the caller asked for the response to be fetched, and never behind the caller's back.
 */
const requestOptions = new WeakMap<object, HttpOptions & JWKSCacheOptions>();

/** Credentials meant for one endpoint that must not travel to `jwks_uri`. */
const ENDPOINT_CREDENTIALS = ["authorization", "dpop"];

/** The transport options among `options` (those set), or `undefined` when there are none. */
function transportOptionsOf(options: HttpOptions | undefined): HttpOptions | undefined {
  if (options === undefined || options === null || typeof options !== "object") return undefined;
  const picked: HttpOptions = {};
  let any = false;
  if (options[customFetch] !== undefined) {
    picked[customFetch] = options[customFetch];
    any = true;
  }
  if (options[allowInsecureRequests] !== undefined) {
    picked[allowInsecureRequests] = options[allowInsecureRequests];
    any = true;
  }
  if (options[maxResponseSize] !== undefined) {
    picked[maxResponseSize] = options[maxResponseSize];
    any = true;
  }
  if (options.signal !== undefined) {
    picked.signal = options.signal;
    any = true;
  }
  if (options.headers !== undefined) {
    picked.headers = options.headers;
    any = true;
  }
  return any ? picked : undefined;
}

/**
 * Records the transport options a request was sent with against the response it returned:
 * `[customFetch]`, `[allowInsecureRequests]`, `[maxResponseSize]`, `signal` and `headers` (less
 * `Authorization` and `DPoP`, which belong to that endpoint), and a `[jwksCache]` when the caller
 * passed one along (one options object spread into every call).
 */
export function rememberRequestOptions(
  response: Response,
  options?: HttpOptions & JWKSCacheOptions,
): void {
  const picked: HttpOptions & JWKSCacheOptions = transportOptionsOf(options) ?? {};
  if (picked.headers !== undefined) {
    const headers = new Headers(picked.headers);
    for (const name of ENDPOINT_CREDENTIALS) headers.delete(name);
    picked.headers = headers;
  }
  if (options?.[jwksCache] !== undefined) picked[jwksCache] = options[jwksCache];
  requestOptions.set(response, picked);
}

/**
 * How a processor may fetch the JWKS to verify the JWT in `response`, or `undefined` when it may
 * not fetch at all.
 *
 * The options of the request that produced the response (see {@link rememberRequestOptions}),
 * overridden by any transport option or `[jwksCache]` given to the processor itself. A response the library did not produce (one the caller built or fetched), with
 * no transport option nor cache given to the processor, gets `undefined`: no network I/O, the
 * signature is left to `validateApplicationLevelSignature`, as in oauth4webapi.
 */
export function jwksFetchOptionsFor(
  response: Response,
  processorOptions: (HttpOptions & JWKSCacheOptions) | undefined,
): (HttpOptions & JWKSCacheOptions) | undefined {
  const recorded = requestOptions.get(response);
  const given = transportOptionsOf(processorOptions);
  const cache = processorOptions?.[jwksCache];
  if (recorded === undefined && given === undefined && cache === undefined) return undefined;
  const options: HttpOptions & JWKSCacheOptions = { ...recorded, ...given };
  if (cache !== undefined) options[jwksCache] = cache;
  return options;
}
