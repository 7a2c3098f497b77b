/**
 * The runnable examples, each driven end to end against oidc-provider on loopback: the web app
 * (sign-in, sessions in Deno KV, refresh, sign-out, back-channel logout), the device flow CLI,
 * the edge API validating DPoP-bound JWT access tokens, and the FAPI 2.0 style client (PAR +
 * PKCE + DPoP, and PAR + PKCE + mTLS).
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { createWebApp } from "../../examples/web_app.ts";
import { createEdgeApi, type EdgeApiConfig, type MeResponse } from "../../examples/edge_api.ts";
import { DeviceCodeExpiredError, runDeviceCli } from "../../examples/device_cli.ts";
import { Fapi2ProfileError, runFapi2Flow, startEmbeddedFapi } from "../../examples/fapi2_client.ts";
import { getPki } from "../_pki.ts";
import { type OidcProviderHarness, startProvider } from "../_oidc_provider.ts";
import { sessionProviderOptions, webAppClient } from "../_oidc_provider/session.ts";
import { CookieJar } from "./_cookie_jar.ts";

const http = { [oauth.allowInsecureRequests]: true } as const;

// ---------------------------------------------------------------------------------------------
// examples/web_app.ts (on @authlane/oauth/session; tests/session/ covers the layer itself)

interface Page {
  status: number;
  location: string | null;
  setCookies: string[];
  html: string;
}

interface WebEnv extends AsyncDisposable {
  origin: string;
  op: OidcProviderHarness;
  app: ReturnType<typeof createWebApp>;
  kv: Deno.Kv;
  /** The browser: one jar for the app and the provider, as a browser has. */
  jar: CookieJar;
  clientSecret: string;
  /** Seconds added to the app's clock. */
  clock: { offset: number };
  browse(method: "GET" | "POST", target: string | URL, cookie?: string): Promise<Page>;
  signIn(accountId?: string): Promise<void>;
  /** The one session record in KV. */
  stored(): Promise<{ accessToken: string; refreshToken: string; idToken: string }>;
}

async function startWebEnv(): Promise<WebEnv> {
  let handler: ((request: Request) => Promise<Response>) | undefined;
  // The app's origin is its redirect URI's, so listen first, then register it at the provider.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => handler === undefined ? new Response(null, { status: 503 }) : handler(request),
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const clientSecret = crypto.randomUUID();
  const clock = { offset: 0 };
  const kv = await Deno.openKv(":memory:");
  let op: OidcProviderHarness | undefined;
  let app: ReturnType<typeof createWebApp>;
  try {
    op = await startProvider(
      sessionProviderOptions([webAppClient(origin, "web-app", clientSecret)]),
    );
    app = createWebApp({
      issuer: op.issuer,
      client: { client_id: "web-app" },
      clientAuth: oauth.ClientSecretBasic(clientSecret),
      redirectUri: `${origin}/callback`,
      kv,
      allowInsecureRequests: true,
      now: () => Math.floor(Date.now() / 1000) + clock.offset,
      log: () => {},
    });
    handler = app.handler;
  } catch (err) {
    await op?.close();
    await server.shutdown();
    kv.close();
    throw err;
  }
  const provider = op;
  const jar = new CookieJar();
  const browse = async (method: "GET" | "POST", target: string | URL, cookie?: string) => {
    const url = new URL(target, origin);
    const headers = cookie === undefined ? jar.headersFor(url) : new Headers({ cookie });
    const response = await fetch(url, { method, headers, redirect: "manual" });
    if (cookie === undefined) jar.store(url, response);
    return {
      status: response.status,
      location: response.headers.get("location"),
      setCookies: response.headers.getSetCookie(),
      html: await response.text(),
    };
  };
  return {
    origin,
    op: provider,
    app,
    kv,
    jar,
    clientSecret,
    clock,
    browse,
    async signIn(accountId = "alice") {
      const start = await browse("GET", "/login");
      assert.equal(start.status, 302);
      const callback = await provider.login(start.location!, { jar, accountId });
      assert.equal(`${callback.origin}${callback.pathname}`, `${origin}/callback`);
      const done = await browse("GET", callback);
      assert.equal(done.status, 303, done.html);
      assert.equal(done.location, "/");
    },
    async stored() {
      const records = [];
      for await (const entry of kv.list({ prefix: ["authlane", "session"] })) {
        records.push(entry.value);
      }
      assert.equal(records.length, 1);
      return records[0] as { accessToken: string; refreshToken: string; idToken: string };
    },
    async [Symbol.asyncDispose]() {
      await provider.close();
      await server.shutdown();
      await app.auth.close();
      kv.close();
    },
  };
}

