/**
 * Resource-server verification of the DPoP proof that accompanies a DPoP-bound access token:
 * the checklist of RFC 9449 §4.3, the binding preconditions of §7.1 (the `DPoP` scheme, a token
 * with `cnf.jkt`), and the `iat` acceptance window of §11.1. Used by `validateJwtAccessToken`.
 *
 * Every defect of the proof is `INVALID_RESPONSE`, the code oauth4webapi reports for it (it
 * reassigns its resource-server `INVALID_REQUEST`s to `INVALID_RESPONSE` at this step), so
 * callers that switch on the code behave the same on both libraries.
 *
 * @module
 */

import { isJsonObject, parseUrl } from "./_assert.ts";
import {
  type DecodedJws,
  decodeJws,
  importPublicJwk,
  jwkThumbprint,
  sha256Base64Url,
  SUPPORTED_ALGS,
  verifySignature,
} from "./_jose.ts";
import { checkTyp, requireClaims } from "./_jwt.ts";
import { clientTime, type ClockOptions, toleranceOf } from "./_time.ts";
import {
  INVALID_RESPONSE,
  JWT_CLAIM_COMPARISON,
  JWT_TIMESTAMP_CHECK,
  OperationProcessingError,
  processingError,
  unsupported,
  UnsupportedOperationError,
} from "./errors.ts";
import { selectCandidates } from "./jwks.ts";
import type { JsonObject, JWK } from "./types.ts";

/** Seconds a DPoP proof stays acceptable after its `iat` (RFC 9449 §11.1). */
export const DPOP_PROOF_MAX_AGE = 300;

/** Required claims of a DPoP proof presented with an access token (RFC 9449 §4.2). */
const PROOF_CLAIMS = ["iat", "jti", "htm", "htu", "ath"] as const;

/** String claims of a DPoP proof presented with an access token (RFC 9449 §4.2). */
const PROOF_STRING_CLAIMS = ["jti", "htm", "htu", "ath"] as const;

/** JWK members that only a private or symmetric key has (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"] as const;

/**
 * RFC 9449 §4.3 and §7.1: verifies the DPoP proof of a request carrying a DPoP-bound access
 * token, in the order of §4.3's checklist where one check does not need another's result.
 *
 * @param request The resource request; its `DPoP` header, method and URL are read.
 * @param scheme The `Authorization` scheme the token came with.
 * @param token The access token, for the `ath` check.
 * @param claims The access token's validated claims, for `cnf.jkt`.
 * @param allowed The accepted proof `alg` values.
 * @param clock `[clockSkew]` and `[clockTolerance]` for the `iat` check.
 */
export async function checkDPoP(
  request: Request,
  scheme: "bearer" | "dpop",
  token: string,
  claims: JsonObject,
  allowed: readonly string[],
  clock?: ClockOptions,
): Promise<void> {
  const proof = readProofHeader(request, scheme);
  const jkt = boundThumbprint(claims);
  const jws = decodeProof(proof); // (2)
  const alg = checkProofHeader(jws.header, allowed); // (4), (5)
  const jwk = await checkProofSignature(jws, alg); // (7), (6)
  const proofClaims = checkProofClaims(jws.claims); // (3)
  checkHtm(proofClaims, request.method); // (8)
  checkHtu(proofClaims, request.url); // (9)
  checkIat(proofClaims, clock); // (11)
  await checkAth(proofClaims, token); // (12)
  await checkKeyBinding(jws.header, jwk, jkt, claims); // (12)
}

function invalidProof(message: string, cause: Record<string, unknown>): OperationProcessingError {
  return processingError(message, INVALID_RESPONSE, cause);
}

/**
 * RFC 9449 §7.1: a DPoP-bound token comes with the `DPoP` scheme and a proof; §4.3 (1): exactly
 * one `DPoP` header.
 */
function readProofHeader(request: Request, scheme: "bearer" | "dpop"): string {
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
  return proof;
}

