/**
 * The undici way: what an oauth4webapi user's test suite does, and its docs show. Requests go
 * through undici's `fetch` as the `[customFetch]`, with a `MockAgent` answering in place of the
 * servers; no socket is opened (`disableNetConnect()`), and every interceptor a test sets up must
 * have been used when it ends.
 *
 * ```ts
 * await using mock = mockAgent();
 * mock.pool("https://as.example").intercept({ path: "/token", method: "POST" })
 *   .reply(200, { access_token: "at", token_type: "Bearer" });
 * await oauth.clientCredentialsGrantRequest(as, client, auth, {}, mock.options(oauth));
 * ```
 *
 * @module
 */

import { fetch as undiciFetch, MockAgent } from "undici";
import type * as authlane from "@authlane/oauth";

/** Either library: both export the same names. */
export type Lib = typeof authlane;

/** A MockAgent, the `customFetch` that routes undici's fetch through it, and its disposal. */
export interface Mock extends AsyncDisposable {
  agent: MockAgent;
  /** The interceptor pool of one origin. */
  pool(origin: string): ReturnType<MockAgent["get"]>;
  /** The `[customFetch]` of the given library, as oauth4webapi's docs write it. */
  options(L: Lib): Record<symbol, unknown>;
}

export function mockAgent(): Mock {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const customFetch = (url: string, init: Record<string, unknown>) =>
    undiciFetch(url, { ...init, dispatcher: agent } as Parameters<typeof undiciFetch>[1]);
  return {
    agent,
    pool: (origin) => agent.get(origin),
    options: (L) => ({ [L.customFetch]: customFetch }),
    async [Symbol.asyncDispose]() {
      try {
        agent.assertNoPendingInterceptors();
      } finally {
        await agent.close();
      }
    },
  };
}
