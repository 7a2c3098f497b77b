/**
 * openid-client v6, run through its public API end to end against the embedded oidc-provider,
 * twice: once on the real oauth4webapi and once with its `oauth4webapi` import pointed at
 * authlane (see `_openid_client.ts`). Every case has the same body and the same expectations on
 * both, so together they show that authlane behaves as oauth4webapi does for the most used
 * library built on its API: discovery, the grants, userinfo, introspection, revocation and
 * registration. The authorization-request features (PAR, JAR, JARM, hybrid, DPoP, device flow,
 * CIBA, the Entra ID issuer template) are in `openid_client_requests_test.ts`.
 */
import assert from "node:assert/strict";
import { type OidcProviderHarness, REDIRECT_URI, startProvider } from "../_oidc_provider.ts";
import {
  type Case,
  connect,
  type ConnectOptions,
  defineCases,
  expectClientError,
  expectResponseBodyError,
  register,
  type RegisteredClient,
  signIn,
  type SignInOptions,
} from "./_cases.ts";
import { foreignResponse, type OpenIdClientModule } from "./_openid_client.ts";

const JWT_USERINFO_CLIENT = {
  client_id: "jwt-userinfo-client",
  client_secret: "a-long-enough-secret-for-the-jwt-userinfo-client",
  token_endpoint_auth_method: "client_secret_basic",
  userinfo_signed_response_alg: "ES256",
  redirect_uris: [REDIRECT_URI],
  response_types: ["code"],
  grant_types: ["authorization_code", "refresh_token"],
};

const JWT_INTROSPECTION_CLIENT = {
  client_id: "jwt-introspection-client",
  client_secret: "a-long-enough-secret-for-the-jwt-introspection-client",
  token_endpoint_auth_method: "client_secret_basic",
  introspection_signed_response_alg: "ES256",
  grant_types: ["client_credentials"],
  response_types: [],
  redirect_uris: [],
};

const POST_CLIENT = {
  client_id: "post-client",
  client_secret: "a-long-enough-secret-for-the-client-secret-post-client",
  token_endpoint_auth_method: "client_secret_post",
  grant_types: ["client_credentials"],
  response_types: [],
  redirect_uris: [],
};

const SECRET_JWT_CLIENT = {
  client_id: "secret-jwt-client",
  client_secret: "a-long-enough-secret-for-the-client-secret-jwt-client-0123456789",
  token_endpoint_auth_method: "client_secret_jwt",
  token_endpoint_auth_signing_alg: "HS256",
  grant_types: ["client_credentials"],
  response_types: [],
  redirect_uris: [],
};

/** RFC 6749 Appendix B: a secret with characters that client_secret_basic must form-encode. */
const SPECIAL_SECRET_CLIENT = {
  client_id: "special:client id",
  client_secret: "s3cr3t with spaces, +plus+, %percent%, :colons: & slashes/ = 0123456789",
  token_endpoint_auth_method: "client_secret_basic",
  grant_types: ["client_credentials"],
  response_types: [],
  redirect_uris: [],
};

const INITIAL_ACCESS_TOKEN = "an-initial-access-token-for-registration";

/** oidc-provider with signed userinfo responses for {@linkcode JWT_USERINFO_CLIENT}. */
const JWT_USERINFO_PROVIDER = {
  features: { jwtUserinfo: { enabled: true } },
  clients: [JWT_USERINFO_CLIENT],
};

/** oidc-provider with signed introspection responses for {@linkcode JWT_INTROSPECTION_CLIENT}. */
const JWT_INTROSPECTION_PROVIDER = {
  features: { jwtIntrospection: { enabled: true } },
  clients: [JWT_INTROSPECTION_CLIENT],
};

/**
 * Signs alice in as the confidential client, then connects as {@linkcode JWT_INTROSPECTION_CLIENT}
 * to introspect her tokens.
 */
async function signInForJwtIntrospection(c: OpenIdClientModule, op: OidcProviderHarness) {
  const user = await connect(c, op, op.clients.confidential, { auth: c.ClientSecretBasic() });
  const { tokens } = await signIn(c, user.config, op);
  return {
    tokens,
    ...await connect(c, op, JWT_INTROSPECTION_CLIENT, { auth: c.ClientSecretBasic() }),
  };
}

