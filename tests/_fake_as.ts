/**
 * A fake authorization server for unit and fault-injection tests: correct by default, bendable one
 * response at a time, and recording every request it receives.
 *
 * - {@link createFakeAs} builds it with no socket; its `fetch` is used as a `customFetch`
 *   (`server.options` spreads into any request helper's options).
 * - {@link startFakeAs} serves the same handler on `Deno.serve` at `127.0.0.1`, port 0; dispose it
 *   with `await using`. Its `options` hold `[allowInsecureRequests]: true`.
 *
 * Default behaviour, per route (route names are what `override()` and `requests[].route` use):
 *
 * | route | path (under the issuer) | default |
 * | --- | --- | --- |
 * | `discovery` | RFC 8414 §3.1 path insertion and OIDC Discovery §4 suffix | `server.as` |
 * | `resource_metadata` | `/.well-known/oauth-protected-resource<path>/resource` (RFC 9728 §3.1) | resource metadata |
 * | `jwks` | `/jwks` | `server.jwks` |
 * | `authorization` | `/authorize` | 302 to `redirect_uri` with `code`, `state`, `iss` (or JARM) |
 * | `token` | `/token` | tokens; PKCE and single use checked for codes it issued |
 * | `userinfo` | `/userinfo` | `{ sub, name, email }` (a JWT when `Accept: application/jwt`) |
 * | `introspection` | `/introspect` | `{ active: true, … }` (a JWT per RFC 9701 when asked) |
 * | `revocation` | `/revoke` | 200, empty |
 * | `par` | `/par` | 201 `{ request_uri, expires_in: 60 }` |
 * | `device_authorization` | `/device_authorization` | 200 `{ device_code, user_code, … }` |
 * | `backchannel` | `/backchannel` | 200 `{ auth_req_id, expires_in }` |
 * | `registration` | `/register` | 201 metadata echo + `client_id` (+ `client_secret`) |
 * | `resource` | `/resource` | 200 echo of `Authorization` and `DPoP` |
 *
 * The `mtls_endpoint_aliases` point at `https://mtls.<issuer host>/…` (or `/mtls/…` on the socket
 * server); the same handler serves them and logs `mtls: true`.
 *
 * Client authentication (token, introspection, revocation, PAR, device, backchannel):
 * `client_secret_basic` (RFC 6749 §2.3.1 form-decoded), `client_secret_post`, JWT assertions
 * (decoded into `requests[].clientAuth`, never verified; the client is `client_id`, else the
 * assertion's `sub`) and `none`. The client must be known (the configured one or one registered
 * at the registration route) and secrets must match, else 401 `invalid_client` (with a `Basic`
 * challenge when Basic was used, RFC 6749 §5.2); two methods at once is 400 `invalid_request`.
 * DPoP proofs (RFC 9449 §4.3) are verified when present, with `ath` at the
 * userinfo and resource routes and the nonce from `server.dpopNonce` when it is set.
 *
 * @module
 */

import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  EmbeddedJWK,
  jwtVerify,
} from "jose";
import { allowInsecureRequests, customFetch } from "../src/symbols.ts";
import type {
  AuthorizationServer,
  Client,
  JsonValue,
  JWKS,
  MTLSEndpointAliases,
} from "../src/types.ts";
import {
  b64u,
  keys as testKeys,
  resolveSigningKey,
  type SigningKeyInput,
  signJws,
  testAlgs,
  type TestKey,
} from "./_keys.ts";

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/** Every route the fake server knows; `unknown` is anything else (answered 404). */
export const ROUTES = [
  "discovery",
  "resource_metadata",
  "jwks",
  "authorization",
  "token",
  "userinfo",
  "introspection",
  "revocation",
  "par",
  "device_authorization",
  "backchannel",
  "registration",
  "resource",
  "unknown",
] as const;

/** A route name. */
export type FakeAsRoute = typeof ROUTES[number];

/** How a client authenticated, as the fake server read it (nothing here is verified). */
export interface FakeClientAuth {
  /** The method; `invalid` when the request was malformed or used two methods. */
  method:
    | "client_secret_basic"
    | "client_secret_post"
    | "client_secret_jwt"
    | "private_key_jwt"
    | "none"
    | "invalid";
  /** The client identifier (Basic user-id, `client_id`, or assertion `sub`). */
  clientId?: string;
  /** The secret, form-decoded for Basic. */
  clientSecret?: string;
  /** The raw `client_assertion`. */
  assertion?: string;
  /** Its decoded protected header. */
  assertionHeader?: Record<string, unknown>;
  /** Its decoded claims. */
  assertionClaims?: Record<string, unknown>;
  /** Why it is `invalid`. */
  problem?: string;
}