/** The `Set-Cookie` line for `name`, split into lowercase attributes. */
function cookieAttributes(setCookies: string[], name: string): Set<string> {
  const line = setCookies.find((header) => header.startsWith(`${name}=`));
  assert.ok(line, `no Set-Cookie for ${name}`);
  return new Set(line.split(";").slice(1).map((part) => part.trim().toLowerCase()));
}

function clears(setCookies: string[], name: string): boolean {
  return setCookies.some((line) => line.startsWith(`${name}=;`) && /Max-Age=0/i.test(line));
}

Deno.test("web_app: /login, the provider's pages and /callback sign the user in; / shows the user from userinfo", async () => {
  await using env = await startWebEnv();
  assert.match((await env.browse("GET", "/")).html, /Not signed in/);

  const start = await env.browse("GET", "/login");
  assert.equal(start.status, 302);
  const authorization = new URL(start.location!);
  assert.equal(authorization.origin, env.op.origin);
  assert.equal(authorization.searchParams.get("code_challenge_method"), "S256");
  assert.equal(authorization.searchParams.get("redirect_uri"), `${env.origin}/callback`);
  const transaction = cookieAttributes(start.setCookies, "authlane-tx");
  for (const attribute of ["httponly", "samesite=lax", "path=/", "max-age=600"]) {
    assert.ok(transaction.has(attribute), attribute);
  }

  const done = await env.browse("GET", await env.op.login(authorization, { jar: env.jar }));
  assert.equal(done.status, 303);
  assert.ok(clears(done.setCookies, "authlane-tx"), "the transaction cookie is spent");
  const session = cookieAttributes(done.setCookies, "authlane-session");
  for (const attribute of ["httponly", "samesite=lax", "path=/"]) {
    assert.ok(session.has(attribute), attribute);
  }
  // The cookie names a server-side session; no token is in it.
  const stored = await env.stored();
  const value = env.jar.get("authlane-session")!;
  for (const token of [stored.accessToken, stored.refreshToken, stored.idToken]) {
    assert.ok(!value.includes(token) && !token.includes(value));
  }

  const page = await env.browse("GET", "/");
  assert.equal(page.status, 200);
  assert.match(page.html, /data-subject>alice</);
  assert.match(page.html, /data-name>User alice</);
  assert.match(page.html, /data-email>alice@example\.com</);
  assert.match(page.html, /data-refreshes="0"/);
});

Deno.test("web_app: a tampered or unknown session cookie shows the signed-out page and is cleared", async () => {
  await using env = await startWebEnv();
  await env.signIn();
  const genuine = env.jar.get("authlane-session")!;
  for (const value of [genuine.slice(0, -1), `${genuine}.x`, "A".repeat(43)]) {
    const page = await env.browse("GET", "/", `authlane-session=${value}`);
    assert.equal(page.status, 200, value);
    assert.match(page.html, /Not signed in/, value);
    assert.ok(clears(page.setCookies, "authlane-session"), value);
  }
  assert.match(
    (await env.browse("GET", "/", `authlane-session=${genuine}`)).html,
    /data-subject>alice</,
  );
});

