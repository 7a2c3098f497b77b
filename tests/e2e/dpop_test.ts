/**
 * End to end against oidc-provider with DPoP (RFC 9449) switched on and nonces REQUIRED
 * (`features.dPoP.nonceSecret` + `requireNonce`): the first proof at each origin is answered with
 * `use_dpop_nonce`, which `isDPoPNonceError()` recognises at the token endpoint (§8,
 * ResponseBodyError), at PAR, and at userinfo (§9, WWWAuthenticateChallengeError); one retry with
 * the remembered nonce succeeds. Tokens come back as `token_type` `dpop`, bound (`cnf.jkt`) to the
 * handle's thumbprint, and the provider refuses a bound token without its proof or with another
 * key's proof, a token request without DPoP from a client registered for DPoP, and a
 * DPoP-bound (PAR) code redeemed with another key.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, type ErrorClass } from "../_assert.ts";
import {
  CLIENT_IDS,
  dpopRequiringNonces,
  type OidcProviderHarness,
  startProvider,
} from "../_oidc_provider.ts";
import { authorizationUrl, codeRequest, discover, http, redeem } from "./_code_flow.ts";

function startDpopProvider(
  options: Parameters<typeof startProvider>[0] = {},
): Promise<OidcProviderHarness> {
  return startProvider({
    ...options,
    features: dpopRequiringNonces(),
  });
}

/** Runs `call` and expects a DPoP nonce error; returns it. */
async function expectNonceError<E extends Error>(
  call: () => Promise<unknown>,
  errorClass: ErrorClass<E>,
): Promise<E> {
  const err = await assertOAuthError(call, errorClass);
  assert.equal(oauth.isDPoPNonceError(err), true, "isDPoPNonceError() recognises it");
  return err;
}

/** What the provider says the access token is bound to (RFC 7662 §2.2, RFC 9449 §6.2). */
async function boundThumbprint(
  op: OidcProviderHarness,
  as: oauth.AuthorizationServer,
  accessToken: string,
): Promise<unknown> {
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const introspection = await oauth.processIntrospectionResponse(
    as,
    client,
    await oauth.introspectionRequest(
      as,
      client,
      oauth.ClientSecretBasic(registered.client_secret!),
      accessToken,
      http,
    ),
  );
  assert.equal(introspection.active, true);
  return introspection.cnf?.jkt;
}

function challengeError(err: oauth.WWWAuthenticateChallengeError): string | undefined {
  const dpop = err.cause.find((challenge) => challenge.scheme === "dpop");
  return dpop?.parameters.error;
}

Deno.test("DPoP(): the code grant retries once on use_dpop_nonce and gets a dpop token bound to the key, usable at userinfo", async () => {
  await using op = await startDpopProvider();
  const as = await discover(op);
  assert.ok(as.dpop_signing_alg_values_supported?.includes("ES256"));
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);
  const keyPair = await oauth.generateKeyPair("ES256");
  const DPoP = oauth.DPoP(client, keyPair);

  const pending = await codeRequest(client.client_id, registered.redirect_uri);
  const params = oauth.validateAuthResponse(
    as,
    client,
    await op.login(authorizationUrl(as, pending.params)),
    pending.state,
  );
  const grant = async () =>
    (await redeem(as, client, clientAuth, params, registered.redirect_uri, pending, {
      ...http,
      DPoP,
    })).tokens;

  // RFC 9449 §8: the provider demands a nonce; the code is not spent by the refused request.
  const nonceError = await expectNonceError(grant, oauth.ResponseBodyError);
  assert.equal(nonceError.error, "use_dpop_nonce");
  assert.equal(nonceError.status, 400);
  const tokens = await grant();
  assert.equal(tokens.token_type, "dpop");
  assert.equal(oauth.getValidatedIdTokenClaims(tokens)?.nonce, pending.nonce);
  const thumbprint = await DPoP.calculateThumbprint();
  assert.equal(await boundThumbprint(op, as, tokens.access_token), thumbprint);

  // The same handle already holds the provider's nonce: userinfo succeeds first time.
  const userinfo = await oauth.processUserInfoResponse(
    as,
    client,
    "alice",
    await oauth.userInfoRequest(as, client, tokens.access_token, { ...http, DPoP }),
  );
  assert.equal(userinfo.email, "alice@example.com");

  // A fresh handle over the same key knows no nonce: §9 challenge, then one retry succeeds.
  const fresh = oauth.DPoP(client, keyPair);
  const userInfo = async () =>
    await oauth.processUserInfoResponse(
      as,
      client,
      "alice",
      await oauth.userInfoRequest(as, client, tokens.access_token, { ...http, DPoP: fresh }),
    );
  const challenge = await expectNonceError(userInfo, oauth.WWWAuthenticateChallengeError);
  assert.equal(challenge.status, 401);
  assert.equal(challengeError(challenge), "use_dpop_nonce");
  assert.equal((await userInfo()).sub, "alice");
});

Deno.test("DPoP(): a refresh with the same handle keeps the binding", async () => {
  await using op = await startDpopProvider();
  const as = await discover(op);
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));

  const pending = await codeRequest(client.client_id, registered.redirect_uri);
  pending.params.scope = "openid offline_access";
  pending.params.prompt = "consent";
  const params = oauth.validateAuthResponse(
    as,
    client,
    await op.login(authorizationUrl(as, pending.params)),
    pending.state,
  );
  const grant = async () =>
    (await redeem(as, client, clientAuth, params, registered.redirect_uri, pending, {
      ...http,
      DPoP,
    })).tokens;
  await expectNonceError(grant, oauth.ResponseBodyError);
  const tokens = await grant();
  assert.ok(tokens.refresh_token);

  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, {
      ...http,
      DPoP,
    }),
  );
  assert.equal(refreshed.token_type, "dpop");
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.equal(
    await boundThumbprint(op, as, refreshed.access_token),
    await DPoP.calculateThumbprint(),
  );
});

