/**
 * src/session/kv.ts: `withKvRetry` retries the transient `database is locked` of a local SQLite
 * KV, bounded, and reports anything else as `SESSION_STORE_UNAVAILABLE`; four processes
 * incrementing one counter through it lose nothing.
 */
import assert from "node:assert/strict";
import {
  isDatabaseLocked,
  SESSION_STORE_UNAVAILABLE,
  SessionError,
  withKvRetry,
} from "@authlane/oauth/session";
import { rejection } from "./_env.ts";
import { runIsolates } from "./_isolates.ts";

const locked = () => new TypeError("database is locked");

Deno.test("isDatabaseLocked() recognises only the SQLite lock TypeError", () => {
  assert.equal(isDatabaseLocked(locked()), true);
  assert.equal(isDatabaseLocked(new Error("database is locked")), false);
  assert.equal(isDatabaseLocked(new TypeError("Bad resource ID")), false);
  assert.equal(isDatabaseLocked("database is locked"), false);
});

Deno.test("withKvRetry() retries while the database is locked, then returns the result", async () => {
  let calls = 0;
  const retries: number[] = [];
  const result = await withKvRetry(() => {
    calls++;
    return calls <= 3 ? Promise.reject(locked()) : Promise.resolve(42);
  }, { onRetry: (attempt) => retries.push(attempt), baseDelayMs: 1 });
  assert.equal(result, 42);
  assert.equal(calls, 4);
  assert.deepEqual(retries, [1, 2, 3]);
});

Deno.test("withKvRetry() gives up after `attempts` with SESSION_STORE_UNAVAILABLE, the lock error as cause", async () => {
  let calls = 0;
  const error = await rejection(
    withKvRetry(() => {
      calls++;
      return Promise.reject(locked());
    }, { attempts: 4, baseDelayMs: 1 }),
    SessionError,
  );
  assert.equal(calls, 4);
  assert.equal(error.code, SESSION_STORE_UNAVAILABLE);
  assert.equal(error.status, 503);
  assert.ok(isDatabaseLocked(error.cause));
});

Deno.test("withKvRetry() does not retry other errors: a closed KV is SESSION_STORE_UNAVAILABLE at once", async () => {
  const kv = await Deno.openKv(":memory:");
  kv.close();
  let calls = 0;
  const error = await rejection(
    withKvRetry(() => {
      calls++;
      return kv.get(["x"]);
    }),
    SessionError,
  );
  assert.equal(calls, 1);
  assert.equal(error.code, SESSION_STORE_UNAVAILABLE);
  assert.ok(error.cause instanceof Error);
  assert.equal(error.signedOut, false);
});

Deno.test("4 processes x 50 concurrent read-check-commit loops on one SQLite file lose no increment", async () => {
  const dir = await Deno.makeTempDir({ prefix: "authlane-kv-" });
  const kvPath = `${dir}/kv.sqlite3`;
  try {
    const results = await runIsolates(4, { mode: "counter", kvPath, concurrency: 50, rounds: 1 });
    assert.deepEqual(results.map((r) => r.errors), [[], [], [], []]);
    using kv = await Deno.openKv(kvPath);
    assert.equal((await kv.get<number>(["counter"])).value, 4 * 50);
    if (Deno.env.get("AUTHLANE_SESSION_REPORT")) {
      console.log(
        `kv contention: 200 increments, locked retries ${
          results.map((r) => r.lockRetries).join("/")
        }, most attempts for one operation ${Math.max(...results.map((r) => r.maxAttempt))}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
