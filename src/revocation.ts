/**
 * OAuth 2.0 Token Revocation (RFC 7009): the authenticated revocation request (§2.1) and the
 * processing of its response (§2.2), where only `200` means success and error bodies (§2.2.1)
 * become `ResponseBodyError`s.
 *
 * @module
 */

import { assertNonEmptyString, assertResponse, toSearchParams } from "./_assert.ts";
import { checkStatus, discardBody, prepareHeaders } from "./_http.ts";
import { authenticatedPost } from "./client_auth.ts";
import type { AuthorizationServer, Client, ClientAuth, HttpRequestOptions } from "./types.ts";

/** Options of {@link revocationRequest}. */
export interface RevocationRequestOptions extends HttpRequestOptions<"POST", URLSearchParams> {
  /** Extra body parameters, such as `token_type_hint` (RFC 7009 §2.1). */
  additionalParameters?: URLSearchParams | Record<string, string> | string[][];
}

/**
 * Sends a token revocation request (RFC 7009 §2.1) for an access or refresh token.
 *
 * The request goes to `as.revocation_endpoint`, or to its mTLS alias when
 * `client.use_mtls_endpoint_aliases` is true, authenticated with `clientAuthentication`. The
 * `token` parameter always wins over one in `additionalParameters`. No `Accept` header is sent
 * (one among `headers` is dropped), as oauth4webapi does.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication, e.g. `ClientSecretBasic(secret)`.
 * @param token The token to revoke.
 * @param options `additionalParameters` (e.g. `token_type_hint`), `[customFetch]`, `signal`,
 *   `headers`, `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processRevocationResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` when `token` is not a
 *   non-empty string or another argument is invalid, before any request.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` when no endpoint is known,
 *   `INVALID_SERVER_METADATA` when it is not a URL, `HTTP_REQUEST_FORBIDDEN` /
 *   `REQUEST_PROTOCOL_FORBIDDEN` when it is not `https:` and insecure requests are not allowed.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const refreshToken: string;
 * const response = await oauth.revocationRequest(
 *   as, client, oauth.ClientSecretBasic("secret"), refreshToken,
 *   { additionalParameters: { token_type_hint: "refresh_token" } },
 * );
 * await oauth.processRevocationResponse(response);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7009#section-2.1 | RFC 7009 §2.1}
 */
export async function revocationRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  token: string,
  options?: RevocationRequestOptions,
): Promise<Response> {
  assertNonEmptyString(token, '"token"');
  const body = toSearchParams(options?.additionalParameters, '"options.additionalParameters"');
  body.set("token", token);
  // RFC 7009 §2.2: a successful response has no content to negotiate, so no Accept is sent (not
  // even the caller's), as oauth4webapi does.
  const headers = prepareHeaders(options?.headers);
  headers.delete("accept");
  return await authenticatedPost(
    as,
    client,
    clientAuthentication,
    "revocation_endpoint",
    body,
    headers,
    options,
  );
}

/**
 * Validates a token revocation response (RFC 7009 §2.2): a `WWW-Authenticate` challenge or an
 * OAuth 2.0 error body (§2.2.1, e.g. `unsupported_token_type`) is reported; any status but `200`
 * is refused. The body of a `200` response is ignored (cancelled), as §2.2 prescribes.
 *
 * @param response The response of {@link revocationRequest}.
 * @returns `undefined` once the revocation succeeded.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error.
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `RESPONSE_IS_NOT_CONFORM` for a status other than `200`
 *   without an error body.
 * @throws {TypeError} When `response` is not a `Response`, or is an error whose body was already read.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const response: Response;
 * await oauth.processRevocationResponse(response);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7009#section-2.2 | RFC 7009 §2.2}
 */
export async function processRevocationResponse(response: Response): Promise<undefined> {
  // The body of a success is never read (RFC 7009 §2.2), so one already read is no mistake.
  assertResponse(response, '"response"', false);
  await checkStatus(response, 200, "Revocation Endpoint");
  await discardBody(response);
  return undefined;
}
