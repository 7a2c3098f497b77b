/**
 * README recipe: FAPI 2.0 in short: PAR, PKCE, `private_key_jwt`, RFC 9207 `iss`, and
 * DPoP-bound tokens, the authorization code included (RFC 9449 §10). `examples/fapi2_client.ts`
 * is the whole client (and its mTLS variant). Run by `tests/e2e/recipes_test.ts` against the
 * embedded OpenID Provider with the FAPI 2.0 profile on.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import type { Setup } from "./setup.ts";

/**
 * Signs a user in the FAPI 2.0 way.
 *
 * @param setup The shared setup (its `clientAuth` is not used: the client signs assertions).
 * @param clientKey The client's private key.
 * @param kid Its key id, as registered.
 * @param authorize The browser's leg: sends the user to the URL, resolves with the callback URL.
 * @returns The DPoP-bound tokens.
 */
export async function fapi2SignIn(
  { as, client, redirectUri, options }: Setup,
  clientKey: CryptoKey,
  kid: string,
  authorize: (url: URL) => Promise<URL>,
): Promise<oauth.TokenEndpointResponse> {
  // #region readme:fapi2
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  const clientAuth = oauth.PrivateKeyJwt({ key: clientKey, kid });
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  // 1. push the request (PKCE S256, state), send only client_id + request_uri to the browser
  const par = await oauth.processPushedAuthorizationResponse(
    as,
    client,
    await oauth.pushedAuthorizationRequest(as, client, clientAuth, {
      response_type: "code",
      redirect_uri: redirectUri,
      scope: "openid",
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    }, { ...options, DPoP }),
  );
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({ client_id: client.client_id, request_uri: par.request_uri })
    .toString();
  const currentUrl = await authorize(url); // the browser's round trip, back at redirectUri
  // 2. on the callback: RFC 9207 iss and state, then the DPoP-bound code exchange
  const callback = oauth.validateAuthResponse(as, client, currentUrl, state);
  const tokens = await oauth.processAuthorizationCodeResponse(
    as,
    client,
    await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      callback,
      redirectUri,
      verifier,
      { ...options, DPoP },
    ),
  );
  // with mTLS instead of DPoP: TlsClientAuth() and client[clientCertificate] (see above)
  // #endregion readme:fapi2
  return tokens;
}
