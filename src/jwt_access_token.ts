/**
 * Resource-server validation of JWT access tokens: the JWT profile (RFC 9068 §4) of tokens sent in
 * the `Authorization` header (RFC 6750 §2.1), with proof-of-possession for DPoP-bound tokens
 * (RFC 9449 §4.3, §7; the proof checks live in `dpop_proof.ts`) and certificate-bound tokens
 * (RFC 8705 §3, with the RFC 9440 `Client-Cert` header as an opt-in certificate source).
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
  checkTyp,
  requireClaims,
  signingAlgorithmsOption,
  verifyWithServerKeys,
} from "./_jwt.ts";
import { clientTime, toleranceOf } from "./_time.ts";
import { calculateCertificateThumbprint } from "./certificate.ts";
import { checkDPoP } from "./dpop_proof.ts";
import {
  argError,
  INVALID_REQUEST,
  INVALID_RESPONSE,
  JWT_CLAIM_COMPARISON,
  processingError,
  unsupported,
} from "./errors.ts";
import type { clockSkew, clockTolerance } from "./symbols.ts";
import type {
  AuthorizationDetails,
  AuthorizationServer,
  HttpRequestOptions,
  JsonObject,
  JsonValue,
  JWKSCacheOptions,
  JWTPayload,
} from "./types.ts";

/** Claims of a validated JWT access token (RFC 9068 §2.2). */
export interface JWTAccessTokenClaims extends JWTPayload {
  /** Issuer: the authorization server's `issuer`. */
  readonly iss: string;
  /** Expiration time. */
  readonly exp: number;
  /** Audience; contains the resource server's identifier. */
  readonly aud: string | string[];
  /** Subject: the resource owner, or the client for a client credentials grant. */
  readonly sub: string;
  /** Issued at. */
  readonly iat: number;
  /** JWT ID. */
  readonly jti: string;
  /** The client the token was issued to. */
  readonly client_id: string;
  /** Rich authorization request details (RFC 9396). */
  readonly authorization_details?: AuthorizationDetails[];
  /** Space-separated scopes. */
  readonly scope?: string;
  /** Other claims. */
  readonly [claim: string]: JsonValue | undefined;
}

/** Options of {@link validateJwtAccessToken}. */
export interface ValidateJWTAccessTokenOptions extends HttpRequestOptions<"GET">, JWKSCacheOptions {
  /**
   * Refuse tokens that are not DPoP-bound (RFC 9449 §7.1): the request must then use the `DPoP`
   * scheme, carry a `DPoP` proof, and the token must have a `cnf.jkt` claim.
   * @default false
   */
  requireDPoP?: boolean;
  /** Seconds added to the local clock for the `exp`, `nbf` and DPoP `iat` checks. @default 0 */
  [clockSkew]?: number;
  /** Seconds of leeway for the `exp`, `nbf` and DPoP `iat` checks. @default 30 */
  [clockTolerance]?: number;
  /**
   * JWS algorithms accepted for the access token and for DPoP proofs.
   * @default every asymmetric algorithm authlane supports (RS256 among them, RFC 9068 §2.1)
   */
  signingAlgorithms?: string[];
  /**
   * The TLS client certificate of the connection the request came on (PEM, base64 DER, or DER
   * bytes), checked against a certificate-bound token's `cnf["x5t#S256"]` (RFC 8705 §3). authlane
   * addition. It wins over the `Client-Cert` header.
   */
  clientCertificate?: string | Uint8Array;
  /**
   * Read the client certificate from the RFC 9440 `Client-Cert` request header when
   * `clientCertificate` is not given. Set it only when a TLS-terminating proxy in front of the
   * application sets that header and strips it from client requests: otherwise any client can
   * claim any certificate. authlane addition.
   * @default false
   */
  trustClientCertHeader?: boolean;
}

/** Seconds a DPoP proof stays acceptable after its `iat` (RFC 9449 §11.1). */
export { DPOP_PROOF_MAX_AGE } from "./dpop_proof.ts";

/** Required claims of a JWT access token (RFC 9068 §2.2). */
const REQUIRED_CLAIMS = ["iss", "exp", "aud", "sub", "iat", "jti", "client_id"] as const;

