/**
 * README recipe: what an error from authlane means and what to do about it. Every error has a
 * string `code`; the OAuth error classes carry what the server said, and failed requests keep the
 * class and `name` `fetch` gives them (a `TypeError`, a `DOMException` named `TimeoutError`) as
 * oauth4webapi does. Run by `tests/e2e/recipes_test.ts` with each kind of error produced for real
 * (a fake authorization server, a refused port, a hanging server, a callback with `error=`).
 *
 * @module
 */

import * as oauth from "@authlane/oauth";

// #region readme:errors
/** What to do after a failed call: ask the user to sign in again, retry later, or fix a setting. */
export function nextStep(err: unknown): "sign-in" | "retry" | "fix" {
  // The token endpoint said no (RFC 6749 §5.2): err.error, err.error_description, err.status
  if (err instanceof oauth.ResponseBodyError) {
    return err.error === "invalid_grant" ? "sign-in" : "fix"; // invalid_client: check the secret
  }
  // 401 with WWW-Authenticate (RFC 6750 §3): err.cause[0].parameters.error is "invalid_token"...
  if (err instanceof oauth.WWWAuthenticateChallengeError) return "sign-in";
  // The browser came back with ?error= (the user pressed "Cancel": err.error is "access_denied")
  if (err instanceof oauth.AuthorizationResponseError) return "sign-in";
  switch ((err as { code?: unknown } | null)?.code) {
    case oauth.NETWORK_ERROR: // a TypeError: connection refused or reset, host not found
    case oauth.REQUEST_TIMEOUT: // a DOMException named "TimeoutError": no answer in time
      return "retry";
    case oauth.RESPONSE_IS_NOT_CONFORM: // an unexpected status: 5xx is the server's trouble
      return ((err as oauth.OperationProcessingError).cause as { status: number }).status >= 500
        ? "retry"
        : "fix";
    default: // TLS_ERROR, HTTP_REQUEST_FORBIDDEN, JWT_CLAIM_COMPARISON...: err.message says what
      return "fix";
  }
}
// #endregion readme:errors
