/**
 * README recipe: DPoP (RFC 9449), sender-constrained tokens, with the one retry a server's
 * `use_dpop_nonce` asks for (§8). Run by `tests/e2e/recipes_test.ts` against the embedded OpenID
 * Provider with DPoP on and nonces required.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import type { Setup } from "./setup.ts";

/**
 * Redeems validated callback parameters for DPoP-bound tokens and calls an API with them.
 *
 * @param setup The shared setup.
 * @param params The validated callback parameters.
 * @param codeVerifier The PKCE verifier of the authorization request.
 * @param apiUrl The API to call.
 * @returns The tokens and the API's response.
 */
export async function dpopSignIn(
  { as, client, clientAuth, redirectUri, options }: Setup,
  params: URLSearchParams,
  codeVerifier: string,
  apiUrl: URL,
): Promise<{ tokens: oauth.TokenEndpointResponse; api: Response }> {
  // #region readme:dpop
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  const request = () =>
    oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, codeVerifier, {
      ...options,
      DPoP,
    });
  let tokens;
  try {
    tokens = await oauth.processAuthorizationCodeResponse(as, client, await request());
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err;
    tokens = await oauth.processAuthorizationCodeResponse(as, client, await request()); // nonce now cached
  }
  const api = await oauth.protectedResourceRequest(
    tokens.access_token,
    "GET",
    apiUrl,
    undefined,
    undefined,
    { ...options, DPoP },
  );
  // #endregion readme:dpop
  return { tokens, api };
}
