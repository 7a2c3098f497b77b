/**
 * JOSE mechanics (RFC 7515, RFC 7518, RFC 7519, RFC 7638): compact JWS parsing, signature creation
 * and verification, JWK import with a per-JWK cache, key-to-`alg` mapping and JWK thumbprints.
 * No `jose` at run time: key import and export, signing, verifying and RFC 7638 thumbprints are a
 * few Web Crypto calls each, and jose's modules cost about 9 ms of every cold start (hyperfine,
 * README "Performance"). The tests check these functions against jose (tests/jose_test.ts).
 *
 * Signing and verifying call Web Crypto directly on cached keys: that is the hot path (ID token,
 * JWT access token, DPoP), and the JWS signing input is simple enough that a second parse of the
 * header would only cost time.
 *
 * @module
 */

import { isJsonObject } from "./_assert.ts";
import {
  base64UrlToText,
  fromBase64Url,
  textToBase64Url,
  toBase64Url,
  toBytes,
} from "./_encoding.ts";
import { argError, INVALID_RESPONSE, PARSE_ERROR, processingError, unsupported } from "./errors.ts";
import {
  algorithmsFor,
  HMAC_ALGORITHMS,
  JWS_ALGORITHMS,
  jwsAlgorithm,
  type JWSAlgorithmInfo,
} from "./jws_algorithms.ts";
import type { JsonObject, JsonValue, JWK, JWSAlgorithm } from "./types.ts";

/** What verifying a compact JWS needs: its header, signing input and signature. */
export interface SignedJws {
  /** The protected header. */
  header: JsonObject;
  /** The ASCII bytes of `header.payload`, the JWS signing input. */
  signingInput: Uint8Array<ArrayBuffer>;
  /** The decoded signature. */
  signature: Uint8Array<ArrayBuffer>;
}

/** A parsed compact JWS. */
export interface DecodedJws extends SignedJws {
  /** The payload, parsed as a JSON object. */
  claims: JsonObject;
  /**
   * The compact JWS itself: what a response remembers for a later signature check
   * ({@link decodeSigned} reads it again then), so a response that stays alive keeps one string
   * and not the parsed header and claims.
   */
  readonly compact: string;
}

const SUPPORTED_CRIT = new Set<string>();

/** base64url without padding or whitespace: always decodes (RFC 4648 §5, RFC 7515 §2). */
const PLAIN_BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeSegment(segment: string, what: string): Uint8Array<ArrayBuffer> {
  try {
    return fromBase64Url(segment);
  } catch (cause) {
    throw processingError(`failed to base64url-decode the JWT ${what}`, PARSE_ERROR, cause);
  }
}

function parseSegmentJson(segment: string, what: string): JsonObject {
  let text: string;
  try {
    text = base64UrlToText(segment);
  } catch (cause) {
    throw processingError(`failed to base64url-decode the JWT ${what}`, PARSE_ERROR, cause);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    if (cause instanceof Error && "code" in cause && cause.code === PARSE_ERROR) throw cause;
    throw processingError(`failed to parse the JWT ${what} as JSON`, PARSE_ERROR, cause);
  }
  if (!isJsonObject(value)) {
    // oauth4webapi's code for the same check ("JWT Header/Payload must be a top level object").
    throw processingError(`JWT ${what} must be a top level object`, INVALID_RESPONSE);
  }
  return value;
}

/**
 * Parses a compact JWS whose payload is a JSON object. An unknown `crit` extension (RFC 7515
 * §4.1.11), `b64: false` (RFC 7797) and the unsecured `alg: "none"` are refused here, so no
 * caller can forget them.
 */
export function decodeJws(jws: string): DecodedJws {
  if (typeof jws !== "string") {
    throw processingError("JWT must be a string", PARSE_ERROR);
  }
  const first = jws.indexOf(".");
  const second = first === -1 ? -1 : jws.indexOf(".", first + 1);
  if (first === -1 || second === -1 || jws.indexOf(".", second + 1) !== -1) {
    if (jws.split(".").length === 5) {
      throw unsupported("JWE was received but no decryption is configured ([jweDecrypt])");
    }
    throw processingError("JWT must have three dot-separated segments", INVALID_RESPONSE);
  }
  // RFC 7515 §2: base64url "with all trailing '=' characters omitted"; padding is no JWS.
  if (jws.includes("=")) {
    throw processingError("JWT segments must be base64url without padding", PARSE_ERROR);
  }
  const header = parseSegmentJson(jws.slice(0, first), "header");
  assertSupportedHeader(header);
  const claims = parseSegmentJson(jws.slice(first + 1, second), "payload");
  // The signature is decoded and the signing input encoded only when a signature is verified:
  // the claims-only paths (an ID token trusted on TLS) never need them. A signature segment that
  // is not plainly base64url is decoded now, so a malformed one still fails here, as before.
  const encodedSignature = jws.slice(second + 1);
  const decoded = new LazyJws(header, claims, jws, second);
  if (!PLAIN_BASE64URL.test(encodedSignature) || encodedSignature.length % 4 === 1) {
    void decoded.signature;
  }
  return decoded;
}

