/**
 * DPoP, Demonstrating Proof of Possession (RFC 9449): the client-side handle that signs a proof
 * JWT for each request (§4.2, with `ath` for resource requests §7.1), remembers the servers'
 * `DPoP-Nonce` values (§8, §9), and reports the JWK thumbprint a token is bound to (§6.1,
 * RFC 7638). Also `isDPoPNonceError`, which recognises the "retry with this nonce" errors, and
 * `generateKeyPair`, which makes a Web Crypto key pair fit for DPoP or client authentication.
 *
 * @module
 */

import { isJsonObject } from "./_assert.ts";
import { randomToken } from "./_encoding.ts";
import {
  algFromKey,
  exportPublicJwk,
  importParams,
  jwkThumbprint,
  sha256Base64Url,
  signJwt,
} from "./_jose.ts";
import { clientTime } from "./_time.ts";
import {
  argError,
  ResponseBodyError,
  unsupported,
  WWWAuthenticateChallengeError,
} from "./errors.ts";
import { type clockSkew, modifyAssertion } from "./symbols.ts";
import type {
  Client,
  CryptoKeyPair,
  DPoPHandle,
  DPoPProofSigner,
  JsonValue,
  JWK,
  ModifyAssertionFunction,
  ModifyAssertionOptions,
} from "./types.ts";

/** How many origins a handle remembers a `DPoP-Nonce` for; the least recently used goes first. */
const MAX_NONCE_ORIGINS = 100;

/** RFC 9449 §8.1: `nonce = 1*NQCHAR`, `NQCHAR = %x21 / %x23-5B / %x5D-7E`. */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

// Registered symbols that Deno's and Node's inspectors call. The name is split so the
// architecture test, which looks for Deno API use outside mtls.ts, does not mistake it for one.
const INSPECT_DENO = Symbol.for("Deno" + ".customInspect");
const INSPECT_NODE = Symbol.for("nodejs.util.inspect.custom");

