/**
 * README recipe: a provider without discovery (a GitHub-style OAuth app): the
 * `AuthorizationServer` object written by hand, then the code flow with PKCE as usual, without
 * OpenID Connect. Run by `tests/e2e/recipes_test.ts` against the fake authorization server, to
 * which the test routes the GitHub URLs.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import type { Options } from "./setup.ts";

/**
 * The metadata, client and client authentication of a GitHub OAuth app.
 *
 * @param clientId The app's client id.
 * @param clientSecret The app's client secret.
 * @returns What the code flow recipes take.
 */
export function gitHub(clientId: string, clientSecret: string): {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
} {
  // #region readme:manual-metadata
  // GitHub OAuth apps (and many in-house servers) publish no metadata: write what you use.
  const as: oauth.AuthorizationServer = {
    issuer: "https://github.com", // required; compared with an RFC 9207 `iss` when one arrives
    authorization_endpoint: "https://github.com/login/oauth/authorize",
    token_endpoint: "https://github.com/login/oauth/access_token",
  };
  const client: oauth.Client = { client_id: clientId };
  const clientAuth = oauth.ClientSecretPost(clientSecret);
  // #endregion readme:manual-metadata
  return { as, client, clientAuth };
}

/**
 * The code flow's callback, OAuth only (no ID token).
 *
 * @param as The metadata.
 * @param client The client.
 * @param clientAuth Its authentication.
 * @param request The callback request.
 * @param pending What the authorization request kept.
 * @param redirectUri The redirect URI.
 * @param options Request options.
 * @returns The tokens.
 */
export async function gitHubCallback(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  clientAuth: oauth.ClientAuth,
  request: Request,
  { state, codeVerifier }: { state: string; codeVerifier: string },
  redirectUri: string,
  options: Options,
): Promise<oauth.TokenEndpointResponse> {
  // #region readme:manual-metadata-callback
  const params = oauth.validateAuthResponse(as, client, new URL(request.url), state);
  const tokens = await oauth.processAuthorizationCodeResponse(
    as,
    client,
    await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      redirectUri,
      codeVerifier,
      options,
    ),
  );
  // #endregion readme:manual-metadata-callback
  return tokens;
}
