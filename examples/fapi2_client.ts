/**
 * A client in the style of the FAPI 2.0 Security Profile: the authorization request is pushed
 * (PAR, RFC 9126) and carries only `client_id` and `request_uri` through the browser; PKCE with
 * S256 (RFC 7636); the authorization response must name its issuer (RFC 9207); the client
 * authenticates with `private_key_jwt` (RFC 7523) or mutual TLS (RFC 8705 §2); and every token
 * is sender-constrained, with DPoP (RFC 9449, the authorization code included, §10) or with the
 * client certificate (RFC 8705 §3).
 *
 * ```sh
 * deno run -A examples/fapi2_client.ts              # embedded provider, PAR + PKCE + DPoP
 * MODE=mtls deno run -A examples/fapi2_client.ts    # embedded provider over TLS, PAR + PKCE + mTLS
 * ISSUER=https://op.example CLIENT_ID=… CLIENT_KEY=client.key.pem KEY_ID=… \
 *   REDIRECT_URI=https://app.example/cb deno run -A examples/fapi2_client.ts
 * ISSUER=… MODE=mtls CLIENT_ID=… CLIENT_CERT=client.crt CLIENT_KEY=client.key \
 *   REDIRECT_URI=… deno run -A examples/fapi2_client.ts
 * ```
 *
 * With a real `ISSUER`, the script prints the authorization URL and reads the URL the browser
 * was redirected to from standard input.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";

/** How tokens are bound to this client. */
export type SenderConstraint =
  /** RFC 9449: a DPoP key; its proofs go with the PAR, token, refresh and userinfo requests. */
  | { kind: "dpop"; keyPair: CryptoKeyPair }
  /**
   * RFC 8705 §3: the TLS client certificate. The client must have
   * `use_mtls_endpoint_aliases: true` and `[oauth.clientCertificate]`.
   */
  | { kind: "mtls" };

/** Options of {@linkcode runFapi2Flow}. */
export interface Fapi2Options {
  /** The authorization server's issuer identifier. */
  issuer: URL;
  /** The client. */
  client: oauth.Client;
  /** `PrivateKeyJwt(...)` or `TlsClientAuth()`. */
  clientAuth: oauth.ClientAuth;
  /** The registered redirect URI. */
  redirectUri: string;
  /** The sender constraint. */
  constraint: SenderConstraint;
  /**
   * The user-agent leg: sends the user to the authorization URL and resolves with the URL the
   * provider redirected back to.
   */
  authorize: (authorizationUrl: URL) => Promise<URL>;
  /** Scopes. @default "openid email offline_access" */
  scope?: string;
  /**
   * `fetch` for requests that present no client certificate (discovery, JWKS; every request
   * in DPoP mode). @default fetch
   */
  customFetch?: (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;
  /** Allow `http:` server URLs (loopback development only). @default false */
  allowInsecureRequests?: boolean;
}

/** What {@linkcode runFapi2Flow} obtained. */
export interface Fapi2Result {
  /** The discovered metadata. */
  as: oauth.AuthorizationServer;
  /** The `request_uri` the PAR endpoint returned. */
  requestUri: string;
  /** The authorization URL the user was sent to. */
  authorizationUrl: URL;
  /** The token response of the code exchange. */
  tokens: oauth.TokenEndpointResponse;
  /** The validated ID token claims (signature included). */
  claims: oauth.IDToken;
  /** Userinfo, fetched with the sender-constrained access token. */
  userinfo: oauth.UserInfoResponse;
  /** The token response of a refresh, sender-constrained too. */
  refreshed: oauth.TokenEndpointResponse;
}

/** Thrown before any request when the server's metadata lacks what the profile needs. */
export class Fapi2ProfileError extends Error {
  /** The metadata members that are missing or wrong. */
  readonly missing: string[];

