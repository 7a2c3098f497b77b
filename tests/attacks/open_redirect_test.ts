/**
 * Attack family: open redirects (RFC 9700 §4.11, RFC 6749 §10.15). An endpoint answers 3xx with a
 * `Location` on the attacker's origin, hoping the client replays the request, credentials and
 * tokens included, there. The library never follows a redirect: each request below runs over
 * real loopback sockets with the platform `fetch`, and the attacker's server must see nothing.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { type FakeAs, type FakeAsRoute, startFakeAs } from "../_fake_as.ts";

type Server = FakeAs & { readonly origin: string };

/** A redirect to the same path on the attacker's origin. */
function redirectTo(attacker: Server, status: number) {
  return (req: Request) => {
    const url = new URL(req.url);
    return new Response(null, {
      status,
      headers: { location: `${attacker.origin}${url.pathname}${url.search}` },
    });
  };
}

interface Case {
  /** What the attacker redirects. */
  name: string;
  route: FakeAsRoute;
  status: number;
  /** Sends the request and runs its processor, which must refuse the 3xx. */
  run: (honest: Server) => Promise<unknown>;
}

const auth = (s: Server) => oauth.ClientSecretPost(s.clientSecret);

const CASES: Case[] = [
  {
    name: "the token endpoint's 307 does not carry the client secret to the attacker",
    route: "token",
    status: 307,
    run: async (s) => {
      const response = await oauth.clientCredentialsGrantRequest(
        s.as,
        s.client,
        auth(s),
        {},
        s.options,
      );
      return await oauth.processClientCredentialsResponse(s.as, s.client, response);
    },
  },
  {
    name: "the token endpoint's 308 does not carry a refresh token to the attacker",
    route: "token",
    status: 308,
    run: async (s) => {
      const response = await oauth.refreshTokenGrantRequest(
        s.as,
        s.client,
        auth(s),
        "refresh-token",
        s.options,
      );
      return await oauth.processRefreshTokenResponse(s.as, s.client, response);
    },
  },
  {
    name: "the userinfo endpoint's 302 does not carry the access token to the attacker",
    route: "userinfo",
    status: 302,
    run: async (s) => {
      const response = await oauth.userInfoRequest(s.as, s.client, "access-token", s.options);
      return await oauth.processUserInfoResponse(s.as, s.client, "user-1", response);
    },
  },
  {
    name: "the introspection endpoint's 307 does not carry the token to the attacker",
    route: "introspection",
    status: 307,
    run: async (s) => {
      const response = await oauth.introspectionRequest(
        s.as,
        s.client,
        auth(s),
        "access-token",
        s.options,
      );
      return await oauth.processIntrospectionResponse(s.as, s.client, response);
    },
  },
  {
    name: "the revocation endpoint's 307 is not followed",
    route: "revocation",
    status: 307,
    run: async (s) => {
      const response = await oauth.revocationRequest(
        s.as,
        s.client,
        auth(s),
        "access-token",
        s.options,
      );
      return await oauth.processRevocationResponse(response);
    },
  },
  {
    name: "the PAR endpoint's 307 is not followed",
    route: "par",
    status: 307,
    run: async (s) => {
      const response = await oauth.pushedAuthorizationRequest(s.as, s.client, auth(s), {
        response_type: "code",
        redirect_uri: "https://app.example/cb",
      }, s.options);
      return await oauth.processPushedAuthorizationResponse(s.as, s.client, response);
    },
  },
  {
    name: "the device authorization endpoint's 307 is not followed",
    route: "device_authorization",
    status: 307,
    run: async (s) => {
      const response = await oauth.deviceAuthorizationRequest(
        s.as,
        s.client,
        auth(s),
        {},
        s.options,
      );
      return await oauth.processDeviceAuthorizationResponse(s.as, s.client, response);
    },
  },
  {
    name: "the backchannel authentication endpoint's 307 is not followed",
    route: "backchannel",
    status: 307,
    run: async (s) => {
      const response = await oauth.backchannelAuthenticationRequest(s.as, s.client, auth(s), {
        scope: "openid",
        login_hint: "user-1",
      }, s.options);
      return await oauth.processBackchannelAuthenticationResponse(s.as, s.client, response);
    },
  },
  {
    name: "the registration endpoint's 307 does not carry the initial access token to the attacker",
    route: "registration",
    status: 307,
    run: async (s) => {
      const response = await oauth.dynamicClientRegistrationRequest(s.as, {
        redirect_uris: ["https://app.example/cb"],
      }, { ...s.options, initialAccessToken: "initial-access-token" });
      return await oauth.processDynamicClientRegistrationResponse(response);
    },
  },
  {
    name: "the discovery document's 302 is not followed to attacker metadata",
    route: "discovery",
    status: 302,
    run: async (s) => {
      const response = await oauth.discoveryRequest(new URL(s.issuer), s.options);
      return await oauth.processDiscoveryResponse(new URL(s.issuer), response);
    },
  },
  {
    name: "the JWKS's 302 is not followed to attacker keys",
    route: "jwks",
    status: 302,
    run: async (s) => {
      s.overrideOnce("token", await s.tokenBody());
      const response = await oauth.clientCredentialsGrantRequest(
        s.as,
        s.client,
        auth(s),
        {},
        s.options,
      );
      await oauth.processGenericTokenEndpointResponse(s.as, s.client, response);
      return await oauth.validateApplicationLevelSignature(s.as, response, s.options);
    },
  },
];

for (const c of CASES) {
  Deno.test(`open redirect: ${c.name}`, async () => {
    await using attacker = await startFakeAs();
    await using honest = await startFakeAs();
    honest.override(c.route, redirectTo(attacker, c.status));
    await assertOAuthError(
      () => c.run(honest),
      oauth.OperationProcessingError,
      oauth.RESPONSE_IS_NOT_CONFORM,
      { status: c.status },
    );
    assert.equal(honest.requestsTo(c.route).length, 1);
    assert.deepEqual(attacker.requests, [], "the attacker's server received nothing");
  });
}

Deno.test("open redirect: a protected resource's 302 is handed back, never followed with the access token", async () => {
  await using attacker = await startFakeAs();
  await using honest = await startFakeAs();
  honest.override("resource", redirectTo(attacker, 302));
  const response = await oauth.protectedResourceRequest(
    "access-token",
    "GET",
    new URL(honest.resource),
    undefined,
    undefined,
    honest.options,
  );
  await response.body?.cancel();
  assert.equal(response.status, 302);
  assert.equal(response.headers.get("location"), `${attacker.origin}/resource`);
  assert.deepEqual(attacker.requests, []);
});

Deno.test("open redirect: the honest endpoints answer normally over the same sockets", async () => {
  await using honest = await startFakeAs();
  const response = await oauth.clientCredentialsGrantRequest(
    honest.as,
    honest.client,
    auth(honest),
    {},
    honest.options,
  );
  const result = await oauth.processClientCredentialsResponse(honest.as, honest.client, response);
  assert.equal(result.token_type, "bearer");
});
