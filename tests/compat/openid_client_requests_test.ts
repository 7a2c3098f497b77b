/**
 * openid-client v6 on oauth4webapi and on authlane (see `openid_client_test.ts`), continued: the
 * authorization-request features (PAR, JAR, JARM, the hybrid and implicit response types),
 * DPoP with the provider demanding nonces, the device flow, CIBA, encrypted responses, and
 * Microsoft Entra ID's issuer template.
 */
import assert from "node:assert/strict";
import {
  dpopRequiringNonces,
  type OidcProviderHarness,
  REDIRECT_URI,
  startProvider,
} from "../_oidc_provider.ts";
import {
  type Case,
  connect,
  defineCases,
  expectClientError,
  expectResponseBodyError,
  signIn,
} from "./_cases.ts";
import type { OpenIdClientModule } from "./_openid_client.ts";

const HYBRID_CLIENT = {
  // oidc-provider allows http: redirect URIs with the implicit grant to native clients only.
  application_type: "native",
  client_id: "hybrid-client",
  client_secret: "a-long-enough-secret-for-the-hybrid-client-0123456789",
  token_endpoint_auth_method: "client_secret_basic",
  redirect_uris: [REDIRECT_URI],
  response_types: ["code id_token"],
  grant_types: ["authorization_code", "implicit", "refresh_token"],
};

const IMPLICIT_CLIENT = {
  // oidc-provider allows http: redirect URIs with the implicit grant to native clients only.
  application_type: "native",
  client_id: "implicit-client",
  token_endpoint_auth_method: "none",
  redirect_uris: [REDIRECT_URI],
  response_types: ["id_token"],
  grant_types: ["implicit"],
};

/** Sets a short polling interval on device and backchannel authorization responses. */
function shortInterval(body: unknown): void {
  if (typeof body === "object" && body !== null) Object.assign(body, { interval: 0.05 });
}

/** oidc-provider with CIBA on, polled every 50 ms. */
const CIBA_PROVIDER = {
  features: {
    ciba: {
      enabled: true,
      triggerAuthenticationDevice: (ctx: { body: unknown }) => shortInterval(ctx.body),
    },
  },
};

/**
 * A device authorization (RFC 8628) for `scope` as the confidential client (client_secret_basic)
 * of `op` (started with the device flow on), polled every 50 ms.
 */
async function deviceAuthorization(c: OpenIdClientModule, op: OidcProviderHarness, scope: string) {
  op.provider.on("device_authorization.success", (_ctx, body) => shortInterval(body));
  const { config } = await connect(c, op, op.clients.confidential, {
    auth: c.ClientSecretBasic(),
  });
  return { config, device: await c.initiateDeviceAuthorization(config, { scope }) };
}

/** A backchannel authentication (CIBA) of alice for `scope`, as the same client, at `op`. */
async function backchannelAuthentication(
  c: OpenIdClientModule,
  op: OidcProviderHarness,
  scope: string,
) {
  const { config } = await connect(c, op, op.clients.confidential, {
    auth: c.ClientSecretBasic(),
  });
  const request = { scope, login_hint: "alice" };
  return { config, started: await c.initiateBackchannelAuthentication(config, request) };
}

/**
 * The public client signed in with a DPoP key at `op` (started with `dpopRequiringNonces()`): the
 * configuration, its request log, the DPoP handle and the DPoP-bound tokens.
 */
async function dpopSignIn(c: OpenIdClientModule, op: OidcProviderHarness) {
  const { config, log } = await connect(c, op, op.clients.public, { auth: c.None() });
  const DPoP = c.getDPoPHandle(config, await c.randomDPoPKeyPair());
  const { tokens } = await signIn(c, config, op, { grant: { DPoP } });
  return { config, log, DPoP, tokens };
}

/** Microsoft Entra ID's multi-tenant metadata issuer, and the tenants of the tests. */
const ENTRA_ORIGIN = "https://login.microsoftonline.com";
const ENTRA_TEMPLATE = `${ENTRA_ORIGIN}/{tenantid}/v2.0`;
const TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";
const OTHER_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/**
 * A provider that plays Entra ID's tenant `TENANT` behind the multi-tenant `common` endpoint:
 * its tokens carry `iss` `https://login.microsoftonline.com/TENANT/v2.0` and a `tid` claim (the
 * account's, `tid` in `accounts`), and openid-client discovers it at
 * `https://login.microsoftonline.com/common/v2.0`, whose metadata names the `{tenantid}`
 * template as issuer. A `[customFetch]` sends those requests to the loopback provider.
 */
