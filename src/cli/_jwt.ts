/**
 * `authlane decode`: reads a compact JWS (RFC 7515 §7.1) into its header and claims, and with
 * `--issuer` validates it the way a relying party would for a token of unknown kind: the
 * signature against the issuer's `jwks_uri` key set (RFC 7517, key selection by `kid`, `kty`,
 * `crv`, `alg`, `use` and `key_ops`), `iss` equal to the discovered issuer, `exp` present and in
 * the future, `nbf` not in the future (RFC 7519 §4.1, 30 seconds of tolerance), and `aud` with
 * `--audience`. Verification uses Web Crypto; `none` and symmetric algorithms are refused.
 *
 * Failures are the library's own error classes and codes (`INVALID_RESPONSE` for a bad
 * signature, `KEY_SELECTION`, `JWT_CLAIM_COMPARISON`, `JWT_TIMESTAMP_CHECK`), so they print and
 * exit (code 3) like every other protocol failure.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { UsageError } from "./_args.ts";
import type { HttpOptions } from "./_context.ts";

/** Seconds of clock tolerance for `exp` and `nbf`. */
const TOLERANCE = 30;

/** A compact JWS, decoded but not verified. */
export interface DecodedJwt {
  /** The protected header. */
  header: Record<string, unknown>;
  /** The claims. */
  claims: Record<string, unknown>;
  /** `BASE64URL(header) || '.' || BASE64URL(payload)`. */
  signingInput: Uint8Array<ArrayBuffer>;
  /** The signature bytes. */
  signature: Uint8Array<ArrayBuffer>;
}

/** What validation established. */
export interface JwtValidation {
  /** The algorithm verified. */
  alg: string;
  /** The `kid` of the key used, if it has one. */
  kid?: string;
  /** Where the key came from. */
  jwks_uri: string;
  /** The issuer matched. */
  issuer: string;
}

/**
 * Decodes a compact JWS without verifying it.
 *
 * @param token The JWT.
 * @returns Its parts.
 * @throws {UsageError} When it is not a compact JWS with JSON object header and claims.
 */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split(".");
  if (parts.length === 5) {
    throw new UsageError("the token is encrypted (a JWE); decode reads signed JWTs only");
  }
  if (parts.length !== 3) {
    throw new UsageError("the token is not a JWT (three dot-separated parts)");
  }
  const [header, claims] = [parts[0]!, parts[1]!].map((part, i) => {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromBase64Url(part)));
    } catch {
      value = undefined;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new UsageError(`the JWT ${i === 0 ? "header" : "payload"} is not a JSON object`);
    }
    return value as Record<string, unknown>;
  });
  let signature: Uint8Array<ArrayBuffer>;
  try {
    signature = fromBase64Url(parts[2]!);
  } catch {
    throw new UsageError("the JWT signature is not base64url");
  }
  return {
    header: header!,
    claims: claims!,
    signingInput: new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
    signature,
  };
}

/**
 * Validates a decoded JWT against the issuer's metadata and keys.
 *
 * @param jwt The decoded JWT.
 * @param as The issuer's metadata.
 * @param http Request options (insecure, custom fetch) for the JWKS request.
 * @param options `audience` to require, `now` in epoch seconds.
 * @returns What was established.
 * @throws {oauth.UnsupportedOperationError} For `none`, symmetric or unknown algorithms and `crit`.
 * @throws {oauth.OperationProcessingError} `MISSING_SERVER_METADATA`, `KEY_SELECTION`,
 *   `INVALID_RESPONSE` (bad JWKS, bad signature, missing `exp`), `JWT_CLAIM_COMPARISON`,
 *   `JWT_TIMESTAMP_CHECK`, `HTTP_REQUEST_FORBIDDEN`.
 */
