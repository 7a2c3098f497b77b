/**
 * The OpenID Connect hybrid flow's `code id_token` response (OpenID Connect Core §3.3.2.5,
 * §3.3.2.11, §3.3.2.12) and its use as a detached signature (FAPI 1.0 Advanced §5.2.2.1): the ID
 * token that arrives with the code through the browser is validated like any ID token, its
 * signature is ALWAYS verified (it did not come over the token endpoint's TLS channel), and its
 * `c_hash` (and `s_hash`) bind it to the `code` (and `state`) beside it.
 *
 * @module
 */

import { assertAs, assertClient, assertNonEmptyString } from "./_assert.ts";
import type { HttpOptions } from "./_http.ts";
import { halfHash } from "./_jose.ts";
import { requireClaims, verifyWithServerKeys } from "./_jwt.ts";
import { formPostResponse, validateAuthResponse } from "./authorization_response.ts";
import { clientTime } from "./_time.ts";
import {
  argError,
  INVALID_RESPONSE,
  JWT_CLAIM_COMPARISON,
  JWT_TIMESTAMP_CHECK,
  processingError,
} from "./errors.ts";
import { decryptIfNeeded, validateIdTokenClaims } from "./id_token.ts";
import { expectNoState, type skipAuthTimeCheck } from "./symbols.ts";
import type {
  AuthorizationServer,
  Client,
  JsonObject,
  JWEDecryptOptions,
  ValidateSignatureOptions,
} from "./types.ts";

/**
 * Seconds an ID token that crossed the browser stays acceptable after its `iat`, as in
 * oauth4webapi: OIDC Core §3.1.3.7 (10) lets the client bound how long it must remember nonces.
 */
const MAX_ID_TOKEN_AGE = 3600;

/** The response parameters: a URL's fragment (else its query), a form post, or the params. */
async function responseParameters(
  parameters: URLSearchParams | URL | Request,
): Promise<URLSearchParams> {
  if (parameters instanceof URL) {
    // OIDC Core §3.3.2.5: the default response mode of `code id_token` is the fragment.
    return new URLSearchParams(
      parameters.hash.length > 1 ? parameters.hash.slice(1) : parameters.search,
    );
  }
  if (parameters instanceof Request) return await formPostResponse(parameters);
  if (parameters instanceof URLSearchParams) return new URLSearchParams(parameters);
  throw argError('"parameters" must be an instance of URLSearchParams, URL, or Request');
}

function singleParameter(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) {
    throw processingError(`"${name}" parameter must be provided only once`, INVALID_RESPONSE, {
      parameter: name,
    });
  }
  return values[0] || undefined;
}

/**
 * OIDC Core §3.3.2.11: `c_hash` / `s_hash` is the base64url left half of the hash (per the ID
 * token's alg) of the ASCII value. A claim that is not a string is malformed (INVALID_RESPONSE, as
 * in oauth4webapi), a string of another value a failed comparison.
 */
async function checkHash(
  claims: JsonObject,
  claim: "c_hash" | "s_hash",
  value: string,
  alg: string,
): Promise<void> {
  const label = claim === "c_hash" ? "code hash" : "state hash";
  if (typeof claims[claim] !== "string") {
    throw processingError(
      `unexpected ID Token "${claim}" (${label}) claim type`,
      INVALID_RESPONSE,
      {
        claims,
        claim,
      },
    );
  }
  if (claims[claim] !== await halfHash(value, alg)) {
    throw processingError(
      `invalid ID Token "${claim}" (${label}) claim value`,
      JWT_CLAIM_COMPARISON,
      { claims, claim },
    );
  }
}

