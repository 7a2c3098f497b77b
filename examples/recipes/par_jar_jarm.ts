/**
 * README recipes: pushed authorization requests (RFC 9126), signed request objects (RFC 9101),
 * and the two other ways an authorization response arrives: a signed JWT (JARM) and a form POST.
 * Run by `tests/e2e/recipes_test.ts` against the embedded OpenID Provider with PAR, request
 * objects and JWT response modes on.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import type { Setup } from "./setup.ts";

/**
 * Pushes the authorization request and returns the URL to send the browser to.
 *
 * @param setup The shared setup.
 * @param codeChallenge The PKCE S256 challenge.
 * @param state The state.
 * @returns The authorization URL with only `client_id` and `request_uri`.
 */
export async function pushAuthorizationRequest(
  { as, client, clientAuth, redirectUri, options }: Setup,
  codeChallenge: string,
  state: string,
): Promise<URL> {
  // #region readme:par
  const par = await oauth.processPushedAuthorizationResponse(
    as,
    client,
    await oauth.pushedAuthorizationRequest(as, client, clientAuth, {
      redirect_uri: redirectUri,
      response_type: "code",
      scope: "openid",
      code_challenge: codeChallenge,
      code_challenge_method: "S256",
      state,
    }, options),
  );
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({ client_id: client.client_id, request_uri: par.request_uri })
    .toString();
  // #endregion readme:par
  return url;
}

/**
 * Signs the authorization request and returns the URL to send the browser to.
 *
 * @param setup The shared setup.
 * @param parameters The authorization request parameters.
 * @param privateKey The client's signing key.
 * @param kid Its key id, as registered.
 * @returns The authorization URL carrying `request`.
 */
export async function signAuthorizationRequest(
  { as, client }: Setup,
  parameters: Record<string, string>,
  privateKey: CryptoKey,
  kid: string,
): Promise<URL> {
  // #region readme:jar
  const request = await oauth.issueRequestObject(as, client, parameters, { key: privateKey, kid });
  const url = new URL(as.authorization_endpoint!);
  // OpenID Connect Core §6.1: response_type and scope travel outside the request object too
  url.search = new URLSearchParams({
    client_id: client.client_id,
    response_type: "code",
    scope: "openid",
    request,
  }).toString();
  // (or push it: oauth.pushedAuthorizationRequest(as, client, clientAuth, { request }))
  // #endregion readme:jar
  return url;
}

/**
 * Validates a `response_mode=jwt` callback.
 *
 * @param setup The shared setup.
 * @param request The callback request.
 * @param state The state sent.
 * @returns The validated parameters, for the code grant.
 */
export async function jarmCallback(
  { as, client, options }: Setup,
  request: Request,
  state: string,
): Promise<URLSearchParams> {
  // #region readme:jarm
  // response_mode=jwt: the signature is always verified against the server's JWKS
  const params = await oauth.validateJwtAuthResponse(
    as,
    client,
    new URL(request.url),
    state,
    options,
  );
  // #endregion readme:jarm
  return params;
}

/**
 * Validates a `response_mode=form_post` callback.
 *
 * @param setup The shared setup.
 * @param request The callback request (a POST).
 * @param state The state sent.
 * @returns The validated parameters, for the code grant.
 */
export async function formPostCallback(
  { as, client }: Setup,
  request: Request,
  state: string,
): Promise<URLSearchParams> {
  // #region readme:form-post
  // response_mode=form_post: the browser POSTs the parameters to the redirect URI
  const params = oauth.validateAuthResponse(
    as,
    client,
    await oauth.formPostResponse(request),
    state,
  );
  // #endregion readme:form-post
  return params;
}