Deno.test("web_app: a callback this browser did not start is refused before the code is used", async () => {
  await using env = await startWebEnv();
  const attacker = new CookieJar();
  const attackerStart = await fetch(`${env.origin}/login`, { redirect: "manual" });
  await attackerStart.body?.cancel();
  const attackerCallback = await env.op.login(attackerStart.headers.get("location")!, {
    jar: attacker,
    accountId: "mallory",
  });
  const csrf = await env.browse("GET", attackerCallback);
  assert.equal(csrf.status, 400);
  assert.match(csrf.html, /data-code="SESSION_TRANSACTION_MISSING"/);
  assert.match((await env.browse("GET", "/")).html, /Not signed in/);
});

Deno.test("web_app: a user who refuses consent gets the provider's error, not a session", async () => {
  await using env = await startWebEnv();
  const start = await env.browse("GET", "/login");
  const callback = await env.op.login(start.location!, { jar: env.jar, consent: false });
  const page = await env.browse("GET", callback);
  assert.equal(page.status, 400);
  assert.match(page.html, /data-error="access_denied"/);
  assert.equal(env.jar.get("authlane-session"), undefined);
});

Deno.test("web_app: an expired access token is refreshed before the page uses it", async () => {
  await using env = await startWebEnv();
  await env.signIn();
  const first = await env.stored();
  env.clock.offset = 2 * 3600; // past the one-hour access token
  const page = await env.browse("GET", "/");
  assert.match(page.html, /data-subject>alice</);
  assert.match(page.html, /data-refreshes="1"/);
  const second = await env.stored();
  assert.notEqual(second.accessToken, first.accessToken);
  assert.notEqual(second.refreshToken, first.refreshToken, "rotated");
  assert.match((await env.browse("GET", "/")).html, /data-refreshes="1"/);
});

Deno.test("web_app: a refused refresh signs the user out", async () => {
  await using env = await startWebEnv();
  await env.signIn();
  const as = await env.app.auth.metadata();
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(
      as,
      { client_id: "web-app" },
      oauth.ClientSecretBasic(env.clientSecret),
      (await env.stored()).refreshToken,
      http,
    ),
  );
  env.clock.offset = 2 * 3600;
  const page = await env.browse("GET", "/");
  assert.match(page.html, /Not signed in/);
  assert.ok(clears(page.setCookies, "authlane-session"));
});

Deno.test("web_app: /logout revokes the refresh token, clears the cookie and ends the provider session", async () => {
  await using env = await startWebEnv();
  await env.signIn();
  const { refreshToken, idToken } = await env.stored();
  const cookie = `authlane-session=${env.jar.get("authlane-session")!}`;

  const out = await env.browse("POST", "/logout");
  assert.equal(out.status, 303);
  assert.ok(clears(out.setCookies, "authlane-session"));
  const as = await env.app.auth.metadata();
  const end = new URL(out.location!);
  assert.equal(end.href.split("?")[0], as.end_session_endpoint);
  assert.equal(end.searchParams.get("id_token_hint"), idToken);
  assert.equal(end.searchParams.get("post_logout_redirect_uri"), `${env.origin}/`);

  assert.match((await env.browse("GET", "/", cookie)).html, /Not signed in/);
  const introspected = await oauth.processIntrospectionResponse(
    as,
    { client_id: "web-app" },
    await oauth.introspectionRequest(
      as,
      { client_id: "web-app" },
      oauth.ClientSecretBasic(env.clientSecret),
      refreshToken,
      http,
    ),
  );
  assert.equal(introspected.active, false);
  assert.equal((await env.op.logout(end, env.jar)).href, `${env.origin}/`);
});

Deno.test("web_app: the provider's back-channel logout signs the browser out", async () => {
  await using env = await startWebEnv();
  await env.signIn();
  assert.match((await env.browse("GET", "/")).html, /data-subject>alice</);
  // The user signs out at the provider itself; it tells the app on the back channel.
  await env.op.logout((await env.app.auth.metadata()).end_session_endpoint!, env.jar);
  const page = await env.browse("GET", "/");
  assert.match(page.html, /Not signed in/);
  assert.ok(clears(page.setCookies, "authlane-session"));
});