async function validateHybridResponse(
  as: AuthorizationServer,
  client: Client,
  parameters: URLSearchParams | URL | Request,
  expectedNonce: string,
  expectedState: string | typeof expectNoState | undefined,
  maxAge: number | typeof skipAuthTimeCheck | undefined,
  options: (ValidateSignatureOptions & JWEDecryptOptions) | undefined,
  detached: boolean,
): Promise<URLSearchParams> {
  assertAs(as);
  assertClient(client);
  assertNonEmptyString(expectedNonce, '"expectedNonce"');
  if (expectedState !== undefined && expectedState !== expectNoState) {
    assertNonEmptyString(expectedState, '"expectedState"');
  }
  const params = await responseParameters(parameters);
  const idToken = singleParameter(params, "id_token");
  params.delete("id_token");
  // RFC 6749 §4.1.2.1 errors, `state`, and an `iss` parameter when one is sent. RFC 9207 §2.4:
  // the ID token's `iss` (checked below) already identifies the issuer, so `iss` may be absent.
  const result = validateAuthResponse(
    { ...as, authorization_response_iss_parameter_supported: false },
    client,
    params,
    expectedState,
  );
  if (idToken === undefined) {
    throw processingError('"parameters" does not contain an ID Token', INVALID_RESPONSE);
  }
  const code = singleParameter(result, "code");
  if (code === undefined) {
    throw processingError('"parameters" does not contain an Authorization Code', INVALID_RESPONSE);
  }
  const jwt = await decryptIfNeeded(idToken, options);
  // OIDC Core §3.3.2.12 → §3.1.3.7: alg policy, iss, aud/azp, exp/nbf, auth_time. The nonce is
  // compared below, once it is known to be present.
  const { jws, claims } = validateIdTokenClaims(as, client, jwt, { maxAge, authTime: true });
  const now = clientTime(client);
  if ((claims.iat as number) < now - MAX_ID_TOKEN_AGE) {
    throw processingError(
      'unexpected JWT "iat" (issued at) claim value, it is too far in the past',
      JWT_TIMESTAMP_CHECK,
      { claims, claim: "iat", now, maxAge: MAX_ID_TOKEN_AGE },
    );
  }
  const state = result.get("state");
  const required = ["nonce", "c_hash"];
  // FAPI 1.0 Advanced §5.2.2.1 (5): the detached signature covers `state` too.
  if (detached && (typeof expectedState === "string" || state !== null)) required.push("s_hash");
  requireClaims(claims, required);
  if (claims.nonce !== expectedNonce) {
    throw processingError('unexpected ID Token "nonce" claim value', JWT_CLAIM_COMPARISON, {
      claims,
      claim: "nonce",
      expected: expectedNonce,
    });
  }
  // The ID token crossed the browser: its signature is the only proof of where it came from.
  await verifyWithServerKeys(as, jws, options as HttpOptions & ValidateSignatureOptions);
  const alg = jws.header.alg as string;
  await checkHash(claims, "c_hash", code, alg);
  if (claims.s_hash !== undefined) {
    // An s_hash with no state beside it: the response is malformed, as in oauth4webapi.
    if (state === null) {
      throw processingError('"state" response parameter missing', INVALID_RESPONSE, {
        claims,
        claim: "s_hash",
        parameter: "state",
      });
    }
    await checkHash(claims, "s_hash", state, alg);
  }
  return result;
}

/**
 * Validates a `code id_token` authorization response whose ID token is a detached signature
 * (FAPI 1.0 Advanced §5.2.2.1), and returns its parameters for `authorizationCodeGrantRequest`.
 *
 * The parameters come from the URL's fragment (else its query), a `form_post` `Request`, or the
 * given `URLSearchParams`. An `error` becomes an {@link AuthorizationResponseError}; `state` must
 * match and an `iss` parameter, when sent, must be the issuer (RFC 9207). The ID token (decrypted
 * with `[jweDecrypt]` when it is a JWE) is validated per OpenID Connect Core §3.3.2.12: `alg`
 * policy, `iss`, `aud`/`azp`, `exp`/`nbf`, `auth_time` with `maxAge`, an `iat` at most an hour old
 * (with `[clockSkew]`, as in oauth4webapi); `nonce` is required and
 * must equal `expectedNonce`; its signature is always verified against the server's JWKS;
 * `c_hash` is required and must match the code; `s_hash` is required whenever a `state` was sent
 * or received and must match it (SHA-256/384/512 per `alg`, SHA-512 for Ed25519).
 *
 * @param as Authorization server metadata (with `jwks_uri`).
 * @param client Client metadata.
 * @param parameters The callback URL, a `form_post` `Request`, or the parameters.
 * @param expectedNonce The `nonce` sent in the authorization request.
 * @param expectedState The `state` sent in the authorization request, or `expectNoState` (the
 *   default).
 * @param maxAge The `max_age` sent, or `skipAuthTimeCheck`; `client.default_max_age` when
 *   omitted.
 * @param options `[jweDecrypt]`, `[jwksCache]`, `[customFetch]`, `signal`, `headers`.
 * @returns The validated parameters (`code`, `state`, …) without `id_token`.
 * @throws {AuthorizationResponseError} When the response carries an `error`.
 * @throws {OperationProcessingError} `INVALID_RESPONSE` for a missing `code`, `id_token`, claim
 *   (`nonce`, `c_hash`, `s_hash`, …), a `c_hash`/`s_hash` that is not a string, an `s_hash`
 *   without a `state`, a `state` or `iss` parameter mismatch, a disallowed `alg` or a signature
 *   that does not verify; `JWT_CLAIM_COMPARISON` for a wrong `iss`, `aud`, `azp`,
 *   `nonce`, `c_hash` or `s_hash`; `JWT_TIMESTAMP_CHECK`; `KEY_SELECTION`; `PARSE_ERROR`.
 * @throws {UnsupportedOperationError} For an unsupported `alg` or `crit`, or a JWE without
 *   `[jweDecrypt]`.
 * @throws {TypeError} For invalid arguments.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const currentUrl: URL;
 * declare const nonce: string;
 * declare const state: string;
 * declare const codeVerifier: string;
 * const params = await oauth.validateDetachedSignatureResponse(
 *   as, client, currentUrl, nonce, state,
 * );
 * const response = await oauth.authorizationCodeGrantRequest(
 *   as, client, oauth.None(), params, "https://app.example/cb", codeVerifier,
 * );
 * ```
 * @see {@link https://openid.net/specs/openid-financial-api-part-2-1_0.html#id-token-as-detached-signature | FAPI 1.0 Advanced §5.2.2.1}
 */