/** A case: clientCredentialsGrant() as `client`, registered at the provider, gets a Bearer token. */
function clientCredentials(
  name: string,
  client: RegisteredClient,
  auth?: (c: OpenIdClientModule) => ConnectOptions["auth"],
): Case {
  return {
    name,
    async run(c) {
      await using op = await startProvider({ clients: [client] });
      const { config } = await connect(c, op, client, { auth: auth?.(c) });
      const tokens = await c.clientCredentialsGrant(config);
      assert.equal(tokens.token_type, "bearer");
    },
  };
}

/**
 * A case: the public client's code flow, with `options` bent, is refused as `expect` asserts on
 * the sign-in's promise.
 */
function refusedSignIn(
  name: string,
  options: (c: OpenIdClientModule) => SignInOptions,
  expect: (c: OpenIdClientModule, signingIn: Promise<unknown>) => Promise<unknown>,
): Case {
  return {
    name,
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.public, { auth: c.None() });
      await expect(c, signIn(c, config, op, options(c)));
    },
  };
}

const CASES: Case[] = [
  {
    name: "discovery() reads the provider's metadata from its issuer URL",
    async run(c) {
      await using op = await startProvider();
      const { config, log } = await connect(c, op, op.clients.confidential);
      const metadata = config.serverMetadata();
      assert.equal(metadata.issuer, op.issuer);
      assert.equal(metadata.token_endpoint, `${op.issuer}/token`);
      assert.equal(metadata.supportsPKCE(), true);
      assert.deepEqual(log.requests.map((r) => r.url.pathname), [
        "/.well-known/openid-configuration",
      ]);
    },
  },
  {
    name: "discovery() reads the metadata from a well-known URL given as is",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.confidential, {
        server: new URL(op.discoveryUrl),
      });
      assert.equal(config.serverMetadata().issuer, op.issuer);
    },
  },
  {
    name: "discovery() refuses metadata whose issuer is not the URL it was asked for",
    async run(c) {
      await using op = await startProvider();
      const err = await expectClientError(
        c,
        connect(c, op, op.clients.confidential, {
          rewriteMetadata: (metadata) => ({ ...metadata, issuer: `${op.issuer}/other` }),
        }),
        "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED",
      );
      assert.equal((err.cause as { attribute?: string }).attribute, "issuer");
    },
  },
  {
    name:
      "clientCredentialsGrant() with client_secret_basic gets a JWT access token for a resource",
    async run(c) {
      await using op = await startProvider();
      const { config, log } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic(op.clients.confidential.client_secret),
      });
      const tokens = await c.clientCredentialsGrant(config, {
        resource: op.resource,
        scope: "api:read",
      });
      assert.equal(tokens.token_type, "bearer");
      assert.equal(tokens.access_token.split(".").length, 3);
      assert.equal(tokens.scope, "api:read");
      assert.ok(tokens.expiresIn()! > 0);
      assert.equal(log.to("/token").length, 1);
    },
  },
  clientCredentials(
    "clientCredentialsGrant() with client_secret_post (openid-client's default for a secret)",
    POST_CLIENT,
  ),
  clientCredentials(
    "clientCredentialsGrant() with client_secret_jwt",
    SECRET_JWT_CLIENT,
    (c) => c.ClientSecretJwt(),
  ),
  {
    name: "clientCredentialsGrant() with private_key_jwt",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.privateKeyJwt, {
        auth: c.PrivateKeyJwt({ key: op.clientKey.privateKey, kid: op.clientKey.kid }),
      });
      const tokens = await c.clientCredentialsGrant(config, { resource: op.resource });
      assert.equal(tokens.token_type, "bearer");
      assert.equal(tokens.access_token.split(".").length, 3);
    },
  },
  {
    name: "clientCredentialsGrant() surfaces a wrong client secret as a Basic challenge",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic("not-the-secret"),
      });
      await assert.rejects(c.clientCredentialsGrant(config), (err) => {
        assert.ok(err instanceof c.WWWAuthenticateChallengeError, String(err));
        assert.equal(err.code, "OAUTH_WWW_AUTHENTICATE_CHALLENGE");
        assert.equal(err.status, 401);
        assert.equal(err.cause[0]?.scheme, "basic");
        return true;
      });
    },
  },
  {
    name: "clientCredentialsGrant() surfaces a bare 403 without a JSON body",
    async run(c) {
      // A real provider answers a wrong client secret this way.
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic(),
        rewriteResponse: async (url, response) => {
          if (!url.pathname.endsWith("/token")) return response;
          await response.body?.cancel();
          return new Response(null, { status: 403 });
        },
      });
      await expectClientError(c, c.clientCredentialsGrant(config), "OAUTH_RESPONSE_IS_NOT_JSON");
    },
  },
  {
    name: "clientCredentialsGrant() accepts a 200 token response that also carries a challenge",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic(),
        rewriteResponse: (url, response) => {
          if (!url.pathname.endsWith("/token")) return response;
          const headers = new Headers(response.headers);
          headers.set("www-authenticate", 'Bearer realm="example"');
          return new Response(response.body, { status: response.status, headers });
        },
      });
      const tokens = await c.clientCredentialsGrant(config);
      assert.equal(tokens.token_type, "bearer");
    },
  },
  clientCredentials(
    "clientCredentialsGrant() with client_secret_basic and a secret that needs form-encoding",
    SPECIAL_SECRET_CLIENT,
    (c) => c.ClientSecretBasic(),
  ),
  {
    name:
      "a [customFetch] returning another realm's Response objects: code flow, userinfo, introspection",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic(),
        rewriteResponse: (_url, response) => foreignResponse(response),
      });
      const { tokens } = await signIn(c, config, op);
      assert.equal(tokens.claims()?.sub, "alice");
      assert.equal((await c.fetchUserInfo(config, tokens.access_token, "alice")).sub, "alice");
      assert.equal((await c.tokenIntrospection(config, tokens.access_token)).active, true);
    },
  },
  {
    name: "genericGrantRequest() runs a grant by name",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic(op.clients.confidential.client_secret),
      });
      const tokens = await c.genericGrantRequest(config, "client_credentials", {
        resource: op.resource,
      });
      assert.equal(tokens.access_token.split(".").length, 3);
    },
  },
  {
    name: "authorizationCodeGrant() completes the code flow with PKCE for a public client",
    async run(c) {
      await using op = await startProvider();
      const { config, log } = await connect(c, op, op.clients.public, { auth: c.None() });
      const { tokens, nonce } = await signIn(c, config, op);
      const claims = tokens.claims()!;
      assert.equal(claims.sub, "alice");
      assert.equal(claims.nonce, nonce);
      assert.equal(claims.aud, op.clients.public.client_id);
      assert.equal(tokens.token_type, "bearer");
      assert.ok(tokens.refresh_token);
      assert.equal(log.to("/token").length, 1);
      assert.equal(log.to("/jwks").length, 0, "the ID token is trusted on the TLS channel");
    },
  },
  {
    name: "authorizationCodeGrant() completes the code flow for a confidential client",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic(op.clients.confidential.client_secret),
      });
      const { tokens } = await signIn(c, config, op);
      assert.equal(tokens.claims()!.sub, "alice");
    },
  },
  {
    name: "authorizationCodeGrant() with private_key_jwt",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.privateKeyJwt, {
        auth: c.PrivateKeyJwt({ key: op.clientKey.privateKey, kid: op.clientKey.kid }),
      });
      const { tokens } = await signIn(c, config, op);
      assert.equal(tokens.claims()!.aud, op.clients.privateKeyJwt.client_id);
    },
  },
  refusedSignIn(
    "authorizationCodeGrant() refuses a callback whose state is not the expected one",
    () => ({ expectedState: "another-state" }),
    (c, signingIn) => expectClientError(c, signingIn, "OAUTH_INVALID_RESPONSE"),
  ),
  refusedSignIn(
    "authorizationCodeGrant() refuses an ID token whose nonce is not the expected one",
    () => ({ expectedNonce: "another-nonce" }),
    (c, signingIn) => expectClientError(c, signingIn, "OAUTH_JWT_CLAIM_COMPARISON_FAILED"),
  ),
  refusedSignIn(
    "authorizationCodeGrant() surfaces a wrong PKCE verifier as invalid_grant",
    (c) => ({ pkceCodeVerifier: c.randomPKCECodeVerifier() }),
    (c, signingIn) => expectResponseBodyError(c, signingIn, "invalid_grant"),
  ),
  refusedSignIn(
    "authorizationCodeGrant() surfaces a refused consent as AuthorizationResponseError",
    () => ({ consent: false }),
    (c, signingIn) =>
      assert.rejects(signingIn, (err) => {
        assert.ok(err instanceof c.AuthorizationResponseError, String(err));
        assert.equal(err.error, "access_denied");
        assert.equal(err.code, "OAUTH_AUTHORIZATION_RESPONSE_ERROR");
        return true;
      }),
  ),
  {
    name: "refreshTokenGrant() gets new tokens and a validated ID token",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.public, { auth: c.None() });
      const { tokens } = await signIn(c, config, op);
      const refreshed = await c.refreshTokenGrant(config, tokens.refresh_token!);
      assert.notEqual(refreshed.access_token, tokens.access_token);
      assert.equal(refreshed.claims()?.sub, "alice");
      await expectResponseBodyError(
        c,
        c.refreshTokenGrant(config, "not-a-refresh-token"),
        "invalid_grant",
      );
    },
  },
  {
    name: "fetchUserInfo() returns the JSON claims for the ID token's subject",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.public, { auth: c.None() });
      const { tokens } = await signIn(c, config, op);
      const userinfo = await c.fetchUserInfo(config, tokens.access_token, "alice");
      assert.equal(userinfo.sub, "alice");
      assert.equal(userinfo.email, "alice@example.com");
      await expectClientError(
        c,
        c.fetchUserInfo(config, tokens.access_token, "mallory"),
        "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED",
      );
    },
  },
  {
    name: "fetchUserInfo() surfaces an invalid access token as a WWW-Authenticate challenge",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.public, { auth: c.None() });
      await assert.rejects(c.fetchUserInfo(config, "not-an-access-token", "alice"), (err) => {
        assert.ok(err instanceof c.WWWAuthenticateChallengeError, String(err));
        assert.equal(err.status, 401);
        assert.equal(err.cause[0]?.parameters.error, "invalid_token");
        return true;
      });
    },
  },
  {
    name: "fetchUserInfo() verifies a signed (JWT) response",
    async run(c) {
      await using op = await startProvider(JWT_USERINFO_PROVIDER);
      const { config, log } = await connect(c, op, JWT_USERINFO_CLIENT, {
        auth: c.ClientSecretBasic(),
      });
      const { tokens } = await signIn(c, config, op);
      const userinfo = await c.fetchUserInfo(config, tokens.access_token, "alice");
      assert.equal(userinfo.sub, "alice");
      assert.equal(userinfo.iss, op.issuer);
      assert.equal(userinfo.aud, JWT_USERINFO_CLIENT.client_id);
      assert.equal(log.to("/me").at(-1)?.status, 200);
    },
  },
  {
    name:
      "fetchUserInfo() and authorizationCodeGrant() with non-repudiation checks verify signatures against the JWKS",
    async run(c) {
      await using op = await startProvider(JWT_USERINFO_PROVIDER);
      const { config, log } = await connect(c, op, JWT_USERINFO_CLIENT, {
        auth: c.ClientSecretBasic(),
      });
      c.enableNonRepudiationChecks(config);
      const { tokens } = await signIn(c, config, op);
      const cache = c.getJwksCache(config);
      assert.ok(cache, "validateApplicationLevelSignature() filled openid-client's JWKS cache");
      assert.deepEqual(
        cache.jwks.keys.map((k) => k.kid).sort(),
        op.jwks.keys.map((k) => (k as { kid?: string }).kid).sort(),
      );
      const userinfo = await c.fetchUserInfo(config, tokens.access_token, "alice");
      assert.equal(userinfo.sub, "alice");
      assert.ok(log.to("/jwks").length >= 1);
      assert.ok(log.to("/jwks").every((r) => r.status === 200));
    },
  },
  {
    name: "fetchProtectedResource() sends the access token to a resource",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.public, { auth: c.None() });
      const { tokens } = await signIn(c, config, op);
      const response = await c.fetchProtectedResource(
        config,
        tokens.access_token,
        new URL(config.serverMetadata().userinfo_endpoint!),
        "GET",
      );
      assert.equal(response.status, 200);
      assert.equal((await response.json()).sub, "alice");
    },
  },
  {
    name: "tokenIntrospection() reads a JSON response",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic(),
      });
      const { tokens } = await signIn(c, config, op);
      const access = await c.tokenIntrospection(config, tokens.access_token);
      assert.equal(access.active, true);
      assert.equal(access.sub, "alice");
      assert.equal(access.client_id, op.clients.confidential.client_id);
      const refresh = await c.tokenIntrospection(config, tokens.refresh_token!, {
        token_type_hint: "refresh_token",
      });
      assert.equal(refresh.active, true);
      assert.equal((await c.tokenIntrospection(config, "unknown")).active, false);
    },
  },
  {
    name: "tokenIntrospection() reads a signed (JWT) response",
    async run(c) {
      await using op = await startProvider(JWT_INTROSPECTION_PROVIDER);
      const { tokens, config, log } = await signInForJwtIntrospection(c, op);
      const result = await c.tokenIntrospection(config, tokens.access_token);
      assert.equal(result.active, true);
      assert.equal(result.sub, "alice");
      assert.equal(log.to("/token/introspection").at(-1)?.status, 200);
    },
  },
  {
    name: "tokenIntrospection() with non-repudiation checks verifies the signed response",
    async run(c) {
      await using op = await startProvider(JWT_INTROSPECTION_PROVIDER);
      const { tokens, config } = await signInForJwtIntrospection(c, op);
      c.enableNonRepudiationChecks(config);
      const result = await c.tokenIntrospection(config, tokens.access_token);
      assert.equal(result.active, true);
      assert.ok(c.getJwksCache(config)?.uat);
    },
  },
  {
    name: "tokenRevocation() revokes a refresh token, which then introspects as inactive",
    async run(c) {
      await using op = await startProvider();
      const { config } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic(),
      });
      const { tokens } = await signIn(c, config, op);
      assert.equal((await c.tokenIntrospection(config, tokens.refresh_token!)).active, true);
      assert.equal(await c.tokenRevocation(config, tokens.refresh_token!), undefined);
      assert.equal((await c.tokenIntrospection(config, tokens.refresh_token!)).active, false);
      await expectResponseBodyError(
        c,
        c.refreshTokenGrant(config, tokens.refresh_token!),
        "invalid_grant",
      );
    },
  },
  {
    name: "dynamicClientRegistration() registers a client that then gets tokens",
    async run(c) {
      await using op = await startProvider({
        features: { registration: { enabled: true, initialAccessToken: INITIAL_ACCESS_TOKEN } },
      });
      const config = await register(c, op, {
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: "client_secret_basic",
      }, INITIAL_ACCESS_TOKEN);
      const metadata = config.clientMetadata();
      assert.ok(metadata.client_id);
      assert.ok(metadata.client_secret);
      const tokens = await c.clientCredentialsGrant(config, { resource: op.resource });
      assert.equal(tokens.token_type, "bearer");
    },
  },
  {
    name: "dynamicClientRegistration() surfaces a refused registration",
    async run(c) {
      await using op = await startProvider({
        features: { registration: { enabled: true, initialAccessToken: INITIAL_ACCESS_TOKEN } },
      });
      await assert.rejects(
        register(c, op, { redirect_uris: [REDIRECT_URI] }, "not-the-initial-access-token"),
        (err) => {
          assert.ok(
            err instanceof c.WWWAuthenticateChallengeError || err instanceof c.ResponseBodyError,
            String(err),
          );
          assert.equal(err.status, 401);
          return true;
        },
      );
    },
  },
];

defineCases(CASES);
