/**
 * The {@link FakeAs} class: configuration (`override()`, `reset()`), the request log, helpers that
 * build and sign bodies and tokens, and the dispatch plumbing (recording each request, routing it
 * by URL, overrides first, the `customFetch`-compatible `fetch`). The default answer of each route
 * is in `./routes.ts`.
 *
 * @module
 */

import {
  allowInsecureRequests,
  type Client,
  customFetch,
  type JsonValue,
  type JWKS,
} from "@authlane/oauth";
import {
  keys as testKeys,
  resolveSigningKey,
  type SigningKeyInput,
  signJws,
  testAlgs,
  type TestKey,
} from "../_keys.ts";
import { isForm, isJson, parseClientAuth, tryDecode } from "./request.ts";
import { challenge, json, jwtResponse, now, oauthError } from "./responses.ts";
import { DefaultRoutes } from "./routes.ts";
import {
  type FakeAsMetadata,
  type FakeAsOptions,
  type FakeAsRequestOptions,
  type FakeAsRoute,
  type FakeFetch,
  type FakeFetchInit,
  type FakeRequest,
  type FakeResponder,
  ROUTES,
} from "./types.ts";
import { CIBA, DEVICE_CODE, random, withoutUndefined } from "./util.ts";

const ENDPOINT_PATHS: Readonly<Record<string, FakeAsRoute>> = {
  "/authorize": "authorization",
  "/token": "token",
  "/userinfo": "userinfo",
  "/jwks": "jwks",
  "/introspect": "introspection",
  "/revoke": "revocation",
  "/par": "par",
  "/device_authorization": "device_authorization",
  "/backchannel": "backchannel",
  "/register": "registration",
  "/resource": "resource",
};

const AUTHENTICATED_ROUTES = new Set<FakeAsRoute>([
  "token",
  "introspection",
  "revocation",
  "par",
  "device_authorization",
  "backchannel",
]);

interface Overrides {
  persistent?: FakeResponder;
  once: FakeResponder[];
}

interface Location {
  /** The issuer identifier. */
  issuer: string;
  /** Origin of the mTLS aliases. */
  mtlsOrigin: string;
  /** Path in front of the issuer path on the mTLS origin (`""` or `"/mtls"`). */
  mtlsPrefix: string;
}
/**
 * The fake authorization server. Build it with {@link createFakeAs} or {@link startFakeAs}.
 * Mutable state (`jwks`, `nextNonce`, `dpopNonce`, overrides, the request log) goes back to its
 * defaults with `reset()`.
 */
export class FakeAs implements AsyncDisposable {
  /** Issuer identifier. */
  readonly issuer: string;
  /** Full metadata, as served at the discovery routes. */
  readonly as: FakeAsMetadata;
  /** The registered client. */
  readonly client: Client;
  /** The client's secret. */
  readonly clientSecret: string;
  /** The server's signing keys; their public JWKs make up the default JWKS. */
  readonly keys: readonly TestKey[];
  /** The default signing key (`keys[0]`, ES256 unless configured). */
  readonly key: TestKey;
  /** URL of the `resource` route. */
  readonly resource: string;
  /**
   * The JWKS served at `jwks_uri`, read at each request: push, replace, or assign any value
   * (`server.jwks = "nope" as unknown as JWKS`) to serve something else.
   */
  jwks: JWKS;
  /** When set, copied into the `nonce` of ID tokens the token endpoint issues. */
  nextNonce: string | undefined;
  /**
   * When set, DPoP proofs must carry this nonce: the token endpoint answers 400 `use_dpop_nonce`,
   * resources 401 `DPoP error="use_dpop_nonce"`, both with a `DPoP-Nonce` header (RFC 9449 §8, §9).
   */
  dpopNonce: string | undefined;
  /** Every request received, oldest first. */
  readonly requests: FakeRequest[] = [];
  /** The `customFetch`-compatible in-process handler. */
  readonly fetch: FakeFetch;
  /** Options to spread into library calls (see {@link FakeAsRequestOptions}). */
  readonly options: FakeAsRequestOptions;

