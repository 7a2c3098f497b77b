/**
 * Requests to protected resources with an access token: `Authorization: Bearer` (RFC 6750 §2.1)
 * or `Authorization: DPoP` with a proof bound to the token (RFC 9449 §7.1), and the resource
 * server's `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9449 §7.1, §9) surfaced as errors.
 *
 * @module
 */

import { assertNonEmptyString, assertURL, isJsonObject } from "./_assert.ts";
import {
  dpopOf,
  enforcesHttps,
  type HttpOptions,
  prepareHeaders,
  send,
  transportFor,
} from "./_http.ts";
import { checkProtocol } from "./endpoints.ts";
import { argError } from "./errors.ts";
import type { DPoPRequestOptions, HttpRequestOptions } from "./types.ts";
import { checkAuthenticationChallenges } from "./www_authenticate.ts";

/** What {@link protectedResourceRequest} may send as a request body. */
export type ProtectedResourceRequestBody =
  | ArrayBuffer
  | null
  | ReadableStream
  | string
  | Uint8Array
  | undefined
  | URLSearchParams;

/**
 * Options of {@link protectedResourceRequest}: `DPoP`, `[customFetch]`, `signal` and
 * `[allowInsecureRequests]`. Headers are a parameter of their own.
 */
export interface ProtectedResourceRequestOptions
  extends
    Omit<HttpRequestOptions<string, ProtectedResourceRequestBody>, "headers">,
    DPoPRequestOptions {}

/** RFC 9110 §5.6.2 `token`, the syntax of a method (§9.1). */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Methods the Fetch standard refuses to send. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** Methods the Fetch standard uppercases; others are sent, and put in `htm`, as given. */
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);

/** Normalises a method the way `fetch` will, so the DPoP `htm` claim matches what is sent. */
function normalizeMethod(method: unknown): string {
  assertNonEmptyString(method, '"method"');
  if (!METHOD.test(method)) {
    throw argError('"method" must be an HTTP method token', "ERR_INVALID_ARG_VALUE");
  }
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) {
    throw argError(`"method" must not be ${upper}`, "ERR_INVALID_ARG_VALUE");
  }
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