export async function validateJwt(
  jwt: DecodedJwt,
  as: oauth.AuthorizationServer,
  http: HttpOptions,
  options: { audience?: string; now: number },
): Promise<JwtValidation> {
  const alg = jwt.header.alg;
  if (typeof alg !== "string") {
    throw new oauth.OperationProcessingError('JWT header "alg" must be a string', {
      code: oauth.INVALID_RESPONSE,
      cause: { header: jwt.header },
    });
  }
  const params = algorithmParams(alg);
  if (jwt.header.crit !== undefined) {
    throw new oauth.UnsupportedOperationError('JWT header "crit" is not supported', {
      cause: { header: jwt.header },
    });
  }
  if (typeof as.jwks_uri !== "string") {
    throw new oauth.OperationProcessingError('the issuer\'s metadata has no "jwks_uri"', {
      code: oauth.MISSING_SERVER_METADATA,
      cause: { attribute: "jwks_uri" },
    });
  }
  const keys = await fetchJwks(new URL(as.jwks_uri), http);
  const jwk = selectKey(keys, alg, jwt.header.kid, params);
  const { alg: _a, key_ops: _o, use: _u, ext: _e, ...bare } = jwk;
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("jwk", bare as JsonWebKey, params.import, false, [
      "verify",
    ]);
  } catch {
    throw new oauth.OperationProcessingError("the selected JWKS key could not be imported", {
      code: oauth.KEY_SELECTION,
      cause: { kid: jwk.kid, alg },
    });
  }
  if (!await crypto.subtle.verify(params.verify, key, jwt.signature, jwt.signingInput)) {
    throw new oauth.OperationProcessingError("JWT signature verification failed", {
      code: oauth.INVALID_RESPONSE,
      cause: { header: jwt.header },
    });
  }
  checkClaims(jwt.claims, as.issuer, options);
  return {
    alg,
    ...(typeof jwk.kid === "string" ? { kid: jwk.kid } : {}),
    jwks_uri: as.jwks_uri,
    issuer: as.issuer,
  };
}

function claimError(message: string, code: string, claims: Record<string, unknown>, claim: string) {
  return new oauth.OperationProcessingError(message, { code, cause: { claims, claim } });
}

/** RFC 7519 §4.1.1, §4.1.3-5: iss, aud, exp (required here) and nbf. */
function checkClaims(
  claims: Record<string, unknown>,
  issuer: string,
  options: { audience?: string; now: number },
): void {
  if (claims.iss !== issuer) {
    throw claimError(
      'unexpected JWT "iss" (issuer) claim value',
      oauth.JWT_CLAIM_COMPARISON,
      claims,
      "iss",
    );
  }
  const { exp, nbf, aud } = claims;
  if (exp === undefined) {
    throw claimError(
      'JWT "exp" (expiration time) claim missing',
      oauth.INVALID_RESPONSE,
      claims,
      "exp",
    );
  }
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    throw claimError(
      'JWT "exp" (expiration time) claim must be a number',
      oauth.INVALID_RESPONSE,
      claims,
      "exp",
    );
  }
  if (exp <= options.now - TOLERANCE) {
    throw claimError(
      'JWT "exp" (expiration time) claim timestamp is in the past',
      oauth.JWT_TIMESTAMP_CHECK,
      claims,
      "exp",
    );
  }
  if (nbf !== undefined) {
    if (typeof nbf !== "number" || !Number.isFinite(nbf)) {
      throw claimError(
        'JWT "nbf" (not before) claim must be a number',
        oauth.INVALID_RESPONSE,
        claims,
        "nbf",
      );
    }
    if (nbf > options.now + TOLERANCE) {
      throw claimError(
        'JWT "nbf" (not before) claim timestamp is in the future',
        oauth.JWT_TIMESTAMP_CHECK,
        claims,
        "nbf",
      );
    }
  }
  if (options.audience !== undefined) {
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(options.audience)) {
      throw claimError(
        'unexpected JWT "aud" (audience) claim value',
        oauth.JWT_CLAIM_COMPARISON,
        claims,
        "aud",
      );
    }
  }
}

interface AlgorithmParams {
  import: RsaHashedImportParams | EcKeyImportParams | Algorithm;
  verify: RsaPssParams | EcdsaParams | Algorithm;
  kty: "RSA" | "EC" | "OKP";
  crv?: string;
}

