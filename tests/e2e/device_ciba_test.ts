/**
 * End to end against oidc-provider for the decoupled flows: the device authorization grant
 * (RFC 8628) approved through the provider's user-code pages, and CIBA in poll mode completed as
 * the authentication device would. The client polls the token endpoint as the specs require: it
 * waits `interval` seconds between polls, keeps polling on `authorization_pending`, adds 5 seconds
 * on `slow_down`, and stops on any other error. The ID token of each flow is validated.
 *
 * oidc-provider sends no `interval` (so clients would default to 5 s, RFC 8628 §3.2 and CIBA Core
 * §7.3); a `device_authorization.success` listener and the CIBA `triggerAuthenticationDevice`
 * hook add `interval: 1` to the two acknowledgements to keep the suite fast. No test waits longer
 * than that.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { type OidcProviderHarness, startProvider } from "../_oidc_provider.ts";
import { discover, http } from "./_code_flow.ts";

/** The polling interval, in seconds, the provider advertises here. */
const INTERVAL = 1;
/** At most this many token requests per flow. */
const MAX_POLLS = 3;

async function startDecoupledProvider(): Promise<{
  op: OidcProviderHarness;
  as: oauth.AuthorizationServer;
}> {
  const withInterval = (body: unknown) => {
    if (typeof body === "object" && body !== null) Object.assign(body, { interval: INTERVAL });
  };
  const op = await startProvider({
    features: {
      deviceFlow: { enabled: true },
      // Called once the acknowledgement body is set (CIBA Core §7.3).
      ciba: {
        enabled: true,
        triggerAuthenticationDevice: (ctx: { body: unknown }) => withInterval(ctx.body),
      },
    },
  });
  // RFC 8628 §3.2: the device authorization response, emitted before it is sent.
  op.provider.on("device_authorization.success", (_ctx, body) => withInterval(body));
  try {
    return { op, as: await discover(op) };
  } catch (err) {
    await op.close();
    throw err;
  }
}

function delay(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

interface Polled<T> {
  result: T;
  /** Token requests made, and the `error` of each refused one. */
  polls: string[];
}

/**
 * Polls as RFC 8628 §3.4–3.5 and CIBA Core §7.3/§11 describe: one request, then `interval`
 * seconds between requests while the answer is `authorization_pending` (`slow_down` adds 5).
 * `onPending` runs once, after the first pending answer (the user acts while the client waits).
 */
async function poll<T>(
  interval: number,
  attempt: () => Promise<T>,
  onPending: () => Promise<void>,
): Promise<Polled<T>> {
  const polls: string[] = [];
  let pendingSeen = false;
  for (let i = 0; i < MAX_POLLS; i++) {
    if (i > 0) await delay(interval);
    try {
      const result = await attempt();
      polls.push("ok");
      return { result, polls };
    } catch (err) {
      if (!(err instanceof oauth.ResponseBodyError)) throw err;
      polls.push(err.error);
      if (err.error === "slow_down") {
        interval += 5;
      } else if (err.error !== "authorization_pending") {
        throw err;
      }
      if (!pendingSeen) {
        pendingSeen = true;
        await onPending();
      }
    }
  }
  throw new Error(`no tokens after ${MAX_POLLS} polls: ${polls.join(", ")}`);
}

Deno.test("processDeviceCodeResponse() gets tokens and a valid ID token once the user approves, after authorization_pending", async () => {
  const { op, as } = await startDecoupledProvider();
  await using _ = op;
  const registered = op.clients.public;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.None();

  const device = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(
      as,
      client,
      clientAuth,
      { scope: "openid email" },
      http,
    ),
  );
  assert.equal(device.interval, INTERVAL);
  assert.ok(device.expires_in > 0);
  assert.equal(new URL(device.verification_uri).origin, op.origin);
  assert.ok(device.verification_uri_complete?.includes(encodeURIComponent(device.user_code)));

  const { result: tokens, polls } = await poll(
    device.interval ?? 5,
    async () =>
      await oauth.processDeviceCodeResponse(
        as,
        client,
        await oauth.deviceCodeGrantRequest(as, client, clientAuth, device.device_code, http),
      ),
    () => op.approveDeviceCode(device.user_code),
  );
  assert.deepEqual(polls, ["authorization_pending", "ok"]);
  assert.equal(tokens.token_type, "bearer");
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  assert.equal(claims.iss, op.issuer);
  assert.equal(claims.aud, client.client_id);
  assert.equal(claims.sub, "alice");

  const userinfo = await oauth.processUserInfoResponse(
    as,
    client,
    claims.sub,
    await oauth.userInfoRequest(as, client, tokens.access_token, http),
  );
  assert.equal(userinfo.email, "alice@example.com");

  // RFC 8628 §3.5: the device code is single use.
  const again = await oauth.deviceCodeGrantRequest(
    as,
    client,
    clientAuth,
    device.device_code,
    http,
  );
  const err = await assertOAuthError(
    oauth.processDeviceCodeResponse(as, client, again),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.error, "invalid_grant");
});

