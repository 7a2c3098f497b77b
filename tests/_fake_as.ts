/**
 * A fake authorization server for unit and fault-injection tests: correct by default, bendable one
 * response at a time, and recording every request it receives.
 *
 * - {@link createFakeAs} builds it with no socket; its `fetch` is used as a `customFetch`
 *   (`server.options` spreads into any request helper's options).
 * - {@link startFakeAs} serves the same handler on `Deno.serve` at `127.0.0.1`, port 0; dispose it
 *   with `await using`. Its `options` hold `[allowInsecureRequests]: true`.
 *
 * Default behaviour, per route (route names are what `override()` and `requests[].route` use):
 *
 * | route | path (under the issuer) | default |
 * | --- | --- | --- |
 * | `discovery` | RFC 8414 §3.1 path insertion and OIDC Discovery §4 suffix | `server.as` |
 * | `resource_metadata` | `/.well-known/oauth-protected-resource<path>/resource` (RFC 9728 §3.1) | resource metadata |
 * | `jwks` | `/jwks` | `server.jwks` |
 * | `authorization` | `/authorize` | 302 to `redirect_uri` with `code`, `state`, `iss` (or JARM) |
 * | `token` | `/token` | tokens; PKCE and single use checked for codes it issued |
 * | `userinfo` | `/userinfo` | `{ sub, name, email }` (a JWT when `Accept` names `application/jwt` and not JSON) |
 * | `introspection` | `/introspect` | `{ active: true, … }` (a JWT per RFC 9701 when asked) |
 * | `revocation` | `/revoke` | 200, empty |
 * | `par` | `/par` | 201 `{ request_uri, expires_in: 60 }` |
 * | `device_authorization` | `/device_authorization` | 200 `{ device_code, user_code, … }` |
 * | `backchannel` | `/backchannel` | 200 `{ auth_req_id, expires_in }` |
 * | `registration` | `/register` | 201 metadata echo + `client_id` (+ `client_secret`) |
 * | `resource` | `/resource` | 200 echo of `Authorization` and `DPoP` |
 *
 * The `mtls_endpoint_aliases` point at `https://mtls.<issuer host>/…` (or `/mtls/…` on the socket
 * server); the same handler serves them and logs `mtls: true`.
 *
 * Client authentication (token, introspection, revocation, PAR, device, backchannel):
 * `client_secret_basic` (RFC 6749 §2.3.1 form-decoded), `client_secret_post`, JWT assertions
 * (decoded into `requests[].clientAuth`, never verified; the client is `client_id`, else the
 * assertion's `sub`) and `none`. The client must be known (the configured one or one registered
 * at the registration route) and secrets must match, else 401 `invalid_client` (with a `Basic`
 * challenge when Basic was used, RFC 6749 §5.2); two methods at once is 400 `invalid_request`.
 * DPoP proofs (RFC 9449 §4.3) are verified when present, with `ath` at the
 * userinfo and resource routes and the nonce from `server.dpopNonce` when it is set.
 *
 * This module only re-exports; the code lives under `./_fake_as/`: `types.ts` (public types and
 * route names), `responses.ts` (response helpers), `server.ts` (the {@link FakeAs} class: state,
 * helpers, dispatch and `fetch`), `routes.ts` (each route's default answer, client
 * authentication and DPoP checks), `request.ts` (reading a request for the log), `util.ts`
 * (shared internals) and `factories.ts` ({@link createFakeAs}, {@link startFakeAs}).
 *
 * @module
 */

export { createFakeAs, startFakeAs } from "./_fake_as/factories.ts";
export { challenge, json, jwtResponse, now, oauthError } from "./_fake_as/responses.ts";
export { FakeAs } from "./_fake_as/server.ts";
export {
  type FakeAsMetadata,
  type FakeAsOptions,
  type FakeAsRequestOptions,
  type FakeAsRoute,
  type FakeClientAuth,
  type FakeDPoPProof,
  type FakeEndpoints,
  type FakeFetch,
  type FakeFetchInit,
  type FakeJsonBody,
  type FakeRequest,
  type FakeResponder,
  type FakeResponderFunction,
  ROUTES,
} from "./_fake_as/types.ts";