/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** RFC 8941 §3.3.5 Byte Sequence holding standard base64, as RFC 9440 §2.2 sends a DER cert. */
const SF_BINARY = /^:[A-Za-z0-9+/]+={0,2}:$/;

type ConfirmationMethod = "jkt" | "x5t#S256";

/**
 * Validates the JWT access token of a resource request.
 *
 * The token is read from the `Authorization` header (RFC 6750 §2.1, RFC 9449 §7.1; the only
 * supported way of sending it) with the `Bearer` or `DPoP` scheme. Then, per RFC 9068 §4:
 * the `typ` header is `at+jwt` or `application/at+jwt`; `alg` is among `signingAlgorithms`
 * (default: every asymmetric algorithm authlane supports; `none` and HMAC never); the signature
 * verifies with a key of the authorization server's JWKS (`jwks_uri`, cached); `iss`, `exp`,
 * `aud`, `sub`, `iat`, `jti` and `client_id` are present and typed; `iss` is `as.issuer`; `aud`
 * is or contains `expectedAudience`; `exp` and `nbf` hold with `[clockSkew]` and
 * `[clockTolerance]`.
 *
 * The default algorithm list: RFC 9068 §2.1 makes RS256 mandatory to support, not exclusive, and
 * §4 leaves the choice to the resource server; authlane accepts every asymmetric algorithm it
 * implements (as oauth4webapi does), since the key comes from the server's JWKS and must match
 * the algorithm's key type. Pass `signingAlgorithms` to narrow it.
 *
 * DPoP (RFC 9449 §4.3, §7.1) is enforced when the scheme is `DPoP`, when the request has a `DPoP`
 * header, when `requireDPoP` is set, or when the token has a `cnf.jkt` claim: the scheme must be
 * `DPoP`, the token must have `cnf.jkt`, and the one `DPoP` proof must have `typ: dpop+jwt`, an
 * accepted asymmetric `alg`, a public `jwk` that verifies its signature, `htm` equal to the
 * request method, `htu` equal to the request URL without query and fragment, an `iat` no older
 * than 300 seconds and not in the future (beyond `[clockTolerance]`), a `jti`, `ath` equal to the
 * token's SHA-256 hash, and a `jwk` whose RFC 7638 thumbprint is `cnf.jkt`. `request.url` must be
 * the URL the client used: behind a proxy, build the `Request` with the public URL. The proof's
 * `nonce` is not checked, nor is its `jti` recorded against replay: do both afterwards if your
 * server issues DPoP nonces or tracks proofs.
 *
 * Certificate-bound tokens (RFC 8705 §3, authlane addition): when the token has
 * `cnf["x5t#S256"]`, the SHA-256 thumbprint of the client certificate must equal it. The
 * certificate comes from the `clientCertificate` option, or, only with
 * `trustClientCertHeader: true`, from the RFC 9440 `Client-Cert` header. Without a certificate
 * the token is refused, never passed.
 *
 * `sub`, `jti`, `client_id` and authorization claims such as `scope` are returned, not judged:
 * check them afterwards.
 *
 * @param as Authorization server metadata (with `issuer` and `jwks_uri`).
 * @param request The incoming resource request.
 * @param expectedAudience The resource server's identifier, expected in `aud`.
 * @param options `requireDPoP`, `signingAlgorithms`, `clientCertificate`,
 *   `trustClientCertHeader`, `[clockSkew]`, `[clockTolerance]`, `[jwksCache]` and the JWKS
 *   request's `[customFetch]`, `signal`, `headers`.
 * @returns The validated claims.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for invalid arguments,
 *   before any request.
 * @throws {UnsupportedOperationError} For an `Authorization` scheme other than `Bearer` and
 *   `DPoP`, `alg: "none"` or another unsupported algorithm, an unknown `crit` header, an unknown
 *   confirmation method or several confirmation methods at once.
 * @throws {OperationProcessingError} `INVALID_REQUEST` for a missing or malformed
 *   `Authorization` header, a non-string `sub`/`jti`/`client_id`, a malformed `cnf`, or a
 *   certificate-bound token without a certificate; `INVALID_RESPONSE` for a bad `typ` or `alg`
 *   of the token, a failed signature, a missing or mistyped claim, a token that is not a compact
 *   JWS, and (as oauth4webapi reports it) a missing, repeated or invalid DPoP proof (bad `typ`,
 *   `alg`, `jwk`, signature or claim) or a DPoP-bound token sent with `Bearer`;
 *   `PARSE_ERROR` for a token or proof whose base64url or JSON does not decode;
 *   `JWT_CLAIM_COMPARISON` for `iss`, `aud`, DPoP `htm`/`htu`/`ath`, and a `cnf` mismatch;
 *   `JWT_TIMESTAMP_CHECK` for `exp`, `nbf` and the DPoP `iat`; `KEY_SELECTION` and the JWKS
 *   request's codes.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const request: Request;
 * const claims = await oauth.validateJwtAccessToken(as, request, "https://api.example");
 * if (!claims.scope?.split(" ").includes("read")) throw new Error("insufficient_scope");
 * ```
 * @example With DPoP and certificate binding
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const request: Request;
 * declare const peerCertificatePem: string;
 * const claims = await oauth.validateJwtAccessToken(as, request, "https://api.example", {
 *   requireDPoP: true,
 *   signingAlgorithms: ["ES256", "RS256"],
 *   clientCertificate: peerCertificatePem,
 * });
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9068#section-4 | RFC 9068 §4}
 * @see {@link https://www.rfc-editor.org/rfc/rfc9449#section-4.3 | RFC 9449 §4.3}
 * @see {@link https://www.rfc-editor.org/rfc/rfc8705#section-3 | RFC 8705 §3}
 */
