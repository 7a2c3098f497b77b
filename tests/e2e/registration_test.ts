/**
 * End to end against oidc-provider with dynamic client registration (RFC 7591, behind an initial
 * access token) and its management (RFC 7592, `features.registrationManagement`): a registered
 * client gets a client credentials token straight away; its configuration is read, updated (the
 * provider rotates the registration access token, so the old one stops working) and deleted
 * (after which the client can no longer authenticate). The provider's refusals (no initial access
 * token, invalid metadata) surface with the right class.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { type OidcProviderHarness, startProvider } from "../_oidc_provider.ts";
import { discover, http } from "./_code_flow.ts";

const INITIAL_ACCESS_TOKEN = "initial-access-token-for-the-e2e-suite";

async function setup(): Promise<{ op: OidcProviderHarness; as: oauth.AuthorizationServer }> {
  const op = await startProvider({
    features: {
      registration: { enabled: true, initialAccessToken: INITIAL_ACCESS_TOKEN },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
    },
  });
  try {
    return { op, as: await discover(op) };
  } catch (err) {
    await op.close();
    throw err;
  }
}

/** Metadata of a machine client: client credentials only. */
const MACHINE_CLIENT = {
  client_name: "e2e machine client",
  grant_types: ["client_credentials"],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: "client_secret_post",
};

function reference(registered: oauth.OmitSymbolProperties<oauth.Client>) {
  assert.equal(typeof registered.registration_client_uri, "string");
  assert.equal(typeof registered.registration_access_token, "string");
  return {
    registration_client_uri: registered.registration_client_uri as string,
    registration_access_token: registered.registration_access_token as string,
  } satisfies oauth.ClientConfigurationReference;
}

async function clientCredentials(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  clientAuth: oauth.ClientAuth,
): Promise<oauth.TokenEndpointResponse> {
  return await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(as, client, clientAuth, {}, http),
  );
}

function assertInvalidToken(err: oauth.WWWAuthenticateChallengeError): void {
  assert.equal(err.status, 401);
  assert.equal(err.cause[0]?.scheme, "bearer");
  assert.equal(err.cause[0]?.parameters.error, "invalid_token");
}

