/**
 * `deno task bench:session`: what the session layer (`@authlane/oauth/session`) costs per
 * operation on a warm local SQLite Deno KV file, each split into the time spent inside Deno KV
 * calls and the rest (the layer and the library: digests, PKCE, validation, JSON).
 *
 * - S1 session lookup: `getSession()` of a signed-in session whose access token is fresh.
 * - S2 sign-in start: `signIn()` (PKCE S256, state, nonce, the transaction written to KV).
 * - S3 callback: `callback()` (the transaction read and spent, `validateAuthResponse`, the code
 *   exchange and ID token validation, the session written); the token endpoint is answered
 *   in-process with a freshly signed ES256 ID token, and that fake server's time is left out.
 * - S4 client credentials token: `getToken()` from the same source (memory), and from a new source
 *   on the same KV (what a fresh isolate pays: one KV read).
 *
 * Operations run one at a time, so the KV time adds up exactly. Flags: `--quick` (fewer rounds).
 *
 * @module
 */

import * as oauth from "../mod.ts";
import {
  createClientCredentialsTokenSource,
  createSessionAuth,
  type SessionAuth,
} from "../src/session/mod.ts";
import {
  asMetadata,
  CLIENT_ID,
  idTokenClaims,
  ISSUER,
  makeFixtures,
  signJws,
} from "./_fixtures.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 300 : 3000;
const WARMUP = quick ? 50 : 300;
const ORIGIN = "https://app.example";

/** Milliseconds spent inside Deno KV calls, and inside the in-process token endpoint. */
const spent = { kv: 0, fake: 0 };