export async function validateJwtAccessToken(
  as: AuthorizationServer,
  request: Request,
  expectedAudience: string,
  options?: ValidateJWTAccessTokenOptions,
): Promise<JWTAccessTokenClaims> {
  assertAs(as);
  if (!(request instanceof Request)) throw argError('"request" must be an instance of Request');
  assertNonEmptyString(expectedAudience, '"expectedAudience"');
  const allowed = signingAlgorithmsOption(options?.signingAlgorithms);
  assertOptionTypes(options);
  toleranceOf(options);
  clientTime(options);
  // An unreadable certificate is the caller's mistake: refuse it before any request.
  const presented = options?.clientCertificate === undefined
    ? undefined
    : await calculateCertificateThumbprint(options.clientCertificate);

  const { scheme, token } = readAuthorization(request);
  const jws = decodeJws(token);
  checkAlg(jws.header, allowed, "JWT Access Token signing algorithm");
  checkTyp(jws.header, "at+jwt", INVALID_RESPONSE);
  await verifyWithServerKeys(as, jws, options as HttpOptions & JWKSCacheOptions);

  const claims = jws.claims;
  requireClaims(claims, REQUIRED_CLAIMS);
  for (const name of ["sub", "jti", "client_id"] as const) {
    if (typeof claims[name] !== "string") {
      throw processingError(`unexpected JWT "${name}" claim type`, INVALID_REQUEST, {
        claims,
        claim: name,
      });
    }
  }
  checkClaimTypes(claims);
  checkIssuer(as, jws);
  checkAudience(claims, expectedAudience);
  checkTimestamps(claims, options);

  const confirmation = confirmationMethodOf(claims);
  // get() rather than has(): on a Deno.serve request has() copies every header into JavaScript.
  if (
    options?.requireDPoP === true || scheme === "dpop" || confirmation === "jkt" ||
    request.headers.get("dpop") !== null
  ) {
    await checkDPoP(request, scheme, token, claims, allowed, options);
  }
  if (confirmation === "x5t#S256") {
    await checkCertificateBinding(request, claims, presented, options);
  }
  return claims as JWTAccessTokenClaims;
}

function assertOptionTypes(options?: ValidateJWTAccessTokenOptions): void {
  const certificate = options?.clientCertificate;
  if (
    certificate !== undefined && typeof certificate !== "string" &&
    !(certificate instanceof Uint8Array)
  ) {
    throw argError('"options.clientCertificate" must be a string or a Uint8Array');
  }
  const trust = options?.trustClientCertHeader;
  if (trust !== undefined && typeof trust !== "boolean") {
    throw argError('"options.trustClientCertHeader" must be a boolean');
  }
  if (options?.requireDPoP !== undefined && typeof options.requireDPoP !== "boolean") {
    throw argError('"options.requireDPoP" must be a boolean');
  }
}

