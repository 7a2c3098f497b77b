/**
 * Relying-party validation of back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0
 * §2.4 token shape, §2.5 the logout request, §2.6 validation). authlane addition.
 *
 * @module
 */

import { assertAs, assertClient, assertNonEmptyString, isJsonObject } from "./_assert.ts";
import { type HttpOptions, readCappedBytes } from "./_http.ts";
import { getContentType } from "./endpoints.ts";
import { decodeJws } from "./_jose.ts";
import {
  allowedAlgs,
  checkAlg,
  checkAudience,
  checkAuthorizedParty,
  checkClaimTypes,
  checkIssuer,
  checkTimestamps,
  checkTyp,
  requireClaims,
  verifyWithServerKeys,
} from "./_jwt.ts";
import { clientTime, type ClockOptions, toleranceOf } from "./_time.ts";
import { argError, INVALID_REQUEST, INVALID_RESPONSE, processingError } from "./errors.ts";
import { decryptIfNeeded } from "./id_token.ts";
import { clockSkew, clockTolerance } from "./symbols.ts";
import type {
  AuthorizationServer,
  Client,
  JsonObject,
  JsonValue,
  JWEDecryptOptions,
  JWTPayload,
  ValidateSignatureOptions,
} from "./types.ts";

/** The event type of a back-channel logout (OpenID Connect Back-Channel Logout 1.0 §2.4). */
const LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/** Largest logout request body read, in bytes; a logout token is a few hundred. */
const MAX_REQUEST_BYTES = 64 * 1024;

/** The `events` claim of a logout token. */
export interface LogoutTokenEvents {
  /** The back-channel logout event; its value is a JSON object, usually empty. */
  readonly "http://schemas.openid.net/event/backchannel-logout": JsonObject;
  /** Other events. */
  readonly [event: string]: JsonValue | undefined;
}

/** Claims of a validated logout token (OpenID Connect Back-Channel Logout 1.0 §2.4). */
export interface LogoutTokenClaims extends JWTPayload {
  /** Issuer: the authorization server's `issuer`. */
  readonly iss: string;
  /** Audience; contains the client's `client_id`. */
  readonly aud: string | string[];
  /** Issued at. */
  readonly iat: number;
  /** Expiration time (required by Back-Channel Logout 1.0 §2.4, final). */
  readonly exp: number;
  /** JWT ID; keep it to refuse a replayed token (§2.6 (8)). */
  readonly jti: string;
  /** The logout event. */
  readonly events: LogoutTokenEvents;
  /** The End-User whose sessions end; present when `sid` is not. */
  readonly sub?: string;
  /** The session that ends; present when `sub` is not. */
  readonly sid?: string;
  /** Other claims. */
  readonly [claim: string]: JsonValue | undefined;
}

/** Options of {@link validateLogoutToken}. */
export interface ValidateLogoutTokenOptions extends ValidateSignatureOptions, JWEDecryptOptions {
  /** Seconds added to the local clock. @default the client's `[clockSkew]`, else 0 */
  [clockSkew]?: number;
  /** Seconds of leeway for `exp`. @default the client's `[clockTolerance]`, else 30 */
  [clockTolerance]?: number;
}