async function entra(c: Parameters<Case["run"]>[0], tid: string) {
  const op = await startProvider({
    issuerIdentifier: `${ENTRA_ORIGIN}/${TENANT}/v2.0`,
    accounts: { alice: { tid } },
    configuration: {
      claims: { openid: ["sub", "tid"], email: ["email", "email_verified"] },
      conformIdTokenClaims: false,
    },
  });
  try {
    const connection = await connect(c, op, op.clients.public, {
      auth: c.None(),
      server: new URL(`${ENTRA_ORIGIN}/common/v2.0`),
      rewriteUrl: (url) =>
        url.origin === ENTRA_ORIGIN
          ? new URL(`${url.pathname.replace(/^\/common\/v2\.0/, "")}${url.search}`, op.origin)
          : url,
      // Entra ID does not send RFC 9207's iss authorization response parameter.
      rewriteMetadata: (metadata) => ({
        ...metadata,
        issuer: ENTRA_TEMPLATE,
        authorization_response_iss_parameter_supported: false,
      }),
    });
    const withoutIss = (url: URL) => {
      url.searchParams.delete("iss");
      return url;
    };
    return { op, withoutIss, ...connection };
  } catch (err) {
    await op.close();
    throw err;
  }
}

/** A client that gets encrypted ID tokens and signed-then-encrypted userinfo (ECDH-ES, P-256). */
async function encryptingClient() {
  const pair = await crypto.subtle.generateKey(
    { name: "ECDH", namedCurve: "P-256" },
    true,
    ["deriveBits"],
  ) as CryptoKeyPair;
  const kid = "enc-1";
  const { key_ops: _, ext: __, ...publicJwk } = await crypto.subtle.exportKey(
    "jwk",
    pair.publicKey,
  );
  const metadata = {
    client_id: "encrypting-client",
    client_secret: "a-long-enough-secret-for-the-encrypting-client-0123456789",
    token_endpoint_auth_method: "client_secret_basic",
    redirect_uris: [REDIRECT_URI],
    response_types: ["code"],
    grant_types: ["authorization_code"],
    id_token_encrypted_response_alg: "ECDH-ES",
    id_token_encrypted_response_enc: "A128GCM",
    userinfo_signed_response_alg: "ES256",
    userinfo_encrypted_response_alg: "ECDH-ES",
    userinfo_encrypted_response_enc: "A128GCM",
    jwks: { keys: [{ ...publicJwk, kid, use: "enc", alg: "ECDH-ES" }] },
  };
  return { metadata, key: { key: pair.privateKey, kid, alg: "ECDH-ES" } };
}

