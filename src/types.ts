/**
 * The vocabulary of authlane: JSON value types, authorization server (RFC 8414, OpenID Connect
 * Discovery 1.0 §3), client (RFC 7591 §2, OpenID Connect Registration §2) and resource server
 * (RFC 9728) metadata, protocol response shapes, and the option interfaces shared by every
 * request helper.
 *
 * @module
 */

import type {
  allowInsecureRequests,
  clientCertificate,
  clockSkew,
  clockTolerance,
  customFetch,
  jweDecrypt,
  jwksCache,
  maxResponseSize,
  modifyAssertion,
} from "./symbols.ts";

/** A JSON primitive. */
export type JsonPrimitive = string | number | boolean | null;
/** A JSON object; members may be absent. */
export type JsonObject = { [Key in string]?: JsonValue };
/** A JSON array. */
export type JsonArray = JsonValue[];
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonObject | JsonArray;

/** A Web Crypto key, as the runtime defines it. */
export type CryptoKey = globalThis.CryptoKey;

/** A Web Crypto key pair. */
export interface CryptoKeyPair {
  /** The private key. */
  privateKey: CryptoKey;
  /** The public key. */
  publicKey: CryptoKey;
}

/** A private key with an optional key ID put in the `kid` JWS header of what it signs. */
export interface PrivateKey {
  /** The private key. */
  key: CryptoKey;
  /** The key ID; when set it becomes the `kid` header parameter. */
  kid?: string;
}

/** JWS algorithms authlane signs and verifies with. */
export type JWSAlgorithm =
  | "PS256"
  | "ES256"
  | "RS256"
  | "Ed25519"
  | "ES384"
  | "PS384"
  | "RS384"
  | "ES512"
  | "PS512"
  | "RS512"
  | "ML-DSA-44"
  | "ML-DSA-65"
  | "ML-DSA-87"
  | "EdDSA";

/** A JSON Web Key (RFC 7517 §4). */
export type JWK = {
  /** Key type. */ readonly kty?: string;
  /** Intended algorithm. */ readonly alg?: string;
  /** Permitted operations. */ readonly key_ops?: string[];
  /** Extractable (Web Crypto). */ readonly ext?: boolean;
  /** Public key use. */ readonly use?: string;
  /** X.509 certificate chain. */ readonly x5c?: string[];
  /** SHA-1 thumbprint. */ readonly x5t?: string;
  /** SHA-256 thumbprint. */ readonly "x5t#S256"?: string;
  /** X.509 URL. */ readonly x5u?: string;
  /** Key ID. */ readonly kid?: string;
  /** Curve. */ readonly crv?: string;
  /** Private exponent or key. */ readonly d?: string;
  /** RSA parameter. */ readonly dp?: string;
  /** RSA parameter. */ readonly dq?: string;
  /** RSA exponent. */ readonly e?: string;
  /** Symmetric key. */ readonly k?: string;
  /** RSA modulus. */ readonly n?: string;
  /** RSA parameter. */ readonly p?: string;
  /** RSA parameter. */ readonly q?: string;
  /** RSA parameter. */ readonly qi?: string;
  /** Curve x coordinate. */ readonly x?: string;
  /** Curve y coordinate. */ readonly y?: string;
  /** AKP public key. */ readonly pub?: string;
  /** AKP private key. */ readonly priv?: string;
  /** RSA other primes. */ readonly oth?: Array<{ d?: string; r?: string; t?: string }>;
};

/** A JSON Web Key Set (RFC 7517 §5). */
export interface JWKS {
  /** The keys. */
  readonly keys: JWK[];
}

/**
 * Authorization server metadata (RFC 8414 §2, OpenID Connect Discovery 1.0 §3, and the
 * registries' later additions). Obtain it from `processDiscoveryResponse` or write it by hand.
 */
