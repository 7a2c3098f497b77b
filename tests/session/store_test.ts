/**
 * src/session/store.ts: session lookup and the refresh of its tokens, once across isolates,
 * against oidc-provider with rotating refresh tokens, in one process and in four.
 */
import assert from "node:assert/strict";
import {
  SESSION_COOKIE_INVALID,
  SESSION_EXPIRED,
  SESSION_REFRESH_REFUSED,
  SESSION_UNKNOWN,
  SessionError,
} from "@authlane/oauth/session";
import {
  clears,
  CLIENT_ID,
  oauth,
  rejection,
  requestWith,
  revokeAtProvider,
  startEnv,
} from "./_env.ts";
import { median, percentile, runIsolates } from "./_isolates.ts";

const http = { [oauth.allowInsecureRequests]: true } as const;

/** The KV entries of the session the cookie names. */
async function stored(env: Awaited<ReturnType<typeof startEnv>>) {
  const dump = await env.dump();
  const sessions = [...dump].filter(([key]) => key.startsWith("session/"));
  assert.equal(sessions.length, 1, "one session");
  return sessions[0]![1] as { accessToken: string; refreshToken: string; refreshes: number };
}

function refreshGrants(grants: string[]): number {
  return grants.filter((grant) => grant === "refresh_token").length;
}

async function sha256(value: string): Promise<string> {
  const bytes = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)),
  );
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

Deno.test("getSession() returns null without a cookie, and the signed-in session with its ID token claims", async () => {
  await using env = await startEnv();
  assert.equal(await env.auth.getSession(requestWith(env, undefined)), null);
  const cookie = await env.signIn();
  const session = await env.auth.getSession(requestWith(env, cookie));
  assert.ok(session !== null);
  assert.equal(session.sub, "alice");
  assert.equal(session.claims.sub, "alice");
  assert.equal(session.claims.aud, CLIENT_ID);
  assert.equal(typeof session.sid, "string");
  assert.equal(session.tokenType, "bearer");
  assert.equal(session.refreshes, 0);
  assert.equal(session.accessToken, (await stored(env)).accessToken);
  assert.ok(session.expiresAt > Date.now() / 1000 + 3000);
  // No refresh token and no ID token in the application's view.
  assert.deepEqual(Object.keys(session).filter((k) => /^(refreshToken|idToken)$/.test(k)), []);
  assert.deepEqual(env.grants, ["authorization_code"]);
});

Deno.test("getSession() refuses a tampered cookie (SESSION_COOKIE_INVALID) and one naming no session (SESSION_UNKNOWN)", async () => {
  await using env = await startEnv();
  const cookie = await env.signIn();
  const flipped = cookie.slice(0, -1) + (cookie.endsWith("A") ? "B" : "A");
  const attempts: [string, string][] = [
    [cookie.slice(0, -1), SESSION_COOKIE_INVALID],
    [`${cookie}.sig`, SESSION_COOKIE_INVALID],
    ["../../session/x", SESSION_COOKIE_INVALID],
    [flipped, SESSION_UNKNOWN],
    [crypto.randomUUID().replaceAll("-", "").padEnd(43, "x"), SESSION_UNKNOWN],
  ];
  for (const [value, code] of attempts) {
    const error = await rejection(env.auth.getSession(requestWith(env, value)), SessionError);
    assert.equal(error.code, code, value);
    assert.equal(error.signedOut, true);
    assert.equal(error.status, 401);
    assert.ok(!error.message.includes(value), "the cookie value is not echoed");
  }
  assert.equal((await env.auth.getSession(requestWith(env, cookie)))?.sub, "alice");
});

