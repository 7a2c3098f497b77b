/**
 * The transport: the ONLY place authlane calls `fetch`. It resolves endpoints (with RFC 8705 §5
 * mTLS aliases), enforces `https:` unless `[allowInsecureRequests]`, builds headers, applies the
 * default 30-second timeout, never follows redirects, chooses the transport (a `[customFetch]`,
 * the client's mutual-TLS adapter, or `fetch`), and reads bodies under a size cap into JSON
 * objects.
 *
 * @module
 */

import { isJsonObject, isResponseLike } from "./_assert.ts";
import { toText } from "./_encoding.ts";
import { checkProtocol, getContentType, hasCredentials } from "./endpoints.ts";
import {
  abortError,
  argError,
  describeResponse,
  displayUrl,
  INVALID_RESPONSE,
  PARSE_ERROR,
  processingError,
  quote,
  rememberRequestUrl,
  requestError,
  RESPONSE_IS_NOT_CONFORM,
  RESPONSE_IS_NOT_JSON,
  RESPONSE_TOO_LARGE,
  ResponseBodyError,
  responseUrl,
} from "./errors.ts";
import { mtlsAdapterFor } from "./mtls.ts";
import { allowInsecureRequests, customFetch, maxResponseSize } from "./symbols.ts";
import type {
  Client,
  CustomFetchOptions,
  DPoPProofSigner,
  FetchLike,
  HttpRequestOptions,
  JsonObject,
  OAuth2Error,
} from "./types.ts";
import { checkAuthenticationChallenges } from "./www_authenticate.ts";

/** Default timeout of a request when the caller gives no `signal`, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Default cap on a response body, in decoded bytes. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * The options every request helper passes down: any `HttpRequestOptions<Method, Body>` fits,
 * since the transport only hands `[customFetch]` the method and body it was built for.
 */
export interface HttpOptions {
  signal?: HttpRequestOptions<string>["signal"];
  headers?: HttpRequestOptions<string>["headers"];
  [customFetch]?: (url: string, options: never) => Promise<Response>;
  [allowInsecureRequests]?: boolean;
  [maxResponseSize]?: number;
}

/**
 * The `User-Agent` sent when the caller sets none. Not in a browser (a `navigator.userAgent` of
 * `Mozilla/5.0 …`): there it is the browser's, and setting it on a cross-origin request would
 * cost a CORS preflight. oauth4webapi draws the same line.
 */
