/**
 * A JWKS cache in Deno KV: the authorization server's JSON Web Key Set (RFC 7517 §5) kept per
 * issuer, so a new isolate verifies signatures without fetching it again, and fetched by exactly
 * one isolate at a time when it must be.
 *
 * It plugs into every library function that verifies a signature against the server's keys
 * (`validateJwtAccessToken`, `validateLogoutToken`, `validateApplicationLevelSignature`,
 * `validateJwtAuthResponse`, ...) through their `[jwksCache]` and `[customFetch]` options:
 * {@linkcode KvJwksCache.options} hands the library the stored key set as its `jwksCache`, and a
 * `customFetch` that answers the library's JWKS requests:
 *
 * - from KV, when another isolate fetched the set since (or within the last 30 seconds, the
 *   library's own refetch cooldown for an unknown `kid`);
 * - otherwise from the network, under a KV lease, so that among all isolates one fetch is in
 *   flight per issuer; the others wait for it and read its result.
 *
 * The response's `Cache-Control: max-age` says how long the set stays fresh, clamped to
 * `[minMaxAge, maxMaxAge]` (default 60 s to 24 h); without one, or with `no-cache` / `no-store`,
 * the set is fresh for `defaultMaxAge` (10 minutes, the library's own cache lifetime) or
 * `minMaxAge` respectively. An unknown `kid` still triggers the library's refetch, now shared.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import type { CustomFetch } from "./_context.ts";
import { coordinate, singleflight } from "./_lease.ts";
import { checkPrefix, type KeyPart, type KvRetryOptions, KvStore } from "./kv.ts";
import { argumentError } from "./errors.ts";

/** Seconds: the library refetches on an unknown `kid` only when its copy is older than this. */
const LIBRARY_REFETCH_COOLDOWN = 30;
/** Largest key set kept in KV (a KV value holds at most 64 KiB). */
const MAX_STORED_BYTES = 60 * 1024;

/** Options of {@linkcode createKvJwksCache}. */
export interface KvJwksCacheOptions {
  /** The database. */
  kv: Deno.Kv;
  /** The key namespace. @default ["authlane"] */
  prefix?: readonly KeyPart[];
  /** Shortest freshness, in seconds, whatever `max-age` says. @default 60 */
  minMaxAge?: number;
  /** Longest freshness, in seconds, whatever `max-age` says. @default 86400 */
  maxMaxAge?: number;
  /** Freshness without a `max-age`, in seconds. @default 600 */
  defaultMaxAge?: number;
  /** How long one fetch may hold the lease, in milliseconds. @default 15000 */
  leaseMs?: number;
  /** The `fetch` for the JWKS request. @default globalThis.fetch */
  fetch?: CustomFetch;
  /** Retries of a locked local KV. */
  retry?: KvRetryOptions;
  /** The clock freshness is judged by, in epoch seconds. @default the system clock */
  now?: () => number;
}

/**
 * What {@linkcode KvJwksCache.options} returns: spread it into the options of a library function
 * that verifies signatures.
 */
export interface KvJwksCacheRequestOptions {
  /** The key set from KV for the library to start from (`{}` when none is fresh). */
  [oauth.jwksCache]: oauth.JWKSCacheInput;
  /** Answers the library's JWKS requests from KV or with one fetch across isolates. */
  [oauth.customFetch]: CustomFetch;
}

/** A JWKS cache in Deno KV, made by {@linkcode createKvJwksCache}. */
export interface KvJwksCache {
  /**
   * Options for one library call that may verify a signature against `as`'s keys.
   *
   * @param as The authorization server (its `issuer` and `jwks_uri`).
   * @returns `[jwksCache]` and `[customFetch]`; spread them after your own options.
   * @throws {SessionError} `SESSION_STORE_UNAVAILABLE` when KV fails.
   */
  options(as: oauth.AuthorizationServer): Promise<KvJwksCacheRequestOptions>;
}

/** What KV holds per issuer. */
interface StoredJwks {
  /** The `jwks_uri` it came from. */
  uri: string;
  jwks: oauth.JWKS;
  /** Epoch seconds. */
  fetchedAt: number;
  /** Epoch seconds. */
  freshUntil: number;
}

/**
 * Creates a JWKS cache in Deno KV.
 *
 * @param options The database, the key namespace and the freshness bounds.
 * @returns The cache; call {@linkcode KvJwksCache.options} for each verification.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for bad options.
 * @example A resource server on Deno Deploy
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * import { createKvJwksCache } from "@authlane/oauth/session";
 * declare const as: oauth.AuthorizationServer;
 * const jwks = createKvJwksCache({ kv: await Deno.openKv() });
 * Deno.serve(async (request) => {
 *   const claims = await oauth.validateJwtAccessToken(
 *     as,
 *     request,
 *     "https://api.example",
 *     await jwks.options(as),
 *   );
 *   return Response.json({ sub: claims.sub });
 * });
 * ```
 */
