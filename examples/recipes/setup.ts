/**
 * The README's recipes start here: the import, the `options` every request takes (with
 * `[allowInsecureRequests]` for a provider on this machine), and discovery. Each
 * `// #region readme:<name>` in `examples/recipes/` is a ```ts block of the README, verbatim
 * (after removing the region's indentation), and `tests/e2e/recipes_test.ts` runs every one of
 * them against the embedded OpenID Provider or the fake authorization server.
 *
 * @module
 */

// #region readme:import
import * as oauth from "@authlane/oauth";
// #endregion readme:import

/** The request options the recipes pass along: `[allowInsecureRequests]`, maybe a `[customFetch]`. */
export interface Options {
  /** `true` for a provider on this machine over http. */
  [oauth.allowInsecureRequests]?: boolean;
  /** How requests travel, when not `fetch` (the tests route some recipes to a fake server). */
  [oauth.customFetch]?: (
    url: string,
    init: oauth.CustomFetchOptions<string, unknown>,
  ) => Promise<Response>;
}

/** What every recipe starts from. */
export interface Setup {
  /** The authorization server's metadata. */
  as: oauth.AuthorizationServer;
  /** The client's registration. */
  client: oauth.Client;
  /** How the client authenticates at the token endpoint. */
  clientAuth: oauth.ClientAuth;
  /** The registered redirect URI. */
  redirectUri: string;
  /** Passed to every call that sends a request. */
  options: Options;
}

/**
 * Discovers the provider at `issuer` and returns the shared setup.
 *
 * @param issuer The issuer identifier.
 * @param client The client's registration.
 * @param clientAuth The client's authentication.
 * @param redirectUri The registered redirect URI.
 * @returns The setup every other recipe takes.
 */
export async function setUp(
  issuer: URL,
  client: oauth.Client,
  clientAuth: oauth.ClientAuth,
  redirectUri: string,
): Promise<Setup> {
  // #region readme:setup
  // http: only for a provider on this machine (see "Local development over http")
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(issuer.hostname);
  const options = { [oauth.allowInsecureRequests]: local };

  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, options),
  );
  // RFC 8414 servers: oauth.discoveryRequest(issuer, { ...options, algorithm: "oauth2" })
  // #endregion readme:setup
  return { as, client, clientAuth, redirectUri, options };
}
