/**
 * A client credentials token source (RFC 6749 §4.4) for services on a fleet of isolates: access
 * tokens cached in Deno KV per (issuer, client, scope, resource), reused until shortly before
 * they expire, and at most one grant in flight per key among all isolates (a KV lease; the others
 * wait and read its result). In each isolate the last token is also kept in memory, so a warm
 * isolate answers without touching KV.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import {
  cachedDiscovery,
  checkClientOptions,
  type CustomFetch,
  httpOptions,
  redacted,
  toUrl,
} from "./_context.ts";
import { coordinate, singleflight } from "./_lease.ts";
import { checkPrefix, digest, type KeyPart, KvHandle, type KvRetryOptions } from "./kv.ts";

/** Options of {@linkcode createClientCredentialsTokenSource}. */
export interface ClientCredentialsTokenSourceOptions {
  /** The issuer; its metadata is discovered once and kept in KV for an hour. */
  issuer: URL | string;
  /** The issuer's metadata, when you have it: no discovery then. */
  as?: oauth.AuthorizationServer;
  /** The client. */
  client: oauth.Client;
  /** How the client authenticates, e.g. `oauth.ClientSecretBasic(secret)`. */
  clientAuth: oauth.ClientAuth;
  /** The scope to ask for. */
  scope?: string;
  /** RFC 8707 resource indicator(s). */
  resource?: string | string[];
  /** The database: a `Deno.Kv`, or a path or URL for `Deno.openKv()`. @default Deno.openKv() */
  kv?: Deno.Kv | string;
  /** The key namespace. @default ["authlane"] */
  prefix?: readonly KeyPart[];
  /** Get a new token this many seconds before the current one expires. @default 60 */
  refreshAhead?: number;
  /** Lifetime assumed for a token whose response has no `expires_in`, in seconds. @default 300 */
  defaultExpiresIn?: number;
  /** How long one grant may hold the lease, in milliseconds. @default 30000 */
  leaseMs?: number;
  /** Allow `http:` provider URLs (loopback development only). @default false */
  allowInsecureRequests?: boolean;
  /** A `fetch` replacement for requests to the provider. */
  customFetch?: CustomFetch;
  /** Retries of a locked local KV. */
  retry?: KvRetryOptions;
  /** The clock, in epoch seconds. @default the system clock */
  now?: () => number;
}

/** An access token from the source. */
export interface CachedToken {
  /** The access token. */
  readonly accessToken: string;
  /** The token type, lowercase (`bearer`, `dpop`, ...). */
  readonly tokenType: string;
  /** When it expires, in epoch seconds. */
  readonly expiresAt: number;
  /** The granted scope, when the server said. */
  readonly scope?: string;
}

/** A client credentials token source, made by {@linkcode createClientCredentialsTokenSource}. */
export interface ClientCredentialsTokenSource extends AsyncDisposable {
  /**
   * A token valid for at least `refreshAhead` more seconds: from memory, from KV, or from one
   * grant shared by every isolate.
   *
   * @returns The token.
   * @throws {ResponseBodyError} The provider's OAuth error (e.g. `invalid_scope`).
   * @throws {WWWAuthenticateChallengeError} A 401 challenge (`invalid_client` with Basic).
   * @throws {OperationProcessingError} A response that fails the library's checks.
   * @throws {SessionError} `SESSION_STORE_UNAVAILABLE`, `SESSION_LEASE_TIMEOUT`.
   */
  getToken(): Promise<CachedToken>;
  /**
   * Forgets `token` (a resource server refused it), in memory and in KV, so the next
   * {@linkcode ClientCredentialsTokenSource.getToken} gets a new one. A newer token is kept.
   *
   * @param token The refused access token.
   * @returns When it is forgotten.
   * @throws {SessionError} `SESSION_STORE_UNAVAILABLE`.
   */
  invalidate(token: string): Promise<void>;
  /**
   * Closes the database if the source opened it.
   *
   * @returns When it is closed.
   */
  close(): Promise<void>;
}

/** What KV holds per key. */
interface StoredToken {
  accessToken: string;
  tokenType: string;
  expiresAt: number;
  scope?: string;
}

