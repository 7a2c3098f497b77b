/**
 * JWT-Secured Authorization Requests (RFC 9101): a signed request object (§4) carrying the
 * authorization request parameters as claims, typed `oauth-authz-req+jwt` (§10.8), addressed to
 * the issuer (§4) and short-lived, ready for the `request` parameter (§5.1) or a pushed
 * authorization request (RFC 9126 §3).
 *
 * @module
 */

import {
  assertAs,
  assertClient,
  assertCryptoKey,
  assertNonEmptyString,
  isJsonObject,
  toSearchParams,
} from "./_assert.ts";
import { randomToken } from "./_encoding.ts";
import { algFromKey, signJwt } from "./_jose.ts";
import { clientTime } from "./_time.ts";
import { argError, PARSE_ERROR, processingError } from "./errors.ts";
import { modifyAssertion } from "./symbols.ts";
import type {
  AuthorizationServer,
  Client,
  JsonValue,
  ModifyAssertionOptions,
  PrivateKey,
} from "./types.ts";

/**
 * Lifetime of a request object, in seconds. RFC 9101 fixes none; a request object is used right
 * away (pushed, or sent through the browser), so it gets the same 60 seconds as a client
 * assertion. `[modifyAssertion]` can change `exp`.
 */
const REQUEST_OBJECT_LIFETIME = 60;

/** Claims a request object always sets itself, after the parameters (RFC 9101 §4). */
const OWN_CLAIMS = new Set(["iss", "aud", "client_id", "iat", "exp", "nbf", "jti"]);

function parseJsonParameter(name: string, value: string): JsonValue {
  try {
    return JSON.parse(value) as JsonValue;
  } catch (cause) {
    throw processingError(`failed to parse the "${name}" parameter as JSON`, PARSE_ERROR, cause);
  }
}

/** One parameter's claim value: `max_age` a number, `claims` an object, details an array. */
function toClaimValue(name: string, values: string[]): JsonValue {
  if (name === "resource" && values.length > 1) return values; // RFC 8707 §2: may repeat
  if (values.length > 1) {
    throw argError(
      `"parameters" contains "${name}" more than once, which a request object cannot carry`,
      "ERR_INVALID_ARG_VALUE",
    );
  }
  const value = values[0]!;
  switch (name) {
    case "max_age": {
      // OIDC Core §3.1.2.1: max_age is a number of seconds.
      if (!/^\d+$/.test(value)) {
        throw argError(
          '"max_age" parameter must be a non-negative integer',
          "ERR_INVALID_ARG_VALUE",
        );
      }
      return Number(value);
    }
    case "claims": {
      // OIDC Core §5.5: a JSON object.
      const parsed = parseJsonParameter(name, value);
      if (!isJsonObject(parsed)) {
        throw argError(
          '"claims" parameter must be a JSON with a top level object',
          "ERR_INVALID_ARG_VALUE",
        );
      }
      return parsed;
    }
    case "authorization_details": {
      // RFC 9396 §2: a JSON array of objects.
      const parsed = parseJsonParameter(name, value);
      if (!Array.isArray(parsed)) {
        throw argError(
          '"authorization_details" parameter must be a JSON with a top level array',
          "ERR_INVALID_ARG_VALUE",
        );
      }
      return parsed;
    }
    default:
      return value;
  }
}

function toClaims(params: URLSearchParams): Record<string, JsonValue | undefined> {
  const claims: Record<string, JsonValue | undefined> = {};
  for (const name of new Set(params.keys())) {
    if (OWN_CLAIMS.has(name)) continue;
    claims[name] = toClaimValue(name, params.getAll(name));
  }
  return claims;
}

function signingKeyOf(privateKey: CryptoKey | PrivateKey): { key: CryptoKey; kid?: string } {
  if (privateKey instanceof CryptoKey) {
    assertCryptoKey(privateKey, '"privateKey"', "private");
    return { key: privateKey };
  }
  if (!isJsonObject(privateKey)) throw argError('"privateKey" must be a CryptoKey or { key, kid }');
  const { key, kid } = privateKey as PrivateKey;
  assertCryptoKey(key, '"privateKey.key"', "private");
  if (kid !== undefined) assertNonEmptyString(kid, '"privateKey.kid"');
  return kid === undefined ? { key } : { key, kid };
}

/**
 * Issues a signed request object (RFC 9101 §4) from authorization request parameters.
 *
 * The header is `{ alg, typ: "oauth-authz-req+jwt", kid }` (RFC 9101 §10.8), `alg` following the
 * key (ES256, PS256, RS256, Ed25519, …). The claims are the parameters, with `max_age` as a
 * number, `claims` as a JSON object, `authorization_details` as a JSON array and a repeated
 * `resource` as an array, then `iss` and `client_id` (the client), `aud` (`as.issuer`), `iat` and
 * `nbf` (now, with the client's `[clockSkew]`), `exp` (60 seconds later) and a fresh `jti`; those
 * seven are never taken from `parameters`. `[modifyAssertion]` sees the header and claims just
 * before signing.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param parameters The authorization request parameters.
 * @param privateKey The client's private key, or `{ key, kid }`.
 * @param options `[modifyAssertion]` to change the header or claims.
 * @returns The compact JWS, to send as the `request` parameter.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for a key that is not a private `CryptoKey`;
 *   `ERR_INVALID_ARG_VALUE` for a `max_age` that is not a non-negative integer, `claims` that is
 *   not a JSON object, `authorization_details` that is not a JSON array, or a repeated parameter
 *   other than `resource`.
 * @throws {OperationProcessingError} `PARSE_ERROR` when `claims` or `authorization_details` is
 *   not JSON.
 * @throws {UnsupportedOperationError} When the key's algorithm has no JWS equivalent.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const privateKey: CryptoKey;
 * const request = await oauth.issueRequestObject(as, client, {
 *   response_type: "code",
 *   redirect_uri: "https://app.example/cb",
 *   scope: "openid",
 * }, { key: privateKey, kid: "key-1" });
 * const response = await oauth.pushedAuthorizationRequest(as, client, oauth.None(), { request });
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9101#section-4 | RFC 9101 §4}
 */
export async function issueRequestObject(
  as: AuthorizationServer,
  client: Client,
  parameters: URLSearchParams | Record<string, string> | string[][],
  privateKey: CryptoKey | PrivateKey,
  options?: ModifyAssertionOptions,
): Promise<string> {
  assertAs(as);
  assertClient(client);
  const { key, kid } = signingKeyOf(privateKey);
  const alg = algFromKey(key);
  const params = toSearchParams(parameters, '"parameters"');
  const now = clientTime(client);
  const header: Record<string, JsonValue | undefined> = { alg, typ: "oauth-authz-req+jwt", kid };
  const claims: Record<string, JsonValue | undefined> = {
    ...toClaims(params),
    iss: client.client_id,
    aud: as.issuer,
    client_id: client.client_id,
    iat: now,
    nbf: now,
    exp: now + REQUEST_OBJECT_LIFETIME,
    jti: randomToken(),
  };
  const modify = options?.[modifyAssertion];
  if (modify !== undefined) {
    if (typeof modify !== "function") {
      throw argError('"options[modifyAssertion]" must be a function');
    }
    modify(header, claims);
  }
  return await signJwt(header, claims, key);
}
