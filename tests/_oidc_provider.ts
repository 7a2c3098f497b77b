/**
 * A real OpenID Provider (npm `oidc-provider`) running in-process on `127.0.0.1` over plain
 * `http:`, for end-to-end tests and the demo.
 *
 * It knows nothing of authlane: it deals in URLs, `fetch` and JSON only. It comes with three
 * registered clients (confidential `client_secret_basic`, public `none` with PKCE, and
 * `private_key_jwt` with a generated ES256 key), a resource server `https://api.example` that
 * receives JWT access tokens, and browser drivers for the development login and consent pages
 * (`login()`), the device flow (`approveDeviceCode()`) and CIBA (`completeBackchannel()`).
 *
 * Configuration can be deep-merged by callers (`configuration`, `features`), extra clients
 * added (`clients`) and the built-in clients patched (`clientMetadata`), so later tests can turn
 * on PAR, JAR, JARM, DPoP, the device flow or CIBA without editing this file.
 *
 * @example Usage
 * ```ts ignore
 * await using op = await startProvider();
 * const callback = await op.login(authorizationUrl); // http://127.0.0.1/cb?code=...&state=...&iss=...
 * ```
 *
 * @module
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { CookieJar } from "./e2e/_cookie_jar.ts";

export { CookieJar };

/** The redirect URI registered for every built-in client. Nothing listens there. */
export const REDIRECT_URI = "http://127.0.0.1/cb";
/** The resource indicator (RFC 8707) of the built-in resource server; it gets JWT access tokens. */
export const RESOURCE = "https://api.example";
/** The scope the built-in resource server accepts. */
export const RESOURCE_SCOPE = "api:read";
/** The account used by {@linkcode OidcProviderHarness.login} when none is given. */
export const DEFAULT_ACCOUNT = "alice";
/** The `client_id` of each built-in client. */
export const CLIENT_IDS = {
  confidential: "confidential-client",
  public: "public-client",
  privateKeyJwt: "private-key-jwt-client",
} as const;

const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const CIBA_GRANT = "urn:openid:params:grant-type:ciba";

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

type Json = Record<string, unknown>;
// deno-lint-ignore no-explicit-any
type Any = any;

/**
 * Starts oidc-provider on 127.0.0.1 and returns a harness to drive it.
 *
 * @param options Configuration overrides, extra clients, port.
 * @returns The running harness; dispose it with `await using` or `close()`.
 * @example Usage
 * ```ts ignore
 * await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
 * const discovery = await (await fetch(op.discoveryUrl)).json();
 * ```
 */
