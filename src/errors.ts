/**
 * The error family: five classes with a stable `code`, the code constants, a union of them for
 * exhaustive `switch`es, and the small factories every throw in authlane goes through.
 *
 * Caller mistakes are `TypeError`s with `code` `ERR_INVALID_ARG_TYPE` or `ERR_INVALID_ARG_VALUE`,
 * thrown before any I/O. A `cause` holds what the library found (claims, metadata, the parsed
 * body), never a secret the caller holds.
 *
 * @module
 */

import type { OAuth2Error, WWWAuthenticateChallenge } from "./types.ts";

/** A response carried a `WWW-Authenticate` challenge. */
export const WWW_AUTHENTICATE_CHALLENGE = "OAUTH_WWW_AUTHENTICATE_CHALLENGE";
/** A response body was an OAuth 2.0 error. */
export const RESPONSE_BODY_ERROR = "OAUTH_RESPONSE_BODY_ERROR";
/** The operation (an algorithm, a token type, a flow) is not supported. */
export const UNSUPPORTED_OPERATION = "OAUTH_UNSUPPORTED_OPERATION";
/** An authorization response carried an `error` parameter. */
export const AUTHORIZATION_RESPONSE_ERROR = "OAUTH_AUTHORIZATION_RESPONSE_ERROR";
/** A JWT userinfo response was expected (`userinfo_signed_response_alg`) but JSON came. */
export const JWT_USERINFO_EXPECTED = "OAUTH_JWT_USERINFO_EXPECTED";
/** A body or JWT could not be parsed. */
export const PARSE_ERROR = "OAUTH_PARSE_ERROR";
/** A response is malformed or missing a required member. */
export const INVALID_RESPONSE = "OAUTH_INVALID_RESPONSE";
/** A request (for example a DPoP proof at a resource server) is invalid. */
export const INVALID_REQUEST = "OAUTH_INVALID_REQUEST";
/** A response is not JSON (by its `Content-Type`). */
export const RESPONSE_IS_NOT_JSON = "OAUTH_RESPONSE_IS_NOT_JSON";
/** A response's status is not the one the protocol prescribes. */
export const RESPONSE_IS_NOT_CONFORM = "OAUTH_RESPONSE_IS_NOT_CONFORM";
/** A request to a non-`https:` URL was refused. */
export const HTTP_REQUEST_FORBIDDEN = "OAUTH_HTTP_REQUEST_FORBIDDEN";
/** A URL's protocol is neither `https:` nor `http:`. */
export const REQUEST_PROTOCOL_FORBIDDEN = "OAUTH_REQUEST_PROTOCOL_FORBIDDEN";
/** A JWT timestamp (`exp`, `nbf`, `iat`, `auth_time`) check failed. */
export const JWT_TIMESTAMP_CHECK = "OAUTH_JWT_TIMESTAMP_CHECK_FAILED";
/** A JWT claim has an unexpected value. */
export const JWT_CLAIM_COMPARISON = "OAUTH_JWT_CLAIM_COMPARISON_FAILED";
/** A JSON member has an unexpected value. */
export const JSON_ATTRIBUTE_COMPARISON = "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED";
/** No single key could be selected to verify a signature. */
export const KEY_SELECTION = "OAUTH_KEY_SELECTION_FAILED";
/** Server metadata lacks a member the operation needs. */
export const MISSING_SERVER_METADATA = "OAUTH_MISSING_SERVER_METADATA";
/** Server metadata has a member of the wrong type or value. */
export const INVALID_SERVER_METADATA = "OAUTH_INVALID_SERVER_METADATA";
/** A response body exceeded the size cap (authlane addition). */
export const RESPONSE_TOO_LARGE = "OAUTH_RESPONSE_TOO_LARGE";

/** Every `code` an authlane error class may carry. */
export type OAuthErrorCode =
  | typeof WWW_AUTHENTICATE_CHALLENGE
  | typeof RESPONSE_BODY_ERROR
  | typeof UNSUPPORTED_OPERATION
  | typeof AUTHORIZATION_RESPONSE_ERROR
  | typeof JWT_USERINFO_EXPECTED
  | typeof PARSE_ERROR
  | typeof INVALID_RESPONSE
  | typeof INVALID_REQUEST
  | typeof RESPONSE_IS_NOT_JSON
  | typeof RESPONSE_IS_NOT_CONFORM
  | typeof HTTP_REQUEST_FORBIDDEN
  | typeof REQUEST_PROTOCOL_FORBIDDEN
  | typeof JWT_TIMESTAMP_CHECK
  | typeof JWT_CLAIM_COMPARISON
  | typeof JSON_ATTRIBUTE_COMPARISON
  | typeof KEY_SELECTION
  | typeof MISSING_SERVER_METADATA
  | typeof INVALID_SERVER_METADATA
  | typeof RESPONSE_TOO_LARGE;

function hide(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: false, writable: true });
}

/**
 * Thrown when an operation, algorithm or token type is not supported.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * try {
 *   await oauth.generateKeyPair("HS256");
 * } catch (err) {
 *   if (err instanceof oauth.UnsupportedOperationError) console.log(err.code);
 * }
 * ```
 */
export class UnsupportedOperationError extends Error {
  /** Always {@link UNSUPPORTED_OPERATION}. */
  code: string;

  /**
   * Creates the error.
   *
   * @param message What is not supported.
   * @param options The offending value, as `cause`.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
    this.code = UNSUPPORTED_OPERATION;
  }
}

/**
 * Thrown when a response or token fails a check. `code` names the check; `cause` holds what was
 * found.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * try {
 *   await oauth.processAuthorizationCodeResponse(as, client, response);
 * } catch (err) {
 *   if (err instanceof oauth.OperationProcessingError && err.code === oauth.JWT_CLAIM_COMPARISON) {
 *     console.log("ID token claim mismatch", err.cause);
 *   }
 * }
 * ```
 */
export class OperationProcessingError extends Error {
  /** The failed check's code. */
  code?: string;

