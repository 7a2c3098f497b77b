/**
 * `@authlane/oauth/session`: OpenID Connect sign-in with sessions in Deno KV, for `Deno.serve`,
 * Deno Deploy and Fresh or Hono routes, from one process to a fleet of isolates.
 *
 * - {@linkcode createSessionAuth}: sign-in (PKCE S256, `state`, `nonce`, PAR when required),
 *   callback (RFC 9207 `iss`, state, ID token validation, no fixation, no replay, no open
 *   redirect), session lookup with an access token refreshed ahead of expiry (once across all
 *   isolates, so rotating refresh tokens do not race), sign-out (RFC 7009 revocation,
 *   RP-initiated logout) and a back-channel logout endpoint (sessions found by `sid` or `sub`,
 *   replayed `jti`s refused). Cookies are `__Host-`, `HttpOnly`, `Secure`, `SameSite=Lax` and hold
 *   a random id only: tokens never reach the browser.
 * - {@linkcode createKvJwksCache}: the provider's JWKS kept in KV per issuer, honouring
 *   `Cache-Control: max-age` within bounds, fetched by one isolate at a time.
 * - {@linkcode createClientCredentialsTokenSource}: client credentials tokens cached in KV per
 *   (client, scope, resource), one grant in flight per key across isolates.
 * - {@linkcode withKvRetry}: the retry of a locked local SQLite KV that all of the above use.
 *
 * Storage is Deno KV: a local SQLite file by default (`Deno.openKv()`), `":memory:"` in tests,
 * Deno Deploy's KV when deployed, and a self-hosted KV Connect server with
 * `Deno.openKv("http://…")`. The same code runs on all three. Deno KV is still unstable: run with
 * `--unstable-kv`, or put `"unstable": ["kv"]` in `deno.json` (Deno Deploy enables it for you).
 *
 * This module is built only on the public API of `@authlane/oauth`, which it imports from the
 * package entry, so an application importing both holds one copy of the library.
 *
 * @example Sign users in (Deno.serve)
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * import { createSessionAuth } from "@authlane/oauth/session";
 *
 * const auth = createSessionAuth({
 *   issuer: "https://op.example",
 *   client: { client_id: "my-app" },
 *   clientAuth: oauth.ClientSecretBasic(Deno.env.get("CLIENT_SECRET")!),
 *   redirectUri: "https://app.example/callback",
 * });
 *
 * Deno.serve(auth.handler((_request, session) => {
 *   if (session === null) {
 *     return new Response('<a href="/login">Sign in</a>', {
 *       headers: { "content-type": "text/html" },
 *     });
 *   }
 *   return new Response(
 *     `Hello ${session.sub} <form method="post" action="/logout"><button>Sign out</button></form>`,
 *     { headers: { "content-type": "text/html" } },
 *   );
 * }));
 * ```
 *
 * @module
 */

export { createSessionAuth } from "./auth.ts";
export type { SessionAuth, SessionAuthOptions, SessionRoutes } from "./auth.ts";
export type { SessionEvent } from "./_context.ts";
export type { CustomFetch } from "./_context.ts";
export type { CookieNames } from "./cookies.ts";
export type { SignInOptions } from "./sign_in.ts";
export type { Session } from "./store.ts";

export { createKvJwksCache } from "./jwks_cache.ts";
export type { KvJwksCache, KvJwksCacheOptions, KvJwksCacheRequestOptions } from "./jwks_cache.ts";

export { createClientCredentialsTokenSource } from "./token_source.ts";
export type {
  CachedToken,
  ClientCredentialsTokenSource,
  ClientCredentialsTokenSourceOptions,
} from "./token_source.ts";

export { isDatabaseLocked, withKvRetry } from "./kv.ts";
export type { KeyPart, KvRetryOptions } from "./kv.ts";

export {
  SESSION_COOKIE_INVALID,
  SESSION_EXPIRED,
  SESSION_LEASE_TIMEOUT,
  SESSION_LOGOUT_REPLAYED,
  SESSION_METHOD_NOT_ALLOWED,
  SESSION_ORIGIN_MISMATCH,
  SESSION_REFRESH_REFUSED,
  SESSION_RETURN_TO_INVALID,
  SESSION_STORE_UNAVAILABLE,
  SESSION_TRANSACTION_INVALID,
  SESSION_TRANSACTION_MISSING,
  SESSION_TRANSACTION_UNKNOWN,
  SESSION_UNKNOWN,
  SessionError,
} from "./errors.ts";
export type { SessionErrorCode } from "./errors.ts";

// The library's types that the signatures above name (and the ones those name), so that this
// entry's documentation is complete; they are `@authlane/oauth`'s own, not copies.
export type {
  AuthorizationServer,
  Client,
  ClientAuth,
  ClientCertificate,
  clientCertificate,
  clockSkew,
  clockTolerance,
  ConfirmationClaims,
  CustomFetchOptions,
  IDToken,
  JsonArray,
  JsonObject,
  JsonPrimitive,
  JsonValue,
  JWTPayload,
  MTLSEndpointAliases,
} from "../../mod.ts";
