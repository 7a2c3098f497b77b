/**
 * The test environment of the session layer: oidc-provider on loopback with rotating refresh
 * tokens and back-channel logout, an app on `Deno.serve` built with `createSessionAuth` on a
 * `:memory:` or SQLite-file Deno KV, a cookie-jar browser, an adjustable clock, and a record of
 * what the provider saw (grants by type, requests by path, back-channel deliveries).
 *
 * The session layer runs on the package entry (`mod.ts`) in both runs of the suite, so these
 * tests take the library's classes and symbols from there too (`oauth` below): an
 * `instanceof oauth.ResponseBodyError` must name the class the layer throws.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as oauth from "../../mod.ts";
import {
  createSessionAuth,
  type Session,
  type SessionAuth,
  type SessionAuthOptions,
} from "@authlane/oauth/session";
import { CookieJar, type OidcProviderHarness, startProvider } from "../_oidc_provider.ts";
import { sessionProviderOptions, webAppClient } from "../_oidc_provider/session.ts";
import type { StartProviderOptions } from "../_oidc_provider/types.ts";

export { oauth };

/** The app's client id at the provider. */
export const CLIENT_ID = "web-app";

/** A page as the test browser saw it. */
export interface Page {
  status: number;
  location: string | null;
  setCookies: string[];
  html: string;
}

/** Where the KV lives. */
export type KvKind = "memory" | "file";

/** Options of {@linkcode startEnv}. */
export interface EnvOptions {
  /** `:memory:` or a SQLite file in a temporary folder. @default "memory" */
  kv?: KvKind;
  /** Overrides of the app's `createSessionAuth` options. */
  auth?: Partial<SessionAuthOptions>;
  /** Extra provider options (merged by `sessionProviderOptions`). */
  provider?: StartProviderOptions;
  /** Extra metadata of the app's client registration. */
  client?: Record<string, unknown>;
  /** Wraps the KV the app sees (fault injection). */
  wrapKv?: (kv: Deno.Kv) => Deno.Kv;
}

/** A running provider and app. */
export interface Env extends AsyncDisposable {
  op: OidcProviderHarness;
  auth: SessionAuth;
  /** The app's origin, `http://127.0.0.1:PORT` (local development mode). */
  origin: string;
  kv: Deno.Kv;
  /** The SQLite file, for `kv: "file"`. */
  kvPath?: string;
  clientSecret: string;
  /** The browser: one jar for the app and the provider. */
  jar: CookieJar;
  /** Seconds added to the app's clock. */
  clock: { offset: number };
  /** `grant_type` of every successful token request, in order. */
  grants: string[];
  /** OAuth `error` of every failed token request. */
  grantErrors: string[];
  /** Back-channel logout deliveries: "ok" or the error message. */
  backchannel: string[];
  /** Lookups the app served: the session it saw, or null. */
  seen: (Session | null)[];
  /** Every `logout_token` posted to the app's back-channel logout endpoint. */
  logoutTokens: string[];
  /** Requests the app at `target`, with the jar's cookies unless `cookie` is given. */
  browse(
    method: "GET" | "POST",
    target: string | URL,
    init?: { cookie?: string; headers?: Record<string, string> },
  ): Promise<Page>;
  /** Signs in through the provider's pages; returns the session cookie value. */
  signIn(accountId?: string, jar?: CookieJar): Promise<string>;
  /** The session cookie's value in the jar. */
  sessionCookie(jar?: CookieJar): string | undefined;
  /** Every KV entry under the layer's prefix, keys joined with "/". */
  dump(): Promise<Map<string, unknown>>;
}