export function createKvJwksCache(options: KvJwksCacheOptions): KvJwksCache {
  if (typeof options?.kv?.atomic !== "function") {
    throw argumentError('"kv" must be a Deno.Kv', "ERR_INVALID_ARG_TYPE");
  }
  const minMaxAge = positive(options.minMaxAge ?? 60, "minMaxAge");
  const maxMaxAge = positive(options.maxMaxAge ?? 86_400, "maxMaxAge");
  const defaultMaxAge = positive(options.defaultMaxAge ?? 600, "defaultMaxAge");
  const leaseMs = positive(options.leaseMs ?? 15_000, "leaseMs");
  if (minMaxAge > maxMaxAge) throw argumentError('"minMaxAge" must not exceed "maxMaxAge"');
  const store = new KvStore(options.kv, checkPrefix(options.prefix ?? ["authlane"]), options.retry);
  const upstream: CustomFetch = options.fetch ??
    ((url, init) => fetch(url, init as RequestInit));
  const memory = new Map<string, StoredJwks>();
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));

  async function current(issuer: string): Promise<StoredJwks | undefined> {
    const remembered = memory.get(issuer);
    if (remembered !== undefined && remembered.freshUntil > now()) return remembered;
    const stored = (await store.get<StoredJwks>(store.key("jwks", issuer))).value ?? undefined;
    if (stored !== undefined && stored.freshUntil > now()) {
      memory.set(issuer, stored);
      return stored;
    }
    return undefined;
  }

  function freshness(response: Response): number {
    const cacheControl = (response.headers.get("cache-control") ?? "").toLowerCase();
    if (/(^|[,\s])(no-store|no-cache)([,\s=]|$)/.test(cacheControl)) return minMaxAge;
    const match = /(?:^|[,\s])max-age\s*=\s*"?(\d+)"?/.exec(cacheControl);
    const maxAge = match === null ? defaultMaxAge : Number(match[1]);
    return Math.min(maxMaxAge, Math.max(minMaxAge, maxAge));
  }

  /** One fetch across isolates; returns what the library should see. */
  function fetchShared(
    as: oauth.AuthorizationServer,
    url: string,
    init: oauth.CustomFetchOptions<string, unknown>,
    handed: number | undefined,
  ): Promise<Response> {
    const key = store.key("jwks", as.issuer);
    return singleflight(
      `jwks ${JSON.stringify(key)}`,
      () =>
        coordinate<StoredJwks | Response, StoredJwks>({
          store,
          leaseKey: store.key("jwks_lease", as.issuer),
          leaseMs,
          async read() {
            const entry = await store.get<StoredJwks>(key);
            const stored = entry.value;
            const usable = stored !== null && stored.uri === url && (
              // The library had nothing: any fresh set will do.
              (handed === undefined && stored.freshUntil > now()) ||
              // It had a set and found no key: a newer set, or none if refetched too recently.
              (handed !== undefined &&
                (stored.fetchedAt > handed || now() - stored.fetchedAt < LIBRARY_REFETCH_COOLDOWN))
            );
            return usable ? { done: true, value: stored } : { done: false, entry };
          },
          async work(entry, lease) {
            const signal = init.signal === undefined
              ? lease.signal
              : AbortSignal.any([init.signal, lease.signal]);
            const response = await upstream(url, { ...init, signal });
            const text = await response.text();
            const passThrough = new Response(text, {
              status: response.status,
              statusText: response.statusText,
              headers: response.headers,
            });
            if (response.status !== 200 || text.length > MAX_STORED_BYTES) return passThrough;
            let jwks: unknown;
            try {
              jwks = JSON.parse(text);
            } catch {
              return passThrough; // the library reports the parse error
            }
            if (!isJwks(jwks)) return passThrough;
            const fetchedAt = now();
            const stored: StoredJwks = {
              uri: url,
              jwks,
              fetchedAt,
              freshUntil: fetchedAt + freshness(response),
            };
            await store.commit((atomic) =>
              atomic
                .check(entry)
                .check({ key: lease.key, versionstamp: lease.versionstamp })
                .set(key, stored, { expireIn: (stored.freshUntil - fetchedAt) * 1000 })
                .delete(lease.key)
            );
            await passThrough.body?.cancel();
            return stored;
          },
        }),
    ).then((result) => {
      if (result instanceof Response) return result;
      memory.set(as.issuer, result);
      return Response.json(result.jwks);
    });
  }

  return {
    async options(as) {
      if (typeof as?.issuer !== "string") {
        throw argumentError('"as" must be authorization server metadata', "ERR_INVALID_ARG_TYPE");
      }
      const stored = await current(as.issuer);
      const handed = stored?.fetchedAt;
      // The library expires its copy after 10 minutes and refetches on an unknown kid once its
      // copy is 30 s old; this copy is fresh by the rules above, so hand it over as 60 s old.
      const cache: oauth.JWKSCacheInput = stored === undefined
        ? {}
        : { jwks: stored.jwks, uat: Math.floor(Date.now() / 1000) - 2 * LIBRARY_REFETCH_COOLDOWN };
      const customFetch: CustomFetch = (url, init) =>
        url === as.jwks_uri && init.method === "GET"
          ? fetchShared(as, url, init, handed)
          : upstream(url, init);
      return { [oauth.jwksCache]: cache, [oauth.customFetch]: customFetch };
    },
  };
}

function isJwks(value: unknown): value is oauth.JWKS {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Array.isArray((value as { keys?: unknown }).keys);
}

function positive(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw argumentError(`"${name}" must be a positive number`);
  }
  return value;
}