/** A received DPoP header, decoded but not verified. */
export interface FakeDPoPProof {
  /** The raw header value. */
  proof: string;
  /** The decoded protected header, when it decodes. */
  header?: Record<string, unknown>;
  /** The decoded claims, when they decode. */
  claims?: Record<string, unknown>;
}

/** One request the fake server received. */
export interface FakeRequest {
  /** HTTP method. */
  method: string;
  /** Full URL. */
  url: URL;
  /** Route it was dispatched to. */
  route: FakeAsRoute;
  /** Whether it came through an `mtls_endpoint_aliases` URL. */
  mtls: boolean;
  /** Request headers. */
  headers: Headers;
  /** Raw body text (`""` when none). */
  body: string;
  /** Parsed body when it was `application/x-www-form-urlencoded`. */
  form?: URLSearchParams;
  /** Parsed body when it was JSON. */
  json?: unknown;
  /** Client authentication, on routes that authenticate clients. */
  clientAuth?: FakeClientAuth;
  /** The `DPoP` header, decoded. */
  dpop?: FakeDPoPProof;
}

/** A JSON body an override sends with status 200. */
export type FakeJsonBody = Record<string, unknown> | unknown[];

/**
 * A function answering one request. `body` is the parsed form when the request was form-encoded,
 * else the raw text; `next()` produces the default response (to bend it rather than replace it).
 */
export type FakeResponderFunction = (
  req: Request,
  body: URLSearchParams | string,
  next: () => Promise<Response>,
) => Response | FakeJsonBody | Promise<Response | FakeJsonBody>;

/** What `override()` takes: a JSON body (sent 200), a `Response` (cloned per use) or a function. */
export type FakeResponder = Response | FakeJsonBody | FakeResponderFunction;

/** The fetch signature of {@link FakeAs.fetch}, compatible with `customFetch`. */
export type FakeFetch = (url: string, init?: FakeFetchInit) => Promise<Response>;

/** What {@link FakeFetch} accepts (a superset of `CustomFetchOptions`). */
export interface FakeFetchInit {
  /** HTTP method. @default "GET" */
  method?: string;
  /** Headers. */
  headers?: HeadersInit;
  /** Body. */
  body?: unknown;
  /** Abort signal; an abort rejects the call with its reason, even while a responder hangs. */
  signal?: AbortSignal | null;
  /** Ignored: responses are returned as they are (like `"manual"`). */
  redirect?: RequestRedirect;
  /** Set for streaming bodies. */
  duplex?: "half";
}

/** The options bag to spread into library calls. */
export interface FakeAsRequestOptions {
  /** Set by {@link createFakeAs}. */
  [customFetch]?: FakeFetch;
  /** Set by {@link startFakeAs}. */
  [allowInsecureRequests]?: boolean;
}

/** Endpoints of the fake server, all present. */
export type FakeEndpoints = Required<
  Pick<
    AuthorizationServer,
    | "authorization_endpoint"
    | "token_endpoint"
    | "userinfo_endpoint"
    | "jwks_uri"
    | "introspection_endpoint"
    | "revocation_endpoint"
    | "pushed_authorization_request_endpoint"
    | "device_authorization_endpoint"
    | "backchannel_authentication_endpoint"
    | "registration_endpoint"
  >
>;

/** The fake server's metadata: every endpoint and alias present. */
export type FakeAsMetadata = AuthorizationServer & FakeEndpoints & {
  readonly mtls_endpoint_aliases:
    & MTLSEndpointAliases
    & Required<
      Pick<
        MTLSEndpointAliases,
        | "token_endpoint"
        | "userinfo_endpoint"
        | "introspection_endpoint"
        | "revocation_endpoint"
        | "pushed_authorization_request_endpoint"
        | "device_authorization_endpoint"
        | "backchannel_authentication_endpoint"
      >
    >;
};

