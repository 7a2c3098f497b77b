/**
 * {@linkcode createSessionAuth}: one object that signs users in with OpenID Connect and keeps their
 * sessions in Deno KV, with request handlers of the form `(request: Request) => Promise<Response>`
 * for `Deno.serve`, Deno Deploy, Fresh or Hono routes, and a session lookup that always returns a
 * fresh access token.
 *
 * It holds the configuration, discovers the provider once per isolate (and once an hour across
 * isolates, through KV), and maps errors to responses: a {@linkcode SessionError} answers with its
 * `status`, a refused authorization (`AuthorizationResponseError`) or a bad callback with 400, a
 * provider that fails a check with 502, each with a small HTML page naming the error `code` (no
 * token, no message detail). Pass `onError` to render your own.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import {
  cachedDiscovery,
  checkClientOptions,
  codeOf,
  type Context,
  type CustomFetch,
  httpOptions,
  type SessionEvent,
  taggedStatus,
  toUrl,
} from "./_context.ts";
import { backchannelLogout } from "./backchannel_logout.ts";
import { clearCookie, type CookieNames, cookieNamesFor, readCookie } from "./cookies.ts";
import { argumentError, SessionError } from "./errors.ts";
import { createKvJwksCache, type KvJwksCache } from "./jwks_cache.ts";
import { checkPrefix, type KeyPart, KvHandle, type KvRetryOptions } from "./kv.ts";
import { callback, signIn, type SignInOptions } from "./sign_in.ts";
import { signOut } from "./sign_out.ts";
import { freshSession, type Session } from "./store.ts";

/** Options of {@linkcode createSessionAuth}. */
export interface SessionAuthOptions {
  /** The OpenID Provider's issuer identifier; discovered with OpenID Connect Discovery 1.0. */
  issuer: URL | string;
  /** The provider's metadata, when you have it: no discovery then. */
  as?: oauth.AuthorizationServer;
  /** The client (at least `client_id`; any metadata the library reads, e.g. `[clockSkew]`). */
  client: oauth.Client;
  /** How the client authenticates, e.g. `oauth.ClientSecretBasic(secret)` or `oauth.None()`. */
  clientAuth: oauth.ClientAuth;
  /**
   * The registered redirect URI; its origin is the application's origin, and its path is the
   * callback route. `https:`, or `http:` on localhost, 127.0.0.1 or [::1] (local development).
   */
  redirectUri: URL | string;
  /**
   * Where the provider sends the browser after RP-initiated logout (register it as a
   * `post_logout_redirect_uri`), and where sign-out lands without one.
   * @default the application's origin with path `/`
   */
  postLogoutRedirectUri?: URL | string;
  /**
   * The database: a `Deno.Kv`, or a path or URL for `Deno.openKv()` (a local SQLite file,
   * `":memory:"`, or a KV Connect URL such as `"http://kv.internal:4512"`).
   * @default Deno.openKv(): a local SQLite file, or Deno Deploy's KV when deployed
   */
  kv?: Deno.Kv | string;
  /** The key namespace: every key of this layer starts with it. @default ["authlane"] */
  prefix?: readonly KeyPart[];
  /** The scope to ask for. @default "openid" */
  scope?: string;
  /** Extra authorization request parameters for every sign-in (`prompt`, `acr_values`, ...). */
  authorizationParameters?: Record<string, string>;
  /**
   * Push authorization requests (RFC 9126) even when the server does not require it.
   * @default false (they are pushed when the server requires it)
   */
  pushedAuthorizationRequests?: boolean;
  /** How long a session lasts at most, in seconds, whatever the tokens say. @default 43200 */
  sessionTtl?: number;
  /** How long a sign-in may take, in seconds. @default 600 */
  transactionTtl?: number;
  /** Refresh an access token this many seconds before it expires. @default 60 */
  refreshAhead?: number;
  /** How long one refresh may hold the session's lease, in milliseconds. @default 30000 */
  leaseMs?: number;
  /** How long discovered metadata is kept in KV, in seconds. @default 3600 */
  discoveryTtl?: number;
  /** Route paths for {@linkcode SessionAuth.handler}. */
  routes?: SessionRoutes;
  /** Allow `http:` provider URLs (loopback development only). @default false */
  allowInsecureRequests?: boolean;
  /** A `fetch` replacement for requests to the provider. */
  customFetch?: CustomFetch;
  /** Retries of a locked local KV. */
  retry?: KvRetryOptions;
  /** The clock, in epoch seconds. @default the system clock */
  now?: () => number;
  /**
   * Renders an error as a response. `status` is the suggested HTTP status.
   * @default a small HTML page naming the error code
   */
  onError?: (error: unknown, request: Request, status: number) => Response | Promise<Response>;
  /**
   * Receives events worth logging (a failed revocation, a refused logout token); they carry an
   * error `code`, never a token. @default console.warn
   */
  log?: (event: SessionEvent) => void;
}

