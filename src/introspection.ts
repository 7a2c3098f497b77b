/**
 * OAuth 2.0 Token Introspection (RFC 7662 §2.1, §2.2) with JWT responses (RFC 9701 §4, §5): the
 * authenticated introspection request, and the validation of a JSON response or of a signed (and
 * possibly encrypted) `application/token-introspection+jwt` response, whose signature authlane
 * verifies against the authorization server's JWKS, fetched only with the options of the request
 * that produced the response (or given to the processor).
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
import { checkStatus, type HttpOptions, readJsonObject, readText } from "./_http.ts";
import { getContentType } from "./endpoints.ts";
import {
  allowedAlgs,
  checkAudience,
  checkClaimTypes,
  checkIssuer,
  checkTimestamps,
  checkTyp,
  decodeChecked,
  jwksFetchOptionsFor,
  rememberRequestOptions,
  requireClaims,
  verifyWithServerKeys,
} from "./_jwt.ts";
import { authenticatedPost, jsonHeaders } from "./client_auth.ts";
import { INVALID_RESPONSE, processingError } from "./errors.ts";
import { decryptIfNeeded, rememberJws } from "./id_token.ts";
import type {
  AuthorizationDetails,
  AuthorizationServer,
  Client,
  ClientAuth,
  ConfirmationClaims,
  HttpRequestOptions,
  JsonObject,
  JsonValue,
  JWEDecryptOptions,
  JWKSCacheOptions,
  ValidateSignatureOptions,
} from "./types.ts";

/** The media type of a JWT introspection response (RFC 9701 §4, §5). */
const JWT_MEDIA_TYPE = "application/token-introspection+jwt";
/** The `typ` of a JWT introspection response, without the optional `application/` prefix. */
const JWT_TYP = "token-introspection+jwt";

/** Options of {@link introspectionRequest}. */
export interface IntrospectionRequestOptions extends HttpRequestOptions<"POST", URLSearchParams> {
  /** Extra body parameters, such as `token_type_hint` (RFC 7662 §2.1). */
  additionalParameters?: URLSearchParams | Record<string, string> | string[][];
  /**
   * Ask for a JWT response (RFC 9701 §4) with `Accept: application/token-introspection+jwt`.
   * @default true when `client.introspection_signed_response_alg` is set, else false
   */
  requestJwtResponse?: boolean;
}

/** What {@link processIntrospectionResponse} takes: a JWE decrypter and the JWKS fetch options. */
type ProcessIntrospectionOptions = ValidateSignatureOptions & JWEDecryptOptions;

/** A validated introspection response (RFC 7662 §2.2). */
export interface IntrospectionResponse {
  /** Whether the token is active. */
  readonly active: boolean;
  /** Client the token was issued to. */
  readonly client_id?: string;
  /** Expiry, in epoch seconds. */
  readonly exp?: number;
  /** Issuance time, in epoch seconds. */
  readonly iat?: number;
  /** Session ID. */
  readonly sid?: string;
  /** Issuer of the token. */
  readonly iss?: string;
  /** Token identifier. */
  readonly jti?: string;
  /** Human-readable identifier of the resource owner. */
  readonly username?: string;
  /** Audience of the token. */
  readonly aud?: string | string[];
  /** Scope of the token. */
  readonly scope?: string;
  /** Subject of the token. */
  readonly sub?: string;
  /** Not-before time, in epoch seconds. */
  readonly nbf?: number;
  /** Token type, e.g. `Bearer` or `DPoP`. */
  readonly token_type?: string;
  /** Confirmation claims of a sender-constrained token (RFC 8705 §3.2, RFC 9449 §6.2). */
  readonly cnf?: ConfirmationClaims;
  /** Authorization details of the token (RFC 9396 §9.2). */
  readonly authorization_details?: AuthorizationDetails[];
  /** Other members. */
  readonly [claim: string]: JsonValue | undefined;
}