export interface AuthorizationServer {
  /** Issuer identifier; the only required member. */
  readonly issuer: string;
  /** Authorization endpoint URL. */
  readonly authorization_endpoint?: string;
  /** Token endpoint URL. */
  readonly token_endpoint?: string;
  /** JWK Set document URL. */
  readonly jwks_uri?: string;
  /** Dynamic client registration endpoint URL. */
  readonly registration_endpoint?: string;
  /** Supported scopes. */
  readonly scopes_supported?: string[];
  /** Supported `response_type` values. */
  readonly response_types_supported?: string[];
  /** Supported `response_mode` values. */
  readonly response_modes_supported?: string[];
  /** Supported grant types. */
  readonly grant_types_supported?: string[];
  /** Supported token endpoint client authentication methods. */
  readonly token_endpoint_auth_methods_supported?: string[];
  /** Supported JWS algorithms for client assertions at the token endpoint. */
  readonly token_endpoint_auth_signing_alg_values_supported?: string[];
  /** Human-readable documentation URL. */
  readonly service_documentation?: string;
  /** Supported UI locales. */
  readonly ui_locales_supported?: string[];
  /** Policy URL. */
  readonly op_policy_uri?: string;
  /** Terms of service URL. */
  readonly op_tos_uri?: string;
  /** Revocation endpoint URL (RFC 7009). */
  readonly revocation_endpoint?: string;
  /** Supported revocation endpoint client authentication methods. */
  readonly revocation_endpoint_auth_methods_supported?: string[];
  /** Supported JWS algorithms for client assertions at the revocation endpoint. */
  readonly revocation_endpoint_auth_signing_alg_values_supported?: string[];
  /** Introspection endpoint URL (RFC 7662). */
  readonly introspection_endpoint?: string;
  /** Supported introspection endpoint client authentication methods. */
  readonly introspection_endpoint_auth_methods_supported?: string[];
  /** Supported JWS algorithms for client assertions at the introspection endpoint. */
  readonly introspection_endpoint_auth_signing_alg_values_supported?: string[];
  /** Supported PKCE code challenge methods. */
  readonly code_challenge_methods_supported?: string[];
  /** Signed metadata JWT (RFC 8414 §2.1). */
  readonly signed_metadata?: string;
  /** Device authorization endpoint URL (RFC 8628). */
  readonly device_authorization_endpoint?: string;
  /** Whether certificate-bound access tokens are issued (RFC 8705 §3.3). */
  readonly tls_client_certificate_bound_access_tokens?: boolean;
  /** Endpoints to use over mutual TLS (RFC 8705 §5). */
  readonly mtls_endpoint_aliases?: MTLSEndpointAliases;
  /** UserInfo endpoint URL. */
  readonly userinfo_endpoint?: string;
  /** Supported ACR values. */
  readonly acr_values_supported?: string[];
  /** Supported subject identifier types. */
  readonly subject_types_supported?: string[];
  /** Supported ID token JWS algorithms. */
  readonly id_token_signing_alg_values_supported?: string[];
  /** Supported ID token JWE `alg` values. */
  readonly id_token_encryption_alg_values_supported?: string[];
  /** Supported ID token JWE `enc` values. */
  readonly id_token_encryption_enc_values_supported?: string[];
  /** Supported userinfo JWS algorithms. */
  readonly userinfo_signing_alg_values_supported?: string[];
  /** Supported userinfo JWE `alg` values. */
  readonly userinfo_encryption_alg_values_supported?: string[];
  /** Supported userinfo JWE `enc` values. */
  readonly userinfo_encryption_enc_values_supported?: string[];
  /** Supported request object JWS algorithms. */
  readonly request_object_signing_alg_values_supported?: string[];
  /** Supported request object JWE `alg` values. */
  readonly request_object_encryption_alg_values_supported?: string[];
  /** Supported request object JWE `enc` values. */
  readonly request_object_encryption_enc_values_supported?: string[];
  /** Supported `display` values. */
  readonly display_values_supported?: string[];
  /** Supported claim types. */
  readonly claim_types_supported?: string[];
  /** Supported claims. */
  readonly claims_supported?: string[];
  /** Supported claims locales. */
  readonly claims_locales_supported?: string[];
  /** Whether the `claims` parameter is supported. */
  readonly claims_parameter_supported?: boolean;
  /** Whether the `request` parameter is supported. */
  readonly request_parameter_supported?: boolean;
  /** Whether the `request_uri` parameter is supported. */
  readonly request_uri_parameter_supported?: boolean;
  /** Whether `request_uri` values must be pre-registered. */
  readonly require_request_uri_registration?: boolean;
  /** Whether request objects must be signed (RFC 9101 §10.5). */
  readonly require_signed_request_object?: boolean;
  /** Pushed authorization request endpoint URL (RFC 9126). */
  readonly pushed_authorization_request_endpoint?: string;
  /** Whether PAR is required (RFC 9126 §5). */
  readonly require_pushed_authorization_requests?: boolean;
  /** Supported JWT introspection response JWS algorithms (RFC 9701). */
  readonly introspection_signing_alg_values_supported?: string[];
  /** Supported JWT introspection response JWE `alg` values. */
  readonly introspection_encryption_alg_values_supported?: string[];
  /** Supported JWT introspection response JWE `enc` values. */
  readonly introspection_encryption_enc_values_supported?: string[];
  /** Whether the `iss` authorization response parameter is sent (RFC 9207 §3). */
  readonly authorization_response_iss_parameter_supported?: boolean;
  /** Supported JARM JWS algorithms. */
  readonly authorization_signing_alg_values_supported?: string[];
  /** Supported JARM JWE `alg` values. */
  readonly authorization_encryption_alg_values_supported?: string[];
  /** Supported JARM JWE `enc` values. */
  readonly authorization_encryption_enc_values_supported?: string[];
  /** CIBA backchannel authentication endpoint URL. */
  readonly backchannel_authentication_endpoint?: string;
  /** Supported CIBA request signing algorithms. */
  readonly backchannel_authentication_request_signing_alg_values_supported?: string[];
  /** Supported CIBA token delivery modes. */
  readonly backchannel_token_delivery_modes_supported?: string[];
  /** Whether CIBA `user_code` is supported. */
  readonly backchannel_user_code_parameter_supported?: boolean;
  /** Session management iframe URL. */
  readonly check_session_iframe?: string;
  /** Supported DPoP proof JWS algorithms (RFC 9449 §5.1). */
  readonly dpop_signing_alg_values_supported?: string[];
  /** RP-initiated logout endpoint URL. */
  readonly end_session_endpoint?: string;
  /** Whether front-channel logout sessions are supported. */
  readonly frontchannel_logout_session_supported?: boolean;
  /** Whether front-channel logout is supported. */
  readonly frontchannel_logout_supported?: boolean;
  /** Whether back-channel logout sessions are supported. */
  readonly backchannel_logout_session_supported?: boolean;
  /** Whether back-channel logout is supported. */
  readonly backchannel_logout_supported?: boolean;
  /** Protected resources this server issues tokens for. */
  readonly protected_resources?: string[];
  /** Any other metadata. */
  readonly [metadata: string]: JsonValue | undefined;
}

