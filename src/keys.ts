/**
 * Key generation (RFC 7518 §3.1, RFC 9864, draft-ietf-cose-dilithium): `generateKeyPair` makes a
 * Web Crypto key pair for a JWS algorithm, fit for DPoP (RFC 9449) or `private_key_jwt` client
 * authentication (RFC 7523), from the algorithm's entry in `JWS_ALGORITHMS`.
 *
 * @module
 */

import { isJsonObject } from "./_assert.ts";
import { argError, unsupported } from "./errors.ts";
import { jwsAlgorithm } from "./jws_algorithms.ts";
import type { CryptoKeyPair } from "./types.ts";

/** Options of {@link generateKeyPair}. */
export interface GenerateKeyPairOptions {
  /** Whether the private key is extractable. The public key always is. @default false */
  extractable?: boolean;
  /** RSA modulus length in bits (RS*, PS*), from 2048 to 16384. @default 2048 */
  modulusLength?: number;
}

/** The largest RSA modulus generated, in bits: beyond it key generation takes minutes. */
const MAX_MODULUS_LENGTH = 16384;

function rsaModulus(options: GenerateKeyPairOptions | undefined, min: number): number {
  const value = options?.modulusLength;
  if (value === undefined) return min;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw argError('"options.modulusLength" must be an integer number of bits');
  }
  if (value < min || value > MAX_MODULUS_LENGTH || value % 8 !== 0) {
    throw unsupported(
      `unsupported RSA modulusLength ${value}, use a multiple of 8 from ${min} to ${MAX_MODULUS_LENGTH}`,
      { modulusLength: value },
    );
  }
  return value;
}

function keyGenParams(
  alg: string,
  options: GenerateKeyPairOptions | undefined,
): RsaHashedKeyGenParams | EcKeyGenParams | Algorithm {
  const info = jwsAlgorithm(alg);
  if (info === undefined || !info.generate) {
    throw unsupported(`unsupported JWS algorithm ${JSON.stringify(alg)} for key generation`, {
      alg,
    });
  }
  if (info.minModulusLength === undefined) return { ...info.key };
  return {
    ...info.key as RsaHashedImportParams,
    modulusLength: rsaModulus(options, info.minModulusLength),
    publicExponent: new Uint8Array([1, 0, 1]),
  };
}

/**
 * Generates a Web Crypto key pair for a JWS algorithm, for `DPoP` or for `PrivateKeyJwt`.
 *
 * Every algorithm of `JWS_ALGORITHMS` whose `generate` is true: `PS256`/`PS384`/`PS512` and
 * `RS256`/`RS384`/`RS512` (RSA, `modulusLength` default 2048, below 2048 refused), `ES256`
 * (P-256), `ES384` (P-384), `ES512` (P-521), `Ed25519` (also accepted as `EdDSA`), and
 * `ML-DSA-44`/`ML-DSA-65`/`ML-DSA-87` where the runtime's Web Crypto implements ML-DSA (Deno 2.9
 * does; elsewhere the runtime's `NotSupportedError` comes through, as in oauth4webapi). The public
 * key is always extractable (DPoP proofs carry it); the private key only when
 * `options.extractable` is true. Usages are `sign` and `verify`.
 *
 * @param alg The JWS algorithm the keys will sign and verify with.
 * @param options `extractable` for the private key, `modulusLength` for RSA.
 * @returns The key pair.
 * @throws {UnsupportedOperationError} `UNSUPPORTED_OPERATION` for an unknown or unsupported
 *   algorithm (such as `HS256`), or an RSA `modulusLength` below 2048, above 16384 or not a
 *   multiple of 8.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `alg` is not a string, `extractable` not a
 *   boolean, or `modulusLength` not an integer.
 * @throws {DOMException} `NotSupportedError` when the runtime cannot generate keys for `alg`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const client: oauth.Client;
 * const keyPair = await oauth.generateKeyPair("ES256");
 * const DPoP = oauth.DPoP(client, keyPair);
 * console.log(await DPoP.calculateThumbprint());
 * ```
 * @example An exportable RSA key for client authentication
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const { privateKey } = await oauth.generateKeyPair("PS256", {
 *   extractable: true,
 *   modulusLength: 3072,
 * });
 * const clientAuth = oauth.PrivateKeyJwt(privateKey);
 * ```
 * @example A post-quantum ML-DSA key pair
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const keyPair = await oauth.generateKeyPair("ML-DSA-65");
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7518#section-3.1 | RFC 7518 §3.1}
 */
export async function generateKeyPair(
  alg: string,
  options?: GenerateKeyPairOptions,
): Promise<CryptoKeyPair> {
  if (typeof alg !== "string") throw argError('"alg" must be a string');
  if (alg.length === 0) throw argError('"alg" must not be empty', "ERR_INVALID_ARG_VALUE");
  if (options !== undefined && !isJsonObject(options)) {
    throw argError('"options" must be an object');
  }
  const extractable = options?.extractable ?? false;
  if (typeof extractable !== "boolean") throw argError('"options.extractable" must be a boolean');
  const params = keyGenParams(alg, options);
  return await crypto.subtle.generateKey(params, extractable, ["sign", "verify"]) as CryptoKeyPair;
}