const USER_AGENT: string | undefined = (() => {
  const agent = (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent;
  return typeof agent === "string" && agent.startsWith("Mozilla/5.0 ")
    ? undefined
    : "authlane/0.1.0";
})();

/** Whether `[allowInsecureRequests]` is off, i.e. `https:` is required. */
export function enforcesHttps(options?: HttpOptions): boolean {
  return options?.[allowInsecureRequests] !== true;
}

/**
 * Builds the request headers from the caller's `headers` option, adding authlane's `User-Agent`
 * unless the caller set one or this is a browser. `Authorization` is refused: the library writes
 * it (client authentication, access tokens), as oauth4webapi does.
 */
export function prepareHeaders(
  input?: HttpOptions["headers"],
  name = '"options.headers"',
): Headers {
  let headers: Headers;
  try {
    headers = new Headers(input);
  } catch (cause) {
    throw argError(`${name} must be a valid HeadersInit`, "ERR_INVALID_ARG_VALUE", cause);
  }
  if (USER_AGENT !== undefined && !headers.has("user-agent")) headers.set("user-agent", USER_AGENT);
  if (headers.has("authorization")) {
    throw argError(
      `${name} must not include the "authorization" header name`,
      "ERR_INVALID_ARG_VALUE",
    );
  }
  return headers;
}

/**
 * Chooses how a request travels. With `client.use_mtls_endpoint_aliases` true it is the
 * caller's `[customFetch]` when given, else the client's mutual-TLS adapter (built once per
 * client object); otherwise `[customFetch]` or `fetch`.
 */
export function transportFor(client: Client | undefined, options?: HttpOptions): FetchLike {
  const custom = options?.[customFetch] as unknown as FetchLike | undefined;
  if (custom !== undefined && typeof custom !== "function") {
    throw argError('"options[customFetch]" must be a function');
  }
  if (client?.use_mtls_endpoint_aliases !== true) return custom ?? globalFetch;
  return custom ?? mtlsAdapterFor(client);
}

function globalFetch(url: string, init: CustomFetchOptions<string, unknown>): Promise<Response> {
  return fetch(url, init as RequestInit);
}

/** The signal a request travels with, and how to stop following the caller's signal. */
interface RequestSignal {
  signal: AbortSignal;
  /**
   * Removes the listener on the caller's signal; `undefined` for the default timeout's signal,
   * which belongs to this request alone and lets go of its listener when it fires.
   */
  release: (() => void) | undefined;
}

/**
 * The request's signal: it follows the caller's `signal` (or the default 30-second timeout) and
 * aborts with that reason raised again by {@link abortError}, so the request and every read of
 * its body end in a `TimeoutError` or `AbortError` that carries a `code` and names the URL.
 */
function signalFor(url: URL, method: string, options?: HttpOptions): RequestSignal {
  const given = options?.signal;
  let source: AbortSignal | undefined;
  let defaultTimeout: number | undefined;
  if (given === undefined) {
    source = AbortSignal.timeout(DEFAULT_TIMEOUT_MS);
    defaultTimeout = DEFAULT_TIMEOUT_MS;
  } else if (given instanceof AbortSignal) {
    source = given;
  } else if (typeof given === "function") {
    const made = given(url.href);
    if (made instanceof AbortSignal) source = made;
  }
  if (source === undefined) {
    throw argError('"options.signal" must be an AbortSignal or a function returning one');
  }
  const from = source;
  const controller = new AbortController();
  const abort = () => controller.abort(abortError(from.reason, url, method, defaultTimeout));
  if (from.aborted) {
    abort();
    return { signal: controller.signal, release: undefined };
  }
  from.addEventListener("abort", abort, { once: true });
  if (defaultTimeout !== undefined) return { signal: controller.signal, release: undefined };
  return { signal: controller.signal, release: () => from.removeEventListener("abort", abort) };
}

/**
 * Stops following a caller's signal once nobody can read the response any more, so a signal
 * shared by many requests does not keep one listener per request for ever.
 */
const releaseWithResponse = new FinalizationRegistry<() => void>((release) => release());

/** The body cap chosen with `[maxResponseSize]` for each response {@link send} returned. */
const responseLimits = new WeakMap<Response, number>();

/**
 * The signal of the request behind each response {@link send} returned. `fetch` ends the body
 * when it fires; a `[customFetch]` or its Response-like may not, so the body readers watch it.
 */
const responseSignals = new WeakMap<Response, AbortSignal>();

function responseLimitOf(options?: HttpOptions): number | undefined {
  const limit = options?.[maxResponseSize];
  if (limit === undefined) return undefined;
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit <= 0) {
    throw argError(
      '"options[maxResponseSize]" must be a positive integer',
      typeof limit === "number" ? "ERR_INVALID_ARG_VALUE" : "ERR_INVALID_ARG_TYPE",
    );
  }
  return limit;
}

/** One outgoing request, as the protocol layer describes it. */
export interface HttpCall {
  /** Target URL (already resolved and checked). */
  url: URL;
  /** HTTP method. */
  method: string;
  /** Headers (from {@link prepareHeaders} plus the protocol's own). */
  headers: Headers;
  /** Body, if any. */
  body?: unknown;
  /** The caller's options. */
  options?: HttpOptions;
  /** The transport to use (from {@link transportFor}), resolved before any I/O. */
  transport: FetchLike;
  /** DPoP signer adding a proof and remembering nonces. */
  dpop?: DPoPProofSigner;
  /** Access token a DPoP proof binds with `ath`. */
  accessToken?: string;
}

/**
 * Sends one request: adds the DPoP proof when a signer is given, applies the signal (default
 * timeout), never follows redirects, and remembers a `DPoP-Nonce` from the response. A request
 * that gets no response ends in fetch's class and `name` with a `code`, the URL and the reason
 * ({@link requestError}, {@link abortError}); the response remembers its URL for messages.
 */
