/**
 * Deno KV access for the session layer: every read and atomic commit goes through
 * {@linkcode withKvRetry}, which retries the transient `TypeError: database is locked` that a
 * local SQLite KV file raises when several processes write at once, a bounded number of times and
 * with jittered backoff, and turns anything else (a closed or unreachable KV, retries used up)
 * into a `SessionError` with code `SESSION_STORE_UNAVAILABLE`.
 *
 * Retrying is safe: a commit that failed on the lock did not happen, and every commit of this
 * layer carries versionstamp checks that are evaluated again on the retry. A retry therefore never
 * writes twice, never loses a session and never starts a second refresh.
 *
 * Also here: the layer's key namespace ({@linkcode KvStore}, under a prefix the application
 * chooses), random identifiers and their SHA-256 digests. Cookies carry a random identifier; KV
 * keys carry only its digest, so reading the store does not hand out usable cookies.
 *
 * @module
 */

import { argumentError, SESSION_STORE_UNAVAILABLE, SessionError } from "./errors.ts";

/** Options of {@linkcode withKvRetry}: how often and how long to retry a locked database. */
export interface KvRetryOptions {
  /** Attempts in all, the first included. @default 10 */
  attempts?: number;
  /** Upper bound of the first wait, in milliseconds; it doubles per attempt. @default 5 */
  baseDelayMs?: number;
  /** Upper bound of any one wait, in milliseconds. @default 250 */
  maxDelayMs?: number;
  /** Called before each retry with the attempt that failed (1-based); for metrics. */
  onRetry?: (attempt: number) => void;
}

/**
 * Whether `error` is the transient lock error of a local SQLite Deno KV (`TypeError: database is
 * locked`), which a retry resolves.
 *
 * @param error Anything thrown by a `Deno.Kv` method.
 * @returns `true` for the lock error only.
 * @example Usage
 * ```ts
 * import { isDatabaseLocked } from "@authlane/oauth/session";
 * console.log(isDatabaseLocked(new TypeError("database is locked"))); // true
 * ```
 */
export function isDatabaseLocked(error: unknown): boolean {
  return error instanceof TypeError && /database is locked/i.test(error.message);
}

/**
 * Runs a Deno KV operation, retrying it while the database is locked.
 *
 * Each retry waits a random time between 0 and `min(maxDelayMs, baseDelayMs * 2^attempt)` (full
 * jitter, so processes that collided do not collide again in step). Any other error, and the lock
 * error once `attempts` are used up, becomes a {@linkcode SessionError} with code
 * `SESSION_STORE_UNAVAILABLE` whose `cause` is the KV error.
 *
 * @param operation The KV call; it is called again on each retry, so build atomic operations
 *   inside it.
 * @param options Attempts and delays.
 * @returns What `operation` returns.
 * @throws {SessionError} `SESSION_STORE_UNAVAILABLE` when KV fails.
 * @example Usage
 * ```ts
 * import { withKvRetry } from "@authlane/oauth/session";
 * const kv = await Deno.openKv(":memory:");
 * const result = await withKvRetry(() => kv.atomic().set(["visits"], 1).commit());
 * console.log(result.ok);
 * kv.close();
 * ```
 */
export async function withKvRetry<T>(
  operation: () => Promise<T>,
  options: KvRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 10;
  const base = options.baseDelayMs ?? 5;
  const max = options.maxDelayMs ?? 250;
  for (let attempt = 1;; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof SessionError) throw error;
      if (!isDatabaseLocked(error) || attempt >= attempts) {
        throw new SessionError(
          isDatabaseLocked(error)
            ? `Deno KV stayed locked through ${attempts} attempts`
            : "Deno KV operation failed",
          SESSION_STORE_UNAVAILABLE,
          { cause: error },
        );
      }
      options.onRetry?.(attempt);
      await sleep(Math.random() * Math.min(max, base * 2 ** attempt));
    }
  }
}

/**
 * Waits `ms` milliseconds.
 *
 * @param ms How long.
 * @returns When done.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One key part: what `Deno.KvKey` is made of. */
export type KeyPart = Deno.KvKeyPart;

/**
 * The layer's view of a `Deno.Kv`: keys under a prefix, reads and commits through
 * {@linkcode withKvRetry}.
 */
export class KvStore {
  /** The database. */
  readonly kv: Deno.Kv;
  /** The namespace every key of this layer starts with. */
  readonly prefix: readonly KeyPart[];
  /** Retry settings. */
  readonly retry: KvRetryOptions;

  /**
   * Wraps a database for the layer.
   *
   * @param kv The database.
   * @param prefix The key namespace.
   * @param retry Retry settings.
   */
  constructor(kv: Deno.Kv, prefix: readonly KeyPart[], retry: KvRetryOptions = {}) {
    this.kv = kv;
    this.prefix = prefix;
    this.retry = retry;
  }

  /**
   * A key under the prefix.
   *
   * @param parts The parts after the prefix.
   * @returns The key.
   */
  key(...parts: KeyPart[]): Deno.KvKey {
    return [...this.prefix, ...parts];
  }

