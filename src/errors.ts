/**
 * The error family: five classes with a stable `code`, the code constants, a union of them for
 * exhaustive `switch`es, and the small factories every throw in authlane goes through.
 *
 * Caller mistakes are `TypeError`s with `code` `ERR_INVALID_ARG_TYPE` or `ERR_INVALID_ARG_VALUE`,
 * thrown before any I/O. A `cause` holds what the library found (claims, metadata, the parsed
 * body), never a secret the caller holds.
 *
 * Failures of the transport keep the class and `name` `fetch` gives them, as oauth4webapi lets
 * them through: a network failure is a `TypeError`, a timeout a `DOMException` named
 * `TimeoutError`, a caller's abort one named `AbortError`. authlane raises them again with a
 * string `code` ({@link NETWORK_ERROR}, {@link TLS_ERROR}, {@link REQUEST_TIMEOUT},
 * {@link REQUEST_ABORTED}), a message naming the method, the URL (without credentials, query or
 * fragment) and the reason, and the runtime's own error as `cause`.
 *
 * Messages name what a person needs to act: the URL and HTTP status of a response, expected and
 * actual values of comparisons that are not secret (issuer, audience, content type, status), and
 * the option that changes the behaviour. Values a server sent are quoted as JSON and shortened,
 * so a hostile server cannot write lines into a log.
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
/**
 * No response arrived: the connection was refused or closed, the host was not found, or the
 * request could not be sent (authlane addition). It is the `TypeError` that `fetch` rejects with
 * (`name` `"TypeError"`), raised again with this `code`, a message naming the URL and the reason,
 * and the runtime's error as `cause`.
 */
export const NETWORK_ERROR = "OAUTH_NETWORK_ERROR";
/**
 * No response arrived because TLS failed: the server's certificate is not trusted, has expired or
 * names another host, or the server does not speak TLS on that port (authlane addition). A
 * `TypeError`, as {@link NETWORK_ERROR}. Which of the two a failure gets is read from the
 * runtime's error, so an unusual TLS failure may arrive as {@link NETWORK_ERROR}.
 */
export const TLS_ERROR = "OAUTH_TLS_ERROR";
/**
 * The request's timeout fired before the response or its body arrived: the default 30 seconds,
 * or an `AbortSignal.timeout()` passed as `signal` (authlane addition). A `DOMException` named
 * `"TimeoutError"`, as `fetch` rejects with, whose `code` is this string instead of the legacy
 * number 23, and whose `cause` is the signal's reason.
 */
export const REQUEST_TIMEOUT = "OAUTH_REQUEST_TIMEOUT";
/**
 * The caller's `signal` aborted the request or the read of its body (authlane addition). A
 * `DOMException` named `"AbortError"`, whose `code` is this string instead of the legacy number
 * 20, and whose `cause` is the signal's reason. A reason of the caller's own that is not a
 * `DOMException` (`controller.abort(myError)`) is thrown as it is.
 */
export const REQUEST_ABORTED = "OAUTH_REQUEST_ABORTED";

/**
 * Every `code` an error authlane raises may carry, besides the `ERR_INVALID_ARG_TYPE` and
 * `ERR_INVALID_ARG_VALUE` of caller mistakes.
 */
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
  | typeof RESPONSE_TOO_LARGE
  | typeof NETWORK_ERROR
  | typeof TLS_ERROR
  | typeof REQUEST_TIMEOUT
  | typeof REQUEST_ABORTED;

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

// --- what messages say ------------------------------------------------------------------------

/**
 * A URL as messages show it: scheme, host, port and path. Credentials, query and fragment are
 * left out, since they may hold secrets (an API key in a query, a token in a fragment).
 *
 * @internal
 */
export function displayUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return "(an invalid URL)";
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/**
 * A value a server sent, as messages show it: JSON-quoted (so no line breaks or control
 * characters reach a log) and cut to `max` characters.
 *
 * @internal
 */