/** A {@link SignedJws} whose signature and signing input are made on first use. */
class LazySigned implements SignedJws {
  header: JsonObject;
  #jws: string;
  #second: number;
  #signature: Uint8Array<ArrayBuffer> | undefined;
  #signingInput: Uint8Array<ArrayBuffer> | undefined;

  constructor(header: JsonObject, jws: string, second: number) {
    this.header = header;
    this.#jws = jws;
    this.#second = second;
  }

  get signature(): Uint8Array<ArrayBuffer> {
    return this.#signature ??= decodeSegment(this.#jws.slice(this.#second + 1), "signature");
  }

  get signingInput(): Uint8Array<ArrayBuffer> {
    return this.#signingInput ??= toBytes(this.#jws.slice(0, this.#second));
  }

  get compact(): string {
    return this.#jws;
  }
}

/** A {@link DecodedJws}: a {@link LazySigned} with the claims. */
class LazyJws extends LazySigned implements DecodedJws {
  claims: JsonObject;

  constructor(header: JsonObject, claims: JsonObject, jws: string, second: number) {
    super(header, jws, second);
    this.claims = claims;
  }
}

/**
 * The header, signing input and signature of a compact JWS that {@link decodeJws} accepted
 * before (its {@link DecodedJws.compact}), read again for a signature check.
 */
export function decodeSigned(jws: string): SignedJws {
  const first = jws.indexOf(".");
  const second = jws.indexOf(".", first + 1);
  return new LazySigned(parseSegmentJson(jws.slice(0, first), "header"), jws, second);
}

function assertSupportedHeader(header: JsonObject): void {
  if (typeof header.alg !== "string" || header.alg.length === 0) {
    throw processingError(
      'JWT "alg" header parameter must be a non-empty string',
      INVALID_RESPONSE,
      {
        header,
      },
    );
  }
  if (header.alg === "none") {
    throw unsupported('unsecured JWTs ("alg": "none") are not supported', { header });
  }
  if (header.b64 !== undefined && header.b64 !== true) {
    throw unsupported('JWS "b64" header parameter values other than true are not supported', {
      header,
    });
  }
  if (header.crit !== undefined) {
    const crit = header.crit;
    if (
      !Array.isArray(crit) || crit.length === 0 || crit.some((name) => typeof name !== "string")
    ) {
      throw processingError(
        'JWT "crit" header parameter must be a non-empty array of strings',
        PARSE_ERROR,
        {
          header,
        },
      );
    }
    for (const name of crit as string[]) {
      if (!SUPPORTED_CRIT.has(name) || header[name] === undefined) {
        throw unsupported('no JWT "crit" header parameter extensions are supported', { header });
      }
    }
  }
}

/** JWS algorithms authlane can verify (the table's `verify` column). */
export const SUPPORTED_ALGS: ReadonlySet<string> = new Set(algorithmsFor("verify"));

const keyAlgs = new WeakMap<CryptoKey, JWSAlgorithm>();

/**
 * Returns the JWS `alg` a private or public key signs or verifies with: the table entry that
 * authlane signs with whose key parameters (name, hash, curve) the key has. The parameters are
 * read from the key itself, as oauth4webapi does: a header `alg` (a caller's `[modifyAssertion]`,
 * a token's claim) never picks a hash or salt the key was not made for. RSA keys under the
 * entry's minimum modulus (2048 bits, RFC 7518 §3.3, §3.5) are refused.
 */
export function algFromKey(key: CryptoKey): JWSAlgorithm {
  const known = keyAlgs.get(key);
  if (known !== undefined) return known;
  const algorithm = key.algorithm as KeyAlgorithm & {
    hash?: { name: string };
    namedCurve?: string;
    modulusLength?: number;
  };
  for (const alg of algorithmsFor("sign")) {
    const info = JWS_ALGORITHMS[alg];
    const params = info.key as { name: string; hash?: string; namedCurve?: string };
    if (
      params.name === algorithm.name &&
      (params.hash === undefined || params.hash === algorithm.hash?.name) &&
      (params.namedCurve === undefined || params.namedCurve === algorithm.namedCurve)
    ) {
      const { modulusLength } = algorithm;
      if (
        info.minModulusLength !== undefined &&
        (typeof modulusLength !== "number" || modulusLength < info.minModulusLength)
      ) {
        throw unsupported(`unsupported ${algorithm.name} modulusLength`, {
          algorithm: algorithm.name,
          modulusLength,
        });
      }
      keyAlgs.set(key, alg);
      return alg;
    }
  }
  throw unsupported("unsupported CryptoKey algorithm", {
    algorithm: algorithm.name,
    hash: algorithm.hash?.name,
    namedCurve: algorithm.namedCurve,
  });
}