/**
 * Asks the authorization server whether a token is active and what it carries (RFC 7662 §2.1).
 *
 * The form goes to `as.introspection_endpoint`, or to its mTLS alias when
 * `client.use_mtls_endpoint_aliases` is true, authenticated with `clientAuthentication`. It asks
 * for a JWT response (RFC 9701 §4, `Accept: application/token-introspection+jwt`) when
 * `options.requestJwtResponse` is true, or when it is not given and the client has an
 * `introspection_signed_response_alg`; otherwise for JSON. The transport options are remembered
 * with the response, so that {@link processIntrospectionResponse} fetches the JWKS for a signed
 * response the same way.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param clientAuthentication Client authentication (a resource server's credentials).
 * @param token The token to introspect.
 * @param options `additionalParameters` (e.g. `token_type_hint`), `requestJwtResponse`,
 *   `[customFetch]`, `signal`, `headers`, `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processIntrospectionResponse}.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` when `token` is not a
 *   non-empty string or another argument is invalid, before any request.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` without an introspection
 *   endpoint, `INVALID_SERVER_METADATA` when it is not a URL, `HTTP_REQUEST_FORBIDDEN` /
 *   `REQUEST_PROTOCOL_FORBIDDEN` for a non-`https:` one.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const accessToken: string;
 * const response = await oauth.introspectionRequest(
 *   as, client, oauth.ClientSecretBasic("secret"), accessToken,
 * );
 * const { active, scope } = await oauth.processIntrospectionResponse(as, client, response);
 * ```
 * @example JWT response (RFC 9701)
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const accessToken: string;
 * const client: oauth.Client = { client_id: "api", introspection_signed_response_alg: "ES256" };
 * const response = await oauth.introspectionRequest(
 *   as, client, oauth.ClientSecretBasic("secret"), accessToken,
 * );
 * const result = await oauth.processIntrospectionResponse(as, client, response);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7662#section-2.1 | RFC 7662 §2.1}
 * @see {@link https://www.rfc-editor.org/rfc/rfc9701#section-4 | RFC 9701 §4}
 */
export async function introspectionRequest(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  token: string,
  options?: IntrospectionRequestOptions,
): Promise<Response> {
  assertNonEmptyString(token, '"token"');
  const body = toSearchParams(options?.additionalParameters, '"options.additionalParameters"');
  body.set("token", token);
  const headers = jsonHeaders(options);
  const wantsJwt = options?.requestJwtResponse ?? client?.introspection_signed_response_alg;
  if (wantsJwt) headers.set("accept", JWT_MEDIA_TYPE);
  const response = await authenticatedPost(
    as,
    client,
    clientAuthentication,
    "introspection_endpoint",
    body,
    headers,
    options,
  );
  rememberRequestOptions(response, options as (HttpOptions & JWKSCacheOptions) | undefined);
  return response;
}

/**
 * Validates an introspection response.
 *
 * Challenges and OAuth 2.0 error bodies are reported first; any status but `200` is refused.
 *
 * - A JSON response (RFC 7662 §2.2) must be an object whose `active` is a boolean. When the
 *   client has an `introspection_signed_response_alg`, a JSON response is refused as a downgrade
 *   (authlane addition; RFC 9701 §6 says such responses are signed).
 * - A JWT response (`Content-Type: application/token-introspection+jwt`, RFC 9701 §5) is
 *   decrypted with `[jweDecrypt]` when it is a JWE, then its `alg` must be the client's
 *   `introspection_signed_response_alg`, else one of the server's
 *   `introspection_signing_alg_values_supported`, else RS256; its `typ` must be
 *   `token-introspection+jwt`; its signature is verified against the server's JWKS (see below);
 *   `iss` must be the issuer (or what the metadata's `[_expectedIssuer]` derives), `aud` must contain the client ID, `iat` must be present, `exp`/`nbf` (when present)
 *   must hold, and the `token_introspection` claim must be an object with a boolean `active`,
 *   which is returned.
 *
 * Unlike oauth4webapi, which leaves the signature of a JWT response to
 * `validateApplicationLevelSignature`, authlane verifies it here (RFC 9701 §5): non-repudiation
 * is the reason to ask for a signed response. It fetches the JWKS (once, then cached: in
 * `[jwksCache]` when given, else per metadata object) only as the caller asked for the response
 * itself to be fetched: with the options of the {@link introspectionRequest} call that returned
 * `response` (`[customFetch]`, `[allowInsecureRequests]`, `signal`, `[maxResponseSize]`,
 * `headers` without `Authorization` and `DPoP`, and a `[jwksCache]` passed along), overridden by
 * any of them given here. So openid-client, which gives those options to the request and none to
 * this function, works unchanged. A response that did not come from `introspectionRequest` (built by a test, or
 * fetched by other means) causes no network I/O unless such options or a `[jwksCache]` are given
 * here; its signature is then left to `validateApplicationLevelSignature`, as in oauth4webapi.
 * `validateApplicationLevelSignature` accepts the response in every case.
 *
 * @param as Authorization server metadata (with `jwks_uri` for JWT responses).
 * @param client Client metadata.
 * @param response The response of {@link introspectionRequest}.
 * @param options `[jweDecrypt]`; `[jwksCache]`, and `[customFetch]`, `signal`, `headers`,
 *   `[allowInsecureRequests]` to override the request's for the JWKS fetch.
 * @returns The introspection response (for a JWT, its `token_introspection` claim).
 * @throws {ResponseBodyError} When the server answered with an OAuth 2.0 error.
 * @throws {WWWAuthenticateChallengeError} When the response carries a challenge.
 * @throws {OperationProcessingError} `INVALID_RESPONSE` (a non-boolean `active`, a JSON
 *   downgrade, a wrong `alg` or `typ`, a missing claim, a bad signature),
 *   `JWT_CLAIM_COMPARISON` (`iss`, `aud`), `JWT_TIMESTAMP_CHECK`, `KEY_SELECTION`,
 *   `RESPONSE_IS_NOT_CONFORM`, `RESPONSE_IS_NOT_JSON`, `PARSE_ERROR`, `RESPONSE_TOO_LARGE`.
 * @throws {UnsupportedOperationError} For a JWE without `[jweDecrypt]` or an unsupported `alg`.
 * @throws {TypeError} For invalid arguments or a consumed response.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * const result = await oauth.processIntrospectionResponse(as, client, response);
 * if (!result.active) throw new Error("token is not active");
 * ```
 * @example JWT response with a persisted JWKS cache
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * const cache = {};
 * const result = await oauth.processIntrospectionResponse(as, client, response, {
 *   [oauth.jwksCache]: cache,
 * });
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7662#section-2.2 | RFC 7662 §2.2}
 * @see {@link https://www.rfc-editor.org/rfc/rfc9701#section-5 | RFC 9701 §5}
 */