export async function send(call: HttpCall): Promise<Response> {
  checkProtocol(call.url, enforcesHttps(call.options));
  if (hasCredentials(call.url)) {
    // Endpoints from metadata were refused by resolveEndpoint already; this is a caller's URL.
    throw argError(
      "request URLs must not carry user:pass@ credentials (RFC 9110 §4.2.4)",
      "ERR_INVALID_ARG_VALUE",
    );
  }
  const limit = responseLimitOf(call.options);
  const { signal, release } = signalFor(call.url, call.method, call.options);
  let response: unknown;
  try {
    if (call.dpop) await call.dpop.addProof(call.url, call.headers, call.method, call.accessToken);
    const init: CustomFetchOptions<string, unknown> = {
      body: call.body,
      headers: Object.fromEntries(call.headers),
      method: call.method,
      redirect: "manual",
      signal,
    };
    if (call.body instanceof ReadableStream) init.duplex = "half";
    try {
      response = await call.transport(call.url.href, init);
    } catch (err) {
      throw requestError(err, call.url, call.method);
    }
    if (!isResponseLike(response)) {
      throw argError('"options[customFetch]" must return a Response', "ERR_INVALID_ARG_VALUE");
    }
  } catch (err) {
    release?.();
    throw err;
  }
  if (release !== undefined) releaseWithResponse.register(response, release);
  rememberRequestUrl(response, call.url);
  if (limit !== undefined) responseLimits.set(response, limit);
  responseSignals.set(response, signal);
  call.dpop?.cacheNonce(response, call.url);
  return response;
}

/**
 * Reads a body as text while counting decoded bytes, refusing bodies over the cap without
 * buffering them whole, and refusing invalid UTF-8. The cap is the `[maxResponseSize]` of the
 * request that produced the response, else 1 MiB. Any Response-like (undici's, another realm's)
 * is read the same way; for one that {@link send} returned, the request's signal (timeout)
 * also ends the read when the object's own body does not honour it.
 */
export async function readText(
  response: Response,
  maxBytes: number = responseLimits.get(response) ?? DEFAULT_MAX_RESPONSE_BYTES,
): Promise<string> {
  const bytes = asBytes(await readBody(response, maxBytes));
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes, response);
  return decodeUtf8(bytes, response);
}

/**
 * The bytes of a body, at most `maxBytes` of them (see {@link readText}), as a promise of the
 * body read itself when one call can read it: no extra async layer on the hot path. What a
 * Response-like's own `bytes()` or `arrayBuffer()` gives (another realm's typed array, an
 * `ArrayBuffer`) is left for {@link asBytes} after the `await`, so this path adds no promise.
 *
 * A declared length over the cap is refused before anything is read. A declared length within
 * the cap and no content coding (so decoded bytes equal declared bytes) is read in one call,
 * without a stream, a reader and chunk copies, but only for responses a fetch implementation
 * produced (type "basic"/"cors"), whose HTTP framing stops the body at its Content-Length; a
 * constructed Response (a customFetch's, an adapter's, type "default") may declare 44 bytes and
 * stream gigabytes, so it goes through the counting reader. So does a response that also names a
 * Transfer-Encoding: chunked framing overrides Content-Length (RFC 9112 §6.3 (3)) and fetch keeps
 * both headers, so the declared length bounds nothing. A native Response's three headers are
 * gathered in one `forEach` pass ({@link nativeFraming}) when it came from a fetch; any other
 * response's are read with `get`.
 */
function readBody(response: Response, maxBytes: number): Promise<unknown> {
  const headers = response.headers;
  const native = response instanceof Response;
  const type = response.type;
  const fetched = type === "basic" || type === "cors";
  const framing = native && fetched ? nativeFraming(headers) : undefined;
  const length = framing !== undefined ? framing.length : headers.get("content-length");
  if (length !== null && Number(length) > maxBytes) return refuseDeclared(response, maxBytes);
  if (
    fetched && length !== null && DIGITS.test(length) &&
    (framing !== undefined
      ? framing.coding === null && framing.transfer === null
      : headers.get("content-encoding") === null && headers.get("transfer-encoding") === null)
  ) {
    if (native) return readWhole(response);
    const like = response as { bytes?: unknown; arrayBuffer?: unknown };
    if (typeof like.bytes === "function" || typeof like.arrayBuffer === "function") {
      return untilAborted(readWhole(response), responseSignals.get(response));
    }
  }
  return readCappedBytes(
    response.body,
    maxBytes,
    () => tooLarge(maxBytes, response),
    responseSignals.get(response),
  );
}

