/**
 * The back-channel logout endpoint (OpenID Connect Back-Channel Logout 1.0): the provider `POST`s a
 * logout token, and every session it names ends, in every isolate at once since they all read
 * the same KV.
 *
 * The token is validated by the library's `validateLogoutToken` (§2.6 (1)-(7): signature against
 * the provider's keys, taken from the KV JWKS cache, `iss`, `aud`, `iat`, `exp`, the logout event,
 * `sub` or `sid`, no `nonce`). This endpoint adds the two checks left to the application: a `jti`
 * already seen is refused (§2.6 (8)), kept in KV until the token expires; and the sessions are
 * found through KV indexes (§2.6 (9)): those of the `sid` when the token has one (§2.7), else
 * every session of the `sub`.
 *
 * The `jti` is recorded in the same atomic commit that deletes the (first 100) sessions, so a
 * failed commit leaves both untouched and the provider may retry. Answers: 200 with
 * `Cache-Control: no-store` on success; 400 with an `invalid_request` JSON body on any refusal
 * (§2.8); 503 when KV is unavailable.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import type { Context } from "./_context.ts";
import { SESSION_LOGOUT_REPLAYED, SessionError } from "./errors.ts";
import { deleteSessionKeys, sessionKeys } from "./store.ts";

/** Sessions deleted per atomic commit (a commit takes at most 1000 mutations). */
const PER_COMMIT = 100;

/** What a session index entry holds. */
interface IndexValue {
  sub: string;
  sid?: string;
}

/**
 * Validates a logout token and ends the sessions it names.
 *
 * @param ctx The configuration.
 * @param request The provider's logout `POST`.
 * @returns The number of sessions ended, and the validated claims.
 * @throws {SessionError} `SESSION_LOGOUT_REPLAYED`, `SESSION_STORE_UNAVAILABLE`.
 * @throws {OperationProcessingError} / {UnsupportedOperationError} From `validateLogoutToken`.
 */
export async function endSessionsByLogoutToken(
  ctx: Context,
  request: Request,
): Promise<{ ended: number; claims: oauth.LogoutTokenClaims }> {
  const as = await ctx.metadata();
  const claims = await oauth.validateLogoutToken(as, ctx.client, request, {
    ...ctx.http,
    ...await ctx.jwks.options(as),
  });
  const store = await ctx.store();
  // §2.7: a sid names one session at the provider; without one, every session of the sub ends.
  const prefix = claims.sid !== undefined
    ? store.key("session_by_sid", as.issuer, claims.sid)
    : store.key("session_by_sub", as.issuer, claims.sub!);
  const found = await store.list<IndexValue>(prefix, 10_000);
  const jtiKey = store.key("logout_jti", as.issuer, claims.jti);
  // Keep the jti as long as the token could be replayed: until exp, plus a day of clock slack.
  const keepMs = Math.max(60, claims.exp - ctx.now() + 86_400) * 1000;
  let first = true;
  for (let i = 0; i < found.length || first; i += PER_COMMIT) {
    const batch = found.slice(i, i + PER_COMMIT);
    const committed = await store.commit((atomic) => {
      if (first) {
        atomic.check({ key: jtiKey, versionstamp: null }).set(jtiKey, true, { expireIn: keepMs });
      }
      for (const entry of batch) {
        const hash = entry.key.at(-1) as string;
        deleteSessionKeys(atomic, sessionKeys(store, as.issuer, hash, entry.value));
      }
      return atomic;
    });
    if (committed === null) {
      throw new SessionError(
        'the logout token\'s "jti" was already used',
        SESSION_LOGOUT_REPLAYED,
        { cause: { jti: claims.jti } },
      );
    }
    first = false;
  }
  return { ended: found.length, claims };
}

/**
 * The endpoint: {@linkcode endSessionsByLogoutToken}, answered as §2.8 says.
 *
 * @param ctx The configuration.
 * @param request The provider's logout `POST`.
 * @returns 200, 400 with an `invalid_request` body, or 503.
 * @throws Errors that are not the layer's or the library's (a bug, a network failure fetching the
 *   provider's keys).
 */
export async function backchannelLogout(ctx: Context, request: Request): Promise<Response> {
  try {
    await endSessionsByLogoutToken(ctx, request);
    return new Response(null, { status: 200, headers: { "cache-control": "no-store" } });
  } catch (error) {
    await request.body?.cancel().catch(() => {});
    if (error instanceof SessionError && error.status === 503) {
      return Response.json({ error: "temporarily_unavailable", error_description: error.code }, {
        status: 503,
        headers: { "cache-control": "no-store" },
      });
    }
    const known = error instanceof SessionError ||
      error instanceof oauth.OperationProcessingError ||
      error instanceof oauth.UnsupportedOperationError;
    if (!known) throw error;
    const code = (error as { code?: string }).code;
    ctx.log({ message: "back-channel logout refused", code });
    return Response.json({ error: "invalid_request", error_description: code }, {
      status: 400,
      headers: { "cache-control": "no-store" },
    });
  }
}
