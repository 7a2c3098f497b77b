/**
 * End to end against oidc-provider for token introspection (RFC 7662, plain JSON, and RFC 9701
 * signed JWT responses with `features.jwtIntrospection`) and revocation (RFC 7009). The tokens are
 * the opaque access and refresh tokens of a real code flow (oidc-provider refuses to introspect
 * JWT access tokens). A revoked token introspects as inactive and stops working; a JSON answer to
 * a client registered for signed responses is refused as a downgrade; wrong client credentials
 * surface as `invalid_client`.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { type OidcProviderHarness, startProvider } from "../_oidc_provider.ts";
import { authorizationUrl, codeRequest, discover, http, redeem } from "./_code_flow.ts";

/** A client that only introspects, and wants signed (RFC 9701) introspection responses. */
const JWT_INTROSPECTOR = {
  client_id: "jwt-introspector",
  client_secret: "a-long-enough-secret-for-the-jwt-introspector-client",
  token_endpoint_auth_method: "client_secret_basic",
  introspection_signed_response_alg: "ES256",
  grant_types: ["client_credentials"],
  response_types: [],
  redirect_uris: [],
};

interface Setup {
  op: OidcProviderHarness;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  tokens: oauth.TokenEndpointResponse;
}

/** Starts the provider and runs the code flow (with offline_access) for the confidential client. */
async function setup(): Promise<Setup> {
  const op = await startProvider({
    features: { jwtIntrospection: { enabled: true } },
    clients: [JWT_INTROSPECTOR],
  });
  try {
    const as = await discover(op);
    const registered = op.clients.confidential;
    const client: oauth.Client = { client_id: registered.client_id };
    const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);
    const pending = await codeRequest(client.client_id, registered.redirect_uri, {
      scope: "openid email offline_access",
      prompt: "consent",
    });
    const callback = await op.login(authorizationUrl(as, pending.params));
    const params = oauth.validateAuthResponse(as, client, callback, pending.state);
    const { tokens } = await redeem(
      as,
      client,
      clientAuth,
      params,
      registered.redirect_uri,
      pending,
    );
    assert.equal(tokens.access_token.split(".").length, 1, "an opaque access token");
    assert.ok(tokens.refresh_token);
    return { op, as, client, clientAuth, tokens };
  } catch (err) {
    await op.close();
    throw err;
  }
}

async function introspect(
  { as, client, clientAuth }: Pick<Setup, "as" | "client" | "clientAuth">,
  token: string,
  options: oauth.IntrospectionRequestOptions = {},
): Promise<oauth.IntrospectionResponse> {
  return await oauth.processIntrospectionResponse(
    as,
    client,
    await oauth.introspectionRequest(as, client, clientAuth, token, { ...http, ...options }),
    http,
  );
}

const jwtIntrospector = {
  client: {
    client_id: JWT_INTROSPECTOR.client_id,
    introspection_signed_response_alg: JWT_INTROSPECTOR.introspection_signed_response_alg,
  } satisfies oauth.Client,
  clientAuth: oauth.ClientSecretBasic(JWT_INTROSPECTOR.client_secret),
};

Deno.test("processIntrospectionResponse() reads the provider's JSON answer for an access token and a refresh token", async () => {
  const ctx = await setup();
  await using _ = ctx.op;
  const now = Math.floor(Date.now() / 1000);

  const access = await introspect(ctx, ctx.tokens.access_token);
  assert.equal(access.active, true);
  assert.equal(access.client_id, ctx.client.client_id);
  assert.equal(access.sub, "alice");
  assert.equal(access.iss, ctx.op.issuer);
  assert.equal(access.token_type, "Bearer");
  assert.deepEqual(access.scope?.split(" ").sort(), ["email", "offline_access", "openid"]);
  assert.ok(access.exp! > now && access.iat! <= now + 5);

  const refresh = await introspect(ctx, ctx.tokens.refresh_token!, {
    additionalParameters: { token_type_hint: "refresh_token" },
  });
  assert.equal(refresh.active, true);
  assert.equal(refresh.client_id, ctx.client.client_id);
  assert.equal(refresh.token_type, undefined);

  const unknown = await introspect(ctx, "not-a-token-this-provider-issued");
  assert.deepEqual(unknown, { active: false });
});