// ---------------------------------------------------------------------------------------------
// examples/device_cli.ts

type Fetch = (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;

/** Passes requests through, letting `bend` answer or rewrite those to one endpoint. */
function interpose(
  path: string,
  bend: (forward: () => Promise<Response>, count: number) => Promise<Response>,
): Fetch {
  let count = 0;
  return (url, init) => {
    const forward = () => fetch(url, init as RequestInit);
    return new URL(url).pathname === path ? bend(forward, ++count) : forward();
  };
}

Deno.test("device_cli: polls until the user approves, adding 5 s to the interval after slow_down", async () => {
  await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
  const lines: string[] = [];
  let userCode = "";
  const waits: number[] = [];
  const result = await runDeviceCli({
    issuer: new URL(op.issuer),
    clientId: op.clients.public.client_id,
    allowInsecureRequests: true,
    // The server's first answer to the poll is slow_down.
    customFetch: interpose(
      "/token",
      (forward, count) =>
        count === 1
          ? Promise.resolve(Response.json({ error: "slow_down" }, { status: 400 }))
          : forward(),
    ),
    print: (line) => lines.push(line),
    onAuthorization: (device) => userCode = device.user_code,
    wait: async (seconds) => {
      waits.push(seconds);
      if (waits.length === 3) await op.approveDeviceCode(userCode, { accountId: "dave" });
    },
  });
  // 5 s (RFC 8628 default), then 10 s after slow_down, kept after authorization_pending.
  assert.deepEqual(result.waits, [5, 10, 10]);
  assert.deepEqual(waits, [5, 10, 10]);
  assert.ok(lines[0]!.includes(userCode) && lines[0]!.includes(`${op.issuer}/device`));
  assert.ok(lines.some((line) => line.includes(`user_code=${encodeURIComponent(userCode)}`)));
  assert.equal(result.claims?.sub, "dave");
  assert.equal(result.tokens.token_type, "bearer");
});

Deno.test("device_cli: waits the interval the server gives before each poll", async () => {
  await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
  let userCode = "";
  const result = await runDeviceCli({
    issuer: new URL(op.issuer),
    clientId: op.clients.public.client_id,
    allowInsecureRequests: true,
    customFetch: interpose("/device/auth", async (forward) => {
      const response = await forward();
      return Response.json({ ...await response.json(), interval: 7 }, { status: response.status });
    }),
    print: () => {},
    onAuthorization: (device) => userCode = device.user_code,
    wait: async (seconds) => {
      if (seconds === 7) await op.approveDeviceCode(userCode);
    },
  });
  assert.deepEqual(result.waits, [7]);
  assert.equal(result.claims?.sub, "alice");
});

Deno.test("device_cli: a user who refuses on the other device ends it with access_denied", async () => {
  await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
  let userCode = "";
  await assert.rejects(
    runDeviceCli({
      issuer: new URL(op.issuer),
      clientId: op.clients.public.client_id,
      allowInsecureRequests: true,
      print: () => {},
      onAuthorization: (device) => userCode = device.user_code,
      wait: () => op.approveDeviceCode(userCode, { consent: false }),
    }),
    (err) => err instanceof oauth.ResponseBodyError && err.error === "access_denied",
  );
});

Deno.test("device_cli: stops polling when the code's lifetime runs out", async () => {
  await using op = await startProvider({
    features: { deviceFlow: { enabled: true } },
    configuration: { ttl: { DeviceCode: 12 } },
  });
  const waits: number[] = [];
  await assert.rejects(
    runDeviceCli({
      issuer: new URL(op.issuer),
      clientId: op.clients.public.client_id,
      allowInsecureRequests: true,
      print: () => {},
      wait: (seconds) => Promise.resolve(void waits.push(seconds)),
    }),
    DeviceCodeExpiredError,
  );
  assert.deepEqual(waits, [5, 5], "a third poll would come after 15 s, past the 12 s lifetime");
});

// ---------------------------------------------------------------------------------------------
// examples/edge_api.ts

const OTHER_RESOURCE = "https://other.example";

interface EdgeEnv extends AsyncDisposable {
  op: OidcProviderHarness;
  /** `GET /me` of the API. */
  api: URL;
  as: oauth.AuthorizationServer;
  /** A client credentials token for `resource`, DPoP-bound when `DPoP` is given. */
  token(DPoP?: oauth.DPoPHandle, resource?: string): Promise<string>;
  /** Calls the API with `protectedResourceRequest`. */
  call(
    token: string,
    options?: oauth.ProtectedResourceRequestOptions,
    url?: URL,
  ): Promise<Response>;
}

async function startEdgeEnv(config: Partial<EdgeApiConfig> = {}): Promise<EdgeEnv> {
  const op = await startProvider({
    resourceServers: {
      [OTHER_RESOURCE]: {
        scope: "api:read",
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "ES256" } },
      },
    },
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createEdgeApi({
      issuer: new URL(op.issuer),
      audience: op.resource,
      allowInsecureRequests: true,
      ...config,
    }),
  );
  const api = new URL(`http://127.0.0.1:${server.addr.port}/me`);
  const issuer = new URL(op.issuer);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, http),
  );
  const client: oauth.Client = { client_id: op.clients.confidential.client_id };
  const clientAuth = oauth.ClientSecretBasic(op.clients.confidential.client_secret!);
  return {
    op,
    api,
    as,
    async token(DPoP, resource = op.resource) {
      const tokens = await oauth.processClientCredentialsResponse(
        as,
        client,
        await oauth.clientCredentialsGrantRequest(as, client, clientAuth, {
          resource,
          scope: "api:read",
        }, { ...http, DPoP }),
      );
      assert.equal(tokens.token_type, DPoP ? "dpop" : "bearer");
      return tokens.access_token;
    },
    call(token, options = {}, url = api) {
      return oauth.protectedResourceRequest(token, "GET", url, undefined, undefined, {
        ...http,
        ...options,
      });
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await op.close();
    },
  };
}

