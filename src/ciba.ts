/**
 * OpenID Connect Client-Initiated Backchannel Authentication (CIBA Core 1.0) in poll mode: the
 * authentication request (§7.1) and its acknowledgement (§7.3), then the token request (§10.1)
 * and its response (§10.1.1), which must carry an ID token. Polling errors
 * (`authorization_pending`, `slow_down`, `expired_token`, `access_denied`, §11) surface as
 * `ResponseBodyError`s carrying their `error`.
 *
 * @module
 */

import {
  assertAs,
  assertClient,
  assertNonEmptyString,
  assertResponse,
  toSearchParams,
} from "./_assert.ts";
import { checkStatus, readJsonObject } from "./_http.ts";
import { authenticatedPost, jsonHeaders } from "./client_auth.ts";
import { INVALID_RESPONSE, processingError } from "./errors.ts";
import {
  processTokenEndpointResponse,
  type ProcessTokenResponseOptions,
  tokenEndpointRequest,
  type TokenEndpointRequestOptions,
  withAdditional,
} from "./token_endpoint.ts";
import type {
  AuthorizationServer,
  Client,
  ClientAuth,
  HttpRequestOptions,
  JsonObject,
  JsonValue,
  TokenEndpointResponse,
} from "./types.ts";

/** The `grant_type` of the CIBA token request (CIBA Core §10.1). */
const CIBA_GRANT = "urn:openid:params:grant-type:ciba";

/** Options of {@link backchannelAuthenticationRequest}. */
export interface BackchannelAuthenticationRequestOptions
  extends HttpRequestOptions<"POST", URLSearchParams> {}

/** A validated authentication request acknowledgement (CIBA Core §7.3). */
export interface BackchannelAuthenticationResponse {
  /** Identifier of the authentication request, sent back in the token request. */
  readonly auth_req_id: string;
  /** Lifetime of `auth_req_id`, in seconds. */
  readonly expires_in: number;
  /** Minimum seconds between polling requests (5 when absent). */
  readonly interval?: number;
  /** Any other member. */
  readonly [parameter: string]: JsonValue | undefined;
}

/**
 * Starts a backchannel authentication (CIBA Core §7.1): the authorization server contacts the
 * user identified by a hint on their authentication device.
 *
 * The form goes to `as.backchannel_authentication_endpoint`, or to its mTLS alias when
 * `client.use_mtls_endpoint_aliases` is true, authenticated with `clientAuthentication`. The
 * parameters need a `scope` including `openid` and exactly one of `login_hint`, `id_token_hint`
 * or `login_hint_token`.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication (CIBA clients are confidential).
 * @param parameters Request parameters: `scope`, the hint, `binding_message`, `acr_values`, ….
 * @param options `[customFetch]`, `signal`, `headers`, `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processBackchannelAuthenticationResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for invalid arguments,
 *   before any request.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` without a backchannel
 *   authentication endpoint, `INVALID_SERVER_METADATA` when it is not a URL,
 *   `HTTP_REQUEST_FORBIDDEN` / `REQUEST_PROTOCOL_FORBIDDEN` for a non-`https:` one.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * const response = await oauth.backchannelAuthenticationRequest(
 *   as, client, oauth.ClientSecretBasic("secret"),
 *   { scope: "openid", login_hint: "alice@example.com", binding_message: "W4SCT" },
 * );
 * const { auth_req_id, interval = 5 } = await oauth.processBackchannelAuthenticationResponse(
 *   as, client, response,
 * );
 * ```
 * @see {@link https://openid.net/specs/openid-client-initiated-backchannel-authentication-core-1_0.html#auth_request | CIBA Core §7.1}
 */
export async function backchannelAuthenticationRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  parameters: URLSearchParams | Record<string, string> | string[][],
  options?: BackchannelAuthenticationRequestOptions,
): Promise<Response> {
  const body = toSearchParams(parameters, '"parameters"');
  return await authenticatedPost(
    as,
    client,
    clientAuthentication,
    "backchannel_authentication_endpoint",
    body,
    jsonHeaders(options),
    options,
  );
}

/**
 * Validates an authentication request acknowledgement (CIBA Core §7.3).
 *
 * Challenges and OAuth 2.0 error bodies (§13) are reported first; then the response must be
 * `200` with a JSON object whose `auth_req_id` is a non-empty string and `expires_in` a positive
 * number; `interval`, when present, must be a positive number.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param response The response of {@link backchannelAuthenticationRequest}.
 * @returns The acknowledgement.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error (e.g.
 *   `unknown_user_id`, `expired_login_hint_token`).
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `INVALID_RESPONSE` for a missing or mistyped member,
 *   `RESPONSE_IS_NOT_CONFORM` for another status, `RESPONSE_IS_NOT_JSON`, `PARSE_ERROR`,
 *   `RESPONSE_TOO_LARGE`.
 * @throws {TypeError} For invalid arguments or a consumed response.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * const { auth_req_id, expires_in } = await oauth.processBackchannelAuthenticationResponse(
 *   as, client, response,
 * );
 * ```
 * @see {@link https://openid.net/specs/openid-client-initiated-backchannel-authentication-core-1_0.html#auth_ack | CIBA Core §7.3}
 */
export async function processBackchannelAuthenticationResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
): Promise<BackchannelAuthenticationResponse> {
  assertAs(as);
  assertClient(client);
  assertResponse(response);
  await checkStatus(response, 200, "Backchannel Authentication Endpoint");
  const body = await readJsonObject(response);
  if (typeof body.auth_req_id !== "string" || body.auth_req_id.length === 0) {
    throw invalid('"response" body "auth_req_id" property must be a non-empty string', body, {
      attribute: "auth_req_id",
    });
  }
  requirePositiveNumber(body, "expires_in");
  if (body.interval !== undefined) requirePositiveNumber(body, "interval");
  return body as BackchannelAuthenticationResponse;
}

/**
 * Polls the token endpoint with the `auth_req_id` (CIBA Core §10.1).
 *
 * Call it every `interval` seconds (5 when the server gave none) until
 * {@link processBackchannelAuthenticationGrantResponse} returns tokens; add 5 seconds to the
 * interval whenever it throws a `ResponseBodyError` whose `error` is `slow_down` (§11).
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication.
 * @param authReqId The `auth_req_id` of the acknowledgement.
 * @param options `additionalParameters`, `DPoP`, `[customFetch]`, `signal`, `headers`,
 *   `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processBackchannelAuthenticationGrantResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` when `authReqId` is not a
 *   non-empty string, before any request.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` / `HTTP_REQUEST_FORBIDDEN` for the
 *   token endpoint.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const authReqId: string;
 * const response = await oauth.backchannelAuthenticationGrantRequest(
 *   as, client, oauth.ClientSecretBasic("secret"), authReqId,
 * );
 * ```
 * @see {@link https://openid.net/specs/openid-client-initiated-backchannel-authentication-core-1_0.html#token_request | CIBA Core §10.1}
 */
export async function backchannelAuthenticationGrantRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  authReqId: string,
  options?: TokenEndpointRequestOptions,
): Promise<Response> {
  assertNonEmptyString(authReqId, '"authReqId"');
  const params = withAdditional({ auth_req_id: authReqId }, options?.additionalParameters);
  return await tokenEndpointRequest(as, client, clientAuthentication, CIBA_GRANT, params, options);
}

/**
 * Validates a CIBA token response (CIBA Core §10.1.1): a token response (RFC 6749 §5.1) that
 * must carry an ID token, validated like any other (`alg`, `iss`, `aud`/`azp`, `exp`/`nbf`;
 * OpenID Connect Core §3.1.3.7). A response without `id_token` is refused.
 *
 * While the user has not finished, the server answers with an error (§11): the
 * `ResponseBodyError`'s `error` is `authorization_pending`, `slow_down`, `expired_token` or
 * `access_denied`.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param response The response of {@link backchannelAuthenticationGrantRequest}.
 * @param options `recognizedTokenTypes`, `[jweDecrypt]`.
 * @returns The token response, `token_type` lowercased; its ID token claims are available from
 *   `getValidatedIdTokenClaims`.
 * @throws {ResponseBodyError} For the polling errors above and any other OAuth 2.0 error.
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `INVALID_RESPONSE` (also for a missing ID token),
 *   `JWT_CLAIM_COMPARISON`, `JWT_TIMESTAMP_CHECK`, `RESPONSE_IS_NOT_JSON`,
 *   `RESPONSE_IS_NOT_CONFORM`, `PARSE_ERROR`.
 * @throws {UnsupportedOperationError} For an unrecognised `token_type` or an encrypted ID token
 *   without `[jweDecrypt]`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * const result = await oauth.processBackchannelAuthenticationGrantResponse(as, client, response);
 * const { sub } = oauth.getValidatedIdTokenClaims(result)!;
 * ```
 * @see {@link https://openid.net/specs/openid-client-initiated-backchannel-authentication-core-1_0.html#token_response | CIBA Core §10.1.1}
 */
export async function processBackchannelAuthenticationGrantResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
  options?: ProcessTokenResponseOptions,
): Promise<TokenEndpointResponse> {
  return await processTokenEndpointResponse(as, client, response, options, {
    requireIdToken: true,
  });
}

function invalid(message: string, body: JsonObject, extra: { attribute: string }) {
  // `auth_req_id` is a bearer credential at the token endpoint: keep it out of `cause`.
  const safe = typeof body.auth_req_id === "string" ? { ...body, auth_req_id: "[redacted]" } : body;
  return processingError(message, INVALID_RESPONSE, { body: safe, ...extra });
}

function requirePositiveNumber(body: JsonObject, name: string): void {
  const value = body[name];
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalid(`"response" body "${name}" property must be a positive number`, body, {
      attribute: name,
    });
  }
}