export function quote(value: unknown, max = 120): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The URL each response answered, for responses whose own `url` is empty (a `[customFetch]`'s). */
const requestUrls = new WeakMap<object, string>();

/**
 * Remembers the URL a response answered, when the response does not say it itself.
 *
 * @internal
 */
export function rememberRequestUrl(response: object, url: URL): void {
  const own = (response as { url?: unknown }).url;
  if (typeof own !== "string" || own === "") requestUrls.set(response, url.href);
}

/**
 * The URL a response answered, as {@link displayUrl} shows it, or `undefined` when unknown (a
 * `Response` the caller made).
 *
 * @internal
 */
export function responseUrl(response: object): string | undefined {
  let own: unknown;
  try {
    own = (response as { url?: unknown }).url;
  } catch {
    own = undefined;
  }
  const url = typeof own === "string" && own !== "" ? own : requestUrls.get(response);
  return url === undefined ? undefined : displayUrl(url);
}

/**
 * `HTTP 404 from https://as.example/token`, or `HTTP 404` when the URL is unknown.
 *
 * @internal
 */
export function describeResponse(response: { status: number }): string {
  const url = responseUrl(response);
  return url === undefined ? `HTTP ${response.status}` : `HTTP ${response.status} from ${url}`;
}

// --- transport failures -----------------------------------------------------------------------

/** A failure without a response: a `TypeError` with one of the two network codes. */
type TransportTypeError = TypeError & { code: typeof NETWORK_ERROR | typeof TLS_ERROR };

/** One way a connection fails, recognised in the runtime's error and said in a person's words. */
interface FailureKind {
  pattern: RegExp;
  code: typeof NETWORK_ERROR | typeof TLS_ERROR;
  reason: (url: URL) => string;
}

function hostAndPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/**
 * The failures people meet first, as Deno (rustls, hyper), Node (undici, OpenSSL) and Bun word
 * them. The first match wins, so TLS cases come before the generic ones.
 */
const FAILURE_KINDS: readonly FailureKind[] = [
  {
    pattern: /\bbad port\b|port.*(is )?(blocked|restricted)|ERR_UNSAFE_PORT/i,
    code: NETWORK_ERROR,
    reason: (url) =>
      `port ${url.port} is one fetch refuses to use (a "bad port" of the Fetch standard); serve ` +
      "the endpoint on another port",
  },
  {
    pattern: /ECONNREFUSED|connection refused|ConnectionRefused/i,
    code: NETWORK_ERROR,
    reason: (url) =>
      `connection refused by ${hostAndPort(url)}: is the server running on that port?`,
  },
  {
    pattern:
      /ENOTFOUND|EAI_AGAIN|EAI_NONAME|dns error|failed to lookup address|getaddrinfo|Name or service not known|nodename nor servname|DNSException/i,
    code: NETWORK_ERROR,
    reason: (url) => `the host ${url.hostname} was not found (DNS lookup failed)`,
  },
  {
    pattern:
      /InvalidContentType|corrupt message|wrong version number|WRONG_VERSION_NUMBER|packet length too long|PACKET_LENGTH_TOO_LONG|http request to an https server/i,
    code: TLS_ERROR,
    reason: (url) =>
      `TLS handshake failed: ${hostAndPort(url)} does not answer in TLS; if it serves plain ` +
      "http, use an http: URL and set [allowInsecureRequests] (local development only)",
  },
  {
    pattern:
      /close_notify|CertificateRequired|BadCertificate|alert (bad certificate|certificate required|unknown ca|handshake failure)|ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|HANDSHAKE_FAILURE)/i,
    code: TLS_ERROR,
    reason: (url) =>
      `${hostAndPort(url)} ended the TLS handshake: if it asks for a client certificate ` +
      "(mutual TLS), it refused the one sent or got none",
  },
  {
    pattern:
      /UnknownIssuer|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED_CERT|self[- ]signed certificate|unknown ca\b|CaUsedAsEndEntity|unable to verify the first certificate/i,
    code: TLS_ERROR,
    reason: () =>
      "the server's TLS certificate is not trusted (unknown issuer or self-signed): make the " +
      "runtime trust the CA that issued it (Deno: --cert or DENO_CERT; Node: " +
      "NODE_EXTRA_CA_CERTS), or pass a [customFetch] whose client trusts it",
  },
  {
    pattern: /NotValidForName|CERT_ALTNAME_INVALID|does not match certificate|not valid for/i,
    code: TLS_ERROR,
    reason: (url) => `the server's TLS certificate is not valid for ${url.hostname}`,
  },
  {
    pattern: /CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|certificate has expired|\bExpired\b|NotValidYet/,
    code: TLS_ERROR,
    reason: () => "the server's TLS certificate has expired or is not valid yet",
  },
  {
    pattern: /\bTLS\b|\bSSL\b|certificate|handshake/i,
    code: TLS_ERROR,
    reason: (url) => `TLS handshake with ${hostAndPort(url)} failed`,
  },
  {
    pattern: /UND_ERR_CONNECT_TIMEOUT|ETIMEDOUT|connect(ion)? time(d)? ?out/i,
    code: NETWORK_ERROR,
    reason: (url) => `connecting to ${hostAndPort(url)} timed out`,
  },
  {
    pattern: /ENETUNREACH|EHOSTUNREACH|network is unreachable|no route to host/i,
    code: NETWORK_ERROR,
    reason: (url) => `${url.hostname} is unreachable from this machine`,
  },
  {
    pattern:
      /ECONNRESET|EPIPE|connection reset|connection closed|socket hang up|other side closed|UND_ERR_SOCKET|IncompleteMessage|ConnectionClosed/i,
    code: NETWORK_ERROR,
    reason: () => "the connection was closed before a response arrived",
  },
];

