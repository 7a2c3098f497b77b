/**
 * Dynamic Client Registration (RFC 7591 §3.1, §3.2) and, as an authlane addition, Dynamic Client
 * Registration Management (RFC 7592 §2.1–§2.3, §3): read, update and delete a registration at its
 * client configuration endpoint with the registration access token.
 *
 * @module
 */

import {
  assertAs,
  assertNonEmptyString,
  assertResponse,
  isJsonObject,
  parseUrl,
} from "./_assert.ts";
import {
  checkStatus,
  dpopOf,
  enforcesHttps,
  type HttpOptions,
  prepareHeaders,
  readJsonObject,
  send,
  transportFor,
} from "./_http.ts";
import { checkProtocol, resolveEndpoint } from "./endpoints.ts";
import { argError, INVALID_RESPONSE, processingError } from "./errors.ts";
import type {
  AuthorizationServer,
  Client,
  DPoPRequestOptions,
  HttpRequestOptions,
  JsonObject,
} from "./types.ts";

/** `T` without its symbol-keyed properties (the JSON-serialisable part of {@link Client}). */
export type OmitSymbolProperties<T> = {
  [K in keyof T as K extends symbol ? never : K]: T[K];
};

/** Options of {@link dynamicClientRegistrationRequest}. */
export interface DynamicClientRegistrationRequestOptions
  extends HttpRequestOptions<"POST", string>, DPoPRequestOptions {
  /**
   * Initial access token (RFC 7591 §3), sent as `Authorization: Bearer <token>` (or `DPoP` with
   * `options.DPoP`).
   */
  initialAccessToken?: string;
}

/** The HTTP methods of the client configuration endpoint (RFC 7592 §2). */
export type ClientConfigurationMethod = "GET" | "PUT" | "DELETE";

/**
 * Where and how to reach a registration's client configuration endpoint: the two values the
 * authorization server returned at registration (RFC 7592 §3).
 */
export interface ClientConfigurationReference {
  /** The client configuration endpoint URL. */
  readonly registration_client_uri: string;
  /** The registration access token. */
  readonly registration_access_token: string;
}

/** Options of {@link clientConfigurationRequest}. */
export interface ClientConfigurationRequestOptions
  extends HttpRequestOptions<ClientConfigurationMethod, string | undefined>, DPoPRequestOptions {}

/** Members RFC 7592 §2.2 forbids in an update request; they are removed before sending. */
const READ_ONLY_MEMBERS = [
  "registration_access_token",
  "registration_client_uri",
  "client_secret_expires_at",
  "client_id_issued_at",
] as const;

/**
 * Registers a client at the authorization server (RFC 7591 §3.1): POSTs the metadata as JSON to
 * `as.registration_endpoint`.
 *
 * With `options.initialAccessToken` the request carries `Authorization: Bearer <token>`; with
 * `options.DPoP` as well, `Authorization: DPoP <token>` and a DPoP proof bound to it (RFC 9449
 * §7.1). Symbol-keyed options such as `[clockSkew]` are not sent.
 *
 * @param as Authorization server metadata.
 * @param metadata The client metadata to register (`redirect_uris`,
 *   `token_endpoint_auth_method`, `jwks`, …).
 * @param options `initialAccessToken`, `DPoP`, `[customFetch]`, `signal`, `headers`,
 *   `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processDynamicClientRegistrationResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for invalid arguments,
 *   before any request.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` without a registration endpoint,
 *   `INVALID_SERVER_METADATA` when it is not a URL, `HTTP_REQUEST_FORBIDDEN` /
 *   `REQUEST_PROTOCOL_FORBIDDEN` for a non-`https:` one.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * const response = await oauth.dynamicClientRegistrationRequest(as, {
 *   redirect_uris: ["https://app.example/cb"],
 *   token_endpoint_auth_method: "client_secret_basic",
 * }, { initialAccessToken: "iat" });
 * const client = await oauth.processDynamicClientRegistrationResponse(response);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7591#section-3.1 | RFC 7591 §3.1}
 */