/** The headers that say how a body is framed and coded, each combined as `get` returns it. */
export interface Framing {
  /** `Content-Length`. */
  length: string | null;
  /** `Content-Encoding`. */
  coding: string | null;
  /** `Transfer-Encoding`. */
  transfer: string | null;
}

/** A `Headers.forEach` callback filling the {@link Framing} given as `thisArg`. */
export function collectFraming(this: Framing, value: string, name: string): void {
  if (name === "content-length") this.length = value;
  else if (name === "content-encoding") this.coding = value;
  else if (name === "transfer-encoding") this.transfer = value;
}

/**
 * The framing headers of a native Response, in one `forEach` pass over its sorted, combined header
 * list (lowercase names, a repeated header's values joined with ", " as `get` joins them). On Deno
 * a fetched Response's `get` of any name but `content-type` converts and checks the name,
 * lowercases the header list once and scans it; the one pass costs less than three such reads
 * (bench/_headers.ts: 2.1 against 2.6 µs per fetched Response, the getter's 0.5 µs included), and
 * workloads 1 and 5 of `deno task bench` gained 4–7% in interleaved runs. A Response-like's
 * headers (undici's, a mock's) are read with `get`, the one method {@link isResponseLike} checks
 * for.
 */
function nativeFraming(headers: Headers): Framing {
  const framing: Framing = { length: null, coding: null, transfer: null };
  headers.forEach(collectFraming, framing);
  return framing;
}

async function refuseDeclared(response: Response, maxBytes: number): Promise<never> {
  await discardBody(response);
  throw tooLarge(maxBytes, response);
}

function readWhole(response: Response): Promise<Uint8Array | ArrayBuffer> {
  return typeof response.bytes === "function" ? response.bytes() : response.arrayBuffer();
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/**
 * A chunk as a `Uint8Array`. Another realm's typed arrays fail `instanceof`, so views are
 * recognised with `ArrayBuffer.isView`; anything else is not a byte stream.
 */
function asBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) {
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  if (
    chunk instanceof ArrayBuffer || Object.prototype.toString.call(chunk) === "[object ArrayBuffer]"
  ) {
    return new Uint8Array(chunk as ArrayBuffer);
  }
  throw argError('"response" body must be a stream of bytes', "ERR_INVALID_ARG_VALUE");
}

/**
 * Reads a body stream while counting its (decoded) bytes, and cancels it as soon as they pass
 * `maxBytes`, so an oversized body is never buffered whole. With a `signal`, the read ends (and
 * the stream is cancelled) when it fires, even when the stream's source ignores it. Shared by
 * responses and by the requests authlane reads (form_post callbacks, logout tokens).
 */
export async function readCappedBytes(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  tooLargeError: () => Error,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  let onAbort: (() => void) | undefined;
  if (signal !== undefined) {
    if (signal.aborted) {
      await reader.cancel(signal.reason).catch(() => {});
      throw signal.reason;
    }
    onAbort = () => void reader.cancel(signal.reason).catch(() => {});
    signal.addEventListener("abort", onAbort, { once: true });
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      // A cancel by the signal ends a pending read as if the body were complete.
      if (signal?.aborted) throw signal.reason;
      if (done) break;
      const chunk = asBytes(value);
      total += chunk.byteLength;
      if (total > maxBytes) throw tooLargeError();
      chunks.push(chunk);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
  }
  if (chunks.length === 1) return chunks[0]!;
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/** Cancels a body nobody will read; a body already locked or errored is left as it is. */
export async function discardBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // nothing to release
  }
}

const DIGITS = /^[0-9]{1,15}$/;

