/**
 * The two cookies of the session layer and their attributes (RFC 6265bis).
 *
 * - The transaction cookie names one sign-in in progress (its PKCE verifier, `state`, `nonce` and
 *   return path stay in Deno KV); it lives for the transaction's few minutes.
 * - The session cookie names one signed-in session (its tokens stay in Deno KV); it lives as long
 *   as the session.
 *
 * Each holds 256 random bits and nothing else: tokens never reach the browser. On an `https:`
 * origin both are `__Host-` cookies (RFC 6265bis §4.1.3.2: `Secure`, `Path=/`, no `Domain`, so no
 * other host or path can set or shadow them), `HttpOnly` (no script reads them) and
 * `SameSite=Lax` (a cross-site `POST` carries no session).
 *
 * Local development mode: on an `http:` origin whose host is `localhost`, `127.0.0.1` or `[::1]`,
 * browsers drop `Secure` cookies, so the cookies lose the `__Host-` prefix and `Secure` and keep
 * everything else. Any other `http:` origin is refused when the layer is configured.
 *
 * @module
 */

import { argumentError } from "./errors.ts";

/** The names and mode of the layer's cookies. */
export interface CookieNames {
  /** The session cookie's name: `__Host-authlane-session`, or `authlane-session` locally. */
  readonly session: string;
  /** The sign-in transaction cookie's name: `__Host-authlane-tx`, or `authlane-tx` locally. */
  readonly transaction: string;
  /** `false` in local development mode (an `http:` loopback origin). */
  readonly secure: boolean;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * The cookie names and mode for an application origin.
 *
 * @param origin The application's origin (its redirect URI).
 * @returns The names, and whether the cookies are `Secure`.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for an `http:` origin that is not loopback, or
 *   another scheme.
 */
export function cookieNamesFor(origin: URL): CookieNames {
  if (origin.protocol === "https:") {
    return Object.freeze({
      session: "__Host-authlane-session",
      transaction: "__Host-authlane-tx",
      secure: true,
    });
  }
  if (origin.protocol === "http:" && LOOPBACK.has(origin.hostname)) {
    return Object.freeze({
      session: "authlane-session",
      transaction: "authlane-tx",
      secure: false,
    });
  }
  throw argumentError(
    `"redirectUri" must be https:, or http: on localhost, 127.0.0.1 or [::1] for local development (got ${origin.protocol}//${origin.host})`,
  );
}

/**
 * A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` unless in local
 * development mode.
 *
 * @param names The cookie mode.
 * @param name The cookie name.
 * @param value The value (a random id).
 * @param maxAge Its lifetime in seconds.
 * @returns The header value.
 */
export function setCookie(names: CookieNames, name: string, value: string, maxAge: number): string {
  return `${name}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAge))}; HttpOnly; ` +
    `SameSite=Lax${names.secure ? "; Secure" : ""}`;
}

/**
 * A `Set-Cookie` value that deletes the cookie.
 *
 * @param names The cookie mode.
 * @param name The cookie name.
 * @returns The header value.
 */
export function clearCookie(names: CookieNames, name: string): string {
  return setCookie(names, name, "", 0);
}

/**
 * The value of cookie `name` in the request's `Cookie` header (the first one), if any.
 *
 * @param request The request.
 * @param name The cookie name.
 * @returns The value, or undefined.
 */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (header === null) return undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