const CASES: Case[] = [
  {
    name: "buildAuthorizationUrlWithPAR() pushes the request and the code flow completes",
    async run(c) {
      await using op = await startProvider({
        features: { pushedAuthorizationRequests: { enabled: true } },
      });
      const { config, log } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic(),
      });
      let url: URL | undefined;
      const { tokens } = await signIn(c, config, op, {
        build: async (
          parameters,
        ) => (url = await c.buildAuthorizationUrlWithPAR(config, parameters)),
      });
      assert.deepEqual([...url!.searchParams.keys()].sort(), ["client_id", "request_uri"]);
      assert.deepEqual(log.to("/request").map((r) => r.status), [201]);
      assert.equal(tokens.claims()?.sub, "alice");
    },
  },
  {
    name: "buildAuthorizationUrlWithJAR() signs a request object the provider accepts",
    async run(c) {
      await using op = await startProvider({ features: { requestObjects: { enabled: true } } });
      const key = { key: op.clientKey.privateKey, kid: op.clientKey.kid };
      const { config } = await connect(c, op, op.clients.privateKeyJwt, {
        auth: c.PrivateKeyJwt(key),
      });
      let url: URL | undefined;
      const { tokens } = await signIn(c, config, op, {
        build: async (
          parameters,
        ) => (url = await c.buildAuthorizationUrlWithJAR(config, parameters, key)),
      });
      assert.deepEqual([...url!.searchParams.keys()].sort(), ["client_id", "request"]);
      // The email scope was only inside the signed request object.
      assert.deepEqual(tokens.scope?.split(" ").sort(), ["email", "openid"]);
    },
  },
  {
    name: "buildAuthorizationUrlWithJAR() output pushed with buildAuthorizationUrlWithPAR()",
    async run(c) {
      await using op = await startProvider({
        features: {
          requestObjects: { enabled: true },
          pushedAuthorizationRequests: { enabled: true },
        },
      });
      const key = { key: op.clientKey.privateKey, kid: op.clientKey.kid };
      const { config, log } = await connect(c, op, op.clients.privateKeyJwt, {
        auth: c.PrivateKeyJwt(key),
      });
      const { tokens } = await signIn(c, config, op, {
        build: async (parameters) => {
          const signed = await c.buildAuthorizationUrlWithJAR(config, parameters, key);
          return await c.buildAuthorizationUrlWithPAR(config, signed.searchParams);
        },
      });
      assert.equal(log.to("/request").length, 1);
      assert.equal(tokens.claims()?.sub, "alice");
    },
  },
  {
    name: "useJwtResponseMode() verifies a JARM response before the code grant",
    async run(c) {
      await using op = await startProvider({ features: { jwtResponseModes: { enabled: true } } });
      const { config, log } = await connect(c, op, op.clients.public, { auth: c.None() });
      c.useJwtResponseMode(config);
      let callback: URL | undefined;
      const { tokens } = await signIn(c, config, op, {
        callback: (url) => (callback = url),
      });
      assert.deepEqual([...callback!.searchParams.keys()], ["response"]);
      assert.equal(log.to("/jwks").length, 1, "the JARM signature was verified");
      assert.equal(tokens.claims()?.sub, "alice");
    },
  },
  {
    name: "useJwtResponseMode() refuses a JARM response whose signature was tampered with",
    async run(c) {
      await using op = await startProvider({ features: { jwtResponseModes: { enabled: true } } });
      const { config } = await connect(c, op, op.clients.public, { auth: c.None() });
      c.useJwtResponseMode(config);
      await expectClientError(
        c,
        signIn(c, config, op, {
          callback: (url) => {
            const [header, payload, signature] = url.searchParams.get("response")!.split(".");
            const flipped = `${signature!.startsWith("A") ? "B" : "A"}${signature!.slice(1)}`;
            url.searchParams.set("response", `${header}.${payload}.${flipped}`);
            return url;
          },
        }),
        "OAUTH_INVALID_RESPONSE",
      );
    },
  },
  {
    name: "useCodeIdTokenResponseType() validates the hybrid response's ID token and c_hash",
    async run(c) {
      await using op = await startProvider({ clients: [HYBRID_CLIENT] });
      const { config, log } = await connect(c, op, HYBRID_CLIENT, { auth: c.ClientSecretBasic() });
      c.useCodeIdTokenResponseType(config);
      let callback: URL | undefined;
      const { tokens, nonce } = await signIn(c, config, op, {
        callback: (url) => (callback = url),
      });
      assert.match(callback!.hash, /id_token=/);
      assert.ok(log.to("/jwks").length >= 1, "the front-channel ID token's signature was verified");
      assert.equal(tokens.claims()?.nonce, nonce);
    },
  },
  {
    name:
      "enableDetachedSignatureResponseChecks() requires the s_hash that a non-FAPI provider leaves out",
    async run(c) {
      // FAPI 1.0 Advanced §5.2.2.1 (5): the detached signature covers state through s_hash;
      // oidc-provider adds it only under its FAPI profile.
      await using op = await startProvider({ clients: [HYBRID_CLIENT] });
      const { config } = await connect(c, op, HYBRID_CLIENT, { auth: c.ClientSecretBasic() });
      c.useCodeIdTokenResponseType(config);
      c.enableDetachedSignatureResponseChecks(config);
      const err = await expectClientError(c, signIn(c, config, op), "OAUTH_INVALID_RESPONSE");
      assert.match((err.cause as Error).message, /"s_hash"/);
    },
  },
  {
    name:
      "useCodeIdTokenResponseType() refuses a hybrid response whose nonce is not the expected one",
    async run(c) {
      await using op = await startProvider({ clients: [HYBRID_CLIENT] });
      const { config } = await connect(c, op, HYBRID_CLIENT, { auth: c.ClientSecretBasic() });
      c.useCodeIdTokenResponseType(config);
      await expectClientError(
        c,
        signIn(c, config, op, { expectedNonce: "another-nonce" }),
        "OAUTH_JWT_CLAIM_COMPARISON_FAILED",
      );
    },
  },
  {
    name: "implicitAuthentication() validates an id_token response and its signature",
    async run(c) {
      await using op = await startProvider({ clients: [IMPLICIT_CLIENT] });
      const { config, log } = await connect(c, op, IMPLICIT_CLIENT, { auth: c.None() });
      c.useIdTokenResponseType(config);
      const state = c.randomState();
      const nonce = c.randomNonce();
      const callback = await op.login(
        c.buildAuthorizationUrl(config, {
          redirect_uri: REDIRECT_URI,
          scope: "openid",
          state,
          nonce,
        }),
      );
      const claims = await c.implicitAuthentication(config, callback, nonce, {
        expectedState: state,
      });
      assert.equal(claims.sub, "alice");
      assert.equal(log.to("/jwks").length, 1);
      await expectClientError(
        c,
        c.implicitAuthentication(config, callback, "another-nonce", { expectedState: state }),
        "OAUTH_JWT_CLAIM_COMPARISON_FAILED",
      );
    },
  },
  {
    name:
      "enableDecryptingResponses() decrypts an encrypted ID token and an encrypted signed userinfo",
    async run(c) {
      const { metadata, key } = await encryptingClient();
      await using op = await startProvider({
        features: { encryption: { enabled: true }, jwtUserinfo: { enabled: true } },
        clients: [metadata],
      });
      const { config, log } = await connect(c, op, metadata, { auth: c.ClientSecretBasic() });
      c.enableDecryptingResponses(config, undefined, key);
      const { tokens, nonce } = await signIn(c, config, op);
      assert.equal(tokens.id_token!.split(".").length, 5, "the ID token arrived encrypted");
      assert.equal(tokens.claims()?.nonce, nonce);
      const userinfo = await c.fetchUserInfo(config, tokens.access_token, "alice");
      assert.equal(userinfo.email, "alice@example.com");
      assert.equal(log.to("/me").at(-1)?.status, 200);
    },
  },
  {
    name: "DPoP: authorizationCodeGrant() retries once with the nonce the provider demands",
    async run(c) {
      await using op = await startProvider({ features: dpopRequiringNonces() });
      const { log, tokens } = await dpopSignIn(c, op);
      assert.deepEqual(log.to("/token").map((r) => r.status), [400, 200]);
      assert.equal(tokens.token_type, "dpop");
      assert.equal(tokens.claims()?.sub, "alice");
    },
  },
  {
    name:
      "DPoP: fetchUserInfo(), refreshTokenGrant() and fetchProtectedResource() with a bound token",
    async run(c) {
      await using op = await startProvider({ features: dpopRequiringNonces() });
      const { config, log, DPoP, tokens } = await dpopSignIn(c, op);
      const userinfo = await c.fetchUserInfo(config, tokens.access_token, "alice", { DPoP });
      assert.equal(userinfo.sub, "alice");
      const refreshed = await c.refreshTokenGrant(config, tokens.refresh_token!, undefined, {
        DPoP,
      });
      assert.equal(refreshed.token_type, "dpop");
      const resource = await c.fetchProtectedResource(
        config,
        refreshed.access_token,
        new URL(config.serverMetadata().userinfo_endpoint!),
        "GET",
        undefined,
        undefined,
        { DPoP },
      );
      assert.equal((await resource.json()).sub, "alice");
      assert.ok(log.to("/me").every((r) => r.status === 200), "the nonce was reused");
    },
  },
  {
    name: "DPoP: a bound access token is refused without its proof",
    async run(c) {
      await using op = await startProvider({ features: dpopRequiringNonces() });
      const { config, tokens } = await dpopSignIn(c, op);
      await assert.rejects(c.fetchUserInfo(config, tokens.access_token, "alice"), (err) => {
        assert.ok(err instanceof c.WWWAuthenticateChallengeError, String(err));
        assert.equal(err.status, 401);
        return true;
      });
    },
  },
  {
    name: "DPoP: clientCredentialsGrant() and buildAuthorizationUrlWithPAR() retry with the nonce",
    async run(c) {
      await using op = await startProvider({
        features: { ...dpopRequiringNonces(), pushedAuthorizationRequests: { enabled: true } },
      });
      const { config, log } = await connect(c, op, op.clients.confidential, {
        auth: c.ClientSecretBasic(),
      });
      const DPoP = c.getDPoPHandle(config, await c.randomDPoPKeyPair());
      const service = await c.clientCredentialsGrant(config, { resource: op.resource }, { DPoP });
      assert.equal(service.token_type, "dpop");
      assert.deepEqual(log.to("/token").map((r) => r.status), [400, 200]);
      const other = c.getDPoPHandle(config, await c.randomDPoPKeyPair());
      const { tokens } = await signIn(c, config, op, {
        build: (parameters) => c.buildAuthorizationUrlWithPAR(config, parameters, { DPoP: other }),
        grant: { DPoP: other },
      });
      assert.equal(tokens.token_type, "dpop");
    },
  },
  {
    name: "pollDeviceAuthorizationGrant() gets tokens once the user approves",
    async run(c) {
      await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
      const { config, device } = await deviceAuthorization(c, op, "openid email");
      assert.ok(device.user_code && device.verification_uri);
      await op.approveDeviceCode(device.user_code);
      const tokens = await c.pollDeviceAuthorizationGrant(config, device);
      assert.equal(tokens.claims()?.sub, "alice");
      assert.ok(tokens.access_token);
    },
  },
  {
    name: "pollDeviceAuthorizationGrant() surfaces a refusal as access_denied",
    async run(c) {
      await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
      const { config, device } = await deviceAuthorization(c, op, "openid");
      await op.approveDeviceCode(device.user_code, { consent: false });
      await expectResponseBodyError(
        c,
        c.pollDeviceAuthorizationGrant(config, device),
        "access_denied",
      );
    },
  },
  {
    name: "pollBackchannelAuthenticationGrant() gets tokens once the user authenticates (CIBA)",
    async run(c) {
      await using op = await startProvider(CIBA_PROVIDER);
      const { config, started } = await backchannelAuthentication(c, op, "openid email");
      await op.completeBackchannel(started.auth_req_id);
      const tokens = await c.pollBackchannelAuthenticationGrant(config, started);
      assert.equal(tokens.claims()?.sub, "alice");
    },
  },
  {
    name: "pollBackchannelAuthenticationGrant() surfaces a refusal as access_denied (CIBA)",
    async run(c) {
      await using op = await startProvider(CIBA_PROVIDER);
      const { config, started } = await backchannelAuthentication(c, op, "openid");
      await op.completeBackchannel(started.auth_req_id, { deny: true });
      await expectResponseBodyError(
        c,
        c.pollBackchannelAuthenticationGrant(config, started),
        "access_denied",
      );
    },
  },
  {
    name:
      "Entra ID: an ID token from the user's tenant is accepted behind the {tenantid} issuer template",
    async run(c) {
      const { op, config, withoutIss } = await entra(c, TENANT);
      await using _ = op;
      assert.equal(config.serverMetadata().issuer, ENTRA_TEMPLATE);
      const { tokens } = await signIn(c, config, op, { callback: withoutIss });
      const claims = tokens.claims()!;
      assert.equal(claims.iss, `${ENTRA_ORIGIN}/${TENANT}/v2.0`);
      assert.equal(claims.tid, TENANT);
      const userinfo = await c.fetchUserInfo(config, tokens.access_token, "alice");
      assert.equal(userinfo.sub, "alice");
    },
  },
  {
    name: "Entra ID: an ID token whose iss is not its tid's tenant is refused",
    async run(c) {
      const { op, config, withoutIss } = await entra(c, OTHER_TENANT);
      await using _ = op;
      const err = await expectClientError(
        c,
        signIn(c, config, op, { callback: withoutIss }),
        "OAUTH_JWT_CLAIM_COMPARISON_FAILED",
      );
      const cause = (err.cause as { cause?: { claim?: string; expected?: string } }).cause;
      assert.equal(cause?.claim, "iss");
      assert.equal(cause?.expected, `${ENTRA_ORIGIN}/${OTHER_TENANT}/v2.0`);
    },
  },
];

defineCases(CASES);
