/**
 * The OAuth 2.0 Device Authorization Grant (RFC 8628): the device authorization request (§3.1)
 * and the validation of its response (§3.2), then the device access token request (§3.4) and its
 * response (§3.5), whose polling errors (`authorization_pending`, `slow_down`, `expired_token`,
 * `access_denied`) surface as `ResponseBodyError`s carrying their `error`.
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

/** The `grant_type` of the device access token request (RFC 8628 §3.4). */
const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** Options of {@link deviceAuthorizationRequest}. */
export interface DeviceAuthorizationRequestOptions
  extends HttpRequestOptions<"POST", URLSearchParams> {}

/** A validated device authorization response (RFC 8628 §3.2). */
export interface DeviceAuthorizationResponse {
  /** The device verification code, sent back in {@link deviceCodeGrantRequest}. */
  readonly device_code: string;
  /** The end-user verification code, shown to the user. */
  readonly user_code: string;
  /** The end-user verification URI, shown to the user. */
  readonly verification_uri: string;
  /** Lifetime of `device_code` and `user_code`, in seconds. */
  readonly expires_in: number;
  /** A verification URI that includes the `user_code` (for QR codes, for example). */
  readonly verification_uri_complete?: string;
  /** Minimum seconds between polling requests. RFC 8628 §3.2 gives 5 as the default. */
  readonly interval?: number;
  /** Any other member. */
  readonly [parameter: string]: JsonValue | undefined;
}

/**
 * Starts the device flow: asks the authorization server for a device code and a user code
 * (RFC 8628 §3.1).
 *
 * The form goes to `as.device_authorization_endpoint`, or to its mTLS alias when
 * `client.use_mtls_endpoint_aliases` is true, authenticated with `clientAuthentication`.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication, e.g. `None()` for a public client.
 * @param parameters Request parameters such as `scope`.
 * @param options `[customFetch]`, `signal`, `headers`, `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processDeviceAuthorizationResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for invalid arguments,
 *   before any request.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` without a device authorization
 *   endpoint, `INVALID_SERVER_METADATA` when it is not a URL, `HTTP_REQUEST_FORBIDDEN` /
 *   `REQUEST_PROTOCOL_FORBIDDEN` for a non-`https:` one.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * const client: oauth.Client = { client_id: "tv-app" };
 * const response = await oauth.deviceAuthorizationRequest(as, client, oauth.None(), {
 *   scope: "openid profile",
 * });
 * const device = await oauth.processDeviceAuthorizationResponse(as, client, response);
 * console.log(`Visit ${device.verification_uri} and enter ${device.user_code}`);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc8628#section-3.1 | RFC 8628 §3.1}
 */
export async function deviceAuthorizationRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  parameters: URLSearchParams | Record<string, string> | string[][],
  options?: DeviceAuthorizationRequestOptions,
): Promise<Response> {
  const body = toSearchParams(parameters, '"parameters"');
  return await authenticatedPost(
    as,
    client,
    clientAuthentication,
    "device_authorization_endpoint",
    body,
    jsonHeaders(options),
    options,
  );
}

/**
 * Validates a device authorization response (RFC 8628 §3.2).
 *
 * Challenges and OAuth 2.0 error bodies are reported first; then the response must be `200` with
 * a JSON object whose `device_code`, `user_code` and `verification_uri` are non-empty strings and
 * whose `expires_in` is a positive number; `verification_uri_complete`, when present, must be a
 * non-empty string and `interval` a positive number.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param response The response of {@link deviceAuthorizationRequest}.
 * @returns The device authorization response.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error (e.g.
 *   `invalid_client`).
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
 * const { device_code, user_code, verification_uri, interval = 5 } = await oauth
 *   .processDeviceAuthorizationResponse(as, client, response);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc8628#section-3.2 | RFC 8628 §3.2}
 */
export async function processDeviceAuthorizationResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
): Promise<DeviceAuthorizationResponse> {
  assertAs(as);
  assertClient(client);
  assertResponse(response);
  await checkStatus(response, 200, "Device Authorization Endpoint");
  const body = await readJsonObject(response);
  for (const name of ["device_code", "user_code", "verification_uri"]) {
    requireNonEmptyString(body, name);
  }
  requirePositiveNumber(body, "expires_in");
  if (body.verification_uri_complete !== undefined) {
    requireNonEmptyString(body, "verification_uri_complete");
  }
  if (body.interval !== undefined) requirePositiveNumber(body, "interval");
  return body as DeviceAuthorizationResponse;
}

