/**
 * A server-rendered web app that signs users in with OpenID Connect: the authorization code flow
 * with PKCE (RFC 7636), sessions in HMAC-signed cookies, silent refresh of the access token, and
 * sign-out with token revocation (RFC 7009) and RP-initiated logout.
 *
 * ```sh
 * deno run -A examples/web_app.ts        # against an embedded provider; open the printed URL
 * ISSUER=https://op.example CLIENT_ID=my-app CLIENT_SECRET=… COOKIE_SECRET=… \
 *   ORIGIN=https://app.example PORT=8000 deno run -A examples/web_app.ts
 * ```
 *
 * Routes: `GET /` shows the signed-in user (from userinfo), `GET /login` starts the code flow,
 * `GET /callback` finishes it, `POST /logout` ends the session.
 *
 * What it does to stay safe:
 * - `state`, `nonce` and the PKCE `code_verifier` travel in a short-lived signed cookie limited
 *   to `/callback`, so a callback the browser did not start here is refused (login CSRF). The
 *   cookie is signed, not encrypted: the verifier only ever goes back to the browser that
 *   started the sign-in, and someone who can read that browser's cookies has its session anyway.
 * - The session cookie only names a server-side session; tokens stay on the server. Both cookies
 *   are `HttpOnly` and `SameSite=Lax` (so a cross-site POST to `/logout` carries no session),
 *   `Secure` with `__Host-`/`__Secure-` names when the origin is `https:`, and signed with a Web
 *   Crypto HMAC key: a tampered cookie is ignored and cleared.
 * - Every sign-in gets a new session id (no session fixation).
 * - An access token about to expire is refreshed before use; a refused refresh ends the session.
 *
 * The handler is a plain `(request: Request) => Promise<Response>`, so the same code runs under
 * `Deno.serve`, Deno Deploy or any runtime with `fetch`-style handlers. The in-memory session
 * store is for one process; give {@linkcode createWebApp} a {@linkcode SessionStore} backed by
 * Deno KV or a database to run several.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";

/** What the app keeps on the server for a signed-in user. */
export interface Session {
  /** The user's subject identifier at the provider. */
  sub: string;
  /** The ID token, kept as `id_token_hint` for RP-initiated logout. */
  idToken: string;
  /** The current access token. */
  accessToken: string;
  /** The refresh token, when the provider issued one. */
  refreshToken?: string;
  /** When the access token expires, in epoch seconds. */
  expiresAt: number;
  /** How many times the access token was refreshed. */
  refreshes: number;
}

/** Server-side session storage, keyed by the random id in the session cookie. */
export interface SessionStore {
  /** Reads a session. */
  get(id: string): Promise<Session | undefined>;
  /** Creates or replaces a session. */
  set(id: string, session: Session): Promise<void>;
  /** Removes a session. */
  delete(id: string): Promise<void>;
}

/** Configuration of {@linkcode createWebApp}. */
export interface WebAppConfig {
  /** The OpenID Provider's issuer identifier. */
  issuer: URL;
  /** The app's client id at the provider. */
  clientId: string;
  /** The app's client secret (sent with HTTP Basic authentication). */
  clientSecret: string;
  /** The app's public origin, e.g. `https://app.example`; `/callback` is its redirect URI. */
  origin: string;
  /** The secret that signs cookies: at least 32 characters of random. */
  cookieSecret: string;
  /** Scopes to ask for. @default "openid profile email offline_access" */
  scope?: string;
  /** Allow `http:` provider URLs (loopback development only). @default false */
  allowInsecureRequests?: boolean;
  /** Session storage. @default an in-memory store */
  sessions?: SessionStore;
  /** The clock, in epoch seconds. @default the system clock */
  now?: () => number;
}

/** A configured web app. */
export interface WebApp {
  /** Serves one request; hand it to `Deno.serve`. */
  handler(request: Request): Promise<Response>;
  /** The discovered provider metadata. */
  as: oauth.AuthorizationServer;
  /** The redirect URI registered at the provider. */
  redirectUri: string;
}

