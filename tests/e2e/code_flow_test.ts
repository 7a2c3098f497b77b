/**
 * End to end against a real OpenID Provider (oidc-provider, in-process on loopback): discovery,
 * the authorization code flow with PKCE for confidential, public and private_key_jwt clients, ID
 * token validation with its signature, userinfo, refresh, client credentials, and the provider
 * refusing what it must refuse.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { runDemo } from "../../examples/demo.ts";
import { type OidcProviderHarness, startProvider } from "../_oidc_provider.ts";
import {
  authorizationUrl,
  codeRequest,
  discover,
  http,
  type Pending,
  redeem,
} from "./_code_flow.ts";

/** A code + PKCE request (scope `openid profile email`) through the provider's login pages. */
async function authorize(
  op: OidcProviderHarness,
  as: oauth.AuthorizationServer,
  clientId: string,
  redirectUri: string,
): Promise<Pending & { callback: URL }> {
  const pending = await codeRequest(clientId, redirectUri, { scope: "openid profile email" });
  return { ...pending, callback: await op.login(authorizationUrl(as, pending.params)) };
}

Deno.test("e2e: a confidential client signs in with code + PKCE, validates the ID token, calls userinfo and refreshes", async () => {
  await using op = await startProvider();
  const as = await discover(op);
  assert.equal(as.issuer, op.issuer);
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);

  const { callback, state, nonce, codeVerifier } = await authorize(
    op,
    as,
    client.client_id,
    registered.redirect_uri,
  );
  assert.equal(callback.searchParams.get("iss"), op.issuer, "the provider sends RFC 9207 iss");
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    params,
    registered.redirect_uri,
    codeVerifier,
    http,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: nonce,
    requireIdToken: true,
  });
  await oauth.validateApplicationLevelSignature(as, response, http);
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  assert.equal(claims.iss, op.issuer);
  assert.equal(claims.aud, client.client_id);
  assert.equal(claims.nonce, nonce);
  assert.equal(tokens.token_type, "bearer");

  const userinfo = await oauth.processUserInfoResponse(
    as,
    client,
    claims.sub,
    await oauth.userInfoRequest(as, client, tokens.access_token, http),
  );
  assert.equal(userinfo.sub, claims.sub);
  assert.equal(typeof userinfo.email, "string");

  assert.ok(tokens.refresh_token);
  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, http),
  );
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.equal(oauth.getValidatedIdTokenClaims(refreshed)?.sub, claims.sub);
});

Deno.test("e2e: the provider refuses a replayed code and a wrong PKCE verifier, surfaced as ResponseBodyError", async () => {
  await using op = await startProvider();
  const as = await discover(op);
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);

  const first = await authorize(op, as, client.client_id, registered.redirect_uri);
  const params = oauth.validateAuthResponse(as, client, first.callback, first.state);
  await redeem(as, client, clientAuth, params, registered.redirect_uri, first);
  const replay = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    params,
    registered.redirect_uri,
    first.codeVerifier,
    http,
  );
  await assert.rejects(
    oauth.processAuthorizationCodeResponse(as, client, replay, { expectedNonce: first.nonce }),
    (err) =>
      err instanceof oauth.ResponseBodyError && err.error === "invalid_grant" && err.status === 400,
  );

  const second = await authorize(op, as, client.client_id, registered.redirect_uri);
  const wrongVerifier = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    oauth.validateAuthResponse(as, client, second.callback, second.state),
    registered.redirect_uri,
    oauth.generateRandomCodeVerifier(),
    http,
  );
  await assert.rejects(
    oauth.processAuthorizationCodeResponse(as, client, wrongVerifier, {
      expectedNonce: second.nonce,
    }),
    (err) => err instanceof oauth.ResponseBodyError && err.error === "invalid_grant",
  );
});

Deno.test("e2e: a callback bearing another state is refused before any token request", async () => {
  await using op = await startProvider();
  const as = await discover(op);
  const registered = op.clients.public;
  const client: oauth.Client = { client_id: registered.client_id };
  const { callback } = await authorize(op, as, client.client_id, registered.redirect_uri);
  assert.throws(
    () => oauth.validateAuthResponse(as, client, callback, oauth.generateRandomState()),
    (err) => err instanceof oauth.OperationProcessingError && err.code === oauth.INVALID_RESPONSE,
  );
});

Deno.test("e2e: a public client (none + PKCE) and a private_key_jwt client complete the code flow", async () => {
  await using op = await startProvider();
  const as = await discover(op);
  const cases: Array<[{ client_id: string; redirect_uri: string }, oauth.ClientAuth]> = [
    [op.clients.public, oauth.None()],
    [
      op.clients.privateKeyJwt,
      oauth.PrivateKeyJwt({ key: op.clientKey.privateKey, kid: op.clientKey.kid }),
    ],
  ];
  for (const [registered, clientAuth] of cases) {
    const client: oauth.Client = { client_id: registered.client_id };
    const pending = await authorize(op, as, client.client_id, registered.redirect_uri);
    const params = oauth.validateAuthResponse(as, client, pending.callback, pending.state);
    const { claims } = await redeem(
      as,
      client,
      clientAuth,
      params,
      registered.redirect_uri,
      pending,
    );
    assert.equal(claims.aud, client.client_id);
  }
});

Deno.test("e2e: client credentials for a resource yields a JWT access token; a wrong secret is invalid_client", async () => {
  await using op = await startProvider();
  const as = await discover(op);
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const result = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost(registered.client_secret!),
      { resource: op.resource, scope: "api:read" },
      http,
    ),
  );
  assert.equal(result.token_type, "bearer");
  assert.equal(result.access_token.split(".").length, 3);

  const bad = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    oauth.ClientSecretPost("not-the-secret"),
    { scope: "api:read" },
    http,
  );
  await assert.rejects(
    oauth.processClientCredentialsResponse(as, client, bad),
    (err) =>
      err instanceof oauth.ResponseBodyError && err.error === "invalid_client" &&
      err.status === 401,
  );
});

Deno.test("e2e: the demo walks every step and exits cleanly", async () => {
  const printed: string[] = [];
  const result = await runDemo(({ title }) => printed.push(title));
  assert.equal(printed.length, 7);
  assert.match(printed[0]!, /Discovered/);
  assert.match(printed[6]!, /client credentials/);
  assert.ok(result.subject.length > 0);
  assert.ok(result.refreshed);
});
