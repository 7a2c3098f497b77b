/**
 * src/session/auth.ts: the whole life of a session through `createSessionAuth().handler`, on a
 * `:memory:` KV and on a SQLite file (sign-in, callback, lookup, refresh, sign-out, sign-in again,
 * back-channel logout); configuration checks; cookies on `https:`; KV failures answered with 503
 * and no half-written session.
 */
import assert from "node:assert/strict";
import {
  createSessionAuth,
  SESSION_STORE_UNAVAILABLE,
  type SessionAuthOptions,
  SessionError,
} from "@authlane/oauth/session";
import {
  clears,
  CLIENT_ID,
  cookieLine,
  type KvKind,
  oauth,
  rejection,
  requestWith,
  revokeAtProvider,
  startEnv,
} from "./_env.ts";

function pageCode(html: string): string | undefined {
  return /data-code="([^"]+)"/.exec(html)?.[1];
}

for (const kind of ["memory", "file"] as KvKind[]) {
  Deno.test(`lifecycle on ${kind} KV: sign in, look up, refresh, sign out, sign in again, back-channel logout`, async () => {
    await using env = await startEnv({ kv: kind });
    assert.match((await env.browse("GET", "/")).html, /data-signed-out/);

    // Sign in through the provider's pages.
    const start = await env.browse("GET", "/login");
    assert.equal(start.status, 302);
    const callback = await env.op.login(start.location!, { jar: env.jar });
    const done = await env.browse("GET", callback);
    assert.equal(done.status, 303);
    assert.match((await env.browse("GET", "/")).html, /data-sub="alice" data-refreshes="0"/);

    // The access token nears expiry: refreshed before the app sees the session.
    env.clock.offset = 2 * 3600;
    assert.match((await env.browse("GET", "/")).html, /data-refreshes="1"/);
    assert.deepEqual(env.grants, ["authorization_code", "refresh_token"]);

    // Sign out: session gone, refresh token revoked, provider session ended.
    const out = await env.browse("POST", "/logout");
    assert.equal(out.status, 303);
    assert.equal(await env.op.logout(out.location!, env.jar).then((url) => url.pathname), "/");
    // The provider tells every client of its session, this one too: nothing is left to end.
    assert.deepEqual(env.backchannel, ["ok"]);
    assert.match((await env.browse("GET", "/")).html, /data-signed-out/);
    assert.deepEqual([...(await env.dump()).keys()].filter((k) => k.startsWith("session")), []);

    // Sign in again, then the user logs out at the provider: back-channel logout.
    env.clock.offset = 0;
    await env.signIn();
    assert.match((await env.browse("GET", "/")).html, /data-sub="alice"/);
    await env.op.logout((await env.auth.metadata()).end_session_endpoint!, env.jar);
    assert.deepEqual(env.backchannel, ["ok", "ok"]);
    const after = await env.browse("GET", "/");
    assert.match(after.html, /data-signed-out/);
    assert.ok(clears(after.setCookies, env.auth.cookies.session));

    // Nothing left behind but the spent logout token's jti and the caches.
    const left = [...(await env.dump()).keys()].map((key) => key.split("/")[0]).sort();
    assert.deepEqual([...new Set(left)], ["discovery", "jwks", "logout_jti"]);
    if (kind === "file") assert.ok((await Deno.stat(env.kvPath!)).size > 0);
  });
}

Deno.test("createSessionAuth() on https: __Host- cookies with Secure, HttpOnly, SameSite=Lax, Path=/", async () => {
  using kv = await Deno.openKv(":memory:");
  await using auth = createSessionAuth({
    issuer: "https://op.example",
    as: { issuer: "https://op.example", authorization_endpoint: "https://op.example/authorize" },
    client: { client_id: "app" },
    clientAuth: oauth.None(),
    redirectUri: "https://app.example/auth/callback",
    kv,
  });
  assert.deepEqual(auth.cookies, {
    session: "__Host-authlane-session",
    transaction: "__Host-authlane-tx",
    secure: true,
  });
  assert.equal(auth.routes.callback, "/auth/callback");
  const response = await auth.signIn(new Request("https://app.example/login"));
  assert.equal(response.status, 302);
  const cookie = cookieLine(response.headers.getSetCookie(), "__Host-authlane-tx");
  assert.deepEqual(cookie.slice(1).sort(), [
    "httponly",
    "max-age=600",
    "path=/",
    "samesite=lax",
    "secure",
  ]);
  assert.equal(response.headers.get("cache-control"), "no-store");
});