/**
 * Creates a client credentials token source backed by Deno KV.
 *
 * @param options The provider, the client, what to ask for, and the database.
 * @returns The source.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for bad options.
 * @example Calling an API from a service
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * import { createClientCredentialsTokenSource } from "@authlane/oauth/session";
 * const tokens = createClientCredentialsTokenSource({
 *   issuer: "https://op.example",
 *   client: { client_id: "billing" },
 *   clientAuth: oauth.ClientSecretBasic(Deno.env.get("CLIENT_SECRET")!),
 *   scope: "invoices:read",
 *   kv: await Deno.openKv(),
 * });
 * const { accessToken } = await tokens.getToken();
 * await fetch("https://api.example/invoices", {
 *   headers: { authorization: `Bearer ${accessToken}` },
 * });
 * ```
 */
export function createClientCredentialsTokenSource(
  options: ClientCredentialsTokenSourceOptions,
): ClientCredentialsTokenSource {
  const issuer = toUrl(options?.issuer, "issuer");
  checkClientOptions(options);
  const { client, clientAuth } = options;
  const refreshAhead = options.refreshAhead ?? 60;
  const defaultExpiresIn = options.defaultExpiresIn ?? 300;
  const leaseMs = options.leaseMs ?? 30_000;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const resources = options.resource === undefined ? [] : [options.resource].flat().toSorted();
  const handle = new KvHandle(options.kv, options.retry);
  const prefix = checkPrefix(options.prefix ?? ["authlane"]);
  const store = handle.lazyStore(prefix, options.retry);
  const http = httpOptions(options.allowInsecureRequests, options.customFetch);
  const metadata = options.as !== undefined
    ? () => Promise.resolve(options.as!)
    : cachedDiscovery(issuer, store, http, 3600);
  let id: Promise<string> | undefined;
  // The cache key names what the token is for; hashed to stay short and free of secrets.
  const tokenId = () =>
    id ??= digest(JSON.stringify([issuer.href, client.client_id, options.scope ?? "", resources]));
  let memory: StoredToken | undefined;
  const usable = (token: StoredToken | null | undefined): token is StoredToken =>
    token != null && token.expiresAt - refreshAhead > now();

  async function grant(signal: AbortSignal): Promise<StoredToken> {
    const as = await metadata();
    const parameters = new URLSearchParams();
    if (options.scope !== undefined) parameters.set("scope", options.scope);
    for (const resource of resources) parameters.append("resource", resource);
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, clientAuth, parameters, {
        ...http,
        signal,
      }),
    );
    return {
      accessToken: tokens.access_token,
      tokenType: tokens.token_type,
      expiresAt: now() + (tokens.expires_in ?? defaultExpiresIn),
      ...(tokens.scope !== undefined ? { scope: tokens.scope } : {}),
    };
  }

  async function getToken(): Promise<CachedToken> {
    if (usable(memory)) return toCached(memory);
    const kv = await store();
    const key = kv.key("client_credentials", await tokenId());
    const token = await singleflight(
      `cc ${JSON.stringify(key)}`,
      () =>
        coordinate<StoredToken, StoredToken>({
          store: kv,
          leaseKey: kv.key("client_credentials_lease", key.at(-1)!),
          leaseMs,
          async read() {
            const entry = await kv.get<StoredToken>(key);
            return usable(entry.value)
              ? { done: true, value: entry.value }
              : { done: false, entry };
          },
          async work(entry, lease) {
            const fresh = await grant(lease.signal);
            await kv.commit((atomic) =>
              atomic
                .check(entry)
                .check({ key: lease.key, versionstamp: lease.versionstamp })
                .set(key, fresh, { expireIn: Math.max(1, fresh.expiresAt - now()) * 1000 })
                .delete(lease.key)
            );
            return fresh;
          },
        }),
    );
    memory = token;
    return toCached(token);
  }

  return {
    getToken,
    async invalidate(token) {
      if (memory?.accessToken === token) memory = undefined;
      const kv = await store();
      const key = kv.key("client_credentials", await tokenId());
      const entry = await kv.get<StoredToken>(key);
      if (entry.value?.accessToken === token) {
        await kv.commit((atomic) => atomic.check(entry).delete(key));
      }
    },
    close: () => handle.close(),
    [Symbol.asyncDispose]: () => handle.close(),
  };
}

function toCached(token: StoredToken): CachedToken {
  const cached: CachedToken = {
    accessToken: token.accessToken,
    tokenType: token.tokenType,
    expiresAt: token.expiresAt,
    ...(token.scope !== undefined ? { scope: token.scope } : {}),
  };
  return redacted(cached, "CachedToken");
}
