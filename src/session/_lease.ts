/**
 * One piece of work at a time across isolates: a lease in Deno KV, taken with an atomic
 * check-and-set, held for a bounded time, and shared in-process so concurrent callers in one
 * isolate wait on one promise instead of polling KV each.
 *
 * {@linkcode coordinate} is the loop that the session refresh, the JWKS cache and the client
 * credentials token source run:
 *
 * 1. read the state; done when it needs no work (a fresh token, a fresh JWKS);
 * 2. when another isolate holds a live lease, wait (jittered polling) and go to 1;
 * 3. otherwise take the lease in one atomic commit that also checks the state entry's
 *    versionstamp, so a state written between steps 1 and 3 makes the take fail and the loop
 *    reads it instead of doing the work twice;
 * 4. do the work; it writes its result with the state's versionstamp checked and the lease deleted
 *    in the same commit.
 *
 * A lease carries its own expiry (`until`), so a holder that crashed blocks the others for at most
 * `leaseMs`; after that the next caller takes it over. The work is given a deadline well inside the
 * lease, so a live holder finishes (or gives up) before anyone may take over.
 *
 * @module
 */

import { SESSION_LEASE_TIMEOUT, SessionError } from "./errors.ts";
import { type KvStore, randomId, sleep } from "./kv.ts";

/** What a lease holds in KV. */
interface LeaseRecord {
  /** Random id of the holder. */
  holder: string;
  /** When the lease ends, in epoch milliseconds. */
  until: number;
}

/** What a state read says: no work needed (with the value), or work needed on `entry`. */
export type StateRead<T, S> =
  | { done: true; value: T }
  | { done: false; entry: Deno.KvEntryMaybe<S> };

/** A lease this isolate holds. */
export interface HeldLease {
  /** The lease key. */
  key: Deno.KvKey;
  /** The lease entry's versionstamp: check it in the commit that ends the work. */
  versionstamp: string;
  /** Aborts when the work must stop to stay inside the lease. */
  signal: AbortSignal;
}

/** Options of {@linkcode coordinate}. */
export interface CoordinateOptions<T, S> {
  /** The store. */
  store: KvStore;
  /** The lease key. */
  leaseKey: Deno.KvKey;
  /** How long a lease lasts, in milliseconds. */
  leaseMs: number;
  /** Reads the state. */
  read(): Promise<StateRead<T, S>>;
  /** Does the work under the lease, starting from `entry`; commits the result with the lease. */
  work(entry: Deno.KvEntryMaybe<S>, lease: HeldLease): Promise<T>;
}

const inFlight = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` once per `key` at a time in this isolate: concurrent callers with the same key share
 * the first caller's promise.
 */
export function singleflight<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const running = inFlight.get(key);
  if (running !== undefined) return running as Promise<T>;
  const promise = fn().finally(() => inFlight.delete(key));
  inFlight.set(key, promise);
  return promise;
}

/**
 * Reads the state and, when it needs work, does the work under a KV lease so that exactly one
 * isolate does it; the others wait for its result.
 *
 * @throws {SessionError} `SESSION_LEASE_TIMEOUT` after waiting about two leases for a result,
 *   `SESSION_STORE_UNAVAILABLE` from KV.
 */
export async function coordinate<T, S>(options: CoordinateOptions<T, S>): Promise<T> {
  const { store, leaseKey, leaseMs } = options;
  const deadline = Date.now() + 2 * leaseMs + 1000;
  let wait = 10;
  while (true) {
    const state = await options.read();
    if (state.done) return state.value;
    const leaseEntry = await store.get<LeaseRecord>(leaseKey);
    const lease = leaseEntry.value;
    if (lease !== null && lease.until > Date.now()) {
      if (Date.now() > deadline) {
        throw new SessionError(
          "gave up waiting for another isolate to finish its work under the lease",
          SESSION_LEASE_TIMEOUT,
          { cause: { leaseMs } },
        );
      }
      await sleep(wait / 2 + Math.random() * wait);
      wait = Math.min(wait * 1.5, 200);
      continue;
    }
    // Free or expired: take it, provided neither the lease nor the state moved since we read them.
    const holder = randomId();
    const until = Date.now() + leaseMs;
    const versionstamp = await store.commit((atomic) =>
      atomic
        .check(leaseEntry)
        .check(state.entry)
        .set(leaseKey, { holder, until } satisfies LeaseRecord, { expireIn: leaseMs })
    );
    if (versionstamp === null) continue;
    // Leave a quarter of the lease (at least a second) between the work's deadline and the
    // lease's end, so nobody takes over from a holder that is still working.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException("the lease is running out", "TimeoutError")),
      Math.max(leaseMs - Math.max(leaseMs / 4, 1000), 1),
    );
    try {
      return await options.work(state.entry, {
        key: leaseKey,
        versionstamp,
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
      await release(store, leaseKey, holder);
    }
  }
}

/** Deletes the lease if this holder still has it (the work's commit usually already did). */
async function release(store: KvStore, key: Deno.KvKey, holder: string): Promise<void> {
  try {
    const entry = await store.get<LeaseRecord>(key);
    if (entry.value?.holder !== holder) return;
    await store.commit((atomic) => atomic.check(entry).delete(key));
  } catch {
    // The lease expires on its own; a failed release costs the others at most `leaseMs`.
  }
}