/** How long a sign-in may take between `/login` and `/callback`, in seconds. */
const LOGIN_TTL = 600;
/** How long a session lasts, in seconds, whatever the tokens say. */
const SESSION_TTL = 12 * 3600;
/** Refresh an access token this many seconds before it expires. */
const EXPIRY_MARGIN = 60;

/**
 * The client registration the app needs at a provider, as RFC 7591 metadata.
 *
 * @param origin The app's public origin.
 * @param clientId The client id.
 * @param clientSecret The client secret.
 * @returns The metadata to register.
 */
export function clientRegistration(
  origin: string,
  clientId: string,
  clientSecret: string,
): {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: string;
} {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [new URL("/callback", origin).href],
    post_logout_redirect_uris: [new URL("/", origin).href],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  };
}

/**
 * An in-memory {@linkcode SessionStore}, for one process.
 *
 * @returns The store.
 */
export function memorySessionStore(): SessionStore {
  const sessions = new Map<string, Session>();
  return {
    get: (id) => Promise.resolve(sessions.get(id)),
    set: (id, session) => Promise.resolve(void sessions.set(id, session)),
    delete: (id) => Promise.resolve(void sessions.delete(id)),
  };
}

/**
 * Discovers the provider and returns the app's request handler.
 *
 * @param config The provider, the client and the cookie secret.
 * @returns The handler and what it discovered.
 */
