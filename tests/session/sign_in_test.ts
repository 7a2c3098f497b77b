/**
 * src/session/sign_in.ts: sign-in and callback against oidc-provider, and each refusal: no, forged,
 * expired or replayed transaction, another sign-in's state, another issuer, a refused consent, an
 * open redirect, a wrong nonce; PAR when required or asked for; no session fixation.
 */
import assert from "node:assert/strict";
import { CookieJar } from "../_oidc_provider.ts";
import { clears, cookieLine, type Env, oauth, startEnv } from "./_env.ts";

/** Starts a sign-in in the env's browser; returns the authorization URL. */
async function start(env: Env, path = "/login"): Promise<URL> {
  const page = await env.browse("GET", path);
  assert.equal(page.status, 302, page.html);
  return new URL(page.location!);
}

function transactions(dump: Map<string, unknown>): [string, Record<string, unknown>][] {
  return [...dump].filter(([key]) => key.startsWith("transaction/")) as [
    string,
    Record<string, unknown>,
  ][];
}

function pageCode(html: string): string | undefined {
  return /data-code="([^"]+)"/.exec(html)?.[1];
}

Deno.test("signIn() redirects with PKCE S256, state, nonce and the redirect URI, keeping them in KV and not in the cookie", async () => {
  await using env = await startEnv();
  const page = await env.browse("GET", "/login");
  assert.equal(page.status, 302);
  const url = new URL(page.location!);
  assert.equal(`${url.origin}${url.pathname}`, (await env.auth.metadata()).authorization_endpoint);
  const params = url.searchParams;
  assert.equal(params.get("client_id"), "web-app");
  assert.equal(params.get("redirect_uri"), `${env.origin}/callback`);
  assert.equal(params.get("response_type"), "code");
  assert.equal(params.get("scope"), "openid profile email");
  assert.equal(params.get("code_challenge_method"), "S256");
  assert.match(params.get("state")!, /^[\w-]{43}$/);
  assert.match(params.get("nonce")!, /^[\w-]{43}$/);

  const cookie = cookieLine(page.setCookies, "authlane-tx");
  assert.match(cookie[0]!, /^authlane-tx=[\w-]{43}$/);
  for (const attribute of ["path=/", "max-age=600", "httponly", "samesite=lax"]) {
    assert.ok(cookie.includes(attribute), attribute);
  }
  assert.ok(!cookie.includes("secure"), "local development mode: no Secure on http://127.0.0.1");
  assert.equal(page.setCookies.length, 1);

  const [[, transaction] = ["", {}]] = transactions(await env.dump());
  assert.equal(transaction.state, params.get("state"));
  assert.equal(transaction.nonce, params.get("nonce"));
  assert.equal(transaction.returnTo, "/");
  assert.equal(
    await oauth.calculatePKCECodeChallenge(transaction.verifier as string),
    params.get("code_challenge"),
  );
  const value = cookie[0]!.split("=")[1]!;
  for (const secret of [transaction.verifier, transaction.state, transaction.nonce]) {
    assert.ok(!value.toLowerCase().includes(String(secret).toLowerCase()));
  }
  assert.equal(page.html, "");
});

Deno.test("callback() creates a session, sets its cookie, spends the transaction and lands on the return path", async () => {
  await using env = await startEnv();
  const authorization = await start(env, "/login?return_to=%2Faccount%3Ftab%3D2%23top");
  const callback = await env.op.login(authorization, { jar: env.jar });
  assert.equal(callback.searchParams.get("iss"), env.op.issuer);
  const done = await env.browse("GET", callback);
  assert.equal(done.status, 303);
  assert.equal(done.location, "/account?tab=2#top");
  assert.ok(clears(done.setCookies, "authlane-tx"));
  const session = cookieLine(done.setCookies, "authlane-session");
  for (const attribute of ["path=/", "max-age=43200", "httponly", "samesite=lax"]) {
    assert.ok(session.includes(attribute), attribute);
  }
  const dump = await env.dump();
  assert.deepEqual(transactions(dump), []);
  const [record] = [...dump].filter(([key]) => key.startsWith("session/"));
  const stored = record![1] as { accessToken: string; refreshToken: string; idToken: string };
  const value = env.sessionCookie()!;
  for (const token of [stored.accessToken, stored.refreshToken, stored.idToken]) {
    assert.ok(!value.includes(token) && !token.includes(value), "no token in the cookie");
  }
  // KV holds the cookie's digest, not the cookie.
  assert.ok(![...dump.keys()].some((key) => key.includes(value)));
  assert.match((await env.browse("GET", "/account")).html, /data-sub="alice"/);
  assert.deepEqual(env.grants, ["authorization_code"]);
});

