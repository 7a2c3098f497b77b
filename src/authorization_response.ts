/**
 * Authorization responses of the code flow (RFC 6749 §4.1.2, §4.1.2.1) as they reach the
 * redirect URI: the issuer identification of RFC 9207 §2.4 against mix-up (RFC 9700 §4.4), the
 * `state` check against CSRF (RFC 6749 §10.12, RFC 9700 §4.7), error responses, and the
 * `form_post` response mode (OAuth 2.0 Form Post Response Mode §2).
 *
 * @module
 */

import { assertAs, assertClient, assertNonEmptyString } from "./_assert.ts";
import { markValidated } from "./_callback.ts";
import { toText } from "./_encoding.ts";
import { DEFAULT_MAX_RESPONSE_BYTES, readCappedBytes } from "./_http.ts";
import { getContentType } from "./endpoints.ts";
import {
  argError,
  AuthorizationResponseError,
  INVALID_RESPONSE,
  PARSE_ERROR,
  processingError,
  quote,
  RESPONSE_TOO_LARGE,
  unsupported,
} from "./errors.ts";
import { expectNoState, skipStateCheck } from "./symbols.ts";
import type { AuthorizationServer, Client } from "./types.ts";

/**
 * Response parameters that RFC 6749 §3.1 ("MUST NOT be included more than once"), RFC 9207 and
 * JARM define; a second copy of any of them makes the response ambiguous, so it is refused.
 */
const SINGLE_PARAMETERS = [
  "code",
  "state",
  "iss",
  "error",
  "error_description",
  "error_uri",
  "response",
  "id_token",
  "access_token",
  "token",
];

/** Parameters that only implicit or hybrid responses carry (RFC 6749 §4.2.2, OIDC Core §3.3.2.5). */
const FRONT_CHANNEL_TOKENS = ["id_token", "token", "access_token"];

/**
 * One bit per parameter of {@link SINGLE_PARAMETERS}, which may each appear at most once
 * (RFC 6749 §3.1), for the single pass over a response.
 */
const SINGLE_BITS: Readonly<Record<string, number>> = Object.assign(
  Object.create(null),
  Object.fromEntries(SINGLE_PARAMETERS.map((name, i) => [name, 1 << i])),
);
const RESPONSE_BIT = SINGLE_BITS.response!;
const ERROR_BIT = SINGLE_BITS.error!;
const FRONT_CHANNEL_BITS = FRONT_CHANNEL_TOKENS.reduce(
  (bits, name) => bits | SINGLE_BITS[name]!,
  0,
);

/** Parameters holding a token or a whole JWT (RFC 6749 §4.2.2, OIDC Core §3.3.2.5, JARM). */
const TOKEN_PARAMETERS = ["access_token", "token", "id_token", "refresh_token", "response"];

/**
 * A copy of the parameters for an error's `cause`, with token values replaced: a refused
 * response may still carry a real token (an implicit response with a forged `state`), and a
 * `cause` ends up in logs. The copy also keeps the `cause` from changing with the caller's object.
 */
function evidence(params: URLSearchParams): URLSearchParams {
  const copy = new URLSearchParams();
  for (const [name, value] of params) {
    copy.append(name, TOKEN_PARAMETERS.includes(name) ? "[redacted]" : value);
  }
  return copy;
}

/** The caller's parameters, read in place; the one copy is the validated result. */
function toParameters(parameters: unknown): URLSearchParams {
  if (parameters instanceof URL) return parameters.searchParams;
  if (parameters instanceof URLSearchParams) return parameters;
  throw argError('"parameters" must be an instance of URLSearchParams or URL');
}

function checkExpectedState(expectedState: unknown): void {
  if (expectedState === expectNoState || expectedState === skipStateCheck) return;
  assertNonEmptyString(expectedState, '"expectedState"');
}

/** RFC 9207 §2.4: an `iss` must be the issuer; it is required when the server advertises it. */
function checkIssuer(as: AuthorizationServer, params: URLSearchParams): void {
  const iss = params.get("iss");
  if (iss === null) {
    if (as.authorization_response_iss_parameter_supported === true) {
      throw processingError('response parameter "iss" (issuer) missing', INVALID_RESPONSE, {
        expected: as.issuer,
        parameters: evidence(params),
      });
    }
    return;
  }
  if (iss !== as.issuer) {
    throw processingError(
      `unexpected "iss" (issuer) response parameter value: expected ${quote(as.issuer)}, got ` +
        `${quote(iss)} (RFC 9207: the response came from another authorization server, or the ` +
        "client holds another server's metadata)",
      INVALID_RESPONSE,
      { expected: as.issuer, parameters: evidence(params) },
    );
  }
}

