/**
 * authlane: an OAuth 2.0 and OpenID Connect client for Deno with oauth4webapi v3's API (the same
 * export names, signatures, option symbols, error classes and error codes), built on Web Crypto
 * and `fetch`, with RFC 8705 mutual TLS built in.
 *
 * Every endpoint helper is a pair: `xxxRequest()` sends the request and returns the `Response`;
 * `processXxxResponse()` validates it and returns the result, or throws an error with a stable
 * `code`. Requests never follow redirects, time out after 30 seconds by default, and read at most
 * 1 MiB of response body.
 *
 * @example Sign a user in: authorization code flow with PKCE
 * ```ts
 * import * as oauth from "@authlane/oauth";
 *
 * const issuer = new URL("https://op.example");
 * const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer));
 * const client: oauth.Client = { client_id: "my-app" };
 * const clientAuth = oauth.ClientSecretBasic(Deno.env.get("CLIENT_SECRET")!);
 * const redirectUri = "https://app.example/cb";
 *
 * // Before redirecting the user: keep these three in the user's session.
 * const codeVerifier = oauth.generateRandomCodeVerifier();
 * const state = oauth.generateRandomState();
 * const nonce = oauth.generateRandomNonce();
 * const authorizationUrl = new URL(as.authorization_endpoint!);
 * authorizationUrl.search = new URLSearchParams({
 *   client_id: client.client_id,
 *   redirect_uri: redirectUri,
 *   response_type: "code",
 *   scope: "openid email",
 *   code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
 *   code_challenge_method: "S256",
 *   state,
 *   nonce,
 * }).toString();
 *
 * // On the callback: state and RFC 9207 iss are checked, then the code is redeemed and the
 * // ID token validated (OpenID Connect Core §3.1.3.7).
 * declare const callbackUrl: URL;
 * const params = oauth.validateAuthResponse(as, client, callbackUrl, state);
 * const response = await oauth.authorizationCodeGrantRequest(
 *   as, client, clientAuth, params, redirectUri, codeVerifier,
 * );
 * const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
 *   expectedNonce: nonce,
 *   requireIdToken: true,
 * });
 * const claims = oauth.getValidatedIdTokenClaims(tokens)!;
 * console.log(claims.sub, tokens.access_token.length);
 * ```
 *
 * @example Mutual TLS (RFC 8705) on Deno
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * const client: oauth.Client = {
 *   client_id: "my-client",
 *   use_mtls_endpoint_aliases: true,
 *   [oauth.clientCertificate]: {
 *     cert: await Deno.readTextFile("client.crt"),
 *     key: await Deno.readTextFile("client.key"),
 *   },
 * };
 * const { access_token } = await oauth.processClientCredentialsResponse(
 *   as, client,
 *   await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), { scope: "read" }),
 * );
 * ```
 *
 * @module
 */

// Run time: one JavaScript module bundled from src/ (`deno task build`), because Deno loads one
// file faster than the 39 TypeScript modules it was bundled from (README "Performance").
// Types and documentation: the sources, through the directive below.
// @ts-types="./src/index.ts"
export * from "./dist/authlane.js";