Deno.test("signIn() refuses a return_to off the application's origin (open redirect); same-origin paths pass", async () => {
  await using env = await startEnv();
  const hostile = [
    "https://evil.example/",
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "http://127.0.0.1:1/",
    "evil",
  ];
  for (const returnTo of hostile) {
    const page = await env.browse("GET", `/login?return_to=${encodeURIComponent(returnTo)}`);
    assert.equal(page.status, 400, returnTo);
    assert.equal(pageCode(page.html), "SESSION_RETURN_TO_INVALID", returnTo);
    assert.equal(page.location, null);
  }
  assert.deepEqual(transactions(await env.dump()), []);
  const page = await env.browse("GET", `/login?return_to=${encodeURIComponent("/a/../b?c=d")}`);
  assert.equal(page.status, 302);
  assert.equal(transactions(await env.dump())[0]![1].returnTo, "/b?c=d");
});

Deno.test("signIn() options: extra parameters are sent, but cannot replace state, nonce or PKCE", async () => {
  await using env = await startEnv({ auth: { authorizationParameters: { prompt: "login" } } });
  const response = await env.auth.signIn(new Request(`${env.origin}/login`), {
    parameters: { state: "chosen", nonce: "chosen", code_challenge: "chosen", login_hint: "bob" },
    returnTo: "/here",
  });
  const params = new URL(response.headers.get("location")!).searchParams;
  assert.equal(params.get("prompt"), "login");
  assert.equal(params.get("login_hint"), "bob");
  for (const name of ["state", "nonce", "code_challenge"]) {
    assert.notEqual(params.get(name), "chosen");
  }
  assert.equal(transactions(await env.dump())[0]![1].returnTo, "/here");
});

Deno.test("login CSRF: a callback this browser did not start is refused (SESSION_TRANSACTION_MISSING) before the code is used", async () => {
  await using env = await startEnv();
  // The attacker signs in as themselves and hands their callback URL to the victim.
  const attacker = new CookieJar();
  const attackerStart = await fetch(`${env.origin}/login`, { redirect: "manual" });
  attacker.store(`${env.origin}/login`, attackerStart);
  await attackerStart.body?.cancel();
  const attackerCallback = await env.op.login(attackerStart.headers.get("location")!, {
    jar: attacker,
    accountId: "mallory",
  });
  const page = await env.browse("GET", attackerCallback);
  assert.equal(page.status, 400);
  assert.equal(pageCode(page.html), "SESSION_TRANSACTION_MISSING");
  assert.deepEqual(env.grants, [], "the code was never redeemed");
  assert.equal(env.sessionCookie(), undefined);
});

Deno.test("callback() refuses a forged transaction cookie (INVALID) and one naming no transaction (UNKNOWN)", async () => {
  await using env = await startEnv();
  const authorization = await start(env);
  const genuine = env.jar.get("authlane-tx")!;
  const callback = await env.op.login(authorization, { jar: env.jar });
  const attempts: [string, string][] = [
    ["forged", "SESSION_TRANSACTION_INVALID"],
    [`${genuine}x`, "SESSION_TRANSACTION_INVALID"],
    [genuine.slice(0, -1) + (genuine.endsWith("A") ? "B" : "A"), "SESSION_TRANSACTION_UNKNOWN"],
  ];
  for (const [value, code] of attempts) {
    const page = await env.browse("GET", callback, { cookie: `authlane-tx=${value}` });
    assert.equal(page.status, 400, value);
    assert.equal(pageCode(page.html), code, value);
  }
  assert.deepEqual(env.grants, []);
  // The genuine cookie still works: nothing was spent by the forgeries.
  assert.equal((await env.browse("GET", callback)).status, 303);
});

Deno.test("callback() refuses an expired transaction even while KV still holds it", async () => {
  await using env = await startEnv();
  const authorization = await start(env);
  const callback = await env.op.login(authorization, { jar: env.jar });
  env.clock.offset = 601;
  const page = await env.browse("GET", callback);
  assert.equal(page.status, 400);
  assert.equal(pageCode(page.html), "SESSION_TRANSACTION_UNKNOWN");
  assert.deepEqual(env.grants, []);
});

Deno.test("a replayed callback is refused (SESSION_TRANSACTION_UNKNOWN): the transaction is spent on first use", async () => {
  await using env = await startEnv();
  const authorization = await start(env);
  const txCookie = `authlane-tx=${env.jar.get("authlane-tx")}`;
  const callback = await env.op.login(authorization, { jar: env.jar });
  assert.equal((await env.browse("GET", callback)).status, 303);
  const replay = await env.browse("GET", callback, { cookie: txCookie });
  assert.equal(replay.status, 400);
  assert.equal(pageCode(replay.html), "SESSION_TRANSACTION_UNKNOWN");
  assert.deepEqual(env.grants, ["authorization_code"]);
  assert.equal([...(await env.dump()).keys()].filter((k) => k.startsWith("session/")).length, 1);
});

