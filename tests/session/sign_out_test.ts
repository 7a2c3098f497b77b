/**
 * src/session/sign_out.ts: the session deleted, the refresh token revoked at the provider, the
 * cookie cleared, RP-initiated logout; refused for another method or another origin.
 */
import assert from "node:assert/strict";
import { clears, CLIENT_ID, oauth, startEnv } from "./_env.ts";

const http = { [oauth.allowInsecureRequests]: true } as const;

function pageCode(html: string): string | undefined {
  return /data-code="([^"]+)"/.exec(html)?.[1];
}

Deno.test("signOut() deletes the session, revokes its refresh token, clears the cookie and ends the provider session", async () => {
  await using env = await startEnv();
  const cookie = await env.signIn();
  const record = [...(await env.dump())].find(([key]) => key.startsWith("session/"))![1] as {
    refreshToken: string;
    idToken: string;
  };
  const out = await env.browse("POST", "/logout", { headers: { origin: env.origin } });
  assert.equal(out.status, 303);
  assert.ok(clears(out.setCookies, env.auth.cookies.session));
  assert.equal(env.sessionCookie(), undefined);
  assert.deepEqual([...(await env.dump()).keys()].filter((k) => k.startsWith("session")), []);

  // RP-Initiated Logout 1.0 §2: to the provider, with the hint and where to come back.
  const as = await env.auth.metadata();
  const end = new URL(out.location!);
  assert.equal(`${end.origin}${end.pathname}`, as.end_session_endpoint);
  assert.equal(end.searchParams.get("id_token_hint"), record.idToken);
  assert.equal(end.searchParams.get("client_id"), CLIENT_ID);
  assert.equal(end.searchParams.get("post_logout_redirect_uri"), `${env.origin}/`);
  assert.equal((await env.op.logout(end, env.jar)).href, `${env.origin}/`);

  // RFC 7009: the refresh token is dead at the provider.
  const client = { client_id: CLIENT_ID };
  const introspected = await oauth.processIntrospectionResponse(
    as,
    client,
    await oauth.introspectionRequest(
      as,
      client,
      oauth.ClientSecretBasic(env.clientSecret),
      record.refreshToken,
      http,
    ),
  );
  assert.equal(introspected.active, false);
  // The old cookie, replayed, names nothing.
  const replay = await env.browse("GET", "/", { cookie: `${env.auth.cookies.session}=${cookie}` });
  assert.match(replay.html, /data-signed-out/);
});

Deno.test("signOut() without a session, or with a dead one, clears the cookie and goes to the post-logout page", async () => {
  await using env = await startEnv({ auth: { postLogoutRedirectUri: "http://127.0.0.1/bye" } });
  for (const cookie of [undefined, "x", "A".repeat(43)]) {
    const out = await env.browse("POST", "/logout", {
      cookie: cookie === undefined ? "" : `authlane-session=${cookie}`,
    });
    assert.equal(out.status, 303, cookie);
    assert.equal(out.location, "http://127.0.0.1/bye");
    assert.ok(clears(out.setCookies, "authlane-session"));
  }
});

Deno.test("signOut() takes POST only (405), so a link or an image cannot sign a user out", async () => {
  await using env = await startEnv();
  await env.signIn();
  const page = await env.browse("GET", "/logout");
  assert.equal(page.status, 405);
  assert.equal(pageCode(page.html), "SESSION_METHOD_NOT_ALLOWED");
  assert.match((await env.browse("GET", "/")).html, /data-sub="alice"/);
});

Deno.test("signOut() refuses a request from another origin (403) and keeps the session", async () => {
  await using env = await startEnv();
  await env.signIn();
  const attempts: Record<string, string>[] = [
    { origin: "https://evil.example" },
    { origin: "null" },
    { "sec-fetch-site": "cross-site" },
    { "sec-fetch-site": "same-site" },
  ];
  for (const headers of attempts) {
    const page = await env.browse("POST", "/logout", { headers });
    assert.equal(page.status, 403, JSON.stringify(headers));
    assert.equal(pageCode(page.html), "SESSION_ORIGIN_MISMATCH");
  }
  assert.match((await env.browse("GET", "/")).html, /data-sub="alice"/);
  const same = await env.browse("POST", "/logout", {
    headers: { origin: env.origin, "sec-fetch-site": "same-origin" },
  });
  assert.equal(same.status, 303);
});

Deno.test("signOut() still signs out when revocation fails, and reports it without the token", async () => {
  const events: { message: string; code?: string }[] = [];
  await using env = await startEnv({
    auth: {
      log: (event) => events.push(event),
      customFetch: (url, init) =>
        new URL(url).pathname.endsWith("/revocation")
          ? Promise.resolve(Response.json({ error: "server_error" }, { status: 500 }))
          : fetch(url, init as RequestInit),
    },
  });
  await env.signIn();
  const out = await env.browse("POST", "/logout");
  assert.equal(out.status, 303);
  assert.deepEqual([...(await env.dump()).keys()].filter((k) => k.startsWith("session")), []);
  assert.deepEqual(events, [{
    message: "refresh token revocation failed",
    // A 5xx is never a ResponseBodyError, as in oauth4webapi.
    code: oauth.RESPONSE_IS_NOT_CONFORM,
  }]);
});