/** Endpoint aliases a client uses over mutual TLS (RFC 8705 §5). */
export interface MTLSEndpointAliases extends
  Pick<
    AuthorizationServer,
    | "backchannel_authentication_endpoint"
    | "device_authorization_endpoint"
    | "introspection_endpoint"
    | "pushed_authorization_request_endpoint"
    | "revocation_endpoint"
    | "token_endpoint"
    | "userinfo_endpoint"
  > {
  /** Any other aliased endpoint. */
  readonly [metadata: string]: string | undefined;
}

/**
 * A TLS client certificate with its private key, both PEM. `cert` may hold a chain (leaf first).
 * `caCerts` adds trust anchors for the server's certificate.
 */
export interface ClientCertificate {
  /** PEM certificate, or a chain with the leaf first. */
  cert: string;
  /** PEM private key (PKCS#8, PKCS#1 or SEC1), not encrypted. */
  key: string;
  /** Extra PEM CA certificates trusted for the server's certificate. */
  caCerts?: string[];
}

/**
 * Client metadata. Only the members listed here change authlane's behaviour; others are kept for
 * the application.
 */
export interface Client {
  /** Client identifier. */
  client_id: string;
  /** Expected ID token JWS algorithm. @default the server's first advertised, else `RS256` */
  id_token_signed_response_alg?: string;
  /** Expected JARM JWS algorithm. @default the server's advertised, else `RS256` */
  authorization_signed_response_alg?: string;
  /** Whether ID tokens must carry `auth_time`. @default false */
  require_auth_time?: boolean;
  /** Expected signed userinfo JWS algorithm. */
  userinfo_signed_response_alg?: string;
  /** Expected JWT introspection response JWS algorithm. @default the server's, else `RS256` */
  introspection_signed_response_alg?: string;
  /** Default `max_age` in seconds, checked against `auth_time`. */
  default_max_age?: number;
  /** Use `mtls_endpoint_aliases` and a TLS client certificate (RFC 8705 §5). @default false */
  use_mtls_endpoint_aliases?: boolean;
  /** Seconds added to the local clock. @default 0 */
  [clockSkew]?: number;
  /** Seconds of leeway for timestamp checks. @default 30 */
  [clockTolerance]?: number;
  /** TLS client certificate for mutual TLS (Deno extension). */
  [clientCertificate]?: ClientCertificate;
  /** Any other metadata. */
  [metadata: string]: JsonValue | undefined;
}