/**
 * Sends a request to a protected resource with an access token (RFC 6750 §2.1), or with a
 * DPoP-bound access token and a proof (RFC 9449 §7.1) when `options.DPoP` is given.
 *
 * Without DPoP the request carries `Authorization: Bearer <token>`. With DPoP it carries
 * `Authorization: DPoP <token>` and a `DPoP` proof whose `htm` is the method, `htu` the URL
 * without query and fragment, `ath` the hash of the token, and `nonce` the last `DPoP-Nonce` this
 * resource's origin sent. The caller's `headers` are kept, except that they may not contain
 * `Authorization`. A `DPoP` header among them is an externally formed proof: it is sent as is,
 * with `Authorization: DPoP <token>` (a handle's proof replaces it when `options.DPoP` is given
 * too). The method is normalised as `fetch` does (`get` → `GET`), and
 * `http:` URLs are refused unless `[allowInsecureRequests]`. Redirects are not followed. For a
 * certificate-bound token (RFC 8705 §3), pass `mtlsFetch(certificate)` as `[customFetch]`.
 *
 * The response is returned as it is, whatever its status, unless it carries a
 * well-formed `WWW-Authenticate` challenge: then a {@link WWWAuthenticateChallengeError} is
 * thrown (as oauth4webapi does) whose `response` still has its body unread, so
 * {@link isDPoPNonceError} can tell when to retry. A `DPoP-Nonce` header is remembered by the
 * handle before that, so the retry carries it. A header the RFC 9110 grammar does not allow
 * carries no challenge: the response is returned.
 *
 * @param accessToken The access token.
 * @param method The HTTP method, such as `"GET"` or `"POST"`.
 * @param url The resource URL.
 * @param headers Extra request headers.
 * @param body The request body (not with `GET` or `HEAD`).
 * @param options `DPoP`, `[customFetch]`, `signal`, `[allowInsecureRequests]`.
 * @returns The resource server's response; its body is unread.
 * @throws {WWWAuthenticateChallengeError} `WWW_AUTHENTICATE_CHALLENGE` when the response carries
 *   a challenge (such as `Bearer error="invalid_token"` or `DPoP error="use_dpop_nonce"`).
 * @throws {OperationProcessingError} `HTTP_REQUEST_FORBIDDEN` for an `http:` URL without
 *   `[allowInsecureRequests]`, `REQUEST_PROTOCOL_FORBIDDEN` for other schemes.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` before any request for an
 *   empty token, a `url` that is not a `URL`, an invalid or forbidden method, a body with
 *   `GET`/`HEAD`, `Authorization` among `headers`, or a URL with `user:pass@` credentials.
 * @throws {TypeError} `NETWORK_ERROR` or `TLS_ERROR` when no response arrives (fetch's
 *   `TypeError`, raised again with the URL and the reason; the original is the `cause`).
 * @throws {DOMException} `TimeoutError` (`REQUEST_TIMEOUT`) or `AbortError` (`REQUEST_ABORTED`)
 *   from the signal.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const accessToken: string;
 * const response = await oauth.protectedResourceRequest(
 *   accessToken, "GET", new URL("https://rs.example/api/me"),
 * );
 * console.log(await response.json());
 * ```
 * @example With DPoP, retrying once for a nonce
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const accessToken: string;
 * declare const DPoP: oauth.DPoPHandle;
 * const url = new URL("https://rs.example/api/orders");
 * const headers = new Headers({ "content-type": "application/json" });
 * const call = () =>
 *   oauth.protectedResourceRequest(accessToken, "POST", url, headers, '{"item":1}', { DPoP });
 * const response = await call().catch((err) => {
 *   if (oauth.isDPoPNonceError(err)) return call();
 *   throw err;
 * });
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc6750#section-2.1 | RFC 6750 §2.1}
 * @see {@link https://www.rfc-editor.org/rfc/rfc9449#section-7.1 | RFC 9449 §7.1}
 */
export async function protectedResourceRequest(
  accessToken: string,
  method: string,
  url: URL,
  headers?: Headers,
  body?: ProtectedResourceRequestBody,
  options?: ProtectedResourceRequestOptions,
): Promise<Response> {
  assertNonEmptyString(accessToken, '"accessToken"');
  const httpMethod = normalizeMethod(method);
  assertURL(url, '"url"');
  if (options !== undefined && !isJsonObject(options)) {
    throw argError('"options" must be an object');
  }
  if ((httpMethod === "GET" || httpMethod === "HEAD") && body !== undefined && body !== null) {
    throw argError(`"body" must be absent for ${httpMethod} requests`, "ERR_INVALID_ARG_VALUE");
  }
  const httpOptions = options as HttpOptions | undefined;
  checkProtocol(url, enforcesHttps(httpOptions));
  const transport = transportFor(undefined, httpOptions);
  const dpop = dpopOf(options);
  const requestHeaders = prepareHeaders(headers, '"headers"');
  // RFC 9449 §7.1: a DPoP-bound token travels with the DPoP scheme, whether the proof comes from
  // the DPoP handle or was formed by the caller and passed in `headers`.
  const scheme = dpop !== undefined || requestHeaders.has("dpop") ? "DPoP" : "Bearer";
  requestHeaders.set("authorization", `${scheme} ${accessToken}`);
  const response = await send({
    url,
    method: httpMethod,
    headers: requestHeaders,
    body: body ?? undefined,
    options: httpOptions,
    transport,
    dpop,
    accessToken,
  });
  // The error keeps the response with its body unread: the caller may want it.
  checkAuthenticationChallenges(response);
  return response;
}
