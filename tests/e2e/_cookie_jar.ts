/**
 * A small cookie jar for driving HTML pages with `fetch` in end-to-end tests.
 *
 * It implements the parts of RFC 6265 that a single-host test browser needs: `Set-Cookie`
 * parsing (§5.2), the default path (§5.1.4), path matching (§5.1.4), `Max-Age` and `Expires`
 * including deletion by an expiry in the past (§5.3 step 3), and `Secure` (§5.4). `Domain` is
 * ignored: every cookie is host-only, keyed by the origin that set it.
 *
 * @module
 */

/** One cookie held by a {@linkcode CookieJar}. */
export interface StoredCookie {
  /** The cookie name. */
  name: string;
  /** The cookie value, as sent by the server. */
  value: string;
  /** The origin that set it; the cookie is only sent back there. */
  origin: string;
  /** The path it applies to (RFC 6265 §5.1.4). */
  path: string;
  /** Expiry in epoch milliseconds; `undefined` for a session cookie. */
  expires?: number;
  /** Only sent over `https:`. */
  secure: boolean;
}

/**
 * Stores cookies from responses and produces the `Cookie` header for requests.
 *
 * @example Usage
 * ```ts ignore
 * const jar = new CookieJar();
 * const response = await fetch(url, { headers: jar.headersFor(url), redirect: "manual" });
 * jar.store(url, response);
 * ```
 */
export class CookieJar {
  #cookies = new Map<string, StoredCookie>();

  /** The number of live cookies held. */
  get size(): number {
    this.#purge();
    return this.#cookies.size;
  }

  /**
   * Stores every `Set-Cookie` header of a response received from `url`.
   *
   * @param url The URL the response came from.
   * @param response The response, or its headers.
   */
  store(url: URL | string, response: Response | Headers): void {
    const headers = response instanceof Headers ? response : response.headers;
    for (const line of headers.getSetCookie()) this.setCookie(url, line);
  }

  /**
   * Stores one `Set-Cookie` header value received from `url` (RFC 6265 §5.2, §5.3).
   *
   * @param url The URL the header came from.
   * @param header The header value, e.g. `"a=b; path=/; httponly"`.
   */
  setCookie(url: URL | string, header: string): void {
    const target = new URL(url);
    const [pair = "", ...attributes] = header.split(";");
    const eq = pair.indexOf("=");
    if (eq <= 0) return; // RFC 6265 §5.2 steps 2 and 5: no name, ignore
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path: string | undefined;
    let expires: number | undefined;
    let maxAge: number | undefined;
    let secure = false;
    for (const attribute of attributes) {
      const at = attribute.indexOf("=");
      const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
      const val = at === -1 ? "" : attribute.slice(at + 1).trim();
      switch (key) {
        case "path":
          if (val.startsWith("/")) path = val;
          break;
        case "expires": {
          const parsed = Date.parse(val);
          if (!Number.isNaN(parsed)) expires = parsed;
          break;
        }
        case "max-age":
          if (/^-?\d+$/.test(val)) maxAge = Number(val);
          break;
        case "secure":
          secure = true;
          break;
      }
    }
    // RFC 6265 §5.3 step 3: Max-Age wins over Expires.
    if (maxAge !== undefined) expires = Date.now() + maxAge * 1000;
    const cookie: StoredCookie = {
      name,
      value,
      origin: target.origin,
      path: path ?? defaultPath(target.pathname),
      expires,
      secure,
    };
    const key = `${cookie.origin} ${cookie.path} ${cookie.name}`;
    if (expires !== undefined && expires <= Date.now()) {
      this.#cookies.delete(key);
    } else {
      this.#cookies.set(key, cookie);
    }
  }

  /**
   * The cookies that a request to `url` carries, longest path first (RFC 6265 §5.4).
   *
   * @param url The request URL.
   * @returns The matching cookies.
   */
  cookiesFor(url: URL | string): StoredCookie[] {
    this.#purge();
    const target = new URL(url);
    return [...this.#cookies.values()]
      .filter((cookie) =>
        cookie.origin === target.origin && pathMatches(target.pathname, cookie.path) &&
        (!cookie.secure || target.protocol === "https:")
      )
      .sort((a, b) => b.path.length - a.path.length);
  }

  /**
   * The `Cookie` header value for a request to `url`.
   *
   * @param url The request URL.
   * @returns The header value, or `undefined` when no cookie applies.
   */
  header(url: URL | string): string | undefined {
    const cookies = this.cookiesFor(url);
    if (cookies.length === 0) return undefined;
    return cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
  }

  /**
   * Request headers carrying the `Cookie` header for `url`, merged over `init`.
   *
   * @param url The request URL.
   * @param init Other headers to send.
   * @returns A new `Headers` object.
   */
  headersFor(url: URL | string, init?: HeadersInit): Headers {
    const headers = new Headers(init);
    const cookie = this.header(url);
    if (cookie !== undefined) headers.set("cookie", cookie);
    return headers;
  }

  /**
   * The value of the first cookie named `name`, optionally limited to those sent to `url`.
   *
   * @param name The cookie name.
   * @param url The request URL to match against.
   * @returns The value, or `undefined`.
   */
  get(name: string, url?: URL | string): string | undefined {
    this.#purge();
    const cookies = url === undefined ? [...this.#cookies.values()] : this.cookiesFor(url);
    return cookies.find((cookie) => cookie.name === name)?.value;
  }

  /** Forgets every cookie. */
  clear(): void {
    this.#cookies.clear();
  }

  #purge(): void {
    const now = Date.now();
    for (const [key, cookie] of this.#cookies) {
      if (cookie.expires !== undefined && cookie.expires <= now) this.#cookies.delete(key);
    }
  }
}

/** RFC 6265 §5.1.4: the directory of the request path. */
function defaultPath(pathname: string): string {
  if (!pathname.startsWith("/")) return "/";
  const last = pathname.lastIndexOf("/");
  return last <= 0 ? "/" : pathname.slice(0, last);
}

/** RFC 6265 §5.1.4: does `requestPath` path-match `cookiePath`. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath.charAt(cookiePath.length) === "/";
}
