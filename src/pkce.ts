/**
 * Proof Key for Code Exchange (RFC 7636 §4.1 code verifier, §4.2 `S256` code challenge) and the
 * other random values of an authorization request: `state` (RFC 6749 §10.12, RFC 9700 §4.7.1) and
 * `nonce` (OpenID Connect Core §3.1.2.1, §15.5.2).
 *
 * @module
 */

import { assertNonEmptyString } from "./_assert.ts";
import { randomToken, toBase64Url, toBytes } from "./_encoding.ts";
import { argError } from "./errors.ts";

/** RFC 7636 §4.1: `code-verifier = 43*128unreserved`. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * Generates a PKCE code verifier (RFC 7636 §4.1): 32 random bytes, base64url-encoded into 43
 * characters, which is 256 bits of entropy and the shortest verifier the RFC allows.
 *
 * Keep it in the session that started the authorization request; it goes to the token endpoint
 * with the code, never to the browser.
 *
 * @returns A fresh code verifier.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const codeVerifier = oauth.generateRandomCodeVerifier();
 * const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7636#section-4.1 | RFC 7636 §4.1}
 */
export function generateRandomCodeVerifier(): string {
  return randomToken();
}

/**
 * Generates a `state` value for an authorization request: 32 random bytes, base64url-encoded.
 *
 * An unguessable `state` bound to the user agent's session protects the redirect URI against
 * CSRF (RFC 6749 §10.12, RFC 9700 §4.7.1); pass the same value to `validateAuthResponse`.
 *
 * @returns A fresh state value.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const callbackUrl: URL;
 * const state = oauth.generateRandomState();
 * // … send it in the authorization request, keep it in the session, then:
 * const params = oauth.validateAuthResponse(as, client, callbackUrl, state);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9700#section-4.7.1 | RFC 9700 §4.7.1}
 */
export function generateRandomState(): string {
  return randomToken();
}

/**
 * Generates a `nonce` value for an OpenID Connect authentication request: 32 random bytes,
 * base64url-encoded.
 *
 * The ID token must echo it, which binds the token to the session that asked for it and
 * mitigates replay (OpenID Connect Core §3.1.2.1, §15.5.2); pass it as `expectedNonce` when
 * processing the token response.
 *
 * @returns A fresh nonce.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * const nonce = oauth.generateRandomNonce();
 * // … send it in the authorization request, keep it in the session, then:
 * await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce });
 * ```
 * @see {@link https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest | OIDC Core §3.1.2.1}
 */
export function generateRandomNonce(): string {
  return randomToken();
}

/**
 * Calculates the `S256` PKCE code challenge of a code verifier (RFC 7636 §4.2):
 * `BASE64URL(SHA256(ASCII(code_verifier)))`.
 *
 * The verifier must follow RFC 7636 §4.1: 43 to 128 characters from `A-Z a-z 0-9 - . _ ~`. Unlike
 * oauth4webapi, which hashes any non-empty string, authlane refuses other verifiers, since the
 * authorization server is entitled to reject them and a short verifier weakens the proof.
 * Verifiers from {@link generateRandomCodeVerifier} always qualify.
 *
 * @param codeVerifier The code verifier.
 * @returns The code challenge, to send as `code_challenge` with `code_challenge_method=S256`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `codeVerifier` is not a string,
 *   `ERR_INVALID_ARG_VALUE` when it is empty or outside RFC 7636 §4.1's syntax.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * const codeVerifier = oauth.generateRandomCodeVerifier();
 * const url = new URL(as.authorization_endpoint!);
 * url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
 * url.searchParams.set("code_challenge_method", "S256");
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7636#section-4.2 | RFC 7636 §4.2}
 */
export async function calculatePKCECodeChallenge(codeVerifier: string): Promise<string> {
  assertNonEmptyString(codeVerifier, '"codeVerifier"');
  if (!CODE_VERIFIER.test(codeVerifier)) {
    throw argError(
      '"codeVerifier" must be 43 to 128 characters from A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  return toBase64Url(await crypto.subtle.digest("SHA-256", toBytes(codeVerifier)));
}
