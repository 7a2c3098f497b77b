/**
 * Shared staging for the attack matrix (`tests/attacks/*_test.ts`): an honest code flow against a
 * fake authorization server, a `customFetch` that routes to several fake servers by origin (so a
 * test can hold a victim and an attacker at once and read both request logs), and probes for what
 * an error would leak.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";
import type { FakeAs, FakeFetch } from "../_fake_as.ts";

/** The client's registered redirect URI in every staged flow. */
export const REDIRECT_URI = "https://app.example/cb";

/** What the client keeps between the authorization request and the callback. */
export interface FlowSession {
  /** The `state` sent (also the CSRF token). */
  state: string;
  /** The `nonce` sent. */
  nonce: string;
  /** The PKCE code verifier. */
  verifier: string;
}

/** Creates a fresh session (random `state`, `nonce`, code verifier). */
export function newSession(): FlowSession {
  return {
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    verifier: oauth.generateRandomCodeVerifier(),
  };
}

/**
 * Runs the authorization request of `session` through `server`'s authorization route (PKCE S256,
 * `openid` scope) and returns the callback URL the browser would land on.
 *
 * @param server The authorization server.
 * @param session The client's session.
 * @param extra Extra authorization request parameters.
 * @returns The callback URL.
 */
export async function authorize(
  server: FakeAs,
  session: FlowSession,
  extra: Record<string, string> = {},
): Promise<URL> {
  return await server.authorize({
    response_type: "code",
    client_id: server.client.client_id,
    redirect_uri: REDIRECT_URI,
    scope: "openid",
    state: session.state,
    nonce: session.nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(session.verifier),
    code_challenge_method: "S256",
    ...extra,
  });
}

/**
 * Sends the token request for validated callback parameters with `session`'s verifier.
 *
 * @param server The authorization server the client believes it talks to.
 * @param params Parameters returned by `validateAuthResponse`.
 * @param verifier The code verifier (or `nopkce`).
 * @param options More request options.
 * @returns The raw token response.
 */
export async function redeem(
  server: FakeAs,
  params: URLSearchParams,
  verifier: string | typeof oauth.nopkce,
  options: oauth.TokenEndpointRequestOptions = {},
): Promise<Response> {
  return await oauth.authorizationCodeGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(server.clientSecret),
    params,
    REDIRECT_URI,
    verifier,
    { ...server.options, ...options },
  );
}

/**
 * A `customFetch` that hands each request to the fake server owning its origin (issuer origin or
 * mTLS alias origin), and to the first server otherwise, which logs it under route `unknown`.
 *
 * @param servers The servers, the first one being the fallback.
 * @returns The fetch function.
 */
export function routeByOrigin(...servers: FakeAs[]): FakeFetch {
  return (url, init) => {
    const origin = new URL(url).origin;
    const owner = servers.find((s) =>
      new URL(s.issuer).origin === origin ||
      new URL(s.as.mtls_endpoint_aliases.token_endpoint).origin === origin
    ) ?? servers[0]!;
    return owner.fetch(url, init);
  };
}

/**
 * Everything a developer would see of an error: message, stack, what `console.log` prints (with
 * hidden properties), and the JSON of its `cause`.
 *
 * @param err The caught error.
 * @returns The text to search for secrets.
 */
export function exposure(err: unknown): string {
  const parts: string[] = [];
  if (err instanceof Error) parts.push(err.message, err.stack ?? "");
  parts.push(Deno.inspect(err, { depth: 20, showHidden: true, iterableLimit: 1000 }));
  try {
    parts.push(JSON.stringify((err as { cause?: unknown })?.cause) ?? "");
  } catch { /* a cause that does not serialize leaks nothing through JSON */ }
  return parts.join("\n");
}

/** The library's five error classes. */
const OAUTH_ERRORS = [
  oauth.OperationProcessingError,
  oauth.UnsupportedOperationError,
  oauth.ResponseBodyError,
  oauth.AuthorizationResponseError,
  oauth.WWWAuthenticateChallengeError,
];

/**
 * Whether an error is one of the library's typed errors: an instance of one of its five classes
 * with a string `code`, or a caller-mistake `TypeError` coded `ERR_INVALID_ARG_*`.
 *
 * @param err The caught value.
 * @returns Whether it is typed.
 */
export function isTypedError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (OAUTH_ERRORS.some((Class) => err instanceof Class)) return typeof code === "string";
  return err instanceof TypeError &&
    (code === "ERR_INVALID_ARG_TYPE" || code === "ERR_INVALID_ARG_VALUE");
}
