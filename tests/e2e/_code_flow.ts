/**
 * The steps of the authorization code flow that the end-to-end tests share, against the
 * oidc-provider harness (which knows nothing of authlane, so these live here): discovery over
 * `http:`, the parameters of a code + PKCE request with fresh state and nonce, the authorization
 * URL, and the code redeemed with the ID token bound to the request. A test writes out only the
 * step it is about.
 *
 * ```ts
 * const as = await discover(op);
 * const pending = await codeRequest(client.client_id, registered.redirect_uri);
 * const callback = await op.login(authorizationUrl(as, pending.params));
 * const params = oauth.validateAuthResponse(as, client, callback, pending.state);
 * const { claims } = await redeem(as, client, clientAuth, params, registered.redirect_uri, pending);
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import type { OidcProviderHarness } from "../_oidc_provider.ts";

/** Request options for the harness, which serves plain `http:` on loopback. */
export const http = { [oauth.allowInsecureRequests]: true } as const;

/**
 * Discovers the harness's metadata.
 *
 * @param op The running provider.
 * @returns Its validated metadata.
 */
export async function discover(op: OidcProviderHarness): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(op.issuer);
  return await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, http));
}

/** An authorization request's parameters and what the client keeps until the callback. */
export interface Pending {
  /** The query parameters of the authorization request. */
  params: Record<string, string>;
  /** The `state` sent. */
  state: string;
  /** The `nonce` sent. */
  nonce: string;
  /** The PKCE verifier of the `code_challenge` sent. */
  codeVerifier: string;
}

/**
 * The parameters of a code + PKCE authorization request (scope `openid email`), with fresh state
 * and nonce.
 *
 * @param clientId The client.
 * @param redirectUri The redirect URI.
 * @param extra Parameters added or replaced.
 * @returns The parameters, and what to keep.
 */
export async function codeRequest(
  clientId: string,
  redirectUri: string,
  extra: Record<string, string> = {},
): Promise<Pending> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const params = {
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid email",
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...extra,
  };
  return { params, state, nonce, codeVerifier };
}

/**
 * The authorization endpoint with `params` as its query.
 *
 * @param as The metadata.
 * @param params The query parameters.
 * @returns The URL to send the browser to.
 */
export function authorizationUrl(
  as: oauth.AuthorizationServer,
  params: Record<string, string>,
): URL {
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams(params).toString();
  return url;
}

/**
 * Redeems validated callback parameters with the request's PKCE verifier, requires an ID token
 * and checks that it is bound to the request (its `nonce`) and issued to the client (`aud`).
 *
 * @param as The metadata.
 * @param client The client.
 * @param clientAuth Its authentication.
 * @param params The callback parameters, validated.
 * @param redirectUri The redirect URI of the request.
 * @param pending What the request kept.
 * @param options Request options (DPoP, a client certificate).
 * @returns The tokens and the ID token's claims.
 */
export async function redeem(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  clientAuth: oauth.ClientAuth,
  params: URLSearchParams,
  redirectUri: string,
  pending: Pick<Pending, "codeVerifier" | "nonce">,
  options: oauth.TokenEndpointRequestOptions = http,
): Promise<{ claims: oauth.IDToken; tokens: oauth.TokenEndpointResponse }> {
  const tokens = await oauth.processAuthorizationCodeResponse(
    as,
    client,
    await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      redirectUri,
      pending.codeVerifier,
      options,
    ),
    { expectedNonce: pending.nonce, requireIdToken: true },
  );
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  assert.equal(claims.aud, client.client_id);
  assert.equal(claims.nonce, pending.nonce);
  return { claims, tokens };
}