Deno.test("getSession() refreshes the access token ahead of expiry, once, and keeps the rotated refresh token", async () => {
  await using env = await startEnv({ auth: { refreshAhead: 120 } });
  const cookie = await env.signIn();
  const first = await stored(env);

  env.clock.offset = 3600 - 180; // three minutes left: fresh enough
  assert.equal((await env.auth.getSession(requestWith(env, cookie)))?.refreshes, 0);
  assert.equal(refreshGrants(env.grants), 0);

  env.clock.offset = 3600 - 60; // one minute left: inside refreshAhead
  const session = await env.auth.getSession(requestWith(env, cookie));
  assert.equal(session?.refreshes, 1);
  const second = await stored(env);
  assert.notEqual(second.accessToken, first.accessToken);
  assert.equal(session?.accessToken, second.accessToken);
  assert.notEqual(second.refreshToken, first.refreshToken, "the provider rotated it");
  assert.equal(refreshGrants(env.grants), 1);

  // Fresh again: the next lookups use it as it is.
  await env.auth.getSession(requestWith(env, cookie));
  assert.equal(refreshGrants(env.grants), 1);

  // The rotated-out refresh token is dead at the provider (and reusing it revokes the grant).
  const as = await env.auth.metadata();
  const client = { client_id: CLIENT_ID };
  const reuse = await rejection(
    oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.ClientSecretBasic(env.clientSecret),
        first.refreshToken,
        http,
      ),
    ),
    oauth.ResponseBodyError,
  );
  assert.equal(reuse.error, "invalid_grant");
});

Deno.test("50 concurrent lookups in one isolate send one refresh grant and all get the new token", async () => {
  await using env = await startEnv();
  const cookie = await env.signIn();
  env.clock.offset = 7200;
  const sessions = await Promise.all(
    Array.from({ length: 50 }, () => env.auth.getSession(requestWith(env, cookie))),
  );
  assert.equal(new Set(sessions.map((s) => s?.accessToken)).size, 1);
  assert.equal(refreshGrants(env.grants), 1);
  assert.deepEqual(env.grantErrors, []);
  assert.equal(sessions[0]?.accessToken, (await stored(env)).accessToken);
});

Deno.test("a refused refresh (invalid_grant) ends the session in KV: SESSION_REFRESH_REFUSED, indexes gone, cookie cleared", async () => {
  await using env = await startEnv();
  const cookie = await env.signIn();
  const { refreshToken } = await stored(env);
  await revokeAtProvider(env, refreshToken);
  env.clock.offset = 7200;
  const error = await rejection(env.auth.getSession(requestWith(env, cookie)), SessionError);
  assert.equal(error.code, SESSION_REFRESH_REFUSED);
  assert.equal(error.signedOut, true);
  assert.deepEqual(error.cause, {
    error: "invalid_grant",
    error_description: "grant request is invalid",
  });
  assert.deepEqual(env.grantErrors, ["invalid_grant"]);
  // Every isolate now sees the same answer; no key of the session is left but the marker.
  const again = await rejection(env.auth.getSession(requestWith(env, cookie)), SessionError);
  assert.equal(again.code, SESSION_REFRESH_REFUSED);
  const keys = [...(await env.dump()).keys()].filter((key) => key.startsWith("session"));
  assert.equal(keys.length, 1);
  assert.deepEqual(Object.keys((await env.dump()).get(keys[0]!) as object), ["ended", "error"]);
  // The handler shows the app signed out and clears the cookie.
  const page = await env.browse("GET", "/");
  assert.match(page.html, /data-signed-out/);
  assert.ok(clears(page.setCookies, env.auth.cookies.session));
  assert.equal(refreshGrants(env.grants), 0);
});

Deno.test("an access token expiring without a refresh token ends the session with SESSION_EXPIRED", async () => {
  await using env = await startEnv({ client: { grant_types: ["authorization_code"] } });
  const cookie = await env.signIn();
  assert.equal((await env.auth.getSession(requestWith(env, cookie)))?.sub, "alice");
  env.clock.offset = 3600;
  const error = await rejection(env.auth.getSession(requestWith(env, cookie)), SessionError);
  assert.equal(error.code, SESSION_EXPIRED);
  const next = await rejection(env.auth.getSession(requestWith(env, cookie)), SessionError);
  assert.equal(next.code, SESSION_UNKNOWN);
  assert.deepEqual([...(await env.dump()).keys()].filter((k) => k.startsWith("session")), []);
});

Deno.test("a session past its sessionTtl is SESSION_UNKNOWN even while KV still holds it", async () => {
  await using env = await startEnv({ auth: { sessionTtl: 600 } });
  const cookie = await env.signIn();
  env.clock.offset = 599;
  assert.equal((await env.auth.getSession(requestWith(env, cookie)))?.sub, "alice");
  env.clock.offset = 600;
  const error = await rejection(env.auth.getSession(requestWith(env, cookie)), SessionError);
  assert.equal(error.code, SESSION_UNKNOWN);
});

