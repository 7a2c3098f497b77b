/**
 * The UserInfo endpoint (OpenID Connect Core §5.3): the request with a Bearer (RFC 6750 §2.1) or
 * DPoP (RFC 9449 §7.1) access token, and the validation of its response, plain JSON (§5.3.2) or
 * a signed, possibly encrypted, JWT (§5.3.2, §10), including the `sub` comparison with the ID
 * token's (§5.3.4).
 *
 * @module
 */

import {
  assertAs,
  assertClient,
  assertNonEmptyString,
  assertResponse,
  isJsonObject,
} from "./_assert.ts";
import {
  checkStatus,
  dpopOf,
  enforcesHttps,
  type HttpOptions,
  prepareHeaders,
  readJsonObject,
  readText,
  send,
  transportFor,
} from "./_http.ts";
import { getContentType, resolveEndpoint } from "./endpoints.ts";
import {
  allowedAlgs,
  checkAudience,
  checkClaimTypes,
  checkIssuer,
  checkTimestamps,
  decodeChecked,
  jwksFetchOptionsFor,
  rememberRequestOptions,
  requireClaims,
  verifyWithServerKeys,
} from "./_jwt.ts";
import {
  argError,
  INVALID_RESPONSE,
  JSON_ATTRIBUTE_COMPARISON,
  JWT_USERINFO_EXPECTED,
  processingError,
  UNSUPPORTED_OPERATION,
} from "./errors.ts";
import { decryptIfNeeded, rememberJws } from "./id_token.ts";
import { skipSubjectCheck } from "./symbols.ts";
import type {
  AuthorizationServer,
  Client,
  DPoPRequestOptions,
  HttpRequestOptions,
  JsonObject,
  JsonValue,
  JWEDecryptOptions,
  JWKSCacheOptions,
  ValidateSignatureOptions,
} from "./types.ts";

/** Options of {@link userInfoRequest}. */
export interface UserInfoRequestOptions extends HttpRequestOptions<"GET">, DPoPRequestOptions {}

/** The `address` claim (OpenID Connect Core §5.1.1). */
export interface UserInfoAddress {
  /** Full mailing address, formatted for display. */
  readonly formatted?: string;
  /** Street address (house number, street name, P.O. box, …). */
  readonly street_address?: string;
  /** City or locality. */
  readonly locality?: string;
  /** State, province, prefecture or region. */
  readonly region?: string;
  /** Zip or postal code. */
  readonly postal_code?: string;
  /** Country name. */
  readonly country?: string;
  /** Other members. */
  readonly [claim: string]: JsonValue | undefined;
}

/** A validated UserInfo response (OpenID Connect Core §5.1, §5.3.2). */
export interface UserInfoResponse {
  /** Subject identifier; always a non-empty string. */
  readonly sub: string;
  /** Full name. */
  readonly name?: string;
  /** Given name(s) or first name(s). */
  readonly given_name?: string;
  /** Surname(s) or last name(s). */
  readonly family_name?: string;
  /** Middle name(s). */
  readonly middle_name?: string;
  /** Casual name. */
  readonly nickname?: string;
  /** Shorthand name the user wishes to be referred to by. */
  readonly preferred_username?: string;
  /** Profile page URL. */
  readonly profile?: string;
  /** Profile picture URL. */
  readonly picture?: string;
  /** Web page or blog URL. */
  readonly website?: string;
  /** Preferred e-mail address. */
  readonly email?: string;
  /** Whether the e-mail address was verified. */
  readonly email_verified?: boolean;
  /** Gender. */
  readonly gender?: string;
  /** Birthday, `YYYY-MM-DD` (or `YYYY`, or `0000-MM-DD`). */
  readonly birthdate?: string;
  /** Time zone, such as `Europe/Paris`. */
  readonly zoneinfo?: string;
  /** Locale, a BCP 47 language tag. */
  readonly locale?: string;
  /** Preferred telephone number. */
  readonly phone_number?: string;
  /** Time the information was last updated, in epoch seconds. */
  readonly updated_at?: number;
  /** Preferred postal address. */
  readonly address?: UserInfoAddress;
  /** Other claims. */
  readonly [claim: string]: JsonValue | undefined;
}