  /**
   * Creates the error.
   *
   * @param missing The metadata members that are missing or wrong.
   */
  constructor(missing: string[]) {
    super(`the authorization server does not offer what FAPI 2.0 needs: ${missing.join(", ")}`);
    this.name = "Fapi2ProfileError";
    this.missing = missing;
  }
}

/**
 * Signs a user in the FAPI 2.0 way and uses the tokens once each: userinfo and a refresh.
 *
 * @param options The server, the client, the sender constraint and the user-agent leg.
 * @returns The tokens, the validated claims and userinfo.
 * @throws {Fapi2ProfileError} When the metadata lacks PAR, S256, `iss` in responses, or the
 *   mTLS / DPoP support the constraint needs.
 * @throws {oauth.OperationProcessingError} When a response fails a check (a wrong `iss` or
 *   `state`, an ID token claim or signature, …).
 * @throws {oauth.ResponseBodyError} When the server refuses a request.
 */
export async function runFapi2Flow(options: Fapi2Options): Promise<Fapi2Result> {
  const { client, clientAuth, redirectUri, constraint } = options;
  const plain = {
    [oauth.allowInsecureRequests]: options.allowInsecureRequests === true,
    ...(options.customFetch ? { [oauth.customFetch]: options.customFetch } : {}),
  };
  // With mTLS, authlane sends the client's requests through the mtls_endpoint_aliases with the
  // certificate; a [customFetch] would replace that, so those requests get none.
  const DPoP = constraint.kind === "dpop" ? oauth.DPoP(client, constraint.keyPair) : undefined;
  const bound = constraint.kind === "dpop"
    ? { ...plain, DPoP }
    : { [oauth.allowInsecureRequests]: options.allowInsecureRequests === true };

  const as = await oauth.processDiscoveryResponse(
    options.issuer,
    await oauth.discoveryRequest(options.issuer, plain),
  );
  checkProfile(as, constraint);

  // RFC 9126 §2.1: push the request; RFC 9449 §10: the DPoP proof binds the code to the key.
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const scope = options.scope ?? "openid email offline_access";
  const parameters = {
    response_type: "code",
    redirect_uri: redirectUri,
    scope,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
    // OIDC Core §11: offline_access needs prompt=consent.
    ...(scope.split(" ").includes("offline_access") ? { prompt: "consent" } : {}),
  };
  const pushed = await withNonceRetry(async () =>
    oauth.processPushedAuthorizationResponse(
      as,
      client,
      await oauth.pushedAuthorizationRequest(as, client, clientAuth, parameters, bound),
    )
  );

  // Only client_id and request_uri go through the browser.
  const authorizationUrl = new URL(as.authorization_endpoint!);
  authorizationUrl.searchParams.set("client_id", client.client_id);
  authorizationUrl.searchParams.set("request_uri", pushed.request_uri);
  const callback = await options.authorize(authorizationUrl);

  // RFC 9207 §2.4 iss (required, see checkProfile) and state.
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await withNonceRetry(() =>
    oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      redirectUri,
      codeVerifier,
      bound,
    )
  );
  const tokens = await withNonceRetry(() =>
    oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: nonce,
      requireIdToken: true,
    })
  );
  // The ID token's signature too, not only the TLS channel that brought it.
  await oauth.validateApplicationLevelSignature(as, response, plain);
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  if (constraint.kind === "dpop" && tokens.token_type !== "dpop") {
    throw new Fapi2ProfileError([`token_type "dpop" (got "${tokens.token_type}")`]);
  }

  const userinfo = await oauth.processUserInfoResponse(
    as,
    client,
    claims.sub,
    await withNonceRetry(() => oauth.userInfoRequest(as, client, tokens.access_token, bound)),
  );
  const refreshed = await withNonceRetry(async () =>
    oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, bound),
    )
  );
  return {
    as,
    requestUri: pushed.request_uri,
    authorizationUrl,
    tokens,
    claims,
    userinfo,
    refreshed,
  };
}