/**
 * Validates a back-channel logout token, given as a string or as the OP's logout `Request`.
 *
 * A `Request` must be a `POST` with an `application/x-www-form-urlencoded` body holding exactly
 * one `logout_token` (§2.5). The token is then checked per §2.6: decrypted with `[jweDecrypt]`
 * when it is a JWE (1); its signature is ALWAYS verified against the authorization server's JWKS,
 * since nothing else authenticates the caller (2); `alg` follows the ID token rule:
 * `client.id_token_signed_response_alg`, else `as.id_token_signing_alg_values_supported`, else
 * RS256, never `none` (3); a `typ` header, when present, is `logout+jwt` (§2.4, RFC 8725 §3.11);
 * `iss` is `as.issuer`, `aud` contains `client.client_id` (several audiences need an `azp` equal
 * to it), `iat` and `exp` are present and `exp` is not past (4); `jti` is present; `sub`, `sid` or
 * both are present (5); `events` is an object whose
 * `http://schemas.openid.net/event/backchannel-logout` member is an object (6); there is no
 * `nonce` (7).
 *
 * Left to the application: refusing a `jti` seen recently (8) and matching `iss` with `sub` or
 * `sid` to its sessions (9). Answer the OP with 200 on success and 400 on any thrown error (§2.8).
 *
 * @param as Authorization server metadata (with `issuer` and `jwks_uri`).
 * @param client Client metadata.
 * @param logoutToken The `logout_token` value, or the logout `Request` (its body is read).
 * @param options `[clockSkew]`, `[clockTolerance]`, `[jweDecrypt]`, `[jwksCache]` and the JWKS
 *   request's `[customFetch]`, `signal`, `headers`.
 * @returns The validated claims.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for invalid arguments or
 *   a `Request` whose body was already read, before any request.
 * @throws {UnsupportedOperationError} For `alg: "none"` or another unsupported algorithm, an
 *   unknown `crit` header, or a JWE without `[jweDecrypt]`.
 * @throws {OperationProcessingError} `INVALID_REQUEST` for a logout `Request` that is not a form
 *   `POST` with one `logout_token`; `PARSE_ERROR` for a token whose base64url or JSON does not
 *   decode; `INVALID_RESPONSE` for a token that is not a compact JWS, a bad `alg` or `typ`, a failed signature, a missing or mistyped claim,
 *   a malformed `events`, neither `sub` nor `sid`, or a `nonce`; `JWT_CLAIM_COMPARISON` for `iss`,
 *   `aud` and `azp`; `JWT_TIMESTAMP_CHECK` for `exp` and `nbf`; `KEY_SELECTION` and the JWKS
 *   request's codes.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare function endSessions(iss: string, sub?: string, sid?: string): Promise<void>;
 * Deno.serve(async (request) => {
 *   try {
 *     const claims = await oauth.validateLogoutToken(as, client, request);
 *     await endSessions(claims.iss, claims.sub, claims.sid);
 *     return new Response(null, { status: 200, headers: { "cache-control": "no-store" } });
 *   } catch {
 *     return Response.json({ error: "invalid_request" }, { status: 400 });
 *   }
 * });
 * ```
 * @see {@link https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation | OpenID Connect Back-Channel Logout 1.0 §2.6}
 */
export async function validateLogoutToken(
  as: AuthorizationServer,
  client: Client,
  logoutToken: string | Request,
  options?: ValidateLogoutTokenOptions,
): Promise<LogoutTokenClaims> {
  assertAs(as);
  assertClient(client);
  const clock: ClockOptions = {
    [clockSkew]: options?.[clockSkew] ?? client[clockSkew],
    [clockTolerance]: options?.[clockTolerance] ?? client[clockTolerance],
  };
  toleranceOf(clock);
  clientTime(clock);
  let jwt: string;
  if (logoutToken instanceof Request) {
    jwt = await readLogoutToken(logoutToken);
  } else {
    assertNonEmptyString(logoutToken, '"logoutToken"');
    jwt = logoutToken;
  }

  // (1) decrypt, (3) alg, §2.4 typ, (2) signature.
  const jws = decodeJws(await decryptIfNeeded(jwt, options));
  const allowed = allowedAlgs(
    client.id_token_signed_response_alg,
    as.id_token_signing_alg_values_supported,
    "RS256",
  )!;
  checkAlg(jws.header, allowed, "Logout Token signing algorithm");
  // §2.4: explicit typing with `logout+jwt` is recommended; any other `typ` is refused.
  if (jws.header.typ !== undefined) checkTyp(jws.header, "logout+jwt", INVALID_RESPONSE);
  await verifyWithServerKeys(as, jws, options as HttpOptions & ValidateSignatureOptions);

  const claims = jws.claims;
  requireClaims(claims, ["iss", "aud", "iat", "exp", "jti", "events"]);
  // (7) a nonce is prohibited, so that a logout token cannot pass for an ID token.
  if (claims.nonce !== undefined) {
    throw processingError('Logout Token must not contain a "nonce" claim', INVALID_RESPONSE, {
      claims,
      claim: "nonce",
    });
  }
  checkClaimTypes(claims);
  if (claims.sid !== undefined && typeof claims.sid !== "string") {
    throw processingError('unexpected JWT "sid" claim type', INVALID_RESPONSE, {
      claims,
      claim: "sid",
    });
  }
  // (4) iss, aud (with the ID token's azp rule, OpenID Connect Core §3.1.3.7 (3)-(5)), exp.
  checkIssuer(as, jws);
  checkAudience(claims, client.client_id);
  checkAuthorizedParty(claims, client.client_id, "Logout Token");
  checkTimestamps(claims, clock);
  // (5) sub and/or sid.
  if (claims.sub === undefined && claims.sid === undefined) {
    throw processingError('Logout Token must contain a "sub" or a "sid" claim', INVALID_RESPONSE, {
      claims,
      claim: "sub",
    });
  }
  // (6) the logout event.
  checkEvents(claims);
  return claims as LogoutTokenClaims;
}

