/**
 * The public types of the oidc-provider harness (`tests/_oidc_provider.ts`): client metadata,
 * {@linkcode StartProviderOptions}, the driver options and the running
 * {@linkcode OidcProviderHarness}, plus two internal aliases shared by the harness modules.
 *
 * @module
 */

import type { CookieJar } from "../e2e/_cookie_jar.ts";

/** Client metadata as oidc-provider accepts it (snake_case wire names). */
export interface ClientMetadata {
  /** The client identifier. */
  client_id: string;
  /** The shared secret, for `client_secret_*` methods. */
  client_secret?: string;
  /** Registered redirect URIs. */
  redirect_uris?: string[];
  /** Any other RFC 7591 / OIDC Registration metadata. */
  [key: string]: unknown;
}

/** A built-in client as exposed to tests: its registered metadata plus `redirect_uri`. */
export interface HarnessClient extends ClientMetadata {
  /** The first registered redirect URI, ready to put in an authorization request. */
  redirect_uri: string;
  /** Registered redirect URIs. */
  redirect_uris: string[];
  /** The token endpoint authentication method. */
  token_endpoint_auth_method: string;
  /** The grant types the client may use. */
  grant_types: string[];
}

/** What oidc-provider needs to know about a resource server (`getResourceServerInfo`). */
export interface ResourceServerInfo {
  /** Space-separated scopes the resource server accepts. */
  scope: string;
  /** The `aud` of its access tokens; defaults to the resource indicator. */
  audience?: string;
  /** `"jwt"` (RFC 9068) or `"opaque"`. */
  accessTokenFormat?: "jwt" | "opaque";
  /** Access token lifetime in seconds. */
  accessTokenTTL?: number;
  /** JWT options, e.g. `{ sign: { alg: "ES256" } }`. */
  jwt?: Record<string, unknown>;
}

/** Options of {@linkcode startProvider}. */
export interface StartProviderOptions {
  /** Port to listen on, on 127.0.0.1. @default 0 (a free port) */
  port?: number;
  /**
   * Serve `https:` instead of `http:`, asking every client for a certificate (without requiring
   * one), so `features.mTLS` works: the harness's default `getCertificate`,
   * `certificateAuthorized` and `certificateSubjectMatches` read the TLS socket.
   */
  tls?: TlsOptions;
  /**
   * The `fetch` that `login()`, `approveDeviceCode()` and `logout()` browse with; with `tls`, pass
   * one whose `Deno.HttpClient` trusts the server certificate. @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /** A path for the issuer, e.g. `"/oidc"` gives `http://127.0.0.1:PORT/oidc`. @default "" */
  issuerPath?: string;
  /**
   * The issuer identifier the provider puts in its metadata and tokens instead of its own URL,
   * for servers whose issuer is not where they are reached (Microsoft Entra ID's tenant issuers
   * behind its multi-tenant endpoints). Its endpoints, `discoveryUrl` and `url()` stay on the
   * loopback origin; `issuer` is this value. @default the server's URL
   */
  issuerIdentifier?: string;
  /**
   * oidc-provider configuration, deep-merged over the harness defaults: plain objects merge,
   * anything else (arrays, functions, primitives) replaces.
   */
  configuration?: Record<string, unknown>;
  /** Shorthand for `configuration.features`, deep-merged after `configuration`. */
  features?: Record<string, unknown>;
  /**
   * Extra clients. An entry whose `client_id` is one of {@linkcode CLIENT_IDS} is merged into that
   * built-in client instead of being added.
   */
  clients?: ClientMetadata[];
  /** Metadata shallow-merged into all three built-in clients (e.g. `dpop_bound_access_tokens`). */
  clientMetadata?: Partial<ClientMetadata>;
  /** Extra claims per account id, merged over the generated `name`, `email`, `email_verified`. */
  accounts?: Record<string, Record<string, unknown>>;
  /** Extra resource servers by resource indicator, besides {@linkcode RESOURCE}. */
  resourceServers?: Record<string, ResourceServerInfo>;
}

/** TLS settings of {@linkcode StartProviderOptions.tls}; every string is PEM. */
export interface TlsOptions {
  /** The server certificate (chain); it must cover `hostname`. */
  cert: string;
  /** The server private key. */
  key: string;
  /** CAs whose client certificates count as authorized (`certificateAuthorized`). */
  ca?: string | string[];
  /** The host name in the issuer. @default "127.0.0.1" */
  hostname?: string;
}

