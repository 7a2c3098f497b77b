/**
 * Configuration of the oidc-provider harness: the well-known values tests rely on
 * ({@linkcode CLIENT_IDS}, {@linkcode RESOURCE}, ...), the harness defaults deep-merged with the
 * caller's `configuration` and `features`, the three built-in clients plus any extra ones, and
 * the HTML pages the provider renders for errors, logout and the device flow.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { TLSSocket } from "node:tls";
import { randomSecret, type SigningKeys } from "./keys.ts";
import { certificateSubjectMatches, peerCertificatePem } from "./mtls.ts";
import type {
  Any,
  ClientKeyPair,
  ClientMetadata,
  HarnessClient,
  Json,
  ResourceServerInfo,
  StartProviderOptions,
  TlsOptions,
} from "./types.ts";

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

/**
 * `features` that turn DPoP on and require a nonce in every proof, so the first proof at each
 * endpoint is answered with `use_dpop_nonce` (RFC 9449 §8, §9).
 *
 * @returns The `features` to pass to `startProvider()` (they merge with others).
 */
export function dpopRequiringNonces(): Json {
  return {
    dPoP: {
      enabled: true,
      nonceSecret: Buffer.from(crypto.getRandomValues(new Uint8Array(32))),
      requireNonce: () => true,
    },
  };
}

/**
 * Options of `startProvider()` for mutual TLS (RFC 8705): https with `tls`, and one client that
 * authenticates with its certificate (`tls_client_auth`, subject `subjectDn`) and gets
 * certificate-bound access tokens by client credentials.
 *
 * @param tls The server certificate and key, and the CA of client certificates.
 * @param clientId The client.
 * @param subjectDn The subject DN of its certificate, e.g. `CN=ec`.
 * @returns The options (add `port` and the like).
 */
export function mtlsClientCredentials(
  tls: TlsOptions,
  clientId: string,
  subjectDn: string,
): StartProviderOptions {
  return {
    tls,
    features: {
      mTLS: { enabled: true, tlsClientAuth: true, certificateBoundAccessTokens: true },
    },
    clients: [{
      client_id: clientId,
      token_endpoint_auth_method: "tls_client_auth",
      tls_client_auth_subject_dn: subjectDn,
      tls_client_certificate_bound_access_tokens: true,
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
    }],
  };
}

const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const CIBA_GRANT = "urn:openid:params:grant-type:ciba";

/** What {@linkcode buildConfiguration} produces for `new Provider(issuer, configuration)`. */
export interface BuiltConfiguration {
  /** The oidc-provider configuration, `clients` included. */
  configuration: Json;
  /** The built-in clients, after `clientMetadata` and same-id `clients` entries were merged. */
  builtIn: Record<keyof typeof CLIENT_IDS, ClientMetadata>;
  /** Every registered client (built-in and extra), as registered. */
  registeredClients: ClientMetadata[];
  /** The resource servers by resource indicator, {@linkcode RESOURCE} included. */
  resourceServers: Record<string, ResourceServerInfo>;
}

/**
 * Builds the oidc-provider configuration: the harness defaults, deep-merged with the caller's
 * `configuration` and `features`, and the registered clients.
 *
 * @param options The caller's options.
 * @param errors oidc-provider's `errors` export.
 * @param signingKeys The provider's signing keys.
 * @param clientKey The key pair of the `private_key_jwt` client.
 * @returns The configuration, the clients and the resource servers.
 */
export function buildConfiguration(
  options: StartProviderOptions,
  errors: Any,
  signingKeys: SigningKeys,
  clientKey: ClientKeyPair,
): BuiltConfiguration {
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

  return { configuration, builtIn, registeredClients, resourceServers };
}

/** A registered client as exposed to tests: frozen, with `redirect_uri` and defaults filled in. */
export function exposed(metadata: ClientMetadata): HarnessClient {
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
}

// ---------------------------------------------------------------------------------------------
// Pages the provider renders

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

// ---------------------------------------------------------------------------------------------
// Merging

function isEnabled(feature: unknown): boolean {
  return typeof feature === "object" && feature !== null && (feature as Json).enabled === true;
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
