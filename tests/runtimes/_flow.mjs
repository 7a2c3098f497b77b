// The core flow that every runtime of the matrix runs with the shipped bundle against
// oidc-provider on loopback: discovery, client credentials, DPoP, the code flow with PKCE and the
// ID token signature check, userinfo, refresh, JWT access tokens validated as a resource server,
// and the library's refusals. Plain JavaScript on Web APIs only (fetch, URL, Request, Web
// Crypto), so Node.js, Bun, a workerd Worker and a browser page all import this one file.
//
// The library is passed in (`oauth`, the namespace of dist/authlane.js as each runtime loaded
// it): this module imports nothing. Results go to the Deno test as steps, one JSON object each,
// through the test's control server (`connect()`); the test asserts them (tests/runtimes/
// _matrix.ts). A refusal is recorded with the error's class, `code` and OAuth `error`, never
// with a token.

/**
 * The test's control server: `config()` reads what to run against, `authorize(url)` has the test
 * play the end-user at the provider and returns the callback URL, `emit(step)` records a result.
 */
export function connect(control) {
  const call = async (path, body) => {
    const response = await fetch(new URL(path, control).href, {
      method: body === undefined ? "GET" : "POST",
      body,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`control ${path}: ${response.status} ${text}`);
    return text;
  };
  return {
    config: async () => JSON.parse(await call("config")),
    authorize: (url) => call("authorize", url),
    emit: (step) => call("step", JSON.stringify(step)),
  };
}

/** Which runtime this is, as it reports itself. */
export function runtimeInfo() {
  const g = globalThis;
  const base = { deno: typeof g.Deno, cryptoKey: typeof g.CryptoKey };
  if (g.Deno !== undefined) return { ...base, name: "deno", version: g.Deno.version.deno };
  if (g.Bun !== undefined) return { ...base, name: "bun", version: g.Bun.version };
  // Before Node: recent compatibility dates give Workers a `process` global too.
  if (g.navigator?.userAgent === "Cloudflare-Workers") {
    return { ...base, name: "workerd", version: g.navigator.userAgent };
  }
  if (typeof g.document === "object") {
    return { ...base, name: "browser", version: g.navigator.userAgent };
  }
  if (typeof g.process?.versions?.node === "string") {
    return { ...base, name: "node", version: g.process.versions.node };
  }
  return { ...base, name: "unknown", version: String(g.navigator?.userAgent) };
}

/** What an error looks like on the wire: its class, code, OAuth error and challenge. */
export function describe(err) {
  return {
    refused: true,
    name: err?.constructor?.name,
    code: err?.code,
    error: err?.error,
    challenge: Array.isArray(err?.cause) ? err.cause[0]?.parameters?.error : undefined,
    message: String(err?.message),
  };
}

/** Runs `fn`, which must throw; records the refusal (or that there was none). */
export async function refusal(io, step, fn) {
  try {
    await fn();
    await io.emit({ step, refused: false });
  } catch (err) {
    await io.emit({ step, ...describe(err) });
  }
}

/** The first step of every flow; `options` go to every request of the flow. */
export async function discover(oauth, io, config, options = {}) {
  const http = { [oauth.allowInsecureRequests]: true, ...options };
  const issuer = new URL(config.issuer);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, http),
  );
  await io.emit({
    step: "discovery",
    issuer: as.issuer,
    dpop: as.dpop_signing_alg_values_supported?.includes("ES256") === true,
  });
  return { as, http };
}

/**
 * The request a resource server receives when the client presents `accessToken` (with a DPoP
 * proof when `DPoP` is given): `protectedResourceRequest` builds it and a `[customFetch]` keeps
 * it instead of sending it.
 */
async function presented(oauth, config, accessToken, DPoP) {
  let captured;
  const response = await oauth.protectedResourceRequest(
    accessToken,
    "GET",
    new URL(`${config.resource}/data`),
    new Headers(),
    null,
    {
      DPoP,
      [oauth.customFetch]: (url, init) => {
        captured = new Request(url, init);
        return Promise.resolve(new Response(null, { status: 204 }));
      },
    },
  );
  await response.body?.cancel();
  return captured;
}

