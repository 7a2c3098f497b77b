/**
 * The JWS algorithms authlane knows, one entry each (RFC 7518 §3, RFC 8037 §3.1, RFC 9864,
 * draft-ietf-cose-dilithium): the key type and curve of their keys, the Web Crypto parameters of
 * key import, key generation, signing and verifying, the hash of the OpenID Connect `at_hash`,
 * `c_hash` and `s_hash` claims, the smallest RSA modulus, and whether authlane verifies, signs and
 * generates keys with each. Every decision the library or the CLI makes per algorithm reads this
 * table; adding or removing an algorithm is one entry here (and one member of `JWSAlgorithm`).
 *
 * @module
 */

import type { JWSAlgorithm } from "./types.ts";

/** What authlane knows about one JWS algorithm: an entry of {@link JWS_ALGORITHMS}. */
export interface JWSAlgorithmInfo {
  /** The JWK `kty` of its keys (RFC 7518 §6.1, RFC 8037 §2, `AKP` for ML-DSA). */
  readonly kty: "RSA" | "EC" | "OKP" | "AKP";
  /** The JWK `crv` of its keys, for `EC` and `OKP` keys. */
  readonly crv?: "P-256" | "P-384" | "P-521" | "Ed25519";
  /**
   * The Web Crypto algorithm of its keys, as `importKey()` takes it; `generateKey()` takes the
   * same with `modulusLength` and `publicExponent` added for RSA.
   */
  readonly key: Readonly<RsaHashedImportParams | EcKeyImportParams | Algorithm>;
  /** The Web Crypto parameters of `sign()` and `verify()`. */
  readonly signature: Readonly<RsaPssParams | EcdsaParams | Algorithm>;
  /**
   * The Web Crypto digest whose left half is an ID token's `at_hash`, `c_hash` or `s_hash`
   * (OpenID Connect Core §3.1.3.6, §3.3.2.11): SHA-2 of the algorithm's size, SHA-512 for
   * Ed25519, SHAKE256 with a 512-bit output for ML-DSA (as oauth4webapi 3.8).
   */
  readonly halfHash: Readonly<AlgorithmIdentifier>;
  /** The smallest RSA modulus, in bits, for verifying and signing (RFC 7518 §3.3, §3.5). */
  readonly minModulusLength?: number;
  /** authlane verifies signatures made with it (ID tokens, JWKS keys, DPoP proofs, …). */
  readonly verify: boolean;
  /**
   * authlane names it when it signs with a key of its kind (client assertions, request objects,
   * DPoP proofs). `EdDSA` is not: an Ed25519 key signs as `Ed25519` (RFC 9864 deprecates
   * `EdDSA`), though a `[modifyAssertion]` may still write `EdDSA` into the header.
   */
  readonly sign: boolean;
  /** `generateKeyPair()` makes keys for it, where the runtime's Web Crypto can. */
  readonly generate: boolean;
  /** Where it is defined. */
  readonly spec: string;
}

const SHA_256 = "SHA-256";
const SHA_384 = "SHA-384";
const SHA_512 = "SHA-512";
/** SHAKE256 with a 512-bit output, the hash inside ML-DSA (FIPS 204); both spellings of length. */
const SHAKE_256 = Object.freeze({ name: "cSHAKE256", length: 512, outputLength: 512 });

/** RFC 7518 §3.3 (`RS*`) and §3.5 (`PS*`). */
function rsa(hash: string, pss: boolean): JWSAlgorithmInfo {
  const name = pss ? "RSA-PSS" : "RSASSA-PKCS1-v1_5";
  const bits = Number(hash.slice(4));
  return Object.freeze({
    kty: "RSA",
    key: Object.freeze({ name, hash }),
    // RFC 7518 §3.5: the salt is as long as the hash output.
    signature: Object.freeze(pss ? { name, saltLength: bits / 8 } as RsaPssParams : { name }),
    halfHash: hash,
    minModulusLength: 2048,
    verify: true,
    sign: true,
    generate: true,
    spec: pss ? "RFC 7518 §3.5" : "RFC 7518 §3.3",
  });
}

/** RFC 7518 §3.4: ECDSA on a NIST curve with the matching SHA-2. */
function ecdsa(crv: "P-256" | "P-384" | "P-521", hash: string): JWSAlgorithmInfo {
  return Object.freeze({
    kty: "EC",
    crv,
    key: Object.freeze({ name: "ECDSA", namedCurve: crv } as EcKeyImportParams),
    signature: Object.freeze({ name: "ECDSA", hash } as EcdsaParams),
    halfHash: hash,
    verify: true,
    sign: true,
    generate: true,
    spec: "RFC 7518 §3.4",
  });
}

