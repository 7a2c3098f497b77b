/**
 * README recipe: a resource server that accepts RFC 9068 JWT access tokens and tells a bad token
 * (401 with `WWW-Authenticate`, RFC 6750 §3) from its own misconfiguration or an unreachable
 * authorization server (500, logged): a bare `catch {}` would answer a valid token with 401 when
 * the server's keys cannot be fetched. Run by `tests/e2e/recipes_test.ts` against the embedded
 * OpenID Provider.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import type { Options } from "./setup.ts";

/**
 * The API's request handler.
 *
 * @param as The authorization server whose tokens the API accepts.
 * @param options Request options for fetching its keys.
 * @returns The handler, for `Deno.serve`; configuration errors go to `console.error`.
 */
export function createApi(
  as: oauth.AuthorizationServer,
  options: Options,
): (request: Request) => Promise<Response> {
  // #region readme:resource-server
  /** Errors that mean "this request's token is not acceptable", not "this server is broken". */
  const TOKEN_ERRORS: readonly string[] = [
    oauth.JWT_CLAIM_COMPARISON, // wrong aud, iss, or a DPoP proof that does not match
    oauth.JWT_TIMESTAMP_CHECK, // expired, not yet valid
    oauth.PARSE_ERROR, // not a JWT
    oauth.INVALID_REQUEST, // no token, another scheme, a bad DPoP proof
    oauth.INVALID_RESPONSE, // a JWT that is not an RFC 9068 access token
    oauth.KEY_SELECTION, // signed by a key the server does not publish
    oauth.UNSUPPORTED_OPERATION, // an algorithm not accepted ("none", HS256)
  ];

  async function handler(request: Request): Promise<Response> {
    let claims: oauth.JWTAccessTokenClaims;
    try {
      claims = await oauth.validateJwtAccessToken(as, request, "https://api.example", options);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (TOKEN_ERRORS.includes(code as string)) {
        return new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'Bearer error="invalid_token"' },
        });
      }
      // Not the caller's fault: HTTP_REQUEST_FORBIDDEN (an http: jwks_uri without
      // [allowInsecureRequests]), NETWORK_ERROR / TLS_ERROR / REQUEST_TIMEOUT fetching the keys...
      console.error("cannot validate access tokens:", err);
      return new Response(null, { status: 500 });
    }
    return Response.json({ hello: claims.sub, scope: claims.scope });
  }
  // #endregion readme:resource-server
  return handler;
}