/** Options of {@link createFakeAs} and {@link startFakeAs}. */
export interface FakeAsOptions {
  /**
   * Issuer identifier ({@link createFakeAs} only; {@link startFakeAs} uses the loopback origin).
   * @default "https://as.example" (plus `path`)
   */
  issuer?: string;
  /** Issuer path, such as `"/tenant"`. @default "" */
  path?: string;
  /** The server's signing keys; the first signs by default. @default every test key, ES256 first */
  keys?: readonly TestKey[];
  /** The registered client. @default { client_id: "client" } */
  client?: Client;
  /** The client's secret. @default "fake-secret" */
  clientSecret?: string;
  /** Metadata members merged over the defaults; `undefined` deletes one. */
  metadata?: Record<string, JsonValue | undefined>;
}

// ---------------------------------------------------------------------------------------------
// Response helpers
// ---------------------------------------------------------------------------------------------

/**
 * A JSON response.
 *
 * @param body Any JSON-serializable value.
 * @param status HTTP status. @default 200
 * @param headers Extra headers; `content-type` defaults to `application/json`.
 * @returns The response.
 */
export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  if (!h.has("content-type")) h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/**
 * An OAuth 2.0 error response (RFC 6749 §5.2).
 *
 * @param error The `error` code.
 * @param description The `error_description`, when given.
 * @param status HTTP status. @default 400
 * @param headers Extra headers.
 * @returns The response.
 */
export function oauthError(
  error: string,
  description?: string,
  status = 400,
  headers?: HeadersInit,
): Response {
  return json(
    description === undefined ? { error } : { error, error_description: description },
    status,
    headers,
  );
}

/**
 * A response carrying a `WWW-Authenticate` challenge and no body.
 *
 * @param header The `WWW-Authenticate` value, such as `Bearer error="invalid_token"`.
 * @param status HTTP status. @default 401
 * @param headers Extra headers.
 * @returns The response.
 */
export function challenge(header: string, status = 401, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("www-authenticate", header);
  return new Response(null, { status, headers: h });
}

/**
 * A response whose body is a JWT.
 *
 * @param jwt The compact JWT.
 * @param contentType The media type. @default "application/jwt"
 * @param status HTTP status. @default 200
 * @returns The response.
 */
export function jwtResponse(jwt: string, contentType = "application/jwt", status = 200): Response {
  return new Response(jwt, { status, headers: { "content-type": contentType } });
}