/** A JWT with one character of its signature changed. */
function tampered(jwt) {
  const last = jwt.at(-2) === "A" ? "B" : "A";
  return `${jwt.slice(0, -2)}${last}${jwt.slice(-1)}`;
}

/**
 * Validates a JWT access token as the resource server would (JWKS fetch, ES256 signature,
 * RFC 9068 claims, and for a DPoP-bound token the proof and `cnf.jkt`), then checks that a
 * tampered signature, and a DPoP-bound token presented as a bearer token, are refused.
 */
async function resourceServer(oauth, io, ctx, step, accessToken, DPoP) {
  const { as, http, config } = ctx;
  const claims = await oauth.validateJwtAccessToken(
    as,
    await presented(oauth, config, accessToken, DPoP),
    config.resource,
    http,
  );
  await io.emit({
    step,
    client_id: claims.client_id,
    aud: claims.aud,
    sub: claims.sub,
    scope: claims.scope,
    jkt: claims.cnf?.jkt,
    thumbprint: DPoP ? await DPoP.calculateThumbprint() : undefined,
  });
  await refusal(io, `${step}:tampered`, async () =>
    oauth.validateJwtAccessToken(
      as,
      await presented(oauth, config, tampered(accessToken), DPoP),
      config.resource,
      http,
    ));
  if (DPoP) {
    await refusal(io, `${step}:as_bearer`, async () =>
      oauth.validateJwtAccessToken(
        as,
        await presented(oauth, config, accessToken, undefined),
        config.resource,
        http,
      ));
  }
}

/** Client credentials, a bearer and then a DPoP-bound JWT access token for the resource. */
export async function clientCredentials(oauth, io, ctx) {
  const { as, http, config, client, clientAuth } = ctx;
  const parameters = { resource: config.resource, scope: "api:read" };
  const bearer = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(as, client, clientAuth, parameters, http),
  );
  await io.emit({ step: "client_credentials", token_type: bearer.token_type });
  await resourceServer(oauth, io, ctx, "client_credentials:rs", bearer.access_token);

  // DPoP (RFC 9449): a Web Crypto key pair made by the library, proofs signed in this runtime.
  const keyPair = await oauth.generateKeyPair("ES256");
  const DPoP = oauth.DPoP(client, keyPair);
  const bound = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(as, client, clientAuth, parameters, {
      ...http,
      DPoP,
    }),
  );
  await io.emit({
    step: "dpop",
    token_type: bound.token_type,
    privateKeyIsCryptoKey: keyPair.privateKey instanceof CryptoKey,
    extractable: keyPair.privateKey.extractable,
    thumbprint: await DPoP.calculateThumbprint(),
  });
  await resourceServer(oauth, io, ctx, "dpop:rs", bound.access_token, DPoP);
}

/**
 * The authorization request of the code flow with PKCE (and `dpop_jkt` when a DPoP key pair is
 * given). Returns the URL to send the end-user to and what the client must keep until the
 * callback.
 */
export async function codeFlowStart(oauth, ctx, keyPair) {
  const { as, config, client } = ctx;
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: config.redirect_uri,
    response_type: "code",
    // api:read with the resource: a later refresh can ask for a JWT access token for it.
    scope: "openid email offline_access api:read",
    resource: config.resource,
    prompt: "consent",
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  }).toString();
  if (keyPair) {
    url.searchParams.set("dpop_jkt", await oauth.DPoP(client, keyPair).calculateThumbprint());
  }
  return { url: url.href, verifier, state, nonce };
}

/**
 * The callback of the code flow and everything after it: a wrong `state` refused, the code
 * redeemed, the ID token's claims and signature checked, userinfo, a refresh that asks for a JWT
 * access token for the resource (validated as the resource server would), then the same code
 * again: refused, and the provider revokes what the code gave (RFC 6749 §4.1.2).
 */
