/**
 * The public surface: every export of oauth4webapi 3.8 (values and types, from a committed list)
 * exists in mod.ts, and authlane's own additions are exactly the ones listed here, so a new
 * export is a deliberate decision.
 */
import assert from "node:assert/strict";
import * as mod from "../mod.ts";
import reference from "./oauth4webapi_exports.json" with { type: "json" };

/** Values authlane exports beyond oauth4webapi 3.8, each documented in its JSDoc. */
const VALUE_ADDITIONS = [
  // the response size cap: its error code and its option
  "RESPONSE_TOO_LARGE",
  "maxResponseSize",
  // codes on the TypeError / DOMException of failed requests (no response, TLS, timeout, abort)
  "NETWORK_ERROR",
  "TLS_ERROR",
  "REQUEST_TIMEOUT",
  "REQUEST_ABORTED",
  // RFC 8705: mutual TLS on Deno, certificate thumbprints
  "calculateCertificateThumbprint",
  "clientCertificate",
  "closeMtlsConnections",
  "mtlsFetch",
  // RFC 7592: client configuration endpoint
  "clientConfigurationRequest",
  "processClientConfigurationResponse",
  // OpenID Connect Back-Channel Logout 1.0
  "validateLogoutToken",
  // the JWS algorithm table, and JWTs of kinds with no dedicated validator (RFC 7519 §7.2)
  "JWS_ALGORITHMS",
  "validateJwt",
];

/** Types authlane exports beyond oauth4webapi 3.8. */
const TYPE_ADDITIONS = [
  "ClientAssertionOptions",
  "ClientCertificate",
  "ClientConfigurationMethod",
  "ClientConfigurationReference",
  "ClientConfigurationRequestOptions",
  "JWSAlgorithmInfo",
  "JWTPayload",
  "LogoutTokenClaims",
  "LogoutTokenEvents",
  "MtlsFetch",
  "OAuthErrorCode",
  "ValidatedJwt",
  "ValidateJwtOptions",
  "ValidateLogoutTokenOptions",
];

async function typeExports(): Promise<string[]> {
  // mod.ts takes its types from src/index.ts (@ts-types), the table of contents.
  const text = await Deno.readTextFile(new URL("../src/index.ts", import.meta.url));
  const names: string[] = [];
  for (const match of text.matchAll(/export\s+type\s*\{([^}]*)\}/g)) {
    for (const part of match[1]!.split(",")) {
      const name = part.trim().split(/\s+as\s+/).pop()!.trim();
      if (name) names.push(name);
    }
  }
  return names.sort();
}

Deno.test("mod.ts exports every value oauth4webapi 3.8 exports", () => {
  const missing = reference.values.filter((name) => !(name in mod));
  assert.deepEqual(missing, []);
});

Deno.test("mod.ts exports every type oauth4webapi 3.8 exports", async () => {
  const types = new Set(await typeExports());
  const missing = reference.types.filter((name) => !types.has(name));
  assert.deepEqual(missing, []);
});

Deno.test("mod.ts value exports beyond oauth4webapi are exactly the listed additions", () => {
  const extra = Object.keys(mod).filter((name) => !reference.values.includes(name)).sort();
  assert.deepEqual(extra, [...VALUE_ADDITIONS].sort());
});

Deno.test("mod.ts type exports beyond oauth4webapi are exactly the listed additions", async () => {
  const extra = (await typeExports()).filter((name) => !reference.types.includes(name));
  assert.deepEqual(extra, [...TYPE_ADDITIONS].sort());
});

Deno.test("error code constants carry oauth4webapi's values", () => {
  const suffixed = new Set([
    "JWT_TIMESTAMP_CHECK",
    "JWT_CLAIM_COMPARISON",
    "JSON_ATTRIBUTE_COMPARISON",
    "KEY_SELECTION",
  ]);
  const codes = reference.values.filter((name) => /^[A-Z_]+$/.test(name));
  assert.ok(codes.length >= 18);
  for (const name of codes) {
    const expected = `OAUTH_${name}${suffixed.has(name) ? "_FAILED" : ""}`;
    assert.equal((mod as Record<string, unknown>)[name], expected, name);
  }
});