/** Starts a provider and the app, registered with each other. */
export async function startEnv(options: EnvOptions = {}): Promise<Env> {
  let dir: string | undefined;
  let kvPath: string | undefined;
  if (options.kv === "file") {
    dir = await Deno.makeTempDir({ prefix: "authlane-session-" });
    kvPath = `${dir}/kv.sqlite3`;
  }
  const kv = await Deno.openKv(kvPath ?? ":memory:");
  // The app's origin is in its redirect URI, so the server listens before the app exists.
  const serving: { handler?: (request: Request) => Promise<Response> } = {};
  const seen: (Session | null)[] = [];
  const logoutTokens: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const handler = serving.handler;
      if (handler === undefined) return new Response(null, { status: 503 });
      if (new URL(request.url).pathname === "/backchannel-logout" && request.method === "POST") {
        // Read the body here and hand the app a copy (clone() would touch request.signal).
        const body = await request.text();
        const token = new URLSearchParams(body).get("logout_token");
        if (token !== null) logoutTokens.push(token);
        return await handler(
          new Request(request.url, { method: "POST", headers: request.headers, body }),
        );
      }
      return await handler(request);
    },
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const clientSecret = crypto.randomUUID();
  const clock = { offset: 0 };
  let op: OidcProviderHarness | undefined;
  try {
    op = await startProvider(
      sessionProviderOptions([webAppClient(origin, CLIENT_ID, clientSecret, options.client)], {
        ...options.provider,
      }),
    );
  } catch (error) {
    await server.shutdown();
    kv.close();
    throw error;
  }
  const provider = op;
  const grants: string[] = [];
  const grantErrors: string[] = [];
  const backchannel: string[] = [];
  const events = provider.provider as unknown as {
    on(event: string, fn: (...args: never[]) => void): void;
  };
  events.on("grant.success", (ctx: { oidc: { params: { grant_type: string } } }) => {
    grants.push(ctx.oidc.params.grant_type);
  });
  events.on("grant.error", (_ctx: unknown, error: { error?: string }) => {
    grantErrors.push(error.error ?? "unknown");
  });
  events.on("backchannel.success", () => backchannel.push("ok"));
  events.on("backchannel.error", (_ctx: unknown, error: Error) => backchannel.push(error.message));

  const app = createSessionAuth({
    issuer: provider.issuer,
    client: { client_id: CLIENT_ID },
    clientAuth: oauth.ClientSecretBasic(clientSecret),
    redirectUri: `${origin}/callback`,
    kv: options.wrapKv ? options.wrapKv(kv) : kv,
    scope: "openid profile email",
    allowInsecureRequests: true,
    now: () => Math.floor(Date.now() / 1000) + clock.offset,
    log: () => {},
    ...options.auth,
  });
  serving.handler = app.handler((_request, session) => {
    seen.push(session);
    const body = session === null
      ? `<p data-signed-out>Not signed in</p><a href="/login">Sign in</a>`
      : `<p data-sub="${session.sub}" data-refreshes="${session.refreshes}">Signed in</p>`;
    return new Response(`<!DOCTYPE html>${body}`, {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  });

  const jar = new CookieJar();
  const browse: Env["browse"] = async (method, target, init = {}) => {
    const url = new URL(target, origin);
    const headers = init.cookie === undefined
      ? jar.headersFor(url, init.headers)
      : new Headers({ ...init.headers, cookie: init.cookie });
    const response = await fetch(url, { method, headers, redirect: "manual" });
    if (init.cookie === undefined) jar.store(url, response);
    return {
      status: response.status,
      location: response.headers.get("location"),
      setCookies: response.headers.getSetCookie(),
      html: await response.text(),
    };
  };
  const sessionCookie = (which = jar) => which.get(app.cookies.session);
  return {
    op: provider,
    auth: app,
    origin,
    kv,
    kvPath,
    clientSecret,
    jar,
    clock,
    grants,
    grantErrors,
    backchannel,
    seen,
    logoutTokens,
    browse,
    sessionCookie,
    async signIn(accountId = "alice", which = jar) {
      const start = await fetch(`${origin}/login`, {
        headers: which.headersFor(`${origin}/login`),
        redirect: "manual",
      });
      which.store(`${origin}/login`, start);
      await start.body?.cancel();
      assert.equal(start.status, 302);
      const callback = await provider.login(start.headers.get("location")!, {
        jar: which,
        accountId,
      });
      const done = await fetch(callback, {
        headers: which.headersFor(callback),
        redirect: "manual",
      });
      which.store(callback, done);
      const html = await done.text();
      assert.equal(done.status, 303, html);
      const value = sessionCookie(which);
      assert.ok(value, "signed in");
      return value;
    },
    async dump() {
      const entries = new Map<string, unknown>();
      for await (const entry of kv.list({ prefix: ["authlane"] })) {
        entries.set(entry.key.slice(1).map(String).join("/"), entry.value);
      }
      return entries;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await provider.close();
      await app.close();
      kv.close();
      if (dir !== undefined) await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The request a browser holding `cookie` sends to the app. */
export function requestWith(env: Env, cookie: string | undefined, path = "/"): Request {
  return new Request(new URL(path, env.origin), {
    headers: cookie === undefined ? {} : { cookie: `${env.auth.cookies.session}=${cookie}` },
  });
}

/** The `Set-Cookie` line for `name`, split into lowercase attributes (value first). */
export function cookieLine(setCookies: string[], name: string): string[] {
  const line = setCookies.find((header) => header.startsWith(`${name}=`));
  assert.ok(line, `no Set-Cookie for ${name} in ${JSON.stringify(setCookies)}`);
  return line.split(";").map((part) => part.trim().toLowerCase());
}

/** Whether the response deletes cookie `name`. */
export function clears(setCookies: string[], name: string): boolean {
  return setCookies.some((line) => line.startsWith(`${name}=;`) && /Max-Age=0/i.test(line));
}

/** Revokes `refreshToken` at the provider as the app's client (RFC 7009). */
export async function revokeAtProvider(env: Env, refreshToken: string): Promise<void> {
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(
      await env.auth.metadata(),
      { client_id: CLIENT_ID },
      oauth.ClientSecretBasic(env.clientSecret),
      refreshToken,
      { [oauth.allowInsecureRequests]: true },
    ),
  );
}

/** Awaits `promise` and returns the error it rejects with, checking its class. */
export async function rejection<T extends Error>(
  promise: Promise<unknown>,
  Class: abstract new (...args: never[]) => T,
): Promise<T> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Class, `expected ${Class.name}, got ${error}`);
    return error;
  }
  assert.fail(`expected ${Class.name}, nothing was thrown`);
}