/** Calls the API and returns the challenge it answered with. */
async function refusal(
  call: Promise<Response>,
  status: number,
): Promise<Record<string, string | undefined>> {
  const err = await assertRejectsWith(call, oauth.WWWAuthenticateChallengeError);
  assert.equal(err.status, status);
  assert.equal(err.cause.length, 1);
  assert.equal(err.cause[0]!.scheme, "dpop");
  return err.cause[0]!.parameters as Record<string, string | undefined>;
}

async function assertRejectsWith<T extends Error>(
  promise: Promise<unknown>,
  Class: new (...args: never[]) => T,
): Promise<T> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Class, `expected ${Class.name}, got ${err}`);
    return err;
  }
  assert.fail(`expected ${Class.name}, nothing was thrown`);
}

function b64urlJson(value: unknown): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function jwtPart(jwt: string, index: 0 | 1): Record<string, unknown> {
  const part = jwt.split(".")[index]!;
  return JSON.parse(atob(part.replaceAll("-", "+").replaceAll("_", "/")));
}

Deno.test("edge_api: GET /me accepts a DPoP-bound RFC 9068 token from the provider with its proof", async () => {
  await using env = await startEdgeEnv();
  const keyPair = await oauth.generateKeyPair("ES256");
  const DPoP = oauth.DPoP({}, keyPair);
  const token = await env.token(DPoP);
  assert.equal(jwtPart(token, 0).typ, "at+jwt");
  const response = await env.call(token, { DPoP });
  assert.equal(response.status, 200);
  const me: MeResponse = await response.json();
  assert.deepEqual(me, {
    sub: env.op.clients.confidential.client_id,
    client_id: env.op.clients.confidential.client_id,
    scope: "api:read",
    jkt: await DPoP.calculateThumbprint(),
  });
  // A second call reuses the metadata and the JWKS.
  const again = await env.call(token, { DPoP });
  assert.equal(again.status, 200);
  await again.body?.cancel();
});