export async function validateDetachedSignatureResponse(
  as: AuthorizationServer,
  client: Client,
  parameters: URLSearchParams | URL | Request,
  expectedNonce: string,
  expectedState?: string | typeof expectNoState,
  maxAge?: number | typeof skipAuthTimeCheck,
  options?: ValidateSignatureOptions & JWEDecryptOptions,
): Promise<URLSearchParams> {
  return await validateHybridResponse(
    as,
    client,
    parameters,
    expectedNonce,
    expectedState,
    maxAge,
    options,
    true,
  );
}

/**
 * Validates an OpenID Connect `code id_token` hybrid response (OpenID Connect Core §3.3.2.11,
 * §3.3.2.12), and returns its parameters for `authorizationCodeGrantRequest`.
 *
 * The same checks as {@link validateDetachedSignatureResponse}, except that `s_hash` is only
 * checked when the ID token carries one.
 *
 * @param as Authorization server metadata (with `jwks_uri`).
 * @param client Client metadata.
 * @param parameters The callback URL, a `form_post` `Request`, or the parameters.
 * @param expectedNonce The `nonce` sent in the authorization request.
 * @param expectedState The `state` sent in the authorization request, or `expectNoState` (the
 *   default).
 * @param maxAge The `max_age` sent, or `skipAuthTimeCheck`; `client.default_max_age` when
 *   omitted.
 * @param options `[jweDecrypt]`, `[jwksCache]`, `[customFetch]`, `signal`, `headers`.
 * @returns The validated parameters (`code`, `state`, …) without `id_token`.
 * @throws {AuthorizationResponseError} When the response carries an `error`.
 * @throws {OperationProcessingError} `INVALID_RESPONSE`, `JWT_CLAIM_COMPARISON`,
 *   `JWT_TIMESTAMP_CHECK`, `KEY_SELECTION`, `PARSE_ERROR`, as for
 *   {@link validateDetachedSignatureResponse}.
 * @throws {UnsupportedOperationError} For an unsupported `alg` or `crit`, or a JWE without
 *   `[jweDecrypt]`.
 * @throws {TypeError} For invalid arguments.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const request: Request; // the form_post callback
 * declare const nonce: string;
 * declare const state: string;
 * const params = await oauth.validateCodeIdTokenResponse(as, client, request, nonce, state);
 * ```
 * @see {@link https://openid.net/specs/openid-connect-core-1_0.html#HybridIDTValidation2 | OpenID Connect Core §3.3.2.12}
 */
export async function validateCodeIdTokenResponse(
  as: AuthorizationServer,
  client: Client,
  parameters: URLSearchParams | URL | Request,
  expectedNonce: string,
  expectedState?: string | typeof expectNoState,
  maxAge?: number | typeof skipAuthTimeCheck,
  options?: ValidateSignatureOptions & JWEDecryptOptions,
): Promise<URLSearchParams> {
  return await validateHybridResponse(
    as,
    client,
    parameters,
    expectedNonce,
    expectedState,
    maxAge,
    options,
    false,
  );
}
