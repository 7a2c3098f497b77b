/**
 * Client authentication at the authorization server's endpoints: `client_secret_post` and
 * `client_secret_basic` (RFC 6749 §2.3.1), `client_secret_jwt` and `private_key_jwt` (RFC 7523
 * §2.2, OpenID Connect Core §9), `none` (public clients), and `tls_client_auth` /
 * `self_signed_tls_client_auth` (RFC 8705 §2), plus the authenticated POST every endpoint helper
 * shares.
 *
 * @module
 */

import {
  assertAs,
  assertClient,
  assertCryptoKey,
  assertNonEmptyString,
  isJsonObject,
} from "./_assert.ts";
import { formEncode, randomToken, toBase64, toBytes } from "./_encoding.ts";
import {
  dpopOf,
  enforcesHttps,
  type HttpOptions,
  prepareHeaders,
  send,
  transportFor,
} from "./_http.ts";
import { resolveEndpoint } from "./endpoints.ts";
import { algFromKey, signHmacJwt, signJwt } from "./_jose.ts";
import { clientTime } from "./_time.ts";
import { argError } from "./errors.ts";
import { modifyAssertion } from "./symbols.ts";
import type {
  AuthorizationServer,
  Client,
  ClientAuth,
  DPoPRequestOptions,
  JsonValue,
  ModifyAssertionOptions,
  PrivateKey,
} from "./types.ts";

/**
 * Where a client assertion's `aud` points (authlane extension). RFC 7523 §3 allows the token
 * endpoint URL or the issuer; oauth4webapi always uses the issuer. Some servers demand the token
 * endpoint.
 */
export interface ClientAssertionOptions extends ModifyAssertionOptions {
  /**
   * `"issuer"` uses `as.issuer`; `"token_endpoint"` uses `as.token_endpoint`.
   * @default "issuer"
   */
  audience?: "issuer" | "token_endpoint";
}

/**
 * `client_secret_post` (RFC 6749 §2.3.1): the client ID and secret travel in the request body.
 *
 * @param clientSecret The client secret.
 * @returns A {@link ClientAuth} to pass to endpoint helpers.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when the secret is not a non-empty string.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const clientAuth = oauth.ClientSecretPost(Deno.env.get("CLIENT_SECRET")!);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1 | RFC 6749 §2.3.1}
 */
export function ClientSecretPost(clientSecret: string): ClientAuth {
  assertNonEmptyString(clientSecret, '"clientSecret"');
  return (_as, client, body) => {
    body.set("client_id", client.client_id);
    body.set("client_secret", clientSecret);
  };
}

/**
 * `client_secret_basic` (RFC 6749 §2.3.1): HTTP Basic authentication whose user name and password
 * are the client ID and secret, each `application/x-www-form-urlencoded` first as the RFC
 * requires (a secret with `:` or non-ASCII characters then survives).
 *
 * @param clientSecret The client secret.
 * @returns A {@link ClientAuth} to pass to endpoint helpers.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when the secret is not a non-empty string,
 *   `ERR_INVALID_ARG_VALUE` when it (or, at request time, the client ID) holds a lone surrogate,
 *   which has no UTF-8 form to encode.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const clientAuth = oauth.ClientSecretBasic(Deno.env.get("CLIENT_SECRET")!);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1 | RFC 6749 §2.3.1}
 */
export function ClientSecretBasic(clientSecret: string): ClientAuth {
  assertNonEmptyString(clientSecret, '"clientSecret"');
  assertWellFormed(clientSecret, '"clientSecret"');
  return (_as, client, _body, headers) => {
    assertWellFormed(client.client_id, '"client.client_id"');
    const credentials = `${formEncode(client.client_id)}:${formEncode(clientSecret)}`;
    headers.set("authorization", `Basic ${toBase64(toBytes(credentials))}`);
  };
}

/**
 * RFC 6749 §2.3.1 form-encodes the UTF-8 bytes of the credentials; a lone surrogate has no UTF-8
 * form (encodeURIComponent would throw a bare URIError), so it is refused as a caller mistake.
 */
function assertWellFormed(value: string, name: string): void {
  if (!value.isWellFormed()) {
    throw argError(`${name} must be well-formed Unicode`, "ERR_INVALID_ARG_VALUE");
  }
}

function assertionClaims(
  as: AuthorizationServer,
  client: Client,
  audience: ClientAssertionOptions["audience"],
): Record<string, JsonValue | undefined> {
  const now = clientTime(client);
  let aud: string = as.issuer;
  if (audience === "token_endpoint") {
    if (typeof as.token_endpoint !== "string") {
      throw argError(
        '"as.token_endpoint" is required for client assertions with audience "token_endpoint"',
        "ERR_INVALID_ARG_VALUE",
      );
    }
    aud = as.token_endpoint;
  } else if (audience !== undefined && audience !== "issuer") {
    throw argError(
      '"options.audience" must be "issuer" or "token_endpoint"',
      "ERR_INVALID_ARG_VALUE",
    );
  }
  return {
    jti: randomToken(),
    aud,
    exp: now + 60,
    iat: now,
    nbf: now,
    iss: client.client_id,
    sub: client.client_id,
  };
}

function applyModifier(
  options: ModifyAssertionOptions | undefined,
  header: Record<string, JsonValue | undefined>,
  payload: Record<string, JsonValue | undefined>,
): void {
  const modify = options?.[modifyAssertion];
  if (modify === undefined) return;
  if (typeof modify !== "function") throw argError('"options[modifyAssertion]" must be a function');
  modify(header, payload);
}