/** The Web Crypto sign/verify parameters of a key (see {@link algFromKey}). */
function signatureParams(key: CryptoKey): JWSAlgorithmInfo["signature"] {
  return JWS_ALGORITHMS[algFromKey(key)].signature;
}

/** Verifies a JWS signature; an invalid signature throws. */
export async function verifySignature(jws: SignedJws, alg: string, key: CryptoKey): Promise<void> {
  const params = signatureParams(key);
  let valid: boolean;
  try {
    valid = await crypto.subtle.verify(params, key, jws.signature, jws.signingInput);
  } catch (cause) {
    if (cause instanceof Error && "code" in cause) throw cause;
    throw processingError("JWT signature verification failed", INVALID_RESPONSE, {
      alg,
      cause,
    });
  }
  if (!valid) {
    throw processingError("JWT signature verification failed", INVALID_RESPONSE, {
      alg,
      kid: jws.header.kid,
    });
  }
}

/**
 * Signs a JWT with the algorithm of `key`. `header.alg` defaults to the key's; a caller's header
 * (after its `[modifyAssertion]`) may name another, as in oauth4webapi, but never changes how the
 * key signs.
 */
export async function signJwt(
  header: Record<string, JsonValue | undefined>,
  payload: Record<string, JsonValue | undefined>,
  key: CryptoKey,
): Promise<string> {
  if (!(key instanceof CryptoKey) || key.type !== "private") {
    throw argError("signing key must be a private CryptoKey");
  }
  if (!key.usages.includes("sign")) {
    throw argError('signing key must have "sign" in its usages', "ERR_INVALID_ARG_VALUE");
  }
  const params = signatureParams(key);
  const alg = typeof header.alg === "string" ? header.alg : algFromKey(key);
  const input = `${textToBase64Url(JSON.stringify({ ...header, alg }))}.${
    textToBase64Url(JSON.stringify(payload))
  }`;
  const signature = await crypto.subtle.sign(params, key, toBytes(input));
  return `${input}.${toBase64Url(signature)}`;
}

/** Signs with an HMAC key derived from a client secret (`client_secret_jwt`, RFC 7523). */
export async function signHmacJwt(
  header: Record<string, JsonValue | undefined>,
  payload: Record<string, JsonValue | undefined>,
  secret: string,
): Promise<string> {
  const alg = typeof header.alg === "string" ? header.alg : "HS256";
  const hash = Object.hasOwn(HMAC_ALGORITHMS, alg) ? HMAC_ALGORITHMS[alg] : undefined;
  if (hash === undefined) throw unsupported(`unsupported HMAC algorithm ${JSON.stringify(alg)}`);
  const key = await crypto.subtle.importKey("raw", toBytes(secret), { name: "HMAC", hash }, false, [
    "sign",
  ]);
  const input = `${textToBase64Url(JSON.stringify({ ...header, alg }))}.${
    textToBase64Url(JSON.stringify(payload))
  }`;
  const signature = await crypto.subtle.sign("HMAC", key, toBytes(input));
  return `${input}.${toBase64Url(signature)}`;
}

const importedKeys = new WeakMap<object, Map<string, Promise<CryptoKey>>>();

/**
 * Imports a public JWK for `alg`, once per JWK object and algorithm: the JWKS cache keeps the
 * same JWK objects, so repeated validations reuse the imported `CryptoKey`.
 */
export function importPublicJwk(jwk: JWK, alg: string): Promise<CryptoKey> {
  let perAlg = importedKeys.get(jwk);
  if (perAlg === undefined) {
    perAlg = new Map();
    importedKeys.set(jwk, perAlg);
  }
  let key = perAlg.get(alg);
  if (key === undefined) {
    key = importKey(jwk, alg);
    perAlg.set(alg, key);
    key.catch(() => perAlg.delete(alg));
  }
  return key;
}

/** The Web Crypto algorithm of the keys of a JWS algorithm (its table entry's `key`). */
export function importParams(alg: string): JWSAlgorithmInfo["key"] {
  const info = jwsAlgorithm(alg);
  if (info === undefined) {
    throw unsupported(`unsupported JWS algorithm ${JSON.stringify(alg)}`, { alg });
  }
  return info.key;
}

/**
 * The public members of each JWK key type, in lexicographic order: what a public key is imported
 * and exported with, and what its RFC 7638 thumbprint covers (RFC 7638 §3.2; for `AKP` the
 * parameter set's `alg` is part of the key, draft-ietf-cose-dilithium). `oct` has a thumbprint
 * but is never imported or exported here.
 */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  AKP: ["alg", "kty", "pub"],
  EC: ["crv", "kty", "x", "y"],
  OKP: ["crv", "kty", "x"],
  RSA: ["e", "kty", "n"],
  oct: ["k", "kty"],
};

