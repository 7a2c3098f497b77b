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
 * Gets a service token from the token source, and validates it as the API would.
 *
 * @param setup The shared setup.
 * @param issuer The issuer identifier.
 * @param kv The Deno KV database.
 * @param makeRequest Builds the API's incoming request carrying a token.
 * @returns The token and the claims the API saw.
 */
export async function sessionHelpers(
  { as, client, clientAuth, options }: Setup,
  issuer: URL,
  kv: Deno.Kv,
  makeRequest: (accessToken: string) => Request,
): Promise<{ accessToken: string; claims: oauth.JWTAccessTokenClaims }> {
  // #region readme:session-helpers
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
  // Resource servers: the provider's JWKS kept in KV (Cache-Control max-age honoured, 60 s to 24 h),
  // fetched by one isolate when it must be.
  const jwks = createKvJwksCache({ kv });
  const request = makeRequest(accessToken); // the request your API received
  const claims = await oauth.validateJwtAccessToken(as, request, "https://api.example", {
    ...options,
    ...(await jwks.options(as)),
  });
  // #endregion readme:session-helpers
  return { accessToken, claims };
}