export async function dynamicClientRegistrationRequest(
  as: AuthorizationServer,
  metadata: Partial<OmitSymbolProperties<Client>>,
  options?: DynamicClientRegistrationRequestOptions,
): Promise<Response> {
  assertAs(as);
  if (!isJsonObject(metadata)) throw argError('"metadata" must be an object');
  // An empty token sends no Authorization header, as oauth4webapi does.
  const token = options?.initialAccessToken || undefined;
  if (token !== undefined) assertNonEmptyString(token, '"options.initialAccessToken"');
  const url = resolveEndpoint(as, "registration_endpoint", false, enforcesHttps(options));
  return await sendJson(url, "POST", JSON.stringify(metadata), token, options);
}

/**
 * Validates a client registration response (RFC 7591 §3.2.1): challenges and error bodies
 * (§3.2.2, e.g. `invalid_redirect_uri`) are reported; the status must be `201`, and the body a
 * JSON object whose `client_id` is a non-empty string. `client_secret`, when present, must be a
 * non-empty string with a numeric `client_secret_expires_at`; `client_id_issued_at` must be a
 * number; `registration_access_token` and `registration_client_uri` (RFC 7592 §3) must come
 * together, as a non-empty string and an absolute URL.
 *
 * @param response The response of {@link dynamicClientRegistrationRequest}.
 * @returns The registered client metadata, with `client_id` (and any secret) the server issued.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error.
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge (e.g. a rejected
 *   initial access token).
 * @throws {OperationProcessingError} `INVALID_RESPONSE` for a missing or mistyped member,
 *   `RESPONSE_IS_NOT_CONFORM` for another status, `RESPONSE_IS_NOT_JSON`, `PARSE_ERROR`,
 *   `RESPONSE_TOO_LARGE`.
 * @throws {TypeError} When `response` is not a `Response` or its body was already read.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const response: Response;
 * const registered = await oauth.processDynamicClientRegistrationResponse(response);
 * const client: oauth.Client = { ...registered };
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1 | RFC 7591 §3.2.1}
 */
export async function processDynamicClientRegistrationResponse(
  response: Response,
): Promise<OmitSymbolProperties<Client>> {
  assertResponse(response);
  await checkStatus(response, 201, "Dynamic Client Registration Endpoint");
  const body = await readJsonObject(response);
  checkClientInformation(body);
  return body as OmitSymbolProperties<Client>;
}

/**
 * Reads (`GET`, RFC 7592 §2.1), updates (`PUT`, §2.2) or deletes (`DELETE`, §2.3) a registration
 * at its client configuration endpoint. authlane addition: oauth4webapi has no RFC 7592 support.
 *
 * The request goes to `registration.registration_client_uri` (which must be `https:` unless
 * `[allowInsecureRequests]`) with `Authorization: Bearer <registration_access_token>` (or `DPoP`
 * with `options.DPoP`). For `PUT`, `metadata` is the complete new metadata and must include the
 * `client_id`; the members §2.2 forbids (`registration_access_token`, `registration_client_uri`,
 * `client_secret_expires_at`, `client_id_issued_at`) are removed before sending, so a previous
 * response can be edited and sent back.
 *
 * @param registration The `registration_client_uri` and `registration_access_token` returned at
 *   registration (or by the last read or update, which may rotate the token).
 * @param method `"GET"`, `"PUT"` or `"DELETE"`.
 * @param metadata For `PUT` only: the client metadata.
 * @param options `DPoP`, `[customFetch]`, `signal`, `headers`, `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processClientConfigurationResponse} with the same
 *   method.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for an unknown method, a
 *   `registration_client_uri` that is not a URL, missing `PUT` metadata or `client_id`, or
 *   metadata with `GET`/`DELETE`, before any request.
 * @throws {OperationProcessingError} `HTTP_REQUEST_FORBIDDEN` / `REQUEST_PROTOCOL_FORBIDDEN` for
 *   a non-`https:` `registration_client_uri`.
 * @example Read, update, delete
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const registration: oauth.ClientConfigurationReference;
 * const read = await oauth.clientConfigurationRequest(registration, "GET");
 * const current = await oauth.processClientConfigurationResponse(read, "GET");
 * const update = await oauth.clientConfigurationRequest(registration, "PUT", {
 *   ...current,
 *   redirect_uris: ["https://app.example/cb", "https://app.example/cb2"],
 * });
 * await oauth.processClientConfigurationResponse(update, "PUT");
 * const deletion = await oauth.clientConfigurationRequest(registration, "DELETE");
 * await oauth.processClientConfigurationResponse(deletion, "DELETE");
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7592#section-2 | RFC 7592 §2}
 */