/** What a {@link customFetch} function receives besides the URL. */
export interface CustomFetchOptions<Method, BodyType = undefined> {
  /** Request body. */
  body: BodyType;
  /** Request headers. */
  headers: Record<string, string>;
  /** HTTP method. */
  method: Method;
  /** Always `"manual"`: redirects are never followed. */
  redirect: "manual";
  /** Set for streaming bodies. */
  duplex?: "half";
  /**
   * Abort signal: authlane's own, which follows the caller's `signal` (or the default 30-second
   * timeout) and aborts with its reason raised again with a `code` and the URL.
   */
  signal?: AbortSignal;
}

/** Options every request helper takes. */
export interface HttpRequestOptions<Method, BodyType = undefined> {
  /**
   * Abort signal, or a function returning one for a URL.
   * @default a 30-second timeout
   */
  signal?: ((url: string) => AbortSignal) | AbortSignal;
  /** Extra request headers. */
  headers?: [string, string][] | Record<string, string> | Headers;
  /** Replacement for `fetch`. */
  [customFetch]?: (
    url: string,
    options: CustomFetchOptions<Method, BodyType>,
  ) => Promise<Response>;
  /** Allow non-`https:` URLs. @default false */
  [allowInsecureRequests]?: boolean;
  /**
   * Largest response body read, in decoded bytes (authlane addition).
   * @default 1048576 (1 MiB)
   */
  [maxResponseSize]?: number;
}

/** A function changing a JWT's header and payload before it is signed. */
export interface ModifyAssertionFunction {
  (
    header: Record<string, JsonValue | undefined>,
    payload: Record<string, JsonValue | undefined>,
  ): void;
}

/** Options of functions that sign a JWT. */
export interface ModifyAssertionOptions {
  /** Called with the header and payload before signing. */
  [modifyAssertion]?: ModifyAssertionFunction;
}

/** Decrypts a compact JWE into its plaintext. */
export type JweDecryptFunction = (jwe: string) => Promise<string>;

/** Options of functions that may receive an encrypted JWT. */
export interface JWEDecryptOptions {
  /** JWE decrypter; without it an encrypted response is refused. */
  [jweDecrypt]?: JweDecryptFunction;
}

/** A JWKS cache as exported into a {@link jwksCache} object. */
export interface ExportedJWKSCache {
  /** The JWKS. */
  jwks: JWKS;
  /** When it was fetched, in epoch seconds. */
  uat: number;
}

/** What a {@link jwksCache} option may hold: an export, or `{}` to start. */
export type JWKSCacheInput = ExportedJWKSCache | Record<string, never>;

/** Options of functions that may fetch the JWKS. */
export interface JWKSCacheOptions {
  /** Cache shared between calls. */
  [jwksCache]?: JWKSCacheInput;
}

/** Options of functions that verify a signature against the server's JWKS. */
export interface ValidateSignatureOptions extends HttpRequestOptions<"GET">, JWKSCacheOptions {}

/** Confirmation claims (RFC 7800): a DPoP key (`jkt`) or a client certificate (`x5t#S256`). */
export interface ConfirmationClaims {
  /** SHA-256 thumbprint of the client certificate (RFC 8705 §3.1). */
  readonly "x5t#S256"?: string;
  /** JWK SHA-256 thumbprint of the DPoP key (RFC 9449 §6.1). */
  readonly jkt?: string;
  /** Other confirmation methods. */
  readonly [claim: string]: JsonValue | undefined;
}

/** Registered JWT claims. */
export interface JWTPayload {
  /** Issuer. */ readonly iss?: string;
  /** Subject. */ readonly sub?: string;
  /** Audience. */ readonly aud?: string | string[];
  /** JWT ID. */ readonly jti?: string;
  /** Not before. */ readonly nbf?: number;
  /** Expiration time. */ readonly exp?: number;
  /** Issued at. */ readonly iat?: number;
  /** Confirmation. */ readonly cnf?: ConfirmationClaims;
  /** Other claims. */ readonly [claim: string]: JsonValue | undefined;
}

/** Validated ID token claims (OpenID Connect Core §2). */
export interface IDToken extends JWTPayload {
  /** Issuer. */ readonly iss: string;
  /** Subject. */ readonly sub: string;
  /** Audience. */ readonly aud: string | string[];
  /** Issued at. */ readonly iat: number;
  /** Expiration time. */ readonly exp: number;
  /** Nonce. */ readonly nonce?: string;
  /** Time of authentication. */ readonly auth_time?: number;
  /** Authorized party. */ readonly azp?: string;
  /** Other claims. */ readonly [claim: string]: JsonValue | undefined;
}

