/**
 * One "isolate" of the many-isolates tests: a separate Deno process on a shared SQLite KV file.
 * It prepares (opens KV, discovers, starts its server), prints `ready`, waits for `go` on stdin
 * so that all processes start together, runs `concurrency` operations at once, and prints one
 * JSON line with what it got.
 *
 * Modes:
 * - `session`: serves `createSessionAuth(...).handler` on loopback and sends itself
 *   `concurrency` concurrent requests carrying one session cookie, on a clock `offset` seconds
 *   ahead (so the access token is expiring); then times `warm` sequential requests (time to
 *   first byte, the session fresh and KV warm).
 * - `token`: `concurrency` concurrent `getToken()` of one client credentials token source.
 * - `jwks`: `concurrency` concurrent `validateJwtAccessToken` with the KV JWKS cache.
 * - `counter`: `concurrency` concurrent read-increment-commit loops through `withKvRetry`.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import {
  createClientCredentialsTokenSource,
  createKvJwksCache,
  createSessionAuth,
  type KvRetryOptions,
  withKvRetry,
} from "@authlane/oauth/session";

/** What the parent passes (as JSON, the first argument). */
export interface WorkerConfig {
  mode: "session" | "token" | "jwks" | "counter";
  kvPath: string;
  concurrency: number;
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  /** session: the session cookie's value. */
  cookie?: string;
  /** session: seconds added to the clock. */
  offset?: number;
  /** session: sequential warm requests to time. */
  warm?: number;
  /** token: the resource indicator. */
  resource?: string;
  /** jwks: the metadata, the token and the audience. */
  as?: oauth.AuthorizationServer;
  token?: string;
  audience?: string;
  /** counter: increments per loop. */
  rounds?: number;
}

/** What the worker prints. */
export interface WorkerResult {
  /** The distinct values the operations returned (access tokens, subjects, counts). */
  values: string[];
  /** Operations that failed, by error code or name. */
  errors: string[];
  /** Wall time of the concurrent phase, ms. */
  elapsedMs: number;
  /** `database is locked` retries. */
  lockRetries: number;
  /** The most attempts one KV operation needed (1 = no retry). */
  maxAttempt: number;
  /** session: time to first byte of each warm request, ms. */
  warmMs?: number[];
}

const config = JSON.parse(Deno.args[0]!) as WorkerConfig;
let lockRetries = 0;
let maxAttempt = 0;
const retry: KvRetryOptions = {
  onRetry: (attempt) => {
    lockRetries++;
    maxAttempt = Math.max(maxAttempt, attempt);
  },
};
const http = { [oauth.allowInsecureRequests]: true } as const;

async function ready(): Promise<void> {
  await Deno.stdout.write(new TextEncoder().encode("ready\n"));
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let input = "";
  while (!input.includes("go")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("stdin closed before go");
    input += value;
  }
  reader.releaseLock();
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : String((error as Error)?.name ?? error);
}

async function concurrently(
  op: () => Promise<string>,
): Promise<Omit<WorkerResult, "lockRetries" | "maxAttempt">> {
  const started = performance.now();
  const settled = await Promise.allSettled(Array.from({ length: config.concurrency }, op));
  const elapsedMs = performance.now() - started;
  const values = new Set<string>();
  const errors: string[] = [];
  for (const result of settled) {
    if (result.status === "fulfilled") values.add(result.value);
    else errors.push(codeOf(result.reason));
  }
  return { values: [...values], errors, elapsedMs };
}

async function runSession(): Promise<Partial<WorkerResult>> {
  const auth = createSessionAuth({
    issuer: config.issuer!,
    client: { client_id: config.clientId! },
    clientAuth: oauth.ClientSecretBasic(config.clientSecret!),
    redirectUri: "http://127.0.0.1/callback",
    kv: config.kvPath,
    allowInsecureRequests: true,
    now: () => Math.floor(Date.now() / 1000) + (config.offset ?? 0),
    retry,
    log: () => {},
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    auth.handler((_request, session) =>
      new Response(session === null ? "signed out" : session.accessToken)
    ),
  );
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const headers = { cookie: `${auth.cookies.session}=${config.cookie}` };
  await auth.metadata(); // discovery, from KV when another process did it
  await ready();
  const result = await concurrently(async () => {
    const response = await fetch(url, { headers });
    const body = await response.text();
    if (response.status !== 200 || body === "signed out") throw new Error(`${response.status}`);
    return body;
  });
  const warmMs: number[] = [];
  for (let i = 0; i < (config.warm ?? 0); i++) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    warmMs.push(performance.now() - started); // headers in: the first byte
    await response.body?.cancel();
  }
  await server.shutdown();
  await auth.close();
  return { ...result, warmMs };
}

async function runToken(): Promise<Partial<WorkerResult>> {
  await using source = createClientCredentialsTokenSource({
    issuer: config.issuer!,
    client: { client_id: config.clientId! },
    clientAuth: oauth.ClientSecretBasic(config.clientSecret!),
    scope: "api:read",
    resource: config.resource,
    kv: config.kvPath,
    allowInsecureRequests: true,
    retry,
  });
  await ready();
  const result = await concurrently(async () => (await source.getToken()).accessToken);
  return result;
}

async function runJwks(): Promise<Partial<WorkerResult>> {
  const kv = await withKvRetry(() => Deno.openKv(config.kvPath), retry);
  const jwks = createKvJwksCache({ kv, retry });
  await ready();
  const result = await concurrently(async () => {
    const request = new Request(config.audience!, {
      headers: { authorization: `Bearer ${config.token}` },
    });
    const claims = await oauth.validateJwtAccessToken(config.as!, request, config.audience!, {
      ...http,
      ...await jwks.options(config.as!),
    });
    return claims.sub;
  });
  kv.close();
  return result;
}

async function runCounter(): Promise<Partial<WorkerResult>> {
  const kv = await withKvRetry(() => Deno.openKv(config.kvPath), retry);
  await ready();
  const result = await concurrently(async () => {
    for (let i = 0; i < (config.rounds ?? 1); i++) {
      while (true) {
        const entry = await withKvRetry(() => kv.get<number>(["counter"]), retry);
        const committed = await withKvRetry(
          () => kv.atomic().check(entry).set(["counter"], (entry.value ?? 0) + 1).commit(),
          retry,
        );
        if (committed.ok) break;
      }
    }
    return "done";
  });
  kv.close();
  return result;
}

const run = { session: runSession, token: runToken, jwks: runJwks, counter: runCounter }[
  config.mode
];
const result = { ...await run(), lockRetries, maxAttempt: maxAttempt + 1 };
await Deno.stdout.write(new TextEncoder().encode(`${JSON.stringify(result)}\n`));
