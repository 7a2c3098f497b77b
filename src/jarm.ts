/**
 * JWT Secured Authorization Response Mode (JARM, OpenID Foundation, final): the authorization
 * response travels as the claims of one signed (and possibly encrypted) JWT in the `response`
 * parameter (§2.1, §2.3). The client decrypts it (§2.3.4), verifies its signature against the
 * authorization server's JWKS, checks `iss`, `aud` and `exp` (§2.4), and then runs the ordinary
 * authorization response checks (RFC 6749 §4.1.2, RFC 9207 §2.4) on the claims.
 *
 * @module
 */

import { assertAs, assertClient, assertNonEmptyString } from "./_assert.ts";
import type { HttpOptions } from "./_http.ts";
import { decodeJws } from "./_jose.ts";
import {
  allowedAlgs,
  checkAlg,
  checkAudience,
  checkClaimTypes,
  checkIssuer,
  checkTimestamps,
  requireClaims,
  verifyWithServerKeys,
} from "./_jwt.ts";
import { validateAuthResponse } from "./authorization_response.ts";
import { argError, INVALID_RESPONSE, processingError } from "./errors.ts";
import { decryptIfNeeded } from "./id_token.ts";
import { expectNoState, skipStateCheck } from "./symbols.ts";
import type {
  AuthorizationServer,
  Client,
  JWEDecryptOptions,
  ValidateSignatureOptions,
} from "./types.ts";

/** The `response` parameter's value, from the query, or from the fragment for `fragment.jwt`. */
function jarmResponseOf(parameters: URLSearchParams | URL): string {
  let params: URLSearchParams;
  if (parameters instanceof URL) {
    params = parameters.searchParams;
    if (!params.has("response") && parameters.hash.length > 1) {
      params = new URLSearchParams(parameters.hash.slice(1)); // JARM §2.3.2 fragment.jwt
    }
  } else if (parameters instanceof URLSearchParams) {
    params = parameters;
  } else {
    throw argError('"parameters" must be an instance of URLSearchParams, or URL');
  }
  const values = params.getAll("response");
  if (values.length === 0 || values[0] === "") {
    throw processingError('"parameters" does not contain a JARM response', INVALID_RESPONSE);
  }
  if (values.length > 1) {
    throw processingError('"response" parameter must be provided only once', INVALID_RESPONSE, {
      parameter: "response",
    });
  }
  return values[0]!;
}

/**
 * Validates a JARM authorization response and returns its parameters for
 * `authorizationCodeGrantRequest`.
 *
 * The `response` parameter is decrypted with `[jweDecrypt]` when it is a JWE (JARM §2.3.4), its
 * `alg` must be the client's `authorization_signed_response_alg`, else one of the server's
 * `authorization_signing_alg_values_supported`, else RS256 (`none` and HMAC are never accepted),
 * and its signature is ALWAYS verified against the server's JWKS: the response crossed the
 * browser. Then `iss` must be the issuer, `aud` must contain the client ID and `exp` must not be
 * past (with the client's `[clockSkew]` and `[clockTolerance]`), per JARM §2.4. The string claims
 * (all but `aud`) become the response parameters, which get the checks of
 * `validateAuthResponse`: an `error` claim becomes an {@link AuthorizationResponseError}, `state`
 * must match, and the `iss` claim satisfies RFC 9207.
 *
 * @param as Authorization server metadata (with `jwks_uri`).
 * @param client Client metadata.
 * @param parameters The callback's parameters, or its URL (`response` is read from the query,
 *   else from the fragment for `fragment.jwt`).
 * @param expectedState The `state` sent in the authorization request, `expectNoState` (the
 *   default) or `skipStateCheck`.
 * @param options `[jweDecrypt]`, `[jwksCache]`, `[customFetch]`, `signal`, `headers`.
 * @returns The validated parameters (`code`, `state`, `iss`, …).
 * @throws {AuthorizationResponseError} When the response's claims carry an `error`.
 * @throws {OperationProcessingError} `INVALID_RESPONSE` for a missing or repeated `response`, a
 *   disallowed `alg`, a missing or mistyped claim, a signature that does not verify, a `state`
 *   mismatch; `JWT_CLAIM_COMPARISON` for a wrong `iss` or `aud`; `JWT_TIMESTAMP_CHECK` for an
 *   expired response; `KEY_SELECTION` when no single key matches; `PARSE_ERROR` for a malformed
 *   JWT; and the JWKS fetch's codes.
 * @throws {UnsupportedOperationError} For `alg` `none` or an unsupported `alg`, an unknown
 *   `crit`, or a JWE without `[jweDecrypt]`.
 * @throws {TypeError} For invalid arguments.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const currentUrl: URL;
 * declare const state: string;
 * declare const codeVerifier: string;
 * const params = await oauth.validateJwtAuthResponse(as, client, currentUrl, state);
 * const response = await oauth.authorizationCodeGrantRequest(
 *   as, client, oauth.None(), params, "https://app.example/cb", codeVerifier,
 * );
 * ```
 * @see {@link https://openid.net/specs/oauth-v2-jarm.html#section-2.4 | JARM §2.4}
 */
export async function validateJwtAuthResponse(
  as: AuthorizationServer,
  client: Client,
  parameters: URLSearchParams | URL,
  expectedState?: string | typeof expectNoState | typeof skipStateCheck,
  options?: ValidateSignatureOptions & JWEDecryptOptions,
): Promise<URLSearchParams> {
  assertAs(as);
  assertClient(client);
  if (
    expectedState !== undefined && expectedState !== expectNoState &&
    expectedState !== skipStateCheck
  ) {
    assertNonEmptyString(expectedState, '"expectedState"');
  }
  const jwt = await decryptIfNeeded(jarmResponseOf(parameters), options);
  const allowed = allowedAlgs(
    client.authorization_signed_response_alg,
    as.authorization_signing_alg_values_supported,
    "RS256",
  )!;
  const jws = decodeJws(jwt);
  checkAlg(jws.header, allowed, "JARM signing algorithm");
  await verifyWithServerKeys(as, jws, options as HttpOptions & ValidateSignatureOptions);
  const claims = jws.claims;
  requireClaims(claims, ["iss", "aud", "exp"]);
  checkClaimTypes(claims);
  checkIssuer(as, jws);
  checkAudience(claims, client.client_id);
  checkTimestamps(claims, client);
  const result = new URLSearchParams();
  for (const [name, value] of Object.entries(claims)) {
    if (typeof value === "string" && name !== "aud") result.set(name, value);
  }
  return validateAuthResponse(as, client, result, expectedState);
}
