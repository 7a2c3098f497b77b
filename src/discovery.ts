/**
 * Metadata discovery: authorization server metadata by OpenID Connect Discovery 1.0 §4 (the
 * `/.well-known/openid-configuration` suffix) or RFC 8414 §3 (the
 * `/.well-known/oauth-authorization-server` path insertion), and protected resource metadata by
 * RFC 9728 §3 (`/.well-known/oauth-protected-resource`). The responses are checked per
 * RFC 8414 §3.3 / OIDC Discovery §4.3 (the `issuer` must be the one asked for) and RFC 9728 §3.3
 * (the `resource` must be the one asked for), and the members authlane relies on must have their
 * declared JSON types.
 *
 * @module
 */

import { assertResponse, assertURL, isJsonObject } from "./_assert.ts";
import {
  checkMetadataStatus,
  enforcesHttps,
  prepareHeaders,
  readJsonObject,
  send,
  transportFor,
} from "./_http.ts";
import { checkProtocol } from "./endpoints.ts";
import {
  argError,
  describeResponse,
  INVALID_RESPONSE,
  JSON_ATTRIBUTE_COMPARISON,
  processingError,
  quote,
} from "./errors.ts";
import { _nodiscoverycheck } from "./symbols.ts";
import type { AuthorizationServer, HttpRequestOptions, JsonObject, JsonValue } from "./types.ts";

/** Options of {@link discoveryRequest}. */
export interface DiscoveryRequestOptions extends HttpRequestOptions<"GET"> {
  /**
   * How the metadata URL is built from the issuer identifier: `"oidc"` appends
   * `/.well-known/openid-configuration` to the issuer's path (OpenID Connect Discovery 1.0 §4.1),
   * `"oauth2"` inserts `/.well-known/oauth-authorization-server` between the host and the path
   * (RFC 8414 §3.1).
   *
   * @default "oidc"
   */
  algorithm?: "oidc" | "oauth2";
}

/** Protected resource metadata (RFC 9728 §2). */
export interface ResourceServer {
  /** The resource identifier; always equal to the one discovery was started from. */
  readonly resource: string;
  /** Issuer identifiers of the authorization servers that issue tokens for this resource. */
  readonly authorization_servers?: string[];
  /** URL of the resource's JSON Web Key Set. */
  readonly jwks_uri?: string;
  /** Scope values used in authorization requests for this resource. */
  readonly scopes_supported?: string[];
  /** How bearer tokens are presented: `"header"`, `"body"`, `"query"` (RFC 6750). */
  readonly bearer_methods_supported?: string[];
  /** JWS algorithms the resource signs its responses with. */
  readonly resource_signing_alg_values_supported?: string[];
  /** Human-readable name of the resource. */
  readonly resource_name?: string;
  /** URL of developer documentation for the resource. */
  readonly resource_documentation?: string;
  /** URL of the resource's data-usage policy. */
  readonly resource_policy_uri?: string;
  /** URL of the resource's terms of service. */
  readonly resource_tos_uri?: string;
  /** Whether the resource supports certificate-bound access tokens (RFC 8705). */
  readonly tls_client_certificate_bound_access_tokens?: boolean;
  /** `authorization_details` types the resource supports (RFC 9396). */
  readonly authorization_details_types_supported?: string[];
  /** JWS algorithms the resource accepts in DPoP proofs (RFC 9449). */
  readonly dpop_signing_alg_values_supported?: string[];
  /** Whether the resource always requires DPoP-bound access tokens (RFC 9449). */
  readonly dpop_bound_access_tokens_required?: boolean;
  /** A JWT with metadata values (RFC 9728 §2.2); returned as is, not verified. */
  readonly signed_metadata?: string;
  /** Any other metadata member. */
  readonly [metadata: string]: JsonValue | undefined;
}

/** Removes one terminating `/` from a path (RFC 8414 §3.1, RFC 9728 §3.1); `/` becomes `""`. */
function withoutTrailingSlash(path: string): string {
  return path.endsWith("/") ? path.slice(0, -1) : path;
}

/**
 * Builds a well-known URL on a copy of `base`, so the result always keeps its scheme, host and
 * port: the path is assigned, never resolved (a path starting with `//` cannot change the host).
 */
function wellKnownUrl(base: URL, pathname: string): URL {
  const url = new URL(base.href);
  url.pathname = pathname;
  url.hash = "";
  return url;
}