/** §2.5: a form `POST` with one `logout_token` parameter. */
async function readLogoutToken(request: Request): Promise<string> {
  if (request.bodyUsed) {
    throw argError('"logoutToken" request body has already been used', "ERR_INVALID_ARG_VALUE");
  }
  if (request.method !== "POST") {
    await request.body?.cancel();
    throw processingError("logout request must use the POST method", INVALID_REQUEST, {
      method: request.method,
    });
  }
  const contentType = getContentType(request);
  if (contentType !== "application/x-www-form-urlencoded") {
    await request.body?.cancel();
    throw processingError(
      'logout request body must be "application/x-www-form-urlencoded"',
      INVALID_REQUEST,
      { contentType },
    );
  }
  const body = new URLSearchParams(await readRequestText(request));
  const values = body.getAll("logout_token");
  if (values.length !== 1) {
    throw processingError(
      values.length === 0
        ? 'logout request is missing the "logout_token" parameter'
        : '"logout_token" parameter must be provided only once',
      INVALID_REQUEST,
      { parameter: "logout_token", count: values.length },
    );
  }
  const token = values[0]!;
  if (token.length === 0) {
    throw processingError('logout request "logout_token" parameter is empty', INVALID_REQUEST, {
      parameter: "logout_token",
    });
  }
  return token;
}

/** Reads a request body as UTF-8 under {@link MAX_REQUEST_BYTES}. */
async function readRequestText(request: Request): Promise<string> {
  const tooLarge = () =>
    processingError("logout request body is too large", INVALID_REQUEST, {
      maxBytes: MAX_REQUEST_BYTES,
    });
  if (Number(request.headers.get("content-length")) > MAX_REQUEST_BYTES) {
    await request.body?.cancel();
    throw tooLarge();
  }
  const bytes = await readCappedBytes(request.body, MAX_REQUEST_BYTES, tooLarge);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw processingError("logout request body is not UTF-8", INVALID_REQUEST, { cause });
  }
}

/** §2.4 `events`: a JSON object whose back-channel logout member is a JSON object. */
function checkEvents(claims: JsonObject): void {
  const events = claims.events;
  if (!isJsonObject(events)) {
    throw processingError('unexpected JWT "events" claim type', INVALID_RESPONSE, {
      claims,
      claim: "events",
    });
  }
  const event = events[LOGOUT_EVENT];
  if (event === undefined) {
    throw processingError(
      `JWT "events" claim is missing the ${JSON.stringify(LOGOUT_EVENT)} member`,
      INVALID_RESPONSE,
      { claims, claim: "events" },
    );
  }
  if (!isJsonObject(event)) {
    throw processingError(
      `JWT "events" claim member ${JSON.stringify(LOGOUT_EVENT)} must be a JSON object`,
      INVALID_RESPONSE,
      { claims, claim: "events" },
    );
  }
}
