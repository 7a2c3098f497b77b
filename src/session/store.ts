/**
 * Sessions in Deno KV, and the refresh of their tokens without races across isolates.
 *
 * A session is one KV entry under the SHA-256 digest of the random id in the session cookie, plus
 * two index entries (by the ID token's `sid` and by its `sub`) for back-channel logout. The three
 * are written and deleted together in one atomic commit, so a session is never half-written, and
 * all carry the session's expiry (`expireIn`), so abandoned sessions do not accumulate.
 *
 * Refresh (RFC 6749 §6): when a lookup finds the access token within `refreshAhead` seconds of its
 * expiry, exactly one refresh grant is sent however many requests, in however many processes,
 * found it at once. In each isolate concurrent lookups share one promise; across isolates a KV
 * lease decides who sends the grant (see `_lease.ts`), and the grant's result is written with the
 * session's versionstamp checked and the lease deleted in the same commit. The others wait and
 * read the new tokens. With rotating refresh tokens this matters: a provider that sees a used
 * refresh token again revokes the whole grant (OAuth 2.0 Security BCP §4.14.2).
 *
 * A refused refresh (`invalid_grant`) ends the session: the entry is replaced by a short-lived
 * marker, so every isolate then reports `SESSION_REFRESH_REFUSED` for it, and its indexes go.
 * Other failures (the provider unreachable, a 5xx) keep the session and rethrow.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { type Context, redacted } from "./_context.ts";
import { coordinate, singleflight } from "./_lease.ts";
import {
  SESSION_COOKIE_INVALID,
  SESSION_EXPIRED,
  SESSION_REFRESH_REFUSED,
  SESSION_UNKNOWN,
  SessionError,
} from "./errors.ts";
import { digest, ID_PATTERN, type KvStore, randomId } from "./kv.ts";

/** How long the marker of a session ended by a refused refresh stays, in milliseconds. */
const ENDED_MARKER_MS = 5 * 60 * 1000;

/** A signed-in session, as {@linkcode SessionAuth.getSession} returns it. */
export interface Session {
  /** The End-User's subject identifier at the provider. */
  readonly sub: string;
  /** The provider's session id (ID token `sid`), when it sent one. */
  readonly sid?: string;
  /** The claims of the ID token, validated per OpenID Connect Core §3.1.3.7. */
  readonly claims: oauth.IDToken;
  /** The access token; fresh for at least `refreshAhead` seconds. Never send it to the browser. */
  readonly accessToken: string;
  /** The access token's type, lowercase (`bearer`, `dpop`, ...). */
  readonly tokenType: string;
  /** When the access token expires, in epoch seconds. */
  readonly expiresAt: number;
  /** The granted scope, when the provider said. */
  readonly scope?: string;
  /** When the user signed in, in epoch seconds. */
  readonly createdAt: number;
  /** When the session ends whatever happens, in epoch seconds. */
  readonly endsAt: number;
  /** How many times the tokens were refreshed. */
  readonly refreshes: number;
}

/** What KV holds for a session. */
export interface SessionRecord {
  sub: string;
  sid?: string;
  claims: oauth.IDToken;
  idToken: string;
  accessToken: string;
  tokenType: string;
  refreshToken?: string;
  scope?: string;
  expiresAt: number;
  createdAt: number;
  endsAt: number;
  refreshes: number;
}

/** What KV holds for a session ended by a refused refresh, for a few minutes. */
interface EndedMarker {
  ended: "refresh_refused";
  /** The OAuth error the provider gave. */
  error: string;
}

type Stored = SessionRecord | EndedMarker;

/** What an index entry holds: enough to find every key of the session. */
interface IndexValue {
  sub: string;
  sid?: string;
}

/**
 * The keys of a session: its record, its lease and its index entries.
 *
 * @param store The store.
 * @param issuer The provider's issuer (indexes are per issuer).
 * @param hash The digest of the session cookie's value.
 * @param index The session's `sub` and `sid`.
 * @returns The keys.
 */
export function sessionKeys(
  store: KvStore,
  issuer: string,
  hash: string,
  index: IndexValue,
): { record: Deno.KvKey; lease: Deno.KvKey; indexes: Deno.KvKey[] } {
  return {
    record: store.key("session", hash),
    lease: store.key("session_lease", hash),
    indexes: [
      store.key("session_by_sub", issuer, index.sub, hash),
      ...(index.sid !== undefined ? [store.key("session_by_sid", issuer, index.sid, hash)] : []),
    ],
  };
}

/**
 * Adds the deletion of every key of a session to an atomic operation.
 *
 * @param atomic The operation.
 * @param keys The session's keys.
 * @returns The operation.
 */
export function deleteSessionKeys(
  atomic: Deno.AtomicOperation,
  keys: ReturnType<typeof sessionKeys>,
): Deno.AtomicOperation {
  atomic.delete(keys.record).delete(keys.lease);
  for (const key of keys.indexes) atomic.delete(key);
  return atomic;
}

