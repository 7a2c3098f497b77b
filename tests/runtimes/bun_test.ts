/**
 * Bun (npm `bun`, pinned in tests/runtimes/_tools.ts) runs the shipped bundle through
 * tests/runtimes/_driver.mjs: the core flow of tests/runtimes/_flow.mjs against oidc-provider, and
 * mutual TLS through a `[customFetch]` that passes the client certificate in Bun's `fetch` `tls`
 * option, as docs/RUNTIMES.md shows.
 */
import { mtlsRuntimeFlow, serverRuntimeFlow } from "./_matrix.ts";
import { PACKAGES, runtime } from "./_tools.ts";

const bun = runtime("bun");
const version = new RegExp(`^${PACKAGES.bun.replaceAll(".", "\\.")}$`);

Deno.test({
  name:
    "Bun runs the shipped bundle: discovery, client credentials, DPoP, code flow with ID token signature, refresh, JWT access tokens, refusals",
  ignore: bun.ignore,
  fn: () => {
    if (bun.path === undefined) throw new Error(bun.missing);
    return serverRuntimeFlow(bun.path, { runtime: "bun", version });
  },
});

Deno.test({
  name:
    "Bun: mutual TLS through [customFetch] with fetch's tls option: tls_client_auth, certificate-bound tokens",
  ignore: bun.ignore,
  fn: () => {
    if (bun.path === undefined) throw new Error(bun.missing);
    return mtlsRuntimeFlow(bun.path, { runtime: "bun", version, recipe: "bun fetch tls" });
  },
});