/** RFC 7518 §3 (and RFC 8037 / fully specified Ed25519): Web Crypto parameters per `alg`. */
function algorithmParams(alg: string): AlgorithmParams {
  const bits = Number(alg.slice(2));
  const hash = `SHA-${bits}`;
  if (/^RS(256|384|512)$/.test(alg)) {
    const name = "RSASSA-PKCS1-v1_5";
    return { import: { name, hash }, verify: { name }, kty: "RSA" };
  }
  if (/^PS(256|384|512)$/.test(alg)) {
    const name = "RSA-PSS";
    return { import: { name, hash }, verify: { name, saltLength: bits / 8 }, kty: "RSA" };
  }
  const curve = { ES256: "P-256", ES384: "P-384", ES512: "P-521" }[alg];
  if (curve !== undefined) {
    return {
      import: { name: "ECDSA", namedCurve: curve },
      verify: { name: "ECDSA", hash },
      kty: "EC",
      crv: curve,
    };
  }
  if (alg === "EdDSA" || alg === "Ed25519") {
    return { import: { name: "Ed25519" }, verify: { name: "Ed25519" }, kty: "OKP", crv: "Ed25519" };
  }
  throw new oauth.UnsupportedOperationError(
    alg === "none"
      ? 'JWS "alg" none is never accepted'
      : alg.startsWith("HS")
      ? `JWS "alg" ${alg} is symmetric: it cannot be checked against the issuer's public keys`
      : `unsupported JWS "alg" ${alg}`,
    { cause: { alg } },
  );
}

function selectKey(
  keys: Record<string, unknown>[],
  alg: string,
  kid: unknown,
  params: AlgorithmParams,
): Record<string, unknown> {
  const candidates = keys.filter((key) =>
    key.kty === params.kty &&
    (kid === undefined || key.kid === kid) &&
    (key.alg === undefined || key.alg === alg) &&
    (key.use === undefined || key.use === "sig") &&
    (!Array.isArray(key.key_ops) || key.key_ops.includes("verify")) &&
    (params.crv === undefined || key.crv === params.crv)
  );
  if (candidates.length === 1) return candidates[0]!;
  throw new oauth.OperationProcessingError(
    candidates.length === 0
      ? "error when selecting a JWT verification key, no applicable keys found"
      : 'error when selecting a JWT verification key, multiple applicable keys found, a "kid" JWT Header Parameter is required',
    { code: oauth.KEY_SELECTION, cause: { alg, kid } },
  );
}

const MAX_JWKS_BYTES = 512 * 1024;

/** Fetches and shape-checks the JWKS (RFC 7517 §5), with the library's URL policy. */
async function fetchJwks(url: URL, http: HttpOptions): Promise<Record<string, unknown>[]> {
  oauth.checkProtocol(url, http[oauth.allowInsecureRequests] !== true);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("JWKS request timed out", "TimeoutError")),
    30_000,
  );
  let text: string;
  let response: Response;
  try {
    const send = http[oauth.customFetch] ??
      ((target: string, init: oauth.CustomFetchOptions<string, unknown>) =>
        fetch(target, { ...init, body: undefined }));
    response = await send(url.href, {
      method: "GET",
      headers: { accept: "application/json, application/jwk-set+json" },
      body: undefined,
      redirect: "manual",
      signal: controller.signal,
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new oauth.OperationProcessingError(
        '"response" is not a conform JSON Web Key Set response (unexpected HTTP status code)',
        { code: oauth.RESPONSE_IS_NOT_CONFORM, cause: { status: response.status } },
      );
    }
    text = await response.text();
  } finally {
    clearTimeout(timer);
  }
  if (text.length > MAX_JWKS_BYTES) {
    throw new oauth.OperationProcessingError("JWKS response is too large", {
      code: oauth.RESPONSE_TOO_LARGE,
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new oauth.OperationProcessingError("failed to parse the JWKS response as JSON", {
      code: oauth.PARSE_ERROR,
    });
  }
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) {
    throw new oauth.OperationProcessingError('"response" body "keys" property must be an array', {
      code: oauth.INVALID_RESPONSE,
    });
  }
  if (!keys.every((key) => typeof key === "object" && key !== null && !Array.isArray(key))) {
    throw new oauth.OperationProcessingError(
      '"response" body "keys" property members must be JWK formatted objects',
      { code: oauth.INVALID_RESPONSE },
    );
  }
  return keys as Record<string, unknown>[];
}

function fromBase64Url(value: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) throw new TypeError("not base64url");
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