/** @returns The current time in epoch seconds. */
export function now(): number {
  return Math.floor(Date.now() / 1000);
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

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

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code";
const CIBA = "urn:openid:params:grant-type:ciba";
const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const DPOP_ALGS = [...testAlgs, "Ed25519", "ES512", "RS384", "RS512", "PS384", "PS512"];
const DPOP_IAT_WINDOW = 60;

interface IssuedCode {
  clientId: string;
  redirectUri: string | null;
  codeChallenge: string | null;
  nonce: string | null;
  scope: string | null;
}

interface IssuedToken {
  clientId: string;
  scope?: string;
  jkt?: string;
}

type DPoPResult = { ok: true; jkt?: string } | { ok: false; error: string; description: string };

function random(bytes = 24): string {
  return b64u(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return b64u(new Uint8Array(digest));
}

function withoutUndefined<T extends Record<string, unknown>>(
  value: T,
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

function tryDecode(
  jwt: string,
): { header?: Record<string, unknown>; claims?: Record<string, unknown> } {
  const out: { header?: Record<string, unknown>; claims?: Record<string, unknown> } = {};
  try {
    out.header = decodeProtectedHeader(jwt) as Record<string, unknown>;
  } catch { /* left undefined */ }
  try {
    out.claims = decodeJwt(jwt) as Record<string, unknown>;
  } catch { /* left undefined */ }
  return out;
}

function parseBasic(authorization: string): { id: string; secret: string } | undefined {
  try {
    const bytes = Uint8Array.from(atob(authorization.slice(6).trim()), (c) => c.charCodeAt(0));
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const colon = text.indexOf(":");
    if (colon === -1) return undefined;
    return { id: formDecode(text.slice(0, colon)), secret: formDecode(text.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** Reads (without verifying) how a client authenticated; RFC 6749 §2.3, RFC 7523 §2.2. */
function parseClientAuth(headers: Headers, form?: URLSearchParams): FakeClientAuth {
  const authorization = headers.get("authorization");
  const basic = authorization !== null && /^basic /i.test(authorization);
  const used: string[] = [];
  if (basic) used.push("client_secret_basic");
  if (form?.has("client_secret")) used.push("client_secret_post");
  if (form?.has("client_assertion") || form?.has("client_assertion_type")) used.push("jwt");
  if (used.length > 1) {
    return { method: "invalid", problem: `more than one method: ${used.join(", ")}` };
  }
  const formClientId = form?.get("client_id") ?? undefined;
  if (basic) {
    const credentials = parseBasic(authorization);
    if (!credentials) return { method: "client_secret_basic", problem: "malformed credentials" };
    if (formClientId !== undefined && formClientId !== credentials.id) {
      return { method: "invalid", problem: "client_id differs from the Basic user-id" };
    }
    return {
      method: "client_secret_basic",
      clientId: credentials.id,
      clientSecret: credentials.secret,
    };
  }
  if (used[0] === "client_secret_post") {
    return {
      method: "client_secret_post",
      clientSecret: form?.get("client_secret") ?? "",
      ...(formClientId === undefined ? {} : { clientId: formClientId }),
    };
  }
  if (used[0] === "jwt") {
    const assertion = form?.get("client_assertion") ?? "";
    if (form?.get("client_assertion_type") !== JWT_BEARER || assertion === "") {
      return { method: "invalid", problem: "bad client_assertion_type or no client_assertion" };
    }
    const { header, claims } = tryDecode(assertion);
    const alg = typeof header?.alg === "string" ? header.alg : "";
    const sub = typeof claims?.sub === "string" ? claims.sub : undefined;
    const clientId = formClientId ?? sub;
    return {
      method: alg.startsWith("HS") ? "client_secret_jwt" : "private_key_jwt",
      assertion,
      ...(header ? { assertionHeader: header } : {}),
      ...(claims ? { assertionClaims: claims } : {}),
      ...(clientId === undefined ? {} : { clientId }),
    };
  }
  return { method: "none", ...(formClientId === undefined ? {} : { clientId: formClientId }) };
}

function isForm(headers: Headers): boolean {
  return /^application\/x-www-form-urlencoded\b/i.test(headers.get("content-type") ?? "");
}

function isJson(headers: Headers): boolean {
  return /^application\/(?:[\w.+-]+\+)?json\b/i.test(headers.get("content-type") ?? "");
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

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
  #clients = new Map<string, string | undefined>();
  #codes = new Map<string, IssuedCode>();
  #usedCodes = new Set<string>();
  #pushed = new Map<string, URLSearchParams>();
  #tokens = new Map<string, IssuedToken>();
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
    this.#clients.set(this.client.client_id, this.clientSecret);
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
    this.#codes.clear();
    this.#usedCodes.clear();
    this.#pushed.clear();
    this.#tokens.clear();
    this.#clients.clear();
    this.#clients.set(this.client.client_id, this.clientSecret);
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

    const next = () => this.#default(record);
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

  // -- default routes ---------------------------------------------------------------------------

  async #default(record: FakeRequest): Promise<Response> {
    switch (record.route) {
      case "discovery":
        return record.method === "GET" ? json(this.as) : methodNotAllowed("GET");
      case "resource_metadata":
        return json({
          resource: this.resource,
          authorization_servers: [this.issuer],
          bearer_methods_supported: ["header"],
          dpop_signing_alg_values_supported: [...testAlgs],
        });
      case "jwks":
        return record.method === "GET" ? json(this.jwks) : methodNotAllowed("GET");
      case "authorization":
        return await this.#authorization(record);
      case "token":
        return await this.#token(record);
      case "userinfo":
        return await this.#userinfo(record);
      case "introspection":
        return await this.#introspection(record);
      case "revocation":
        return this.#revocation(record);
      case "par":
        return await this.#par(record);
      case "device_authorization":
        return this.#deviceAuthorization(record);
      case "backchannel":
        return this.#backchannel(record);
      case "registration":
        return this.#registration(record);
      case "resource":
        return await this.#resource(record);
      case "unknown":
        return new Response("not found", {
          status: 404,
          headers: { "content-type": "text/plain" },
        });
    }
  }

  /** Common gate of authenticated POST routes: method, form body, client authentication. */
  #gate(record: FakeRequest): { clientId: string } | Response {
    if (record.method !== "POST") return methodNotAllowed("POST");
    if (!record.form) return oauthError("invalid_request", "expected a form-encoded body");
    const auth = record.clientAuth ?? { method: "none" };
    if (auth.method === "invalid") return oauthError("invalid_request", auth.problem);
    const basic = auth.method === "client_secret_basic";
    const refuse = (why: string) =>
      oauthError(
        "invalid_client",
        why,
        401,
        basic ? { "www-authenticate": 'Basic realm="fake-as"' } : undefined,
      );
    const clientId = auth.clientId;
    if (clientId === undefined || !this.#clients.has(clientId)) return refuse("unknown client");
    const secret = this.#clients.get(clientId);
    if (basic || auth.method === "client_secret_post") {
      if (secret === undefined || auth.clientSecret !== secret) return refuse("wrong secret");
    }
    // JWT assertions are decoded into `clientAuth` but not verified: tests inspect them.
    return { clientId };
  }

  /** RFC 9449 §4.3 checks of the DPoP header, when there is one. */
  async #checkDpop(record: FakeRequest, accessToken?: string): Promise<DPoPResult> {
    const proof = record.dpop?.proof;
    if (proof === undefined) return { ok: true };
    const bad = (description: string): DPoPResult => ({
      ok: false,
      error: "invalid_dpop_proof",
      description,
    });
    if (proof.includes(",")) return bad("more than one DPoP header");
    let claims: Record<string, unknown>;
    let jwk: Record<string, unknown>;
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, {
        typ: "dpop+jwt",
        algorithms: DPOP_ALGS,
      });
      claims = verified.payload as Record<string, unknown>;
      jwk = verified.protectedHeader.jwk as Record<string, unknown>;
    } catch (err) {
      return bad(`proof does not verify: ${(err as Error).message}`);
    }
    if (typeof claims.jti !== "string" || claims.jti === "") return bad("missing jti");
    if (claims.htm !== record.method) return bad("htm mismatch");
    let htu: URL;
    try {
      htu = new URL(String(claims.htu));
    } catch {
      return bad("htu is not a URL");
    }
    if (htu.origin + htu.pathname !== record.url.origin + record.url.pathname) {
      return bad("htu mismatch");
    }
    if (typeof claims.iat !== "number" || Math.abs(now() - claims.iat) > DPOP_IAT_WINDOW) {
      return bad("iat outside the acceptance window");
    }
    if (accessToken !== undefined && claims.ath !== await sha256(accessToken)) {
      return bad("ath mismatch");
    }
    if (this.dpopNonce !== undefined && claims.nonce !== this.dpopNonce) {
      return { ok: false, error: "use_dpop_nonce", description: "nonce required" };
    }
    return {
      ok: true,
      jkt: await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]),
    };
  }

  #nonceHeaders(): HeadersInit | undefined {
    return this.dpopNonce === undefined ? undefined : { "dpop-nonce": this.dpopNonce };
  }

  #dpopErrorAtAs(result: { error: string; description: string }): Response {
    return oauthError(result.error, result.description, 400, this.#nonceHeaders());
  }

  async #authorization(record: FakeRequest): Promise<Response> {
    let params = record.method === "POST" && record.form ? record.form : record.url.searchParams;
    const requestUri = params.get("request_uri");
    if (requestUri !== null) {
      const pushed = this.#pushed.get(requestUri);
      if (!pushed) return oauthError("invalid_request_uri", "unknown or used request_uri");
      this.#pushed.delete(requestUri);
      params = pushed;
    }
    const clientId = params.get("client_id");
    const redirectUri = params.get("redirect_uri");
    if (clientId === null || !this.#clients.has(clientId)) {
      return oauthError("invalid_request", "unknown client_id");
    }
    if (redirectUri === null) return oauthError("invalid_request", "missing redirect_uri");
    const mode = params.get("response_mode") ?? "query";
    const out = new URLSearchParams();
    const state = params.get("state");
    const challengeValue = params.get("code_challenge");
    const method = params.get("code_challenge_method");
    if (params.get("response_type") !== "code") out.set("error", "unsupported_response_type");
    else if (challengeValue !== null && method !== "S256") {
      out.set("error", "invalid_request"); // RFC 7636 §4.4.1; only S256 is advertised
      out.set("error_description", "code_challenge_method must be S256");
    } else if (challengeValue === null && method !== null) {
      out.set("error", "invalid_request");
      out.set("error_description", "code_challenge_method without code_challenge");
    } else {
      const code = random();
      this.#codes.set(code, {
        clientId,
        redirectUri,
        codeChallenge: challengeValue,
        nonce: params.get("nonce"),
        scope: params.get("scope"),
      });
      out.set("code", code);
    }
    if (state !== null) out.set("state", state);
    return await this.#redirect(redirectUri, mode, out, clientId);
  }

  async #redirect(
    redirectUri: string,
    mode: string,
    params: URLSearchParams,
    clientId: string,
  ): Promise<Response> {
    const target = new URL(redirectUri);
    let values = params;
    if (mode === "jwt" || mode.endsWith(".jwt")) {
      // JARM §2.1: the parameters travel as claims of one signed `response`.
      const jwt = await this.sign({
        iss: this.issuer,
        aud: clientId,
        exp: now() + 60,
        ...Object.fromEntries(params),
      });
      values = new URLSearchParams({ response: jwt });
    } else {
      values.set("iss", this.issuer); // RFC 9207 §2
    }
    if (mode === "fragment" || mode === "fragment.jwt") target.hash = values.toString();
    else for (const [k, v] of values) target.searchParams.append(k, v);
    return new Response(null, { status: 302, headers: { location: target.href } });
  }

  async #token(record: FakeRequest): Promise<Response> {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const form = record.form!;
    const dpop = await this.#checkDpop(record);
    if (!dpop.ok) return this.#dpopErrorAtAs(dpop);
    const grant = form.get("grant_type");
    const requiredParam = (name: string) =>
      form.get(name) ? undefined : oauthError("invalid_request", `missing ${name}`);
    let nonce = this.nextNonce;
    let scope = form.get("scope") ?? undefined;
    let idToken = false;
    let refreshToken = true;
    const extra: Record<string, unknown> = {};
    switch (grant) {
      case null:
      case "":
        return oauthError("invalid_request", "missing grant_type");
      case "authorization_code": {
        const missing = requiredParam("code");
        if (missing) return missing;
        const refused = await this.#redeemCode(form, gate.clientId);
        if (refused instanceof Response) return refused;
        if (refused) {
          nonce = refused.nonce ?? nonce;
          scope = refused.scope ?? scope;
        }
        idToken = true;
        break;
      }
      case "refresh_token": {
        const missing = requiredParam("refresh_token");
        if (missing) return missing;
        idToken = true;
        break;
      }
      case "client_credentials":
        refreshToken = false; // RFC 6749 §4.4.3
        break;
      case DEVICE_CODE: {
        const missing = requiredParam("device_code");
        if (missing) return missing;
        break;
      }
      case CIBA: {
        const missing = requiredParam("auth_req_id");
        if (missing) return missing;
        idToken = true; // CIBA §10.1.1
        break;
      }
      case TOKEN_EXCHANGE:
        extra.issued_token_type = "urn:ietf:params:oauth:token-type:access_token"; // RFC 8693
        refreshToken = false;
        break;
      default:
        break;
    }
    const accessToken = random();
    this.#tokens.set(accessToken, {
      clientId: gate.clientId,
      ...(scope === undefined ? {} : { scope }),
      ...(dpop.jkt === undefined ? {} : { jkt: dpop.jkt }),
    });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: dpop.jkt === undefined ? "Bearer" : "DPoP",
      expires_in: 3600,
      ...extra,
    };
    if (refreshToken) body.refresh_token = random();
    if (idToken) {
      body.id_token = await this.sign(this.idTokenClaims({ aud: gate.clientId, nonce }));
    }
    if (scope !== undefined) body.scope = scope;
    const headers = new Headers(this.#nonceHeaders());
    headers.set("cache-control", "no-store"); // RFC 6749 §5.1
    return json(body, 200, headers);
  }

  /** Checks a code this server issued (unknown codes pass: tests make them up). */
  async #redeemCode(
    form: URLSearchParams,
    clientId: string,
  ): Promise<IssuedCode | undefined | Response> {
    const code = form.get("code")!;
    const refuse = (why: string) => oauthError("invalid_grant", why);
    if (this.#usedCodes.has(code)) return refuse("code already used"); // RFC 6749 §4.1.2
    const issued = this.#codes.get(code);
    if (!issued) return undefined;
    this.#codes.delete(code);
    this.#usedCodes.add(code);
    if (issued.clientId !== clientId) return refuse("code was issued to another client");
    if (issued.redirectUri !== form.get("redirect_uri")) return refuse("redirect_uri mismatch");
    const verifier = form.get("code_verifier");
    if (issued.codeChallenge === null) {
      // RFC 9700 §2.1.1: a code_verifier without a code_challenge is a downgrade.
      if (verifier !== null) return refuse("code_verifier sent but no code_challenge was");
    } else if (verifier === null || await sha256(verifier) !== issued.codeChallenge) {
      return refuse("PKCE verification failed (RFC 7636 §4.6)");
    }
    return issued;
  }

  /** Bearer or DPoP access token presented at a protected resource (RFC 6750 §2.1, RFC 9449 §7). */
  async #presentedToken(record: FakeRequest): Promise<{ token: string } | Response> {
    const authorization = record.headers.get("authorization") ?? "";
    const match = /^(bearer|dpop) +([\w\-.~+/]+=*)$/i.exec(authorization);
    if (!match) return challenge('Bearer error="invalid_token"');
    const scheme = match[1]!.toLowerCase();
    const token = match[2]!;
    const issued = this.#tokens.get(token);
    const dpopChallenge = (error: string, description: string) =>
      challenge(
        `DPoP error="${error}", error_description="${description}", algs="${testAlgs.join(" ")}"`,
        401,
        this.#nonceHeaders(),
      );
    if (scheme === "bearer") {
      if (issued?.jkt !== undefined) {
        return challenge('Bearer error="invalid_token", error_description="token is DPoP-bound"');
      }
      return { token };
    }
    if (record.dpop === undefined) return dpopChallenge("invalid_dpop_proof", "missing DPoP proof");
    const dpop = await this.#checkDpop(record, token);
    if (!dpop.ok) return dpopChallenge(dpop.error, dpop.description);
    if (issued !== undefined && issued.jkt !== dpop.jkt) {
      return dpopChallenge("invalid_token", "token is bound to another key");
    }
    return { token };
  }

  async #userinfo(record: FakeRequest): Promise<Response> {
    const presented = await this.#presentedToken(record);
    if (presented instanceof Response) return presented;
    const claims = { sub: "user-1", name: "Test User", email: "user-1@as.example" };
    if (/application\/jwt/i.test(record.headers.get("accept") ?? "")) {
      const aud = this.#tokens.get(presented.token)?.clientId ?? this.client.client_id;
      return jwtResponse(await this.sign({ iss: this.issuer, aud, ...claims }));
    }
    return json(claims, 200, this.#nonceHeaders());
  }

  async #resource(record: FakeRequest): Promise<Response> {
    const presented = await this.#presentedToken(record);
    if (presented instanceof Response) return presented;
    return json(
      {
        method: record.method,
        url: record.url.href,
        authorization: record.headers.get("authorization"),
        dpop: record.headers.get("dpop"),
      },
      200,
      this.#nonceHeaders(),
    );
  }

  async #introspection(record: FakeRequest): Promise<Response> {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const token = record.form!.get("token");
    if (!token) return oauthError("invalid_request", "missing token");
    const issued = this.#tokens.get(token);
    const t = now();
    const body = withoutUndefined({
      active: true,
      client_id: issued?.clientId ?? gate.clientId,
      scope: issued?.scope,
      sub: "user-1",
      iss: this.issuer,
      aud: issued?.clientId ?? gate.clientId,
      iat: t,
      exp: t + 3600,
      token_type: issued?.jkt === undefined ? "Bearer" : "DPoP",
      cnf: issued?.jkt === undefined ? undefined : { jkt: issued.jkt },
    });
    const accept = record.headers.get("accept") ?? "";
    if (/application\/token-introspection\+jwt/i.test(accept)) {
      // RFC 9701 §5
      const jwt = await this.sign(
        { iss: this.issuer, aud: gate.clientId, iat: t, token_introspection: body },
        { typ: "token-introspection+jwt" },
      );
      return jwtResponse(jwt, "application/token-introspection+jwt");
    }
    return json(body);
  }

  #revocation(record: FakeRequest): Response {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const token = record.form!.get("token");
    if (!token) return oauthError("invalid_request", "missing token");
    this.#tokens.delete(token);
    return new Response(null, { status: 200 });
  }

  async #par(record: FakeRequest): Promise<Response> {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const form = record.form!;
    const dpop = await this.#checkDpop(record);
    if (!dpop.ok) return this.#dpopErrorAtAs(dpop);
    if (form.has("request_uri")) {
      return oauthError("invalid_request", "request_uri is not allowed (RFC 9126 §2.1)");
    }
    const params = new URLSearchParams(form);
    const requestObject = form.get("request");
    if (requestObject !== null) {
      // RFC 9101 §6.3: the request object's claims are the parameters (not verified here).
      const { claims } = tryDecode(requestObject);
      if (!claims) return oauthError("invalid_request_object", "request object does not decode");
      for (const [k, v] of Object.entries(claims)) {
        if (typeof v === "string") params.set(k, v);
      }
    }
    params.set("client_id", gate.clientId);
    for (const name of ["client_secret", "client_assertion", "client_assertion_type"]) {
      params.delete(name);
    }
    const requestUri = `urn:ietf:params:oauth:request_uri:${random()}`;
    this.#pushed.set(requestUri, params);
    return json({ request_uri: requestUri, expires_in: 60 }, 201, { "cache-control": "no-store" });
  }

  #deviceAuthorization(record: FakeRequest): Response {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const userCode = "WDJB-MJHT";
    const verification = `${this.issuer.replace(/\/+$/, "")}/device`;
    return json(
      {
        device_code: random(),
        user_code: userCode,
        verification_uri: verification,
        verification_uri_complete: `${verification}?user_code=${userCode}`,
        expires_in: 600,
        interval: 5,
      },
      200,
      { "cache-control": "no-store" },
    );
  }

  #backchannel(record: FakeRequest): Response {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const form = record.form!;
    if (!(form.get("scope") ?? "").split(" ").includes("openid")) {
      return oauthError("invalid_scope", "scope must include openid (CIBA §7.1)");
    }
    const hints = ["login_hint", "id_token_hint", "login_hint_token"].filter((n) => form.has(n));
    if (hints.length !== 1) {
      return oauthError("invalid_request", "exactly one hint is required (CIBA §7.1)");
    }
    return json({ auth_req_id: random(), expires_in: 120 });
  }

  #registration(record: FakeRequest): Response {
    if (record.method !== "POST") return methodNotAllowed("POST");
    const metadata = record.json;
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      return oauthError("invalid_client_metadata", "expected a JSON object");
    }
    const fields = metadata as Record<string, unknown>;
    const clientId = `client-${random(9)}`;
    const method = fields.token_endpoint_auth_method ?? "client_secret_basic";
    const secret = method === "client_secret_basic" || method === "client_secret_post" ||
        method === "client_secret_jwt"
      ? random()
      : undefined;
    this.#clients.set(clientId, secret);
    return json(
      withoutUndefined({
        ...fields,
        client_id: clientId,
        client_id_issued_at: now(),
        client_secret: secret,
        client_secret_expires_at: secret === undefined ? undefined : 0,
      }),
      201,
      { "cache-control": "no-store" },
    );
  }
}

