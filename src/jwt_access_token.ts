/**
 * Resource-server validation of JWT access tokens: the JWT profile (RFC 9068 §4) of tokens sent in
 * the `Authorization` header (RFC 6750 §2.1), with proof-of-possession for DPoP-bound tokens
 * (RFC 9449 §4.3, §7) and certificate-bound tokens (RFC 8705 §3, with the RFC 9440 `Client-Cert`
 * header as an opt-in certificate source).
 *
 * @module
 */

import { assertAs, assertNonEmptyString, isJsonObject, parseUrl } from "./_assert.ts";
import type { HttpOptions } from "./_http.ts";
import {
  type DecodedJws,
  decodeJws,
  importPublicJwk,
  jwkThumbprint,
  sha256Base64Url,
  SUPPORTED_ALGS,
  verifySignature,
} from "./_jose.ts";
import {
  checkAlg,
  checkAudience,
  checkClaimTypes,
  checkIssuer,
  checkTimestamps,
  requireClaims,
  verifyWithServerKeys,
} from "./_jwt.ts";
import { clientTime, toleranceOf } from "./_time.ts";
import { calculateCertificateThumbprint } from "./certificate.ts";
import {
  argError,
  INVALID_REQUEST,
  INVALID_RESPONSE,
  JWT_CLAIM_COMPARISON,
  JWT_TIMESTAMP_CHECK,
  type OAuthErrorCode,
  OperationProcessingError,
  processingError,
  unsupported,
  UnsupportedOperationError,
} from "./errors.ts";
import { selectCandidates } from "./jwks.ts";
import type { clockSkew, clockTolerance } from "./symbols.ts";
import type {
  AuthorizationDetails,
  AuthorizationServer,
  HttpRequestOptions,
  JsonObject,
  JsonValue,
  JWK,
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
export const DPOP_PROOF_MAX_AGE = 300;

const DEFAULT_SIGNING_ALGS: readonly string[] = [...SUPPORTED_ALGS];

/** Required claims of a JWT access token (RFC 9068 §2.2). */
const REQUIRED_CLAIMS = ["iss", "exp", "aud", "sub", "iat", "jti", "client_id"] as const;

/** Required claims of a DPoP proof presented with an access token (RFC 9449 §4.2). */
const PROOF_CLAIMS = ["iat", "jti", "htm", "htu", "ath"] as const;

/** JWK members that only a private or symmetric key has (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"] as const;

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
 *   `Authorization` header, a non-string `sub`/`jti`/`client_id`, a malformed `cnf`, a missing,
 *   repeated or invalid DPoP proof (bad `typ`, `alg`, `jwk`, signature or claim), a DPoP-bound
 *   token sent with `Bearer`, or a certificate-bound token without a certificate;
 *   `INVALID_RESPONSE` for a bad `typ` or `alg` of the token, a failed signature, a missing or
 *   mistyped claim, or a token that is not a compact JWS (a malformed proof is `INVALID_REQUEST`);
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
  const allowed = signingAlgorithmsOf(options);
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
  checkIssuer(claims, as.issuer);
  checkAudience(claims, expectedAudience);
  checkTimestamps(claims, options);

  const confirmation = confirmationMethodOf(claims);
  if (
    options?.requireDPoP === true || scheme === "dpop" || confirmation === "jkt" ||
    request.headers.has("dpop")
  ) {
    await checkDPoP(request, scheme, token, claims, allowed, options);
  }
  if (confirmation === "x5t#S256") {
    await checkCertificateBinding(request, claims, presented, options);
  }
  return claims as JWTAccessTokenClaims;
}

function signingAlgorithmsOf(options?: ValidateJWTAccessTokenOptions): readonly string[] {
  const value = options?.signingAlgorithms;
  if (value === undefined) return DEFAULT_SIGNING_ALGS;
  if (!Array.isArray(value) || value.some((alg) => typeof alg !== "string")) {
    throw argError('"options.signingAlgorithms" must be an array of strings');
  }
  if (value.length === 0) {
    throw argError('"options.signingAlgorithms" must not be empty', "ERR_INVALID_ARG_VALUE");
  }
  return value;
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
 * Checks an explicit `typ` (RFC 8725 §3.11). Media types are case-insensitive and the
 * `application/` prefix may be omitted (RFC 7515 §4.1.9).
 */
function checkTyp(header: JsonObject, expected: string, code: OAuthErrorCode): void {
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

function invalidProof(message: string, cause: Record<string, unknown>): OperationProcessingError {
  return processingError(message, INVALID_REQUEST, cause);
}

/** RFC 9449 §4.3 and §7.1: the DPoP proof of a request carrying a DPoP-bound access token. */
async function checkDPoP(
  request: Request,
  scheme: "bearer" | "dpop",
  token: string,
  claims: JsonObject,
  allowed: readonly string[],
  options?: ValidateJWTAccessTokenOptions,
): Promise<void> {
  const proof = request.headers.get("dpop");
  if (proof === null) {
    throw invalidProof("operation indicated DPoP use but the request has no DPoP HTTP Header", {
      header: "dpop",
    });
  }
  if (scheme !== "dpop") {
    throw invalidProof(
      "operation indicated DPoP use but the request's Authorization HTTP Header scheme is not DPoP",
      { header: "authorization", scheme },
    );
  }
  const jkt = isJsonObject(claims.cnf) ? claims.cnf.jkt : undefined;
  if (typeof jkt !== "string") {
    throw invalidProof(
      "operation indicated DPoP use but the JWT Access Token has no jkt confirmation claim",
      { claims },
    );
  }
  // (1) Headers joins repeated fields with ", "; a compact JWS holds neither character.
  if (proof.includes(",") || proof.includes(" ")) {
    throw invalidProof("the request must carry exactly one DPoP HTTP Header", { header: "dpop" });
  }
  // (2) a single well-formed JWT, (4) typ, (5) alg.
  const jws = decodeProof(proof);
  const header = jws.header;
  checkTyp(header, "dpop+jwt", INVALID_REQUEST);
  const alg = header.alg as string;
  if (!allowed.includes(alg)) {
    throw invalidProof('unexpected DPoP Proof "alg" header parameter', {
      header,
      expected: allowed,
    });
  }
  if (!SUPPORTED_ALGS.has(alg)) {
    throw unsupported(`unsupported JWS "alg" identifier ${JSON.stringify(alg)}`, { header });
  }
  // (7) a public key, (6) that verifies the signature.
  const jwk = await checkProofSignature(jws, alg);
  // (3) required claims.
  const proofClaims = jws.claims;
  requireClaims(proofClaims, PROOF_CLAIMS, INVALID_REQUEST);
  for (const name of ["jti", "htm", "htu", "ath"] as const) {
    const value = proofClaims[name];
    if (typeof value !== "string" || value.length === 0) {
      throw invalidProof(`unexpected JWT "${name}" claim type`, {
        claims: proofClaims,
        claim: name,
      });
    }
  }
  const iat = proofClaims.iat;
  if (typeof iat !== "number" || !Number.isFinite(iat)) {
    throw invalidProof('unexpected JWT "iat" claim type', { claims: proofClaims, claim: "iat" });
  }
  // (8) htm.
  if (proofClaims.htm !== request.method) {
    throw processingError("DPoP Proof htm mismatch", JWT_CLAIM_COMPARISON, {
      claims: proofClaims,
      claim: "htm",
      expected: request.method,
    });
  }
  // (9) htu, without query and fragment, after URL normalisation (RFC 3986 §6.2.2, §6.2.3).
  const expectedHtu = normalizeHtu(request.url);
  if (normalizeHtu(proofClaims.htu as string) !== expectedHtu) {
    throw processingError("DPoP Proof htu mismatch", JWT_CLAIM_COMPARISON, {
      claims: proofClaims,
      claim: "htu",
      expected: expectedHtu,
    });
  }
  // (11) iat within the acceptance window (RFC 9449 §11.1).
  const now = clientTime(options);
  const tolerance = toleranceOf(options);
  if (iat < now - DPOP_PROOF_MAX_AGE || iat > now + tolerance) {
    throw processingError("DPoP Proof iat is not recent enough", JWT_TIMESTAMP_CHECK, {
      claims: proofClaims,
      claim: "iat",
      now,
      tolerance,
      maxAge: DPOP_PROOF_MAX_AGE,
    });
  }
  // (12) ath, and the key the token is bound to.
  const ath = await sha256Base64Url(token);
  if (proofClaims.ath !== ath) {
    throw processingError("DPoP Proof ath mismatch", JWT_CLAIM_COMPARISON, {
      claims: proofClaims,
      claim: "ath",
      expected: ath,
    });
  }
  let thumbprint: string;
  try {
    thumbprint = await jwkThumbprint(jwk);
  } catch (cause) {
    throw invalidProof("DPoP Proof jwk header parameter has no RFC 7638 thumbprint", {
      header,
      cause,
    });
  }
  if (thumbprint !== jkt) {
    throw processingError("JWT Access Token confirmation mismatch", JWT_CLAIM_COMPARISON, {
      claims,
      claim: "cnf.jkt",
      expected: thumbprint,
    });
  }
}

/** Decodes the proof; a malformed one is a defect of the request, not of a server's response. */
function decodeProof(proof: string): DecodedJws {
  try {
    return decodeJws(proof);
  } catch (cause) {
    if (cause instanceof OperationProcessingError && cause.code === INVALID_RESPONSE) {
      throw invalidProof("DPoP Proof is not a well-formed compact JWS", { cause });
    }
    throw cause;
  }
}

/** RFC 9449 §4.3 (6), (7): the `jwk` header is a public key fit for `alg` and verifies the proof. */
async function checkProofSignature(jws: DecodedJws, alg: string): Promise<JWK> {
  const header = jws.header;
  const jwk = header.jwk;
  if (!isJsonObject(jwk)) {
    throw invalidProof("DPoP Proof jwk header parameter must be a JSON object", { header });
  }
  if (jwk.kty === "oct" || PRIVATE_JWK_MEMBERS.some((member) => jwk[member] !== undefined)) {
    throw invalidProof("DPoP Proof jwk header parameter must contain a public key", {
      header: { ...header, jwk: { kty: jwk.kty } },
    });
  }
  if (selectCandidates([jwk as JWK], alg, undefined).length !== 1) {
    throw invalidProof('DPoP Proof jwk header parameter does not fit its "alg"', { header });
  }
  let key: CryptoKey;
  try {
    key = await importPublicJwk(jwk as JWK, alg);
  } catch (cause) {
    if (!(cause instanceof UnsupportedOperationError)) throw cause;
    throw invalidProof("DPoP Proof jwk header parameter is not a usable public key", {
      header,
      cause,
    });
  }
  try {
    await verifySignature(jws, alg, key);
  } catch (cause) {
    if (!(cause instanceof OperationProcessingError)) throw cause;
    throw invalidProof("DPoP Proof signature verification failed", { header });
  }
  return jwk as JWK;
}

function normalizeHtu(value: string): string | undefined {
  const url = parseUrl(value);
  if (url === null) return undefined;
  url.search = "";
  url.hash = "";
  return url.href;
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
