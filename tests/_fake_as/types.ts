/**
 * The fake authorization server's public types: the route names ({@link ROUTES}), what a recorded
 * request looks like, what `override()` accepts, the `customFetch`-compatible fetch signature, the
 * metadata shape and the factories' options.
 *
 * @module
 */

import type {
  allowInsecureRequests,
  AuthorizationServer,
  Client,
  customFetch,
  JsonValue,
  MTLSEndpointAliases,
} from "@authlane/oauth";
import type { TestKey } from "../_keys.ts";

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
