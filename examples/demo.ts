/**
 * `deno task demo`: starts a real OpenID Provider (oidc-provider) on 127.0.0.1 and walks the
 * authorization code flow with PKCE as a user would, printing each step: discovery, the
 * authorization URL, the callback parameters, the validated ID token claims, userinfo, a refresh,
 * and a client credentials grant.
 *
 * The provider's login page is driven by the test harness (as a browser would, with cookies and
 * forms); everything on the client side is authlane's public API.
 *
 * @module
 */

import * as oauth from "../mod.ts";
import { startProvider } from "../tests/_oidc_provider.ts";

/** One printed step of the demo. */
export interface DemoStep {
  title: string;
  detail: unknown;
}

/** What the demo proved, for its test. */
export interface DemoResult {
  steps: DemoStep[];
  subject: string;
  refreshed: boolean;
}

/**
 * Runs the demo flow against an embedded provider.
 *
 * @param print Called with every step as it happens.
 * @returns The steps and the signed-in subject.
 */
export async function runDemo(print: (step: DemoStep) => void = () => {}): Promise<DemoResult> {
  const steps: DemoStep[] = [];
  const step = (title: string, detail: unknown) => {
    const s = { title, detail };
    steps.push(s);
    print(s);
  };

  await using op = await startProvider();
  // The embedded provider listens on plain http on loopback; real deployments use https.
  const http = { [oauth.allowInsecureRequests]: true } as const;
  const issuer = new URL(op.issuer);

  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, http),
  );
  step("1. Discovered the provider", {
    issuer: as.issuer,
    authorization_endpoint: as.authorization_endpoint,
    token_endpoint: as.token_endpoint,
  });

  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);
  const redirectUri = registered.redirect_uri;

  const codeVerifier = oauth.generateRandomCodeVerifier();
  const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const authorizationUrl = new URL(as.authorization_endpoint!);
  for (
    const [name, value] of Object.entries({
      client_id: client.client_id,
      redirect_uri: redirectUri,
      response_type: "code",
      scope: "openid profile email offline_access",
      code_challenge: codeChallenge,
      code_challenge_method: "S256",
      state,
      nonce,
      prompt: "consent",
    })
  ) authorizationUrl.searchParams.set(name, value);
  step("2. Sent the user to the authorization URL", authorizationUrl.href);

  const callbackUrl = await op.login(authorizationUrl);
  step(
    "3. The user signed in and consented; the provider redirected back",
    Object.fromEntries(callbackUrl.searchParams),
  );

  const params = oauth.validateAuthResponse(as, client, callbackUrl, state);
  const tokenResponse = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    params,
    redirectUri,
    codeVerifier,
    http,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse, {
    expectedNonce: nonce,
    requireIdToken: true,
  });
  await oauth.validateApplicationLevelSignature(as, tokenResponse, http);
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  step("4. Validated the ID token (claims and signature)", claims);

  const userinfo = await oauth.processUserInfoResponse(
    as,
    client,
    claims.sub,
    await oauth.userInfoRequest(as, client, tokens.access_token, http),
  );
  step("5. Called userinfo", userinfo);

  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, http),
  );
  step("6. Refreshed the tokens", {
    token_type: refreshed.token_type,
    expires_in: refreshed.expires_in,
    new_access_token: refreshed.access_token !== tokens.access_token,
  });

  const service = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(as, client, clientAuth, {
      resource: op.resource,
      scope: "api:read",
    }, http),
  );
  step("7. Got a client credentials token for an API", {
    token_type: service.token_type,
    expires_in: service.expires_in,
    scope: service.scope,
  });

  return {
    steps,
    subject: claims.sub,
    refreshed: refreshed.access_token !== tokens.access_token,
  };
}

if (import.meta.main) {
  console.log(
    "authlane demo: the authorization code flow with PKCE against an embedded provider\n",
  );
  await runDemo(({ title, detail }) => {
    console.log(title);
    console.log(
      typeof detail === "string"
        ? `   ${detail}`
        : Deno.inspect(detail, { colors: false, depth: 4 })
          .split("\n").map((line) => `   ${line}`).join("\n"),
    );
    console.log();
  });
  console.log("Done: signed in, validated, called userinfo, refreshed, and got a service token.");
  console.log(
    [
      "",
      "Next:",
      "  deno task provider                a provider that stays up (http and mTLS), with clients,",
      "                                    secrets and CLI commands to try against it",
      "  deno run -A examples/web_app.ts   a web app that signs users in (code flow + sessions)",
      "  deno task cli login               the CLI's code flow against the embedded provider",
    ].join("\n"),
  );
}