Deno.test("processIntrospectionResponse() verifies the provider's signed JWT answer (RFC 9701) with its JWKS", async () => {
  const ctx = await setup();
  await using _ = ctx.op;
  const response = await oauth.introspectionRequest(
    ctx.as,
    jwtIntrospector.client,
    jwtIntrospector.clientAuth,
    ctx.tokens.access_token,
    http,
  );
  assert.equal(oauth.getContentType(response), "application/token-introspection+jwt");
  const result = await oauth.processIntrospectionResponse(
    ctx.as,
    jwtIntrospector.client,
    response,
    http,
  );
  assert.equal(result.active, true);
  assert.equal(result.client_id, ctx.client.client_id);
  assert.equal(result.sub, "alice");
  // The JWT was remembered, so the application-level signature check accepts the response.
  await oauth.validateApplicationLevelSignature(ctx.as, response, http);

  const inactive = await oauth.processIntrospectionResponse(
    ctx.as,
    jwtIntrospector.client,
    await oauth.introspectionRequest(
      ctx.as,
      jwtIntrospector.client,
      jwtIntrospector.clientAuth,
      "not-a-token-this-provider-issued",
      http,
    ),
    http,
  );
  assert.equal(inactive.active, false);
});

Deno.test("processIntrospectionResponse() refuses a JSON answer for a client registered for signed introspection responses", async () => {
  const ctx = await setup();
  await using _ = ctx.op;
  // requestJwtResponse: false sends Accept: application/json, and the provider obliges.
  const response = await oauth.introspectionRequest(
    ctx.as,
    jwtIntrospector.client,
    jwtIntrospector.clientAuth,
    ctx.tokens.access_token,
    { ...http, requestJwtResponse: false },
  );
  assert.equal(oauth.getContentType(response), "application/json");
  await assertOAuthError(
    oauth.processIntrospectionResponse(ctx.as, jwtIntrospector.client, response, http),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { contentType: "application/json", expected: "application/token-introspection+jwt" },
  );
});

Deno.test("revocationRequest() revokes an access token: it then introspects as inactive and userinfo refuses it", async () => {
  const ctx = await setup();
  await using _ = ctx.op;
  const { as, client, clientAuth, tokens } = ctx;
  assert.ok(as.revocation_endpoint);

  const revoked = await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, clientAuth, tokens.access_token, {
      ...http,
      additionalParameters: { token_type_hint: "access_token" },
    }),
  );
  assert.equal(revoked, undefined);
  assert.deepEqual(await introspect(ctx, tokens.access_token), { active: false });

  const err = await assertOAuthError(
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
  assert.equal(err.status, 401);
  assert.equal(err.cause[0]?.parameters.error, "invalid_token");

  // RFC 7009 §2.2: revoking an already revoked token still answers 200.
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, clientAuth, tokens.access_token, http),
  );
});

Deno.test("revocationRequest() revokes a refresh token: it then introspects as inactive and cannot be redeemed", async () => {
  const ctx = await setup();
  await using _ = ctx.op;
  const { as, client, clientAuth, tokens } = ctx;
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, clientAuth, tokens.refresh_token!, http),
  );
  assert.deepEqual(await introspect(ctx, tokens.refresh_token!), { active: false });
  const err = await assertOAuthError(
    oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, http),
    ),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.error, "invalid_grant");
});

Deno.test("introspection and revocation with a wrong client_secret_basic secret surface the provider's Basic invalid_client challenge", async () => {
  const ctx = await setup();
  await using _ = ctx.op;
  const { as, client, tokens } = ctx;
  const wrong = oauth.ClientSecretBasic("not-the-secret");
  // RFC 6749 §5.2: a client that used the Authorization header gets 401 with a Basic challenge,
  // which (as in oauth4webapi) is reported as a challenge before the error body.
  const isBasicInvalidClient = (challenges: unknown) => {
    const [challenge] = challenges as oauth.WWWAuthenticateChallenge[];
    assert.equal(challenge?.scheme, "basic");
    assert.equal(challenge?.parameters.error, "invalid_client");
  };

  const introspection = await assertOAuthError(
    oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, wrong, tokens.access_token, http),
    ),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
    isBasicInvalidClient,
  );
  assert.equal(introspection.status, 401);

  const revocation = await assertOAuthError(
    oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, wrong, tokens.access_token, http),
    ),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
    isBasicInvalidClient,
  );
  assert.equal(revocation.status, 401);

  // With client_secret_post there is no challenge: the error body is the answer.
  const post = await assertOAuthError(
    oauth.processRevocationResponse(
      await oauth.revocationRequest(
        as,
        client,
        oauth.ClientSecretPost("not-the-secret"),
        tokens.access_token,
        http,
      ),
    ),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(post.error, "invalid_client");
  assert.equal(post.status, 401);

  // None of these requests touched the token.
  assert.equal((await introspect(ctx, tokens.access_token)).active, true);
});

Deno.test("revocationRequest() from a client the token was not issued to answers 200 but leaves the token active", async () => {
  const ctx = await setup();
  await using _ = ctx.op;
  // RFC 7009 §2.1: the server checks the token was issued to the requesting client; this
  // provider's policy then ignores the request rather than reporting an error.
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(
      ctx.as,
      jwtIntrospector.client,
      jwtIntrospector.clientAuth,
      ctx.tokens.access_token,
      http,
    ),
  );
  assert.equal((await introspect(ctx, ctx.tokens.access_token)).active, true);
});