/**
 * RFC 8414 §3.3 and RFC 9728 §3.3: the `issuer` / `resource` in a metadata document must be
 * identical to the identifier the document was requested for; no URL normalisation (host case,
 * default port, dot segments, IDNA) is applied to the document's value. The one allowance is the
 * `/` that URL serialization adds to an empty path: `new URL("https://as.example").href` is
 * `https://as.example/`, while the identifier the server publishes (and the RFCs' own examples
 * use) is `https://as.example`, so an origin-only identifier matches without its slash.
 */
function identifierMatches(value: string, expected: URL): boolean {
  const href = expected.href;
  if (value === href) return true;
  return expected.pathname === "/" && value.length === href.length - 1 && href === `${value}/`;
}

/**
 * What to say when an identifier holds a well-known path: the metadata URL was given where the
 * identifier belongs (`https://op.example/.well-known/openid-configuration` as the issuer).
 */
function wellKnownHint(identifier: URL): string | undefined {
  const at = identifier.pathname.indexOf("/.well-known/");
  if (at === -1) return undefined;
  const base = new URL(identifier.href);
  base.pathname = identifier.pathname.slice(0, at) || "/";
  const suggestion = base.pathname === "/" ? base.origin : base.href;
  return `${quote(identifier.href)} is a metadata document URL, not an identifier: pass ` +
    `${quote(suggestion)} (the /.well-known/ path is added by the request)`;
}

/** What to add to a failed discovery status: a well-known path in the issuer, or where else to look. */
function statusHint(issuer: URL, status: number): string | undefined {
  const hint = wellKnownHint(issuer);
  if (hint !== undefined || status !== 404) return hint;
  return `check the issuer ${quote(issuer.href)}; a server without OpenID Connect discovery may ` +
    'publish RFC 8414 metadata (discoveryRequest(issuer, { algorithm: "oauth2" })) or none ' +
    "(then build the AuthorizationServer object yourself)";
}

/**
 * The message of an `issuer` / `resource` mismatch: both values, where the document came from,
 * and why near misses (case, port, a trailing `/`, a well-known path) still fail.
 */
function mismatchMessage(
  attribute: "issuer" | "resource",
  actual: string,
  expected: URL,
  response: Response,
): string {
  let message = `"response" body "${attribute}" property does not match the expected value: ` +
    `expected ${quote(expected.href)}, got ${quote(actual)} (${describeResponse(response)})`;
  const hint = wellKnownHint(expected);
  if (hint !== undefined) return `${message}; ${hint}`;
  let near = false;
  try {
    const parsed = new URL(actual);
    near = parsed.href === expected.href || parsed.href === `${expected.href}/` ||
      `${parsed.href}/` === expected.href;
  } catch {
    // not a URL: nothing to add
  }
  if (near) {
    message += `; the ${attribute} must be the identical string (RFC ${
      attribute === "issuer" ? "8414 §3.3" : "9728 §3.3"
    }): pass ${quote(actual)} as the identifier if that is the one you meant`;
  }
  return message;
}

/** Whether a URL's serialization carries a query or fragment, even an empty one. */
function hasQueryOrFragment(url: URL): boolean {
  return url.href.includes("?") || url.href.includes("#");
}

/** Sends the metadata `GET` with `Accept: application/json`. */
async function getMetadata(url: URL, options: HttpRequestOptions<"GET"> | undefined) {
  const transport = transportFor(undefined, options);
  const headers = prepareHeaders(options?.headers);
  headers.set("accept", "application/json");
  return await send({ url, method: "GET", headers, options, transport });
}

/**
 * The members of authorization server metadata that authlane reads must have their JSON types
 * when present (RFC 8414 §2, OIDC Discovery §3, RFC 8705 §5, RFC 9126 §5, RFC 9207 §3, RFC 9449
 * §5.1): endpoint URLs strings, algorithm and method lists arrays of strings, flags booleans. Unknown
 * members are left alone; `null` is not accepted for a listed member. Each member is read by its
 * name written out, not from a table of names: on a metadata document of some forty members the
 * loads by computed keys cost 2.5 µs a document, the loads written out 0.6 µs (README
 * "Performance").
 */
