/**
 * Attack family: secret and token leakage (RFC 9700 §4.3 token leakage, §4.14 refresh token
 * protection; RFC 6749 §10.3, §10.4; RFC 7636 §7.1). The attacker reads logs: error messages,
 * stacks, `cause` chains, and what `console.log` prints of library objects. Client secrets,
 * private keys, code verifiers, DPoP proofs and tokens must never appear there. Tokens meant for
 * the back channel must also never be accepted from the front channel.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { createFakeAs } from "../_fake_as.ts";
import { getPki } from "../_pki.ts";
import { authorize, exposure, newSession, redeem, REDIRECT_URI } from "./_attack.ts";

const SECRET = "s3cr3t-Client-Secret-0123456789";

/** What `console.log(value)` and its Node equivalent would print. */
function printed(value: unknown): string {
  return Deno.inspect(value, { depth: 20, showHidden: true, iterableLimit: 1000 });
}

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return assert.fail("expected a failure");
}

function assertHidden(text: string, secrets: Record<string, string>): void {
  for (const [name, secret] of Object.entries(secrets)) {
    assert.ok(!text.includes(secret), `the ${name} leaked:\n${text.slice(0, 2000)}`);
  }
}

Deno.test("secret leakage: client secrets never appear in errors of a refused token request", async () => {
  const server = createFakeAs({ clientSecret: "the-real-secret" });
  for (
    const [name, auth] of [
      ["ClientSecretPost", oauth.ClientSecretPost(SECRET)],
      ["ClientSecretBasic", oauth.ClientSecretBasic(SECRET)],
      ["ClientSecretJwt", oauth.ClientSecretJwt(SECRET)],
    ] as const
  ) {
    // The fake server reads JWT assertions without verifying them: it refuses this one by hand.
    if (name === "ClientSecretJwt") {
      server.overrideOnce("token", server.oauthError("invalid_client", "bad assertion", 401));
    }
    const response = await oauth.clientCredentialsGrantRequest(
      server.as,
      server.client,
      auth,
      {},
      server.options,
    );
    const err = await caught(() =>
      oauth.processClientCredentialsResponse(server.as, server.client, response)
    );
    assert.ok(
      err instanceof oauth.ResponseBodyError || err instanceof oauth.WWWAuthenticateChallengeError,
      `${name}: ${err}`,
    );
    assertHidden(exposure(err), { [`${name} secret`]: SECRET });
  }
});

Deno.test("secret leakage: client authentication objects print no secret", () => {
  for (
    const auth of [
      oauth.ClientSecretPost(SECRET),
      oauth.ClientSecretBasic(SECRET),
      oauth.ClientSecretJwt(SECRET),
    ]
  ) {
    assertHidden(printed(auth), { secret: SECRET });
    assertHidden(JSON.stringify({ auth }) ?? "", { secret: SECRET });
  }
});

Deno.test("secret leakage: a bad client secret argument is refused without echoing it", async () => {
  for (const make of [oauth.ClientSecretPost, oauth.ClientSecretBasic, oauth.ClientSecretJwt]) {
    const err = await caught(() => make({ toString: () => SECRET } as unknown as string));
    assert.ok(err instanceof TypeError);
    assertHidden(exposure(err), { secret: SECRET });
  }
});

