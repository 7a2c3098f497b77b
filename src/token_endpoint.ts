/**
 * The token endpoint (RFC 6749 §3.2, §5): the shared request for every grant, and the shared
 * validation of its responses — status and error bodies (§5.2), member types (§5.1), the
 * case-insensitive `token_type` (§7.1), RFC 9396 `authorization_details`, and the ID token when
 * one is present (OpenID Connect Core §3.1.3.7, §12.2). Also the generic grant
 * (`genericTokenEndpointRequest`) for token exchange (RFC 8693), JWT bearer (RFC 7523) and
 * others.
 *
 * @module
 */

import {
  assertAs,
  assertClient,
  assertNonEmptyString,
  assertResponse,
  isJsonObject,
  toSearchParams,
} from "./_assert.ts";
import { checkStatus, readJsonObject } from "./_http.ts";
import { authenticatedPost, jsonHeaders } from "./client_auth.ts";
import { argError, INVALID_RESPONSE, processingError, unsupported } from "./errors.ts";
import {
  decryptIfNeeded,
  type IdTokenChecks,
  rememberClaims,
  rememberJws,
  validateIdTokenClaims,
} from "./id_token.ts";
import type {
  AuthorizationServer,
  Client,
  ClientAuth,
  DPoPRequestOptions,
  HttpRequestOptions,
  JsonObject,
  JWEDecryptOptions,
  TokenEndpointResponse,
} from "./types.ts";

/** Options of token endpoint requests. */
export interface TokenEndpointRequestOptions
  extends HttpRequestOptions<"POST", URLSearchParams>, DPoPRequestOptions {
  /** Extra body parameters (for example `resource`, RFC 8707). */
  additionalParameters?: URLSearchParams | Record<string, string> | string[][];
}

/**
 * Handlers for `token_type` values beyond `bearer` and `dpop`, keyed by the lowercased type. A
 * handler may inspect the response and throw to refuse it.
 */
export type RecognizedTokenTypes = Record<
  Lowercase<string>,
  (response: Response, body: TokenEndpointResponse) => void
>;

/** Options of token endpoint response processors. */
export interface ProcessTokenResponseOptions extends JWEDecryptOptions {
  /** Extra recognised `token_type` values. */
  recognizedTokenTypes?: RecognizedTokenTypes;
}

const BUILT_IN_TOKEN_TYPES = new Set(["bearer", "dpop", "n_a"]);
const OPTIONAL_STRING_MEMBERS = ["refresh_token", "scope", "id_token"] as const;

/**
 * Sends a token request for `grantType` with client authentication; the shared path of every
 * grant helper.
 */
export async function tokenEndpointRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  grantType: string,
  parameters: URLSearchParams,
  options?: Omit<TokenEndpointRequestOptions, "additionalParameters">,
): Promise<Response> {
  parameters.set("grant_type", grantType);
  return await authenticatedPost(
    as,
    client,
    clientAuthentication,
    "token_endpoint",
    parameters,
    jsonHeaders(options),
    options,
  );
}

/** Merges `additionalParameters` under the grant's own parameters. */
export function withAdditional(
  own: Record<string, string>,
  additional: TokenEndpointRequestOptions["additionalParameters"],
): URLSearchParams {
  const params = toSearchParams(additional, '"options.additionalParameters"');
  for (const [name, value] of Object.entries(own)) params.set(name, value);
  return params;
}

function invalid(message: string, body: JsonObject, attribute: string) {
  return processingError(message, INVALID_RESPONSE, { body: redactTokens(body), attribute });
}

/** A copy of a token response body without its secrets, fit for an error's `cause`. */
function redactTokens(body: JsonObject): JsonObject {
  const copy: JsonObject = { ...body };
  for (const name of ["access_token", "refresh_token", "id_token"]) {
    if (typeof copy[name] === "string") copy[name] = "[redacted]";
  }
  return copy;
}

function checkTokenResponseShape(body: JsonObject): void {
  if (typeof body.access_token !== "string" || body.access_token.length === 0) {
    throw invalid(
      '"response" body "access_token" property must be a non-empty string',
      body,
      "access_token",
    );
  }
  if (typeof body.token_type !== "string" || body.token_type.length === 0) {
    throw invalid(
      '"response" body "token_type" property must be a non-empty string',
      body,
      "token_type",
    );
  }
  const expiresIn = body.expires_in;
  if (
    expiresIn !== undefined &&
    (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn < 0)
  ) {
    throw invalid(
      '"response" body "expires_in" property must be a non-negative number',
      body,
      "expires_in",
    );
  }
  for (const name of OPTIONAL_STRING_MEMBERS) {
    const value = body[name];
    if (
      value !== undefined && (typeof value !== "string" || (name !== "scope" && value.length === 0))
    ) {
      const expected = name === "scope" ? "a string" : "a non-empty string";
      throw invalid(`"response" body "${name}" property must be ${expected}`, body, name);
    }
  }
  const details = body.authorization_details;
  if (details !== undefined && (!Array.isArray(details) || !details.every(isJsonObject))) {
    throw invalid(
      '"response" body "authorization_details" property must be an array of objects',
      body,
      "authorization_details",
    );
  }
}