/** The ES256 key pair of the `private_key_jwt` client. */
export interface ClientKeyPair {
  /** Signs client assertions. Extractable, so tests can hand it to any JOSE library. */
  privateKey: CryptoKey;
  /** The matching public key. */
  publicKey: CryptoKey;
  /** The public JWK registered in the client's `jwks` (has `kid`, `alg`, `use`). */
  publicJwk: JsonWebKey & { kid: string; alg: string; use: string };
  /** The private JWK, with the same `kid`. */
  privateJwk: JsonWebKey & { kid: string; alg: string };
  /** The key id. */
  kid: string;
  /** `"ES256"`. */
  alg: "ES256";
}

/** Options of {@linkcode OidcProviderHarness.login}. */
export interface LoginOptions {
  /** The login typed into the development login page; it becomes `sub`. @default "alice" */
  accountId?: string;
  /** `false` presses "Cancel" on the consent page, so the callback carries `access_denied`. */
  consent?: boolean;
  /** A browser session to reuse (for SSO, `prompt=none`, logout). @default a new jar */
  jar?: CookieJar;
}

/** Options of {@linkcode OidcProviderHarness.approveDeviceCode}. */
export interface DeviceApprovalOptions {
  /** The end-user that approves. @default "alice" */
  accountId?: string;
  /** `false` aborts on the device confirmation page instead of approving. */
  consent?: boolean;
  /** A browser session to reuse. @default a new jar */
  jar?: CookieJar;
}

/** Options of {@linkcode OidcProviderHarness.completeBackchannel}. */
export interface BackchannelOptions {
  /** `true` records `access_denied` instead of granting. */
  deny?: boolean;
}

/** The subset of the oidc-provider `Provider` instance this harness and tests may use. */
export interface OidcProviderInstance {
  /** The issuer identifier. */
  issuer: string;
  /** Absolute URL of a named route, e.g. `urlFor("code_verification")`. */
  urlFor(name: string, options?: Record<string, unknown>): string;
  /** Subscribe to provider events, e.g. `"server_error"`. */
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Anything else oidc-provider exposes. */
  [key: string]: unknown;
}

/** A running provider, returned by {@linkcode startProvider}. */
export interface OidcProviderHarness extends AsyncDisposable {
  /** The issuer identifier, e.g. `http://127.0.0.1:PORT`. */
  readonly issuer: string;
  /** The origin the server listens on. */
  readonly origin: string;
  /** The port the server listens on. */
  readonly port: number;
  /** The discovery document URL (`{issuer}/.well-known/openid-configuration`). */
  readonly discoveryUrl: string;
  /** The oidc-provider instance, for tests that need to reach inside. */
  readonly provider: OidcProviderInstance;
  /** The built-in clients. */
  readonly clients: {
    /** `client_secret_basic`; authorization_code, refresh_token, client_credentials. */
    readonly confidential: HarnessClient;
    /** `none` (PKCE only); authorization_code, refresh_token. */
    readonly public: HarnessClient;
    /** `private_key_jwt` with {@linkcode OidcProviderHarness.clientKey}. */
    readonly privateKeyJwt: HarnessClient;
  };
  /** Every registered client (built-in and extra), as registered. */
  readonly registeredClients: readonly ClientMetadata[];
  /** The key pair of the `private_key_jwt` client. */
  readonly clientKey: ClientKeyPair;
  /** The provider's public signing keys (what `jwks_uri` serves). */
  readonly jwks: { keys: JsonWebKey[] };
  /** The built-in resource indicator, `https://api.example`. */
  readonly resource: string;
  /** Resolves a path against the issuer, e.g. `url("/token")`. */
  url(path: string): URL;
  /**
   * Drives the development login and consent pages from `authorizationUrl` until the provider
   * sends the browser to the client, and returns that callback URL (with `code`, `state`, `iss`,
   * or `error`). A `form_post` response is returned as the form's action URL with the posted
   * fields as its query, so it reads the same way.
   */
  login(authorizationUrl: URL | string, options?: LoginOptions): Promise<URL>;
  /** Enters, confirms and approves a device flow `user_code` as an end-user would. */
  approveDeviceCode(userCode: string, options?: DeviceApprovalOptions): Promise<void>;
  /** Completes a CIBA request as the end-user's authentication device would. */
  completeBackchannel(authReqId: string, options?: BackchannelOptions): Promise<void>;
  /** Follows an RP-initiated logout URL, confirms, and returns where the provider ends up. */
  logout(endSessionUrl: URL | string, jar: CookieJar): Promise<URL>;
  /** Stops the server and closes every connection. */
  close(): Promise<void>;
}

/** A JSON object, as oidc-provider configuration is written. */
export type Json = Record<string, unknown>;
/** oidc-provider is untyped here: its instances and errors are `any`. */
// deno-lint-ignore no-explicit-any
export type Any = any;