export async function codeFlowFinish(oauth, io, ctx, callbackHref, saved, keyPair) {
  const { as, http, config, client, clientAuth } = ctx;
  const DPoP = keyPair ? oauth.DPoP(client, keyPair) : undefined;
  const callback = new URL(callbackHref);
  await refusal(
    io,
    "wrong_state",
    () => oauth.validateAuthResponse(as, client, callback, oauth.generateRandomState()),
  );

  const params = oauth.validateAuthResponse(as, client, callback, saved.state);
  const redeem = () =>
    oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      config.redirect_uri,
      saved.verifier,
      { ...http, DPoP },
    );
  const response = await redeem();
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: saved.nonce,
    requireIdToken: true,
  });
  // The ID token's signature, with the provider's JWKS (OIDC Core §3.1.3.7 step 6).
  await oauth.validateApplicationLevelSignature(as, response, http);
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  await io.emit({
    step: "code",
    token_type: tokens.token_type,
    sub: claims.sub,
    aud: claims.aud,
    nonceMatches: claims.nonce === saved.nonce,
    hasRefreshToken: typeof tokens.refresh_token === "string",
    idTokenSignature: "verified",
  });

  const userinfo = await oauth.processUserInfoResponse(
    as,
    client,
    claims.sub,
    await oauth.userInfoRequest(as, client, tokens.access_token, { ...http, DPoP }),
  );
  await io.emit({ step: "userinfo", sub: userinfo.sub, email: userinfo.email });

  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, {
      ...http,
      DPoP,
      additionalParameters: { resource: config.resource },
    }),
  );
  await io.emit({
    step: "refresh",
    token_type: refreshed.token_type,
    idTokenSub: oauth.getValidatedIdTokenClaims(refreshed)?.sub,
  });
  await resourceServer(oauth, io, ctx, "refresh:rs", refreshed.access_token, DPoP);

  // The same code again: the provider refuses, the library reports its OAuth error.
  await refusal(
    io,
    "replay",
    async () =>
      oauth.processAuthorizationCodeResponse(as, client, await redeem(), {
        expectedNonce: saved.nonce,
      }),
  );
  // The replay made the provider revoke the code's grant: userinfo now answers with a challenge.
  await refusal(io, "after_replay", async () =>
    oauth.processUserInfoResponse(
      as,
      client,
      claims.sub,
      await oauth.userInfoRequest(as, client, tokens.access_token, { ...http, DPoP }),
    ));
}

/** mTLS needs Deno.createHttpClient; elsewhere the library says so and names [customFetch]. */
export async function mtlsRefusal(oauth, io, config) {
  await refusal(io, "mtls", () => oauth.mtlsFetch({ cert: config.cert, key: config.key }));
}

/**
 * The whole flow for a runtime that runs a confidential client on a server (Node.js, Bun, a
 * Worker): every step above, the end-user's login played by the test through `io.authorize`.
 */
export async function serverFlow(oauth, io) {
  try {
    const config = await io.config();
    await io.emit({ step: "runtime", ...runtimeInfo(), exports: Object.keys(oauth).length });
    const { as, http } = await discover(oauth, io, config);
    const client = { client_id: config.client_id };
    const ctx = {
      as,
      http,
      config,
      client,
      clientAuth: oauth.ClientSecretBasic(config.client_secret),
    };
    await clientCredentials(oauth, io, ctx);
    const saved = await codeFlowStart(oauth, ctx);
    const callback = await io.authorize(saved.url);
    await codeFlowFinish(oauth, io, ctx, callback, saved);
    await mtlsRefusal(oauth, io, config);
    await io.emit({ step: "done" });
  } catch (err) {
    await io.emit({ step: "error", ...describe(err), stack: String(err?.stack) }).catch(() => {});
    throw err;
  }
}
