/**
 * The refresh token grant (RFC 6749 §6), validating a refreshed ID token as OpenID Connect Core
 * §12.2 allows without the original one (the caller compares `sub` and `auth_time`).
 *
 * @module
 */

import { assertNonEmptyString } from "./_assert.ts";
import {
  processTokenEndpointResponse,
  type ProcessTokenResponseOptions,
  tokenEndpointRequest,
  type TokenEndpointRequestOptions,
  withAdditional,
} from "./token_endpoint.ts";
import type { AuthorizationServer, Client, ClientAuth, TokenEndpointResponse } from "./types.ts";

/**
 * Sends a refresh token grant request.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication.
 * @param refreshToken The refresh token.
 * @param options `additionalParameters` (e.g. a narrower `scope`), `DPoP`, `[customFetch]`,
 *   `signal`, `headers`.
 * @returns The raw response; pass it to {@link processRefreshTokenResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when the refresh token is not a non-empty string.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` / `HTTP_REQUEST_FORBIDDEN` for the
 *   token endpoint.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const refreshToken: string;
 * const response = await oauth.refreshTokenGrantRequest(
 *   as, client, oauth.ClientSecretBasic("secret"), refreshToken,
 * );
 * const result = await oauth.processRefreshTokenResponse(as, client, response);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc6749#section-6 | RFC 6749 §6}
 */
export async function refreshTokenGrantRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  refreshToken: string,
  options?: TokenEndpointRequestOptions,
): Promise<Response> {
  assertNonEmptyString(refreshToken, '"refreshToken"');
  const params = withAdditional({ refresh_token: refreshToken }, options?.additionalParameters);
  return await tokenEndpointRequest(
    as,
    client,
    clientAuthentication,
    "refresh_token",
    params,
    options,
  );
}

/**
 * Validates a refresh token grant response; an ID token in it is validated like the original one
 * (`alg`, `iss`, `aud`/`azp`, `exp`/`nbf`), without `nonce` or `auth_time` expectations.
 *
 * OpenID Connect Core §12.2 also requires the refreshed ID token's `sub` (and its `auth_time`, when
 * present) to equal the original ID token's. This function does not receive the original claims,
 * so compare them yourself: `getValidatedIdTokenClaims(result)?.sub === original.sub`.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param response The response of {@link refreshTokenGrantRequest}.
 * @param options `recognizedTokenTypes`, `[jweDecrypt]`.
 * @returns The token response, `token_type` lowercased.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error (e.g.
 *   `invalid_grant` for a revoked refresh token).
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `INVALID_RESPONSE`, `JWT_CLAIM_COMPARISON`,
 *   `JWT_TIMESTAMP_CHECK`, `RESPONSE_IS_NOT_JSON`, `RESPONSE_IS_NOT_CONFORM`, `PARSE_ERROR`.
 * @throws {UnsupportedOperationError} For an unrecognised `token_type`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * const { access_token, refresh_token } = await oauth.processRefreshTokenResponse(as, client, response);
 * ```
 * @see {@link https://openid.net/specs/openid-connect-core-1_0.html#RefreshTokenResponse | OpenID Connect Core §12.2}
 */
export async function processRefreshTokenResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
  options?: ProcessTokenResponseOptions,
): Promise<TokenEndpointResponse> {
  return await processTokenEndpointResponse(as, client, response, options, {});
}