Deno.test("createSessionAuth() refuses bad configuration before any I/O", () => {
  const valid: SessionAuthOptions = {
    issuer: "https://op.example",
    client: { client_id: "app" },
    clientAuth: oauth.None(),
    redirectUri: "https://app.example/callback",
    kv: ":memory:",
  };
  const cases: [Partial<Record<keyof SessionAuthOptions, unknown>>, string][] = [
    [{ redirectUri: "http://app.example/callback" }, "ERR_INVALID_ARG_VALUE"], // http, not loopback
    [{ redirectUri: "ftp://app.example/callback" }, "ERR_INVALID_ARG_VALUE"],
    [{ redirectUri: "/callback" }, "ERR_INVALID_ARG_VALUE"],
    [{ issuer: 42 }, "ERR_INVALID_ARG_TYPE"],
    [{ client: {} }, "ERR_INVALID_ARG_TYPE"],
    [{ clientAuth: "secret" }, "ERR_INVALID_ARG_TYPE"],
    [{ scope: "profile email" }, "ERR_INVALID_ARG_VALUE"], // OpenID Connect needs openid
    [{ prefix: "app" }, "ERR_INVALID_ARG_TYPE"],
    [{ kv: 42 }, "ERR_INVALID_ARG_TYPE"],
    [{ sessionTtl: 0 }, "ERR_INVALID_ARG_VALUE"],
    [{ refreshAhead: -1 }, "ERR_INVALID_ARG_VALUE"],
  ];
  for (const [patch, code] of cases) {
    assert.throws(
      () => createSessionAuth({ ...valid, ...patch } as SessionAuthOptions),
      (error: unknown) => error instanceof TypeError && (error as { code?: string }).code === code,
      JSON.stringify(patch),
    );
  }
  for (
    const redirectUri of ["http://localhost:8000/cb", "http://127.0.0.1/cb", "http://[::1]:1/cb"]
  ) {
    assert.equal(createSessionAuth({ ...valid, redirectUri }).cookies.secure, false, redirectUri);
  }
});

Deno.test("handler(): routes can be moved, and a dead cookie is cleared even on an immutable response", async () => {
  await using env = await startEnv({ auth: { routes: { signIn: "/auth/in" } } });
  const handler = env.auth.handler(() => Response.redirect(`${env.origin}/elsewhere`, 302));
  const start = await handler(new Request(`${env.origin}/auth/in`));
  assert.equal(start.status, 302);
  assert.equal(new URL(start.headers.get("location")!).origin, env.op.origin);
  const dead = await handler(requestWith(env, "A".repeat(43)));
  assert.equal(dead.status, 302);
  assert.ok(clears(dead.headers.getSetCookie(), env.auth.cookies.session));
});

/** What {@linkcode faultyKv} breaks. */
interface Faults {
  /** Every `get`. */
  reads: boolean;
  /** Every commit. */
  commits: boolean;
  /** Commits that write a `session` record. */
  sessionWrites: boolean;
}