Deno.test("edge_api: a request without credentials gets a bare DPoP challenge", async () => {
  await using env = await startEdgeEnv();
  const response = await fetch(env.api);
  await response.body?.cancel();
  assert.equal(response.status, 401);
  assert.match(response.headers.get("www-authenticate")!, /^DPoP algs="ES256 [^"]+"$/);
});

Deno.test("edge_api: a DPoP-bound token stripped of its proof and sent as Bearer is refused with invalid_token", async () => {
  await using env = await startEdgeEnv();
  const token = await env.token(oauth.DPoP({}, await oauth.generateKeyPair("ES256")));
  const challenge = await refusal(env.call(token), 401);
  assert.equal(challenge.error, "invalid_token");
  assert.match(challenge.algs!, /ES256/);
});

Deno.test("edge_api: a stolen DPoP-bound token with the thief's own proof fails the key binding", async () => {
  await using env = await startEdgeEnv();
  const token = await env.token(oauth.DPoP({}, await oauth.generateKeyPair("ES256")));
  const thief = oauth.DPoP({}, await oauth.generateKeyPair("ES256"));
  const challenge = await refusal(env.call(token, { DPoP: thief }), 401);
  assert.equal(challenge.error, "invalid_token");
});

Deno.test("edge_api: a proof made for another URL is refused with invalid_dpop_proof", async () => {
  await using env = await startEdgeEnv();
  const DPoP = oauth.DPoP({}, await oauth.generateKeyPair("ES256"));
  const token = await env.token(DPoP);
  const elsewhere = new URL("/elsewhere", env.api);
  const challenge = await refusal(
    env.call(token, {
      DPoP,
      // The proof's htu names /elsewhere; the request goes to /me.
      [oauth.customFetch]: (_url, init) => fetch(env.api, init as RequestInit),
    }, elsewhere),
    401,
  );
  assert.equal(challenge.error, "invalid_dpop_proof");
});

Deno.test("edge_api: forged tokens are refused: altered claims, another signer, alg none", async () => {
  await using env = await startEdgeEnv();
  const DPoP = oauth.DPoP({}, await oauth.generateKeyPair("ES256"));
  const genuine = await env.token(DPoP);
  const [header, payload, signature] = genuine.split(".") as [string, string, string];
  const claims = jwtPart(genuine, 1);
  const escalated = b64urlJson({ ...claims, scope: "api:read api:admin" });
  const attacker = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const input = `${header}.${payload}`;
  const attackerSignature = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      attacker.privateKey,
      new TextEncoder().encode(input),
    ),
  );
  const forgeries: Record<string, string> = {
    "altered claims": `${header}.${escalated}.${signature}`,
    "another signer": `${input}.${
      btoa(String.fromCharCode(...attackerSignature)).replaceAll("+", "-").replaceAll("/", "_")
        .replace(/=+$/, "")
    }`,
    "alg none": `${b64urlJson({ ...jwtPart(genuine, 0), alg: "none" })}.${payload}.`,
  };
  for (const [label, token] of Object.entries(forgeries)) {
    const challenge = await refusal(env.call(token, { DPoP }), 401);
    assert.equal(challenge.error, "invalid_token", label);
  }
});

Deno.test("edge_api: a token for another audience, or one not bound to a key, is refused", async () => {
  await using env = await startEdgeEnv();
  const DPoP = oauth.DPoP({}, await oauth.generateKeyPair("ES256"));
  const other = await env.token(DPoP, OTHER_RESOURCE);
  assert.equal(jwtPart(other, 1).aud, OTHER_RESOURCE);
  assert.equal((await refusal(env.call(other, { DPoP }), 401)).error, "invalid_token");

  const bearer = await env.token(); // a valid token, but the API requires DPoP
  assert.equal((await refusal(env.call(bearer), 401)).error, "invalid_token");
});

