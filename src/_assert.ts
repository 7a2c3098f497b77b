/**
 * Argument guards: each throws a coded `TypeError` before any I/O, so caller mistakes never
 * reach the network.
 *
 * @module
 */

import { argError } from "./errors.ts";
import type { AuthorizationServer, Client, JsonObject } from "./types.ts";

/** Whether a value is a plain object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Throws unless `value` is a string. */
export function assertString(value: unknown, name: string): asserts value is string {
  if (typeof value !== "string") throw argError(`${name} must be a string`);
}

/** Throws unless `value` is a non-empty string. */
export function assertNonEmptyString(value: unknown, name: string): asserts value is string {
  assertString(value, name);
  if (value.length === 0) throw argError(`${name} must not be empty`, "ERR_INVALID_ARG_VALUE");
}

/** Throws unless `value` is a `URL`. */
export function assertURL(value: unknown, name: string): asserts value is URL {
  if (!(value instanceof URL)) throw argError(`${name} must be an instance of URL`);
}

/**
 * Whether a value behaves as a `Response`: an instance of this realm's `Response`, or any object
 * whose prototype chain says it is one (`Symbol.toStringTag` of `"Response"`: undici's, another
 * realm's, a subclass) and that has what authlane reads: a numeric `status`, `headers` with a
 * `get` method, and a body that is `null` or a stream with `getReader`. The instance check comes
 * first, so native responses pay nothing more.
 */
export function isResponseLike(value: unknown): value is Response {
  if (value instanceof Response) return true;
  if (typeof value !== "object" || value === null) return false;
  try {
    if (Object.getPrototypeOf(value)?.[Symbol.toStringTag] !== "Response") return false;
    const { status, headers, body } = value as {
      status?: unknown;
      headers?: { get?: unknown } | null;
      body?: { getReader?: unknown } | null;
    };
    return typeof status === "number" && typeof headers?.get === "function" &&
      (body === null || typeof body?.getReader === "function");
  } catch {
    // a throwing getter or prototype trap: not something authlane can read
    return false;
  }
}

/**
 * Throws unless `value` behaves as a `Response` (see {@link isResponseLike}) whose body was not
 * read yet (`readable: false` skips that part, for processors that may not read the body).
 */
export function assertResponse(
  value: unknown,
  name = '"response"',
  readable = true,
): asserts value is Response {
  if (!isResponseLike(value)) throw argError(`${name} must be an instance of Response`);
  if (readable && value.bodyUsed) {
    throw argError(`${name} body has already been used`, "ERR_INVALID_ARG_VALUE");
  }
}

/** Throws unless `as` looks like authorization server metadata. */
export function assertAs(as: unknown): asserts as is AuthorizationServer {
  if (!isJsonObject(as)) throw argError('"as" must be an object');
  assertNonEmptyString(as.issuer, '"as.issuer"');
}

/** Throws unless `client` looks like client metadata. */
export function assertClient(client: unknown): asserts client is Client {
  if (!isJsonObject(client)) throw argError('"client" must be an object');
  assertNonEmptyString(client.client_id, '"client.client_id"');
}

/** Throws unless `value` is a `CryptoKey` of the given type. */
export function assertCryptoKey(
  value: unknown,
  name: string,
  type?: "private" | "public" | "secret",
): asserts value is CryptoKey {
  if (!(value instanceof CryptoKey)) throw argError(`${name} must be a CryptoKey`);
  if (type && value.type !== type) {
    throw argError(`${name} must be a ${type} CryptoKey`, "ERR_INVALID_ARG_VALUE");
  }
}

/** Normalises the parameter shapes the API accepts into a fresh `URLSearchParams`. */
export function toSearchParams(
  value: URLSearchParams | Record<string, string> | string[][] | undefined,
  name: string,
): URLSearchParams {
  if (value === undefined) return new URLSearchParams();
  if (value instanceof URLSearchParams) return new URLSearchParams(value);
  if (Array.isArray(value) || isJsonObject(value)) {
    try {
      return new URLSearchParams(value as Record<string, string> | string[][]);
    } catch (cause) {
      throw argError(`${name} could not be converted to URLSearchParams`, undefined, cause);
    }
  }
  throw argError(`${name} must be URLSearchParams, a record of strings, or an array of pairs`);
}

/**
 * Parses an absolute URL, or returns `null`. Like `URL.parse`, which Node.js only has since
 * 20.18 / 22.1, so the bundle keeps working on older runtimes.
 */
export function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}
