/**
 * What the sign-in, session, sign-out and back-channel logout parts share: the configured client,
 * the provider's metadata (discovered once, cached in Deno KV for every isolate), the store, the
 * cookies and the clock. `createSessionAuth` builds it; nothing outside `src/session/` sees it.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import type { CookieNames } from "./cookies.ts";
import { argumentError } from "./errors.ts";
import type { KvJwksCache } from "./jwks_cache.ts";
import type { KvStore } from "./kv.ts";

/** A `fetch` replacement, as the library's `[customFetch]` option takes it. */
export type CustomFetch = (
  url: string,
  options: oauth.CustomFetchOptions<string, unknown>,
) => Promise<Response>;

/** The library's request options this layer passes on every call to the provider. */
export interface HttpOptions {
  /** Allow `http:` provider URLs. */
  [oauth.allowInsecureRequests]?: boolean;
  /** A `fetch` replacement. */
  [oauth.customFetch]?: CustomFetch;
}

/** Builds the library's request options from the layer's plain ones. */
export function httpOptions(allowInsecure: boolean | undefined, fetch?: CustomFetch): HttpOptions {
  const options: HttpOptions = {};
  if (allowInsecure === true) options[oauth.allowInsecureRequests] = true;
  if (fetch !== undefined) options[oauth.customFetch] = fetch;
  return options;
}

/** An event worth telling the operator about (a failed revocation, a failed cleanup). */
export interface SessionEvent {
  /** What happened, e.g. `"revocation failed"`. */
  message: string;
  /** The error's `code`, when it has one. */
  code?: string;
}

/** The shared state of one `createSessionAuth` instance. */
export interface Context {
  /** The store, opened on first use. */
  store(): Promise<KvStore>;
  /** The provider's metadata: memory, then KV, then discovery. */
  metadata(): Promise<oauth.AuthorizationServer>;
  /** The JWKS cache in KV, for logout token signatures. */
  jwks: KvJwksCache;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  http: HttpOptions;
  /** The registered redirect URI. */
  redirectUri: string;
  /** The application's origin (the redirect URI's). */
  origin: string;
  /** Where the provider sends the browser after RP-initiated logout. */
  postLogoutRedirectUri: string;
  cookies: CookieNames;
  scope: string;
  authorizationParameters: Record<string, string>;
  /** Push authorization requests even when the server does not require it. */
  pushedAuthorizationRequests: boolean;
  /** Seconds. */
  sessionTtl: number;
  /** Seconds. */
  transactionTtl: number;
  /** Seconds before expiry at which an access token is refreshed. */
  refreshAhead: number;
  /** Milliseconds a refresh lease lasts. */
  leaseMs: number;
  /** The clock, in epoch seconds. */
  now(): number;
  /** Reports an event (never with a token in it). */
  log(event: SessionEvent): void;
}

/** The `code` of an error, when it has a string one. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Discovers the provider's metadata once per isolate and once per `ttl` across isolates: the
 * validated document is kept in KV under the issuer, so a new isolate reads it instead of
 * fetching it.
 */
export function cachedDiscovery(
  issuer: URL,
  store: () => Promise<KvStore>,
  http: HttpOptions,
  ttlSeconds: number,
): () => Promise<oauth.AuthorizationServer> {
  let memory: { as: oauth.AuthorizationServer; until: number } | undefined;
  let pending: Promise<oauth.AuthorizationServer> | undefined;
  return () => {
    if (memory !== undefined && memory.until > Date.now()) return Promise.resolve(memory.as);
    pending ??= (async () => {
      const kv = await store();
      const key = kv.key("discovery", issuer.href);
      const cached = await kv.get<{ as: oauth.AuthorizationServer; until: number }>(key);
      if (cached.value !== null && cached.value.until > Date.now()) {
        memory = cached.value;
        return cached.value.as;
      }
      const as = await oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, http),
      );
      const fresh = { as, until: Date.now() + ttlSeconds * 1000 };
      memory = fresh;
      try {
        await kv.commit((atomic) => atomic.set(key, fresh, { expireIn: ttlSeconds * 1000 }));
      } catch {
        // A cache that cannot be written is no reason to fail; the next isolate discovers again.
      }
      return as;
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/**
 * Makes logging an object that holds a token print a summary instead (`Deno.inspect`,
 * `console.log`, Node's `util.inspect`): the token stays readable as a property.
 */
export function redacted<T extends object>(value: T, name: string): T {
  const summary = () => {
    const shown: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      shown[key] = /^(access|refresh|id)Token$/.test(key) ? "[redacted]" : field;
    }
    return `${name} ${JSON.stringify(shown)}`;
  };
  Object.defineProperty(value, Symbol.for("Deno.customInspect"), { value: summary });
  Object.defineProperty(value, Symbol.for("nodejs.util.inspect.custom"), { value: summary });
  return Object.freeze(value);
}

/** An absolute URL from a `URL` or a string option. */
export function toUrl(value: unknown, name: string): URL {
  if (typeof value !== "string" && !(value instanceof URL)) {
    throw argumentError(`"${name}" must be a URL or a string`, "ERR_INVALID_ARG_TYPE");
  }
  try {
    return new URL(value);
  } catch {
    throw argumentError(`"${name}" must be an absolute URL`);
  }
}

/**
 * Checks the client options every session part takes: a `client` with a non-empty `client_id`
 * and a `clientAuth` function.
 */
export function checkClientOptions(
  options: { client?: { client_id?: unknown }; clientAuth?: unknown },
): void {
  if (typeof options.client?.client_id !== "string" || options.client.client_id === "") {
    throw argumentError('"client.client_id" must be a non-empty string', "ERR_INVALID_ARG_TYPE");
  }
  if (typeof options.clientAuth !== "function") {
    throw argumentError(
      '"clientAuth" must be a client authentication function',
      "ERR_INVALID_ARG_TYPE",
    );
  }
}

const statuses = new WeakMap<object, number>();

/**
 * Marks a library error with the HTTP status the default error page should use (400 for a bad
 * authorization response from the browser; errors from the provider's endpoints default to 502).
 */
export function tagStatus(error: unknown, status: number): unknown {
  if (typeof error === "object" && error !== null) statuses.set(error, status);
  return error;
}

/** The status {@linkcode tagStatus} gave `error`, if any. */
export function taggedStatus(error: unknown): number | undefined {
  return typeof error === "object" && error !== null ? statuses.get(error) : undefined;
}
