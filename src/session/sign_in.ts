/**
 * Sign-in and its callback: the authorization code flow (RFC 6749 §4.1) with PKCE S256 (RFC 7636),
 * `state` and `nonce`, pushed authorization requests (RFC 9126) when the server requires them
 * (`require_pushed_authorization_requests`) or the application asks, and the full validation of
 * the response: RFC 9207 `iss`, `state`, and the ID token per OpenID Connect Core §3.1.3.7.
 *
 * The transaction (code verifier, `state`, `nonce`, return path) is kept in Deno KV for
 * `transactionTtl` seconds, under the digest of a random id that the browser holds in a
 * short-lived cookie. The callback deletes it in one atomic commit before it uses any of it, so a
 * callback can be redeemed once (no replay), and only by the browser that started the sign-in
 * (login CSRF). Each sign-in makes a new session id (no session fixation) and drops the browser's
 * previous session. The return path must be a path on the application's own origin (no open
 * redirect); it is checked when the sign-in starts and again before the redirect.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { type Context, tagStatus } from "./_context.ts";
import { clearCookie, readCookie, setCookie } from "./cookies.ts";
import {
  argumentError,
  SESSION_RETURN_TO_INVALID,
  SESSION_TRANSACTION_INVALID,
  SESSION_TRANSACTION_MISSING,
  SESSION_TRANSACTION_UNKNOWN,
  SessionError,
} from "./errors.ts";
import { digest, ID_PATTERN, randomId } from "./kv.ts";
import { createSession, deleteSession } from "./store.ts";

/** Options of one sign-in ({@linkcode SessionAuth.signIn}). */
export interface SignInOptions {
  /**
   * Where to send the browser after the callback: a path on the application's origin.
   * @default the request's `return_to` query parameter, else `"/"`
   */
  returnTo?: string;
  /**
   * Extra authorization request parameters for this sign-in (`prompt`, `login_hint`,
   * `acr_values`, ...). They cannot replace the ones the layer sets (`client_id`,
   * `redirect_uri`, `response_type`, `scope`, `state`, `nonce`, `code_challenge`,
   * `code_challenge_method`).
   */
  parameters?: Record<string, string>;
}

/** What KV holds for a sign-in in progress. */
interface Transaction {
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
  expiresAt: number;
}

/**
 * The path, query and fragment of `value` when it names a place on `origin`.
 *
 * @param value The return path the browser asked for.
 * @param origin The application's origin.
 * @returns The normalized path, query and fragment.
 * @throws {SessionError} `SESSION_RETURN_TO_INVALID` otherwise (another origin, a scheme-relative
 *   `//host`, a backslash trick: whatever the URL parser resolves elsewhere).
 */
export function sameOriginPath(value: string, origin: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value, origin);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.origin !== origin || !value.startsWith("/")) {
    throw new SessionError(
      "the return path must be a path on the application's origin",
      SESSION_RETURN_TO_INVALID,
      { cause: { returnTo: value.slice(0, 200) } },
    );
  }
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * Starts a sign-in: stores the transaction, sets its cookie, and redirects to the provider.
 *
 * @param ctx The configuration.
 * @param request The request; its `return_to` query parameter is the return path.
 * @param options This sign-in's return path and extra authorization request parameters.
 * @returns A 302 to the authorization endpoint, with the transaction cookie.
 * @throws {SessionError} `SESSION_RETURN_TO_INVALID`, `SESSION_STORE_UNAVAILABLE`.
 * @throws {OperationProcessingError} / {ResponseBodyError} From discovery and PAR.
 */
export async function signIn(
  ctx: Context,
  request: Request,
  options: SignInOptions = {},
): Promise<Response> {
  if (options.parameters !== undefined && typeof options.parameters !== "object") {
    throw argumentError('"parameters" must be an object', "ERR_INVALID_ARG_TYPE");
  }
  const returnTo = sameOriginPath(
    options.returnTo ?? new URL(request.url).searchParams.get("return_to") ?? "/",
    ctx.origin,
  );
  const [as, store] = await Promise.all([ctx.metadata(), ctx.store()]);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const parameters = new URLSearchParams({ ...ctx.authorizationParameters, ...options.parameters });
  parameters.set("client_id", ctx.client.client_id);
  parameters.set("redirect_uri", ctx.redirectUri);
  parameters.set("response_type", "code");
  parameters.set("scope", ctx.scope);
  parameters.set("state", state);
  parameters.set("nonce", nonce);
  parameters.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
  parameters.set("code_challenge_method", "S256");

  const location = oauth.resolveEndpoint(
    as,
    "authorization_endpoint",
    false,
    ctx.http[oauth.allowInsecureRequests] !== true,
  );
  if (as.require_pushed_authorization_requests === true || ctx.pushedAuthorizationRequests) {
    // RFC 9126 §4: only client_id and request_uri cross the browser.
    const pushed = await oauth.processPushedAuthorizationResponse(
      as,
      ctx.client,
      await oauth.pushedAuthorizationRequest(as, ctx.client, ctx.clientAuth, parameters, ctx.http),
    );
    location.search = new URLSearchParams({
      client_id: ctx.client.client_id,
      request_uri: pushed.request_uri,
    }).toString();
  } else {
    location.search = parameters.toString();
  }

  const id = randomId();
  const expiresAt = ctx.now() + ctx.transactionTtl;
  const key = store.key("transaction", await digest(id));
  await store.commit((atomic) =>
    atomic.set(key, { verifier, state, nonce, returnTo, expiresAt } satisfies Transaction, {
      expireIn: ctx.transactionTtl * 1000,
    })
  );
  return new Response(null, {
    status: 302,
    headers: {
      location: location.href,
      "set-cookie": setCookie(ctx.cookies, ctx.cookies.transaction, id, ctx.transactionTtl),
      "cache-control": "no-store",
    },
  });
}