function checkAsMemberTypes(b: JsonObject): void {
  isString(b, b.authorization_endpoint, "authorization_endpoint");
  isString(b, b.token_endpoint, "token_endpoint");
  isString(b, b.jwks_uri, "jwks_uri");
  isString(b, b.registration_endpoint, "registration_endpoint");
  isString(b, b.userinfo_endpoint, "userinfo_endpoint");
  isString(b, b.revocation_endpoint, "revocation_endpoint");
  isString(b, b.introspection_endpoint, "introspection_endpoint");
  isString(b, b.device_authorization_endpoint, "device_authorization_endpoint");
  isString(b, b.pushed_authorization_request_endpoint, "pushed_authorization_request_endpoint");
  isString(b, b.backchannel_authentication_endpoint, "backchannel_authentication_endpoint");
  isString(b, b.end_session_endpoint, "end_session_endpoint");
  isString(b, b.signed_metadata, "signed_metadata");
  isStrings(b, b.code_challenge_methods_supported, "code_challenge_methods_supported");
  isStrings(b, b.id_token_signing_alg_values_supported, "id_token_signing_alg_values_supported");
  isStrings(b, b.userinfo_signing_alg_values_supported, "userinfo_signing_alg_values_supported");
  isStrings(
    b,
    b.introspection_signing_alg_values_supported,
    "introspection_signing_alg_values_supported",
  );
  isStrings(
    b,
    b.authorization_signing_alg_values_supported,
    "authorization_signing_alg_values_supported",
  );
  isStrings(
    b,
    b.request_object_signing_alg_values_supported,
    "request_object_signing_alg_values_supported",
  );
  isStrings(
    b,
    b.token_endpoint_auth_signing_alg_values_supported,
    "token_endpoint_auth_signing_alg_values_supported",
  );
  isStrings(b, b.dpop_signing_alg_values_supported, "dpop_signing_alg_values_supported");
  isBoolean(
    b,
    b.authorization_response_iss_parameter_supported,
    "authorization_response_iss_parameter_supported",
  );
  isBoolean(b, b.require_pushed_authorization_requests, "require_pushed_authorization_requests");
  isBoolean(b, b.require_signed_request_object, "require_signed_request_object");
  isBoolean(
    b,
    b.tls_client_certificate_bound_access_tokens,
    "tls_client_certificate_bound_access_tokens",
  );
}

/** The same for protected resource metadata (RFC 9728 §2). */
function checkRsMemberTypes(b: JsonObject): void {
  isStrings(b, b.authorization_servers, "authorization_servers");
  isString(b, b.jwks_uri, "jwks_uri");
  isStrings(b, b.scopes_supported, "scopes_supported");
  isStrings(b, b.bearer_methods_supported, "bearer_methods_supported");
  isStrings(b, b.resource_signing_alg_values_supported, "resource_signing_alg_values_supported");
  isString(b, b.resource_name, "resource_name");
  isString(b, b.resource_documentation, "resource_documentation");
  isString(b, b.resource_policy_uri, "resource_policy_uri");
  isString(b, b.resource_tos_uri, "resource_tos_uri");
  isBoolean(
    b,
    b.tls_client_certificate_bound_access_tokens,
    "tls_client_certificate_bound_access_tokens",
  );
  isStrings(b, b.authorization_details_types_supported, "authorization_details_types_supported");
  isStrings(b, b.dpop_signing_alg_values_supported, "dpop_signing_alg_values_supported");
  isBoolean(b, b.dpop_bound_access_tokens_required, "dpop_bound_access_tokens_required");
  isString(b, b.signed_metadata, "signed_metadata");
}

function isString(body: JsonObject, value: unknown, attribute: string): void {
  if (value !== undefined && typeof value !== "string") wrongType(body, attribute, "a string");
}

function isBoolean(body: JsonObject, value: unknown, attribute: string): void {
  if (value !== undefined && typeof value !== "boolean") wrongType(body, attribute, "a boolean");
}

function isStrings(body: JsonObject, value: unknown, attribute: string): void {
  if (value !== undefined && !(Array.isArray(value) && allStrings(value))) {
    wrongType(body, attribute, "an array of strings");
  }
}

function wrongType(body: JsonObject, attribute: string, expected: string): never {
  throw processingError(
    `"response" body "${attribute}" property must be ${expected}`,
    INVALID_RESPONSE,
    { attribute, body },
  );
}

function allStrings(values: unknown[]): boolean {
  for (let i = 0; i < values.length; i++) if (typeof values[i] !== "string") return false;
  return true;
}