Deno.test("secret leakage: ClientSecretJwt refusing an assertion algorithm does not print the secret", async () => {
  const server = createFakeAs();
  const auth = oauth.ClientSecretJwt(SECRET, {
    [oauth.modifyAssertion]: (header) => {
      header.alg = "HS999";
    },
  });
  const err = await assertOAuthError(
    () => oauth.clientCredentialsGrantRequest(server.as, server.client, auth, {}, server.options),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
  assertHidden(exposure(err), { secret: SECRET });
  assert.equal(server.requests.length, 0);
});

Deno.test("secret leakage: private keys never appear in errors or in what PrivateKeyJwt and DPoP handles print", async () => {
  const server = createFakeAs();
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const d = String((await crypto.subtle.exportKey("jwk", pair.privateKey)).d);
  const auth = oauth.PrivateKeyJwt({ key: pair.privateKey, kid: "k1" });
  const DPoP = oauth.DPoP(server.client, pair);
  server.override("token", server.oauthError("invalid_client", "unknown key", 401));
  const response = await oauth.clientCredentialsGrantRequest(
    server.as,
    server.client,
    auth,
    {},
    { ...server.options, DPoP },
  );
  const err = await caught(() =>
    oauth.processClientCredentialsResponse(server.as, server.client, response)
  );
  const proof = server.lastRequest("token")!.dpop!.proof;
  const assertion = server.lastRequest("token")!.form!.get("client_assertion")!;
  assertHidden(exposure(err), { "private key": d, "DPoP proof": proof, assertion });
  assertHidden(printed(auth), { "private key": d });
  assertHidden(printed(DPoP), { "private key": d });
  assert.match(printed(DPoP), /redacted/);
});

Deno.test("secret leakage: the code verifier never appears in errors of a refused code exchange", async () => {
  const server = createFakeAs();
  const session = newSession();
  const params = oauth.validateAuthResponse(
    server.as,
    server.client,
    await authorize(server, session),
    session.state,
  );
  const other = newSession();
  const response = await redeem(server, params, other.verifier);
  const err = await assertOAuthError(
    () => oauth.processAuthorizationCodeResponse(server.as, server.client, response),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assertHidden(exposure(err), { verifier: other.verifier });
});

Deno.test("secret leakage: a malformed code verifier is refused without echoing it", async () => {
  const verifier = "not a valid verifier but still a secret value!";
  const err = await caught(() => oauth.calculatePKCECodeChallenge(verifier));
  assert.ok(err instanceof TypeError);
  assertHidden(exposure(err), { verifier });
});

Deno.test("token leakage: tokens of a token response that fails validation are redacted from the error", async () => {
  const server = createFakeAs();
  const tokens = {
    access_token: "leaky-access-token-value",
    refresh_token: "leaky-refresh-token-value",
  };
  for (const bad of [{ token_type: 42 }, { expires_in: -1 }, { scope: 7 }]) {
    const response = server.json({ ...tokens, token_type: "Bearer", ...bad });
    const err = await assertOAuthError(
      () => oauth.processGenericTokenEndpointResponse(server.as, server.client, response),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
    assertHidden(exposure(err), tokens);
  }
});

Deno.test("token leakage: a refused ID token's compact form never appears in the error", async () => {
  const server = createFakeAs();
  const idToken = await server.idToken({ aud: "someone-else" });
  const response = server.json({ access_token: "at", token_type: "Bearer", id_token: idToken });
  const err = await assertOAuthError(
    () => oauth.processGenericTokenEndpointResponse(server.as, server.client, response),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
  );
  assertHidden(exposure(err), {
    "ID token": idToken,
    "ID token signature": idToken.split(".")[2]!,
  });
});

Deno.test("token leakage: a refused JWT access token and its DPoP proof never appear in the error", async () => {
  const server = createFakeAs();
  const t = server.now();
  const token = await server.sign({
    iss: server.issuer,
    aud: "https://rs.example",
    sub: "user-1",
    client_id: "client",
    iat: t - 600,
    exp: t - 300,
    jti: "j",
  }, { typ: "at+jwt" });
  const err = await assertOAuthError(
    () =>
      oauth.validateJwtAccessToken(
        server.as,
        new Request("https://rs.example/", {
          headers: { authorization: `DPoP ${token}`, dpop: "eyJhbGciOiJub25lIn0.e30." },
        }),
        "https://rs.example",
        server.options,
      ),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
  );
  assertHidden(exposure(err), { "access token": token });
});

Deno.test("token leakage: registration secrets are redacted from the error of a refused registration response", async () => {
  const secrets = {
    client_secret: "leaky-registered-secret",
    registration_access_token: "leaky-rat",
  };
  const response = new Response(
    JSON.stringify({ client_id: 42, ...secrets, registration_client_uri: "https://as.example/c" }),
    { status: 201, headers: { "content-type": "application/json" } },
  );
  const err = await caught(() => oauth.processDynamicClientRegistrationResponse(response));
  assert.ok(err instanceof oauth.OperationProcessingError, String(err));
  assertHidden(exposure(err), secrets);
});

Deno.test("token leakage: device codes and CIBA request IDs are redacted from errors", async () => {
  const server = createFakeAs();
  const deviceCode = "leaky-device-code";
  const device = await caught(() =>
    oauth.processDeviceAuthorizationResponse(
      server.as,
      server.client,
      server.json({
        device_code: deviceCode,
        user_code: "u",
        verification_uri: 7,
        expires_in: 600,
      }),
    )
  );
  assertHidden(exposure(device), { "device code": deviceCode });
  const authReqId = "leaky-auth-req-id";
  const ciba = await caught(() =>
    oauth.processBackchannelAuthenticationResponse(
      server.as,
      server.client,
      server.json({ auth_req_id: authReqId, expires_in: -1 }),
    )
  );
  assertHidden(exposure(ciba), { "auth_req_id": authReqId });
});

Deno.test("token leakage: tokens delivered through the front channel are refused (implicit and hybrid tokens)", async () => {
  const server = createFakeAs();
  for (const name of ["access_token", "token", "id_token"]) {
    const callback = new URL(REDIRECT_URI);
    callback.search = new URLSearchParams({ code: "c", iss: server.issuer, [name]: "leak" })
      .toString();
    await assertOAuthError(
      () => oauth.validateAuthResponse(server.as, server.client, callback),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test("secret leakage: a mutual-TLS fetch prints no private key, and a key that fits no certificate is refused without echoing it", async () => {
  const pki = await getPki();
  const body = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
  const adapter = oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.key });
  try {
    assertHidden(printed(adapter), { "private key": body(pki.ec.key) });
  } finally {
    adapter.close();
  }
  const err = await caught(() =>
    oauth.mtlsFetch({
      cert: pki.ec.cert,
      key: "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----",
    })
  );
  assert.ok(err instanceof TypeError || err instanceof oauth.OperationProcessingError, String(err));
  assertHidden(exposure(err), { "private key": "not base64!" });
});

// --- the messages of failed requests (issue 12): URL and reason, never what was sent ----------

/** A port on 127.0.0.1 with nothing listening. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Metadata whose every endpoint is `origin`, so each request fails at the socket. */
function asAt(origin: string): oauth.AuthorizationServer {
  return {
    issuer: origin,
    token_endpoint: `${origin}/token`,
    userinfo_endpoint: `${origin}/userinfo`,
    introspection_endpoint: `${origin}/introspect`,
    revocation_endpoint: `${origin}/revoke`,
  };
}

Deno.test("secret leakage: a token request that fails at the socket or times out names the URL, never the secret, verifier, refresh token, assertion or DPoP key", async () => {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const d = String((await crypto.subtle.exportKey("jwk", pair.privateKey)).d);
  const client: oauth.Client = { client_id: "client" };
  const DPoP = oauth.DPoP(client, pair);
  const verifier = oauth.generateRandomCodeVerifier();
  const refreshToken = "leaky-refresh-token-value";
  const basic = btoa(`client:${SECRET}`);
  const refused = `http://127.0.0.1:${closedPort()}`;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const hanging = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch { /* closed */ }
  })();
  try {
    for (const origin of [refused, hanging]) {
      const as = asAt(origin);
      const options = {
        [oauth.allowInsecureRequests]: true,
        signal: AbortSignal.timeout(origin === hanging ? 100 : 5_000),
        DPoP,
      };
      const params = oauth.validateAuthResponse(
        as,
        client,
        new URLSearchParams({ code: "the-code" }),
        oauth.skipStateCheck,
      );
      const calls = [
        () =>
          oauth.refreshTokenGrantRequest(
            as,
            client,
            oauth.ClientSecretBasic(SECRET),
            refreshToken,
            options,
          ),
        () =>
          oauth.authorizationCodeGrantRequest(
            as,
            client,
            oauth.ClientSecretPost(SECRET),
            params,
            REDIRECT_URI,
            verifier,
            options,
          ),
        () =>
          oauth.clientCredentialsGrantRequest(
            as,
            client,
            oauth.ClientSecretJwt(SECRET),
            {},
            options,
          ),
        () => oauth.userInfoRequest(as, client, refreshToken, options),
      ];
      for (const call of calls) {
        const err = await caught(call);
        const code = (err as { code?: unknown }).code;
        assert.ok(
          [oauth.NETWORK_ERROR, oauth.REQUEST_TIMEOUT].includes(code as string),
          `${origin}: ${err}`,
        );
        assert.ok((err as Error).message.includes(origin), (err as Error).message);
        assertHidden(exposure(err), {
          secret: SECRET,
          "Basic credentials": basic,
          verifier,
          "refresh token": refreshToken,
          "private key": d,
        });
      }
    }
  } finally {
    for (const conn of held) conn.close();
    listener.close();
    await accepting;
  }
});

Deno.test("token leakage: a redirect whose Location carries a code or token, and a challenge or error body that echoes one, stay out of the message", async () => {
  const server = createFakeAs();
  const auth = oauth.ClientSecretPost(server.clientSecret);
  const echoed = "echoed-refresh-token-value";
  const request = () =>
    oauth.refreshTokenGrantRequest(server.as, server.client, auth, echoed, server.options);
  const messageOf = async (response: Response) =>
    ((await caught(() =>
      oauth.processRefreshTokenResponse(server.as, server.client, response)
    )) as Error).message;

  server.overrideOnce(
    "token",
    new Response(null, {
      status: 302,
      headers: { location: `https://login.example/cb?code=${echoed}#access_token=${echoed}` },
    }),
  );
  let message = await messageOf(await request());
  assert.match(
    message,
    /redirects are not followed, and the server points to https:\/\/login\.example\/cb/,
  );
  assertHidden(message, { "echoed token": echoed });

  server.overrideOnce("token", server.oauthError("invalid_grant", `unknown token ${echoed}`, 400));
  message = await messageOf(await request());
  assert.match(message, /"invalid_grant"/);
  assertHidden(message, { "echoed token": echoed });

  server.overrideOnce(
    "token",
    new Response(null, {
      status: 401,
      headers: {
        "www-authenticate": `Bearer error="invalid_token", error_description="${echoed}"`,
      },
    }),
  );
  message = await messageOf(await request());
  assert.match(message, /bearer error="invalid_token"/);
  assertHidden(message, { "echoed token": echoed });
});