function decodeUtf8(bytes: Uint8Array, response: Response): string {
  try {
    return toText(bytes);
  } catch (cause) {
    throw processingError(
      `response body is not valid UTF-8 (${describeResponse(response)})`,
      PARSE_ERROR,
      {
        cause,
        status: response.status,
      },
    );
  }
}

function tooLarge(maxBytes: number, response: Response) {
  return processingError(
    `response body exceeds ${maxBytes} bytes (${describeResponse(response)}); ` +
      "raise the cap with [maxResponseSize]",
    RESPONSE_TOO_LARGE,
    { status: response.status, maxBytes },
  );
}

/** Parses JSON text that must be an object. */
export function parseJsonObject(text: string, status?: number): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The SyntaxError is left out on purpose: V8's message quotes the body, which may hold the
    // beginning of an access token.
    throw processingError('failed to parse "response" body as JSON', PARSE_ERROR, { status });
  }
  if (!isJsonObject(value)) {
    throw processingError('"response" body must be a top level object', INVALID_RESPONSE, {
      status,
    });
  }
  return value;
}

/** The media types a JSON response body may be labelled with when it does not parse. */
const JSON_TYPES: readonly string[] = ["application/json"];

/**
 * Reads a JSON-object body under the size cap. As oauth4webapi does, the body is parsed first and
 * its `Content-Type` only matters when it does not parse: then a type outside `types` is
 * `RESPONSE_IS_NOT_JSON`, else `PARSE_ERROR`. A parsed value that is not an object is
 * `INVALID_RESPONSE`. Invalid UTF-8 counts as a body that does not parse (RFC 8259 §8.1).
 */
export async function readJsonObject(
  response: Response,
  types: readonly string[] = JSON_TYPES,
): Promise<JsonObject> {
  const maxBytes = responseLimits.get(response) ?? DEFAULT_MAX_RESPONSE_BYTES;
  const bytes = asBytes(await readBody(response, maxBytes));
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes, response);
  const text = toTextOrUndefined(bytes);
  let value: unknown;
  let parsed = false;
  if (text !== undefined) {
    try {
      value = JSON.parse(text);
      parsed = true;
    } catch {
      // The SyntaxError is left out on purpose: V8's message quotes the body, which may hold the
      // beginning of an access token.
    }
  }
  if (!parsed) {
    const type = getContentType(response);
    if (type === undefined || !types.includes(type)) throw notJson(response, type);
    throw processingError('failed to parse "response" body as JSON', PARSE_ERROR, {
      status: response.status,
    });
  }
  if (!isJsonObject(value)) {
    throw processingError('"response" body must be a top level object', INVALID_RESPONSE, {
      status: response.status,
    });
  }
  return value;
}

/** The text of UTF-8 bytes, or `undefined` when they are not valid UTF-8. */
function toTextOrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return toText(bytes);
  } catch {
    return undefined;
  }
}

function notJson(response: Response, type: string | undefined) {
  return processingError(
    'unexpected response content-type, expected "application/json", got ' +
      `${type === undefined ? "none" : quote(type, 80)} (${describeResponse(response)})`,
    RESPONSE_IS_NOT_JSON,
    { contentType: type, status: response.status },
  );
}

/**
 * The first checks of the `processXxxResponse` functions of endpoints that answer OAuth 2.0
 * errors (token, PAR, device, CIBA, introspection, revocation, registration, userinfo), in
 * oauth4webapi's order. The expected status passes, whatever headers come with it: a
 * `WWW-Authenticate` challenge beside a success is informational (RFC 9110 §11.6.1, RFC 6750 §3).
 * Any other status is a {@link WWWAuthenticateChallengeError} when the response carries a
 * well-formed challenge (its body left unread for the caller); for a 4xx, a
 * {@link ResponseBodyError} when the body is a JSON OAuth 2.0 error (RFC 6749 §5.2), and
 * `RESPONSE_IS_NOT_JSON` when the body is not labelled `application/json` (except at the
 * UserInfo endpoint, whose errors are challenges only); otherwise `RESPONSE_IS_NOT_CONFORM`.
 */
export function checkStatus(
  response: Response,
  expected: number,
  label: string,
): Promise<void> | undefined {
  // The success path stays synchronous.
  if (response.status === expected) return undefined;
  return statusFailure(response, expected, label);
}

