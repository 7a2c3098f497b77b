/**
 * README recipes: service-to-service tokens (client credentials, RFC 6749 §4.4, for a resource
 * named with RFC 8707) and token exchange (RFC 8693) as an example of grants without a dedicated
 * helper. Run by `tests/e2e/recipes_test.ts`: client credentials against the embedded OpenID
 * Provider, token exchange against the fake authorization server.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import type { Setup } from "./setup.ts";

/**
 * A client credentials grant for the API at `https://api.example`.
 *
 * @param setup The shared setup.
 * @returns The access token.
 */
export async function serviceToken({ as, client, clientAuth, options }: Setup): Promise<string> {
  // #region readme:client-credentials
  const { access_token } = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(
      as,
      client,
      clientAuth,
      { scope: "api:read", resource: "https://api.example" }, // resource: RFC 8707
      options,
    ),
  );
  // #endregion readme:client-credentials
  return access_token;
}

/**
 * Exchanges an access token for another (RFC 8693).
 *
 * @param setup The shared setup.
 * @param accessToken The token to exchange.
 * @returns The token endpoint's response.
 */
export async function exchange(
  { as, client, clientAuth, options }: Setup,
  accessToken: string,
): Promise<oauth.TokenEndpointResponse> {
  // #region readme:token-exchange
  const exchanged = await oauth.processGenericTokenEndpointResponse(
    as,
    client,
    await oauth.genericTokenEndpointRequest(
      as,
      client,
      clientAuth,
      "urn:ietf:params:oauth:grant-type:token-exchange",
      {
        subject_token: accessToken,
        subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
      },
      options,
    ),
  );
  // #endregion readme:token-exchange
  return exchanged;
}