/** RFC 6749 §4.1.2 / §10.12: `state` is echoed exactly, and absent when none was sent. */
function checkState(
  params: URLSearchParams,
  expectedState: string | typeof expectNoState | typeof skipStateCheck,
): void {
  if (expectedState === skipStateCheck) return;
  const state = params.get("state");
  if (expectedState === expectNoState) {
    if (state !== null) {
      throw processingError('unexpected "state" response parameter encountered', INVALID_RESPONSE, {
        parameters: evidence(params),
      });
    }
    return;
  }
  if (state === null) {
    throw processingError('response parameter "state" missing', INVALID_RESPONSE, {
      expected: expectedState,
      parameters: evidence(params),
    });
  }
  if (state !== expectedState) {
    throw processingError('unexpected "state" response parameter value', INVALID_RESPONSE, {
      expected: expectedState,
      parameters: evidence(params),
    });
  }
}

/**
 * Validates an authorization response of the authorization code flow and returns its parameters,
 * ready for `authorizationCodeGrantRequest`.
 *
 * The checks, in order:
 *
 * 1. No parameter of the response (`code`, `state`, `iss`, `error`, …) appears twice
 *    (RFC 6749 §3.1): with two values, which one the server meant is unknowable.
 * 2. No `response` parameter: a JARM response must go to `validateJwtAuthResponse`.
 * 3. RFC 9207 §2.4 (mix-up defence, RFC 9700 §4.4): an `iss` parameter must equal `as.issuer`,
 *    and it must be present when `as.authorization_response_iss_parameter_supported` is true.
 * 4. `state` (CSRF defence, RFC 9700 §4.7): with a string `expectedState` it must be present and
 *    identical; with `expectNoState` (the default) it must be absent; `skipStateCheck` leaves the
 *    check to the caller.
 * 5. An `error` parameter (RFC 6749 §4.1.2.1) becomes an {@link AuthorizationResponseError}. This
 *    comes after the `iss` and `state` checks, so an error injected by another server or a
 *    forged request is reported as such, not as the real server's answer.
 * 6. `id_token`, `token` or `access_token` (implicit or hybrid responses) are not supported here.
 *
 * A `URL` contributes its query parameters only; the caller's object is never modified. The
 * result is a new `URLSearchParams`.
 *
 * @param as Authorization server metadata.
 * @param client Client metadata.
 * @param parameters The redirect URI's query parameters, or the whole callback `URL`. For the
 *   `form_post` response mode, pass the result of {@link formPostResponse}.
 * @param expectedState The `state` sent in the authorization request, `expectNoState` (the
 *   default) when none was sent, or `skipStateCheck`.
 * @returns The validated parameters, for `authorizationCodeGrantRequest`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for invalid `as`, `client`,
 *   `parameters` or `expectedState` (an empty string included).
 * @throws {OperationProcessingError} `INVALID_RESPONSE` for a repeated parameter
 *   (`cause.parameter`), a JARM `response`, a wrong or missing `iss`, or a wrong, missing or
 *   unexpected `state` (`cause.expected`, and `cause.parameters`: a copy of the response in which
 *   token and JWT values are `"[redacted]"`).
 * @throws {AuthorizationResponseError} `AUTHORIZATION_RESPONSE_ERROR` for an error response;
 *   `error` and `error_description` are copied onto it.
 * @throws {UnsupportedOperationError} `UNSUPPORTED_OPERATION` for implicit and hybrid responses.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const callbackUrl: URL; // the URL the browser was redirected to
 * declare const state: string; // from generateRandomState(), kept in the session
 * declare const codeVerifier: string;
 * const params = oauth.validateAuthResponse(as, client, callbackUrl, state);
 * const response = await oauth.authorizationCodeGrantRequest(
 *   as, client, oauth.ClientSecretBasic("secret"), params, "https://app.example/cb", codeVerifier,
 * );
 * ```
 * @example Handling an error response
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const callbackUrl: URL;
 * declare const state: string;
 * try {
 *   oauth.validateAuthResponse(as, client, callbackUrl, state);
 * } catch (err) {
 *   if (err instanceof oauth.AuthorizationResponseError && err.error === "access_denied") {
 *     // the user declined
 *   }
 * }
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2 | RFC 6749 §4.1.2}
 * @see {@link https://www.rfc-editor.org/rfc/rfc9207#section-2.4 | RFC 9207 §2.4}
 */