/**
 * Sends a UserInfo request (OpenID Connect Core §5.3.1): a `GET` to `as.userinfo_endpoint` (its
 * `mtls_endpoint_aliases` entry when `client.use_mtls_endpoint_aliases` is true) presenting the
 * access token as `Authorization: Bearer <token>`, or, with `options.DPoP`, as
 * `Authorization: DPoP <token>` with a DPoP proof bound to it (`ath`, RFC 9449 §7.1).
 *
 * It asks for `application/jwt` when `client.userinfo_signed_response_alg` is set, else for
 * `application/json`. The endpoint, `https:` rule and transport (`[customFetch]`, the client's
 * mutual-TLS adapter, or `fetch`) are all settled before any I/O. A `DPoP-Nonce` in the response
 * is remembered by the handle. The transport options are remembered with the response, so that
 * {@link processUserInfoResponse} fetches the JWKS for a signed response the same way.
 *
 * @param as Authorization server metadata (with `userinfo_endpoint`).
 * @param client Client metadata.
 * @param accessToken The access token.
 * @param options `DPoP`, `[customFetch]`, `signal`, `headers` (not `Authorization`; a `DPoP` header
 *   with the caller's own proof makes the scheme `DPoP`),
 *   `[allowInsecureRequests]`.
 * @returns The raw response; pass it to {@link processUserInfoResponse}.
 * @throws {OperationProcessingError} `MISSING_SERVER_METADATA` without a userinfo endpoint,
 *   `INVALID_SERVER_METADATA` when it is not a URL, `HTTP_REQUEST_FORBIDDEN` when it is not
 *   `https:` and insecure requests are not allowed, `REQUEST_PROTOCOL_FORBIDDEN` for other
 *   schemes.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for invalid arguments (an
 *   empty token, an `Authorization` header in `options.headers`, mutual TLS without a client
 *   certificate or `[customFetch]`), before any request.
 * @throws {UnsupportedOperationError} When the DPoP key cannot sign.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const accessToken: string;
 * declare const sub: string; // from the ID token
 * const response = await oauth.userInfoRequest(as, client, accessToken);
 * const userinfo = await oauth.processUserInfoResponse(as, client, sub, response);
 * console.log(userinfo.email);
 * ```
 * @example With DPoP
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const accessToken: string;
 * declare const DPoP: oauth.DPoPHandle;
 * const response = await oauth.userInfoRequest(as, client, accessToken, { DPoP });
 * ```
 * @see {@link https://openid.net/specs/openid-connect-core-1_0.html#UserInfoRequest | OIDC Core §5.3.1}
 */
export async function userInfoRequest(
  as: AuthorizationServer,
  client: Client,
  accessToken: string,
  options?: UserInfoRequestOptions,
): Promise<Response> {
  assertAs(as);
  assertClient(client);
  assertNonEmptyString(accessToken, '"accessToken"');
  const httpOptions = options as HttpOptions | undefined;
  const url = resolveEndpoint(
    as,
    "userinfo_endpoint",
    client.use_mtls_endpoint_aliases,
    enforcesHttps(httpOptions),
  );
  const transport = transportFor(client, httpOptions);
  const dpop = dpopOf(options);
  const headers = prepareHeaders(options?.headers);
  headers.set(
    "accept",
    client.userinfo_signed_response_alg === undefined
      ? "application/json, application/jwt"
      : "application/jwt",
  );
  // A caller's own DPoP proof switches the scheme, as a DPoP signer does.
  const scheme = dpop !== undefined || headers.has("dpop") ? "DPoP" : "Bearer";
  headers.set("authorization", `${scheme} ${accessToken}`);
  const response = await send({
    url,
    method: "GET",
    headers,
    options: httpOptions,
    transport,
    dpop,
    accessToken,
  });
  rememberRequestOptions(response, options as (HttpOptions & JWKSCacheOptions) | undefined);
  return response;
}

/** Reads the client's `userinfo_signed_response_alg`, which must be a non-empty string if set. */
function expectedAlgOf(client: Client): string | undefined {
  const alg = client.userinfo_signed_response_alg;
  if (alg !== undefined) assertNonEmptyString(alg, '"client.userinfo_signed_response_alg"');
  return alg;
}

/**
 * OpenID Connect Core §5.3.2: a signed UserInfo response is a JWT whose signature is verified
 * against the server's JWKS, whose `alg` is the registered or advertised one, and which must
 * carry `iss` (the issuer) and `aud` (including the client). The specification says SHOULD for
 * `iss` and `aud`; authlane requires both, so a response issued by another server or for another
 * client is never accepted.
 */