Deno.test("dynamicClientRegistrationRequest() registers a client that gets a client credentials token, then RFC 7592 reads, updates and deletes it", async () => {
  const { op, as } = await setup();
  await using _ = op;
  assert.ok(as.registration_endpoint);

  const registered = await oauth.processDynamicClientRegistrationResponse(
    await oauth.dynamicClientRegistrationRequest(as, MACHINE_CLIENT, {
      ...http,
      initialAccessToken: INITIAL_ACCESS_TOKEN,
    }),
  );
  assert.equal(registered.client_name, MACHINE_CLIENT.client_name);
  assert.equal(registered.token_endpoint_auth_method, "client_secret_post");
  assert.equal(typeof registered.client_secret, "string");
  const first = reference(registered);
  assert.ok(first.registration_client_uri.startsWith(op.issuer));

  // The registered client works at once.
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretPost(registered.client_secret as string);
  const tokens = await clientCredentials(as, client, clientAuth);
  assert.equal(tokens.token_type, "bearer");
  assert.ok(tokens.access_token);

  // RFC 7592 §2.1: read.
  const read = await oauth.processClientConfigurationResponse(
    await oauth.clientConfigurationRequest(first, "GET", undefined, http),
    "GET",
  );
  assert.equal(read.client_id, registered.client_id);
  assert.equal(read.client_name, MACHINE_CLIENT.client_name);

  // RFC 7592 §2.2: update with the full metadata; the provider rotates the access token.
  const updated = await oauth.processClientConfigurationResponse(
    await oauth.clientConfigurationRequest(
      first,
      "PUT",
      { ...read, client_name: "e2e machine client, renamed" },
      http,
    ),
    "PUT",
  );
  assert.equal(updated.client_id, registered.client_id);
  assert.equal(updated.client_name, "e2e machine client, renamed");
  const second = reference(updated);
  assert.notEqual(second.registration_access_token, first.registration_access_token);
  assertInvalidToken(
    await assertOAuthError(
      async () =>
        await oauth.processClientConfigurationResponse(
          await oauth.clientConfigurationRequest(first, "GET", undefined, http),
          "GET",
        ),
      oauth.WWWAuthenticateChallengeError,
      oauth.WWW_AUTHENTICATE_CHALLENGE,
    ),
  );
  // The secret survived the update.
  assert.ok((await clientCredentials(as, client, clientAuth)).access_token);

  // RFC 7592 §2.3: delete; the client can no longer authenticate nor be read.
  assert.equal(
    await oauth.processClientConfigurationResponse(
      await oauth.clientConfigurationRequest(second, "DELETE", undefined, http),
      "DELETE",
    ),
    undefined,
  );
  const gone = await assertOAuthError(
    clientCredentials(as, client, clientAuth),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(gone.error, "invalid_client");
  assertInvalidToken(
    await assertOAuthError(
      async () =>
        await oauth.processClientConfigurationResponse(
          await oauth.clientConfigurationRequest(second, "GET", undefined, http),
          "GET",
        ),
      oauth.WWWAuthenticateChallengeError,
      oauth.WWW_AUTHENTICATE_CHALLENGE,
    ),
  );
});

Deno.test("dynamicClientRegistrationRequest() registers a private_key_jwt client with its JWKS, which then authenticates with PrivateKeyJwt", async () => {
  const { op, as } = await setup();
  await using _ = op;
  const keyPair = await oauth.generateKeyPair("ES256");
  const kid = "e2e-registered-key";
  const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  const publicJwk = { kty: kty!, crv: crv!, x: x!, y: y!, kid, use: "sig", alg: "ES256" };
  const registered = await oauth.processDynamicClientRegistrationResponse(
    await oauth.dynamicClientRegistrationRequest(
      as,
      {
        ...MACHINE_CLIENT,
        token_endpoint_auth_method: "private_key_jwt",
        token_endpoint_auth_signing_alg: "ES256",
        jwks: { keys: [publicJwk] },
      },
      { ...http, initialAccessToken: INITIAL_ACCESS_TOKEN },
    ),
  );
  assert.equal(registered.client_secret, undefined, "no secret for a private_key_jwt client");
  const client: oauth.Client = { client_id: registered.client_id };
  const tokens = await clientCredentials(
    as,
    client,
    oauth.PrivateKeyJwt({ key: keyPair.privateKey, kid }),
  );
  assert.ok(tokens.access_token);

  // Another key, same kid: the provider refuses the assertion.
  const stranger = await oauth.generateKeyPair("ES256");
  const err = await assertOAuthError(
    clientCredentials(as, client, oauth.PrivateKeyJwt({ key: stranger.privateKey, kid })),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.error, "invalid_client");
});

Deno.test("processDynamicClientRegistrationResponse() surfaces a missing or wrong initial access token as a Bearer challenge", async () => {
  const { op, as } = await setup();
  await using _ = op;
  const register = async (options: oauth.DynamicClientRegistrationRequestOptions) =>
    await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(as, MACHINE_CLIENT, options),
    );

  // RFC 6750 §3.1: without credentials the challenge carries no error code.
  const missing = await assertOAuthError(
    register(http),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(missing.status, 401);
  assert.equal(missing.cause[0]?.scheme, "bearer");

  assertInvalidToken(
    await assertOAuthError(
      register({ ...http, initialAccessToken: "not-the-initial-access-token" }),
      oauth.WWWAuthenticateChallengeError,
      oauth.WWW_AUTHENTICATE_CHALLENGE,
    ),
  );
});

Deno.test("processDynamicClientRegistrationResponse() surfaces the provider's refusal of invalid metadata as ResponseBodyError", async () => {
  const { op, as } = await setup();
  await using _ = op;
  const err = await assertOAuthError(
    oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          ...MACHINE_CLIENT,
          grant_types: ["authorization_code"],
          response_types: ["code"],
          // RFC 6749 §3.1.2: a redirection URI must not have a fragment.
          redirect_uris: ["https://app.example/cb#fragment"],
        },
        { ...http, initialAccessToken: INITIAL_ACCESS_TOKEN },
      ),
    ),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.status, 400);
  assert.equal(err.error, "invalid_redirect_uri");
});