export function validateAuthResponse(
  as: AuthorizationServer,
  client: Client,
  parameters: URLSearchParams | URL,
  expectedState: string | typeof expectNoState | typeof skipStateCheck = expectNoState,
): URLSearchParams {
  assertAs(as);
  assertClient(client);
  const params = toParameters(parameters);
  checkExpectedState(expectedState);
  // One pass: the copy that is returned (and branded, so later changes to the caller's object
  // cannot reach the code grant), and the parameters that must not repeat. Appending while
  // iterating costs a third of `new URLSearchParams(params)` (bench workload 6).
  const copy = new URLSearchParams();
  let singles = 0;
  for (const [name, value] of params) {
    const bit = SINGLE_BITS[name];
    if (bit !== undefined) {
      if ((singles & bit) !== 0) {
        throw processingError(`"${name}" parameter must be provided only once`, INVALID_RESPONSE, {
          parameter: name,
          parameters: evidence(params),
        });
      }
      singles |= bit;
    }
    copy.append(name, value);
  }
  if ((singles & RESPONSE_BIT) !== 0) {
    throw processingError(
      '"parameters" contains a JARM response, use validateJwtAuthResponse() instead of validateAuthResponse()',
      INVALID_RESPONSE,
      { parameters: evidence(params) },
    );
  }
  checkIssuer(as, copy);
  checkState(copy, expectedState);
  if ((singles & ERROR_BIT) !== 0) {
    throw new AuthorizationResponseError(
      `authorization response from the server is an error: ${quote(copy.get("error"), 80)}`,
      { cause: evidence(params) },
    );
  }
  if ((singles & FRONT_CHANNEL_BITS) !== 0) {
    const name = FRONT_CHANNEL_TOKENS.find((token) => copy.has(token));
    throw unsupported("implicit and hybrid flows are not supported", { parameter: name });
  }
  return markValidated(copy);
}

/**
 * Reads the parameters of an authorization response delivered with the `form_post` response
 * mode (OAuth 2.0 Form Post Response Mode §2): an HTTP `POST` to the redirect URI with an
 * `application/x-www-form-urlencoded` body.
 *
 * It only parses; pass the result to {@link validateAuthResponse} (or `validateJwtAuthResponse`
 * for `form_post.jwt`) for the `iss`, `state` and error checks.
 *
 * @param request The incoming request at the redirect URI; its body is consumed.
 * @returns The posted parameters (not validated).
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `request` is not a `Request`;
 *   `ERR_INVALID_ARG_VALUE` when it is not a `POST`, its content type is not
 *   `application/x-www-form-urlencoded`, or its body was already read.
 * @throws {OperationProcessingError} `RESPONSE_TOO_LARGE` for a body over 1 MiB (read no
 *   further), `PARSE_ERROR` for a body that is not UTF-8.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const state: string;
 * Deno.serve(async (request) => {
 *   const params = oauth.validateAuthResponse(
 *     as, client, await oauth.formPostResponse(request), state,
 *   );
 *   return new Response("signed in");
 * });
 * ```
 * @see {@link https://openid.net/specs/oauth-v2-form-post-response-mode-1_0.html#FormPostResponseMode | Form Post Response Mode §2}
 */
export async function formPostResponse(request: Request): Promise<URLSearchParams> {
  if (!(request instanceof Request)) throw argError('"request" must be an instance of Request');
  if (request.method !== "POST") {
    throw argError('"request" must be a POST request', "ERR_INVALID_ARG_VALUE");
  }
  if (getContentType(request) !== "application/x-www-form-urlencoded") {
    throw argError(
      '"request" content-type must be application/x-www-form-urlencoded',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  if (request.bodyUsed) {
    throw argError('"request" body has already been used', "ERR_INVALID_ARG_VALUE");
  }
  // The callback body comes from the user agent, so anyone can send it: read it under the same
  // cap as responses, never buffering more.
  const bytes = await readCappedBytes(
    request.body,
    DEFAULT_MAX_RESPONSE_BYTES,
    () =>
      processingError(
        `form_post body exceeds ${DEFAULT_MAX_RESPONSE_BYTES} bytes`,
        RESPONSE_TOO_LARGE,
        { maxBytes: DEFAULT_MAX_RESPONSE_BYTES },
      ),
  );
  let text: string;
  try {
    text = toText(bytes);
  } catch (cause) {
    throw processingError("form_post body is not valid UTF-8", PARSE_ERROR, { cause });
  }
  return new URLSearchParams(text);
}