function setAssertion(body: URLSearchParams, client: Client, assertion: string): void {
  body.set("client_id", client.client_id);
  body.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  body.set("client_assertion", assertion);
}

/**
 * `client_secret_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): an HS256 assertion signed with the
 * client secret, valid for 60 seconds, with a fresh `jti`.
 *
 * @param clientSecret The client secret (the HMAC key).
 * @param options `[modifyAssertion]` to change the header or claims; `audience` (authlane
 *   extension) to address the token endpoint instead of the issuer.
 * @returns A {@link ClientAuth} to pass to endpoint helpers.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when the secret is not a non-empty string.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const clientAuth = oauth.ClientSecretJwt(Deno.env.get("CLIENT_SECRET")!);
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7523#section-2.2 | RFC 7523 §2.2}
 */
export function ClientSecretJwt(
  clientSecret: string,
  options?: ClientAssertionOptions,
): ClientAuth {
  assertNonEmptyString(clientSecret, '"clientSecret"');
  return async (as, client, body) => {
    const header: Record<string, JsonValue | undefined> = { alg: "HS256" };
    const payload = assertionClaims(as, client, options?.audience);
    applyModifier(options, header, payload);
    setAssertion(body, client, await signHmacJwt(header, payload, clientSecret));
  };
}

/**
 * `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): an assertion signed with the client's
 * private key (`alg` follows the key: ES256, PS256, RS256, Ed25519, …), valid for 60 seconds, with a
 * fresh `jti` and the key's `kid` when given.
 *
 * @param clientPrivateKey A private `CryptoKey`, or `{ key, kid }`.
 * @param options `[modifyAssertion]` to change the header or claims; `audience` (authlane
 *   extension) to address the token endpoint instead of the issuer.
 * @returns A {@link ClientAuth} to pass to endpoint helpers.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when the key is not a private `CryptoKey`.
 * @throws {UnsupportedOperationError} When the key's algorithm has no JWS equivalent.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const privateKey: CryptoKey;
 * const clientAuth = oauth.PrivateKeyJwt({ key: privateKey, kid: "key-1" });
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc7523#section-2.2 | RFC 7523 §2.2}
 */
export function PrivateKeyJwt(
  clientPrivateKey: CryptoKey | PrivateKey,
  options?: ClientAssertionOptions,
): ClientAuth {
  const { key, kid } = clientPrivateKey instanceof CryptoKey
    ? { key: clientPrivateKey, kid: undefined }
    : isJsonObject(clientPrivateKey)
    ? clientPrivateKey as PrivateKey
    : { key: undefined, kid: undefined };
  assertCryptoKey(key, '"clientPrivateKey.key"', "private");
  if (kid !== undefined) assertNonEmptyString(kid, '"clientPrivateKey.kid"');
  const alg = algFromKey(key);
  return async (as, client, body) => {
    const header: Record<string, JsonValue | undefined> = { alg, kid };
    const payload = assertionClaims(as, client, options?.audience);
    applyModifier(options, header, payload);
    setAssertion(body, client, await signJwt(header, payload, key));
  };
}

/**
 * `none`: a public client sends only its `client_id` (RFC 6749 §2.1; it must use PKCE).
 *
 * @returns A {@link ClientAuth} to pass to endpoint helpers.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const clientAuth = oauth.None();
 * ```
 */
export function None(): ClientAuth {
  return (_as, client, body) => {
    body.set("client_id", client.client_id);
  };
}

/**
 * `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705 §2): the TLS client certificate
 * authenticates the client and only `client_id` travels in the body. Set
 * `client.use_mtls_endpoint_aliases` and `client[clientCertificate]` so requests use the mTLS
 * endpoint aliases over authlane's mutual-TLS adapter, or pass a `[customFetch]` that presents
 * the certificate.
 *
 * @returns A {@link ClientAuth} to pass to endpoint helpers.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * const clientAuth = oauth.TlsClientAuth();
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc8705#section-2 | RFC 8705 §2}
 */
export function TlsClientAuth(): ClientAuth {
  return (_as, client, body) => {
    body.set("client_id", client.client_id);
  };
}

/** Options an authenticated POST accepts. */
export type AuthenticatedPostOptions = HttpOptions & DPoPRequestOptions;

/**
 * POSTs a form to one of the authorization server's endpoints with client authentication. The
 * endpoint (or its RFC 8705 §5 alias) and the transport are resolved before any I/O, so a
 * missing endpoint, an `http:` URL or a missing client certificate fails without a request.
 */
export async function authenticatedPost(
  as: AuthorizationServer,
  client: Client,
  clientAuthentication: ClientAuth,
  endpoint: keyof AuthorizationServer,
  body: URLSearchParams,
  headers: Headers,
  options?: AuthenticatedPostOptions,
): Promise<Response> {
  assertAs(as);
  assertClient(client);
  if (typeof clientAuthentication !== "function") {
    throw argError('"clientAuthentication" must be a function (e.g. ClientSecretPost(secret))');
  }
  const url = resolveEndpoint(
    as,
    endpoint,
    client.use_mtls_endpoint_aliases,
    enforcesHttps(options),
  );
  const transport = transportFor(client, options);
  const dpop = dpopOf(options);
  await clientAuthentication(as, client, body, headers);
  headers.set("content-type", "application/x-www-form-urlencoded;charset=UTF-8");
  return await send({
    url,
    method: "POST",
    headers,
    body,
    options,
    transport,
    dpop,
  });
}

/** Builds the headers of an endpoint request from the caller's options, accepting JSON. */
export function jsonHeaders(options?: HttpOptions): Headers {
  const headers = prepareHeaders(options?.headers);
  headers.set("accept", "application/json");
  return headers;
}