/** The codes, names and messages of an error and its causes (and aggregated errors). */
function evidence(err: unknown): { text: string; innermost: string | undefined } {
  const parts: string[] = [];
  let innermost: string | undefined;
  const visit = (value: unknown, depth: number) => {
    if (depth > 6 || typeof value !== "object" || value === null) return;
    const { name, code, message, cause, errors } = value as {
      name?: unknown;
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    for (const part of [name, code, message]) if (typeof part === "string") parts.push(part);
    if (typeof message === "string" && message !== "") innermost = message;
    if (Array.isArray(errors)) { for (const inner of errors.slice(0, 4)) visit(inner, depth + 1); }
    visit(cause, depth + 1);
  };
  try {
    visit(err, 0);
  } catch {
    // a getter that throws hides nothing worth reporting
  }
  return { text: parts.join("\n"), innermost };
}

/** A runtime's message, with the query and fragment of any URL in it left out. */
function withoutQueries(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#)"']*)[?#][^\s)"']*/gi, "$1");
}

/**
 * Raises a failed `fetch` again as an error a person can act on. A `TypeError` (a network or TLS
 * failure) becomes a `TypeError` coded {@link NETWORK_ERROR} or {@link TLS_ERROR}; a timeout or
 * abort `DOMException` goes through {@link abortError}; the runtime's error is the `cause`.
 * Anything else (an error a `[customFetch]` made, a caller-mistake `TypeError`) is returned as
 * it is.
 *
 * @internal
 */
export function requestError(err: unknown, url: URL, method: string): unknown {
  if (typeof err !== "object" || err === null) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && (code.startsWith("OAUTH_") || code.startsWith("ERR_INVALID_"))) {
    return err;
  }
  if (typeof DOMException === "function" && err instanceof DOMException) {
    return abortError(err, url, method);
  }
  if (!(err instanceof TypeError)) return err;
  const found = evidence(err);
  const kind = FAILURE_KINDS.find((k) => k.pattern.test(found.text));
  let reason: string;
  if (kind !== undefined) {
    reason = kind.reason(url);
  } else {
    const detail = found.innermost === undefined ? "" : quote(withoutQueries(found.innermost), 200);
    reason = detail === "" ? "no response" : `no response (${detail})`;
  }
  const wrapped = new TypeError(`${method} ${displayUrl(url)} failed: ${reason}`, {
    cause: err,
  }) as TransportTypeError;
  wrapped.code = kind?.code ?? NETWORK_ERROR;
  return wrapped;
}

/**
 * Raises an abort signal's reason again with a `code` and a message naming the request: a
 * `TimeoutError` becomes one coded {@link REQUEST_TIMEOUT} (naming the default timeout and the
 * `signal` option when the default fired), an `AbortError` one coded {@link REQUEST_ABORTED}.
 * Class and `name` stay; the reason is the `cause`. A reason that is not a `DOMException` (the
 * caller's own value) or is already coded is returned as it is.
 *
 * @internal
 */
export function abortError(
  reason: unknown,
  url: URL,
  method: string,
  defaultTimeoutMs?: number,
): unknown {
  if (typeof DOMException !== "function" || !(reason instanceof DOMException)) return reason;
  if (typeof (reason as { code?: unknown }).code === "string") return reason;
  const target = `${method} ${displayUrl(url)}`;
  let message: string;
  let code: string;
  if (reason.name === "TimeoutError") {
    code = REQUEST_TIMEOUT;
    message = defaultTimeoutMs === undefined
      ? `${target} timed out (the options.signal timeout fired before the response arrived)`
      : `${target} timed out: no complete response within ${defaultTimeoutMs / 1000} seconds ` +
        "(the default timeout; pass options.signal, e.g. AbortSignal.timeout(ms), to change it)";
  } else if (reason.name === "AbortError") {
    code = REQUEST_ABORTED;
    message = `${target} was aborted by options.signal`;
  } else {
    return reason;
  }
  const err = new DOMException(message, reason.name);
  Object.defineProperty(err, "code", {
    value: code,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  Object.defineProperty(err, "cause", { value: reason, writable: true, configurable: true });
  return err;
}
