/**
 * Benchmark fixtures: keys, a JWKS, signed tokens, a realistic discovery document and the metadata
 * objects both libraries are given. Everything is made with raw Web Crypto at start-up, so neither
 * library signs its own inputs.
 *
 * @module
 */

export const ISSUER = "https://as.example.com";
export const CLIENT_ID = "bench-client";
export const RESOURCE = "https://api.example.com";
export const NONCE = "n-0S6_WzA2Mj";
export const STATE = "af0ifjsldkj-bench-state";

const encoder = new TextEncoder();

interface Base64Native {
  toBase64(options: { alphabet: "base64url"; omitPadding: boolean }): string;
}

/** base64url without padding, with the native TC39 method (the floor uses the same). */
export function b64u(bytes: Uint8Array | ArrayBuffer): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return (view as unknown as Base64Native).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Decodes base64url with the native TC39 method. */
export function fromB64u(text: string): Uint8Array<ArrayBuffer> {
  return (Uint8Array as unknown as {
    fromBase64(t: string, o: { alphabet: "base64url" }): Uint8Array<ArrayBuffer>;
  }).fromBase64(text, { alphabet: "base64url" });
}

/** A signing key and the JWS parameters it goes with. */
export interface SigningKey {
  alg: "ES256" | "RS256";
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JsonWebKey & { kid: string; alg: string; use: string };
  params: AlgorithmIdentifier | EcdsaParams;
}

async function makeKey(alg: "ES256" | "RS256", kid: string): Promise<SigningKey> {
  const gen = alg === "ES256" ? { name: "ECDSA", namedCurve: "P-256" } : {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  };
  const pair = await crypto.subtle.generateKey(gen, true, ["sign", "verify"]) as CryptoKeyPair;
  const exported = await crypto.subtle.exportKey("jwk", pair.publicKey);
  delete exported.key_ops;
  delete exported.ext;
  return {
    alg,
    kid,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicJwk: { ...exported, kid, alg, use: "sig" },
    params: alg === "ES256"
      ? { name: "ECDSA", hash: "SHA-256" } as EcdsaParams
      : { name: "RSASSA-PKCS1-v1_5" },
  };
}

/** Signs a compact JWS with raw Web Crypto. */
export async function signJws(
  key: SigningKey,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): Promise<string> {
  const input = `${b64u(encoder.encode(JSON.stringify({ alg: key.alg, ...header })))}.${
    b64u(encoder.encode(JSON.stringify(claims)))
  }`;
  const signature = await crypto.subtle.sign(key.params, key.privateKey, encoder.encode(input));
  return `${input}.${b64u(signature)}`;
}

/** Flips one bit in the middle of the signature: still decodes, no longer verifies. */
export function corruptSignature(jws: string): string {
  const dot = jws.lastIndexOf(".");
  const sig = fromB64u(jws.slice(dot + 1));
  sig[sig.length >> 1]! ^= 0x01;
  return `${jws.slice(0, dot)}.${b64u(sig)}`;
}

/** Everything the workloads share. */
export interface Fixtures {
  es: SigningKey;
  rs: SigningKey;
  /** A third key, so key selection has something to skip. */
  other: SigningKey;
  jwks: { keys: JsonWebKey[] };
  jwksText: string;
  dpopKeys: CryptoKeyPair;
  discoveryText: string;
  now: number;
}

export async function makeFixtures(): Promise<Fixtures> {
  const [es, rs, other] = await Promise.all([
    makeKey("ES256", "es-2024"),
    makeKey("RS256", "rs-2024"),
    makeKey("ES256", "es-2023"),
  ]);
  const jwks = { keys: [other.publicJwk, es.publicJwk, rs.publicJwk] };
  const dpopKeys = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  // The DPoP public key must be extractable (it travels in every proof's jwk header).
  const pub = await crypto.subtle.exportKey("jwk", dpopKeys.publicKey);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    pub,
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["verify"],
  );
  return {
    es,
    rs,
    other,
    jwks,
    jwksText: JSON.stringify(jwks),
    dpopKeys: { privateKey: dpopKeys.privateKey, publicKey },
    discoveryText: JSON.stringify(discoveryDocument()),
    now: Math.floor(Date.now() / 1000),
  };
}

/** Claims of a realistic ID token from a code grant. */
export function idTokenClaims(now: number, overrides: Record<string, unknown> = {}) {
  return {
    iss: ISSUER,
    sub: "248289761001",
    aud: CLIENT_ID,
    exp: now + 3600,
    iat: now,
    auth_time: now - 30,
    nonce: NONCE,
    sid: "08a5019c-17e1-4977-8f42-65a12843ea02",
    acr: "urn:mace:incommon:iap:silver",
    amr: ["pwd", "mfa"],
    name: "Jane Doe",
    given_name: "Jane",
    family_name: "Doe",
    email: "janedoe@example.com",
    email_verified: true,
    ...overrides,
  };
}

/** Claims of an RFC 9068 access token. */
export function accessTokenClaims(now: number, overrides: Record<string, unknown> = {}) {
  return {
    iss: ISSUER,
    sub: "248289761001",
    aud: RESOURCE,
    exp: now + 3600,
    iat: now,
    jti: "dbe39bf3a3ba4238a513f51d6e1691c4",
    client_id: CLIENT_ID,
    scope: "openid profile email api:read api:write",
    auth_time: now - 30,
    acr: "urn:mace:incommon:iap:silver",
    ...overrides,
  };
}