export async function startProvider(
  options: StartProviderOptions = {},
): Promise<OidcProviderHarness> {
  const { Provider, errors } = await loadOidcProvider();
  const [signingKeys, clientKey] = await Promise.all([providerSigningKeys(), clientKeyPair()]);

  const issuerPath = normalizeIssuerPath(options.issuerPath ?? "");
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (handler === undefined) {
      res.statusCode = 503;
      res.end();
      return;
    }
    if (issuerPath !== "") {
      // RFC 8414 §3.1: the metadata of an issuer with a path lives at the root well-known URL.
      const url = req.url ?? "/";
      const wellKnown = "/.well-known/oauth-authorization-server";
      // oidc-provider derives its mount path from req.originalUrl minus req.url (as Express does).
      const mounted = req as IncomingMessage & { originalUrl?: string };
      if (url === `${wellKnown}${issuerPath}` || url.startsWith(`${wellKnown}${issuerPath}?`)) {
        req.url = `${wellKnown}${url.slice(wellKnown.length + issuerPath.length)}`;
        mounted.originalUrl = `${issuerPath}${req.url}`;
      } else if (
        url === issuerPath || url.startsWith(`${issuerPath}/`) || url.startsWith(`${issuerPath}?`)
      ) {
        mounted.originalUrl = url;
        req.url = url.slice(issuerPath.length) || "/";
      } else {
        res.statusCode = 404;
        res.end();
        return;
      }
    }
    handler(req, res);
  };
  const tls = options.tls;
  const server: Server = tls === undefined ? createServer(listener) : createTlsServer({
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca,
    requestCert: true,
    rejectUnauthorized: false,
  }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = tls === undefined
    ? `http://127.0.0.1:${port}`
    : `https://${tls.hostname ?? "127.0.0.1"}:${port}`;
  const issuer = `${origin}${issuerPath}`;

  try {
    const resourceServers: Record<string, ResourceServerInfo> = {
      [RESOURCE]: {
        scope: RESOURCE_SCOPE,
        audience: RESOURCE,
        accessTokenFormat: "jwt",
        accessTokenTTL: 3600,
        jwt: { sign: { alg: "ES256" } },
      },
      ...options.resourceServers,
    };
    const accounts = options.accounts ?? {};

    const defaults: Json = {
      jwks: { keys: structuredClone(signingKeys.private) },
      cookies: { keys: [randomSecret(), randomSecret()] },
      scopes: ["openid", "profile", "email", "offline_access", RESOURCE_SCOPE],
      claims: {
        openid: ["sub"],
        profile: ["name"],
        email: ["email", "email_verified"],
      },
      pkce: { required: () => true },
      issueRefreshToken: (_ctx: unknown, client: Any) => client.grantTypeAllowed("refresh_token"),
      clientBasedCORS: () => true,
      findAccount: (_ctx: unknown, sub: string) => ({
        accountId: sub,
        claims: () => ({
          sub,
          name: `User ${sub}`,
          email: `${sub}@example.com`,
          email_verified: true,
          ...accounts[sub],
        }),
      }),
      renderError: (ctx: Any, out: Record<string, unknown>) => {
        ctx.type = "html";
        ctx.body = errorPage(out);
      },
      ttl: {
        AccessToken: 3600,
        AuthorizationCode: 60,
        BackchannelAuthenticationRequest: 600,
        ClientCredentials: 600,
        DeviceCode: 600,
        Grant: 14 * 24 * 3600,
        IdToken: 3600,
        Interaction: 3600,
        PreAuthorizedCode: 600,
        RefreshToken: 14 * 24 * 3600,
        Session: 14 * 24 * 3600,
      },
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: () => true },
        revocation: {
          enabled: true,
          allowedPolicy: (_ctx: unknown, client: Any, token: Any) =>
            token.clientId === client.clientId,
        },
        userinfo: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx: Any, form: string) => {
            ctx.body = page(
              "Logout",
              `${form}<button autofocus type="submit" form="op.logoutForm" name="logout" value="yes">Yes</button>`,
            );
          },
          postLogoutSuccessSource: (ctx: Any) => {
            ctx.body = page("Signed out", `<p data-result="logged-out">Signed out</p>`);
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf,
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => {
            const info = resourceServers[indicator];
            if (info === undefined) throw new errors.InvalidTarget();
            return { audience: indicator, ...info };
          },
        },
        deviceFlow: {
          enabled: false,
          userCodeInputSource: (ctx: Any, form: string, _out: unknown, err?: Any) => {
            ctx.body = err
              ? page(
                "Device error",
                `<p data-error="${escapeHtml(err.name ?? "error")}">${
                  escapeHtml(String(err.message ?? err))
                }</p>`,
              )
              : page(
                "Device",
                `${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
              );
          },
          userCodeConfirmSource: (ctx: Any, form: string) => {
            ctx.body = page(
              "Confirm device",
              `${form}<button autofocus type="submit" form="op.deviceConfirmForm">Continue</button>` +
                `<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`,
            );
          },
          successSource: (ctx: Any) => {
            ctx.body = page("Device approved", `<p data-result="device-approved">Approved</p>`);
          },
        },
        mTLS: {
          enabled: false,
          getCertificate: (ctx: Any) => peerCertificatePem(ctx.socket),
          certificateAuthorized: (ctx: Any) => (ctx.socket as TLSSocket).authorized === true,
          certificateSubjectMatches: (ctx: Any, property: string, expected: string) =>
            certificateSubjectMatches(ctx.socket, property, expected),
        },
        ciba: {
          enabled: false,
          deliveryModes: ["poll"],
          processLoginHint: (_ctx: unknown, loginHint: string) => loginHint,
          processLoginHintToken: (_ctx: unknown, token: string) => token,
          verifyUserCode: () => undefined,
          validateRequestContext: () => undefined,
          validateBindingMessage: (_ctx: unknown, message?: string) => {
            if (message !== undefined && !/^[a-zA-Z0-9-._+/!?#]{1,20}$/.test(message)) {
              throw new errors.InvalidBindingMessage("binding_message is invalid");
            }
          },
          triggerAuthenticationDevice: () => undefined,
        },
      },
    };

    const configuration = deepMerge(
      deepMerge(defaults, options.configuration ?? {}),
      { features: options.features ?? {} },
    );
    const features = configuration.features as Json;
    const deviceFlow = isEnabled(features.deviceFlow);
    const ciba = isEnabled(features.ciba);
    const mtls = features.mTLS as Json;
    if (isEnabled(mtls) && options.configuration?.clientAuthMethods === undefined) {
      // RFC 8705 §2: offer the mTLS methods that the caller switched on.
      configuration.clientAuthMethods = [
        "client_secret_basic",
        "client_secret_jwt",
        "client_secret_post",
        "private_key_jwt",
        "none",
        ...(mtls.tlsClientAuth === true ? ["tls_client_auth"] : []),
        ...(mtls.selfSignedTlsClientAuth === true ? ["self_signed_tls_client_auth"] : []),
      ];
    }

    const codeGrants = [
      "authorization_code",
      "refresh_token",
      ...(deviceFlow ? [DEVICE_CODE_GRANT] : []),
    ];
    const cibaMetadata = ciba ? { backchannel_token_delivery_mode: "poll" } : {};
    const builtIn: Record<keyof typeof CLIENT_IDS, ClientMetadata> = {
      confidential: {
        client_id: CLIENT_IDS.confidential,
        client_secret: randomSecret(),
        token_endpoint_auth_method: "client_secret_basic",
        redirect_uris: [REDIRECT_URI],
        response_types: ["code"],
        grant_types: [...codeGrants, "client_credentials", ...(ciba ? [CIBA_GRANT] : [])],
        ...cibaMetadata,
      },
      public: {
        client_id: CLIENT_IDS.public,
        token_endpoint_auth_method: "none",
        redirect_uris: [REDIRECT_URI],
        response_types: ["code"],
        grant_types: codeGrants,
      },
      privateKeyJwt: {
        client_id: CLIENT_IDS.privateKeyJwt,
        token_endpoint_auth_method: "private_key_jwt",
        token_endpoint_auth_signing_alg: "ES256",
        jwks: { keys: [clientKey.publicJwk] },
        redirect_uris: [REDIRECT_URI],
        response_types: ["code"],
        grant_types: [...codeGrants, "client_credentials", ...(ciba ? [CIBA_GRANT] : [])],
        ...cibaMetadata,
      },
    };
    const extra: ClientMetadata[] = [];
    for (const key of Object.keys(builtIn) as (keyof typeof CLIENT_IDS)[]) {
      builtIn[key] = { ...builtIn[key], ...options.clientMetadata } as ClientMetadata;
    }
    for (const client of options.clients ?? []) {
      const key = (Object.keys(CLIENT_IDS) as (keyof typeof CLIENT_IDS)[])
        .find((k) => CLIENT_IDS[k] === client.client_id);
      if (key !== undefined) builtIn[key] = { ...builtIn[key], ...client };
      else extra.push(client);
    }
    const registeredClients = [...Object.values(builtIn), ...extra].map((c) => structuredClone(c));
    configuration.clients = structuredClone(registeredClients);

    const provider: Any = quietly(() => new Provider(issuer, configuration));
    provider.on("server_error", (_ctx: unknown, error: unknown) => {
      console.error("oidc-provider server_error:", error);
    });
    // Static clients are validated lazily; validate them now so bad metadata fails startup.
    for (const client of registeredClients) {
      let found: unknown;
      try {
        found = await provider.Client.find(client.client_id);
      } catch (cause) {
        const detail = (cause as { error_description?: string }).error_description;
        throw new Error(`client ${client.client_id} is invalid: ${detail ?? cause}`, { cause });
      }
      if (!found) throw new Error(`client ${client.client_id} did not register`);
    }
    handler = provider.callback();

    const exposed = (metadata: ClientMetadata): HarnessClient => {
      const redirect_uris = (metadata.redirect_uris ?? []) as string[];
      return Object.freeze({
        ...structuredClone(metadata),
        redirect_uri: redirect_uris[0] ?? "",
        redirect_uris,
        token_endpoint_auth_method: String(
          metadata.token_endpoint_auth_method ?? "client_secret_basic",
        ),
        grant_types: (metadata.grant_types ?? ["authorization_code"]) as string[],
      }) as HarnessClient;
    };
    const redirectTargets = new Set(
      registeredClients.flatMap((c) => (c.redirect_uris ?? []) as string[]).map((uri) => {
        const url = new URL(uri);
        return `${url.origin}${url.pathname}`;
      }),
    );
    const isExit = (url: URL): boolean =>
      url.origin !== origin || redirectTargets.has(`${url.origin}${url.pathname}`);

    const browserFetch = options.fetch ?? globalThis.fetch;
    let closed: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closed ??= closeServer(server);
      return closed;
    };

    const harness: OidcProviderHarness = {
      issuer,
      origin,
      port,
      discoveryUrl: `${issuer}/.well-known/openid-configuration`,
      provider,
      clients: {
        confidential: exposed(builtIn.confidential),
        public: exposed(builtIn.public),
        privateKeyJwt: exposed(builtIn.privateKeyJwt),
      },
      registeredClients,
      clientKey,
      jwks: { keys: signingKeys.public },
      resource: RESOURCE,
      url: (path: string) => new URL(`${issuer}${path.startsWith("/") ? path : `/${path}`}`),
      async login(authorizationUrl, loginOptions = {}) {
        const accountId = loginOptions.accountId ?? DEFAULT_ACCOUNT;
        const jar = loginOptions.jar ?? new CookieJar();
        const result = await drive(browserFetch, jar, new URL(authorizationUrl), isExit, (view) => {
          const form = view.forms.find((f) => f.method === "post");
          if (form === undefined) return undefined;
          if (
            form.fields.some((f) => f.name === "prompt" && f.value === "consent") &&
            loginOptions.consent === false
          ) {
            const abort = view.links.find((link) => link.pathname.endsWith("/abort"));
            if (abort === undefined) throw new Error(`no abort link on ${view.url}`);
            return { url: abort, method: "GET" };
          }
          return submit(form, { login: accountId, password: "password" });
        });
        if (result.kind !== "exit") {
          throw new Error(
            `login() ended on ${result.url} without reaching the client: ${summarize(result.html)}`,
          );
        }
        return result.url;
      },
      async approveDeviceCode(userCode, deviceOptions = {}) {
        const accountId = deviceOptions.accountId ?? DEFAULT_ACCOUNT;
        const jar = deviceOptions.jar ?? new CookieJar();
        const start = new URL(provider.urlFor("code_verification"));
        start.searchParams.set("user_code", userCode);
        const result = await drive(browserFetch, jar, start, isExit, (view) => {
          const form = view.forms.find((f) => f.method === "post");
          if (form === undefined) return undefined;
          const isConfirm = form.fields.some((f) => f.name === "confirm");
          if (isConfirm && deviceOptions.consent === false) {
            return submit(form, {}, { abort: "yes" }, ["confirm"]);
          }
          return submit(form, { login: accountId, password: "password", user_code: userCode });
        });
        if (result.kind === "exit") {
          throw new Error(`approveDeviceCode() left the provider for ${result.url}`);
        }
        const expected = deviceOptions.consent === false
          ? 'data-error="AbortedError"'
          : 'data-result="device-approved"';
        if (!result.html.includes(expected)) {
          throw new Error(`approveDeviceCode() ended on ${result.url}: ${summarize(result.html)}`);
        }
      },
      async completeBackchannel(authReqId, backchannelOptions = {}) {
        const request = await provider.BackchannelAuthenticationRequest.find(authReqId);
        if (!request) throw new Error("unknown auth_req_id");
        if (backchannelOptions.deny === true) {
          await provider.backchannelResult(
            request,
            new errors.AccessDenied("end-user denied the request"),
          );
          return;
        }
        const grant = new provider.Grant({
          accountId: request.accountId,
          clientId: request.clientId,
        });
        if (request.scope) grant.addOIDCScope(request.scope);
        if (request.claims && Object.keys(request.claims).length > 0) {
          grant.addOIDCClaims(
            Object.keys({ ...request.claims.id_token, ...request.claims.userinfo }),
          );
        }
        if (request.resource) {
          const resources = Array.isArray(request.resource) ? request.resource : [request.resource];
          for (const indicator of resources) {
            const info = resourceServers[indicator];
            if (info) grant.addResourceScope(indicator, info.scope);
          }
        }
        await grant.save();
        await provider.backchannelResult(request, grant, {
          authTime: Math.floor(Date.now() / 1000),
        });
      },
      async logout(endSessionUrl, jar) {
        const result = await drive(browserFetch, jar, new URL(endSessionUrl), isExit, (view) => {
          const form = view.forms.find((f) => f.method === "post");
          return form === undefined ? undefined : submit(form, {});
        });
        return result.url;
      },
      close,
      [Symbol.asyncDispose]: close,
    };
    return harness;
  } catch (error) {
    await closeServer(server);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Loading oidc-provider quietly

interface OidcProviderModule {
  Provider: Any;
  errors: Any;
}

let modulePromise: Promise<OidcProviderModule> | undefined;

/** Imports oidc-provider once, dropping its "Unsupported runtime" warning. */
function loadOidcProvider(): Promise<OidcProviderModule> {
  modulePromise ??= (async () => {
    const restore = muteProviderConsole();
    try {
      const mod = await import("oidc-provider");
      return { Provider: mod.default ?? mod.Provider, errors: mod.errors };
    } finally {
      restore();
    }
  })();
  return modulePromise;
}

/** Runs `fn` with oidc-provider's development warnings (devInteractions, keys) muted. */
function quietly<T>(fn: () => T): T {
  const restore = muteProviderConsole();
  try {
    return fn();
  } finally {
    restore();
  }
}

function muteProviderConsole(): () => void {
  const { warn, info } = console;
  const filter = (original: (...args: unknown[]) => void) => (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].includes("oidc-provider ")) return;
    original.apply(console, args);
  };
  console.warn = filter(warn);
  console.info = filter(info);
  return () => {
    console.warn = warn;
    console.info = info;
  };
}

// ---------------------------------------------------------------------------------------------
// Keys

interface SigningKeys {
  private: JsonWebKey[];
  public: JsonWebKey[];
}

let signingKeysPromise: Promise<SigningKeys> | undefined;

/** RSA (RS256/PS256), P-256 (ES256) and Ed25519 signing keys, generated once per process. */
function providerSigningKeys(): Promise<SigningKeys> {
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
async function clientKeyPair(): Promise<ClientKeyPair> {
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

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

// ---------------------------------------------------------------------------------------------
// Browser driver

interface HtmlForm {
  id?: string;
  action: URL;
  method: string;
  fields: { name: string; value: string; type: string }[];
  /** The submit button a person would press (autofocus first), if it has a name. */
  primary?: { name: string; value: string };
}

interface View {
  url: URL;
  html: string;
  forms: HtmlForm[];
  links: URL[];
}

interface Step {
  url: URL;
  method: "GET" | "POST";
  body?: URLSearchParams;
}

type DriveResult = { kind: "exit"; url: URL } | { kind: "page"; url: URL; html: string };

const MAX_STEPS = 30;

/**
 * Follows redirects and submits pages (as decided by `decide`) until a navigation leaves the
 * provider (`isExit`) or a page has nothing left to submit.
 */
async function drive(
  fetch: typeof globalThis.fetch,
  jar: CookieJar,
  start: URL,
  isExit: (url: URL) => boolean,
  decide: (view: View) => Step | undefined,
): Promise<DriveResult> {
  let step: Step = { url: start, method: "GET" };
  for (let i = 0; i < MAX_STEPS; i++) {
    const headers = jar.headersFor(step.url, { accept: "text/html" });
    if (step.body) headers.set("content-type", "application/x-www-form-urlencoded");
    const response = await fetch(step.url, {
      method: step.method,
      headers,
      body: step.body,
      redirect: "manual",
    });
    jar.store(step.url, response);
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (location === null) {
        throw new Error(`${response.status} without Location from ${step.url}`);
      }
      const next = new URL(location, step.url);
      if (isExit(next)) return { kind: "exit", url: next };
      step = { url: next, method: "GET" };
      continue;
    }
    const html = await response.text();
    if (!response.ok) {
      throw new Error(`${step.method} ${step.url} answered ${response.status}: ${summarize(html)}`);
    }
    const view: View = {
      url: step.url,
      html,
      forms: parseForms(html, step.url),
      links: parseLinks(html, step.url),
    };
    // response_mode=form_post: an auto-submitting form that posts to the client.
    const toClient = view.forms.find((form) => isExit(form.action));
    if (toClient !== undefined) {
      const url = new URL(toClient.action);
      for (const field of toClient.fields) url.searchParams.append(field.name, field.value);
      return { kind: "exit", url };
    }
    const next = decide(view);
    if (next === undefined) return { kind: "page", url: step.url, html };
    step = next;
  }
  throw new Error(`no result after ${MAX_STEPS} navigations from ${start}`);
}

/**
 * Fills a form as a person would: hidden fields keep their value, visible ones take `fill`,
 * the primary button adds its name and value; `extra` acts as another button pressed.
 */
function submit(
  form: HtmlForm,
  fill: Record<string, string>,
  extra: Record<string, string> = {},
  omit: string[] = [],
): Step {
  const body = new URLSearchParams();
  for (const field of form.fields) {
    if (omit.includes(field.name)) continue;
    if (field.type === "hidden") body.append(field.name, field.value);
    else if (field.type === "checkbox" || field.type === "radio") continue;
    else body.append(field.name, fill[field.name] ?? field.value);
  }
  if (Object.keys(extra).length > 0) {
    for (const [name, value] of Object.entries(extra)) body.append(name, value);
  } else if (form.primary !== undefined) {
    body.append(form.primary.name, form.primary.value);
  }
  if (form.method === "post") return { url: form.action, method: "POST", body };
  const url = new URL(form.action);
  url.search = body.toString();
  return { url, method: "GET" };
}

const TAG = /<(form|\/form|input|button|a)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/gi;
const ATTRIBUTE = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(ATTRIBUTE)) {
    const name = match[1]!.toLowerCase();
    if (!attributes.has(name)) {
      attributes.set(name, decodeEntities(match[2] ?? match[3] ?? match[4] ?? ""));
    }
  }
  return attributes;
}

/** Parses `<form>`s, their `<input>`s and buttons (including those joined by `form="id"`). */
function parseForms(html: string, base: URL): HtmlForm[] {
  const forms: HtmlForm[] = [];
  const byId = new Map<string, HtmlForm>();
  const buttons: { form: HtmlForm; name?: string; value: string; autofocus: boolean }[] = [];
  const pending: { attributes: Map<string, string>; owner?: HtmlForm; button: boolean }[] = [];
  let current: HtmlForm | undefined;
  for (const match of html.matchAll(TAG)) {
    const tag = match[1]!.toLowerCase();
    const attributes = parseAttributes(match[2] ?? "");
    if (tag === "form") {
      current = {
        id: attributes.get("id"),
        action: new URL(attributes.get("action") || base.href, base),
        method: (attributes.get("method") ?? "get").toLowerCase(),
        fields: [],
      };
      forms.push(current);
      if (current.id !== undefined) byId.set(current.id, current);
    } else if (tag === "/form") {
      current = undefined;
    } else if (tag === "input" || tag === "button") {
      pending.push({ attributes, owner: current, button: tag === "button" });
    }
  }
  for (const { attributes, owner, button } of pending) {
    const formId = attributes.get("form");
    const form = formId !== undefined ? byId.get(formId) : owner;
    if (form === undefined) continue;
    const type = (attributes.get("type") ?? (button ? "submit" : "text")).toLowerCase();
    const name = attributes.get("name");
    if (button || type === "submit") {
      buttons.push({
        form,
        name,
        value: attributes.get("value") ?? "",
        autofocus: attributes.has("autofocus"),
      });
    } else if (name !== undefined) {
      form.fields.push({ name, value: attributes.get("value") ?? "", type });
    }
  }
  for (const form of forms) {
    const own = buttons.filter((b) => b.form === form);
    const primary = own.find((b) => b.autofocus) ?? own[0];
    if (primary?.name) form.primary = { name: primary.name, value: primary.value };
  }
  return forms;
}

function parseLinks(html: string, base: URL): URL[] {
  const links: URL[] = [];
  for (const match of html.matchAll(TAG)) {
    if (match[1]!.toLowerCase() !== "a") continue;
    const href = parseAttributes(match[2] ?? "").get("href");
    if (href) links.push(new URL(href, base));
  }
  return links;
}

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith("#x")) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith("#")) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[lower] ?? "";
  });
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${
    escapeHtml(title)
  }</title></head>` +
    `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function errorPage(out: Record<string, unknown>): string {
  const rows = Object.entries(out)
    .map(([key, value]) =>
      `<pre data-${escapeHtml(key)}="${escapeHtml(String(value))}">${escapeHtml(key)}: ${
        escapeHtml(String(value))
      }</pre>`
    )
    .join("");
  return page("Error", rows);
}

/** The visible text of a page, shortened, for error messages. */
function summarize(html: string): string {
  const text = html
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return decodeEntities(text).slice(0, 500);
}

// ---------------------------------------------------------------------------------------------
// Misc

function isEnabled(feature: unknown): boolean {
  return typeof feature === "object" && feature !== null && (feature as Json).enabled === true;
}

function normalizeIssuerPath(path: string): string {
  if (path === "" || path === "/") return "";
  const withSlash = path.startsWith("/") ? path : `/${path}`;
  return withSlash.endsWith("/") ? withSlash.slice(0, -1) : withSlash;
}

function isPlainObject(value: unknown): value is Json {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep-merges `patch` into a copy of `base`: plain objects merge, anything else replaces. */
function deepMerge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// mTLS (RFC 8705) support over node:https

function peerCertificate(
  socket: unknown,
): { raw?: Uint8Array; subject?: Record<string, unknown>; subjectaltname?: string } | undefined {
  const tlsSocket = socket as Partial<TLSSocket> | undefined;
  if (typeof tlsSocket?.getPeerCertificate !== "function") return undefined;
  const peer = tlsSocket.getPeerCertificate(false);
  if (peer === null || typeof peer !== "object" || !peer.raw || peer.raw.length === 0) {
    return undefined;
  }
  return peer as unknown as {
    raw: Uint8Array;
    subject?: Record<string, unknown>;
    subjectaltname?: string;
  };
}

/** The client certificate of the connection as PEM, or `undefined` when none was presented. */
function peerCertificatePem(socket: unknown): string | undefined {
  const raw = peerCertificate(socket)?.raw;
  if (raw === undefined) return undefined;
  let binary = "";
  for (const byte of raw) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/**
 * RFC 8705 §2.1.2: compares one registered `tls_client_auth_*` value with the certificate. The
 * subject DN is compared as an unordered set of `TYPE=value` pairs; SAN values exactly.
 */
function certificateSubjectMatches(socket: unknown, property: string, expected: string): boolean {
  const peer = peerCertificate(socket);
  if (peer === undefined) return false;
  if (property === "tls_client_auth_subject_dn") {
    const normalize = (pairs: string[]) =>
      pairs.map((p) => p.trim().replace(/\s*=\s*/, "=")).sort().join(",");
    const actual = Object.entries(peer.subject ?? {}).flatMap(([type, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) => `${type}=${v}`)
    );
    return normalize(actual) === normalize(expected.split(","));
  }
  const prefix = {
    tls_client_auth_san_dns: "DNS:",
    tls_client_auth_san_uri: "URI:",
    tls_client_auth_san_ip: "IP Address:",
    tls_client_auth_san_email: "email:",
  }[property];
  if (prefix === undefined) return false;
  return (peer.subjectaltname ?? "").split(/,\s*/).some((entry) =>
    entry === `${prefix}${expected}`
  );
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections?.();
  });
}