/** A `Deno.Kv` that adds the time of every call it makes to `spent.kv`. */
function timedKv(kv: Deno.Kv): Deno.Kv {
  const time = async <T>(run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await run();
    } finally {
      spent.kv += performance.now() - started;
    }
  };
  return new Proxy(kv, {
    get(target, property) {
      if (property === "get") {
        return (key: Deno.KvKey, options?: { consistency?: Deno.KvConsistencyLevel }) =>
          time(() => target.get(key, options));
      }
      if (property === "atomic") {
        return () => {
          const atomic = target.atomic();
          const proxy: Deno.AtomicOperation = new Proxy(atomic, {
            get(op, name) {
              const value = Reflect.get(op, name);
              if (typeof value !== "function") return value;
              if (name === "commit") return () => time(() => op.commit());
              return (...args: unknown[]) => {
                const result = value.apply(op, args);
                return result === op ? proxy : result;
              };
            },
          });
          return proxy;
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

interface Row {
  id: string;
  title: string;
  totalUs: number;
  kvUs: number;
  restUs: number;
}

/** Runs `op` WARMUP + ROUNDS times; medians per op of the total, the KV part and the rest. */
async function measure(id: string, title: string, op: () => Promise<unknown>): Promise<Row> {
  for (let i = 0; i < WARMUP; i++) await op();
  const totals: number[] = [];
  const kvs: number[] = [];
  const rests: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const kvBefore = spent.kv;
    const fakeBefore = spent.fake;
    const started = performance.now();
    await op();
    const total = performance.now() - started - (spent.fake - fakeBefore);
    const kv = spent.kv - kvBefore;
    totals.push(total);
    kvs.push(kv);
    rests.push(total - kv);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]! * 1000;
  return { id, title, totalUs: median(totals), kvUs: median(kvs), restUs: median(rests) };
}

const fixtures = await makeFixtures();
const dir = await Deno.makeTempDir({ prefix: "authlane-bench-session-" });
const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
try {
  const as = asMetadata() as oauth.AuthorizationServer;
  /** The nonce of each sign-in, by the code its callback carries. */
  const nonces = new Map<string, string>();
  const tokenEndpoint = async (
    url: string,
    init: oauth.CustomFetchOptions<string, unknown>,
  ): Promise<Response> => {
    const started = performance.now();
    try {
      if (url !== as.token_endpoint) throw new Error(`unexpected request to ${url}`);
      const code = new URLSearchParams(String(init.body)).get("code")!;
      const nonce = nonces.get(code)!;
      nonces.delete(code);
      const now = Math.floor(Date.now() / 1000);
      const idToken = await signJws(fixtures.es, { kid: fixtures.es.kid }, {
        ...idTokenClaims(now, { nonce, sid: crypto.randomUUID() }),
      });
      return Response.json({
        access_token: crypto.randomUUID(),
        token_type: "Bearer",
        expires_in: 3600,
        refresh_token: crypto.randomUUID(),
        id_token: idToken,
      });
    } finally {
      spent.fake += performance.now() - started;
    }
  };
  const auth: SessionAuth = createSessionAuth({
    issuer: ISSUER,
    as,
    client: { client_id: CLIENT_ID },
    clientAuth: oauth.ClientSecretBasic("bench-secret"),
    redirectUri: `${ORIGIN}/callback`,
    kv: timedKv(kv),
    customFetch: tokenEndpoint,
  });

  /** One whole sign-in; returns the session cookie. */
  const signInOnce = async (): Promise<{ start: Response; finish: () => Promise<Response> }> => {
    const start = await auth.signIn(new Request(`${ORIGIN}/login`));
    const location = new URL(start.headers.get("location")!);
    const code = crypto.randomUUID();
    nonces.set(code, location.searchParams.get("nonce")!);
    const tx = start.headers.get("set-cookie")!.split(";")[0]!;
    const callback = new URL(`${ORIGIN}/callback`);
    callback.search = new URLSearchParams({
      code,
      state: location.searchParams.get("state")!,
      iss: ISSUER,
    }).toString();
    return {
      start,
      finish: () => auth.callback(new Request(callback, { headers: { cookie: tx } })),
    };
  };

  const first = await (await signInOnce()).finish();
  const sessionCookie = first.headers.getSetCookie().find((c) =>
    c.startsWith(auth.cookies.session)
  )!.split(";")[0]!;
  const lookup = new Request(`${ORIGIN}/`, { headers: { cookie: sessionCookie } });

  const rows: Row[] = [];
  rows.push(
    await measure("S1", "session lookup (fresh token)", async () => {
      const session = await auth.getSession(lookup);
      if (session === null) throw new Error("no session");
    }),
  );
  rows.push(await measure("S2", "sign-in start (PKCE, state, nonce, transaction)", signInOnce));
  // S3 times the callback only: each op starts a sign-in first, outside the clock.
  const pending: (() => Promise<Response>)[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) pending.push((await signInOnce()).finish);
  rows.push(
    await measure("S3", "callback (code exchange, ID token, session write)", async () => {
      const response = await pending.shift()!();
      if (response.status !== 303) throw new Error(`callback: ${response.status}`);
    }),
  );

  const tokenFetch = (url: string) => {
    if (url !== as.token_endpoint) throw new Error(`unexpected request to ${url}`);
    return Promise.resolve(
      Response.json({ access_token: crypto.randomUUID(), token_type: "Bearer", expires_in: 3600 }),
    );
  };
  const sourceOptions = {
    issuer: ISSUER,
    as,
    client: { client_id: CLIENT_ID },
    clientAuth: oauth.ClientSecretBasic("bench-secret"),
    scope: "api:read",
    kv: timedKv(kv),
    customFetch: tokenFetch,
  };
  const source = createClientCredentialsTokenSource(sourceOptions);
  await source.getToken();
  rows.push(
    await measure(
      "S4m",
      "client credentials token, warm isolate (memory)",
      () => source.getToken(),
    ),
  );
  rows.push(
    await measure(
      "S4k",
      "client credentials token, new isolate (KV read)",
      () => createClientCredentialsTokenSource(sourceOptions).getToken(),
    ),
  );
  await auth.close();

  console.log(
    `Session layer on a local SQLite KV, Deno ${Deno.version.deno}, ${ROUNDS} rounds each ` +
      "(medians per op: the whole op, the time inside Deno KV calls, the rest):\n",
  );
  console.log(
    "| #   | workload                                           | per op  | KV      | rest    |",
  );
  console.log(
    "| --- | -------------------------------------------------- | ------- | ------- | ------- |",
  );
  for (const row of rows) {
    const us = (v: number) => `${v.toFixed(0)} µs`.padStart(7);
    console.log(
      `| ${row.id.padEnd(3)} | ${row.title.padEnd(50)} | ${us(row.totalUs)} | ${us(row.kvUs)} | ${
        us(row.restUs)
      } |`,
    );
  }
} finally {
  kv.close();
  await Deno.remove(dir, { recursive: true });
}