  #location: Location;
  #basePath: string;
  #overrides = new Map<FakeAsRoute, Overrides>();
  #routes: DefaultRoutes;
  #dispose: () => Promise<void>;

  /** @internal use {@link createFakeAs} or {@link startFakeAs} */
  constructor(
    location: Location,
    options: FakeAsOptions,
    requestOptions: "customFetch" | "insecure",
    dispose: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.#location = location;
    this.issuer = location.issuer;
    this.#basePath = new URL(location.issuer).pathname.replace(/\/+$/, "");
    this.keys = options.keys?.length ? [...options.keys] : testAlgs.map((alg) => testKeys[alg]);
    this.key = this.keys[0]!;
    this.client = options.client ?? { client_id: "client" };
    this.clientSecret = options.clientSecret ?? "fake-secret";
    this.resource = `${this.issuer.replace(/\/+$/, "")}/resource`;
    this.as = this.#metadata(options.metadata);
    this.jwks = this.#defaultJwks();
    this.nextNonce = undefined;
    this.dpopNonce = undefined;
    this.#routes = new DefaultRoutes(this);
    this.#dispose = dispose;
    this.fetch = (url, init) => this.#fetch(url, init);
    this.options = requestOptions === "customFetch"
      ? { [customFetch]: this.fetch }
      : { [allowInsecureRequests]: true };
  }

  /** Stops the socket server, if any. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#dispose();
  }

  // -- configuration ----------------------------------------------------------------------------

  /**
   * Replaces a route's response until `reset()` (or, with `{ once: true }`, for the next request
   * only). One-shot responders are used first, in the order added; then the persistent one; then
   * the default.
   *
   * @param route The route name.
   * @param responder A JSON body (sent 200), a `Response` (cloned per use) or a function.
   * @param options `once` to use it for one request only.
   */
  override(route: FakeAsRoute, responder: FakeResponder, options?: { once?: boolean }): void {
    if (!(ROUTES as readonly string[]).includes(route)) {
      throw new TypeError(`unknown fake AS route ${JSON.stringify(route)}`);
    }
    // Deno 2.9.6: cloning a Response whose headers were never read can drop them, so read them
    // once here; every later clone then keeps its content-type.
    if (responder instanceof Response) void [...responder.headers];
    const entry = this.#overrides.get(route) ?? { once: [] };
    if (options?.once) entry.once.push(responder);
    else entry.persistent = responder;
    this.#overrides.set(route, entry);
  }

  /**
   * Same as `override(route, responder, { once: true })`.
   *
   * @param route The route name.
   * @param responder The responder.
   */
  overrideOnce(route: FakeAsRoute, responder: FakeResponder): void {
    this.override(route, responder, { once: true });
  }

  /** Drops overrides, the request log, issued codes and tokens, nonces, and restores the JWKS. */
  reset(): void {
    this.#overrides.clear();
    this.requests.length = 0;
    this.#routes.reset();
    this.jwks = this.#defaultJwks();
    this.nextNonce = undefined;
    this.dpopNonce = undefined;
  }

  /**
   * The requests received on one route.
   *
   * @param route The route name.
   * @returns Those requests, oldest first.
   */
  requestsTo(route: FakeAsRoute): FakeRequest[] {
    return this.requests.filter((r) => r.route === route);
  }

  /**
   * The last request received (on `route`, when given).
   *
   * @param route The route name.
   * @returns The request, or `undefined`.
   */
  lastRequest(route?: FakeAsRoute): FakeRequest | undefined {
    const list = route === undefined ? this.requests : this.requestsTo(route);
    return list[list.length - 1];
  }

  // -- helpers for bodies and tokens ------------------------------------------------------------

  /** @returns The current time in epoch seconds. */
  now(): number {
    return now();
  }

