/**
 * README recipe: encrypted responses. authlane leaves JWE to a library made for it: a
 * `[jweDecrypt]` function built on `jose` decrypts encrypted ID tokens (and userinfo,
 * introspection, JARM and logout tokens). Run by `tests/e2e/recipes_test.ts` with the fake
 * authorization server answering an encrypted ID token.
 *
 * @module
 */

import { compactDecrypt } from "jose";
import * as oauth from "@authlane/oauth";
import type { Setup } from "./setup.ts";

/**
 * Processes a token response whose ID token is encrypted to the client.
 *
 * @param setup The shared setup.
 * @param response The token endpoint's response.
 * @param nonce The nonce of the authorization request.
 * @param clientEncryptionPrivateKey The client's decryption key.
 * @returns The tokens, the ID token validated.
 */
export async function processEncrypted(
  { as, client }: Setup,
  response: Response,
  nonce: string,
  clientEncryptionPrivateKey: CryptoKey,
): Promise<oauth.TokenEndpointResponse> {
  // #region readme:encrypted
  const decrypting = {
    [oauth.jweDecrypt]: async (jwe: string) =>
      new TextDecoder().decode((await compactDecrypt(jwe, clientEncryptionPrivateKey)).plaintext),
  };
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    ...decrypting,
    expectedNonce: nonce,
  });
  // #endregion readme:encrypted
  return tokens;
}
