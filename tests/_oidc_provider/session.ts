/**
 * The provider settings that web sign-in with sessions needs, for `startProvider()`: refresh
 * tokens that rotate on every use (a reused one revokes the grant), back-channel logout with
 * `sid`, plus the RP-initiated logout and revocation the harness already enables; and the
 * registration of a web app client for them.
 *
 * Additive: nothing here changes the harness defaults; callers pass these as options.
 *
 * @module
 */

import type { ClientMetadata, StartProviderOptions } from "./types.ts";

// oidc-provider warns, on its first back-channel logout, that it cannot install its SSRF guard
// (an undici dispatcher, which Deno's fetch does not have); the tests post to loopback on purpose.
const { warn } = console;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === "string" && args[0].includes("failed to setup SSRF protection")) return;
  warn.apply(console, args);
};

/** Options for `startProvider()` turning on rotating refresh tokens and back-channel logout. */
export function sessionProviderOptions(
  clients: ClientMetadata[],
  extra: StartProviderOptions = {},
): StartProviderOptions {
  return {
    ...extra,
    clients: [...clients, ...(extra.clients ?? [])],
    configuration: {
      // OAuth 2.0 Security BCP §4.14.2: a new refresh token on every use; a reused one is
      // refused with invalid_grant and the grant revoked.
      rotateRefreshToken: () => true,
      ...extra.configuration,
    },
    features: {
      backchannelLogout: { enabled: true },
      ...extra.features,
    },
  };
}

/**
 * A confidential web app client at `origin`: `/callback`, `/` after logout, `/backchannel-logout`
 * with `sid` required, code + refresh + client credentials grants, `client_secret_basic`.
 */
export function webAppClient(
  origin: string,
  clientId: string,
  clientSecret: string,
  metadata: Partial<ClientMetadata> = {},
): ClientMetadata {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [new URL("/callback", origin).href],
    post_logout_redirect_uris: [new URL("/", origin).href],
    backchannel_logout_uri: new URL("/backchannel-logout", origin).href,
    backchannel_logout_session_required: true,
    grant_types: ["authorization_code", "refresh_token", "client_credentials"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
    ...metadata,
  };
}