  /**
   * Reads one entry.
   *
   * @param key The key.
   * @returns The entry (`value` null when absent).
   * @throws {SessionError} `SESSION_STORE_UNAVAILABLE`.
   */
  get<T>(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<T>> {
    return withKvRetry(() => this.kv.get<T>(key, { consistency: "strong" }), this.retry);
  }

  /**
   * Lists up to `limit` entries under `prefix`.
   *
   * @param prefix The key prefix.
   * @param limit The most entries returned.
   * @returns The entries, in key order.
   * @throws {SessionError} `SESSION_STORE_UNAVAILABLE`.
   */
  list<T>(prefix: Deno.KvKey, limit = 500): Promise<Deno.KvEntry<T>[]> {
    return withKvRetry(async () => {
      const entries: Deno.KvEntry<T>[] = [];
      for await (const entry of this.kv.list<T>({ prefix }, { limit, consistency: "strong" })) {
        entries.push(entry);
      }
      return entries;
    }, this.retry);
  }

  /**
   * Commits the atomic operation `build` makes (built again on each retry): the commit's
   * versionstamp (that of every entry it set), or `null` when one of its checks failed.
   *
   * @param build Adds the checks and mutations to a fresh atomic operation.
   * @returns The versionstamp, or `null`.
   * @throws {SessionError} `SESSION_STORE_UNAVAILABLE`.
   */
  async commit(
    build: (atomic: Deno.AtomicOperation) => Deno.AtomicOperation,
  ): Promise<string | null> {
    const result = await withKvRetry(() => build(this.kv.atomic()).commit(), this.retry);
    return result.ok ? result.versionstamp : null;
  }
}

/**
 * Validates a key prefix given by the application.
 *
 * @param prefix The `prefix` option.
 * @returns A frozen copy.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when it is not an array of key parts.
 */
export function checkPrefix(prefix: unknown): readonly KeyPart[] {
  if (
    !Array.isArray(prefix) ||
    !prefix.every((part) =>
      ["string", "number", "bigint", "boolean"].includes(typeof part) || part instanceof Uint8Array
    )
  ) {
    throw argumentError('"prefix" must be an array of Deno KV key parts', "ERR_INVALID_ARG_TYPE");
  }
  return Object.freeze([...prefix]);
}

/** A Deno KV given as a database or as what `Deno.openKv()` takes; opened on first use. */
export class KvHandle {
  #given: Deno.Kv | undefined;
  #path: string | undefined;
  #opened: Promise<Deno.Kv> | undefined;
  #owned = false;
  #retry: KvRetryOptions | undefined;

  /**
   * Holds a database, or what opens one.
   *
   * @param kv A `Deno.Kv`, a path or URL for `Deno.openKv()`, or undefined for the default.
   * @param retry The bounded retry of `database is locked` errors, opening included (several
   *   processes opening one SQLite file at once can meet the lock).
   * @throws {TypeError} `ERR_INVALID_ARG_TYPE` for anything else.
   */
  constructor(kv: Deno.Kv | string | undefined, retry?: KvRetryOptions) {
    this.#retry = retry;
    if (kv !== undefined && typeof kv !== "string" && typeof kv?.atomic !== "function") {
      throw argumentError('"kv" must be a Deno.Kv, a path or a URL', "ERR_INVALID_ARG_TYPE");
    }
    if (typeof kv === "string") this.#path = kv;
    else this.#given = kv;
  }

  /**
   * The database, opening it the first time.
   *
   * @returns The database.
   * @throws {SessionError} `SESSION_STORE_UNAVAILABLE` when it cannot be opened.
   */
  get(): Promise<Deno.Kv> {
    if (this.#given !== undefined) return Promise.resolve(this.#given);
    this.#opened ??= (async () => {
      try {
        const kv = await withKvRetry(() => Deno.openKv(this.#path), this.#retry);
        this.#owned = true;
        return kv;
      } catch (error) {
        this.#opened = undefined;
        throw new SessionError("Deno KV could not be opened", SESSION_STORE_UNAVAILABLE, {
          cause: error,
        });
      }
    })();
    return this.#opened;
  }

  /**
   * Closes the database if this handle opened it.
   *
   * @returns When it is closed.
   */
  async close(): Promise<void> {
    const opened = this.#opened;
    this.#opened = undefined;
    if (opened === undefined) return;
    const kv = await opened.catch(() => undefined);
    if (kv !== undefined && this.#owned) kv.close();
  }

  /**
   * A getter for one {@link KvStore} on this database, opened on first use; a failed open is not
   * remembered, so the next call tries again.
   *
   * @param prefix The key prefix of every record.
   * @param retry The bounded retry of `database is locked` errors.
   * @returns The getter.
   */
  lazyStore(prefix: readonly KeyPart[], retry?: KvRetryOptions): () => Promise<KvStore> {
    let store: Promise<KvStore> | undefined;
    return () =>
      store ??= this.get().then((kv) => new KvStore(kv, prefix, retry)).catch((error) => {
        store = undefined;
        throw error;
      });
  }
}

const encoder = new TextEncoder();

/**
 * base64url without padding (RFC 4648 §5).
 *
 * @param bytes The bytes.
 * @returns The text.
 */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * 256 random bits, base64url: 43 characters.
 *
 * @returns The id.
 */
export function randomId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** What {@linkcode randomId} returns. */
export const ID_PATTERN: RegExp = /^[A-Za-z0-9_-]{43}$/;

/**
 * The SHA-256 digest of `value`, base64url: what KV keys hold instead of cookie values.
 *
 * @param value The text.
 * @returns The digest.
 */
export async function digest(value: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value))));
}