/** Route paths that {@linkcode SessionAuth.handler} serves. */
export interface SessionRoutes {
  /** Starts a sign-in (`GET`). @default "/login" */
  signIn?: string;
  /** Signs out (`POST`). @default "/logout" */
  signOut?: string;
  /** The back-channel logout endpoint (`POST`); register it as `backchannel_logout_uri`. @default "/backchannel-logout" */
  backchannelLogout?: string;
}

/** Sign-in, sessions and sign-out on Deno KV, made by {@linkcode createSessionAuth}. */
export interface SessionAuth extends AsyncDisposable {
  /**
   * Starts a sign-in: redirects (302) to the provider, with the transaction cookie set.
   *
   * @param request The request; its `return_to` query parameter is where the user lands.
   * @param options Per-sign-in `returnTo` and authorization request parameters.
   * @returns The redirect, or an error page (400 for an invalid `return_to`).
   */
  signIn(request: Request, options?: SignInOptions): Promise<Response>;
  /**
   * Finishes a sign-in at the redirect URI: redirects (303) to the return path with the session
   * cookie set.
   *
   * @param request The callback request.
   * @returns The redirect, or an error page: 400 for a missing, forged, expired or used
   *   transaction and for a refused or mismatched authorization response, 502 when the provider's
   *   token response fails a check, 503 when KV is unavailable.
   */
  callback(request: Request): Promise<Response>;
  /**
   * The request's session, with an access token fresh for at least `refreshAhead` seconds
   * (refreshed first, once across all isolates, when it is not).
   *
   * @param request The request.
   * @returns The session, or `null` when the request carries no session cookie.
   * @throws {SessionError} `SESSION_COOKIE_INVALID` (tampered cookie), `SESSION_UNKNOWN` (expired,
   *   signed out or logged out), `SESSION_REFRESH_REFUSED`, `SESSION_EXPIRED`: the browser is
   *   signed out (`error.signedOut`); `SESSION_STORE_UNAVAILABLE`, `SESSION_LEASE_TIMEOUT`.
   * @throws {ResponseBodyError} / {OperationProcessingError} / {WWWAuthenticateChallengeError} A
   *   refresh that failed otherwise than with `invalid_grant`; the session is kept.
   */
  getSession(request: Request): Promise<Session | null>;
  /**
   * Signs out (`POST` only): deletes the session, revokes its refresh token, clears the cookie,
   * and redirects (303) to the provider's logout endpoint or the post-logout page.
   *
   * @param request The sign-out request.
   * @returns The redirect, or an error page (405 for another method, 403 cross-origin).
   */
  signOut(request: Request): Promise<Response>;
  /**
   * The back-channel logout endpoint: ends the sessions a valid logout token names.
   *
   * @param request The provider's `POST`.
   * @returns 200 when done, 400 with `{"error":"invalid_request"}` when refused, 503 when KV is
   *   unavailable.
   */
  backchannelLogout(request: Request): Promise<Response>;
  /**
   * A whole `Deno.serve` handler: serves the sign-in, callback, sign-out and back-channel logout
   * routes, and calls `app` for every other request with the request's session, or `null` when
   * it has none (a dead session's cookie is then cleared on `app`'s response).
   *
   * @param app Your application.
   * @returns The handler.
   */
  handler(
    app: (request: Request, session: Session | null) => Response | Promise<Response>,
  ): (request: Request) => Promise<Response>;
  /**
   * The provider's metadata (discovered once, then cached).
   *
   * @returns The metadata.
   */
  metadata(): Promise<oauth.AuthorizationServer>;
  /** The cookie names and whether they are `Secure`. */
  readonly cookies: CookieNames;
  /** The routes {@linkcode SessionAuth.handler} serves, callback included. */
  readonly routes: Readonly<Required<SessionRoutes> & { callback: string }>;
  /** The JWKS cache in KV that logout tokens are verified with; use it for your own checks. */
  readonly jwksCache: KvJwksCache;
  /**
   * Closes the database if this object opened it (`kv` given as a path, or not given).
   *
   * @returns When it is closed.
   */
  close(): Promise<void>;
}