/** RFC 8705 §5: `mtls_endpoint_aliases` is an object whose members are endpoint URL strings. */
function checkMtlsAliases(body: JsonObject): void {
  const aliases = body.mtls_endpoint_aliases;
  if (aliases === undefined) return;
  if (!isJsonObject(aliases) || !Object.values(aliases).every((v) => typeof v === "string")) {
    throw processingError(
      '"response" body "mtls_endpoint_aliases" property must be an object of strings',
      INVALID_RESPONSE,
      { attribute: "mtls_endpoint_aliases", body },
    );
  }
}

/**
 * Sends an authorization server metadata request for an issuer identifier.
 *
 * With `algorithm: "oidc"` (the default) the URL is the issuer followed by
 * `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4.1; one terminating `/` of
 * the issuer is dropped first). With `algorithm: "oauth2"` it is
 * `/.well-known/oauth-authorization-server` inserted between the host and the issuer's path
 * (RFC 8414 §3.1, again without a terminating `/`). The request is a `GET` with
 * `Accept: application/json`; redirects are never followed.
 *
 * An issuer identifier has no query and no fragment (RFC 8414 §2), so an issuer with either (even
 * an empty `?` or `#`) is refused rather than silently trimmed. `https:` is required unless
 * `[allowInsecureRequests]` is set; the check and the transport choice happen before any I/O.
 *
 * @param issuerIdentifier The issuer identifier, such as `https://as.example/tenant`.
 * @param options `algorithm`, `[customFetch]`, `signal`, `headers`, `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processDiscoveryResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `issuerIdentifier` is not a `URL` or
 *   `[customFetch]` is not a function; `ERR_INVALID_ARG_VALUE` for an issuer with a query or
 *   fragment, an unknown `algorithm`, or invalid `headers`. All before any request.
 * @throws {OperationProcessingError} `HTTP_REQUEST_FORBIDDEN` for an `http:` issuer without
 *   `[allowInsecureRequests]`, `REQUEST_PROTOCOL_FORBIDDEN` for other schemes.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const issuer = new URL("https://as.example");
 * const response = await oauth.discoveryRequest(issuer);
 * const as = await oauth.processDiscoveryResponse(issuer, response);
 * ```
 * @example RFC 8414 path insertion
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const issuer = new URL("https://as.example/tenant");
 * // GET https://as.example/.well-known/oauth-authorization-server/tenant
 * const response = await oauth.discoveryRequest(issuer, { algorithm: "oauth2" });
 * const as = await oauth.processDiscoveryResponse(issuer, response);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc8414#section-3.1 | RFC 8414 §3.1}
 * @see {@link https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationRequest | OIDC Discovery §4.1}
 */
