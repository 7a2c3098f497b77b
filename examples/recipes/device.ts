/**
 * README recipe: the device authorization grant (RFC 8628), polling at the server's `interval`
 * and slowing down when asked (§3.5). Run by `tests/e2e/recipes_test.ts` against the embedded
 * OpenID Provider, whose user approves the code while the recipe polls.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import type { Setup } from "./setup.ts";

/**
 * Runs the device flow to its end.
 *
 * @param setup The shared setup.
 * @returns The tokens.
 */
export async function deviceSignIn(
  { as, client, clientAuth, options }: Setup,
): Promise<oauth.TokenEndpointResponse> {
  // #region readme:device
  const device = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(as, client, clientAuth, { scope: "openid" }, options),
  );
  console.log(`Open ${device.verification_uri} and enter ${device.user_code}`);
  let interval = device.interval ?? 5;
  let tokens: oauth.TokenEndpointResponse | undefined;
  while (!tokens) {
    await new Promise((r) => setTimeout(r, interval * 1000));
    try {
      tokens = await oauth.processDeviceCodeResponse(
        as,
        client,
        await oauth.deviceCodeGrantRequest(as, client, clientAuth, device.device_code, options),
      );
    } catch (err) {
      if (!(err instanceof oauth.ResponseBodyError)) throw err;
      if (err.error === "slow_down") interval += 5;
      else if (err.error !== "authorization_pending") throw err; // expired_token, access_denied
    }
  }
  // #endregion readme:device
  return tokens;
}
