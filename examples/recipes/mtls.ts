/**
 * README recipes: mutual TLS on Deno (RFC 8705): the certificate on the client (the built-in
 * adapter and the `mtls_endpoint_aliases`), the same by hand with `[customFetch]`, and
 * certificate-bound tokens at a resource server. Run by `tests/e2e/recipes_test.ts` against a TLS
 * server that asks for client certificates (test PKI made by openssl).
 *
 * @module
 */

import * as oauth from "@authlane/oauth";

/** PEM strings: the client's certificate and key, and the CA that issued the server's certificate. */
export interface Pems {
  cert: string;
  key: string;
  caCerts?: string[];
}

/**
 * A client credentials grant over mutual TLS with `tls_client_auth`.
 *
 * @param as The authorization server (with `mtls_endpoint_aliases`).
 * @param pems The client's certificate and key.
 * @returns The tokens, and the client (whose connections `oauth.closeMtlsConnections` closes).
 */
export async function mtlsClient(
  as: oauth.AuthorizationServer,
  { cert, key, caCerts }: Pems,
): Promise<{ tokens: oauth.TokenEndpointResponse; client: oauth.Client }> {
  // #region readme:mtls-client
  const client: oauth.Client = {
    client_id: "my-client",
    use_mtls_endpoint_aliases: true,
    // PEM strings (await Deno.readTextFile("client.crt")); cert may hold a chain, leaf first;
    // caCerts only when the server's CA is not a public one
    [oauth.clientCertificate]: { cert, key, caCerts },
  };
  const tokens = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), { scope: "read" }),
  );
  // #endregion readme:mtls-client
  return { tokens, client };
}

/**
 * The same by hand, with `[customFetch]`.
 *
 * @param as The authorization server.
 * @param client The client (without a certificate of its own).
 * @param pems The client's certificate and key.
 * @returns The tokens.
 */
export async function mtlsByHand(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  { cert, key, caCerts }: Pems,
): Promise<oauth.TokenEndpointResponse> {
  const params = { scope: "read" };
  // #region readme:mtls-by-hand
  using httpClient = Deno.createHttpClient({ cert, key, caCerts });
  const mtls = (url: string, init: RequestInit) => fetch(url, { ...init, client: httpClient });
  const url = as.mtls_endpoint_aliases?.token_endpoint ?? as.token_endpoint; // and remember to use it
  const tokens = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(
      { ...as, token_endpoint: url },
      client,
      oauth.TlsClientAuth(),
      params,
      { [oauth.customFetch]: mtls },
    ),
  );
  // #endregion readme:mtls-by-hand
  return tokens;
}

/**
 * Calls a resource with a certificate-bound token, and computes the thumbprint a resource server
 * compares with the token's `cnf["x5t#S256"]`.
 *
 * @param accessToken The certificate-bound access token.
 * @param url The resource.
 * @param pems The client's certificate and key.
 * @returns The resource's status and body, and the thumbprint.
 */
export async function mtlsResource(
  accessToken: string,
  url: URL,
  { cert, key, caCerts }: Pems,
): Promise<{ status: number; body: unknown; thumbprint: string }> {
  // #region readme:mtls-resource
  using rs = oauth.mtlsFetch({ cert, key, caCerts });
  const response = await oauth.protectedResourceRequest(accessToken, "GET", url, undefined, null, {
    [oauth.customFetch]: rs,
  });
  const body = await response.json(); // read it before rs closes
  const thumbprint = await oauth.calculateCertificateThumbprint(cert); // cnf["x5t#S256"]
  // #endregion readme:mtls-resource
  return { status: response.status, body, thumbprint };
}