  /** See {@link json}. */
  json(body: unknown, status?: number, headers?: HeadersInit): Response {
    return json(body, status, headers);
  }

  /** See {@link oauthError}. */
  oauthError(
    error: string,
    description?: string,
    status?: number,
    headers?: HeadersInit,
  ): Response {
    return oauthError(error, description, status, headers);
  }

  /** See {@link challenge}. */
  challenge(header: string, status?: number, headers?: HeadersInit): Response {
    return challenge(header, status, headers);
  }

  /** See {@link jwtResponse}. */
  jwtResponse(jwt: string, contentType?: string, status?: number): Response {
    return jwtResponse(jwt, contentType, status);
  }

  /**
   * Valid ID token claims: `iss` the issuer, `aud` the client, `sub` `"user-1"`, `iat` now, `exp`
   * now + 300, then `overrides` (a member set to `undefined` is deleted).
   *
   * @param overrides Claims to add, replace or (with `undefined`) delete.
   * @returns The claims.
   */
  idTokenClaims(overrides?: Record<string, unknown>): Record<string, unknown> {
    const t = now();
    return withoutUndefined({
      iss: this.issuer,
      aud: this.client.client_id,
      sub: "user-1",
      iat: t,
      exp: t + 300,
      ...overrides,
    });
  }

  /**
   * Signs `idTokenClaims(overrides)`.
   *
   * @param overrides Claim overrides.
   * @param header Header overrides (see `sign()`).
   * @param key Another key (see `sign()`).
   * @returns The compact JWT.
   */
  async idToken(
    overrides?: Record<string, unknown>,
    header?: Record<string, unknown>,
    key?: SigningKeyInput,
  ): Promise<string> {
    return await this.sign(this.idTokenClaims(overrides), header, key);
  }

  /**
   * Signs a JWT. The header is `{ alg, kid }` of the key, then `header` (so `alg`, `typ`, `crit`
   * or `kid` can be set, and `kid: undefined` removes it). The signature always follows the key,
   * so a header `alg` may lie; `alg: "none"` gives an unsigned token.
   *
   * @param claims The payload.
   * @param header Header overrides.
   * @param key A test key, an algorithm name (the server's key for it, else the cached test key)
   *   or a bare private key. @default the server's default key
   * @returns The compact JWT.
   */
  async sign(
    claims: Record<string, unknown>,
    header?: Record<string, unknown>,
    key?: SigningKeyInput,
  ): Promise<string> {
    const signer = this.#signer(key);
    const protectedHeader = withoutUndefined({ alg: signer.alg, kid: signer.kid, ...header });
    return await this.signWith(protectedHeader, JSON.stringify(claims), key);
  }

  /**
   * Signs raw parts for hostile tokens: a header string that may not be JSON, a payload string
   * that may not be JSON. A header whose `alg` is `"none"` (any case), or `key` `null`, gives an
   * unsigned `header.payload.`.
   *
   * @param rawHeader The header: text taken as is, or an object to serialize.
   * @param rawPayload The payload text (or bytes).
   * @param key The key (see `sign()`), or `null` for no signature.
   * @returns The compact JWS.
   */
  async signWith(
    rawHeader: string | Record<string, unknown>,
    rawPayload: string | Uint8Array,
    key?: SigningKeyInput | null,
  ): Promise<string> {
    const headerText = typeof rawHeader === "string" ? rawHeader : JSON.stringify(rawHeader);
    let alg: unknown;
    try {
      alg = (JSON.parse(headerText) as { alg?: unknown })?.alg;
    } catch { /* not JSON: sign anyway */ }
    const unsigned = key === null || (typeof alg === "string" && alg.toLowerCase() === "none");
    return await signJws(
      headerText,
      rawPayload,
      unsigned ? null : this.#signer(key ?? undefined).privateKey,
    );
  }