/** A KV whose reads or commits fail on demand, as a closed or unreachable database does. */
function faultyKv(kv: Deno.Kv, faults: Faults): Deno.Kv {
  const broken = () => Promise.reject(new TypeError("Bad resource ID"));
  return new Proxy(kv, {
    get(target, property) {
      if (property === "get" && faults.reads) return broken;
      if (property === "atomic") {
        return () => {
          const atomic = target.atomic();
          const written: Deno.KvKey[] = [];
          const proxy: Deno.AtomicOperation = new Proxy(atomic, {
            get(op, name) {
              const writesSession = () => written.some((key) => key[1] === "session");
              if (
                name === "commit" && (faults.commits || (faults.sessionWrites && writesSession()))
              ) {
                return broken;
              }
              const value = Reflect.get(op, name);
              if (typeof value !== "function") return value;
              return (...args: unknown[]) => {
                if (name === "set") written.push(args[0] as Deno.KvKey);
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

Deno.test("KV unavailable: a callback that cannot spend its transaction answers 503 and can be retried", async () => {
  const faults = { reads: false, commits: false, sessionWrites: false };
  await using env = await startEnv({ wrapKv: (kv) => faultyKv(kv, faults) });
  await env.auth.metadata();
  const start = await env.browse("GET", "/login");
  const callback = await env.op.login(start.location!, { jar: env.jar });
  faults.commits = true; // the transaction can be read, nothing can be written
  const page = await env.browse("GET", callback);
  assert.equal(page.status, 503);
  assert.equal(pageCode(page.html), SESSION_STORE_UNAVAILABLE);
  assert.equal(env.sessionCookie(), undefined);
  const keys = [...(await env.dump()).keys()];
  assert.deepEqual(keys.filter((key) => key.startsWith("session")), []);
  assert.deepEqual(env.grants, [], "the transaction could not be spent, so the code was not used");
  // Once KV is back, the same callback goes through.
  faults.commits = false;
  assert.equal((await env.browse("GET", callback)).status, 303);
});

Deno.test("KV unavailable: a session that cannot be written is not half-written (no record, no index, no cookie)", async () => {
  const faults = { reads: false, commits: false, sessionWrites: true };
  await using env = await startEnv({ wrapKv: (kv) => faultyKv(kv, faults) });
  const start = await env.browse("GET", "/login");
  const page = await env.browse("GET", await env.op.login(start.location!, { jar: env.jar }));
  assert.equal(page.status, 503);
  assert.equal(pageCode(page.html), SESSION_STORE_UNAVAILABLE);
  assert.deepEqual(env.grants, ["authorization_code"]);
  assert.equal(env.sessionCookie(), undefined);
  const keys = [...(await env.dump()).keys()].map((key) => key.split("/")[0]);
  assert.deepEqual(
    keys.filter((key) => key !== "discovery"),
    [],
    "no session, no index, no transaction",
  );
  // The user signs in again once KV is back.
  faults.sessionWrites = false;
  await env.signIn();
  assert.match((await env.browse("GET", "/")).html, /data-sub="alice"/);
});

Deno.test("KV unavailable: a lookup is SESSION_STORE_UNAVAILABLE (503), not a sign-out; the session survives", async () => {
  const faults = { reads: false, commits: false, sessionWrites: false };
  await using env = await startEnv({ wrapKv: (kv) => faultyKv(kv, faults) });
  const cookie = await env.signIn();
  faults.reads = true;
  const error = await rejection(env.auth.getSession(requestWith(env, cookie)), SessionError);
  assert.equal(error.code, SESSION_STORE_UNAVAILABLE);
  assert.equal(error.signedOut, false);
  assert.ok(!error.message.includes(cookie));
  const page = await env.browse("GET", "/");
  assert.equal(page.status, 503);
  assert.equal(pageCode(page.html), SESSION_STORE_UNAVAILABLE);
  assert.deepEqual(page.setCookies, [], "the cookie is kept");
  faults.reads = false;
  assert.match((await env.browse("GET", "/")).html, /data-sub="alice"/);
});

Deno.test("KV that cannot be opened is SESSION_STORE_UNAVAILABLE, and the error says so", async () => {
  await using auth = createSessionAuth({
    issuer: "https://op.example",
    client: { client_id: CLIENT_ID },
    clientAuth: oauth.None(),
    redirectUri: "http://127.0.0.1/callback",
    kv: "/nonexistent-dir/for/sure/kv.sqlite3",
  });
  const page = await auth.signIn(new Request("http://127.0.0.1/login"));
  assert.equal(page.status, 503);
  assert.equal(pageCode(await page.text()), SESSION_STORE_UNAVAILABLE);
  const error = await rejection(
    auth.getSession(
      new Request("http://127.0.0.1/", {
        headers: { cookie: `authlane-session=${"A".repeat(43)}` },
      }),
    ),
    SessionError,
  );
  assert.equal(error.code, SESSION_STORE_UNAVAILABLE);
  assert.match(error.message, /Deno KV/);
});

Deno.test("no token, verifier, cookie value or client secret in any error or log line", async () => {
  const events: unknown[] = [];
  let down: string | undefined; // the provider path that answers 500
  await using env = await startEnv({
    auth: {
      log: (event) => events.push(event),
      customFetch: (url, init) =>
        new URL(url).pathname === down
          ? Promise.resolve(Response.json({ error: "server_error" }, { status: 500 }))
          : fetch(url, init as RequestInit),
    },
  });
  const secrets: string[] = [env.clientSecret];
  // A sign-in whose transaction we read before the callback spends it.
  const start = await env.browse("GET", "/login");
  const [transaction] = [...(await env.dump())].filter(([key]) => key.startsWith("transaction/"));
  secrets.push((transaction![1] as { verifier: string }).verifier, env.jar.get("authlane-tx")!);
  await env.browse("GET", await env.op.login(start.location!, { jar: env.jar }));
  const cookie = env.sessionCookie()!;
  const [record] = [...(await env.dump())].filter(([key]) => key.startsWith("session/"));
  const stored = record![1] as { accessToken: string; refreshToken: string; idToken: string };
  secrets.push(cookie, stored.accessToken, stored.refreshToken, stored.idToken);

  const errors: unknown[] = [];
  const capture = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      errors.push(error);
    }
  };
  env.clock.offset = 7200;
  down = "/token"; // the refresh fails with a server error: the session is kept
  await capture(env.auth.getSession(requestWith(env, cookie)));
  await capture(env.auth.getSession(requestWith(env, cookie.slice(1))));
  await capture(env.auth.getSession(requestWith(env, `${cookie.slice(0, -1)}x`)));
  down = undefined;
  await revokeAtProvider(env, stored.refreshToken);
  await capture(env.auth.getSession(requestWith(env, cookie))); // refused refresh
  await env.signIn();
  down = "/token/revocation"; // sign-out: revocation fails and is logged
  await env.browse("POST", "/logout");
  assert.equal(errors.length, 4);
  assert.ok(events.length > 0);
  const printed = [...errors, ...events].map((value) =>
    Deno.inspect(value, { depth: 10, showHidden: true })
  ).join("\n");
  for (const secret of secrets) assert.ok(!printed.includes(secret), "a secret was printed");
});