/**
 * Finishes a sign-in: consumes the transaction, validates the authorization response, redeems
 * the code, validates the ID token, creates the session, sets its cookie, and redirects to the
 * return path.
 *
 * @param ctx The configuration.
 * @param request The callback request (the authorization response in its query).
 * @returns A 303 to the return path, setting the session cookie and clearing the transaction's.
 * @throws {SessionError} `SESSION_TRANSACTION_MISSING`, `SESSION_TRANSACTION_INVALID`,
 *   `SESSION_TRANSACTION_UNKNOWN`, `SESSION_STORE_UNAVAILABLE`.
 * @throws {AuthorizationResponseError} The provider's error (`access_denied`, ...).
 * @throws {OperationProcessingError} A response that fails a check (`state`, `iss`, the ID token).
 * @throws {ResponseBodyError} The token endpoint's OAuth error.
 */
export async function callback(ctx: Context, request: Request): Promise<Response> {
  const cookie = readCookie(request, ctx.cookies.transaction);
  if (cookie === undefined || cookie === "") {
    throw new SessionError(
      "the callback carries no sign-in transaction: the sign-in did not start in this browser",
      SESSION_TRANSACTION_MISSING,
    );
  }
  if (!ID_PATTERN.test(cookie)) {
    throw new SessionError(
      "the transaction cookie is not a value this layer issues",
      SESSION_TRANSACTION_INVALID,
    );
  }
  const [store, as] = await Promise.all([ctx.store(), ctx.metadata()]);
  const key = store.key("transaction", await digest(cookie));
  const entry = await store.get<Transaction>(key);
  // KV's expireIn is not exact; the transaction's own expiry is.
  const consumed = entry.value !== null && entry.value.expiresAt > ctx.now() &&
    await store.commit((atomic) => atomic.check(entry).delete(key)) !== null;
  if (!consumed) {
    throw new SessionError(
      "the sign-in transaction expired, was already used, or never existed",
      SESSION_TRANSACTION_UNKNOWN,
    );
  }
  const transaction = entry.value!;

  let parameters: URLSearchParams;
  try {
    // RFC 6749 §4.1.2.1 errors, RFC 9207 iss, state.
    parameters = oauth.validateAuthResponse(
      as,
      ctx.client,
      new URL(request.url),
      transaction.state,
    );
  } catch (error) {
    throw tagStatus(error, 400);
  }
  const tokens = await oauth.processAuthorizationCodeResponse(
    as,
    ctx.client,
    await oauth.authorizationCodeGrantRequest(
      as,
      ctx.client,
      ctx.clientAuth,
      parameters,
      ctx.redirectUri,
      transaction.verifier,
      ctx.http,
    ),
    { expectedNonce: transaction.nonce, requireIdToken: true },
  );
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;

  const previous = readCookie(request, ctx.cookies.session);
  if (previous !== undefined && previous !== "") await deleteSession(ctx, previous);
  const now = ctx.now();
  const sid = typeof claims.sid === "string" ? claims.sid : undefined;
  const id = await createSession(ctx, {
    sub: claims.sub,
    ...(sid !== undefined ? { sid } : {}),
    claims,
    idToken: tokens.id_token!,
    accessToken: tokens.access_token,
    tokenType: tokens.token_type,
    ...(tokens.refresh_token !== undefined ? { refreshToken: tokens.refresh_token } : {}),
    ...(tokens.scope !== undefined ? { scope: tokens.scope } : {}),
    expiresAt: now + (tokens.expires_in ?? 300),
    createdAt: now,
    endsAt: now + ctx.sessionTtl,
    refreshes: 0,
  });
  const headers = new Headers({
    location: sameOriginPath(transaction.returnTo, ctx.origin),
    "cache-control": "no-store",
  });
  headers.append("set-cookie", clearCookie(ctx.cookies, ctx.cookies.transaction));
  headers.append("set-cookie", setCookie(ctx.cookies, ctx.cookies.session, id, ctx.sessionTtl));
  return new Response(null, { status: 303, headers });
}