Deno.test("a callback carrying another sign-in's state is refused (INVALID_RESPONSE), and spends the transaction", async () => {
  await using env = await startEnv();
  const other = new CookieJar();
  const otherStart = await fetch(`${env.origin}/login`, { redirect: "manual" });
  await otherStart.body?.cancel();
  const otherCallback = await env.op.login(otherStart.headers.get("location")!, { jar: other });
  const mine = await start(env);
  const page = await env.browse("GET", otherCallback);
  assert.equal(page.status, 400);
  assert.equal(pageCode(page.html), oauth.INVALID_RESPONSE);
  assert.deepEqual(env.grants, []);
  // The victim's own callback now finds no transaction.
  const myCallback = await env.op.login(mine, { jar: env.jar });
  assert.equal(pageCode((await env.browse("GET", myCallback)).html), "SESSION_TRANSACTION_UNKNOWN");
});

Deno.test("mix-up: a callback whose iss names another issuer is refused before the code is redeemed", async () => {
  await using env = await startEnv();
  const callback = await env.op.login(await start(env), { jar: env.jar });
  callback.searchParams.set("iss", "https://attacker.example");
  const page = await env.browse("GET", callback);
  assert.equal(page.status, 400);
  assert.equal(pageCode(page.html), oauth.INVALID_RESPONSE);
  assert.deepEqual(env.grants, []);
});

Deno.test("a user who refuses consent gets the provider's error (access_denied), not a session", async () => {
  await using env = await startEnv();
  const callback = await env.op.login(await start(env), { jar: env.jar, consent: false });
  const page = await env.browse("GET", callback);
  assert.equal(page.status, 400);
  assert.equal(pageCode(page.html), oauth.AUTHORIZATION_RESPONSE_ERROR);
  assert.match(page.html, /data-error="access_denied"/);
  assert.equal(env.sessionCookie(), undefined);
});

Deno.test("callback() checks the ID token's nonce against the transaction's (OIDC Core §3.1.3.7 (11))", async () => {
  await using env = await startEnv();
  const authorization = await start(env);
  // Another nonce in the transaction than the one sent: the ID token's must not match.
  const [[key, transaction] = ["", {}]] = transactions(await env.dump());
  await env.kv.set(["authlane", ...key.split("/")], { ...transaction, nonce: "another" });
  const page = await env.browse("GET", await env.op.login(authorization, { jar: env.jar }));
  assert.equal(page.status, 502);
  assert.equal(pageCode(page.html), oauth.JWT_CLAIM_COMPARISON);
  assert.equal(env.sessionCookie(), undefined);
});

Deno.test("no session fixation: each sign-in gets a new random session id and ends the browser's previous session", async () => {
  await using env = await startEnv();
  // An attacker plants a session cookie of their choosing before the victim signs in.
  const planted = "A".repeat(43);
  env.jar.setCookie(env.origin, `authlane-session=${planted}; Path=/`);
  const first = await env.signIn();
  assert.notEqual(first, planted);
  const second = await env.signIn("alice");
  assert.notEqual(second, first);
  const sessions = [...(await env.dump()).keys()].filter((k) => k.startsWith("session/"));
  assert.equal(sessions.length, 1, "the first session ended when the second began");
  const old = await env.browse("GET", "/", { cookie: `authlane-session=${first}` });
  assert.match(old.html, /data-signed-out/);
  assert.ok(clears(old.setCookies, "authlane-session"));
});

Deno.test("PAR: when the server requires pushed requests, only client_id and request_uri cross the browser", async () => {
  await using env = await startEnv({
    provider: {
      features: {
        pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      },
    },
  });
  assert.equal((await env.auth.metadata()).require_pushed_authorization_requests, true);
  const authorization = await start(env);
  assert.deepEqual([...authorization.searchParams.keys()].sort(), ["client_id", "request_uri"]);
  const done = await env.browse("GET", await env.op.login(authorization, { jar: env.jar }));
  assert.equal(done.status, 303);
  assert.match((await env.browse("GET", "/")).html, /data-sub="alice"/);
});

Deno.test("PAR when the application asks for it, on a server that does not require it", async () => {
  await using env = await startEnv({ auth: { pushedAuthorizationRequests: true } });
  assert.notEqual((await env.auth.metadata()).require_pushed_authorization_requests, true);
  const authorization = await start(env);
  assert.deepEqual([...authorization.searchParams.keys()].sort(), ["client_id", "request_uri"]);
  assert.equal(
    (await env.browse("GET", await env.op.login(authorization, { jar: env.jar }))).status,
    303,
  );
});
