/**
 * Every unique symbol authlane exports: request and validation options, check markers, the
 * Deno-only `clientCertificate` slot, and the `_`-prefixed symbols kept for drop-in
 * compatibility with oauth4webapi.
 *
 * @module
 */

/**
 * Option that allows `http:` URLs (and other non-`https:` schemes) for every request it is passed
 * to. Use it only for development and tests against a loopback server.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const response = await oauth.discoveryRequest(new URL("http://127.0.0.1:3000"), {
 *   [oauth.allowInsecureRequests]: true,
 * });
 * ```
 */
export const allowInsecureRequests: unique symbol = Symbol("allowInsecureRequests");

/**
 * Client property (a number of seconds) that adjusts the client's idea of the current time: the
 * library uses `Date.now() / 1000 + client[clockSkew]`. Use it when the local clock is known to
 * be off.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const client: oauth.Client = { client_id: "app", [oauth.clockSkew]: -5 };
 * ```
 */
export const clockSkew: unique symbol = Symbol("clockSkew");

/**
 * Client property (a number of seconds, default 30) that sets how much leeway timestamp checks
 * (`exp`, `nbf`, `iat`, `auth_time`) allow.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const client: oauth.Client = { client_id: "app", [oauth.clockTolerance]: 10 };
 * ```
 */
export const clockTolerance: unique symbol = Symbol("clockTolerance");

/**
 * Option that replaces `fetch` for the request it is passed to. It receives the URL as a string
 * and a {@link CustomFetchOptions} object and must return a `Response`.
 *
 * When `client.use_mtls_endpoint_aliases` is true, an explicit `customFetch` wins over the
 * built-in mutual-TLS adapter.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * const response = await oauth.userInfoRequest(as, client, "access-token", {
 *   [oauth.customFetch]: (url, init) => fetch(url, init),
 * });
 * ```
 */
export const customFetch: unique symbol = Symbol("customFetch");

/**
 * Option (on `PrivateKeyJwt`, `ClientSecretJwt`, `DPoP` and `issueRequestObject`) holding a
 * function that may change the JWT header and payload before they are signed.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const key: CryptoKey;
 * const auth = oauth.PrivateKeyJwt(key, {
 *   [oauth.modifyAssertion]: (_header, payload) => {
 *     payload.exp = (payload.iat as number) + 30;
 *   },
 * });
 * ```
 */
export const modifyAssertion: unique symbol = Symbol("modifyAssertion");

/**
 * Option holding a function that decrypts a JWE (compact serialization) into its plaintext. It is
 * called for encrypted ID tokens, userinfo, introspection and JARM responses.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const decrypt: (jwe: string) => Promise<string>;
 * const options = { [oauth.jweDecrypt]: decrypt };
 * ```
 */
export const jweDecrypt: unique symbol = Symbol("jweDecrypt");

/**
 * Option holding an object that stores the fetched JWKS between calls (and between processes, when
 * the application persists it). Pass `{}` to start; after the call it holds `{ jwks, uat }`.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const response: Response;
 * const cache = {};
 * await oauth.validateApplicationLevelSignature(as, response, { [oauth.jwksCache]: cache });
 * ```
 */
export const jwksCache: unique symbol = Symbol("jwksCache");

/**
 * Request option (authlane addition): the largest response body, in decoded bytes, that the
 * matching `processXxxResponse` (or the library itself, for JWKS and discovery documents) will
 * read. A longer body is refused with `RESPONSE_TOO_LARGE` as soon as the cap is crossed, without
 * buffering the rest; the count is taken after `Content-Encoding` decoding, so a gzip bomb is
 * caught as well. It must be a positive safe integer.
 *
 * @default 1048576 (1 MiB)
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * const response = await oauth.userInfoRequest(as, client, "access-token", {
 *   [oauth.maxResponseSize]: 64 * 1024,
 * });
 * ```
 */
export const maxResponseSize: unique symbol = Symbol("maxResponseSize");

/**
 * Marker for `processUserInfoResponse` that skips the comparison of the userinfo `sub` with the
 * ID token's. Use it only when no ID token is available.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * await oauth.processUserInfoResponse(as, client, oauth.skipSubjectCheck, response);
 * ```
 */
export const skipSubjectCheck: unique symbol = Symbol("skipSubjectCheck");

/**
 * Marker for `validateAuthResponse` and friends that skips the `state` check. The application then
 * takes over the check itself.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const url: URL;
 * oauth.validateAuthResponse(as, client, url, oauth.skipStateCheck);
 * ```
 */
export const skipStateCheck: unique symbol = Symbol("skipStateCheck");

/**
 * Marker for `validateAuthResponse` and friends: the authorization request carried no `state`, so
 * the response must not carry one either. It is the default.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const url: URL;
 * oauth.validateAuthResponse(as, client, url, oauth.expectNoState);
 * ```
 */
export const expectNoState: unique symbol = Symbol("expectNoState");

/**
 * Marker for `processAuthorizationCodeResponse`: the authorization request carried no `nonce`,
 * so the ID token must not carry one either. It is the default.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * await oauth.processAuthorizationCodeResponse(as, client, response, {
 *   expectedNonce: oauth.expectNoNonce,
 * });
 * ```
 */
export const expectNoNonce: unique symbol = Symbol("expectNoNonce");

/**
 * Marker for `maxAge` that skips the `auth_time` check of an ID token even when the client has
 * `default_max_age` or `require_auth_time`.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const response: Response;
 * await oauth.processAuthorizationCodeResponse(as, client, response, {
 *   maxAge: oauth.skipAuthTimeCheck,
 * });
 * ```
 */
export const skipAuthTimeCheck: unique symbol = Symbol("skipAuthTimeCheck");

/**
 * Marker for `authorizationCodeGrantRequest`'s `codeVerifier`: the authorization request used no
 * PKCE. RFC 9700 §2.1.1 recommends PKCE for every client; use it only for servers without it.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client;
 * declare const params: URLSearchParams;
 * await oauth.authorizationCodeGrantRequest(
 *   as, client, oauth.None(), params, "https://app.example/cb", oauth.nopkce,
 * );
 * ```
 */
export const nopkce: unique symbol = Symbol("nopkce");

/**
 * Client property (Deno extension) holding the TLS client certificate and private key used for
 * RFC 8705 mutual TLS when `client.use_mtls_endpoint_aliases` is true.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const client: oauth.Client = {
 *   client_id: "app",
 *   use_mtls_endpoint_aliases: true,
 *   [oauth.clientCertificate]: {
 *     cert: await Deno.readTextFile("client.crt"),
 *     key: await Deno.readTextFile("client.key"),
 *   },
 * };
 * ```
 */
export const clientCertificate: unique symbol = Symbol("clientCertificate");

/**
 * Same as {@link nopkce}; exists for drop-in compatibility with oauth4webapi.
 *
 * @ignore
 */
export const _nopkce: typeof nopkce = nopkce;

/**
 * Marker that skips the issuer check of `processDiscoveryResponse`; exists for drop-in
 * compatibility with oauth4webapi.
 *
 * @ignore
 */
export const _nodiscoverycheck: unique symbol = Symbol("_nodiscoverycheck");

/**
 * Metadata key for a function `({ header, claims }) => string | undefined` that gives the issuer a
 * JWT must name, for servers whose metadata `issuer` is a template (openid-client sets it for
 * Microsoft Entra ID's multi-tenant endpoints); `undefined` means `as.issuer`. Exists for drop-in
 * compatibility with oauth4webapi.
 *
 * @ignore
 */
export const _expectedIssuer: unique symbol = Symbol("_expectedIssuer");