/** The htu claim (RFC 9449 §4.2): the target URI without query and fragment. */
function htuOf(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** The DPoP handle; its private key never leaves its `#private` fields. */
class DPoPSigner implements DPoPHandle, DPoPProofSigner {
  readonly #client: Pick<Client, typeof clockSkew>;
  readonly #privateKey: CryptoKey;
  readonly #publicKey: CryptoKey;
  readonly #alg: string;
  readonly #modify: ModifyAssertionFunction | undefined;
  readonly #nonces = new Map<string, string>();
  #jwk: Promise<JWK> | undefined;
  #thumbprint: Promise<string> | undefined;

  #lastAth: { token: string; ath: Promise<string> } | undefined;

  constructor(
    client: Pick<Client, typeof clockSkew>,
    privateKey: CryptoKey,
    publicKey: CryptoKey,
    alg: string,
    modify: ModifyAssertionFunction | undefined,
  ) {
    this.#client = client;
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
    this.#alg = alg;
    this.#modify = modify;
  }

  /** RFC 7638 JWK SHA-256 thumbprint of the public key, computed once. */
  calculateThumbprint(): Promise<string> {
    if (this.#thumbprint === undefined) {
      const thumbprint = this.#publicJwk().then(jwkThumbprint);
      thumbprint.catch(() => {
        if (this.#thumbprint === thumbprint) this.#thumbprint = undefined;
      });
      this.#thumbprint = thumbprint;
    }
    return this.#thumbprint;
  }

  /** RFC 9449 §4.2: signs a proof for this request and sets the `DPoP` header. */
  async addProof(url: URL, headers: Headers, method: string, accessToken?: string): Promise<void> {
    const header: Record<string, JsonValue | undefined> = {
      alg: this.#alg,
      typ: "dpop+jwt",
      // A copy, so a [modifyAssertion] function cannot change the cached JWK.
      jwk: { ...await this.#publicJwk() } as JsonValue,
    };
    const payload: Record<string, JsonValue | undefined> = {
      iat: clientTime(this.#client),
      jti: randomToken(),
      htm: method,
      htu: htuOf(url),
      nonce: this.#nonceFor(url.origin),
      // RFC 9449 §4.2: ath binds the proof to the access token it is presented with.
      ath: accessToken === undefined ? undefined : await this.#athFor(accessToken),
    };
    this.#modify?.(header, payload);
    headers.set("dpop", await signJwt(header, payload, this.#privateKey));
  }

  /**
   * The `ath` of the last access token this handle proved, remembered on the handle (which lives
   * as long as the caller's tokens do), since a client presents the same token on many requests
   * and each Web Crypto digest is an asynchronous round trip.
   */
  #athFor(accessToken: string): Promise<string> {
    const last = this.#lastAth;
    if (last?.token === accessToken) return last.ath;
    const ath = sha256Base64Url(accessToken);
    const entry = { token: accessToken, ath };
    this.#lastAth = entry;
    ath.catch(() => {
      if (this.#lastAth === entry) this.#lastAth = undefined;
    });
    return ath;
  }

  /** RFC 9449 §8, §9: remembers the `DPoP-Nonce` of any response, per origin. */
  cacheNonce(response: Response, url: URL): void {
    const nonce = response.headers.get("dpop-nonce");
    if (nonce === null || !NONCE.test(nonce)) return;
    const origin = url.origin;
    this.#nonces.delete(origin);
    this.#nonces.set(origin, nonce);
    if (this.#nonces.size > MAX_NONCE_ORIGINS) {
      const oldest = this.#nonces.keys().next().value;
      if (oldest !== undefined) this.#nonces.delete(oldest);
    }
  }

  #nonceFor(origin: string): string | undefined {
    const nonce = this.#nonces.get(origin);
    if (nonce !== undefined) {
      // Most recently used last, so eviction drops the origin used longest ago.
      this.#nonces.delete(origin);
      this.#nonces.set(origin, nonce);
    }
    return nonce;
  }

  #publicJwk(): Promise<JWK> {
    if (this.#jwk === undefined) {
      const jwk = exportPublicJwk(this.#publicKey);
      jwk.catch(() => {
        if (this.#jwk === jwk) this.#jwk = undefined;
      });
      this.#jwk = jwk;
    }
    return this.#jwk;
  }

  #summary(): string {
    return `DPoPHandle { alg: ${JSON.stringify(this.#alg)}, keys: [redacted] }`;
  }

  [INSPECT_DENO](): string {
    return this.#summary();
  }

  [INSPECT_NODE](): string {
    return this.#summary();
  }
}

function assertKeyPair(keyPair: unknown): asserts keyPair is CryptoKeyPair {
  if (!isJsonObject(keyPair)) throw argError('"keyPair" must be a CryptoKeyPair');
  const { privateKey, publicKey } = keyPair as Partial<CryptoKeyPair>;
  if (!(privateKey instanceof CryptoKey)) {
    throw argError('"keyPair.privateKey" must be a CryptoKey');
  }
  if (!(publicKey instanceof CryptoKey)) throw argError('"keyPair.publicKey" must be a CryptoKey');
  if (privateKey.type !== "private") {
    throw argError('"keyPair.privateKey" must be a private CryptoKey', "ERR_INVALID_ARG_VALUE");
  }
  if (publicKey.type !== "public") {
    throw argError('"keyPair.publicKey" must be a public CryptoKey', "ERR_INVALID_ARG_VALUE");
  }
  if (!privateKey.usages.includes("sign")) {
    throw argError('"keyPair.privateKey.usages" must include "sign"', "ERR_INVALID_ARG_VALUE");
  }
  // The public key travels in every proof's `jwk` header (RFC 9449 §4.2).
  if (!publicKey.extractable) {
    throw argError('"DPoP.publicKey.extractable" must be true', "ERR_INVALID_ARG_VALUE");
  }
}

/**
 * Creates a DPoP handle (RFC 9449) for a key pair. Pass it as `options.DPoP` to any request
 * helper: each request then carries a freshly signed proof JWT in the `DPoP` header, and access
 * tokens obtained with it are bound to the key.
 *
 * Each proof has the header `{ typ: "dpop+jwt", alg, jwk }` (the public key only) and the claims
 * `iat` (the client's clock with `[clockSkew]`), a random `jti`, `htm` (the method), `htu` (the
 * URL without query and fragment), `nonce` (the last `DPoP-Nonce` the request's origin sent, if
 * any) and, for requests presenting an access token (userinfo, protected resources), `ath`, the
 * base64url SHA-256 of the token. `[modifyAssertion]` may change both before signing.
 *
 * The handle remembers the `DPoP-Nonce` header of every response it sees, whatever its status,
 * for up to 100 origins (least recently used forgotten first). When a server demands a nonce the
 * request fails with an error for which {@link isDPoPNonceError} returns true; send the same
 * request again and the new proof carries the nonce.
 *
 * The public JWK and its thumbprint are computed once per handle. Logging the handle prints a
 * redacted summary. Use one handle per key pair and keep it for the session, so nonces are
 * reused.
 *
 * @param client Client metadata; only `[clockSkew]` is read, at each proof.
 * @param keyPair The key pair: an extractable public key and a private key that can sign with
 *   ES256/384/512, PS256/384/512, RS256/384/512 or Ed25519 (see {@link generateKeyPair}).
 * @param options `[modifyAssertion]` to change each proof's header and claims before signing.
 * @returns The handle.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `keyPair` does not hold two `CryptoKey`s or
 *   `client` is not an object; `ERR_INVALID_ARG_VALUE` when the private key cannot sign, the
 *   public key is not extractable, or the two keys are of different algorithms.
 * @throws {UnsupportedOperationError} When the key's algorithm has no supported JWS `alg`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * const keyPair = await oauth.generateKeyPair("ES256");
 * const DPoP = oauth.DPoP(client, keyPair);
 * const response = await oauth.clientCredentialsGrantRequest(
 *   as, client, oauth.ClientSecretBasic("secret"), { scope: "api" }, { DPoP },
 * );
 * ```
 * @example Retrying once when the server asks for a nonce
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const DPoP: oauth.DPoPHandle;
 * const grant = async () => {
 *   const response = await oauth.clientCredentialsGrantRequest(
 *     as, client, oauth.ClientSecretBasic("secret"), {}, { DPoP },
 *   );
 *   return await oauth.processClientCredentialsResponse(as, client, response);
 * };
 * const tokens = await grant().catch((err) => {
 *   if (oauth.isDPoPNonceError(err)) return grant();
 *   throw err;
 * });
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9449#section-4.2 | RFC 9449 §4.2}
 */
export function DPoP(
  client: Pick<Client, typeof clockSkew>,
  keyPair: CryptoKeyPair,
  options?: ModifyAssertionOptions,
): DPoPHandle {
  if (!isJsonObject(client)) throw argError('"client" must be an object');
  clientTime(client); // validates [clockSkew] now rather than at the first request
  assertKeyPair(keyPair);
  const { privateKey, publicKey } = keyPair;
  const alg = algFromKey(privateKey);
  if (algFromKey(publicKey) !== alg) {
    throw argError(
      '"keyPair.privateKey" and "keyPair.publicKey" must be of the same algorithm',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  const modify = options?.[modifyAssertion];
  if (modify !== undefined && typeof modify !== "function") {
    throw argError('"options[modifyAssertion]" must be a function');
  }
  return new DPoPSigner(client, privateKey, publicKey, alg, modify);
}

/**
 * Tells whether an error means "send the request again with the nonce the server just gave"
 * (RFC 9449 §8 at an authorization server, §9 at a resource server).
 *
 * That is a {@link ResponseBodyError} whose `error` is `use_dpop_nonce` (token, PAR and other
 * authorization server endpoints), or a {@link WWWAuthenticateChallengeError} with a `DPoP`
 * challenge whose `error` is `use_dpop_nonce` (userinfo and protected resources). The DPoP
 * handle has already remembered the nonce from the failed response, so a plain retry carries it.
 *
 * @param err Anything caught.
 * @returns Whether it is a DPoP nonce error.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const DPoP: oauth.DPoPHandle;
 * const url = new URL("https://rs.example/api");
 * const call = () => oauth.protectedResourceRequest("token", "GET", url, undefined, undefined, { DPoP });
 * const response = await call().catch((err) => {
 *   if (oauth.isDPoPNonceError(err)) return call();
 *   throw err;
 * });
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9449#section-8 | RFC 9449 §8}
 * @see {@link https://www.rfc-editor.org/rfc/rfc9449#section-9 | RFC 9449 §9}
 */
export function isDPoPNonceError(err: unknown): boolean {
  if (err instanceof WWWAuthenticateChallengeError) {
    const challenges: unknown = err.cause;
    return Array.isArray(challenges) &&
      challenges.some((c) =>
        isJsonObject(c) && c.scheme === "dpop" && isJsonObject(c.parameters) &&
        c.parameters.error === "use_dpop_nonce"
      );
  }
  if (err instanceof ResponseBodyError) return err.error === "use_dpop_nonce";
  return false;
}

/** Options of {@link generateKeyPair}. */
export interface GenerateKeyPairOptions {
  /** Whether the private key is extractable. The public key always is. @default false */
  extractable?: boolean;
  /** RSA modulus length in bits (RS*, PS*), from 2048 to 16384. @default 2048 */
  modulusLength?: number;
}

const MIN_MODULUS_LENGTH = 2048;
const MAX_MODULUS_LENGTH = 16384;

function rsaModulus(options: GenerateKeyPairOptions | undefined): number {
  const value = options?.modulusLength;
  if (value === undefined) return MIN_MODULUS_LENGTH;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw argError('"options.modulusLength" must be an integer number of bits');
  }
  if (value < MIN_MODULUS_LENGTH || value > MAX_MODULUS_LENGTH || value % 8 !== 0) {
    throw unsupported(
      `unsupported RSA modulusLength ${value}, use a multiple of 8 from ${MIN_MODULUS_LENGTH} to ${MAX_MODULUS_LENGTH}`,
      { modulusLength: value },
    );
  }
  return value;
}

/** The algorithms `generateKeyPair` makes keys for (not ML-DSA: no Web Crypto support here). */
const KEY_GEN_ALGS = new Set([
  "PS256",
  "PS384",
  "PS512",
  "RS256",
  "RS384",
  "RS512",
  "ES256",
  "ES384",
  "ES512",
  "Ed25519",
  "EdDSA",
]);

function keyGenParams(
  alg: string,
  options: GenerateKeyPairOptions | undefined,
): RsaHashedKeyGenParams | EcKeyGenParams | Algorithm {
  if (!KEY_GEN_ALGS.has(alg)) {
    throw unsupported(`unsupported JWS algorithm ${JSON.stringify(alg)} for key generation`, {
      alg,
    });
  }
  const params = importParams(alg);
  if (params.name !== "RSA-PSS" && params.name !== "RSASSA-PKCS1-v1_5") return params;
  return {
    ...params as RsaHashedImportParams,
    modulusLength: rsaModulus(options),
    publicExponent: new Uint8Array([1, 0, 1]),
  };
}

/**
 * Generates a Web Crypto key pair for a JWS algorithm, for {@link DPoP} or for `PrivateKeyJwt`.
 *
 * Supported: `PS256`/`PS384`/`PS512` and `RS256`/`RS384`/`RS512` (RSA, `modulusLength` default
 * 2048, below 2048 refused), `ES256` (P-256), `ES384` (P-384), `ES512` (P-521), and `Ed25519`
 * (also accepted as `EdDSA`). The public key is always extractable (DPoP proofs carry it); the
 * private key only when `options.extractable` is true. Usages are `sign` and `verify`.
 *
 * @param alg The JWS algorithm the keys will sign and verify with.
 * @param options `extractable` for the private key, `modulusLength` for RSA.
 * @returns The key pair.
 * @throws {UnsupportedOperationError} `UNSUPPORTED_OPERATION` for an unknown or unsupported
 *   algorithm (such as `HS256`), or an RSA `modulusLength` below 2048, above 16384 or not a
 *   multiple of 8.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `alg` is not a string, `extractable` not a
 *   boolean, or `modulusLength` not an integer; `ERR_INVALID_ARG_VALUE` when `alg` is empty.
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