/** Ed25519 signatures, under their fully specified name or the deprecated polymorphic `EdDSA`. */
function ed25519(sign: boolean, spec: string): JWSAlgorithmInfo {
  return Object.freeze({
    kty: "OKP",
    crv: "Ed25519",
    key: Object.freeze({ name: "Ed25519" }),
    signature: Object.freeze({ name: "Ed25519" }),
    halfHash: SHA_512,
    verify: true,
    sign,
    generate: true,
    spec,
  });
}

/** ML-DSA (FIPS 204) with an `AKP` key whose `alg` names the parameter set. */
function mlDsa(name: "ML-DSA-44" | "ML-DSA-65" | "ML-DSA-87"): JWSAlgorithmInfo {
  return Object.freeze({
    kty: "AKP",
    key: Object.freeze({ name }),
    signature: Object.freeze({ name }),
    halfHash: SHAKE_256,
    verify: true,
    sign: true,
    generate: true,
    spec: "draft-ietf-cose-dilithium",
  });
}

/**
 * Every JWS algorithm authlane supports, with what it needs to verify, sign and generate keys for
 * it. The members are those of {@link JWSAlgorithm}, and oauth4webapi 3.8's: RSASSA-PKCS1-v1_5
 * and RSASSA-PSS with SHA-2 (2048-bit moduli or more), ECDSA on P-256/P-384/P-521, Ed25519 (also
 * as `EdDSA`), and ML-DSA-44/65/87 where the runtime's Web Crypto implements ML-DSA (Deno 2.9
 * does). `none` and the HMAC algorithms are not here: authlane never verifies with them, and signs
 * with HMAC only for `ClientSecretJwt`. The table is frozen, down to the Web Crypto parameters.
 *
 * @example Which algorithms can I generate keys for?
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const algs = Object.entries(oauth.JWS_ALGORITHMS)
 *   .filter(([, info]) => info.generate)
 *   .map(([alg]) => alg);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7518#section-3.1 | RFC 7518 §3.1}
 * @see {@link https://www.rfc-editor.org/rfc/rfc9864 | RFC 9864}
 */
export const JWS_ALGORITHMS: Readonly<Record<JWSAlgorithm, JWSAlgorithmInfo>> = Object.freeze(
  {
    RS256: rsa(SHA_256, false),
    RS384: rsa(SHA_384, false),
    RS512: rsa(SHA_512, false),
    PS256: rsa(SHA_256, true),
    PS384: rsa(SHA_384, true),
    PS512: rsa(SHA_512, true),
    ES256: ecdsa("P-256", SHA_256),
    ES384: ecdsa("P-384", SHA_384),
    ES512: ecdsa("P-521", SHA_512),
    Ed25519: ed25519(true, "RFC 9864"),
    EdDSA: ed25519(false, "RFC 8037 §3.1"),
    "ML-DSA-44": mlDsa("ML-DSA-44"),
    "ML-DSA-65": mlDsa("ML-DSA-65"),
    "ML-DSA-87": mlDsa("ML-DSA-87"),
  } satisfies Record<JWSAlgorithm, JWSAlgorithmInfo>,
);

/** The entry of `alg`, or `undefined` when authlane does not know it (`none`, `HS256`, …). */
export function jwsAlgorithm(alg: unknown): JWSAlgorithmInfo | undefined {
  return typeof alg === "string" && Object.hasOwn(JWS_ALGORITHMS, alg)
    ? JWS_ALGORITHMS[alg as JWSAlgorithm]
    : undefined;
}

/** The algorithms whose entry says yes to `use`, in the table's order. */
export function algorithmsFor(use: "verify" | "sign" | "generate"): JWSAlgorithm[] {
  return (Object.keys(JWS_ALGORITHMS) as JWSAlgorithm[]).filter((alg) => JWS_ALGORITHMS[alg][use]);
}

/**
 * The HMAC algorithms of `client_secret_jwt` (RFC 7518 §3.2, RFC 7523) and their hashes. authlane
 * signs with them only; it never verifies a server's signature with a shared secret.
 */
export const HMAC_ALGORITHMS: Readonly<Record<string, string>> = Object.freeze({
  HS256: SHA_256,
  HS384: SHA_384,
  HS512: SHA_512,
});