function publicMembersOf(kty: unknown): readonly string[] | undefined {
  return typeof kty === "string" && Object.hasOwn(PUBLIC_MEMBERS, kty)
    ? PUBLIC_MEMBERS[kty]
    : undefined;
}

function pick(jwk: Record<string, unknown>, members: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of members) if (jwk[name] !== undefined) picked[name] = jwk[name];
  return picked;
}

/**
 * Imports the public members of a JWK with Web Crypto directly (RFC 7517 §4, RFC 7518 §6; no JOSE
 * library is loaded for it). Private members, `use`, `key_ops` and `ext` are left out, and `alg`
 * too except for `AKP` keys, whose `alg` names the parameter set: the key is checked against the
 * JWS algorithm by the import itself (key type, curve, hash, parameter set), and used only to
 * verify.
 */
async function importKey(jwk: JWK, alg: string): Promise<CryptoKey> {
  if (jwk.kty === "oct") throw unsupported("symmetric JWKs are not supported", { alg });
  try {
    if (typeof jwk.kty !== "string") throw new TypeError('JWK "kty" must be a string');
    const members = publicMembersOf(jwk.kty);
    if (members === undefined) throw new TypeError('unsupported JWK "kty"');
    return await crypto.subtle.importKey(
      "jwk",
      pick(jwk, members) as JsonWebKey,
      importParams(alg),
      false,
      ["verify"],
    );
  } catch (cause) {
    throw unsupported("the JWK could not be imported for this algorithm", {
      alg,
      kid: jwk.kid,
      kty: jwk.kty,
      cause,
    });
  }
}

/** Exports a public key as a JWK with only its public members. */
export async function exportPublicJwk(key: CryptoKey): Promise<JWK> {
  if (!key.extractable) {
    throw argError(
      "non-extractable CryptoKey cannot be exported as a JWK",
      "ERR_INVALID_ARG_VALUE",
    );
  }
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const members = jwk.kty === "oct" ? undefined : publicMembersOf(jwk.kty);
  if (members === undefined) throw unsupported("unsupported public key type", { kty: jwk.kty });
  return pick(jwk as Record<string, unknown>, members) as JWK;
}

/**
 * The RFC 7638 JWK SHA-256 thumbprint: the required members of the key type, in lexicographic
 * order, as JSON without whitespace (§3.1, §3.3), hashed and base64url-encoded. A member that is
 * missing or not a non-empty string, or a key type without registered members, is refused
 * (§3.2 leaves no room for defaults). Tested against jose's `calculateJwkThumbprint` on random keys.
 */
export async function jwkThumbprint(jwk: JWK): Promise<string> {
  const kty = isJsonObject(jwk) ? jwk.kty : undefined;
  const members = publicMembersOf(kty);
  if (members === undefined) {
    throw unsupported('unsupported JWK "kty" for an RFC 7638 thumbprint', { kty });
  }
  let json = "{";
  for (const name of members) {
    const value = (jwk as Record<string, unknown>)[name];
    if (typeof value !== "string" || value.length === 0) {
      throw argError(`JWK "${name}" must be a non-empty string`, "ERR_INVALID_ARG_VALUE");
    }
    // JSON.stringify escapes exactly as RFC 7638 §3.3 asks (no whitespace, minimal escapes).
    json += `${json.length === 1 ? "" : ","}"${name}":${JSON.stringify(value)}`;
  }
  return await digestBase64Url(toBytes(`${json}}`));
}

/**
 * The left half of a digest of ASCII text, base64url-encoded: an ID token's `at_hash`, `c_hash`
 * or `s_hash` (OpenID Connect Core §3.1.3.6, §3.3.2.11), with the digest of the token's `alg`.
 */
export async function halfHash(value: string, alg: string): Promise<string> {
  const info = jwsAlgorithm(alg);
  if (info === undefined) {
    throw unsupported(`unsupported JWS algorithm for hash claims ${JSON.stringify(alg)}`, { alg });
  }
  const digest = new Uint8Array(await crypto.subtle.digest(info.halfHash, toBytes(value)));
  return toBase64Url(digest.slice(0, digest.byteLength / 2));
}

/** SHA-256 of bytes or of a string's UTF-8, base64url-encoded (`ath`, `x5t#S256`). */
export function sha256Base64Url(input: string | Uint8Array<ArrayBuffer>): Promise<string> {
  return digestBase64Url(typeof input === "string" ? toBytes(input) : input);
}

async function digestBase64Url(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return toBase64Url(await crypto.subtle.digest("SHA-256", bytes));
}