/** FAPI 2.0 Security Profile §5.2.2, §5.3.2: what the server must offer for this flow. */
function checkProfile(as: oauth.AuthorizationServer, constraint: SenderConstraint): void {
  const missing: string[] = [];
  if (typeof as.pushed_authorization_request_endpoint !== "string") {
    missing.push("pushed_authorization_request_endpoint");
  }
  if (!as.code_challenge_methods_supported?.includes("S256")) {
    missing.push('code_challenge_methods_supported with "S256"');
  }
  if (as.authorization_response_iss_parameter_supported !== true) {
    missing.push("authorization_response_iss_parameter_supported");
  }
  if (constraint.kind === "dpop" && !Array.isArray(as.dpop_signing_alg_values_supported)) {
    missing.push("dpop_signing_alg_values_supported");
  }
  if (constraint.kind === "mtls" && as.tls_client_certificate_bound_access_tokens !== true) {
    missing.push("tls_client_certificate_bound_access_tokens");
  }
  if (missing.length > 0) throw new Fapi2ProfileError(missing);
}

/**
 * RFC 9449 §8, §9: when a server answers `use_dpop_nonce`, the DPoP handle has kept the nonce;
 * send the request once more.
 */
async function withNonceRetry<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) return await request();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Running it

/** An embedded provider configured for the profile, and the options to run against it. */
export interface EmbeddedFapi extends AsyncDisposable {
  /** The running provider. */
  op: import("../tests/_oidc_provider.ts").OidcProviderHarness;
  /** Options for {@linkcode runFapi2Flow}, with `authorize` driving the provider's pages. */
  options: Fapi2Options;
}

/**
 * Starts oidc-provider on loopback with PAR required and the FAPI 2.0 profile on, and registers
 * a client for `mode`: `private_key_jwt` + DPoP-bound tokens, or `tls_client_auth` +
 * certificate-bound tokens over TLS with the mTLS endpoint aliases (test PKI made by openssl).
 *
 * @param mode The sender constraint.
 * @returns The provider and ready-to-run options.
 */
export async function startEmbeddedFapi(mode: "dpop" | "mtls"): Promise<EmbeddedFapi> {
  const { startProvider } = await import("../tests/_oidc_provider.ts");
  const features = {
    fapi: { enabled: true, profile: "2.0" },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
  };
  if (mode === "dpop") {
    const op = await startProvider({
      features,
      clients: [{
        client_id: "private-key-jwt-client",
        dpop_bound_access_tokens: true,
        id_token_signed_response_alg: "ES256",
      }],
    });
    const registered = op.clients.privateKeyJwt;
    return {
      op,
      options: {
        issuer: new URL(op.issuer),
        client: { client_id: registered.client_id },
        clientAuth: oauth.PrivateKeyJwt({ key: op.clientKey.privateKey, kid: op.clientKey.kid }),
        redirectUri: registered.redirect_uri,
        constraint: { kind: "dpop", keyPair: await oauth.generateKeyPair("ES256") },
        authorize: (url) => op.login(url),
        allowInsecureRequests: true,
      },
      [Symbol.asyncDispose]: () => op.close(),
    };
  }

  const { getPki } = await import("../tests/_pki.ts");
  const pki = await getPki();
  // Trusts the test CA and presents no certificate: for the browser, discovery and JWKS.
  const trusting = Deno.createHttpClient({ caCerts: [pki.ca] });
  try {
    // The aliases name the provider's own URLs, so its port must be known before it starts.
    const op = await onFreePort((port) => {
      const origin = `https://127.0.0.1:${port}`;
      return startProvider({
        port,
        tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca },
        fetch: (input, init) => fetch(input, { ...init, client: trusting }),
        features: {
          ...features,
          mTLS: { enabled: true, tlsClientAuth: true, certificateBoundAccessTokens: true },
        },
        configuration: {
          discovery: {
            // RFC 8705 §5. The provider asks every client for a certificate, so the aliases can
            // be its ordinary URLs; a real server often gives them a host of their own.
            mtls_endpoint_aliases: {
              token_endpoint: `${origin}/token`,
              pushed_authorization_request_endpoint: `${origin}/request`,
              userinfo_endpoint: `${origin}/me`,
              revocation_endpoint: `${origin}/token/revocation`,
              introspection_endpoint: `${origin}/token/introspection`,
            },
          },
        },
        clients: [{
          client_id: "fapi-mtls-client",
          token_endpoint_auth_method: "tls_client_auth",
          tls_client_auth_subject_dn: "CN=ec", // the subject of the test PKI's EC certificate
          tls_client_certificate_bound_access_tokens: true,
          id_token_signed_response_alg: "ES256",
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          redirect_uris: ["http://127.0.0.1/cb"],
        }],
      });
    });
    return {
      op,
      options: {
        issuer: new URL(op.issuer),
        client: {
          client_id: "fapi-mtls-client",
          use_mtls_endpoint_aliases: true,
          [oauth.clientCertificate]: { cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] },
        },
        clientAuth: oauth.TlsClientAuth(),
        redirectUri: "http://127.0.0.1/cb",
        constraint: { kind: "mtls" },
        authorize: (url) => op.login(url),
        customFetch: (url, init) => fetch(url, { ...init, client: trusting } as RequestInit),
      },
      async [Symbol.asyncDispose]() {
        await op.close();
        trusting.close();
      },
    };
  } catch (err) {
    trusting.close();
    throw err;
  }
}

