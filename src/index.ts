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
 * This file is the package's table of contents: every export, grouped by area. `deno task build`
 * bundles it into `dist/authlane.js`, the package's `.` export, which takes its types and this
 * documentation from here (`@ts-self-types`). Tests, examples and the CLI in the repository run
 * on these sources, and again on the bundle.
 *
 * @module
 */

// Vocabulary: types, option symbols, errors
export * from "./symbols.ts";

// RFC 9110 §11.6.1: WWW-Authenticate challenges
export type { WWWAuthenticateChallenge, WWWAuthenticateChallengeParameters } from "./types.ts";

// RFC 8705: Mutual-TLS Client Authentication and Certificate-Bound Access Tokens
export { calculateCertificateThumbprint } from "./certificate.ts";
export { closeMtlsConnections, mtlsFetch } from "./mtls.ts";
export type { MtlsFetch } from "./mtls.ts";

// Vocabulary: metadata and JSON types
export type {
  AuthorizationDetails,
  AuthorizationServer,
  Client,
  ClientAuth,
  ClientCertificate,
  ConfirmationClaims,
  CryptoKey,
  CryptoKeyPair,
  CustomFetchOptions,
  DPoPHandle,
  DPoPRequestOptions,
  ExportedJWKSCache,
  HttpRequestOptions,
  IDToken,
  JsonArray,
  JsonObject,
  JsonPrimitive,
  JsonValue,
  JweDecryptFunction,
  JWEDecryptOptions,
  JWK,
  JWKS,
  JWKSCacheInput,
  JWKSCacheOptions,
  JWSAlgorithm,
  JWTPayload,
  ModifyAssertionFunction,
  ModifyAssertionOptions,
  MTLSEndpointAliases,
  OAuth2Error,
  PrivateKey,
  TokenEndpointResponse,
  ValidateSignatureOptions,
} from "./types.ts";

// Errors and their codes
export {
  AUTHORIZATION_RESPONSE_ERROR,
  AuthorizationResponseError,
  HTTP_REQUEST_FORBIDDEN,
  INVALID_REQUEST,
  INVALID_RESPONSE,
  INVALID_SERVER_METADATA,
  JSON_ATTRIBUTE_COMPARISON,
  JWT_CLAIM_COMPARISON,
  JWT_TIMESTAMP_CHECK,
  JWT_USERINFO_EXPECTED,
  KEY_SELECTION,
  MISSING_SERVER_METADATA,
  NETWORK_ERROR,
  OperationProcessingError,
  PARSE_ERROR,
  REQUEST_ABORTED,
  REQUEST_PROTOCOL_FORBIDDEN,
  REQUEST_TIMEOUT,
  RESPONSE_BODY_ERROR,
  RESPONSE_IS_NOT_CONFORM,
  RESPONSE_IS_NOT_JSON,
  RESPONSE_TOO_LARGE,
  ResponseBodyError,
  TLS_ERROR,
  UNSUPPORTED_OPERATION,
  UnsupportedOperationError,
  WWW_AUTHENTICATE_CHALLENGE,
  WWWAuthenticateChallengeError,
} from "./errors.ts";
export type { OAuthErrorCode } from "./errors.ts";

// Transport helpers
export { checkProtocol, getContentType, resolveEndpoint } from "./endpoints.ts";

// RFC 7518 §3, RFC 9864, ML-DSA: the JWS algorithms and key generation
export { JWS_ALGORITHMS } from "./jws_algorithms.ts";
export type { JWSAlgorithmInfo } from "./jws_algorithms.ts";
export { generateKeyPair } from "./keys.ts";
export type { GenerateKeyPairOptions } from "./keys.ts";

// RFC 6749 §2.3, RFC 7523, RFC 8705 §2: client authentication
export {
  ClientSecretBasic,
  ClientSecretJwt,
  ClientSecretPost,
  None,
  PrivateKeyJwt,
  TlsClientAuth,
} from "./client_auth.ts";
export type { ClientAssertionOptions } from "./client_auth.ts";

// RFC 6749 §5: token endpoint responses, generic grants (RFC 8693, RFC 7523)
export {
  genericTokenEndpointRequest,
  processGenericTokenEndpointResponse,
} from "./token_endpoint.ts";
export type {
  ProcessTokenResponseOptions,
  RecognizedTokenTypes,
  TokenEndpointRequestOptions,
} from "./token_endpoint.ts";

// OpenID Connect Core §3.1.3.7: ID tokens
export { getValidatedIdTokenClaims, validateApplicationLevelSignature } from "./id_token.ts";

// RFC 6749 §4.1 + RFC 7636: authorization code grant with PKCE
export {
  authorizationCodeGrantRequest,
  processAuthorizationCodeResponse,
} from "./authorization_code.ts";
export type { ProcessAuthorizationCodeResponseOptions } from "./authorization_code.ts";

// RFC 6749 §6: refresh token grant
export { processRefreshTokenResponse, refreshTokenGrantRequest } from "./refresh_token.ts";

