/**
 * README recipe: the two helpers of `@authlane/oauth/session` besides sign-in, sharing Deno KV
 * with it: a client credentials token source (one grant in flight across isolates) and a JWKS
 * cache for resource servers. Run by `tests/e2e/recipes_test.ts` against the embedded OpenID
 * Provider on an in-memory KV.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import { createClientCredentialsTokenSource, createKvJwksCache } from "@authlane/oauth/session";
import type { Setup } from "./setup.ts";

/**
 * Gets a service token from the KV-backed token source.
 *
 * @param setup The shared setup.
 * @param issuer The issuer identifier.
 * @param kv The Deno KV database.
 * @returns The access token.
 */
export async function serviceTokenFromKv(
  { client, clientAuth, options }: Setup,
  issuer: URL,
  kv: Deno.Kv,
): Promise<string> {
  // #region readme:session-token-source
  // Service to service: one token per (client, scope, resource), reused until shortly before it
  // expires, one grant in flight across all isolates.
  const tokens = createClientCredentialsTokenSource({
    issuer,
    client,
    clientAuth,
    scope: "api:read",
    resource: "https://api.example",
    kv, // the Deno.Kv your sessions use (await Deno.openKv())
    allowInsecureRequests: options[oauth.allowInsecureRequests], // only on this machine
  });
  const { accessToken } = await tokens.getToken();
  // #endregion readme:session-token-source
  return accessToken;
}

/**
 * Validates an API request's access token with the provider's keys cached in KV.
 *
 * @param setup The shared setup.
 * @param kv The Deno KV database.
 * @param request The request the API received.
 * @returns The token's claims.
 */
export async function validateWithKvJwks(
  { as, options }: Setup,
  kv: Deno.Kv,
  request: Request,
): Promise<oauth.JWTAccessTokenClaims> {
  // #region readme:session-jwks-cache
  // Resource servers: the provider's JWKS kept in KV (Cache-Control max-age honoured, 60 s to
  // 24 h), fetched by one isolate when it must be.
  const jwks = createKvJwksCache({ kv });
  const claims = await oauth.validateJwtAccessToken(as, request, "https://api.example", {
    ...options,
    ...(await jwks.options(as)),
  });
  // #endregion readme:session-jwks-cache
  return claims;
}