async function readSignedUserInfo(
  as: AuthorizationServer,
  client: Client,
  response: Response,
  options: (JWEDecryptOptions & ValidateSignatureOptions) | undefined,
): Promise<JsonObject> {
  const allowed = allowedAlgs(
    client.userinfo_signed_response_alg,
    as.userinfo_signing_alg_values_supported,
    undefined,
  );
  if (allowed === undefined || allowed.length === 0) {
    await response.body?.cancel();
    throw processingError(
      'missing client or server configuration to verify used JWT "alg" header parameter',
      UNSUPPORTED_OPERATION,
      {
        client: "userinfo_signed_response_alg",
        server: "userinfo_signing_alg_values_supported",
      },
    );
  }
  const jwt = await decryptIfNeeded(await readText(response), options);
  const jws = decodeChecked(jwt, allowed, "UserInfo signing algorithm");
  // OIDC Core §5.3.4 (3): verify the signature, fetching the JWKS only as the caller asked for
  // (the options of the userInfoRequest() that produced the response, or the ones given here).
  const jwksOptions = jwksFetchOptionsFor(
    response,
    options as (HttpOptions & ValidateSignatureOptions) | undefined,
  );
  if (jwksOptions !== undefined) await verifyWithServerKeys(as, jws, jwksOptions);
  const claims = jws.claims;
  requireClaims(claims, ["iss", "aud"]);
  checkClaimTypes(claims);
  checkIssuer(as, jws);
  checkAudience(claims, client.client_id);
  checkTimestamps(claims, client);
  rememberJws(response, jws);
  return claims;
}

