/**
 * README recipes: signing a user in with the authorization code flow and PKCE, the ID token's
 * signature, userinfo and a protected resource, and refresh. Run by `tests/e2e/recipes_test.ts`
 * against the embedded OpenID Provider.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import type { Setup } from "./setup.ts";

/** What step 1 keeps in the user's session for step 2. */
export interface Pending {
  codeVerifier: string;
  state: string;
  nonce: string;
}

/**
 * Step 1 of the code flow: the authorization URL to send the browser to.
 *
 * @param setup The shared setup.
 * @returns The URL and what to keep until the callback.
 */
export async function startSignIn(
  { as, client, redirectUri }: Setup,
): Promise<{ url: URL; pending: Pending }> {
  // #region readme:code-flow-start
  // 1. Before redirecting: keep codeVerifier, state and nonce in the user's session.
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid email offline_access",
    prompt: "consent", // some providers issue a refresh token only after consent
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
  }).toString();
  // #endregion readme:code-flow-start
  return { url, pending: { codeVerifier, state, nonce } };
}

/**
 * Step 2 of the code flow: the callback request, validated and redeemed.
 *
 * @param setup The shared setup.
 * @param request The request the browser made to the redirect URI.
 * @param pending What step 1 kept.
 * @returns The tokens and the ID token's claims.
 */
export async function finishSignIn(
  { as, client, clientAuth, redirectUri, options }: Setup,
  request: Request,
  { codeVerifier, state, nonce }: Pending,
): Promise<{ tokens: oauth.TokenEndpointResponse; claims: oauth.IDToken }> {
  // #region readme:code-flow-callback
  // 2. On the callback: check state and RFC 9207 iss, then redeem the code.
  const params = oauth.validateAuthResponse(as, client, new URL(request.url), state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    params,
    redirectUri,
    codeVerifier,
    options,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: nonce,
    requireIdToken: true,
  });
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  // #endregion readme:code-flow-callback
  // #region readme:id-token-signature
  await oauth.validateApplicationLevelSignature(as, response, options); // JWKS fetched once, then cached
  // #endregion readme:id-token-signature
  return { tokens, claims };
}

/**
 * Userinfo for the signed-in user, then an API call with the access token.
 *
 * @param setup The shared setup.
 * @param tokens The token response of the sign-in.
 * @param claims The ID token's claims.
 * @param api The API to call.
 * @returns The userinfo claims and the API's response.
 */
export async function callApis(
  { as, client, options }: Setup,
  tokens: oauth.TokenEndpointResponse,
  claims: oauth.IDToken,
  api: URL,
): Promise<{ userinfo: oauth.UserInfoResponse; response: Response }> {
  // #region readme:userinfo
  const userinfo = await oauth.processUserInfoResponse(
    as,
    client,
    claims.sub,
    await oauth.userInfoRequest(as, client, tokens.access_token, options),
  );
  const response = await oauth.protectedResourceRequest(
    tokens.access_token,
    "GET",
    api, // e.g. new URL("https://api.example/me")
    undefined,
    undefined,
    options,
  );
  // #endregion readme:userinfo
  return { userinfo, response };
}

/**
 * A refresh token grant.
 *
 * @param setup The shared setup.
 * @param tokens The token response holding the refresh token.
 * @returns The new tokens.
 */
export async function refresh(
  { as, client, clientAuth, options }: Setup,
  tokens: oauth.TokenEndpointResponse,
): Promise<oauth.TokenEndpointResponse> {
  // #region readme:refresh
  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, options),
  );
  // #endregion readme:refresh
  return refreshed;
}