/**
 * Sets up OpenID Connect sign-in with sessions in Deno KV.
 *
 * Nothing is fetched or opened here: the provider is discovered and the database opened on the
 * first request, so a cold isolate starts at once, and configuration mistakes throw now.
 *
 * @param options The provider, the client, the redirect URI and the database.
 * @returns The handlers and the session lookup.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for bad options, e.g. a
 *   redirect URI on `http:` that is not loopback.
 * @example Deno.serve
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * import { createSessionAuth } from "@authlane/oauth/session";
 *
 * const auth = createSessionAuth({
 *   issuer: "https://op.example",
 *   client: { client_id: "my-app" },
 *   clientAuth: oauth.ClientSecretBasic(Deno.env.get("CLIENT_SECRET")!),
 *   redirectUri: "https://app.example/callback",
 *   scope: "openid email",
 * });
 * Deno.serve(auth.handler((_request, session) =>
 *   session === null
 *     ? new Response('<a href="/login">Sign in</a>', { headers: { "content-type": "text/html" } })
 *     : new Response(`Hello ${session.sub}`)
 * ));
 * ```
 */
export function createSessionAuth(options: SessionAuthOptions): SessionAuth {
  if (typeof options !== "object" || options === null) {
    throw argumentError('"options" must be an object', "ERR_INVALID_ARG_TYPE");
  }
  const issuer = toUrl(options.issuer, "issuer");
  const redirect = toUrl(options.redirectUri, "redirectUri");
  checkClientOptions(options);
  const cookies = cookieNamesFor(redirect);
  const origin = redirect.origin;
  const postLogout = options.postLogoutRedirectUri === undefined
    ? new URL("/", origin)
    : toUrl(options.postLogoutRedirectUri, "postLogoutRedirectUri");
  const handle = new KvHandle(options.kv, options.retry);
  const prefix = checkPrefix(options.prefix ?? ["authlane"]);
  const store = handle.lazyStore(prefix, options.retry);
  const http = httpOptions(options.allowInsecureRequests, options.customFetch);
  const metadata = options.as !== undefined
    ? () => Promise.resolve(options.as!)
    : cachedDiscovery(issuer, store, http, seconds(options.discoveryTtl ?? 3600, "discoveryTtl"));
  let jwksCache: KvJwksCache | undefined;
  const jwksFor = async () => {
    jwksCache ??= createKvJwksCache({
      kv: (await store()).kv,
      prefix,
      retry: options.retry,
      ...(options.customFetch !== undefined ? { fetch: options.customFetch } : {}),
    });
    return jwksCache;
  };
  const jwks: KvJwksCache = { options: async (as) => (await jwksFor()).options(as) };
  const routes = Object.freeze({
    signIn: options.routes?.signIn ?? "/login",
    signOut: options.routes?.signOut ?? "/logout",
    backchannelLogout: options.routes?.backchannelLogout ?? "/backchannel-logout",
    callback: redirect.pathname,
  });

  const ctx: Context = {
    store,
    metadata,
    jwks,
    client: options.client,
    clientAuth: options.clientAuth,
    http,
    redirectUri: redirect.href,
    origin,
    postLogoutRedirectUri: postLogout.href,
    cookies,
    scope: options.scope ?? "openid",
    authorizationParameters: { ...options.authorizationParameters },
    pushedAuthorizationRequests: options.pushedAuthorizationRequests === true,
    sessionTtl: seconds(options.sessionTtl ?? 43_200, "sessionTtl"),
    transactionTtl: seconds(options.transactionTtl ?? 600, "transactionTtl"),
    refreshAhead: seconds(options.refreshAhead ?? 60, "refreshAhead", true),
    leaseMs: seconds(options.leaseMs ?? 30_000, "leaseMs"),
    now: options.now ?? (() => Math.floor(Date.now() / 1000)),
    log: options.log ??
      ((event) => console.warn(`authlane session: ${event.message}`, event.code ?? "")),
  };
  if (!ctx.scope.split(" ").includes("openid")) {
    throw argumentError('"scope" must include "openid"');
  }
  const onError = options.onError ?? errorPage;

  /** Runs a handler; known errors become responses. */
  async function respond(
    request: Request,
    run: () => Promise<Response>,
  ): Promise<Response> {
    try {
      return await run();
    } catch (error) {
      const status = statusOf(error);
      if (status === undefined) throw error;
      await request.body?.cancel().catch(() => {});
      return await onError(error, request, status);
    }
  }

  async function getSession(request: Request): Promise<Session | null> {
    const cookie = readCookie(request, cookies.session);
    if (cookie === undefined || cookie === "") return null;
    return await freshSession(ctx, cookie);
  }

  const auth: SessionAuth = {
    signIn: (request, signInOptions) => respond(request, () => signIn(ctx, request, signInOptions)),
    callback: (request) => respond(request, () => callback(ctx, request)),
    getSession,
    signOut: (request) => respond(request, () => signOut(ctx, request)),
    backchannelLogout: (request) => backchannelLogout(ctx, request),
    handler(app) {
      return async (request) => {
        const { pathname } = new URL(request.url);
        if (pathname === routes.callback) return await auth.callback(request);
        if (pathname === routes.signIn) return await auth.signIn(request);
        if (pathname === routes.signOut) return await auth.signOut(request);
        if (pathname === routes.backchannelLogout) return await auth.backchannelLogout(request);
        let session: Session | null;
        try {
          session = await getSession(request);
        } catch (error) {
          if (!(error instanceof SessionError && error.signedOut)) {
            return await respond(request, () => Promise.reject(error));
          }
          const response = await app(request, null);
          return withHeader(response, "set-cookie", clearCookie(cookies, cookies.session));
        }
        return await app(request, session);
      };
    },
    metadata,
    cookies,
    routes,
    jwksCache: jwks,
    close: () => handle.close(),
    [Symbol.asyncDispose]: () => handle.close(),
  };
  return auth;
}