/**
 * Validates a UserInfo response (OpenID Connect Core §5.3.2–§5.3.4) and returns its claims.
 *
 * Checks, in order: a `WWW-Authenticate` challenge (such as `invalid_token`, or DPoP
 * `use_dpop_nonce`) throws {@link WWWAuthenticateChallengeError}; a status other than 200 throws
 * {@link ResponseBodyError} for an OAuth 2.0 error body, else `RESPONSE_IS_NOT_CONFORM`. Then:
 *
 * - `Content-Type: application/jwt`: a signed (or nested signed-then-encrypted, decrypted with
 *   `[jweDecrypt]`) JWT. Its `alg` must be `client.userinfo_signed_response_alg`, else one of
 *   `as.userinfo_signing_alg_values_supported`; with neither configured the response is refused.
 *   The signature is verified against the server's JWKS (§5.3.4 (3)); see "Signature and network
 *   I/O" below. `iss` must equal `as.issuer` (or what the metadata's `[_expectedIssuer]` derives
 *   for an issuer template) and `aud` must be or contain `client.client_id`; both are required.
 *   `exp`/`nbf`, when present, are checked with the client's clock options. The response may
 *   then also be passed to `validateApplicationLevelSignature`.
 * - Otherwise a JSON object, unless `client.userinfo_signed_response_alg` is set, in which case
 *   the unsigned response is refused.
 *
 * Finally `sub` must be a non-empty string and, unless {@link skipSubjectCheck} is passed, equal
 * `expectedSubject`: the `sub` of the ID token, which guards against token substitution (§5.3.4).
 *
 * Signature and network I/O: this function fetches the JWKS (once, then cached: in `[jwksCache]`
 * when given, else per metadata object) only as the caller asked for the response itself to be
 * fetched. It uses the options of the {@link userInfoRequest} call that returned `response`
 * (`[customFetch]`, `[allowInsecureRequests]`, `signal`, `[maxResponseSize]`, `headers` without
 * `Authorization` and `DPoP`, and a `[jwksCache]` passed along), overridden by any of them given
 * here. So openid-client, which gives those options to the request and none to this function,
 * works unchanged. A response that did not come from `userInfoRequest` (built by a test, or
 * fetched by other means) causes no network I/O unless such options or a `[jwksCache]` are given
 * here; its signature is then left to `validateApplicationLevelSignature`, as in oauth4webapi.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param expectedSubject The ID token's `sub`, or {@link skipSubjectCheck} when there is no ID
 *   token (plain OAuth 2.0 with `openid`-less access tokens).
 * @param response The response of {@link userInfoRequest}.
 * @param options `[jweDecrypt]` for encrypted responses; `[jwksCache]`, and `[customFetch]`,
 *   `signal`, `headers`, `[allowInsecureRequests]` to override the request's for the JWKS
 *   request of a signed response.
 * @returns The claims.
 * @throws {WWWAuthenticateChallengeError} `WWW_AUTHENTICATE_CHALLENGE` when the response carries
 *   a challenge (check {@link isDPoPNonceError} before giving up).
 * @throws {ResponseBodyError} `RESPONSE_BODY_ERROR` for an OAuth 2.0 error body.
 * @throws {OperationProcessingError} `RESPONSE_IS_NOT_CONFORM` for a non-200 status,
 *   `RESPONSE_IS_NOT_JSON`, `PARSE_ERROR`, `INVALID_RESPONSE` (malformed body, missing or empty
 *   `sub`, a missing `iss`/`aud`, a disallowed `alg`, a bad signature),
 *   `JWT_USERINFO_EXPECTED` when a signed response was expected but JSON came,
 *   `JWT_CLAIM_COMPARISON` for a wrong `iss` or `aud`, `JWT_TIMESTAMP_CHECK` for an expired JWT,
 *   `KEY_SELECTION` when no single key of the JWKS matches, `JSON_ATTRIBUTE_COMPARISON` when
 *   `sub` differs from `expectedSubject`, and `UNSUPPORTED_OPERATION` for a signed response when
 *   neither the client nor the server names a signing algorithm.
 * @throws {UnsupportedOperationError} For an encrypted response without `[jweDecrypt]`, an
 *   unsecured (`alg: "none"`) JWT, or an unsupported algorithm.
 * @throws {TypeError} For invalid arguments, or a response whose body was already read.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const accessToken: string;
 * declare const tokens: oauth.TokenEndpointResponse;
 * const { sub } = oauth.getValidatedIdTokenClaims(tokens)!;
 * const response = await oauth.userInfoRequest(as, client, accessToken);
 * const userinfo = await oauth.processUserInfoResponse(as, client, sub, response);
 * ```
 * @example Signed userinfo with a shared JWKS cache
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const response: Response;
 * const client: oauth.Client = { client_id: "app", userinfo_signed_response_alg: "ES256" };
 * const cache = {};
 * const userinfo = await oauth.processUserInfoResponse(
 *   as, client, oauth.skipSubjectCheck, response, { [oauth.jwksCache]: cache },
 * );
 * ```
 * @see {@link https://openid.net/specs/openid-connect-core-1_0.html#UserInfoResponse | OIDC Core §5.3.2}
 */
export async function processUserInfoResponse(
  as: AuthorizationServer,
  client: Client,
  expectedSubject: string | typeof skipSubjectCheck,
  response: Response,
  options?: JWEDecryptOptions & ValidateSignatureOptions,
): Promise<UserInfoResponse> {
  assertAs(as);
  assertClient(client);
  if (expectedSubject !== skipSubjectCheck) {
    assertNonEmptyString(expectedSubject, '"expectedSubject"');
  }
  assertResponse(response);
  if (options !== undefined && !isJsonObject(options)) {
    throw argError('"options" must be an object');
  }
  const expectedAlg = expectedAlgOf(client);
  await checkStatus(response, 200, "UserInfo Endpoint");

  let claims: JsonObject;
  if (getContentType(response) === "application/jwt") {
    claims = await readSignedUserInfo(as, client, response, options);
  } else {
    if (expectedAlg !== undefined) {
      await response.body?.cancel();
      throw processingError("JWT UserInfo Response expected", JWT_USERINFO_EXPECTED, {
        status: response.status,
        contentType: getContentType(response),
      });
    }
    claims = await readJsonObject(response);
  }

  if (typeof claims.sub !== "string" || claims.sub.length === 0) {
    throw processingError(
      '"response" body "sub" property must be a non-empty string',
      INVALID_RESPONSE,
      { body: claims, attribute: "sub" },
    );
  }
  if (expectedSubject !== skipSubjectCheck && claims.sub !== expectedSubject) {
    throw processingError(
      'unexpected "response" body "sub" property value',
      JSON_ATTRIBUTE_COMPARISON,
      { expected: expectedSubject, body: claims, attribute: "sub" },
    );
  }
  return claims as UserInfoResponse;
}
