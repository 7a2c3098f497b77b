// authlane under Node.js: a smoke run of the `deno bundle` output against oidc-provider, driven
// by tests/node_bundle_test.ts. Usage: node tests/_node_smoke.mjs <bundle.mjs>
//
// Protocol, one JSON object per line: the Deno test writes the configuration to stdin; this
// script writes each step's result to stdout; for the code flow it writes {"step":"authorize",
// "url":...} and reads back the callback URL the provider redirected to, as one stdin line.
// Only the bundle is imported: no Deno globals, no npm packages.

import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

// Never hang the Deno test: give up after a minute.
setTimeout(() => {
  emit({ step: "error", name: "Timeout", message: "no result after 60 s" });
  process.exit(2);
}, 60_000).unref();

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

/** Reads one line from the Deno side. */
async function readLine() {
  const { value, done } = await lines.next();
  if (done) throw new Error("stdin closed");
  return value;
}

/** Writes one result line for the Deno side. */
function emit(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** What an error looks like on the wire: its class, code and OAuth error. */
function describe(err) {
  return {
    name: err?.constructor?.name,
    code: err?.code,
    error: err?.error,
    message: String(err?.message),
  };
}

try {
  const oauth = await import(pathToFileURL(process.argv[2]).href);
  const config = JSON.parse(await readLine());
  const http = { [oauth.allowInsecureRequests]: true };
  const issuer = new URL(config.issuer);
  emit({ step: "runtime", node: process.versions.node, deno: typeof globalThis.Deno });

  // RFC 8414 / OIDC Discovery.
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, http),
  );
  emit({ step: "discovery", issuer: as.issuer, token_endpoint: as.token_endpoint });

  const client = { client_id: config.client_id };
  const clientAuth = oauth.ClientSecretBasic(config.client_secret);

  // Client credentials, a JWT access token for the resource, validated as a resource server
  // would (JWKS fetch, ES256 signature, RFC 9068 claims).
  const service = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(
      as,
      client,
      clientAuth,
      { resource: config.resource, scope: "api:read" },
      http,
    ),
  );
  const validated = await oauth.validateJwtAccessToken(
    as,
    new Request(`${config.resource}/data`, {
      headers: { authorization: `Bearer ${service.access_token}` },
    }),
    config.resource,
    http,
  );
  emit({
    step: "client_credentials",
    token_type: service.token_type,
    client_id: validated.client_id,
    aud: validated.aud,
  });

  // DPoP: a Web Crypto key pair, proofs signed in Node.
  const keyPair = await oauth.generateKeyPair("ES256");
  const DPoP = oauth.DPoP(client, keyPair);
  const bound = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(
      as,
      client,
      clientAuth,
      { resource: config.resource, scope: "api:read" },
      { ...http, DPoP },
    ),
  );
  emit({
    step: "dpop",
    token_type: bound.token_type,
    privateKeyIsCryptoKey: keyPair.privateKey instanceof CryptoKey,
    thumbprint: await DPoP.calculateThumbprint(),
  });

  // The code flow with PKCE; the Deno side plays the browser.
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: config.redirect_uri,
    response_type: "code",
    scope: "openid email offline_access",
    prompt: "consent",
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
  }).toString();
  emit({ step: "authorize", url: url.href });
  const callback = new URL(await readLine());

  // A callback checked against another state is refused.
  try {
    oauth.validateAuthResponse(as, client, callback, oauth.generateRandomState());
    emit({ step: "wrong_state", refused: false });
  } catch (err) {
    emit({ step: "wrong_state", refused: true, ...describe(err) });
  }

  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    params,
    config.redirect_uri,
    codeVerifier,
    http,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: nonce,
    requireIdToken: true,
  });
  await oauth.validateApplicationLevelSignature(as, response, http);
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  emit({
    step: "code",
    sub: claims.sub,
    aud: claims.aud,
    nonceMatches: claims.nonce === nonce,
    hasRefreshToken: typeof tokens.refresh_token === "string",
  });

  const userinfo = await oauth.processUserInfoResponse(
    as,
    client,
    claims.sub,
    await oauth.userInfoRequest(as, client, tokens.access_token, http),
  );
  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, http),
  );
  emit({
    step: "userinfo_refresh",
    email: userinfo.email,
    refreshedSub: oauth.getValidatedIdTokenClaims(refreshed)?.sub,
  });

  // The same code again: the provider refuses, the library reports its OAuth error.
  try {
    await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        params,
        config.redirect_uri,
        codeVerifier,
        http,
      ),
      { expectedNonce: nonce },
    );
    emit({ step: "replay", refused: false });
  } catch (err) {
    emit({ step: "replay", refused: true, ...describe(err) });
  }

  // RFC 6749 §4.1.2: a replayed code makes the provider revoke what the code gave, the
  // refreshed access token included; userinfo now answers with a challenge.
  try {
    await oauth.processUserInfoResponse(
      as,
      client,
      claims.sub,
      await oauth.userInfoRequest(as, client, refreshed.access_token, http),
    );
    emit({ step: "after_replay", refused: false });
  } catch (err) {
    emit({
      step: "after_replay",
      refused: true,
      ...describe(err),
      challenge: err?.cause?.[0]?.parameters?.error,
    });
  }

  // mTLS needs Deno.createHttpClient; under Node the library says so and names [customFetch].
  try {
    oauth.mtlsFetch({ cert: config.cert, key: config.key });
    emit({ step: "mtls", refused: false });
  } catch (err) {
    emit({ step: "mtls", refused: true, ...describe(err) });
  }

  emit({ step: "done" });
  process.exit(0);
} catch (err) {
  emit({ step: "error", ...describe(err), stack: String(err?.stack) });
  process.exit(1);
}