  /**
   * A token endpoint body as the default would send it (`access_token`, `token_type: "Bearer"`,
   * `expires_in: 3600`, `refresh_token`, and an `id_token` from `idTokenClaims()` with
   * `nextNonce`), then `overrides` (`undefined` deletes).
   *
   * @param overrides Members to add, replace or delete.
   * @returns The body, to pass to `override("token", …)`.
   */
  async tokenBody(overrides?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const claims = this.idTokenClaims({ nonce: this.nextNonce });
    return withoutUndefined({
      access_token: random(),
      token_type: "Bearer",
      expires_in: 3600,
      refresh_token: random(),
      id_token: await this.sign(claims),
      ...overrides,
    });
  }

  /**
   * Runs an authorization request through the `authorization` route and returns the redirect
   * target (the callback URL with `code`, `state`, `iss`, or a JARM `response`).
   *
   * @param request The authorization URL, or its parameters.
   * @returns The callback URL.
   * @throws {Error} When the route did not redirect.
   */
  async authorize(request: URL | string | URLSearchParams | Record<string, string>): Promise<URL> {
    let url: URL;
    if (request instanceof URL || typeof request === "string") url = new URL(request);
    else {
      url = new URL(this.as.authorization_endpoint);
      for (const [k, v] of new URLSearchParams(request)) url.searchParams.append(k, v);
    }
    const response = await this.fetch(url.href);
    const location = response.headers.get("location");
    const text = await response.text();
    if (response.status !== 302 || location === null) {
      throw new Error(`authorization route answered ${response.status}: ${text}`);
    }
    return new URL(location);
  }

  // -- dispatch -----------------------------------------------------------------------------------

  /**
   * Handles one `Request` (what `Deno.serve` calls).
   *
   * @param request The request.
   * @returns The response.
   */
  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const { route, mtls } = this.#route(url);
    const headers = new Headers(request.headers);
    const body = request.body === null ? "" : await request.text();
    const record: FakeRequest = { method: request.method, url, route, mtls, headers, body };
    if (isForm(headers)) record.form = new URLSearchParams(body);
    else if (body !== "" && isJson(headers)) {
      try {
        record.json = JSON.parse(body);
      } catch { /* left undefined */ }
    }
    if (AUTHENTICATED_ROUTES.has(route)) record.clientAuth = parseClientAuth(headers, record.form);
    const dpop = headers.get("dpop");
    if (dpop !== null) record.dpop = { proof: dpop, ...tryDecode(dpop) };
    this.requests.push(record);