Deno.test("edge_api: a valid token without the required scope gets 403 insufficient_scope", async () => {
  await using env = await startEdgeEnv({ requiredScope: "api:write" });
  const DPoP = oauth.DPoP({}, await oauth.generateKeyPair("ES256"));
  const challenge = await refusal(env.call(await env.token(DPoP), { DPoP }), 403);
  assert.equal(challenge.error, "insufficient_scope");
  assert.equal(challenge.scope, "api:write");
});

// ---------------------------------------------------------------------------------------------
// examples/fapi2_client.ts

/** Records the paths of the requests a customFetch sees, bending the discovery document. */
function recording(
  paths: string[],
  discovery: (metadata: Record<string, unknown>) => Record<string, unknown> = (m) => m,
): Fetch {
  return async (url, init) => {
    const { pathname } = new URL(url);
    paths.push(pathname);
    const response = await fetch(url, init as RequestInit);
    if (pathname !== "/.well-known/openid-configuration") return response;
    return Response.json(discovery(await response.json()), { status: response.status });
  };
}

Deno.test("fapi2_client: PAR + PKCE + DPoP: only client_id and request_uri cross the browser, and the tokens are DPoP-bound", async () => {
  await using embedded = await startEmbeddedFapi("dpop");
  const { options, op } = embedded;
  const paths: string[] = [];
  const result = await runFapi2Flow({ ...options, customFetch: recording(paths) });

  assert.deepEqual([...result.authorizationUrl.searchParams.keys()].sort(), [
    "client_id",
    "request_uri",
  ]);
  assert.match(result.requestUri, /^urn:ietf:params:oauth:request_uri:/);
  assert.deepEqual(paths, [
    "/.well-known/openid-configuration",
    "/request",
    "/token",
    "/jwks",
    "/me",
    "/token",
  ]);
  assert.equal(result.claims.sub, "alice");
  assert.equal(result.userinfo.email, "alice@example.com");
  assert.equal(result.tokens.token_type, "dpop");
  assert.equal(result.refreshed.token_type, "dpop");

  // The provider bound the access token to the DPoP key (RFC 9449 §6.2).
  assert.equal(options.constraint.kind, "dpop");
  const keyPair = (options.constraint as { keyPair: CryptoKeyPair }).keyPair;
  const introspected = await oauth.processIntrospectionResponse(
    result.as,
    options.client,
    await oauth.introspectionRequest(
      result.as,
      options.client,
      options.clientAuth,
      result.refreshed.access_token,
      http,
    ),
  );
  assert.deepEqual(introspected.cnf, {
    jkt: await oauth.DPoP(options.client, keyPair).calculateThumbprint(),
  });

  // The provider really requires PAR: a plain authorization request is refused.
  const plain = new URL(result.as.authorization_endpoint!);
  plain.search = new URLSearchParams({
    client_id: options.client.client_id,
    redirect_uri: options.redirectUri,
    response_type: "code",
    scope: "openid",
    code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
    code_challenge_method: "S256",
  }).toString();
  const refused = await op.login(plain);
  assert.equal(refused.searchParams.get("error"), "invalid_request");
});

Deno.test("fapi2_client: the PAR and token requests carry proofs of the same DPoP key, binding the code to it", async () => {
  await using embedded = await startEmbeddedFapi("dpop");
  const { options } = embedded;
  const proofs = new Map<string, string>();
  await runFapi2Flow({
    ...options,
    customFetch: (url, init) => {
      const proof = init.headers.dpop;
      if (proof !== undefined) proofs.set(new URL(url).pathname, proof);
      return fetch(url, init as RequestInit);
    },
  });
  assert.deepEqual([...proofs.keys()], ["/request", "/token", "/me"]);
  const keyPair = (options.constraint as { keyPair: CryptoKeyPair }).keyPair;
  const expected = await oauth.DPoP(options.client, keyPair).calculateThumbprint();
  for (const [path, proof] of proofs) {
    const { jwk, typ } = jwtPart(proof, 0) as { jwk: { x: string; y: string }; typ: string };
    assert.equal(typ, "dpop+jwt", path);
    // RFC 7638 thumbprint of the EC public key in the proof.
    const canonical = JSON.stringify({ crv: "P-256", kty: "EC", x: jwk.x, y: jwk.y });
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)),
    );
    const thumbprint = btoa(String.fromCharCode(...digest)).replaceAll("+", "-")
      .replaceAll("/", "_").replace(/=+$/, "");
    assert.equal(thumbprint, expected, path);
    assert.equal(jwtPart(proof, 1).htu, `${new URL(options.issuer).origin}${path}`);
  }
});