Deno.test("processDeviceCodeResponse() surfaces a denied device code as ResponseBodyError access_denied", async () => {
  const { op, as } = await startDecoupledProvider();
  await using _ = op;
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);
  const device = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(as, client, clientAuth, { scope: "openid" }, http),
  );
  await op.approveDeviceCode(device.user_code, { consent: false });
  const err = await assertOAuthError(
    oauth.processDeviceCodeResponse(
      as,
      client,
      await oauth.deviceCodeGrantRequest(as, client, clientAuth, device.device_code, http),
    ),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.error, "access_denied");
  assert.equal(err.status, 400);
});

Deno.test("processBackchannelAuthenticationGrantResponse() gets tokens and a valid ID token once the device completes, after authorization_pending", async () => {
  const { op, as } = await startDecoupledProvider();
  await using _ = op;
  assert.ok(as.backchannel_token_delivery_modes_supported?.includes("poll"));
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);

  const started = await oauth.processBackchannelAuthenticationResponse(
    as,
    client,
    await oauth.backchannelAuthenticationRequest(
      as,
      client,
      clientAuth,
      { scope: "openid email", login_hint: "bob", binding_message: "W4SCT" },
      http,
    ),
  );
  assert.equal(started.interval, INTERVAL);
  assert.ok(started.expires_in > 0);

  const { result: tokens, polls } = await poll(
    started.interval ?? 5,
    async () =>
      await oauth.processBackchannelAuthenticationGrantResponse(
        as,
        client,
        await oauth.backchannelAuthenticationGrantRequest(
          as,
          client,
          clientAuth,
          started.auth_req_id,
          http,
        ),
      ),
    () => op.completeBackchannel(started.auth_req_id),
  );
  assert.deepEqual(polls, ["authorization_pending", "ok"]);
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  assert.equal(claims.iss, op.issuer);
  assert.equal(claims.aud, client.client_id);
  assert.equal(claims.sub, "bob");

  // The auth_req_id is single use.
  const err = await assertOAuthError(
    oauth.processBackchannelAuthenticationGrantResponse(
      as,
      client,
      await oauth.backchannelAuthenticationGrantRequest(
        as,
        client,
        clientAuth,
        started.auth_req_id,
        http,
      ),
    ),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.error, "invalid_grant");
});

Deno.test("processBackchannelAuthenticationGrantResponse() surfaces a denied request as ResponseBodyError access_denied", async () => {
  const { op, as } = await startDecoupledProvider();
  await using _ = op;
  const registered = op.clients.privateKeyJwt;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.PrivateKeyJwt({ key: op.clientKey.privateKey, kid: op.clientKey.kid });
  const started = await oauth.processBackchannelAuthenticationResponse(
    as,
    client,
    await oauth.backchannelAuthenticationRequest(
      as,
      client,
      clientAuth,
      { scope: "openid", login_hint: "alice" },
      http,
    ),
  );
  await op.completeBackchannel(started.auth_req_id, { deny: true });
  const err = await assertOAuthError(
    oauth.processBackchannelAuthenticationGrantResponse(
      as,
      client,
      await oauth.backchannelAuthenticationGrantRequest(
        as,
        client,
        clientAuth,
        started.auth_req_id,
        http,
      ),
    ),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.error, "access_denied");
});

Deno.test("processBackchannelAuthenticationResponse() surfaces the provider's refusal of a request without a hint", async () => {
  const { op, as } = await startDecoupledProvider();
  await using _ = op;
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const err = await assertOAuthError(
    oauth.processBackchannelAuthenticationResponse(
      as,
      client,
      await oauth.backchannelAuthenticationRequest(
        as,
        client,
        oauth.ClientSecretBasic(registered.client_secret!),
        { scope: "openid" },
        http,
      ),
    ),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.error, "invalid_request");
  assert.equal(err.status, 400);
});