    const next = () => this.#routes.respond(record);
    const responder = this.#take(route);
    if (responder === undefined) return await next();
    if (responder instanceof Response) return responder;
    if (typeof responder !== "function") return json(responder);
    const init: RequestInit = { method: record.method, headers: new Headers(headers) };
    if (record.method !== "GET" && record.method !== "HEAD") init.body = body;
    const result = await responder(new Request(url, init), record.form ?? body, next);
    return result instanceof Response ? result : json(result);
  }

  #take(route: FakeAsRoute): FakeResponder | undefined {
    const entry = this.#overrides.get(route);
    if (!entry) return undefined;
    const once = entry.once.shift();
    if (once !== undefined) return once;
    const persistent = entry.persistent;
    return persistent instanceof Response ? persistent.clone() : persistent;
  }

  async #fetch(url: string, init?: FakeFetchInit): Promise<Response> {
    const signal = init?.signal ?? undefined;
    signal?.throwIfAborted();
    const requestInit: RequestInit & { duplex?: "half" } = {
      method: init?.method ?? "GET",
      headers: init?.headers ?? {},
      body: (init?.body ?? null) as BodyInit | null,
    };
    if (init?.duplex) requestInit.duplex = init.duplex;
    const request = new Request(url, requestInit);
    if (!signal) return await this.handle(request);
    const { promise, resolve, reject } = Promise.withResolvers<Response>();
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    this.handle(request).then(resolve, reject);
    try {
      return await promise;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  #route(url: URL): { route: FakeAsRoute; mtls: boolean } {
    const issuerOrigin = new URL(this.#location.issuer).origin;
    const { mtlsOrigin, mtlsPrefix } = this.#location;
    let path = url.pathname;
    let mtls = false;
    if (
      url.origin === mtlsOrigin &&
      (mtlsPrefix === "" ? mtlsOrigin !== issuerOrigin : path.startsWith(`${mtlsPrefix}/`))
    ) {
      mtls = true;
      path = path.slice(mtlsPrefix.length);
    } else if (url.origin !== issuerOrigin) {
      return { route: "unknown", mtls };
    }
    const base = this.#basePath;
    if (!mtls) {
      // OIDC Discovery 1.0 §4 (suffix) and RFC 8414 §3.1 (path insertion).
      if (
        path === `${base}/.well-known/openid-configuration` ||
        path === `/.well-known/oauth-authorization-server${base}`
      ) return { route: "discovery", mtls };
      // RFC 9728 §3.1: path insertion for the resource identifier.
      if (path === `/.well-known/oauth-protected-resource${base}/resource`) {
        return { route: "resource_metadata", mtls };
      }
    }
    if (!path.startsWith(`${base}/`)) return { route: "unknown", mtls };
    const route = ENDPOINT_PATHS[path.slice(base.length)] ?? "unknown";
    return { route, mtls };
  }

  #signer(key?: SigningKeyInput): { privateKey: CryptoKey; alg: string; kid?: string } {
    if (key === undefined) return this.key;
    if (typeof key === "string") return this.keys.find((k) => k.alg === key) ?? testKeys[key];
    return resolveSigningKey(key);
  }

  #defaultJwks(): JWKS {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  #metadata(extra?: Record<string, JsonValue | undefined>): FakeAsMetadata {
    const base = this.issuer.replace(/\/+$/, "");
    const mtls = `${this.#location.mtlsOrigin}${this.#location.mtlsPrefix}${this.#basePath}`;
    const aliased = {
      token_endpoint: "/token",
      userinfo_endpoint: "/userinfo",
      introspection_endpoint: "/introspect",
      revocation_endpoint: "/revoke",
      pushed_authorization_request_endpoint: "/par",
      device_authorization_endpoint: "/device_authorization",
      backchannel_authentication_endpoint: "/backchannel",
    };
    const at = (prefix: string) =>
      Object.fromEntries(Object.entries(aliased).map(([k, p]) => [k, `${prefix}${p}`]));
    const signingAlgs = ["ES256", "RS256"];
    const metadata: Record<string, unknown> = {
      issuer: this.issuer,
      authorization_endpoint: `${base}/authorize`,
      ...at(base),
      jwks_uri: `${base}/jwks`,
      registration_endpoint: `${base}/register`,
      mtls_endpoint_aliases: at(mtls),
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      response_types_supported: ["code"],
      response_modes_supported: ["query", "fragment", "jwt", "query.jwt", "fragment.jwt"],
      grant_types_supported: [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        DEVICE_CODE,
        CIBA,
      ],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: signingAlgs,
      userinfo_signing_alg_values_supported: signingAlgs,
      introspection_signing_alg_values_supported: signingAlgs,
      authorization_signing_alg_values_supported: signingAlgs,
      request_object_signing_alg_values_supported: [...testAlgs],
      token_endpoint_auth_methods_supported: [
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "tls_client_auth",
        "none",
      ],
      token_endpoint_auth_signing_alg_values_supported: [...testAlgs, "HS256"],
      code_challenge_methods_supported: ["S256"],
      dpop_signing_alg_values_supported: [...testAlgs],
      backchannel_token_delivery_modes_supported: ["poll"],
      backchannel_user_code_parameter_supported: false,
      authorization_response_iss_parameter_supported: true,
      tls_client_certificate_bound_access_tokens: true,
      request_parameter_supported: true,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "nonce", "auth_time", "name", "email"],
      ...extra,
    };
    return withoutUndefined(metadata) as FakeAsMetadata;
  }
}