function methodNotAllowed(allow: string): Response {
  return new Response("method not allowed", { status: 405, headers: { allow } });
}

// ---------------------------------------------------------------------------------------------
// Factories
// ---------------------------------------------------------------------------------------------

function joinPath(origin: string, path: string | undefined): string {
  if (!path) return origin;
  return `${origin}${path.startsWith("/") ? "" : "/"}${path}`;
}

/**
 * Builds a fake authorization server with no socket. Use `server.fetch` as `customFetch`, or
 * spread `server.options` into a call's options.
 *
 * @param options Issuer, keys, client and metadata overrides.
 * @returns The server (disposing it does nothing).
 */
export function createFakeAs(options: FakeAsOptions = {}): FakeAs {
  const issuer = options.issuer ?? joinPath("https://as.example", options.path);
  const url = new URL(issuer);
  const mtlsOrigin = `${url.protocol}//mtls.${url.host}`;
  return new FakeAs({ issuer, mtlsOrigin, mtlsPrefix: "" }, options, "customFetch");
}

/**
 * Starts the fake authorization server on `Deno.serve` at `127.0.0.1`, port 0. The issuer is
 * `http://127.0.0.1:PORT` plus `options.path`; mTLS aliases are under `/mtls` on the same origin.
 * `server.options` holds `[allowInsecureRequests]: true`. Dispose it with `await using`.
 *
 * @param options Path, keys, client and metadata overrides (`issuer` is ignored).
 * @returns The server.
 */
export async function startFakeAs(
  options: Omit<FakeAsOptions, "issuer"> = {},
): Promise<FakeAs & { readonly port: number; readonly origin: string }> {
  const ref: { target?: FakeAs } = {};
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
    onError: (err) => new Response(`fake AS error: ${String(err)}`, { status: 500 }),
  }, (request) => ref.target!.handle(request));
  const addr = await listening;
  const origin = `http://127.0.0.1:${addr.port}`;
  let closed: Promise<void> | undefined;
  const dispose = () => (closed ??= server.shutdown().then(() => server.finished));
  const target = new FakeAs(
    { issuer: joinPath(origin, options.path), mtlsOrigin: origin, mtlsPrefix: "/mtls" },
    options,
    "insecure",
    dispose,
  );
  ref.target = target;
  return Object.assign(target, { port: addr.port, origin });
}
