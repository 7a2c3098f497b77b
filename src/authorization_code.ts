/**
 * The authorization code grant (RFC 6749 §4.1.3, §4.1.4) with PKCE (RFC 7636 §4.5) and OpenID
 * Connect ID token validation (Core §3.1.3.5–§3.1.3.7).
 *
 * @module
 */

import { assertNonEmptyString } from "./_assert.ts";
import { isValidated } from "./_callback.ts";
import { argError, INVALID_RESPONSE, processingError } from "./errors.ts";
import { assertMaxAge } from "./id_token.ts";
import { expectNoNonce, nopkce, skipAuthTimeCheck } from "./symbols.ts";
import {
  processTokenEndpointResponse,
  type ProcessTokenResponseOptions,
  tokenEndpointRequest,
  type TokenEndpointRequestOptions,
  withAdditional,
} from "./token_endpoint.ts";
import type { AuthorizationServer, Client, ClientAuth, TokenEndpointResponse } from "./types.ts";

/**
 * Sends the authorization code grant request: the `code` from validated callback parameters, the
 * `redirect_uri` of the authorization request, and the PKCE `code_verifier`.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication, e.g. `None()` for public clients.
 * @param callbackParameters Parameters returned by `validateAuthResponse` (or
 *   `validateJwtAuthResponse` and the hybrid validators); raw parameters are refused so the
 *   `state` and RFC 9207 `iss` checks cannot be skipped by mistake.
 * @param redirectUri The `redirect_uri` sent in the authorization request.
 * @param codeVerifier The PKCE code verifier, or `nopkce` when the request used no PKCE.
 * @param options `additionalParameters`, `DPoP`, `[customFetch]`, `signal`, `headers`.
 * @returns The raw response; pass it to {@link processAuthorizationCodeResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for unvalidated parameters, `ERR_INVALID_ARG_TYPE`
 *   for a missing code verifier, before any request.
 * @throws {OperationProcessingError} `INVALID_RESPONSE` when the parameters hold no `code`;
 *   `MISSING_SERVER_METADATA` / `HTTP_REQUEST_FORBIDDEN` for the token endpoint.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const currentUrl: URL;
 * declare const state: string;
 * declare const codeVerifier: string;
 * const params = oauth.validateAuthResponse(as, client, currentUrl, state);
 * const response = await oauth.authorizationCodeGrantRequest(
 *   as, client, oauth.None(), params, "https://app.example/cb", codeVerifier,
 * );
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3 | RFC 6749 §4.1.3}
 */
export async function authorizationCodeGrantRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  callbackParameters: URLSearchParams,
  redirectUri: string,
  codeVerifier: string | typeof nopkce,
  options?: TokenEndpointRequestOptions,
): Promise<Response> {
  if (!isValidated(callbackParameters)) {
    throw argError(
      '"callbackParameters" must be an instance of URLSearchParams obtained from "validateAuthResponse()", or "validateJwtAuthResponse()"',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  assertNonEmptyString(redirectUri, '"redirectUri"');
  const code = callbackParameters.get("code");
  if (!code) {
    throw processingError('no authorization code in "callbackParameters"', INVALID_RESPONSE);
  }
  const own: Record<string, string> = { redirect_uri: redirectUri, code };
  if (codeVerifier !== nopkce) {
    assertNonEmptyString(codeVerifier, '"codeVerifier"');
    own.code_verifier = codeVerifier;
  }
  const params = withAdditional(own, options?.additionalParameters);
  return await tokenEndpointRequest(
    as,
    client,
    clientAuthentication,
    "authorization_code",
    params,
    options,
  );
}

/** Options of {@link processAuthorizationCodeResponse}. */
export interface ProcessAuthorizationCodeResponseOptions extends ProcessTokenResponseOptions {
  /**
   * The `nonce` sent in the authorization request; `expectNoNonce` when none was sent.
   * @default expectNoNonce
   */
  expectedNonce?: string | typeof expectNoNonce;
  /**
   * The `max_age` sent in the authorization request, or `skipAuthTimeCheck`.
   * @default client.default_max_age
   */
  maxAge?: number | typeof skipAuthTimeCheck;
  /**
   * Whether the response must contain an ID token. It is also required when `expectedNonce` is a
   * string (a nonce was sent, so an OpenID Connect response is expected) or `maxAge` is a number
   * (the `auth_time` check needs one).
   * @default false
   */
  requireIdToken?: boolean;
}

/**
 * Validates the authorization code grant response. When it contains an ID token, the token is
 * validated per OpenID Connect Core §3.1.3.7: `alg` policy (checked on the header even though the
 * signature is trusted on TLS), `iss`, `aud`/`azp`, `exp`/`nbf` with `[clockSkew]` and
 * `[clockTolerance]`, `nonce`, and `auth_time` against `maxAge` / `default_max_age` /
 * `require_auth_time`; unknown `crit` headers are refused.
 *
 * An ID token is required when `requireIdToken` is set or `maxAge` is a number, and also (unlike
 * oauth4webapi) when `expectedNonce` is a string: a client that sent a nonce asked for OpenID
 * Connect, and a response without the ID token would otherwise skip the nonce check silently.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param response The response of {@link authorizationCodeGrantRequest}.
 * @param options `expectedNonce`, `maxAge`, `requireIdToken`, `recognizedTokenTypes`,
 *   `[jweDecrypt]`.
 * @returns The token response; {@link getValidatedIdTokenClaims} returns its ID token claims.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error (e.g.
 *   `invalid_grant`).
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `INVALID_RESPONSE`, `JWT_CLAIM_COMPARISON`,
 *   `JWT_TIMESTAMP_CHECK`, `RESPONSE_IS_NOT_JSON`, `RESPONSE_IS_NOT_CONFORM`, `PARSE_ERROR`.
 * @throws {UnsupportedOperationError} For an unrecognised `token_type`, an unsupported `alg` or
 *   `crit`, or an encrypted ID token without `[jweDecrypt]`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * declare const nonce: string;
 * const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
 *   expectedNonce: nonce,
 *   requireIdToken: true,
 * });
 * const claims = oauth.getValidatedIdTokenClaims(result)!;
 * ```
 * @see {@link https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation | OpenID Connect Core §3.1.3.7}
 */
export async function processAuthorizationCodeResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
  options?: ProcessAuthorizationCodeResponseOptions,
): Promise<TokenEndpointResponse> {
  const expectedNonce = options?.expectedNonce ?? expectNoNonce;
  if (expectedNonce !== expectNoNonce) {
    assertNonEmptyString(expectedNonce, '"options.expectedNonce"');
  }
  const maxAge = options?.maxAge;
  if (maxAge !== undefined && maxAge !== skipAuthTimeCheck) {
    assertMaxAge(maxAge, '"options.maxAge"');
  }
  return await processTokenEndpointResponse(as, client, response, options, {
    expectedNonce,
    maxAge,
    authTime: true,
    // As in oauth4webapi, a numeric maxAge asks for OpenID Connect: without an ID token the
    // max_age check (OpenID Connect Core §3.1.3.7 (13)) would be skipped silently.
    requireIdToken: options?.requireIdToken === true || typeof expectedNonce === "string" ||
      typeof maxAge === "number",
  });
}