/** An RFC 9396 authorization details object. */
export interface AuthorizationDetails {
  /** Type of authorization. */ readonly type: string;
  /** Locations. */ readonly locations?: string[];
  /** Actions. */ readonly actions?: string[];
  /** Data types. */ readonly datatypes?: string[];
  /** Privileges. */ readonly privileges?: string[];
  /** Identifier. */ readonly identifier?: string;
  /** Other members. */ readonly [parameter: string]: JsonValue | undefined;
}

/** A successful token endpoint response (RFC 6749 §5.1). */
export interface TokenEndpointResponse {
  /** The access token. */ readonly access_token: string;
  /** Lifetime in seconds. */ readonly expires_in?: number;
  /** ID token (OpenID Connect). */ readonly id_token?: string;
  /** Refresh token. */ readonly refresh_token?: string;
  /** Granted scope. */ readonly scope?: string;
  /** Granted authorization details (RFC 9396). */
  readonly authorization_details?: AuthorizationDetails[];
  /** Token type, lowercased by authlane. */
  readonly token_type: "bearer" | "dpop" | Lowercase<string>;
  /** Other parameters. */ readonly [parameter: string]: JsonValue | undefined;
}

/** An OAuth 2.0 error response body (RFC 6749 §5.2). */
export interface OAuth2Error {
  /** Error code. */ readonly error: string;
  /** Human-readable description. */ readonly error_description?: string;
  /** Error page URL. */ readonly error_uri?: string;
  /** Accepted algorithms (RFC 9449). */ readonly algs?: string;
  /** Required scope. */ readonly scope?: string;
  /** Other members. */ readonly [parameter: string]: JsonValue | undefined;
}

/** Parameters of one `WWW-Authenticate` challenge; names are lowercased. */
export interface WWWAuthenticateChallengeParameters {
  /** Realm. */ readonly realm?: string;
  /** Error code. */ readonly error?: string;
  /** Error description. */ readonly error_description?: string;
  /** Error URI. */ readonly error_uri?: string;
  /** Accepted algorithms (RFC 9449 §7.1). */ readonly algs?: string;
  /** Required scope. */ readonly scope?: string;
  /** Resource metadata URL (RFC 9728 §5.1). */ readonly resource_metadata?: string;
  /** Other parameters. */ readonly [parameter: Lowercase<string>]: string | undefined;
}

/** One parsed `WWW-Authenticate` challenge (RFC 9110 §11.6.1). */
export interface WWWAuthenticateChallenge {
  /** Auth scheme, lowercased. */ readonly scheme: Lowercase<string>;
  /** Auth parameters. */ readonly parameters: WWWAuthenticateChallengeParameters;
  /** token68, when the challenge carries one instead of parameters. */
  readonly token68?: string;
}

/**
 * A function that authenticates the client at an endpoint by changing the request body and
 * headers. Build one with `ClientSecretPost`, `ClientSecretBasic`, `ClientSecretJwt`,
 * `PrivateKeyJwt`, `None` or `TlsClientAuth`.
 */
export type ClientAuth = (
  as: AuthorizationServer,
  client: Client,
  body: URLSearchParams,
  headers: Headers,
) => void | Promise<void>;

/** A DPoP handle made by `DPoP()`: it signs proofs and remembers server nonces. */
export interface DPoPHandle {
  /** Returns the RFC 7638 JWK SHA-256 thumbprint of the public key. */
  calculateThumbprint(): Promise<string>;
}

/** Options of requests that may carry a DPoP proof. */
export interface DPoPRequestOptions {
  /** DPoP handle; when set, each request carries a proof (RFC 9449). */
  DPoP?: DPoPHandle;
}

/**
 * Internal contract between `_http.ts` and the DPoP handle, so the transport can add a proof and
 * remember nonces without importing the protocol layer.
 *
 * @internal
 */
export interface DPoPProofSigner {
  /** Adds the `DPoP` header for this request. */
  addProof(url: URL, headers: Headers, method: string, accessToken?: string): Promise<void>;
  /** Remembers a `DPoP-Nonce` from a response. */
  cacheNonce(response: Response, url: URL): void;
}

/** The fetch-compatible function shape the transport calls. */
export type FetchLike = (
  url: string,
  init: CustomFetchOptions<string, unknown>,
) => Promise<Response>;
