/**
 * README recipe: token introspection (RFC 7662), revocation (RFC 7009) and dynamic client
 * registration (RFC 7591). Run by `tests/e2e/recipes_test.ts` against the embedded OpenID
 * Provider with registration on.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import type { Setup } from "./setup.ts";

/**
 * Introspects and revokes `token`, and registers a new client.
 *
 * @param setup The shared setup.
 * @param token An access or refresh token of the client.
 * @returns The introspection answer and the new client's registration.
 */
export async function manage(
  { as, client, clientAuth, redirectUri, options }: Setup,
  token: string,
): Promise<
  { info: oauth.IntrospectionResponse; registered: oauth.OmitSymbolProperties<oauth.Client> }
> {
  // #region readme:introspection-revocation-registration
  const info = await oauth.processIntrospectionResponse(
    as,
    client,
    await oauth.introspectionRequest(as, client, clientAuth, token, options),
  );
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, clientAuth, token, options),
  );
  const registered = await oauth.processDynamicClientRegistrationResponse(
    await oauth.dynamicClientRegistrationRequest(as, { redirect_uris: [redirectUri] }, options),
  );
  // #endregion readme:introspection-revocation-registration
  return { info, registered };
}
