/**
 * A real OpenID Provider (npm `oidc-provider`) running in-process on `127.0.0.1` over plain
 * `http:`, for end-to-end tests and the demo.
 *
 * It knows nothing of authlane: it deals in URLs, `fetch` and JSON only. It comes with three
 * registered clients (confidential `client_secret_basic`, public `none` with PKCE, and
 * `private_key_jwt` with a generated ES256 key), a resource server `https://api.example` that
 * receives JWT access tokens, and browser drivers for the development login and consent pages
 * (`login()`), the device flow (`approveDeviceCode()`) and CIBA (`completeBackchannel()`).
 *
 * Configuration can be deep-merged by callers (`configuration`, `features`), extra clients
 * added (`clients`) and the built-in clients patched (`clientMetadata`), so later tests can turn
 * on PAR, JAR, JARM, DPoP, the device flow or CIBA without editing this file.
 *
 * This module only re-exports; the harness lives in `tests/_oidc_provider/`: `server.ts`
 * (`startProvider()`, the HTTP(S) server and lifecycle), `configuration.ts` (defaults, clients,
 * constants), `interactions.ts` (the end-user drivers), `keys.ts`, `mtls.ts` and `types.ts`.
 *
 * @example Usage
 * ```ts ignore
 * await using op = await startProvider();
 * const callback = await op.login(authorizationUrl); // http://127.0.0.1/cb?code=...&state=...&iss=...
 * ```
 *
 * @module
 */

export { CookieJar } from "./e2e/_cookie_jar.ts";
export {
  CLIENT_IDS,
  DEFAULT_ACCOUNT,
  dpopRequiringNonces,
  mtlsClientCredentials,
  REDIRECT_URI,
  RESOURCE,
  RESOURCE_SCOPE,
} from "./_oidc_provider/configuration.ts";
export { startProvider } from "./_oidc_provider/server.ts";
export type {
  BackchannelOptions,
  ClientKeyPair,
  ClientMetadata,
  DeviceApprovalOptions,
  HarnessClient,
  LoginOptions,
  OidcProviderHarness,
  OidcProviderInstance,
  ResourceServerInfo,
  StartProviderOptions,
  TlsOptions,
} from "./_oidc_provider/types.ts";
