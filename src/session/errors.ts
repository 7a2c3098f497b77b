/**
 * The errors of the session layer: one class, {@linkcode SessionError}, with a stable string
 * `code` and the HTTP `status` an application should answer with. Errors of the protocol itself
 * (a refused authorization, an ID token that fails a check, an OAuth error response) are the
 * library's own classes (`AuthorizationResponseError`, `OperationProcessingError`,
 * `ResponseBodyError`, ...) and pass through unchanged; caller mistakes are `TypeError`s with
 * `code` `ERR_INVALID_ARG_TYPE` or `ERR_INVALID_ARG_VALUE`, thrown before any I/O.
 *
 * No message or `cause` ever holds a token, a code verifier, a cookie value or a client secret.
 *
 * @module
 */

/** The callback request carries no sign-in transaction cookie (the sign-in did not start here). */
export const SESSION_TRANSACTION_MISSING = "SESSION_TRANSACTION_MISSING";
/** The transaction cookie is not a value this layer issues (forged or damaged). */
export const SESSION_TRANSACTION_INVALID = "SESSION_TRANSACTION_INVALID";
/** The transaction cookie names no live transaction: expired, already used, or never issued. */
export const SESSION_TRANSACTION_UNKNOWN = "SESSION_TRANSACTION_UNKNOWN";
/** The session cookie is not a value this layer issues (tampered or damaged). */
export const SESSION_COOKIE_INVALID = "SESSION_COOKIE_INVALID";
/** The session cookie names no live session: expired, signed out, or logged out by the provider. */
export const SESSION_UNKNOWN = "SESSION_UNKNOWN";
/** The provider refused to refresh the session's tokens (`invalid_grant`); the session is ended. */
export const SESSION_REFRESH_REFUSED = "SESSION_REFRESH_REFUSED";
/** The access token expired and the session holds no refresh token; the session is ended. */
export const SESSION_EXPIRED = "SESSION_EXPIRED";
/** A `return_to` that is not a path on the application's own origin (open redirect). */
export const SESSION_RETURN_TO_INVALID = "SESSION_RETURN_TO_INVALID";
/** A sign-out request sent from another origin (cross-site request forgery). */
export const SESSION_ORIGIN_MISMATCH = "SESSION_ORIGIN_MISMATCH";
/** A request with a method the endpoint does not take (sign-out is `POST` only). */
export const SESSION_METHOD_NOT_ALLOWED = "SESSION_METHOD_NOT_ALLOWED";
/** A back-channel logout token whose `jti` was already used (Back-Channel Logout 1.0 §2.6 (8)). */
export const SESSION_LOGOUT_REPLAYED = "SESSION_LOGOUT_REPLAYED";
/** Deno KV failed (closed, unreachable, or still locked after the bounded retries). */
export const SESSION_STORE_UNAVAILABLE = "SESSION_STORE_UNAVAILABLE";
/** Waited longer than a lease allows for another isolate to finish a refresh or a fetch. */
export const SESSION_LEASE_TIMEOUT = "SESSION_LEASE_TIMEOUT";

/** Every {@linkcode SessionError} code, for an exhaustive `switch`. */
export type SessionErrorCode =
  | typeof SESSION_TRANSACTION_MISSING
  | typeof SESSION_TRANSACTION_INVALID
  | typeof SESSION_TRANSACTION_UNKNOWN
  | typeof SESSION_COOKIE_INVALID
  | typeof SESSION_UNKNOWN
  | typeof SESSION_REFRESH_REFUSED
  | typeof SESSION_EXPIRED
  | typeof SESSION_RETURN_TO_INVALID
  | typeof SESSION_ORIGIN_MISMATCH
  | typeof SESSION_METHOD_NOT_ALLOWED
  | typeof SESSION_LOGOUT_REPLAYED
  | typeof SESSION_STORE_UNAVAILABLE
  | typeof SESSION_LEASE_TIMEOUT;

const STATUS: Record<SessionErrorCode, number> = {
  SESSION_TRANSACTION_MISSING: 400,
  SESSION_TRANSACTION_INVALID: 400,
  SESSION_TRANSACTION_UNKNOWN: 400,
  SESSION_COOKIE_INVALID: 401,
  SESSION_UNKNOWN: 401,
  SESSION_REFRESH_REFUSED: 401,
  SESSION_EXPIRED: 401,
  SESSION_RETURN_TO_INVALID: 400,
  SESSION_ORIGIN_MISMATCH: 403,
  SESSION_METHOD_NOT_ALLOWED: 405,
  SESSION_LOGOUT_REPLAYED: 400,
  SESSION_STORE_UNAVAILABLE: 503,
  SESSION_LEASE_TIMEOUT: 503,
};

/** The codes that mean "this browser is not signed in any more": clear its session cookie. */
const SIGNED_OUT: ReadonlySet<string> = new Set([
  SESSION_COOKIE_INVALID,
  SESSION_UNKNOWN,
  SESSION_REFRESH_REFUSED,
  SESSION_EXPIRED,
]);

/**
 * An error of the session layer, with a stable {@linkcode SessionErrorCode} and the HTTP status an
 * application should answer with.
 *
 * `cause` holds public evidence only (the OAuth `error` of a refused refresh, the KV error, the
 * offending `return_to`), never a token, a verifier, a cookie value or a secret.
 *
 * @example Telling a signed-out browser from a broken store
 * ```ts
 * import { SessionError, SESSION_STORE_UNAVAILABLE } from "@authlane/oauth/session";
 * declare const err: unknown;
 * if (err instanceof SessionError && err.signedOut) {
 *   // show the sign-in link and clear the cookie
 * } else if (err instanceof SessionError && err.code === SESSION_STORE_UNAVAILABLE) {
 *   // 503: try again shortly
 * }
 * ```
 */
export class SessionError extends Error {
  /** The stable error code. */
  readonly code: SessionErrorCode;
  /** The HTTP status an application should answer with (400, 401, 403, 405 or 503). */
  readonly status: number;

  /**
   * Creates a session error; the layer makes these, applications only catch them.
   *
   * @param message What was checked and what was wrong.
   * @param code The error code.
   * @param options `cause`: public evidence, never a secret.
   */
  constructor(message: string, code: SessionErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SessionError";
    this.code = code;
    this.status = STATUS[code];
  }

  /**
   * Whether the error means the request carries no usable session any more (a tampered or
   * unknown cookie, a refused refresh, an expired session): the browser is signed out and its
   * session cookie should be cleared.
   *
   * @returns `true` for `SESSION_COOKIE_INVALID`, `SESSION_UNKNOWN`, `SESSION_REFRESH_REFUSED`
   *   and `SESSION_EXPIRED`.
   */
  get signedOut(): boolean {
    return SIGNED_OUT.has(this.code);
  }
}

/** A caller mistake, thrown before any I/O, with the library's argument error codes. */
export function argumentError(
  message: string,
  code: "ERR_INVALID_ARG_TYPE" | "ERR_INVALID_ARG_VALUE" = "ERR_INVALID_ARG_VALUE",
): TypeError {
  return Object.assign(new TypeError(message), { code });
}