Deno.test("userInfoRequest() with a DPoP-bound token is refused without the proof and with another key's proof", async () => {
  await using op = await startDpopProvider();
  const as = await discover(op);
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  const pending = await codeRequest(client.client_id, registered.redirect_uri);
  const params = oauth.validateAuthResponse(
    as,
    client,
    await op.login(authorizationUrl(as, pending.params)),
    pending.state,
  );
  const grant = async () =>
    (await redeem(as, client, clientAuth, params, registered.redirect_uri, pending, {
      ...http,
      DPoP,
    })).tokens;
  const tokens = await grant().catch((err) => {
    if (oauth.isDPoPNonceError(err)) return grant();
    throw err;
  });

  // As a Bearer token (RFC 9449 §7.1: a bound token needs its proof).
  const bearer = await assertOAuthError(
    async () =>
      await oauth.processUserInfoResponse(
        as,
        client,
        "alice",
        await oauth.userInfoRequest(as, client, tokens.access_token, http),
      ),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(oauth.isDPoPNonceError(bearer), false);
  assert.equal(bearer.status, 401);
  assert.ok(bearer.cause.some((c) => c.parameters.error === "invalid_token"));

  // With a proof from a key the token is not bound to (after the nonce round trip).
  const thief = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  const stolen = async () =>
    await oauth.processUserInfoResponse(
      as,
      client,
      "alice",
      await oauth.userInfoRequest(as, client, tokens.access_token, { ...http, DPoP: thief }),
    );
  await expectNonceError(stolen, oauth.WWWAuthenticateChallengeError);
  const refused = await assertOAuthError(
    stolen,
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(oauth.isDPoPNonceError(refused), false);
  assert.equal(challengeError(refused), "invalid_token");
});

Deno.test("authorizationCodeGrantRequest() without DPoP is refused for a client registered with dpop_bound_access_tokens", async () => {
  await using op = await startDpopProvider({
    clients: [{ client_id: CLIENT_IDS.public, dpop_bound_access_tokens: true }],
  });
  const as = await discover(op);
  const registered = op.clients.public;
  const client: oauth.Client = { client_id: registered.client_id };
  const pending = await codeRequest(client.client_id, registered.redirect_uri);
  const params = oauth.validateAuthResponse(
    as,
    client,
    await op.login(authorizationUrl(as, pending.params)),
    pending.state,
  );
  const grant = async (options: oauth.TokenEndpointRequestOptions) =>
    (await redeem(as, client, oauth.None(), params, registered.redirect_uri, pending, options))
      .tokens;
  const err = await assertOAuthError(
    grant(http),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(oauth.isDPoPNonceError(err), false);
  assert.equal(err.error, "invalid_grant");

  // The refusal did not spend the code: the same request with DPoP goes through.
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  await expectNonceError(() => grant({ ...http, DPoP }), oauth.ResponseBodyError);
  assert.equal((await grant({ ...http, DPoP })).token_type, "dpop");
});

Deno.test("pushedAuthorizationRequest() with DPoP binds the code to the pushing key: redeemed with it it succeeds, with another key it is refused", async () => {
  await using op = await startDpopProvider();
  const as = await discover(op);
  const registered = op.clients.public;
  const client: oauth.Client = { client_id: registered.client_id };
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  let nonceErrors = 0;

  /** Pushes with DPoP (retrying on the nonce error), logs in, and returns the code's holder. */
  const pushAndLogin = async () => {
    const pending = await codeRequest(client.client_id, registered.redirect_uri);
    const push = async () =>
      await oauth.processPushedAuthorizationResponse(
        as,
        client,
        await oauth.pushedAuthorizationRequest(as, client, oauth.None(), pending.params, {
          ...http,
          DPoP,
        }),
      );
    const { request_uri } = await push().catch((err) => {
      if (!oauth.isDPoPNonceError(err)) throw err;
      nonceErrors++;
      return push();
    });
    const params = oauth.validateAuthResponse(
      as,
      client,
      await op.login(authorizationUrl(as, { client_id: client.client_id, request_uri })),
      pending.state,
    );
    return async (handle: oauth.DPoPHandle) =>
      (await redeem(as, client, oauth.None(), params, registered.redirect_uri, pending, {
        ...http,
        DPoP: handle,
      })).tokens;
  };

  // The first push met the nonce demand at the PAR endpoint (RFC 9449 §8 applies there too).
  const redeemFirst = await pushAndLogin();
  assert.equal(nonceErrors, 1);
  const tokens = await redeemFirst(DPoP);
  assert.equal(tokens.token_type, "dpop");
  assert.equal(
    await boundThumbprint(op, as, tokens.access_token),
    await DPoP.calculateThumbprint(),
  );

  // RFC 9449 §10: a code pushed with a DPoP proof is bound to that key.
  const redeemSecond = await pushAndLogin();
  assert.equal(nonceErrors, 1, "the handle reuses the nonce it was given");
  const other = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  await expectNonceError(() => redeemSecond(other), oauth.ResponseBodyError);
  const mismatch = await assertOAuthError(
    redeemSecond(other),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(mismatch.error, "invalid_grant");
  assert.equal(oauth.isDPoPNonceError(mismatch), false);
});