/**
 * Endpoints that report errors in `WWW-Authenticate` only, never in the body: the UserInfo
 * endpoint (OpenID Connect Core §5.3.3, RFC 6750 §3). oauth4webapi reads no error body there.
 */
const CHALLENGE_ONLY_ENDPOINTS = new Set(["UserInfo Endpoint"]);

async function statusFailure(response: Response, expected: number, label: string): Promise<void> {
  checkAuthenticationChallenges(response);
  const status = response.status;
  if (status >= 400 && status < 500 && !CHALLENGE_ONLY_ENDPOINTS.has(label)) {
    if (response.bodyUsed) {
      throw argError('"response" body has already been used', "ERR_INVALID_ARG_VALUE");
    }
    const type = getContentType(response);
    if (type !== "application/json") {
      await discardBody(response);
      throw notJson(response, type);
    }
    let body: JsonObject | undefined;
    try {
      body = parseJsonObject(await readText(response), status);
    } catch {
      // not an OAuth 2.0 error body; reported below as a non-conform response
    }
    if (body !== undefined && typeof body.error === "string" && body.error.length > 0) {
      throw new ResponseBodyError(bodyErrorMessage(body.error, response), {
        cause: body as OAuth2Error,
        response,
      });
    }
  }
  await discardBody(response);
  throw notConform(response, expected, label);
}

/**
 * The status check of metadata documents (authorization server and protected resource metadata,
 * JWK Sets), as oauth4webapi does it: any status but `expected` is `RESPONSE_IS_NOT_CONFORM`,
 * whatever the body or challenges say.
 */
export function checkMetadataStatus(
  response: Response,
  expected: number,
  label: string,
  hint?: string,
): Promise<void> | undefined {
  if (response.status === expected) return undefined;
  return discardBody(response).then(() => {
    throw notConform(response, expected, label, hint);
  });
}

/**
 * `RESPONSE_IS_NOT_CONFORM`, saying the status, the expected one and the URL; for a 3xx, that
 * redirects are not followed and where the server pointed (without its query); and the
 * caller's `hint`, when the failure has a likely cause the caller knows of.
 */
function notConform(response: Response, expected: number, label: string, hint?: string) {
  const status = response.status;
  let message = `"response" is not a conform ${label} response: unexpected HTTP status code ` +
    `${status}, expected ${expected}`;
  const url = responseUrl(response);
  if (url !== undefined) message += ` (${url})`;
  if (status >= 300 && status < 400) {
    message += "; redirects are not followed";
    const location = redirectTarget(response);
    if (location !== undefined) message += `, and the server points to ${location}`;
  }
  if (hint !== undefined) message += `; ${hint}`;
  return processingError(message, RESPONSE_IS_NOT_CONFORM, { status, expected });
}

/** A 3xx response's `Location`, resolved and shown without credentials, query or fragment. */
function redirectTarget(response: Response): string | undefined {
  let location: string | null;
  try {
    location = response.headers.get("location");
  } catch {
    return undefined;
  }
  if (location === null || location === "") return undefined;
  let target: URL;
  try {
    target = new URL(location, responseUrl(response));
  } catch {
    return quote(location.replace(/[?#].*$/s, ""), 120);
  }
  return displayUrl(target);
}

/** The message of a `ResponseBodyError`: the `error` code and the response, never the description. */
function bodyErrorMessage(error: string, response: Response): string {
  return `server responded with an error in the response body: ${quote(error, 80)} ` +
    `(${describeResponse(response)})`;
}

/** Returns the DPoP signer from `options.DPoP`, refusing values that are not DPoP handles. */
export function dpopOf(options?: { DPoP?: unknown }): DPoPProofSigner | undefined {
  const handle = options?.DPoP;
  if (handle === undefined) return undefined;
  const signer = handle as Partial<DPoPProofSigner> | null;
  if (
    signer === null || typeof signer !== "object" || typeof signer.addProof !== "function" ||
    typeof signer.cacheNonce !== "function"
  ) {
    throw argError('"options.DPoP" must be a handle returned by DPoP()');
  }
  return signer as DPoPProofSigner;
}