/** RFC 9449 §7.1, §6.1: a DPoP-bound token carries the thumbprint of its key in `cnf.jkt`. */
function boundThumbprint(claims: JsonObject): string {
  const jkt = isJsonObject(claims.cnf) ? claims.cnf.jkt : undefined;
  if (typeof jkt !== "string") {
    throw invalidProof(
      "operation indicated DPoP use but the JWT Access Token has no jkt confirmation claim",
      { claims },
    );
  }
  return jkt;
}

/**
 * RFC 9449 §4.3 (1), (2): one well-formed compact JWS. `Headers` joins repeated fields with
 * ", ", and a compact JWS holds neither character.
 */
function decodeProof(proof: string): DecodedJws {
  if (proof.includes(",") || proof.includes(" ")) {
    throw invalidProof("the request must carry exactly one DPoP HTTP Header", { header: "dpop" });
  }
  return decodeJws(proof);
}

/** RFC 9449 §4.3 (4) `typ` is `dpop+jwt`; (5) `alg` is accepted and supported. */
function checkProofHeader(header: JsonObject, allowed: readonly string[]): string {
  checkTyp(header, "dpop+jwt", INVALID_RESPONSE);
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
  return alg;
}

/** RFC 9449 §4.3 (7): the `jwk` header is a public key fit for `alg`; (6) it verifies the proof. */
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

/** RFC 9449 §4.3 (3): the claims of §4.2, with `ath` since a token is presented, and typed. */
function checkProofClaims(proofClaims: JsonObject): JsonObject {
  requireClaims(proofClaims, PROOF_CLAIMS, INVALID_RESPONSE);
  for (const name of PROOF_STRING_CLAIMS) {
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
  return proofClaims;
}

/** RFC 9449 §4.3 (8): `htm` is the request method. */
function checkHtm(proofClaims: JsonObject, method: string): void {
  if (proofClaims.htm !== method) {
    throw processingError("DPoP Proof htm mismatch", JWT_CLAIM_COMPARISON, {
      claims: proofClaims,
      claim: "htm",
      expected: method,
    });
  }
}

/**
 * RFC 9449 §4.3 (9): `htu` is the request URL without query and fragment, after URL
 * normalisation (RFC 3986 §6.2.2, §6.2.3).
 */
function checkHtu(proofClaims: JsonObject, requestUrl: string): void {
  const expected = normalizeHtu(requestUrl);
  if (normalizeHtu(proofClaims.htu as string) !== expected) {
    throw processingError("DPoP Proof htu mismatch", JWT_CLAIM_COMPARISON, {
      claims: proofClaims,
      claim: "htu",
      expected,
    });
  }
}

function normalizeHtu(value: string): string | undefined {
  const url = parseUrl(value);
  if (url === null) return undefined;
  url.search = "";
  url.hash = "";
  return url.href;
}

/**
 * RFC 9449 §4.3 (11), §11.1: `iat` is at most {@link DPOP_PROOF_MAX_AGE} seconds old and not in
 * the future beyond `[clockTolerance]`.
 */
function checkIat(proofClaims: JsonObject, clock?: ClockOptions): void {
  const iat = proofClaims.iat as number;
  const now = clientTime(clock);
  const tolerance = toleranceOf(clock);
  if (iat < now - DPOP_PROOF_MAX_AGE || iat > now + tolerance) {
    throw processingError("DPoP Proof iat is not recent enough", JWT_TIMESTAMP_CHECK, {
      claims: proofClaims,
      claim: "iat",
      now,
      tolerance,
      maxAge: DPOP_PROOF_MAX_AGE,
    });
  }
}

/** RFC 9449 §4.3 (12): `ath` is the base64url SHA-256 hash of the access token. */
async function checkAth(proofClaims: JsonObject, token: string): Promise<void> {
  const ath = await sha256Base64Url(token);
  if (proofClaims.ath !== ath) {
    throw processingError("DPoP Proof ath mismatch", JWT_CLAIM_COMPARISON, {
      claims: proofClaims,
      claim: "ath",
      expected: ath,
    });
  }
}

/** RFC 9449 §4.3 (12), §6.1: the proof's key is the one the token is bound to (`cnf.jkt`). */
async function checkKeyBinding(
  header: JsonObject,
  jwk: JWK,
  jkt: string,
  claims: JsonObject,
): Promise<void> {
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