export async function createWebApp(config: WebAppConfig): Promise<WebApp> {
  const http = { [oauth.allowInsecureRequests]: config.allowInsecureRequests === true };
  const as = await oauth.processDiscoveryResponse(
    config.issuer,
    await oauth.discoveryRequest(config.issuer, http),
  );
  const client: oauth.Client = { client_id: config.clientId };
  const clientAuth = oauth.ClientSecretBasic(config.clientSecret);
  const redirectUri = new URL("/callback", config.origin).href;
  const home = new URL("/", config.origin).href;
  const scope = config.scope ?? "openid profile email offline_access";
  const sessions = config.sessions ?? memorySessionStore();
  const now = config.now ?? (() => Math.floor(Date.now() / 1000));
  const signer = await CookieSigner.create(config.cookieSecret);
  const secure = new URL(config.origin).protocol === "https:";
  // RFC 6265bis §4.1.3: __Host- needs Secure and Path=/; __Secure- needs Secure.
  const loginCookie: CookieSpec = {
    name: secure ? "__Secure-login" : "login",
    path: "/callback",
    secure,
  };
  const sessionCookie: CookieSpec = {
    name: secure ? "__Host-session" : "session",
    path: "/",
    secure,
  };

  /** The signed-in session of a request, or why there is none. */
  async function currentSession(
    request: Request,
  ): Promise<{ id: string; session: Session } | "none" | "invalid"> {
    const raw = readCookie(request, sessionCookie.name);
    if (raw === undefined) return "none";
    const payload = await signer.verify(raw, "session", now());
    if (payload === undefined || typeof payload.sid !== "string") return "invalid";
    const session = await sessions.get(payload.sid);
    return session === undefined ? "invalid" : { id: payload.sid, session };
  }

  /** RFC 6749 §6: a new access token before the current one expires. */
  async function refreshed(id: string, session: Session): Promise<Session | undefined> {
    if (session.expiresAt - EXPIRY_MARGIN > now()) return session;
    if (session.refreshToken === undefined) return undefined;
    let tokens: oauth.TokenEndpointResponse;
    try {
      tokens = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuth, session.refreshToken, http),
      );
    } catch (err) {
      // invalid_grant: revoked, expired or reused; the user signs in again.
      if (err instanceof oauth.ResponseBodyError && err.error === "invalid_grant") return undefined;
      throw err;
    }
    const next: Session = {
      ...session,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token ?? session.refreshToken,
      idToken: tokens.id_token ?? session.idToken,
      expiresAt: now() + (tokens.expires_in ?? 300),
      refreshes: session.refreshes + 1,
    };
    await sessions.set(id, next);
    return next;
  }

  async function showHome(request: Request): Promise<Response> {
    const found = await currentSession(request);
    if (typeof found === "string") {
      const headers = found === "invalid" ? { "set-cookie": expire(sessionCookie) } : undefined;
      return html(200, "Not signed in", `<p><a href="/login">Sign in</a></p>`, headers);
    }
    const session = await refreshed(found.id, found.session);
    if (session === undefined) return await endSession(found.id, "/login");
    let userinfo: oauth.UserInfoResponse;
    try {
      userinfo = await oauth.processUserInfoResponse(
        as,
        client,
        session.sub,
        await oauth.userInfoRequest(as, client, session.accessToken, http),
      );
    } catch (err) {
      // RFC 6750 §3.1: the provider no longer accepts the token; sign in again.
      if (err instanceof oauth.WWWAuthenticateChallengeError) {
        return await endSession(found.id, "/login");
      }
      throw err;
    }
    const rows = [["Subject", session.sub], ["Name", userinfo.name], ["Email", userinfo.email]]
      .filter((row): row is [string, string] => typeof row[1] === "string")
      .map(([label, value]) =>
        `<dt>${label}</dt><dd data-${label.toLowerCase()}>${escape(value)}</dd>`
      )
      .join("");
    return html(
      200,
      "Signed in",
      `<dl>${rows}</dl>` +
        `<p data-refreshes="${session.refreshes}">Access token refreshed ${session.refreshes} ` +
        `time(s); it expires in ${session.expiresAt - now()} s.</p>` +
        `<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
      { "cache-control": "no-store" },
    );
  }

  async function login(): Promise<Response> {
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: redirectUri,
      response_type: "code",
      scope,
      state,
      nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      // OIDC Core §11: offline_access needs prompt=consent.
      ...(scope.split(" ").includes("offline_access") ? { prompt: "consent" } : {}),
    }).toString();
    const value = await signer.sign({ state, nonce, verifier }, "login", now() + LOGIN_TTL);
    return new Response(null, {
      status: 302,
      headers: { location: url.href, "set-cookie": cookie(loginCookie, value, LOGIN_TTL) },
    });
  }

  async function callback(request: Request): Promise<Response> {
    const clearLogin = { "set-cookie": expire(loginCookie) };
    const raw = readCookie(request, loginCookie.name);
    const started = raw === undefined ? undefined : await signer.verify(raw, "login", now());
    if (
      typeof started?.state !== "string" || typeof started.nonce !== "string" ||
      typeof started.verifier !== "string"
    ) {
      return html(
        400,
        "Sign-in not started here",
        `<p>This sign-in expired or did not start in this browser. <a href="/login">Try again</a></p>`,
        clearLogin,
      );
    }
    let params: URLSearchParams;
    try {
      // State, RFC 9207 iss, and the error response (RFC 6749 §4.1.2.1).
      params = oauth.validateAuthResponse(as, client, new URL(request.url), started.state);
    } catch (err) {
      if (err instanceof oauth.AuthorizationResponseError) {
        return html(
          400,
          "Sign-in refused",
          `<p data-error="${escape(err.error)}">The provider said: ${escape(err.error)}</p>`,
          clearLogin,
        );
      }
      if (err instanceof oauth.OperationProcessingError) {
        // Another state (a callback from someone else's sign-in), another issuer, or a
        // malformed response: nothing from it is used.
        return html(
          400,
          "Sign-in response rejected",
          `<p data-code="${escape(String(err.code))}">${escape(String(err.code))}</p>`,
          clearLogin,
        );
      }
      throw err;
    }
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        params,
        redirectUri,
        started.verifier,
        http,
      ),
      { expectedNonce: started.nonce, requireIdToken: true },
    );
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    const id = randomId();
    await sessions.set(id, {
      sub: claims.sub,
      idToken: tokens.id_token!,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: now() + (tokens.expires_in ?? 300),
      refreshes: 0,
    });
    const headers = new Headers({ location: "/" });
    headers.append("set-cookie", expire(loginCookie));
    const value = await signer.sign({ sid: id }, "session", now() + SESSION_TTL);
    headers.append("set-cookie", cookie(sessionCookie, value, SESSION_TTL));
    return new Response(null, { status: 303, headers });
  }

  async function logout(request: Request): Promise<Response> {
    const found = await currentSession(request);
    if (typeof found === "string") {
      return new Response(null, {
        status: 303,
        headers: { location: "/", "set-cookie": expire(sessionCookie) },
      });
    }
    const { session } = found;
    await sessions.delete(found.id);
    if (session.refreshToken !== undefined && as.revocation_endpoint !== undefined) {
      // RFC 7009 §2: revoking the refresh token also ends its access tokens at most providers.
      try {
        await oauth.processRevocationResponse(
          await oauth.revocationRequest(as, client, clientAuth, session.refreshToken, http),
        );
      } catch (err) {
        console.error("token revocation failed", err);
      }
    }
    // OpenID Connect RP-Initiated Logout 1.0 §2: end the provider's session too.
    let location = "/";
    if (typeof as.end_session_endpoint === "string") {
      const end = new URL(as.end_session_endpoint);
      end.searchParams.set("id_token_hint", session.idToken);
      end.searchParams.set("client_id", client.client_id);
      end.searchParams.set("post_logout_redirect_uri", home);
      location = end.href;
    }
    return new Response(null, {
      status: 303,
      headers: { location, "set-cookie": expire(sessionCookie) },
    });
  }

  async function endSession(id: string, location: string): Promise<Response> {
    await sessions.delete(id);
    return new Response(null, {
      status: 303,
      headers: { location, "set-cookie": expire(sessionCookie) },
    });
  }

  async function handler(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    try {
      switch (`${request.method} ${pathname}`) {
        case "GET /":
          return await showHome(request);
        case "GET /login":
          return await login();
        case "GET /callback":
          return await callback(request);
        case "POST /logout":
          return await logout(request);
        default:
          return html(404, "Not found", "");
      }
    } catch (err) {
      if (isOAuthError(err)) {
        // The provider or its answer failed a check: say which, keep the details in the log.
        console.error(err);
        const code = escape(err.code ?? err.name);
        return html(502, "Sign-in failed", `<p data-code="${code}">${code}</p>`);
      }
      throw err;
    }
  }

  return { handler, as, redirectUri };
}

// ---------------------------------------------------------------------------------------------
// Cookies

interface CookieSpec {
  name: string;
  path: string;
  secure: boolean;
}

function cookie(spec: CookieSpec, value: string, maxAge: number): string {
  return `${spec.name}=${value}; Path=${spec.path}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax` +
    (spec.secure ? "; Secure" : "");
}

function expire(spec: CookieSpec): string {
  return cookie(spec, "", 0);
}

function readCookie(request: Request, name: string): string | undefined {
  for (const pair of (request.headers.get("cookie") ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Signs cookie values with HMAC-SHA-256: `base64url(JSON payload).base64url(MAC)`. The payload
 * names its purpose and expiry, so a login cookie cannot stand in for a session cookie and an
 * old value stops working even if a browser keeps it.
 */
class CookieSigner {
  readonly #key: CryptoKey;

  private constructor(key: CryptoKey) {
    this.#key = key;
  }

  static async create(secret: string): Promise<CookieSigner> {
    if (secret.length < 32) throw new TypeError("cookieSecret must be at least 32 characters");
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    return new CookieSigner(key);
  }

  async sign(data: Record<string, string>, purpose: string, exp: number): Promise<string> {
    const body = toBase64Url(new TextEncoder().encode(JSON.stringify({ ...data, purpose, exp })));
    const mac = await crypto.subtle.sign("HMAC", this.#key, new TextEncoder().encode(body));
    return `${body}.${toBase64Url(new Uint8Array(mac))}`;
  }

  /** The payload, or `undefined` when the MAC, the purpose or the expiry is wrong. */
  async verify(
    value: string,
    purpose: string,
    now: number,
  ): Promise<Record<string, unknown> | undefined> {
    const [body, mac, extra] = value.split(".");
    if (body === undefined || mac === undefined || extra !== undefined) return undefined;
    const signature = fromBase64Url(mac);
    if (signature === undefined) return undefined;
    // crypto.subtle.verify compares in constant time.
    const valid = await crypto.subtle.verify(
      "HMAC",
      this.#key,
      signature,
      new TextEncoder().encode(body),
    );
    if (!valid) return undefined;
    const bytes = fromBase64Url(body);
    if (bytes === undefined) return undefined;
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof payload !== "object" || payload === null) return undefined;
    const { purpose: p, exp } = payload as Record<string, unknown>;
    if (p !== purpose || typeof exp !== "number" || exp <= now) return undefined;
    return payload as Record<string, unknown>;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function randomId(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

// ---------------------------------------------------------------------------------------------
// Pages

function isOAuthError(
  err: unknown,
): err is
  | oauth.OperationProcessingError
  | oauth.ResponseBodyError
  | oauth.UnsupportedOperationError
  | oauth.WWWAuthenticateChallengeError
  | oauth.AuthorizationResponseError {
  return err instanceof oauth.OperationProcessingError ||
    err instanceof oauth.ResponseBodyError ||
    err instanceof oauth.UnsupportedOperationError ||
    err instanceof oauth.WWWAuthenticateChallengeError ||
    err instanceof oauth.AuthorizationResponseError;
}

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function html(
  status: number,
  title: string,
  body: string,
  headers?: Record<string, string>,
): Response {
  return new Response(
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head>` +
      `<body><h1>${escape(title)}</h1>${body}</body></html>`,
    {
      status,
      headers: {
        "content-type": "text/html; charset=utf-8",
        // No scripts, no framing; the callback URL (with its code) is never sent as Referer.
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "referrer-policy": "no-referrer",
        ...headers,
      },
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Running it

if (import.meta.main) {
  const port = Number(Deno.env.get("PORT") ?? "8000");
  const origin = Deno.env.get("ORIGIN") ?? `http://127.0.0.1:${port}`;
  const cookieSecret = Deno.env.get("COOKIE_SECRET") ?? randomId();
  const issuer = Deno.env.get("ISSUER");
  let config: WebAppConfig;
  if (issuer !== undefined) {
    config = {
      issuer: new URL(issuer),
      clientId: Deno.env.get("CLIENT_ID") ?? "",
      clientSecret: Deno.env.get("CLIENT_SECRET") ?? "",
      origin,
      cookieSecret,
    };
  } else {
    // No provider given: start oidc-provider on loopback with this app registered. Its login
    // page accepts any login and password.
    const { startProvider } = await import("../tests/_oidc_provider.ts");
    const clientSecret = randomId();
    const op = await startProvider({
      clients: [clientRegistration(origin, "web-app", clientSecret)],
    });
    console.log(`Embedded OpenID Provider at ${op.issuer} (any login and password work)`);
    config = {
      issuer: new URL(op.issuer),
      clientId: "web-app",
      clientSecret,
      origin,
      cookieSecret,
      allowInsecureRequests: true,
    };
  }
  const app = await createWebApp(config);
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: () => console.log(`Web app on ${origin}/ (redirect URI ${app.redirectUri})`),
  }, app.handler);
}
