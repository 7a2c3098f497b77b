/**
 * Node.js runs the shipped bundle (dist/authlane.js, the file mod.ts loads) through
 * tests/runtimes/_driver.mjs: the core flow of tests/runtimes/_flow.mjs against oidc-provider
 * on Node 20 (the machine's `node`) and Node 22 (npm `node`), and mutual TLS through a
 * `[customFetch]` built on undici's `fetch` and an `Agent` that carries the client certificate.
 */
import { mtlsRuntimeFlow, serverRuntimeFlow } from "./_matrix.ts";
import { runtime } from "./_tools.ts";

const node20 = runtime("node20");
const node22 = runtime("node22");

Deno.test({
  name:
    "Node.js 20 runs the shipped bundle: discovery, client credentials, DPoP, code flow with ID token signature, refresh, JWT access tokens, refusals",
  ignore: node20.ignore,
  fn: () => serverRuntimeFlow(node20.path ?? "node", { runtime: "node", version: /^20\./ }),
});

Deno.test({
  name:
    "Node.js 22 runs the shipped bundle: discovery, client credentials, DPoP, code flow with ID token signature, refresh, JWT access tokens, refusals",
  ignore: node22.ignore,
  fn: () => {
    if (node22.path === undefined) throw new Error(node22.missing);
    return serverRuntimeFlow(node22.path, { runtime: "node", version: /^22\./ });
  },
});

const undici = runtime("undici");

const recipes = {
  dispatcher: "the global fetch with an undici Agent carrying the client certificate",
  undici: "undici's fetch and Agent, the response copied into a global Response",
};

for (const [label, node, version] of [["20", node20, /^20\./], ["22", node22, /^22\./]] as const) {
  for (const [recipe, how] of Object.entries(recipes)) {
    Deno.test({
      name:
        `Node.js ${label}: mutual TLS through [customFetch], ${how}: tls_client_auth, certificate-bound tokens`,
      ignore: node.ignore || undici.ignore,
      fn: () => {
        if (node.path === undefined) throw new Error(node.missing);
        if (undici.path === undefined) throw new Error(undici.missing);
        return mtlsRuntimeFlow(node.path, {
          runtime: "node",
          version,
          recipe,
          undici: undici.path,
        });
      },
    });
  }
}