/**
 * Stores a new session under a new random id, with its indexes, in one commit.
 *
 * @param ctx The configuration.
 * @param record The session.
 * @returns The id, for the session cookie.
 * @throws {SessionError} `SESSION_STORE_UNAVAILABLE`.
 */
export async function createSession(ctx: Context, record: SessionRecord): Promise<string> {
  const [store, as] = await Promise.all([ctx.store(), ctx.metadata()]);
  const expireIn = (record.endsAt - ctx.now()) * 1000;
  while (true) {
    const id = randomId();
    const keys = sessionKeys(store, as.issuer, await digest(id), record);
    const index: IndexValue = { sub: record.sub, ...(record.sid ? { sid: record.sid } : {}) };
    const committed = await store.commit((atomic) => {
      atomic.check({ key: keys.record, versionstamp: null }).set(keys.record, record, {
        expireIn,
      });
      for (const key of keys.indexes) atomic.set(key, index, { expireIn });
      return atomic;
    });
    // 256 random bits do not collide; the check only makes sure of it.
    if (committed !== null) return id;
  }
}

/**
 * The digest of a session cookie value, after checking its shape.
 *
 * @param cookie The cookie's value.
 * @returns Its SHA-256 digest, base64url.
 * @throws {SessionError} `SESSION_COOKIE_INVALID` for a value this layer does not issue.
 */
export async function sessionHash(cookie: string): Promise<string> {
  if (!ID_PATTERN.test(cookie)) {
    throw new SessionError(
      "the session cookie is not a value this layer issues",
      SESSION_COOKIE_INVALID,
    );
  }
  return await digest(cookie);
}

/**
 * Reads a session by cookie value, without refreshing: the record and its entry.
 *
 * @param ctx The configuration.
 * @param cookie The session cookie's value.
 * @returns The digest and the KV entry.
 * @throws {SessionError} `SESSION_COOKIE_INVALID`, `SESSION_UNKNOWN`, `SESSION_REFRESH_REFUSED`.
 */
export async function readSession(
  ctx: Context,
  cookie: string,
): Promise<{ hash: string; entry: Deno.KvEntry<SessionRecord> }> {
  const hash = await sessionHash(cookie);
  const store = await ctx.store();
  const entry = await store.get<Stored>(store.key("session", hash));
  return { hash, entry: live(ctx, entry) };
}

/** The entry when it holds a live session; a typed error otherwise. */
function live(ctx: Context, entry: Deno.KvEntryMaybe<Stored>): Deno.KvEntry<SessionRecord> {
  const value = entry.value;
  if (value !== null && "ended" in value) {
    throw new SessionError(
      "the provider refused to refresh this session, which has ended",
      SESSION_REFRESH_REFUSED,
      { cause: { error: value.error } },
    );
  }
  // KV's expireIn is not exact; the record's own end is.
  if (value === null || value.endsAt <= ctx.now()) {
    throw new SessionError("the session cookie names no live session", SESSION_UNKNOWN);
  }
  return entry as Deno.KvEntry<SessionRecord>;
}

/**
 * The session a cookie names, with an access token fresh for `refreshAhead` seconds: refreshed
 * first, once across isolates, when it is not.
 *
 * @param ctx The configuration.
 * @param cookie The session cookie's value.
 * @returns The session.
 * @throws {SessionError} `SESSION_COOKIE_INVALID`, `SESSION_UNKNOWN`, `SESSION_REFRESH_REFUSED`,
 *   `SESSION_EXPIRED`, `SESSION_STORE_UNAVAILABLE`, `SESSION_LEASE_TIMEOUT`.
 * @throws {ResponseBodyError} A refresh refused with another error than `invalid_grant`.
 * @throws {OperationProcessingError} A refresh response that fails the library's checks.
 */
export async function freshSession(ctx: Context, cookie: string): Promise<Session> {
  const { hash, entry } = await readSession(ctx, cookie);
  if (isFresh(ctx, entry.value)) return toSession(entry.value);
  const record = await singleflight(`session ${hash}`, () => refresh(ctx, hash));
  return toSession(record);
}

function isFresh(ctx: Context, record: SessionRecord): boolean {
  return record.expiresAt - ctx.refreshAhead > ctx.now();
}