Deno.test("fapi2_client: a callback naming another issuer (mix-up) is refused before the code is sent anywhere", async () => {
  await using embedded = await startEmbeddedFapi("dpop");
  const { options, op } = embedded;
  const paths: string[] = [];
  const err = await assertRejectsWith(
    runFapi2Flow({
      ...options,
      customFetch: recording(paths),
      authorize: async (url) => {
        const callback = await op.login(url);
        callback.searchParams.set("iss", "https://attacker.example");
        return callback;
      },
    }),
    oauth.OperationProcessingError,
  );
  assert.equal(err.code, oauth.INVALID_RESPONSE);
  assert.deepEqual(paths, ["/.well-known/openid-configuration", "/request"]);
});

Deno.test("fapi2_client: a server without PAR, RFC 9207 iss or DPoP is refused before any other request", async () => {
  await using embedded = await startEmbeddedFapi("dpop");
  const paths: string[] = [];
  const err = await assertRejectsWith(
    runFapi2Flow({
      ...embedded.options,
      customFetch: recording(paths, (metadata) => {
        const {
          pushed_authorization_request_endpoint: _par,
          authorization_response_iss_parameter_supported: _iss,
          dpop_signing_alg_values_supported: _dpop,
          ...rest
        } = metadata;
        return rest;
      }),
    }),
    Fapi2ProfileError,
  );
  assert.deepEqual(err.missing, [
    "pushed_authorization_request_endpoint",
    "authorization_response_iss_parameter_supported",
    "dpop_signing_alg_values_supported",
  ]);
  assert.deepEqual(paths, ["/.well-known/openid-configuration"]);
});

Deno.test("fapi2_client: PAR + PKCE + mTLS: tls_client_auth through the mTLS aliases and certificate-bound tokens", async () => {
  await using embedded = await startEmbeddedFapi("mtls");
  const { options } = embedded;
  try {
    const result = await runFapi2Flow(options);
    const aliases = result.as.mtls_endpoint_aliases as Record<string, string>;
    assert.equal(aliases.pushed_authorization_request_endpoint, `${embedded.op.issuer}/request`);
    assert.equal(result.claims.sub, "alice");
    assert.equal(result.userinfo.email, "alice@example.com");
    assert.equal(result.tokens.token_type, "bearer");

    // RFC 8705 §3.1: the access token is bound to the certificate the client presented.
    const pki = await getPki();
    const introspected = await oauth.processIntrospectionResponse(
      result.as,
      options.client,
      await oauth.introspectionRequest(
        result.as,
        options.client,
        options.clientAuth,
        result.refreshed.access_token,
      ),
    );
    assert.deepEqual(introspected.cnf, { "x5t#S256": pki.ec.x5tS256 });

    // Without the certificate, the same client is unknown to the token endpoint.
    const bare: oauth.Client = { client_id: options.client.client_id };
    const refused = await oauth.refreshTokenGrantRequest(
      result.as,
      bare,
      options.clientAuth,
      result.refreshed.refresh_token!,
      { [oauth.customFetch]: options.customFetch },
    );
    const denied = await assertRejectsWith(
      oauth.processRefreshTokenResponse(result.as, bare, refused),
      oauth.ResponseBodyError,
    );
    assert.equal(denied.error, "invalid_client");
  } finally {
    oauth.closeMtlsConnections(options.client);
  }
});