export async function clientConfigurationRequest(
  registration: ClientConfigurationReference,
  method: ClientConfigurationMethod,
  metadata?: Partial<OmitSymbolProperties<Client>>,
  options?: ClientConfigurationRequestOptions,
): Promise<Response> {
  if (!isJsonObject(registration)) throw argError('"registration" must be an object');
  assertNonEmptyString(
    registration.registration_client_uri,
    '"registration.registration_client_uri"',
  );
  assertNonEmptyString(
    registration.registration_access_token,
    '"registration.registration_access_token"',
  );
  assertMethod(method);
  const url = parseUrl(registration.registration_client_uri);
  if (url === null) {
    throw argError(
      '"registration.registration_client_uri" must be an absolute URL',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  checkProtocol(url, enforcesHttps(options));
  let body: string | undefined;
  if (method === "PUT") {
    body = JSON.stringify(updateBody(metadata));
  } else if (metadata !== undefined) {
    throw argError(`"metadata" must be undefined for ${method} requests`, "ERR_INVALID_ARG_VALUE");
  }
  return await sendJson(url, method, body, registration.registration_access_token, options);
}

/**
 * Validates a client configuration endpoint response (RFC 7592 §2, §3). authlane addition.
 *
 * Challenges (e.g. `invalid_token` for a revoked registration access token, §2.1) and error
 * bodies (e.g. `invalid_client_metadata`, §2.2) are reported first. For `GET` and `PUT` the
 * status must be `200` and the body client information checked like a registration response
 * (`client_id`, `client_secret`, `registration_access_token`, …; persist a rotated
 * `registration_access_token`). For `DELETE` the status must be `204` (§2.3); the body is
 * cancelled.
 *
 * @param response The response of {@link clientConfigurationRequest}.
 * @param method The method the request used.
 * @returns The client metadata for `GET` and `PUT`; `undefined` for `DELETE`.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error.
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `INVALID_RESPONSE` for a missing or mistyped member,
 *   `RESPONSE_IS_NOT_CONFORM` for an unexpected status, `RESPONSE_IS_NOT_JSON`, `PARSE_ERROR`,
 *   `RESPONSE_TOO_LARGE`.
 * @throws {TypeError} For an unknown method, or when `response` is not an unread `Response`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const registration: oauth.ClientConfigurationReference;
 * const response = await oauth.clientConfigurationRequest(registration, "GET");
 * const { client_id, redirect_uris } = await oauth.processClientConfigurationResponse(
 *   response, "GET",
 * );
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7592#section-3 | RFC 7592 §3}
 */
export async function processClientConfigurationResponse(
  response: Response,
  method: "GET" | "PUT",
): Promise<OmitSymbolProperties<Client>>;
/**
 * Validates the response of a deletion at the client configuration endpoint (RFC 7592 §2.3):
 * the status must be `204`. authlane addition.
 *
 * @param response The response of {@link clientConfigurationRequest} with `"DELETE"`.
 * @param method `"DELETE"`.
 * @returns `undefined` once the registration is deleted.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error.
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `RESPONSE_IS_NOT_CONFORM` for another status.
 * @throws {TypeError} When `response` is not an unread `Response`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const registration: oauth.ClientConfigurationReference;
 * const response = await oauth.clientConfigurationRequest(registration, "DELETE");
 * await oauth.processClientConfigurationResponse(response, "DELETE");
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7592#section-2.3 | RFC 7592 §2.3}
 */
export async function processClientConfigurationResponse(
  response: Response,
  method: "DELETE",
): Promise<undefined>;
/**
 * Validates a client configuration endpoint response for any method (RFC 7592 §2, §3).
 * authlane addition.
 *
 * @param response The response of {@link clientConfigurationRequest}.
 * @param method The method the request used.
 * @returns The client metadata for `GET` and `PUT`; `undefined` for `DELETE`.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error.
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `INVALID_RESPONSE`, `RESPONSE_IS_NOT_CONFORM`,
 *   `RESPONSE_IS_NOT_JSON`, `PARSE_ERROR`, `RESPONSE_TOO_LARGE`.
 * @throws {TypeError} For an unknown method, or when `response` is not an unread `Response`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const response: Response;
 * declare const method: oauth.ClientConfigurationMethod;
 * const result = await oauth.processClientConfigurationResponse(response, method);
 * ```
 */
export async function processClientConfigurationResponse(
  response: Response,
  method: ClientConfigurationMethod,
): Promise<OmitSymbolProperties<Client> | undefined>;
export async function processClientConfigurationResponse(
  response: Response,
  method: ClientConfigurationMethod,
): Promise<OmitSymbolProperties<Client> | undefined> {
  assertResponse(response);
  assertMethod(method);
  if (method === "DELETE") {
    await checkStatus(response, 204, "Client Configuration Endpoint");
    await response.body?.cancel();
    return undefined;
  }
  await checkStatus(response, 200, "Client Configuration Endpoint");
  const body = await readJsonObject(response);
  checkClientInformation(body);
  return body as OmitSymbolProperties<Client>;
}

async function sendJson(
  url: URL,
  method: string,
  body: string | undefined,
  accessToken: string | undefined,
  options: (HttpOptions & DPoPRequestOptions) | undefined,
): Promise<Response> {
  const transport = transportFor(undefined, options);
  const dpop = dpopOf(options);
  const headers = prepareHeaders(options?.headers);
  headers.set("accept", "application/json");
  if (body !== undefined) headers.set("content-type", "application/json");
  if (accessToken !== undefined) {
    // RFC 6750 §2.1, or RFC 9449 §7.1 when the token is DPoP-bound (a proof from the handle, or
    // one the caller formed and put in `headers`).
    const scheme = dpop !== undefined || headers.has("dpop") ? "DPoP" : "Bearer";
    headers.set("authorization", `${scheme} ${accessToken}`);
  }
  return await send({ url, method, headers, body, options, transport, dpop, accessToken });
}

function assertMethod(method: unknown): asserts method is ClientConfigurationMethod {
  if (method !== "GET" && method !== "PUT" && method !== "DELETE") {
    throw argError('"method" must be "GET", "PUT" or "DELETE"', "ERR_INVALID_ARG_VALUE");
  }
}

/** RFC 7592 §2.2: the full metadata with `client_id`, minus the server-managed members. */
function updateBody(metadata: unknown): JsonObject {
  if (!isJsonObject(metadata)) {
    throw argError('"metadata" must be an object for PUT requests');
  }
  assertNonEmptyString(metadata.client_id, '"metadata.client_id"');
  const body: JsonObject = { ...metadata };
  for (const name of READ_ONLY_MEMBERS) delete body[name];
  return body;
}

/** A copy of the body fit for an error's `cause`, without the credentials it may carry. */
function redacted(body: JsonObject): JsonObject {
  const copy: JsonObject = { ...body };
  for (const name of ["client_secret", "registration_access_token"]) {
    if (typeof copy[name] === "string") copy[name] = "[redacted]";
  }
  return copy;
}

function invalid(message: string, body: JsonObject, attribute: string) {
  return processingError(message, INVALID_RESPONSE, { body: redacted(body), attribute });
}

function requireString(body: JsonObject, name: string): void {
  const value = body[name];
  if (typeof value !== "string" || value.length === 0) {
    throw invalid(`"response" body "${name}" property must be a non-empty string`, body, name);
  }
}

function requireNumber(body: JsonObject, name: string): void {
  const value = body[name];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalid(`"response" body "${name}" property must be a number`, body, name);
  }
}

/** RFC 7591 §3.2.1 and RFC 7592 §3: the client information response members. */
function checkClientInformation(body: JsonObject): void {
  requireString(body, "client_id");
  if (body.client_secret !== undefined) {
    requireString(body, "client_secret");
    requireNumber(body, "client_secret_expires_at"); // REQUIRED when a secret is issued
  }
  if (body.client_secret_expires_at !== undefined) requireNumber(body, "client_secret_expires_at");
  if (body.client_id_issued_at !== undefined) requireNumber(body, "client_id_issued_at");
  const uri = body.registration_client_uri;
  const token = body.registration_access_token;
  if (uri === undefined && token === undefined) return;
  requireString(body, "registration_access_token");
  requireString(body, "registration_client_uri");
  if (parseUrl(uri as string) === null) {
    throw invalid(
      '"response" body "registration_client_uri" property must be an absolute URL',
      body,
      "registration_client_uri",
    );
  }
}