Deno.test("a refresh that fails for another reason (provider down) keeps the session and the next lookup refreshes", async () => {
  let down = true;
  await using env = await startEnv({
    auth: {
      customFetch: (url, init) =>
        down && new URL(url).pathname === "/token" && String(init.body).includes("refresh_token")
          ? Promise.resolve(new Response("upstream down", { status: 503 }))
          : fetch(url, init as RequestInit),
    },
  });
  const cookie = await env.signIn();
  env.clock.offset = 7200;
  const error = await rejection(
    env.auth.getSession(requestWith(env, cookie)),
    oauth.OperationProcessingError,
  );
  assert.equal(error.code, oauth.RESPONSE_IS_NOT_CONFORM);
  assert.equal((await stored(env)).refreshes, 0, "kept as it was");
  down = false;
  assert.equal((await env.auth.getSession(requestWith(env, cookie)))?.refreshes, 1);
});

Deno.test("a lease left by a crashed isolate holds the refresh back until it expires, then one refresh runs", async () => {
  await using env = await startEnv({ auth: { leaseMs: 1500 } });
  const cookie = await env.signIn();
  // What a holder that died mid-refresh leaves behind.
  await env.kv.set(["authlane", "session_lease", await sha256(cookie)], {
    holder: "crashed",
    until: Date.now() + 1000,
  }, { expireIn: 1000 });
  env.clock.offset = 7200;
  const started = Date.now();
  const sessions = await Promise.all(
    Array.from({ length: 5 }, () => env.auth.getSession(requestWith(env, cookie))),
  );
  assert.ok(Date.now() - started >= 900, "waited for the lease");
  assert.equal(new Set(sessions.map((s) => s?.refreshes)).size, 1);
  assert.equal(refreshGrants(env.grants), 1);
});

Deno.test("a Session prints without its access token", async () => {
  await using env = await startEnv();
  const cookie = await env.signIn();
  const session = (await env.auth.getSession(requestWith(env, cookie)))!;
  const printed = Deno.inspect(session);
  assert.ok(!printed.includes(session.accessToken));
  assert.match(printed, /accessToken":"\[redacted\]"/);
  assert.match(printed, /"sub":"alice"/);
});

Deno.test("many isolates: 4 processes x 50 concurrent lookups of an expiring session send exactly one refresh grant", async () => {
  await using env = await startEnv({ kv: "file" });
  const cookie = await env.signIn();
  const before = await stored(env);
  const results = await runIsolates(4, {
    mode: "session",
    kvPath: env.kvPath!,
    concurrency: 50,
    issuer: env.op.issuer,
    clientId: CLIENT_ID,
    clientSecret: env.clientSecret,
    cookie,
    offset: 7200,
    warm: 50,
  });
  assert.deepEqual(results.map((r) => r.errors), [[], [], [], []]);
  const tokens = new Set(results.flatMap((r) => r.values));
  assert.equal(tokens.size, 1, "every process ends with the same access token");
  const after = await stored(env);
  assert.deepEqual([...tokens], [after.accessToken]);
  assert.notEqual(after.accessToken, before.accessToken);
  assert.notEqual(after.refreshToken, before.refreshToken);
  assert.equal(refreshGrants(env.grants), 1, "the provider saw one refresh grant");
  assert.deepEqual(env.grantErrors, []);
  if (Deno.env.get("AUTHLANE_SESSION_REPORT")) {
    const warm = results.flatMap((r) => r.warmMs!);
    console.log(
      `many isolates (session): ${refreshGrants(env.grants)} refresh grant; concurrent phase ` +
        `${results.map((r) => r.elapsedMs.toFixed(0)).join("/")} ms; locked retries ` +
        `${results.map((r) => r.lockRetries).join("/")}; warm TTFB median ` +
        `${median(warm).toFixed(2)} ms, p95 ${
          percentile(warm, 95).toFixed(2)
        } ms (n=${warm.length})`,
    );
  }
});
