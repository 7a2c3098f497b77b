/**
 * Type-level expectations, checked by `deno check`: the public types accept the shapes that
 * oauth4webapi's documented examples use, and refuse what they must refuse (`@ts-expect-error`
 * fails the check if the error disappears). The runtime assertions only keep the values alive.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";

Deno.test("types: metadata objects accept the documented shapes", () => {
  const as: oauth.AuthorizationServer = {
    issuer: "https://as.example",
    authorization_endpoint: "https://as.example/authorize",
    token_endpoint: "https://as.example/token",
    jwks_uri: "https://as.example/jwks",
    id_token_signing_alg_values_supported: ["ES256"],
    authorization_response_iss_parameter_supported: true,
    mtls_endpoint_aliases: { token_endpoint: "https://mtls.as.example/token" },
    custom_metadata: { nested: [1, "two", null] },
  };
  const client: oauth.Client = {
    client_id: "app",
    token_endpoint_auth_method: "client_secret_basic",
    use_mtls_endpoint_aliases: false,
    default_max_age: 300,
    [oauth.clockSkew]: -5,
    [oauth.clockTolerance]: 10,
  };
  // @ts-expect-error: client_id is required
  const noId: oauth.Client = { token_endpoint_auth_method: "none" };
  // @ts-expect-error: issuer is required
  const noIssuer: oauth.AuthorizationServer = { token_endpoint: "https://as.example/token" };
  // @ts-expect-error: metadata members are JSON values, not functions
  const badMeta: oauth.Client = { client_id: "a", hook: () => {} };
  assert.equal(as.mtls_endpoint_aliases?.token_endpoint, "https://mtls.as.example/token");
  assert.equal(client[oauth.clockSkew], -5);
  assert.ok(noId && noIssuer && badMeta);
});

Deno.test("types: request options accept customFetch, signal, headers and DPoP", async () => {
  const keyPair = await oauth.generateKeyPair("ES256");
  const client: oauth.Client = { client_id: "app" };
  const options: oauth.TokenEndpointRequestOptions = {
    additionalParameters: { resource: "https://api.example" },
    headers: { "x-request-id": "1" },
    signal: AbortSignal.timeout(1000),
    DPoP: oauth.DPoP(client, keyPair),
    [oauth.customFetch]: (url, init) => {
      const method: "POST" = init.method;
      const body: URLSearchParams = init.body;
      return fetch(url, { ...init, method, body });
    },
    [oauth.allowInsecureRequests]: false,
  };
  const discovery: oauth.DiscoveryRequestOptions = {
    algorithm: "oauth2",
    signal: (url) => AbortSignal.timeout(url.length),
  };
  // @ts-expect-error: algorithm is "oidc" or "oauth2"
  const badAlgorithm: oauth.DiscoveryRequestOptions = { algorithm: "saml" };
  assert.ok(options.DPoP && discovery.algorithm && badAlgorithm);
});

Deno.test("types: results expose their protocol members typed", () => {
  const token: oauth.TokenEndpointResponse = {
    access_token: "at",
    token_type: "bearer",
    expires_in: 60,
    authorization_details: [{ type: "payment_initiation", actions: ["initiate"] }],
  };
  const expires: number | undefined = token.expires_in;
  const idToken: oauth.IDToken = { iss: "i", sub: "s", aud: ["a"], iat: 1, exp: 2, auth_time: 1 };
  const bound: string | undefined = ({ cnf: { jkt: "x" } } as oauth.JWTAccessTokenClaims).cnf?.jkt;
  const userinfo: oauth.UserInfoResponse = { sub: "s", address: { country: "NZ" } };
  // @ts-expect-error: userinfo responses always carry sub
  const noSub: oauth.UserInfoResponse = { name: "x" };
  assert.equal(expires, 60);
  assert.ok(idToken && bound && userinfo && noSub);
});

Deno.test("types: client authentication and error narrowing read like oauth4webapi's examples", () => {
  const auths: oauth.ClientAuth[] = [
    oauth.ClientSecretPost("s"),
    oauth.ClientSecretBasic("s"),
    oauth.ClientSecretJwt("s", { [oauth.modifyAssertion]: (_h, p) => void (p.exp = 1) }),
    oauth.None(),
    oauth.TlsClientAuth(),
  ];
  const describe = (err: unknown): string => {
    if (err instanceof oauth.ResponseBodyError) return `${err.error} ${err.status}`;
    if (err instanceof oauth.AuthorizationResponseError) return err.error;
    if (err instanceof oauth.WWWAuthenticateChallengeError) {
      return err.cause.map((c) => c.scheme).join();
    }
    if (err instanceof oauth.OperationProcessingError) return String(err.code);
    return "other";
  };
  const code: oauth.OAuthErrorCode = oauth.JWT_CLAIM_COMPARISON;
  assert.equal(auths.length, 5);
  assert.equal(describe(new oauth.OperationProcessingError("x", { code })), code);
});

Deno.test("types: the mTLS extension types the certificate slot on Client", () => {
  const certificate: oauth.ClientCertificate = { cert: "PEM", key: "PEM", caCerts: ["PEM"] };
  const client: oauth.Client = {
    client_id: "app",
    use_mtls_endpoint_aliases: true,
    [oauth.clientCertificate]: certificate,
  };
  // @ts-expect-error: the key is required
  const noKey: oauth.ClientCertificate = { cert: "PEM" };
  assert.equal(client[oauth.clientCertificate]?.cert, "PEM");
  assert.ok(noKey);
});
