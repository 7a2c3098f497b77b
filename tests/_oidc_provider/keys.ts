/**
 * Keys of the oidc-provider harness: the provider's signing keys (generated once per process),
 * the ES256 key pair of the `private_key_jwt` client, and random secrets.
 *
 * @module
 */

import type { ClientKeyPair } from "./types.ts";

export interface SigningKeys {
  private: JsonWebKey[];
  public: JsonWebKey[];
}

let signingKeysPromise: Promise<SigningKeys> | undefined;

/** RSA (RS256/PS256), P-256 (ES256) and Ed25519 signing keys, generated once per process. */
export function providerSigningKeys(): Promise<SigningKeys> {
  signingKeysPromise ??= (async () => {
    const pairs = await Promise.all([
      crypto.subtle.generateKey(
        {
          name: "RSASSA-PKCS1-v1_5",
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: "SHA-256",
        },
        true,
        ["sign", "verify"],
      ),
      crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]),
      crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as Promise<
        CryptoKeyPair
      >,
    ]);
    const kids = ["op-rsa", "op-p256", "op-ed25519"];
    const privateJwks: JsonWebKey[] = [];
    const publicJwks: JsonWebKey[] = [];
    for (const [i, pair] of pairs.entries()) {
      const { alg: _privAlg, key_ops: _privOps, ext: _privExt, ...priv } = await crypto.subtle
        .exportKey("jwk", pair.privateKey);
      const { alg: _pubAlg, key_ops: _pubOps, ext: _pubExt, ...pub } = await crypto.subtle
        .exportKey("jwk", pair.publicKey);
      privateJwks.push({ ...priv, kid: kids[i], use: "sig" } as JsonWebKey);
      publicJwks.push({ ...pub, kid: kids[i], use: "sig" } as JsonWebKey);
    }
    return { private: privateJwks, public: publicJwks };
  })();
  return signingKeysPromise;
}

/** A fresh ES256 key pair for the `private_key_jwt` client. */
export async function clientKeyPair(): Promise<ClientKeyPair> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const kid = `client-${crypto.randomUUID()}`;
  const { key_ops: _a, ext: _b, ...pub } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const { key_ops: _c, ext: _d, ...priv } = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return {
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicJwk: { ...pub, kid, alg: "ES256", use: "sig" },
    privateJwk: { ...priv, kid, alg: "ES256" },
    kid,
    alg: "ES256",
  };
}

export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}