/**
 * Validates a token endpoint response: challenges and error bodies first, then the body's shape,
 * the token type, and the ID token when present (claims checked per `checks`; the signature is
 * left to `validateApplicationLevelSignature`).
 */
export async function processTokenEndpointResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
  options: ProcessTokenResponseOptions | undefined,
  checks: IdTokenChecks & { requireIdToken?: boolean },
): Promise<TokenEndpointResponse> {
  assertAs(as);
  assertClient(client);
  assertResponse(response);
  const failed = checkStatus(response, 200, "Token Endpoint");
  if (failed !== undefined) await failed;
  const body = await readJsonObject(response);
  checkTokenResponseShape(body);
  const tokenType = (body.token_type as string).toLowerCase();
  body.token_type = tokenType;
  const result = body as unknown as TokenEndpointResponse;
  const handlers = options?.recognizedTokenTypes;
  if (handlers !== undefined && !isJsonObject(handlers)) {
    throw argError('"options.recognizedTokenTypes" must be an object');
  }
  // Own members only: "constructor" must not find Object.prototype.constructor.
  const handler = handlers !== undefined && Object.hasOwn(handlers, tokenType)
    ? handlers[tokenType as Lowercase<string>]
    : undefined;
  if (typeof handler === "function") {
    handler(response, result);
  } else if (!BUILT_IN_TOKEN_TYPES.has(tokenType)) {
    throw unsupported(`unsupported \`token_type\` value ${JSON.stringify(tokenType)}`, {
      token_type: tokenType,
    });
  }
  if (typeof body.id_token === "string") {
    let idToken = decryptIfNeeded(body.id_token, options);
    if (typeof idToken !== "string") idToken = await idToken;
    const { jws, claims } = validateIdTokenClaims(as, client, idToken, checks);
    rememberJws(response, jws);
    rememberClaims(result, claims);
  } else if (checks.requireIdToken) {
    throw invalid(
      '"response" body "id_token" property must be a non-empty string',
      body,
      "id_token",
    );
  }
  return result;
}

/**
 * Sends a token request for any grant type, such as token exchange (RFC 8693) or a JWT bearer
 * grant (RFC 7523 §2.1), with client authentication.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication, e.g. `ClientSecretPost(secret)`.
 * @param grantType The `grant_type` value.
 * @param parameters The grant's parameters.
 * @param options `DPoP`, `[customFetch]`, `signal`, `headers`, `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processGenericTokenEndpointResponse}.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` without a token endpoint,
 *   `HTTP_REQUEST_FORBIDDEN` for a non-`https:` one.
 * @throws {TypeError} For invalid arguments, before any request.
 * @example Token exchange (RFC 8693)
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const subjectToken: string;
 * const response = await oauth.genericTokenEndpointRequest(
 *   as, client, oauth.ClientSecretPost("secret"),
 *   "urn:ietf:params:oauth:grant-type:token-exchange",
 *   {
 *     subject_token: subjectToken,
 *     subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
 *   },
 * );
 * const result = await oauth.processGenericTokenEndpointResponse(as, client, response);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc8693#section-2.1 | RFC 8693 §2.1}
 */
export async function genericTokenEndpointRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  grantType: string,
  parameters: URLSearchParams | Record<string, string> | string[][],
  options?: Omit<TokenEndpointRequestOptions, "additionalParameters">,
): Promise<Response> {
  assertNonEmptyString(grantType, '"grantType"');
  return await tokenEndpointRequest(
    as,
    client,
    clientAuthentication,
    grantType,
    toSearchParams(parameters, '"parameters"'),
    options,
  );
}

/**
 * Validates the response of {@link genericTokenEndpointRequest}: error bodies become
 * `ResponseBodyError`, the body must be a JSON object with `access_token` and `token_type`, and an
 * ID token, when present, is validated (without `nonce` or `auth_time` expectations).
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param response The response of the request.
 * @param options `recognizedTokenTypes`, `[jweDecrypt]`.
 * @returns The token response, `token_type` lowercased.
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error.
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `RESPONSE_IS_NOT_CONFORM`, `RESPONSE_IS_NOT_JSON`,
 *   `PARSE_ERROR`, `INVALID_RESPONSE`, and the ID token codes (`JWT_CLAIM_COMPARISON`,
 *   `JWT_TIMESTAMP_CHECK`).
 * @throws {UnsupportedOperationError} For an unrecognised `token_type`.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * const { access_token } = await oauth.processGenericTokenEndpointResponse(as, client, response);
 * ```
 */
export async function processGenericTokenEndpointResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
  options?: ProcessTokenResponseOptions,
): Promise<TokenEndpointResponse> {
  return await processTokenEndpointResponse(as, client, response, options, {});
}
