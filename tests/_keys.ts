/**
 * Test keys, generated once per process with Web Crypto (extractable), one per JWS algorithm the
 * suite exercises: ES256 (P-256), RS256 (RSA 2048), PS256 (RSA-PSS 2048), EdDSA (Ed25519) and
 * ES384 (P-384). Also a raw JWS signer (`signJws`) that signs whatever header and payload it is
 * given, so tests can build hostile tokens that a JOSE library would refuse to produce.
 *
 * ```ts
 * import { keys, generateTestKey } from "./_keys.ts";
 * keys.ES256.publicJwk; // { kty: "EC", crv: "P-256", x, y, kid: "es256", alg: "ES256", use: "sig" }
 * const stranger = await generateTestKey("ES256", "es256"); // same kid, different key
 * ```
 *
 * @module
 */

import type { JWK } from "@authlane/oauth";

/** The algorithms a test key exists for. */
export type TestAlg = "ES256" | "RS256" | "PS256" | "EdDSA" | "ES384";

/** Every {@link TestAlg}, ES256 (the fake server's default) first. */
export const testAlgs: readonly TestAlg[] = ["ES256", "RS256", "PS256", "EdDSA", "ES384"];

/** A signing key pair with its JWKs. */
export interface TestKey {
  /** The JWS `alg` this key signs with. */
  readonly alg: TestAlg;
  /** The key ID, also in both JWKs. */
  readonly kid: string;
  /** Private key (extractable). */
  readonly privateKey: CryptoKey;
  /** Public key (extractable). */
  readonly publicKey: CryptoKey;
  /** Public JWK with `kid`, `alg` and `use: "sig"`. */
  readonly publicJwk: JWK;
  /** Private JWK with `kid`, `alg` and `use: "sig"` (for servers such as oidc-provider). */
  readonly privateJwk: JWK;
}

/** One cached key per algorithm. */
export type TestKeys = { readonly [Alg in TestAlg]: TestKey };

/** Anything that can sign: a test key, an algorithm name (a cached key), or a bare private key. */
export type SigningKeyInput =
  | TestAlg
  | TestKey
  | { readonly privateKey: CryptoKey; readonly alg?: string; readonly kid?: string };

function generationParams(alg: TestAlg): RsaHashedKeyGenParams | EcKeyGenParams | Algorithm {
  const publicExponent = new Uint8Array([1, 0, 1]);
  switch (alg) {
    case "ES256":
      return { name: "ECDSA", namedCurve: "P-256" } satisfies EcKeyGenParams;
    case "ES384":
      return { name: "ECDSA", namedCurve: "P-384" } satisfies EcKeyGenParams;
    case "RS256":
      return { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent, hash: "SHA-256" };
    case "PS256":
      return { name: "RSA-PSS", modulusLength: 2048, publicExponent, hash: "SHA-256" };
    case "EdDSA":
      return { name: "Ed25519" };
  }
}

function toJwk(exported: JsonWebKey, kid: string, alg: TestAlg): JWK {
  const { key_ops: _ops, ext: _ext, alg: _alg, ...material } = exported;
  return { ...material, kid, alg, use: "sig" } as JWK;
}

/**
 * Generates a fresh, uncached key pair. Use it for "a key the server does not know", possibly with
 * the same `kid` as a published key.
 *
 * @param alg The algorithm.
 * @param kid The key ID; defaults to a random one.
 * @returns The key with its JWKs.
 */