// RFC 6749 §4.4: client credentials grant
export {
  clientCredentialsGrantRequest,
  processClientCredentialsResponse,
} from "./client_credentials.ts";
export type { ClientCredentialsGrantRequestOptions } from "./client_credentials.ts";

// RFC 8414 §3, OpenID Connect Discovery 1.0 §4, RFC 9728 §3: server and resource metadata
export {
  discoveryRequest,
  processDiscoveryResponse,
  processResourceDiscoveryResponse,
  resourceDiscoveryRequest,
} from "./discovery.ts";
export type { DiscoveryRequestOptions, ResourceServer } from "./discovery.ts";

// RFC 7636 §4.1-4.2: PKCE; OpenID Connect Core §3.1.2.1: state and nonce
export {
  calculatePKCECodeChallenge,
  generateRandomCodeVerifier,
  generateRandomNonce,
  generateRandomState,
} from "./pkce.ts";

// RFC 6749 §4.1.2, RFC 9207 §2.4, Form Post Response Mode §2: authorization responses
export { formPostResponse, validateAuthResponse } from "./authorization_response.ts";

// RFC 9449: DPoP proofs and nonces
export { DPoP, isDPoPNonceError } from "./dpop.ts";

// OpenID Connect Core §5.3: UserInfo
export { processUserInfoResponse, userInfoRequest } from "./userinfo.ts";
export type { UserInfoAddress, UserInfoRequestOptions, UserInfoResponse } from "./userinfo.ts";

// RFC 6750 §2.1, RFC 9449 §7: protected resource requests
export { protectedResourceRequest } from "./protected_resource.ts";
export type {
  ProtectedResourceRequestBody,
  ProtectedResourceRequestOptions,
} from "./protected_resource.ts";

// RFC 9126: Pushed Authorization Requests
export { processPushedAuthorizationResponse, pushedAuthorizationRequest } from "./par.ts";
export type { PushedAuthorizationRequestOptions, PushedAuthorizationResponse } from "./par.ts";

// RFC 9101: JWT-Secured Authorization Request (request objects)
export { issueRequestObject } from "./request_object.ts";

// JARM: JWT Secured Authorization Response Mode for OAuth 2.0
export { validateJwtAuthResponse } from "./jarm.ts";

// OpenID Connect Core §3.3.2.11 hybrid `code id_token` responses, FAPI 1.0 Advanced §5.2.2.1
export { validateCodeIdTokenResponse, validateDetachedSignatureResponse } from "./hybrid.ts";

// RFC 8628: OAuth 2.0 Device Authorization Grant
export {
  deviceAuthorizationRequest,
  deviceCodeGrantRequest,
  processDeviceAuthorizationResponse,
  processDeviceCodeResponse,
} from "./device_flow.ts";
export type {
  DeviceAuthorizationRequestOptions,
  DeviceAuthorizationResponse,
} from "./device_flow.ts";

// OpenID Connect CIBA Core 1.0 (poll mode): Client-Initiated Backchannel Authentication
export {
  backchannelAuthenticationGrantRequest,
  backchannelAuthenticationRequest,
  processBackchannelAuthenticationGrantResponse,
  processBackchannelAuthenticationResponse,
} from "./ciba.ts";
export type {
  BackchannelAuthenticationRequestOptions,
  BackchannelAuthenticationResponse,
} from "./ciba.ts";

// RFC 7662 + RFC 9701: Token Introspection, JSON and JWT responses
export { introspectionRequest, processIntrospectionResponse } from "./introspection.ts";
export type { IntrospectionRequestOptions, IntrospectionResponse } from "./introspection.ts";

// RFC 7009: Token Revocation
export { processRevocationResponse, revocationRequest } from "./revocation.ts";
export type { RevocationRequestOptions } from "./revocation.ts";

// RFC 7591: Dynamic Client Registration; RFC 7592: its management (authlane addition)
export {
  clientConfigurationRequest,
  dynamicClientRegistrationRequest,
  processClientConfigurationResponse,
  processDynamicClientRegistrationResponse,
} from "./registration.ts";
export type {
  ClientConfigurationMethod,
  ClientConfigurationReference,
  ClientConfigurationRequestOptions,
  DynamicClientRegistrationRequestOptions,
  OmitSymbolProperties,
} from "./registration.ts";

// RFC 7519 §7.2: JWTs the authorization server signed, of kinds with no dedicated validator
// (authlane addition)
export { validateJwt } from "./jwt.ts";
export type { ValidatedJwt, ValidateJwtOptions } from "./jwt.ts";

// RFC 9068 §4: JWT access tokens at a resource server, with RFC 9449 §7 DPoP and RFC 8705 §3
// certificate binding
export { validateJwtAccessToken } from "./jwt_access_token.ts";
export type { JWTAccessTokenClaims, ValidateJWTAccessTokenOptions } from "./jwt_access_token.ts";

// OpenID Connect Back-Channel Logout 1.0 §2.6: logout tokens (authlane addition)
export { validateLogoutToken } from "./backchannel_logout.ts";
export type {
  LogoutTokenClaims,
  LogoutTokenEvents,
  ValidateLogoutTokenOptions,
} from "./backchannel_logout.ts";