/** RFC 6750 §2.1 / RFC 9449 §7.1: `Authorization: <scheme> <token>`, scheme case-insensitive. */
function readAuthorization(request: Request): { scheme: "bearer" | "dpop"; token: string } {
  const value = request.headers.get("authorization");
  if (value === null) {
    throw processingError('"request" is missing an Authorization HTTP Header', INVALID_REQUEST, {
      header: "authorization",
    });
  }
  const parts = value.split(/ +/);
  const scheme = parts[0]!.toLowerCase();
  if (scheme !== "bearer" && scheme !== "dpop") {
    // The scheme name is public; the rest of the header is a credential and stays out.
    throw unsupported("unsupported Authorization HTTP Header scheme", { scheme: parts[0] });
  }
  const token = parts[1];
  if (parts.length !== 2 || token === undefined || !B64TOKEN.test(token)) {
    throw processingError("invalid Authorization HTTP Header format", INVALID_REQUEST, {
      header: "authorization",
      scheme: parts[0],
    });
  }
  return { scheme, token };
}

/**
 * Reads the token's confirmation method (RFC 7800 §3.1): `jkt` (RFC 9449 §6.1) or `x5t#S256`
 * (RFC 8705 §3.1). One method at most; an empty `cnf` binds nothing.
 */
function confirmationMethodOf(claims: JsonObject): ConfirmationMethod | undefined {
  const cnf = claims.cnf;
  if (cnf === undefined) return undefined;
  if (!isJsonObject(cnf)) {
    throw processingError('unexpected JWT "cnf" (confirmation) claim value', INVALID_REQUEST, {
      claims,
      claim: "cnf",
    });
  }
  const methods = Object.keys(cnf);
  if (methods.length === 0) return undefined;
  if (methods.length > 1) {
    throw unsupported("multiple confirmation claims are not supported", { claims });
  }
  const method = methods[0]!;
  if (method !== "jkt" && method !== "x5t#S256") {
    throw unsupported("unsupported JWT Confirmation method", { claims, method });
  }
  const value = cnf[method];
  if (typeof value !== "string" || value.length === 0) {
    throw processingError('unexpected JWT "cnf" (confirmation) claim value', INVALID_REQUEST, {
      claims,
      claim: `cnf.${method}`,
    });
  }
  return method;
}

/**
 * RFC 8705 §3: a certificate-bound token is accepted only from the holder of the certificate
 * whose SHA-256 thumbprint is `cnf["x5t#S256"]` (§3.1).
 */
async function checkCertificateBinding(
  request: Request,
  claims: JsonObject,
  presented: string | undefined,
  options?: ValidateJWTAccessTokenOptions,
): Promise<void> {
  const expected = (claims.cnf as JsonObject)["x5t#S256"];
  let thumbprint: string;
  if (presented !== undefined) {
    thumbprint = presented;
  } else {
    const header = options?.trustClientCertHeader === true
      ? request.headers.get("client-cert")
      : null;
    if (header === null) {
      throw processingError(
        "certificate-bound JWT Access Token presented without a client certificate",
        INVALID_REQUEST,
        { claims, claim: "cnf.x5t#S256" },
      );
    }
    thumbprint = await clientCertHeaderThumbprint(header);
  }
  if (thumbprint !== expected) {
    throw processingError("JWT Access Token confirmation mismatch", JWT_CLAIM_COMPARISON, {
      claims,
      claim: "cnf.x5t#S256",
      expected: thumbprint,
    });
  }
}

/** RFC 9440 §2.2: `Client-Cert` is one Byte Sequence holding the DER certificate. */
async function clientCertHeaderThumbprint(value: string): Promise<string> {
  const invalid = (cause?: unknown) =>
    processingError("invalid Client-Cert HTTP Header", INVALID_REQUEST, {
      header: "client-cert",
      ...(cause === undefined ? {} : { cause }),
    });
  if (!SF_BINARY.test(value)) throw invalid();
  try {
    return await calculateCertificateThumbprint(value);
  } catch (cause) {
    if (cause instanceof TypeError) throw invalid(cause);
    throw cause;
  }
}
