/**
 * The client credentials grant (RFC 6749 §4.4).
 *
 * @module
 */

import { toSearchParams } from "./_assert.ts";
import {
  processTokenEndpointResponse,
  type ProcessTokenResponseOptions,
  tokenEndpointRequest,
} from "./token_endpoint.ts";
import type {
  AuthorizationServer,
  Client,
  ClientAuth,
  DPoPRequestOptions,
  HttpRequestOptions,
  TokenEndpointResponse,
} from "./types.ts";

/** Options of {@link clientCredentialsGrantRequest}. */
export interface ClientCredentialsGrantRequestOptions
  extends HttpRequestOptions<"POST", URLSearchParams>, DPoPRequestOptions {}

/**
 * Sends a client credentials grant request.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication (a confidential client's).
 * @param parameters Grant parameters such as `scope` or `resource` (RFC 8707).
 * @param options `DPoP`, `[customFetch]`, `signal`, `headers`.
 * @returns The raw response; pass it to {@link processClientCredentialsResponse}.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` / `HTTP_REQUEST_FORBIDDEN` for the
 *   token endpoint.
 * @throws {TypeError} For invalid arguments, before any request.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * const client: oauth.Client = { client_id: "service" };
 * const response = await oauth.clientCredentialsGrantRequest(
 *   as, client, oauth.ClientSecretBasic("secret"), { scope: "api:read" },
 * );
 * const { access_token } = await oauth.processClientCredentialsResponse(as, client, response);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc6749#section-4.4 | RFC 6749 §4.4}
 */
export async function clientCredentialsGrantRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  parameters: URLSearchParams | Record<string, string> | string[][],
  options?: ClientCredentialsGrantRequestOptions,
): Promise<Response> {
  const params = toSearchParams(parameters, '"parameters"');
  return await tokenEndpointRequest(
    as,
    client,
    clientAuthentication,
    "client_credentials",
    params,
    options,
  );
}

/**
 * Validates a client credentials grant response.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param response The response of {@link clientCredentialsGrantRequest}.
 * @param options `recognizedTokenTypes`, `[jweDecrypt]`.
 * @returns The token response, `token_type` lowercased.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error (e.g.
 *   `invalid_client`).
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `INVALID_RESPONSE`, `RESPONSE_IS_NOT_JSON`,
 *   `RESPONSE_IS_NOT_CONFORM`, `PARSE_ERROR`.
 * @throws {UnsupportedOperationError} For an unrecognised `token_type`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * const { access_token, expires_in } = await oauth.processClientCredentialsResponse(as, client, response);
 * ```
 */
export async function processClientCredentialsResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
  options?: ProcessTokenResponseOptions,
): Promise<TokenEndpointResponse> {
  return await processTokenEndpointResponse(as, client, response, options, {});
}