export async function discoveryRequest(
  issuerIdentifier: URL,
  options?: DiscoveryRequestOptions,
): Promise<Response> {
  assertURL(issuerIdentifier, '"issuerIdentifier"');
  if (hasQueryOrFragment(issuerIdentifier)) {
    throw argError(
      '"issuerIdentifier" must not have a query or fragment component',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  const algorithm = options?.algorithm ?? "oidc";
  if (algorithm !== "oidc" && algorithm !== "oauth2") {
    throw argError('"options.algorithm" must be "oidc" or "oauth2"', "ERR_INVALID_ARG_VALUE");
  }
  checkProtocol(issuerIdentifier, enforcesHttps(options));
  const path = withoutTrailingSlash(issuerIdentifier.pathname);
  const url = algorithm === "oidc"
    ? wellKnownUrl(issuerIdentifier, `${path}/.well-known/openid-configuration`)
    : wellKnownUrl(issuerIdentifier, `/.well-known/oauth-authorization-server${path}`);
  return await getMetadata(url, options);
}

/**
 * Validates an authorization server metadata response and returns the metadata.
 *
 * The checks, in order: status `200` (any other is `RESPONSE_IS_NOT_CONFORM`, whatever the body
 * or headers say, as oauth4webapi does); a JSON object body (a body that does not parse is
 * `RESPONSE_IS_NOT_JSON` unless it is labelled `application/json`); `issuer` is a string
 * identical to `expectedIssuerIdentifier.href` (RFC 8414 §3.3, OpenID Connect Discovery 1.0 §4.3:
 * this binds the metadata to the issuer the client meant to talk to, which the ID token `iss` and
 * RFC 9207 `iss` checks then rely on). No URL normalisation applies to the document's `issuer`:
 * an upper-case host, an explicit default port, dot segments or a Unicode host do not match; the
 * one allowance is the `/` URL serialization adds to an empty path, so `https://as.example`
 * matches `new URL("https://as.example")`. Finally, the members authlane
 * reads must have their declared types when present: endpoint URLs and `jwks_uri` are strings,
 * `*_signing_alg_values_supported` and `code_challenge_methods_supported` are arrays of strings,
 * `authorization_response_iss_parameter_supported` and the other flags are booleans (a `null`
 * counts as the wrong type), and `mtls_endpoint_aliases` is an object of strings. Unknown members
 * are kept unchecked.
 *
 * @param expectedIssuerIdentifier The issuer identifier the request was built from.
 * @param response The response of {@link discoveryRequest}.
 * @returns The metadata, as the server sent it.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` when
 *   `expectedIssuerIdentifier` is not a `URL` or `response` is not an unread `Response` (any
 *   object that behaves as one, such as undici's, is accepted).
 * @throws {OperationProcessingError} `RESPONSE_IS_NOT_CONFORM` for a non-200 status,
 *   `RESPONSE_IS_NOT_JSON`, `PARSE_ERROR`, `RESPONSE_TOO_LARGE`, `INVALID_RESPONSE` for a
 *   non-object body, a non-string `issuer` or a member of the wrong type (`cause.attribute`
 *   names it), and `JSON_ATTRIBUTE_COMPARISON` when `issuer` does not match (`cause.expected`,
 *   `cause.attribute`, `cause.body`).
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const issuer = new URL("https://as.example");
 * const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer));
 * console.log(as.token_endpoint);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc8414#section-3.3 | RFC 8414 §3.3}
 * @see {@link https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationValidation | OIDC Discovery §4.3}
 */
export async function processDiscoveryResponse(
  expectedIssuerIdentifier: URL,
  response: Response,
): Promise<AuthorizationServer> {
  const skipIssuerCheck = (expectedIssuerIdentifier as unknown) === _nodiscoverycheck;
  if (!skipIssuerCheck) assertURL(expectedIssuerIdentifier, '"expectedIssuerIdentifier"');
  // As oauth4webapi: the status first, then whether the body can still be read.
  assertResponse(response, '"response"', false);
  if (response.status !== 200) {
    // Only on failure: the hint names a likely cause (a pasted metadata URL, a wrong path).
    await checkMetadataStatus(
      response,
      200,
      "Authorization Server Metadata",
      skipIssuerCheck ? undefined : statusHint(expectedIssuerIdentifier, response.status),
    );
  }
  assertResponse(response);
  const body = await readJsonObject(response);
  if (typeof body.issuer !== "string" || body.issuer.length === 0) {
    throw processingError('"response" body "issuer" property must be a string', INVALID_RESPONSE, {
      attribute: "issuer",
      body,
    });
  }
  if (!skipIssuerCheck && !identifierMatches(body.issuer, expectedIssuerIdentifier)) {
    throw processingError(
      mismatchMessage("issuer", body.issuer, expectedIssuerIdentifier, response),
      JSON_ATTRIBUTE_COMPARISON,
      { expected: expectedIssuerIdentifier.href, body, attribute: "issuer" },
    );
  }
  checkAsMemberTypes(body);
  checkMtlsAliases(body);
  return body as AuthorizationServer;
}

/**
 * Sends a protected resource metadata request (RFC 9728 §3.1) for a resource identifier.
 *
 * The URL is `/.well-known/oauth-protected-resource` inserted between the host and the resource's
 * path, keeping the resource's query. A terminating `/` of the path is removed first, as RFC 9728
 * §3.1 requires (`https://rs.example/api/` is looked up at
 * `/.well-known/oauth-protected-resource/api`; oauth4webapi keeps the slash). A resource identifier has no
 * fragment (RFC 9728 §1.2), so one with a fragment is refused. The request is a `GET` with
 * `Accept: application/json`; `https:` is required unless `[allowInsecureRequests]` is set, and
 * redirects are never followed.
 *
 * @param resourceIdentifier The resource identifier, such as `https://rs.example/api`.
 * @param options `[customFetch]`, `signal`, `headers`, `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processResourceDiscoveryResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `resourceIdentifier` is not a `URL`;
 *   `ERR_INVALID_ARG_VALUE` for a fragment or invalid `headers`. All before any request.
 * @throws {OperationProcessingError} `HTTP_REQUEST_FORBIDDEN` for an `http:` resource without
 *   `[allowInsecureRequests]`, `REQUEST_PROTOCOL_FORBIDDEN` for other schemes.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const resource = new URL("https://rs.example/api");
 * // GET https://rs.example/.well-known/oauth-protected-resource/api
 * const response = await oauth.resourceDiscoveryRequest(resource);
 * const rs = await oauth.processResourceDiscoveryResponse(resource, response);
 * console.log(rs.authorization_servers);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9728#section-3.1 | RFC 9728 §3.1}
 */
export async function resourceDiscoveryRequest(
  resourceIdentifier: URL,
  options?: HttpRequestOptions<"GET">,
): Promise<Response> {
  assertURL(resourceIdentifier, '"resourceIdentifier"');
  if (resourceIdentifier.href.includes("#")) {
    throw argError(
      '"resourceIdentifier" must not have a fragment component',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  checkProtocol(resourceIdentifier, enforcesHttps(options));
  const path = withoutTrailingSlash(resourceIdentifier.pathname);
  const url = wellKnownUrl(resourceIdentifier, `/.well-known/oauth-protected-resource${path}`);
  return await getMetadata(url, options);
}

/**
 * Validates a protected resource metadata response (RFC 9728 §3.2, §3.3) and returns the
 * metadata.
 *
 * The checks, in order: status `200` (any other is `RESPONSE_IS_NOT_CONFORM`, as oauth4webapi
 * does); a JSON object body; `resource` is a string identical to
 * `expectedResourceIdentifier.href` (RFC 9728 §3.3, which prevents one resource from
 * impersonating another; no URL normalisation, except that an origin-only resource such as
 * `https://rs.example` matches `new URL("https://rs.example")`, whose serialization adds a `/`);
 * the RFC 9728 §2 members have their declared types when
 * present (`authorization_servers` an array of strings, and so on). `signed_metadata` is returned
 * as is, not verified.
 *
 * @param expectedResourceIdentifier The resource identifier the request was built from (or
 *   `_nodiscoverycheck` to skip the `resource` comparison, as in oauth4webapi).
 * @param response The response of {@link resourceDiscoveryRequest}.
 * @returns The metadata, as the server sent it.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` when
 *   `expectedResourceIdentifier` is not a `URL` or `response` is not an unread `Response`.
 * @throws {OperationProcessingError} `RESPONSE_IS_NOT_CONFORM` for a non-200 status,
 *   `RESPONSE_IS_NOT_JSON`, `PARSE_ERROR`, `RESPONSE_TOO_LARGE`, `INVALID_RESPONSE` for a
 *   non-object body, a non-string `resource` or a member of the wrong type, and
 *   `JSON_ATTRIBUTE_COMPARISON` when `resource` does not match (`cause.expected`,
 *   `cause.attribute`, `cause.body`).
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const resource = new URL("https://rs.example/api");
 * const rs = await oauth.processResourceDiscoveryResponse(
 *   resource,
 *   await oauth.resourceDiscoveryRequest(resource),
 * );
 * const issuer = new URL(rs.authorization_servers![0]!);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9728#section-3.3 | RFC 9728 §3.3}
 */
export async function processResourceDiscoveryResponse(
  expectedResourceIdentifier: URL,
  response: Response,
): Promise<ResourceServer> {
  const skipResourceCheck = (expectedResourceIdentifier as unknown) === _nodiscoverycheck;
  if (!skipResourceCheck) assertURL(expectedResourceIdentifier, '"expectedResourceIdentifier"');
  // As oauth4webapi: the status first, then whether the body can still be read.
  assertResponse(response, '"response"', false);
  const failed = checkMetadataStatus(response, 200, "Resource Server Metadata");
  if (failed !== undefined) await failed;
  assertResponse(response);
  const body = await readJsonObject(response);
  if (typeof body.resource !== "string" || body.resource.length === 0) {
    throw processingError(
      '"response" body "resource" property must be a string',
      INVALID_RESPONSE,
      { attribute: "resource", body },
    );
  }
  if (!skipResourceCheck && !identifierMatches(body.resource, expectedResourceIdentifier)) {
    throw processingError(
      mismatchMessage("resource", body.resource, expectedResourceIdentifier, response),
      JSON_ATTRIBUTE_COMPARISON,
      { expected: expectedResourceIdentifier.href, body, attribute: "resource" },
    );
  }
  checkRsMemberTypes(body);
  return body as ResourceServer;
}
