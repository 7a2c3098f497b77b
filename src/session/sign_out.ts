/**
 * Sign-out: the session is deleted (record and indexes, one commit), its refresh token revoked
 * (RFC 7009) when the server has a `revocation_endpoint`, the cookie cleared, and the browser sent
 * to the provider's `end_session_endpoint` (OpenID Connect RP-Initiated Logout 1.0 §2) with
 * `id_token_hint`, `client_id` and `post_logout_redirect_uri` when it has one, else straight to
 * the post-logout page.
 *
 * Sign-out is `POST` only, and refused when the browser says it comes from another origin
 * (`Origin` or `Sec-Fetch-Site`), so that no other site can sign a user out; the `SameSite=Lax`
 * session cookie already keeps cross-site `POST`s from carrying the session.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { codeOf, type Context } from "./_context.ts";
import { clearCookie, readCookie } from "./cookies.ts";
import { SESSION_METHOD_NOT_ALLOWED, SESSION_ORIGIN_MISMATCH, SessionError } from "./errors.ts";
import { deleteSession } from "./store.ts";

/**
 * Signs the browser out.
 *
 * @param ctx The configuration.
 * @param request The sign-out `POST`.
 * @returns A 303 to the provider's logout endpoint or the post-logout page, clearing the cookie.
 * @throws {SessionError} `SESSION_METHOD_NOT_ALLOWED` for a method other than `POST`,
 *   `SESSION_ORIGIN_MISMATCH` for a cross-origin request, `SESSION_STORE_UNAVAILABLE`.
 */
export async function signOut(ctx: Context, request: Request): Promise<Response> {
  if (request.method !== "POST") {
    throw new SessionError("sign-out takes POST only", SESSION_METHOD_NOT_ALLOWED, {
      cause: { method: request.method },
    });
  }
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  if ((origin !== null && origin !== ctx.origin) || site === "cross-site" || site === "same-site") {
    throw new SessionError(
      "sign-out was requested from another origin",
      SESSION_ORIGIN_MISMATCH,
      { cause: { origin, secFetchSite: site } },
    );
  }
  await request.body?.cancel();
  const cookie = readCookie(request, ctx.cookies.session);
  const record = cookie === undefined || cookie === ""
    ? undefined
    : await deleteSession(ctx, cookie);

  let location = ctx.postLogoutRedirectUri;
  if (record !== undefined) {
    const as = await ctx.metadata();
    if (record.refreshToken !== undefined && as.revocation_endpoint !== undefined) {
      // RFC 7009 §2.1: revoking the refresh token ends the grant's access tokens at most servers.
      try {
        await oauth.processRevocationResponse(
          await oauth.revocationRequest(as, ctx.client, ctx.clientAuth, record.refreshToken, {
            ...ctx.http,
            additionalParameters: { token_type_hint: "refresh_token" },
          }),
        );
      } catch (error) {
        ctx.log({ message: "refresh token revocation failed", code: codeOf(error) });
      }
    }
    if (typeof as.end_session_endpoint === "string") {
      const end = oauth.resolveEndpoint(
        as,
        "end_session_endpoint",
        false,
        ctx.http[oauth.allowInsecureRequests] !== true,
      );
      end.searchParams.set("id_token_hint", record.idToken);
      end.searchParams.set("client_id", ctx.client.client_id);
      end.searchParams.set("post_logout_redirect_uri", ctx.postLogoutRedirectUri);
      location = end.href;
    }
  }
  return new Response(null, {
    status: 303,
    headers: {
      location,
      "set-cookie": clearCookie(ctx.cookies, ctx.cookies.session),
      "cache-control": "no-store",
    },
  });
}
