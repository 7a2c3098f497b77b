/**
 * Pushed Authorization Requests (RFC 9126): the authenticated POST of the authorization request
 * parameters to `pushed_authorization_request_endpoint` (§2.1, with its RFC 8705 §5 mTLS alias and
 * an optional DPoP proof, RFC 9449 §10), and the validation of the `201 Created` response carrying
 * `request_uri` and `expires_in` (§2.2, §2.3).
 *
 * @module
 */

import { assertAs, assertClient, assertResponse, toSearchParams } from "./_assert.ts";
import { checkStatus, readJsonObject } from "./_http.ts";
import { authenticatedPost, jsonHeaders } from "./client_auth.ts";
import { argError, INVALID_RESPONSE, processingError } from "./errors.ts";
import type {
  AuthorizationServer,
  Client,
  ClientAuth,
  DPoPRequestOptions,
  HttpRequestOptions,
  JsonObject,
  JsonValue,
} from "./types.ts";

/** Options of {@link pushedAuthorizationRequest}. */
export interface PushedAuthorizationRequestOptions
  extends HttpRequestOptions<"POST", URLSearchParams>, DPoPRequestOptions {}

/** A validated pushed authorization response (RFC 9126 §2.2). */
export interface PushedAuthorizationResponse {
  /** The request URI to send to the authorization endpoint with `client_id`. */
  readonly request_uri: string;
  /** Lifetime of `request_uri`, in seconds. */
  readonly expires_in: number;
  /** Any other member. */
  readonly [parameter: string]: JsonValue | undefined;
}

/**
 * Pushes the authorization request parameters to the authorization server (RFC 9126 §2.1).
 *
 * The form goes to `as.pushed_authorization_request_endpoint`, or to its mTLS alias when
 * `client.use_mtls_endpoint_aliases` is true, authenticated with `clientAuthentication`;
 * `client_id` is always part of it. With `options.DPoP` the request carries a DPoP proof, which
 * binds the authorization code to the DPoP key (RFC 9449 §10); no `dpop_jkt` is needed then.
 * A `request_uri` parameter is refused before any I/O: RFC 9126 §2.1 forbids it here (authlane
 * addition).
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication, e.g. `ClientSecretPost(secret)` or `None()`.
 * @param parameters The authorization request parameters (`response_type`, `redirect_uri`,
 *   `scope`, `code_challenge`, …), or a single `request` parameter holding a request object
 *   from `issueRequestObject`.
 * @param options `DPoP`, `[customFetch]`, `signal`, `headers`, `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processPushedAuthorizationResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for invalid arguments or a
 *   `request_uri` parameter, before any request.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` without a PAR endpoint,
 *   `INVALID_SERVER_METADATA` when it is not a URL, `HTTP_REQUEST_FORBIDDEN` /
 *   `REQUEST_PROTOCOL_FORBIDDEN` for a non-`https:` one.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const codeChallenge: string;
 * const response = await oauth.pushedAuthorizationRequest(as, client, oauth.None(), {
 *   response_type: "code",
 *   redirect_uri: "https://app.example/cb",
 *   scope: "openid",
 *   code_challenge: codeChallenge,
 *   code_challenge_method: "S256",
 * });
 * const { request_uri } = await oauth.processPushedAuthorizationResponse(as, client, response);
 * const authorizationUrl = new URL(as.authorization_endpoint!);
 * authorizationUrl.searchParams.set("client_id", client.client_id);
 * authorizationUrl.searchParams.set("request_uri", request_uri);
 * ```
 * @example With DPoP
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const keyPair: CryptoKeyPair;
 * const DPoP = oauth.DPoP(client, keyPair);
 * const response = await oauth.pushedAuthorizationRequest(
 *   as, client, oauth.None(), { response_type: "code", redirect_uri: "https://app.example/cb" },
 *   { DPoP },
 * );
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9126#section-2.1 | RFC 9126 §2.1}
 */
export async function pushedAuthorizationRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  parameters: URLSearchParams | Record<string, string> | string[][],
  options?: PushedAuthorizationRequestOptions,
): Promise<Response> {
  assertAs(as);
  assertClient(client);
  const body = toSearchParams(parameters, '"parameters"');
  if (body.has("request_uri")) {
    throw argError(
      '"parameters" must not contain "request_uri" in a pushed authorization request',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  body.set("client_id", client.client_id);
  return await authenticatedPost(
    as,
    client,
    clientAuthentication,
    "pushed_authorization_request_endpoint",
    body,
    jsonHeaders(options),
    options,
  );
}

function invalid(message: string, body: JsonObject, attribute: string) {
  return processingError(message, INVALID_RESPONSE, { body, attribute });
}

/**
 * Validates a pushed authorization response (RFC 9126 §2.2, §2.3).
 *
 * A `WWW-Authenticate` challenge is refused first; then any status other than `201 Created` (an
 * OAuth 2.0 error body, such as `invalid_request` or a DPoP `use_dpop_nonce`, becomes a
 * {@link ResponseBodyError}); the body must be a JSON object whose `request_uri` is a non-empty
 * string and whose `expires_in` is a positive number.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param response The response of {@link pushedAuthorizationRequest}.
 * @returns The `request_uri`, `expires_in` and any other member.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for invalid arguments or a
 *   used body.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error.
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `RESPONSE_IS_NOT_CONFORM` for an unexpected status,
 *   `RESPONSE_IS_NOT_JSON`, `PARSE_ERROR`, `RESPONSE_TOO_LARGE`, and `INVALID_RESPONSE` for a
 *   missing or malformed `request_uri` or `expires_in`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * const { request_uri, expires_in } = await oauth.processPushedAuthorizationResponse(
 *   as, client, response,
 * );
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9126#section-2.2 | RFC 9126 §2.2}
 */
export async function processPushedAuthorizationResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
): Promise<PushedAuthorizationResponse> {
  assertAs(as);
  assertClient(client);
  assertResponse(response);
  await checkStatus(response, 201, "Pushed Authorization Request Endpoint");
  const body = await readJsonObject(response);
  // RFC 9126 §2.2: request_uri REQUIRED, expires_in REQUIRED (a positive integer of seconds).
  if (typeof body.request_uri !== "string" || body.request_uri.length === 0) {
    throw invalid(
      '"response" body "request_uri" property must be a non-empty string',
      body,
      "request_uri",
    );
  }
  const expiresIn = body.expires_in;
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw invalid(
      '"response" body "expires_in" property must be a positive number',
      body,
      "expires_in",
    );
  }
  return body as PushedAuthorizationResponse;
}