  /**
   * Creates the error.
   *
   * @param message What was checked and what was wrong.
   * @param options The code and the evidence.
   */
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.name = this.constructor.name;
    if (options?.code) this.code = options.code;
  }
}

/**
 * Thrown when an endpoint answers with an OAuth 2.0 error body (RFC 6749 §5.2). `error`,
 * `error_description` and `status` are copied from it; the `Response` is kept (non-enumerable)
 * in `response`.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * try {
 *   await oauth.processRefreshTokenResponse(as, client, response);
 * } catch (err) {
 *   if (err instanceof oauth.ResponseBodyError && err.error === "invalid_grant") {
 *     // sign the user in again
 *   }
 * }
 * ```
 */
export class ResponseBodyError extends Error {
  /** The parsed error body. */
  declare cause: Record<string, import("./types.ts").JsonValue | undefined>;
  /** Always {@link RESPONSE_BODY_ERROR}. */
  code: typeof RESPONSE_BODY_ERROR;
  /** The `error` member. */
  error: string;
  /** The HTTP status. */
  status: number;
  /** The `error_description` member. */
  error_description?: string;
  /** The response (non-enumerable). */
  declare response: Response;

  /**
   * Creates the error from a parsed error body.
   *
   * @param message A summary.
   * @param options The parsed body and the response.
   */
  constructor(message: string, options: { cause: OAuth2Error; response: Response }) {
    super(message, { cause: options.cause });
    this.name = this.constructor.name;
    this.code = RESPONSE_BODY_ERROR;
    this.error = options.cause.error;
    this.status = options.response.status;
    if (typeof options.cause.error_description === "string") {
      this.error_description = options.cause.error_description;
    }
    hide(this, "response", options.response);
  }
}

/**
 * Thrown when an authorization response carries an `error` parameter (RFC 6749 §4.1.2.1).
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const url: URL;
 * try {
 *   oauth.validateAuthResponse(as, client, url, "state");
 * } catch (err) {
 *   if (err instanceof oauth.AuthorizationResponseError) console.log(err.error);
 * }
 * ```
 */
export class AuthorizationResponseError extends Error {
  /** The response parameters. */
  declare cause: URLSearchParams;
  /** Always {@link AUTHORIZATION_RESPONSE_ERROR}. */
  code: typeof AUTHORIZATION_RESPONSE_ERROR;
  /** The `error` parameter. */
  error: string;
  /** The `error_description` parameter. */
  error_description?: string;

  /**
   * Creates the error from the authorization response parameters.
   *
   * @param message A summary.
   * @param options The response parameters.
   */
  constructor(message: string, options: { cause: URLSearchParams }) {
    super(message, options);
    this.name = this.constructor.name;
    this.code = AUTHORIZATION_RESPONSE_ERROR;
    this.error = options.cause.get("error") ?? "";
    const description = options.cause.get("error_description");
    if (description !== null) this.error_description = description;
  }
}

/**
 * Thrown when a response carries `WWW-Authenticate` challenges (RFC 9110 §11.6.1), for example a
 * resource server's `invalid_token` or a DPoP `use_dpop_nonce`.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * try {
 *   await oauth.processUserInfoResponse(as, client, oauth.skipSubjectCheck, response);
 * } catch (err) {
 *   if (err instanceof oauth.WWWAuthenticateChallengeError) console.log(err.cause[0]?.scheme);
 * }
 * ```
 */
export class WWWAuthenticateChallengeError extends Error {
  /** The parsed challenges. */
  declare cause: WWWAuthenticateChallenge[];
  /** Always {@link WWW_AUTHENTICATE_CHALLENGE}. */
  code: typeof WWW_AUTHENTICATE_CHALLENGE;
  /** The response (non-enumerable). */
  declare response: Response;
  /** The HTTP status. */
  status: number;

  /**
   * Creates the error from parsed challenges.
   *
   * @param message A summary.
   * @param options The challenges and the response.
   */
  constructor(
    message: string,
    options: { cause: WWWAuthenticateChallenge[]; response: Response },
  ) {
    super(message, { cause: options.cause });
    this.name = this.constructor.name;
    this.code = WWW_AUTHENTICATE_CHALLENGE;
    this.status = options.response.status;
    hide(this, "response", options.response);
  }
}

/** A `TypeError` carrying a Node-style `code`. @internal */
export type CodedTypeError = TypeError & { code: "ERR_INVALID_ARG_TYPE" | "ERR_INVALID_ARG_VALUE" };

/**
 * Builds the `TypeError` for a caller mistake.
 *
 * @internal
 */
export function argError(
  message: string,
  code: "ERR_INVALID_ARG_TYPE" | "ERR_INVALID_ARG_VALUE" = "ERR_INVALID_ARG_TYPE",
  cause?: unknown,
): CodedTypeError {
  const err = new TypeError(message, cause === undefined ? undefined : { cause }) as CodedTypeError;
  err.code = code;
  return err;
}

/**
 * Builds an {@link OperationProcessingError}.
 *
 * @internal
 */
export function processingError(
  message: string,
  code: OAuthErrorCode,
  cause?: unknown,
): OperationProcessingError {
  return new OperationProcessingError(message, { code, cause });
}

/**
 * Builds an {@link UnsupportedOperationError}.
 *
 * @internal
 */
export function unsupported(message: string, cause?: unknown): UnsupportedOperationError {
  return new UnsupportedOperationError(message, { cause });
}