export async function processIntrospectionResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
  options?: ValidateSignatureOptions & JWEDecryptOptions,
): Promise<IntrospectionResponse> {
  assertAs(as);
  assertClient(client);
  assertResponse(response);
  await checkStatus(response, 200, "Introspection Endpoint");
  const contentType = getContentType(response);
  if (contentType === JWT_MEDIA_TYPE) {
    return await processJwtResponse(as, client, response, options);
  }
  if (client.introspection_signed_response_alg) {
    await response.body?.cancel();
    throw processingError(
      `unexpected response content-type, expected "${JWT_MEDIA_TYPE}"`,
      INVALID_RESPONSE,
      { contentType, expected: JWT_MEDIA_TYPE, status: response.status },
    );
  }
  const body = await readJsonObject(response);
  checkActive(body, '"response" body "active" property must be a boolean', { body });
  return body as IntrospectionResponse;
}

/** RFC 9701 §5: a signed (and perhaps encrypted) introspection response. */
async function processJwtResponse(
  as: AuthorizationServer,
  client: Client,
  response: Response,
  options?: ProcessIntrospectionOptions,
): Promise<IntrospectionResponse> {
  const jwt = await decryptIfNeeded(await readText(response), options);
  const allowed = allowedAlgs(
    client.introspection_signed_response_alg,
    as.introspection_signing_alg_values_supported,
    "RS256",
  )!;
  const jws = decodeChecked(jwt, allowed, "JWT Introspection Response signing algorithm");
  const { header, claims } = jws;
  checkTyp(header, JWT_TYP, INVALID_RESPONSE);
  // RFC 9701 §5: verify the signature, fetching the JWKS only as the caller asked for (the
  // options of the introspectionRequest() that produced the response, or the ones given here).
  const jwksOptions = jwksFetchOptionsFor(
    response,
    options as (HttpOptions & ValidateSignatureOptions) | undefined,
  );
  if (jwksOptions !== undefined) await verifyWithServerKeys(as, jws, jwksOptions);
  requireClaims(claims, ["iss", "aud", "iat"]);
  checkClaimTypes(claims);
  checkIssuer(as, jws);
  checkAudience(claims, client.client_id);
  checkTimestamps(claims, client);
  const introspection = claims.token_introspection;
  if (!isJsonObject(introspection)) {
    throw processingError(
      'JWT "token_introspection" claim must be a JSON object',
      INVALID_RESPONSE,
      {
        claims,
        claim: "token_introspection",
      },
    );
  }
  checkActive(
    introspection,
    'JWT "token_introspection" claim "active" property must be a boolean',
    {
      claims,
      claim: "token_introspection",
    },
  );
  rememberJws(response, jws);
  return introspection as IntrospectionResponse;
}

function checkActive(value: JsonObject, message: string, cause: Record<string, unknown>): void {
  if (typeof value.active !== "boolean") {
    throw processingError(message, INVALID_RESPONSE, { ...cause, attribute: "active" });
  }
}
