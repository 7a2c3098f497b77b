/**
 * src/session/backchannel_logout.ts: the provider ends a user's session at its end, posts a logout
 * token, and the app ends that session (by `sid`), or every session of the user (by `sub`);
 * replayed, forged and malformed logout requests are refused with 400 and end nothing.
 */
import assert from "node:assert/strict";
import { generateKeyPair, SignJWT } from "jose";
import { CookieJar } from "../_oidc_provider.ts";
import { CLIENT_ID, type Env, rejection, requestWith, startEnv } from "./_env.ts";
import { SESSION_UNKNOWN, SessionError } from "@authlane/oauth/session";

/** The user logs out at the provider itself (not through the app). */
async function logoutAtProvider(env: Env, jar: CookieJar): Promise<void> {
  const as = await env.auth.metadata();
  await env.op.logout(as.end_session_endpoint!, jar);
}

async function post(env: Env, body: string, contentType = "application/x-www-form-urlencoded") {
  const response = await fetch(`${env.origin}/backchannel-logout`, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
  return {
    status: response.status,
    cacheControl: response.headers.get("cache-control"),
    body: response.status === 200 ? await response.text() : await response.json(),
  };
}

async function lookup(env: Env, cookie: string): Promise<string> {
  try {
    return (await env.auth.getSession(requestWith(env, cookie)))?.sub ?? "none";
  } catch (error) {
    return (error as SessionError).code;
  }
}

Deno.test("back-channel logout: the provider's logout token ends that browser's session (by sid), in KV, for every isolate", async () => {
  await using env = await startEnv();
  const jarA = new CookieJar();
  const jarB = new CookieJar();
  const a = await env.signIn("alice", jarA);
  const b = await env.signIn("alice", jarB); // the same user, another browser, another sid
  const bob = await env.signIn("bob", new CookieJar());
  const before = await env.dump();
  await logoutAtProvider(env, jarA);
  assert.deepEqual(env.backchannel, ["ok"]);
  assert.equal(env.logoutTokens.length, 1);
  assert.equal(await lookup(env, a), SESSION_UNKNOWN);
  assert.equal(await lookup(env, b), "alice");
  assert.equal(await lookup(env, bob), "bob");
  // Exactly A's three keys went; the jti and the provider's keys came.
  const after = await env.dump();
  const gone = [...before.keys()].filter((key) => !after.has(key));
  assert.equal(gone.length, 3);
  assert.deepEqual(gone.map((key) => key.split("/")[0]).sort(), [
    "session",
    "session_by_sid",
    "session_by_sub",
  ]);
  const added = [...after.keys()].filter((key) => !before.has(key)).map((key) => key.split("/")[0]);
  assert.deepEqual(added.sort(), ["jwks", "logout_jti"]);
  // The handler now shows browser A signed out.
  const page = await fetch(env.origin, { headers: { cookie: `authlane-session=${a}` } });
  assert.match(await page.text(), /data-signed-out/);
});

Deno.test("back-channel logout without sid (the client does not require it) ends every session of the sub", async () => {
  await using env = await startEnv({ client: { backchannel_logout_session_required: false } });
  const jarA = new CookieJar();
  const a = await env.signIn("alice", jarA);
  const b = await env.signIn("alice", new CookieJar());
  const bob = await env.signIn("bob", new CookieJar());
  await logoutAtProvider(env, jarA);
  assert.deepEqual(env.backchannel, ["ok"]);
  const claims = JSON.parse(
    atob(env.logoutTokens[0]!.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")),
  );
  assert.equal(claims.sid, undefined);
  assert.equal(claims.sub, "alice");
  assert.equal(await lookup(env, a), SESSION_UNKNOWN);
  assert.equal(await lookup(env, b), SESSION_UNKNOWN);
  assert.equal(await lookup(env, bob), "bob");
});

Deno.test("back-channel logout refuses a replayed logout token (jti already used) with 400", async () => {
  await using env = await startEnv();
  const jarA = new CookieJar();
  await env.signIn("alice", jarA);
  await logoutAtProvider(env, jarA);
  const token = env.logoutTokens[0]!;
  // Alice signs in again in a browser whose provider session has the same sid... or any: the
  // replayed token must end nothing.
  const again = await env.signIn("alice", new CookieJar());
  const replay = await post(env, new URLSearchParams({ logout_token: token }).toString());
  assert.equal(replay.status, 400);
  assert.equal(replay.cacheControl, "no-store");
  assert.deepEqual(replay.body, {
    error: "invalid_request",
    error_description: "SESSION_LOGOUT_REPLAYED",
  });
  assert.equal(await lookup(env, again), "alice");
});

Deno.test("back-channel logout refuses forged and malformed requests with 400 and ends nothing", async () => {
  await using env = await startEnv();
  const cookie = await env.signIn();
  const session = await env.auth.getSession(requestWith(env, cookie));
  const { privateKey } = await generateKeyPair("RS256");
  const now = Math.floor(Date.now() / 1000);
  const forged = await new SignJWT({
    events: { "http://schemas.openid.net/event/backchannel-logout": {} },
    sid: session!.sid!,
    jti: crypto.randomUUID(),
  })
    .setProtectedHeader({ alg: "RS256", kid: "op-rsa", typ: "logout+jwt" })
    .setIssuer(env.op.issuer)
    .setAudience(CLIENT_ID)
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .sign(privateKey);
  const attempts: [string, string | undefined, string][] = [
    [
      "another key's signature",
      undefined,
      new URLSearchParams({ logout_token: forged }).toString(),
    ],
    ["no token", undefined, ""],
    ["two tokens", undefined, `logout_token=${forged}&logout_token=${forged}`],
    ["not a form", "application/json", JSON.stringify({ logout_token: forged })],
    ["not a JWT", undefined, "logout_token=nope"],
  ];
  for (const [label, contentType, body] of attempts) {
    const response = await post(env, body, contentType);
    assert.equal(response.status, 400, label);
    assert.equal((response.body as { error: string }).error, "invalid_request", label);
  }
  const get = await fetch(`${env.origin}/backchannel-logout`);
  assert.equal(get.status, 400);
  await get.body?.cancel();
  assert.equal(await lookup(env, cookie), "alice");
});

Deno.test("back-channel logout ends a session in every process at once: another isolate's lookup fails next", async () => {
  await using env = await startEnv({ kv: "file" });
  const jar = new CookieJar();
  const cookie = await env.signIn("alice", jar);
  // A second app instance on the same KV file stands for another isolate.
  const kv = await Deno.openKv(env.kvPath!);
  try {
    const { createSessionAuth } = await import("@authlane/oauth/session");
    const { oauth } = await import("./_env.ts");
    await using other = createSessionAuth({
      issuer: env.op.issuer,
      client: { client_id: CLIENT_ID },
      clientAuth: oauth.ClientSecretBasic(env.clientSecret),
      redirectUri: `${env.origin}/callback`,
      kv,
      allowInsecureRequests: true,
    });
    const request = () =>
      new Request(env.origin, { headers: { cookie: `authlane-session=${cookie}` } });
    assert.equal((await other.getSession(request()))?.sub, "alice");
    await logoutAtProvider(env, jar);
    const error = await rejection(other.getSession(request()), SessionError);
    assert.equal(error.code, SESSION_UNKNOWN);
  } finally {
    kv.close();
  }
});