/** A token endpoint response body carrying an ID token. */
export function tokenResponseText(idToken: string): string {
  return JSON.stringify({
    access_token: "SlAV32hkKG.2YotnFZFEjr1zCsicMWpAA.tGzv3JOkF0XG5Qx2TlKWIA",
    token_type: "Bearer",
    refresh_token: "8xLOxBtZp8.tGzv3JOkF0XG5Qx2TlKWIA",
    expires_in: 3600,
    scope: "openid profile email",
    id_token: idToken,
  });
}

/** Authorization server metadata as both libraries are handed it. */
export function asMetadata(): Record<string, unknown> & { issuer: string } {
  return {
    issuer: ISSUER,
    authorization_endpoint: `${ISSUER}/authorize`,
    token_endpoint: `${ISSUER}/token`,
    jwks_uri: `${ISSUER}/jwks`,
    userinfo_endpoint: `${ISSUER}/userinfo`,
    id_token_signing_alg_values_supported: ["ES256", "RS256"],
    authorization_response_iss_parameter_supported: true,
    dpop_signing_alg_values_supported: ["ES256", "RS256", "EdDSA"],
  };
}

/** A ~3 KB discovery document modelled on a production OpenID Provider's. */
export function discoveryDocument(issuer: string = ISSUER): Record<string, unknown> {
  const algs = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth2/v1/authorize`,
    token_endpoint: `${issuer}/oauth2/v1/token`,
    userinfo_endpoint: `${issuer}/oauth2/v1/userinfo`,
    registration_endpoint: `${issuer}/oauth2/v1/clients`,
    jwks_uri: `${issuer}/oauth2/v1/keys`,
    pushed_authorization_request_endpoint: `${issuer}/oauth2/v1/par`,
    introspection_endpoint: `${issuer}/oauth2/v1/introspect`,
    revocation_endpoint: `${issuer}/oauth2/v1/revoke`,
    end_session_endpoint: `${issuer}/oauth2/v1/logout`,
    device_authorization_endpoint: `${issuer}/oauth2/v1/device/authorize`,
    backchannel_authentication_endpoint: `${issuer}/oauth2/v1/bc-authorize`,
    response_types_supported: [
      "code",
      "id_token",
      "code id_token",
      "code token",
      "id_token token",
      "code id_token token",
    ],
    response_modes_supported: ["query", "fragment", "form_post", "query.jwt", "jwt"],
    grant_types_supported: [
      "authorization_code",
      "implicit",
      "refresh_token",
      "client_credentials",
      "urn:ietf:params:oauth:grant-type:device_code",
      "urn:ietf:params:oauth:grant-type:token-exchange",
      "urn:openid:params:grant-type:ciba",
    ],
    subject_types_supported: ["public", "pairwise"],
    id_token_signing_alg_values_supported: algs,
    userinfo_signing_alg_values_supported: algs,
    request_object_signing_alg_values_supported: algs,
    authorization_signing_alg_values_supported: algs,
    introspection_signing_alg_values_supported: algs,
    dpop_signing_alg_values_supported: algs,
    token_endpoint_auth_methods_supported: [
      "client_secret_basic",
      "client_secret_post",
      "client_secret_jwt",
      "private_key_jwt",
      "tls_client_auth",
      "none",
    ],
    token_endpoint_auth_signing_alg_values_supported: algs,
    scopes_supported: [
      "openid",
      "profile",
      "email",
      "address",
      "phone",
      "offline_access",
      "groups",
      "api:read",
      "api:write",
    ],
    claims_supported: [
      "iss",
      "ver",
      "sub",
      "aud",
      "iat",
      "exp",
      "jti",
      "auth_time",
      "amr",
      "idp",
      "nonce",
      "name",
      "nickname",
      "preferred_username",
      "given_name",
      "middle_name",
      "family_name",
      "email",
      "email_verified",
      "profile",
      "zoneinfo",
      "locale",
      "address",
      "phone_number",
      "picture",
      "website",
      "gender",
      "birthdate",
      "updated_at",
      "at_hash",
      "c_hash",
    ],
    code_challenge_methods_supported: ["S256"],
    introspection_endpoint_auth_methods_supported: ["client_secret_basic", "private_key_jwt"],
    revocation_endpoint_auth_methods_supported: ["client_secret_basic", "private_key_jwt"],
    request_parameter_supported: true,
    request_uri_parameter_supported: false,
    require_pushed_authorization_requests: false,
    authorization_response_iss_parameter_supported: true,
    tls_client_certificate_bound_access_tokens: true,
    backchannel_token_delivery_modes_supported: ["poll"],
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: false,
    claims_parameter_supported: false,
    mtls_endpoint_aliases: {
      token_endpoint: `https://mtls.as.example.com/oauth2/v1/token`,
      revocation_endpoint: `https://mtls.as.example.com/oauth2/v1/revoke`,
      introspection_endpoint: `https://mtls.as.example.com/oauth2/v1/introspect`,
      pushed_authorization_request_endpoint: `https://mtls.as.example.com/oauth2/v1/par`,
    },
  };
}
