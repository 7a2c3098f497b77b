/**
 * Checks shared by the processors of signed responses (userinfo, introspection) for the JWKS fetch
 * they make (issue 16 item 2): with the options of the request that produced the response, as
 * openid-client calls them (options to the request, none to the processor), and no request at all
 * for a Response the processor did not see requested.
 *
 * ```ts
 * const { options, signalled } = requestOnlyOptions(server);
 * const response = await oauth.userInfoRequest(server.as, client, "at", options);
 * await oauth.processUserInfoResponse(server.as, client, "user-1", response);
 * await assertJwksFetchedAsRequested(server, response, server.as.userinfo_endpoint, signalled);
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "./_assert.ts";
import type { FakeAs } from "./_fake_as.ts";

/**
 * The options openid-client gives a request: the fake server's (its `customFetch`: the fake server
 * has no socket, so a fetch with the global `fetch` would fail), a trace header, and a `signal`
 * factory that records the URL of every request it is asked for.
 *
 * @param server The fake server.
 * @returns The options, and the URLs their `signal` was called for.
 */
export function requestOnlyOptions(server: FakeAs) {
  const signalled: string[] = [];
  const options = {
    ...server.options,
    headers: { "x-trace": "t-1" },
    signal: (url: string) => {
      signalled.push(url);
      return AbortSignal.timeout(10_000);
    },
  };
  return { options, signalled };
}

/**
 * Asserts that the JWKS was fetched once, after the request to `endpoint`, with the request's
 * header and signal but not its `Authorization` (the access token or client credential stays at
 * its endpoint); and that `validateApplicationLevelSignature()`, which openid-client calls next with
 * its own options and cache, verifies the same response and fills that cache.
 *
 * @param server The fake server that answered.
 * @param response The response the request returned, already processed.
 * @param endpoint The URL the request went to.
 * @param signalled The URLs recorded by {@link requestOnlyOptions}.
 */
export async function assertJwksFetchedAsRequested(
  server: FakeAs,
  response: Response,
  endpoint: string,
  signalled: string[],
): Promise<void> {
  const [jwks, ...more] = server.requestsTo("jwks");
  assert.equal(more.length, 0);
  assert.equal(jwks!.headers.get("x-trace"), "t-1", "the request's headers");
  assert.equal(jwks!.headers.get("authorization"), null, "the credential stays at its endpoint");
  assert.deepEqual(signalled, [endpoint, server.as.jwks_uri]);
  const cache = {};
  await oauth.validateApplicationLevelSignature(server.as, response, {
    ...server.options,
    [oauth.jwksCache]: cache,
  });
  assert.deepEqual((cache as oauth.ExportedJWKSCache).jwks, server.jwks);
}

/**
 * Asserts what is left open for a Response the processor did not see requested (a test suite's
 * own, signed by a key the server does not have): `accept` processes it without any request, and
 * `validateApplicationLevelSignature()` then refuses its signature after one JWKS fetch.
 *
 * @param server The fake server whose JWKS lacks the signing key.
 * @param response The built response.
 * @param accept Processes `response` with no options, and asserts its result.
 */
export async function assertSignatureLeftOpen(
  server: FakeAs,
  response: Response,
  accept: (response: Response) => Promise<void>,
): Promise<void> {
  await accept(response);
  assert.equal(server.requests.length, 0, "no network I/O");
  await assertOAuthError(
    () => oauth.validateApplicationLevelSignature(server.as, response, server.options),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.equal(server.requests.length, 1, "only validateApplicationLevelSignature() fetched");
}