/** Runs `start` on a port that was free a moment ago, with another try if it got taken. */
async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = probe.addr;
    probe.close();
    try {
      return await start(port);
    } catch (err) {
      if (attempt === 3 || (err as { code?: string }).code !== "EADDRINUSE") throw err;
    }
  }
}

if (import.meta.main) {
  const mode = Deno.env.get("MODE") === "mtls" ? "mtls" : "dpop";
  const issuer = Deno.env.get("ISSUER");
  let result: Fapi2Result;
  if (issuer === undefined) {
    await using embedded = await startEmbeddedFapi(mode);
    console.log(`Embedded provider at ${embedded.op.issuer}, ${mode} mode`);
    result = await runFapi2Flow(embedded.options);
  } else {
    const env = (name: string) => {
      const value = Deno.env.get(name);
      if (value === undefined) throw new Error(`set ${name}`);
      return value;
    };
    const client: oauth.Client = { client_id: env("CLIENT_ID") };
    let clientAuth: oauth.ClientAuth;
    let constraint: SenderConstraint;
    if (mode === "mtls") {
      client.use_mtls_endpoint_aliases = true;
      client[oauth.clientCertificate] = {
        cert: await Deno.readTextFile(env("CLIENT_CERT")),
        key: await Deno.readTextFile(env("CLIENT_KEY")),
      };
      clientAuth = oauth.TlsClientAuth();
      constraint = { kind: "mtls" };
    } else {
      const pem = await Deno.readTextFile(env("CLIENT_KEY"));
      const der = Uint8Array.from(
        atob(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "")),
        (c) => c.charCodeAt(0),
      );
      const key = await crypto.subtle.importKey(
        "pkcs8",
        der,
        { name: "ECDSA", namedCurve: "P-256" },
        false,
        ["sign"],
      );
      clientAuth = oauth.PrivateKeyJwt({ key, kid: env("KEY_ID") });
      constraint = { kind: "dpop", keyPair: await oauth.generateKeyPair("ES256") };
    }
    result = await runFapi2Flow({
      issuer: new URL(issuer),
      client,
      clientAuth,
      redirectUri: env("REDIRECT_URI"),
      constraint,
      authorize: (url) => {
        console.log(`Open this URL in a browser and sign in:\n\n  ${url.href}\n`);
        const pasted = prompt("Then paste the URL you were sent back to:");
        if (pasted === null) throw new Error("no callback URL given");
        return Promise.resolve(new URL(pasted));
      },
    });
  }
  console.log(`PAR request_uri: ${result.requestUri}`);
  console.log(`Authorization URL: ${result.authorizationUrl.href}`);
  console.log(`Signed in as ${result.claims.sub} (ID token signature verified)`);
  console.log({
    token_type: result.tokens.token_type,
    userinfo: result.userinfo,
    refreshed_token_type: result.refreshed.token_type,
  });
}