/** Refreshes the session's tokens under its lease, or waits for the isolate that does. */
async function refresh(ctx: Context, hash: string): Promise<SessionRecord> {
  const [store, as] = await Promise.all([ctx.store(), ctx.metadata()]);
  const recordKey = store.key("session", hash);
  return await coordinate<SessionRecord, Stored>({
    store,
    leaseKey: store.key("session_lease", hash),
    leaseMs: ctx.leaseMs,
    async read() {
      const entry = await store.get<Stored>(recordKey);
      const current = live(ctx, entry);
      return isFresh(ctx, current.value)
        ? { done: true, value: current.value }
        : { done: false, entry: current };
    },
    async work(entry, lease) {
      const record = entry.value as SessionRecord;
      const keys = sessionKeys(store, as.issuer, hash, record);
      if (record.refreshToken === undefined) {
        await store.commit((atomic) => deleteSessionKeys(atomic.check(entry), keys));
        throw new SessionError(
          "the access token expired and the session holds no refresh token",
          SESSION_EXPIRED,
        );
      }
      let tokens: oauth.TokenEndpointResponse;
      try {
        tokens = await oauth.processRefreshTokenResponse(
          as,
          ctx.client,
          await oauth.refreshTokenGrantRequest(
            as,
            ctx.client,
            ctx.clientAuth,
            record.refreshToken,
            {
              ...ctx.http,
              signal: lease.signal,
            },
          ),
        );
      } catch (error) {
        if (error instanceof oauth.ResponseBodyError && error.error === "invalid_grant") {
          await endRefused(store, entry, keys, error.error);
          throw new SessionError(
            "the provider refused to refresh this session, which has ended",
            SESSION_REFRESH_REFUSED,
            { cause: { error: error.error, error_description: error.error_description } },
          );
        }
        throw error;
      }
      const claims = oauth.getValidatedIdTokenClaims(tokens);
      // OpenID Connect Core §12.2: a refreshed ID token is about the same End-User.
      if (claims !== undefined && (claims.sub !== record.sub || claims.iss !== record.claims.iss)) {
        await endRefused(store, entry, keys, "invalid_grant");
        throw new SessionError(
          'the refreshed ID token names another "sub" or "iss"; the session has ended',
          SESSION_REFRESH_REFUSED,
          { cause: { claim: claims.sub !== record.sub ? "sub" : "iss" } },
        );
      }
      const now = ctx.now();
      const next: SessionRecord = {
        ...record,
        accessToken: tokens.access_token,
        tokenType: tokens.token_type,
        expiresAt: now + (tokens.expires_in ?? 300),
        refreshToken: tokens.refresh_token ?? record.refreshToken,
        idToken: tokens.id_token ?? record.idToken,
        claims: claims ?? record.claims,
        refreshes: record.refreshes + 1,
        ...(tokens.scope !== undefined ? { scope: tokens.scope } : {}),
      };
      const written = await store.commit((atomic) =>
        atomic
          .check(entry)
          .check({ key: lease.key, versionstamp: lease.versionstamp })
          .set(recordKey, next, { expireIn: Math.max(1, record.endsAt - now) * 1000 })
          .delete(lease.key)
      );
      if (written === null) {
        // The session changed under the lease: it was signed out or logged out meanwhile.
        const current = live(ctx, await store.get<Stored>(recordKey));
        return current.value;
      }
      return next;
    },
  });
}

/** Replaces the session by the refused-refresh marker and deletes its indexes. */
async function endRefused(
  store: KvStore,
  entry: Deno.KvEntryMaybe<Stored>,
  keys: ReturnType<typeof sessionKeys>,
  error: string,
): Promise<void> {
  await store.commit((atomic) => {
    deleteSessionKeys(atomic.check(entry), keys);
    return atomic.set(keys.record, { ended: "refresh_refused", error } satisfies EndedMarker, {
      expireIn: ENDED_MARKER_MS,
    });
  });
}

/**
 * Deletes the session a cookie names, with its indexes, and returns what it held (for sign-out).
 *
 * @param ctx The configuration.
 * @param cookie The session cookie's value.
 * @returns The deleted record, or `undefined` when the cookie named no live session.
 * @throws {SessionError} `SESSION_STORE_UNAVAILABLE`.
 */
export async function deleteSession(
  ctx: Context,
  cookie: string,
): Promise<SessionRecord | undefined> {
  let read;
  try {
    read = await readSession(ctx, cookie);
  } catch (error) {
    if (error instanceof SessionError && error.signedOut) return undefined;
    throw error;
  }
  const [store, as] = await Promise.all([ctx.store(), ctx.metadata()]);
  const keys = sessionKeys(store, as.issuer, read.hash, read.entry.value);
  const deleted = await store.commit((atomic) => deleteSessionKeys(atomic.check(read.entry), keys));
  // Changed meanwhile (refreshed): delete whatever it is now.
  if (deleted === null) return await deleteSession(ctx, cookie);
  return read.entry.value;
}

/**
 * Builds the application's view of a record: no refresh token, no ID token, redacted in logs.
 *
 * @param record The stored session.
 * @returns The frozen {@linkcode Session}.
 */
export function toSession(record: SessionRecord): Session {
  return redacted<Session>({
    sub: record.sub,
    ...(record.sid !== undefined ? { sid: record.sid } : {}),
    claims: record.claims,
    accessToken: record.accessToken,
    tokenType: record.tokenType,
    expiresAt: record.expiresAt,
    ...(record.scope !== undefined ? { scope: record.scope } : {}),
    createdAt: record.createdAt,
    endsAt: record.endsAt,
    refreshes: record.refreshes,
  }, "Session");
}