/** The suggested status of an error this layer knows, or undefined for anything else. */
function statusOf(error: unknown): number | undefined {
  if (error instanceof SessionError) return error.status;
  const tagged = taggedStatus(error);
  if (tagged !== undefined) return tagged;
  if (error instanceof oauth.AuthorizationResponseError) return 400;
  if (
    error instanceof oauth.OperationProcessingError ||
    error instanceof oauth.ResponseBodyError ||
    error instanceof oauth.UnsupportedOperationError ||
    error instanceof oauth.WWWAuthenticateChallengeError
  ) {
    return 502;
  }
  return undefined;
}

/** The default error page: the status, a title and the error code; no detail, no token. */
function errorPage(error: unknown, _request: Request, status: number): Response {
  const code = codeOf(error) ?? "ERROR";
  const providerError = error instanceof oauth.AuthorizationResponseError ? error.error : undefined;
  const title = status === 503 ? "Try again shortly" : status >= 500 ? "Sign-in failed" : "Refused";
  const detail = providerError === undefined
    ? ""
    : `<p data-error="${escapeHtml(providerError)}">The provider said: ${
      escapeHtml(providerError)
    }</p>`;
  return new Response(
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body>` +
      `<h1>${title}</h1><p data-code="${escapeHtml(code)}">${escapeHtml(code)}</p>${detail}` +
      `<p><a href="/">Home</a></p></body></html>`,
    {
      status,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "referrer-policy": "no-referrer",
        ...(status === 405 ? { allow: "POST" } : {}),
      },
    },
  );
}

/** The response with one more header, copied first when its headers are immutable. */
function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.append(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.append(name, value);
    return copy;
  }
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function seconds(value: number, name: string, zeroAllowed = false): number {
  if (
    typeof value !== "number" || !Number.isFinite(value) || value < 0 ||
    (!zeroAllowed && value === 0)
  ) {
    throw argumentError(`"${name}" must be a ${zeroAllowed ? "non-negative" : "positive"} number`);
  }
  return value;
}
