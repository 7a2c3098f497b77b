/**
 * Where a request may go: endpoint resolution from authorization server metadata with RFC 8705 §5
 * mTLS aliases, the `https:` rule (`[allowInsecureRequests]`), URLs with credentials refused
 * (RFC 9110 §4.2.4), and the media type of a request or response. Public helpers of
 * oauth4webapi's API; `_http.ts` applies them to every request.
 *
 * @module
 */

import { isJsonObject, parseUrl } from "./_assert.ts";
import {
  displayUrl,
  HTTP_REQUEST_FORBIDDEN,
  INVALID_SERVER_METADATA,
  MISSING_SERVER_METADATA,
  processingError,
  REQUEST_PROTOCOL_FORBIDDEN,
} from "./errors.ts";
import type { AuthorizationServer } from "./types.ts";

/**
 * Checks that a URL may be requested: `https:` always, `http:` only with
 * `[allowInsecureRequests]`, nothing else ever.
 *
 * @param url The URL about to be requested.
 * @param enforceHttps Whether `http:` is refused (true unless insecure requests are allowed).
 * @throws {OperationProcessingError} `REQUEST_PROTOCOL_FORBIDDEN` for a scheme other than
 *   `https:`/`http:`, `HTTP_REQUEST_FORBIDDEN` for `http:` when `enforceHttps` is true.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * oauth.checkProtocol(new URL("https://as.example/token"), true);
 * ```
 */
export function checkProtocol(url: URL, enforceHttps: boolean | undefined): void {
  if (url.protocol === "https:") return;
  if (url.protocol !== "http:") {
    throw processingError(
      `only requests to HTTPS or HTTP URLs are allowed, not ${url.protocol} (${displayUrl(url)})`,
      REQUEST_PROTOCOL_FORBIDDEN,
      url,
    );
  }
  if (enforceHttps) {
    throw processingError(
      `only requests to HTTPS are allowed, not ${displayUrl(url)}; set ` +
        "[allowInsecureRequests]: true in the options to allow http: (local development only)",
      HTTP_REQUEST_FORBIDDEN,
      url,
    );
  }
}

/**
 * Resolves an endpoint from authorization server metadata, preferring its mTLS alias
 * (RFC 8705 §5) when `useMtlsAlias` is true, and checks its protocol. A URL carrying
 * `user:pass@` credentials is refused (RFC 9110 §4.2.4).
 *
 * @param as Authorization server metadata.
 * @param endpoint The metadata member holding the endpoint, e.g. `"token_endpoint"`.
 * @param useMtlsAlias Whether to use `as.mtls_endpoint_aliases[endpoint]` when present.
 * @param enforceHttps Whether a non-`https:` URL is refused.
 * @returns The endpoint URL.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` when the endpoint is absent,
 *   `INVALID_SERVER_METADATA` when it is not a URL or carries credentials, and the codes of
 *   {@link checkProtocol}.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * const url = oauth.resolveEndpoint(as, "token_endpoint", false, true);
 * ```
 */
export function resolveEndpoint(
  as: AuthorizationServer,
  endpoint: keyof AuthorizationServer,
  useMtlsAlias: boolean | undefined,
  enforceHttps: boolean | undefined,
): URL {
  const aliases = useMtlsAlias === true ? as.mtls_endpoint_aliases : undefined;
  const value = (isJsonObject(aliases) ? aliases[endpoint] : undefined) ?? as[endpoint];
  if (value === undefined) {
    throw processingError(
      `authorization server metadata does not contain ${JSON.stringify(endpoint)}`,
      MISSING_SERVER_METADATA,
      { attribute: endpoint },
    );
  }
  const url = typeof value === "string" ? parseUrl(value) : null;
  if (url === null) {
    throw processingError(
      `authorization server metadata ${JSON.stringify(endpoint)} must be a URL`,
      INVALID_SERVER_METADATA,
      { attribute: endpoint, value },
    );
  }
  if (hasCredentials(url)) {
    // RFC 9110 §4.2.4: userinfo in an http(s) URI from an untrusted source is an error (it hides
    // the authority; fetch would also turn it into a second Authorization value).
    throw processingError(
      `authorization server metadata ${JSON.stringify(endpoint)} must not carry credentials`,
      INVALID_SERVER_METADATA,
      { attribute: endpoint },
    );
  }
  checkProtocol(url, enforceHttps);
  return url;
}

/** Whether a URL carries `user:pass@` credentials (RFC 3986 §3.2.1 userinfo). */
export function hasCredentials(url: URL): boolean {
  return url.username !== "" || url.password !== "";
}

/**
 * Returns the media type of a request or response (the `Content-Type` without parameters,
 * lowercased), or `undefined` without one.
 *
 * @param input A `Request` or `Response`.
 * @returns The media type, such as `"application/json"`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const response: Response;
 * if (oauth.getContentType(response) === "application/jwt") {
 *   // signed response
 * }
 * ```
 */
export function getContentType(input: Response | Request): string | undefined {
  const value = input.headers.get("content-type");
  if (value === null) return undefined;
  const semi = value.indexOf(";");
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase() || undefined;
}
