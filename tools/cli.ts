/**
 * `deno task cli`: the authlane CLI (`src/cli/mod.ts`) as the repository runs it, with an
 * embedded OpenID Provider for `login` and `device` without `--issuer`. The provider is the test
 * harness's oidc-provider (tests/_oidc_provider.ts, a dev-only npm package), started on 127.0.0.1
 * with the device flow (RFC 8628) switched on and a public native client whose loopback redirect
 * URI may use any port (RFC 8252 §7.3), the same client `deno task provider` registers
 * (tools/provider.ts). It reaches the CLI through `main()`'s `io.embedded`, so the published CLI
 * neither ships nor loads it (there, `--issuer` is required). `deno task provider` keeps such a
 * provider running, for every command and for a real browser.
 *
 * ```sh
 * deno task cli login          # signs in as alice at the embedded provider, prints the tokens
 * deno task cli device --json  # the device flow, approved by the provider itself
 * ```
 *
 * @module
 */

import { type EmbeddedProvider, main } from "../src/cli/mod.ts";
import { startProvider } from "../tests/_oidc_provider.ts";
import { CLI_CLIENT } from "./provider.ts";

/** The `client_id` of the CLI's client at the embedded provider. */
export const EMBEDDED_CLIENT_ID = CLI_CLIENT.client_id;

/**
 * Starts the embedded provider, ready for `main(args, { embedded: startEmbeddedProvider })`.
 *
 * @returns The running provider; `close()` stops it.
 */
export async function startEmbeddedProvider(): Promise<EmbeddedProvider> {
  const harness = await startProvider({
    features: { deviceFlow: { enabled: true } },
    clients: [CLI_CLIENT],
  });
  return {
    issuer: harness.issuer,
    clientId: EMBEDDED_CLIENT_ID,
    login: (authorizationUrl) => harness.login(authorizationUrl),
    approveDeviceCode: (userCode) => harness.approveDeviceCode(userCode),
    close: () => harness.close(),
  };
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args, { embedded: startEmbeddedProvider }));
}