export async function generateTestKey(alg: TestAlg, kid?: string): Promise<TestKey> {
  const pair = await crypto.subtle.generateKey(generationParams(alg), true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const id = kid ?? `${alg.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`;
  const [publicJwk, privateJwk] = await Promise.all([
    crypto.subtle.exportKey("jwk", pair.publicKey),
    crypto.subtle.exportKey("jwk", pair.privateKey),
  ]);
  return {
    alg,
    kid: id,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicJwk: toJwk(publicJwk, id, alg),
    privateJwk: toJwk(privateJwk, id, alg),
  };
}

async function generateTestKeys(): Promise<TestKeys> {
  const generated = await Promise.all(
    testAlgs.map((alg) => generateTestKey(alg, alg.toLowerCase())),
  );
  return Object.fromEntries(generated.map((key) => [key.alg, key])) as unknown as TestKeys;
}

/**
 * The cached test keys, one per algorithm; `kid` is the lowercased algorithm (`"es256"`,
 * `"rs256"`, `"ps256"`, `"eddsa"`, `"es384"`).
 */
export const keys: TestKeys = await generateTestKeys();

/**
 * Resolves a {@link SigningKeyInput}: an algorithm name picks the cached key.
 *
 * @param input The key or algorithm.
 * @returns The private key with its `alg` and `kid` (when known).
 */
export function resolveSigningKey(
  input: SigningKeyInput,
): { privateKey: CryptoKey; alg: string; kid?: string } {
  if (typeof input === "string") {
    const key = keys[input];
    if (!key) throw new TypeError(`no test key for ${input}`);
    return key;
  }
  return {
    privateKey: input.privateKey,
    alg: input.alg ?? algOf(input.privateKey),
    ...(input.kid === undefined ? {} : { kid: input.kid }),
  };
}

/**
 * Names the JWS algorithm a Web Crypto key signs with.
 *
 * @param key A signing key.
 * @returns The JWS `alg`.
 */
export function algOf(key: CryptoKey): string {
  const algorithm = key.algorithm as Partial<RsaHashedKeyAlgorithm & EcKeyAlgorithm>;
  const bits = algorithm.hash?.name.slice(4) ?? "";
  switch (algorithm.name) {
    case "ECDSA":
      return { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" }[algorithm.namedCurve ?? ""] ??
        "ES256";
    case "RSASSA-PKCS1-v1_5":
      return `RS${bits}`;
    case "RSA-PSS":
      return `PS${bits}`;
    case "Ed25519":
      return "EdDSA";
    case "HMAC":
      return `HS${bits}`;
    default:
      throw new TypeError(`unsupported test key algorithm ${algorithm.name}`);
  }
}

function webCryptoSignParams(key: CryptoKey): AlgorithmIdentifier | RsaPssParams | EcdsaParams {
  const algorithm = key.algorithm as Partial<RsaHashedKeyAlgorithm & EcKeyAlgorithm>;
  switch (algorithm.name) {
    case "ECDSA": {
      const hash = { "P-256": "SHA-256", "P-384": "SHA-384", "P-521": "SHA-512" }[
        algorithm.namedCurve ?? ""
      ] ?? "SHA-256";
      return { name: "ECDSA", hash };
    }
    case "RSA-PSS":
      return { name: "RSA-PSS", saltLength: Number(algorithm.hash?.name.slice(4) ?? 256) / 8 };
    default:
      return { name: algorithm.name ?? "" };
  }
}

/**
 * Base64url-encodes bytes or UTF-8 text (no padding).
 *
 * @param input Bytes or text.
 * @returns The encoding.
 */
export function b64u(input: Uint8Array | string): string {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Signs `header.payload` exactly as given, with no validation of either part. The signature
 * scheme follows the key (so a header may lie about `alg`). With `key` `null` the token is
 * unsigned (`header.payload.`).
 *
 * @param header The protected header text (any string, even not JSON).
 * @param payload The payload text or bytes (any, even not JSON).
 * @param key The signing key, or `null` for an empty signature.
 * @returns The compact JWS.
 */
export async function signJws(
  header: string,
  payload: string | Uint8Array,
  key: CryptoKey | null,
): Promise<string> {
  const input = `${b64u(header)}.${b64u(payload)}`;
  if (key === null) return `${input}.`;
  const signature = await crypto.subtle.sign(
    webCryptoSignParams(key),
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64u(new Uint8Array(signature))}`;
}