/**
 * Polls the token endpoint with the device code (RFC 8628 §3.4).
 *
 * Call it every `interval` seconds (5 when the server gave none) until
 * {@link processDeviceCodeResponse} returns tokens; add 5 seconds to the interval whenever it
 * throws a `ResponseBodyError` whose `error` is `slow_down` (§3.5).
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication.
 * @param deviceCode The `device_code` of the device authorization response.
 * @param options `additionalParameters`, `DPoP`, `[customFetch]`, `signal`, `headers`,
 *   `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processDeviceCodeResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` when the device code is
 *   not a non-empty string, before any request.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` / `HTTP_REQUEST_FORBIDDEN` for the
 *   token endpoint.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const device: oauth.DeviceAuthorizationResponse;
 * let interval = device.interval ?? 5;
 * for (;;) {
 *   await new Promise((resolve) => setTimeout(resolve, interval * 1000));
 *   const response = await oauth.deviceCodeGrantRequest(
 *     as, client, oauth.None(), device.device_code,
 *   );
 *   try {
 *     const tokens = await oauth.processDeviceCodeResponse(as, client, response);
 *     console.log(tokens.access_token);
 *     break;
 *   } catch (err) {
 *     if (!(err instanceof oauth.ResponseBodyError)) throw err;
 *     if (err.error === "slow_down") interval += 5;
 *     else if (err.error !== "authorization_pending") throw err;
 *   }
 * }
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc8628#section-3.4 | RFC 8628 §3.4}
 */
export async function deviceCodeGrantRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  deviceCode: string,
  options?: TokenEndpointRequestOptions,
): Promise<Response> {
  assertNonEmptyString(deviceCode, '"deviceCode"');
  const params = withAdditional({ device_code: deviceCode }, options?.additionalParameters);
  return await tokenEndpointRequest(
    as,
    client,
    clientAuthentication,
    DEVICE_CODE_GRANT,
    params,
    options,
  );
}

/**
 * Validates a device access token response (RFC 8628 §3.5) like any token response (RFC 6749
 * §5.1), including the ID token when one is present (without `nonce` or `auth_time`
 * expectations).
 *
 * While the user has not finished, the server answers with an error: the `ResponseBodyError`'s
 * `error` is `authorization_pending` (poll again), `slow_down` (poll again, 5 seconds slower),
 * `expired_token` (start over) or `access_denied` (the user refused).
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param response The response of {@link deviceCodeGrantRequest}.
 * @param options `recognizedTokenTypes`, `[jweDecrypt]`.
 * @returns The token response, `token_type` lowercased.
 * @throws {ResponseBodyError} For the polling errors above and any other OAuth 2.0 error.
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
 * try {
 *   const { access_token } = await oauth.processDeviceCodeResponse(as, client, response);
 * } catch (err) {
 *   if (err instanceof oauth.ResponseBodyError && err.error === "authorization_pending") {
 *     // poll again after the interval
 *   }
 * }
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc8628#section-3.5 | RFC 8628 §3.5}
 */
export async function processDeviceCodeResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
  options?: ProcessTokenResponseOptions,
): Promise<TokenEndpointResponse> {
  return await processTokenEndpointResponse(as, client, response, options, {});
}

/** A copy of the body fit for an error's `cause`: the device code is a credential. */
function redacted(body: JsonObject): JsonObject {
  return typeof body.device_code === "string" ? { ...body, device_code: "[redacted]" } : body;
}

function requireNonEmptyString(body: JsonObject, name: string): void {
  const value = body[name];
  if (typeof value !== "string" || value.length === 0) {
    throw processingError(
      `"response" body "${name}" property must be a non-empty string`,
      INVALID_RESPONSE,
      { body: redacted(body), attribute: name },
    );
  }
}

function requirePositiveNumber(body: JsonObject, name: string): void {
  const value = body[name];
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw processingError(
      `"response" body "${name}" property must be a positive number`,
      INVALID_RESPONSE,
      { body: redacted(body), attribute: name },
    );
  }
}
