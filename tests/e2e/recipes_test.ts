/**
 * Every README recipe, run. Each ```ts block of README.md is a `// #region readme:<name>` of a
 * file under `examples/` (the first test checks that, verbatim, with `tests/_readme.ts`), and the
 * tests below call those files against the embedded OpenID Provider (`tests/_oidc_provider.ts`),
 * the fake authorization server (`tests/_fake_as.ts`) or real sockets, so a recipe that stops
 * working, or drifts from the README, fails the suite. `examples/web_app.ts` (the "Sign users in"
 * recipe) is run by `tests/e2e/examples_test.ts`.
 */
import assert from "node:assert/strict";
import { CompactEncrypt } from "jose";
import * as oauth from "@authlane/oauth";
import { readReadmeBlocks, readRegions } from "../_readme.ts";
import { dpopRequiringNonces, type OidcProviderHarness, startProvider } from "../_oidc_provider.ts";
import { createFakeAs } from "../_fake_as.ts";
import { getPki } from "../_pki.ts";
import { startTlsServer } from "../_tls_server.ts";
import { type Options, type Setup, setUp } from "../../examples/recipes/setup.ts";
import { callApis, finishSignIn, refresh, startSignIn } from "../../examples/recipes/code_flow.ts";
import { exchange, serviceToken } from "../../examples/recipes/service.ts";
import { createApi } from "../../examples/recipes/resource_server.ts";
import { manage } from "../../examples/recipes/management.ts";
import {
  formPostCallback,
  jarmCallback,
  pushAuthorizationRequest,
  signAuthorizationRequest,
} from "../../examples/recipes/par_jar_jarm.ts";
import { dpopSignIn } from "../../examples/recipes/dpop.ts";
import { deviceSignIn } from "../../examples/recipes/device.ts";
import { nextStep } from "../../examples/recipes/errors.ts";
import { gitHub, gitHubCallback } from "../../examples/recipes/manual_metadata.ts";
import { processEncrypted } from "../../examples/recipes/encrypted.ts";
import { mtlsByHand, mtlsClient, mtlsResource } from "../../examples/recipes/mtls.ts";
import { serviceTokenFromKv, validateWithKvJwks } from "../../examples/recipes/session_helpers.ts";
import { fapi2SignIn } from "../../examples/recipes/fapi2.ts";
import { startEmbeddedFapi } from "../../examples/fapi2_client.ts";

const RESOURCE = "https://api.example";

Deno.test("README: every ```ts block is a readme: region of examples/, verbatim, and every region is shown once", async () => {
  const regions = await readRegions();
  const blocks = await readReadmeBlocks();
  const problems: string[] = [];
  const shown = new Map<string, number>();
  for (const block of blocks) {
    if (block.name === undefined) {
      problems.push(`README.md:${block.line}: a \`\`\`ts block without <!-- readme:<name> -->`);
      continue;
    }
    shown.set(block.name, (shown.get(block.name) ?? 0) + 1);
    const region = regions.get(block.name);
    if (region === undefined) {
      problems.push(`README.md:${block.line}: no region readme:${block.name} under examples/`);
    } else if (region.text !== block.text) {
      problems.push(
        `README.md:${block.line}: differs from ${region.file} readme:${block.name}\n` +
          `--- README\n${block.text}--- ${region.file}\n${region.text}`,
      );
    }
  }
  for (const [name, region] of regions) {
    const count = shown.get(name) ?? 0;
    if (count !== 1) problems.push(`${region.file}: readme:${name} is shown ${count} times`);
  }
  assert.deepEqual(problems, []);
  assert.ok(regions.size >= 20, `${regions.size} regions`);
});

/** An API on loopback that answers with what it received. */
function echoApi() {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push(request.headers.get("authorization") ?? "");
    return Response.json({ ok: true });
  });
  return {
    url: new URL(`http://127.0.0.1:${server.addr.port}/me`),
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** The recipes' setup for the provider's confidential client (client_secret_basic). */
function confidentialSetUp(op: OidcProviderHarness): Promise<Setup> {
  const registered = op.clients.confidential;
  return setUp(
    new URL(op.issuer),
    { client_id: registered.client_id },
    oauth.ClientSecretBasic(registered.client_secret!),
    registered.redirect_uri,
  );
}

function bearer(token: string): Request {
  return new Request(`${RESOURCE}/me`, { headers: { authorization: `Bearer ${token}` } });
}

Deno.test("recipes: setup, the code flow, the ID token signature, userinfo, refresh, client credentials, the resource server, introspection, revocation and registration", async () => {
  await using op = await startProvider({ features: { registration: { enabled: true } } });
  await using api = echoApi();
  const setup = await confidentialSetUp(op);
  assert.equal(setup.as.issuer, op.issuer);
  assert.equal(setup.options[oauth.allowInsecureRequests], true, "http://127.0.0.1 is local");

  // Sign a user in
  const { url, pending } = await startSignIn(setup);
  const callback = await op.login(url);
  const { tokens, claims } = await finishSignIn(setup, new Request(callback), pending);
  assert.equal(claims.sub, "alice");
  assert.equal(claims.nonce, pending.nonce);
  assert.ok(tokens.refresh_token);

  // UserInfo and an API
  const { userinfo, response } = await callApis(setup, tokens, claims, api.url);
  assert.equal(userinfo.email, "alice@example.com");
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.deepEqual(api.seen, [`Bearer ${tokens.access_token}`]);

  // Refresh
  const refreshed = await refresh(setup, tokens);
  assert.notEqual(refreshed.access_token, tokens.access_token);

  // Client credentials, then the resource server recipe with that token
  const serviceAt = await serviceToken(setup);
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...data: unknown[]) => void logged.push(data);
  try {
    const handler = createApi(setup.as, setup.options);
    const ok = await handler(bearer(serviceAt));
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).scope, "api:read");
    for (const bad of [bearer("not-a-jwt"), new Request(`${RESOURCE}/me`)]) {
      const refused = await handler(bad);
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    }
    const expired = await handler(bearer(serviceAt.replace(/\.[^.]+$/, ".AAAA")));
    assert.equal(expired.status, 401, "a bad signature is the token's fault");
    assert.equal(logged.length, 0);
    // The case: the same valid token, but the API forgot [allowInsecureRequests] for its
    // http: provider. That is a 500 and a log line, not a silent 401.
    // (A copy of the metadata: another process, whose JWKS cache is still empty.)
    const misconfigured = createApi({ ...setup.as }, {});
    const broken = await misconfigured(bearer(serviceAt));
    assert.equal(broken.status, 500);
    assert.equal(logged.length, 1);
    const err = logged[0]![1] as oauth.OperationProcessingError;
    assert.equal(err.code, oauth.HTTP_REQUEST_FORBIDDEN);
    assert.match(err.message, /\[allowInsecureRequests\]/);
  } finally {
    console.error = error;
  }

  // Introspection, revocation, registration
  const { info, registered: newClient } = await manage(setup, refreshed.refresh_token!);
  assert.equal(info.active, true);
  assert.equal(typeof newClient.client_id, "string");
  const after = await oauth.processIntrospectionResponse(
    setup.as,
    setup.client,
    await oauth.introspectionRequest(
      setup.as,
      setup.client,
      setup.clientAuth,
      refreshed.refresh_token!,
      setup.options,
    ),
  );
  assert.equal(after.active, false, "revoked");
});

Deno.test("recipes: PAR, a signed request object, JARM and form_post against the provider", async () => {
  await using op = await startProvider({
    features: {
      pushedAuthorizationRequests: { enabled: true },
      requestObjects: { enabled: true },
      jwtResponseModes: { enabled: true },
    },
  });
  const issuer = new URL(op.issuer);
  const setupFor = (client: { client_id: string; redirect_uri: string }, auth: oauth.ClientAuth) =>
    setUp(issuer, { client_id: client.client_id }, auth, client.redirect_uri);
  const pkce = async () => {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    return { codeVerifier, codeChallenge: await oauth.calculatePKCECodeChallenge(codeVerifier) };
  };
  const redeem = async (setup: Setup, params: URLSearchParams, codeVerifier: string) =>
    await oauth.processAuthorizationCodeResponse(
      setup.as,
      setup.client,
      await oauth.authorizationCodeGrantRequest(
        setup.as,
        setup.client,
        setup.clientAuth,
        params,
        setup.redirectUri,
        codeVerifier,
        setup.options,
      ),
    );

  // PAR
  const confidential = op.clients.confidential;
  let setup = await setupFor(confidential, oauth.ClientSecretBasic(confidential.client_secret!));
  let { codeVerifier, codeChallenge } = await pkce();
  let state = oauth.generateRandomState();
  const pushed = await pushAuthorizationRequest(setup, codeChallenge, state);
  assert.deepEqual([...pushed.searchParams.keys()], ["client_id", "request_uri"]);
  let callback = await op.login(pushed);
  await redeem(
    setup,
    oauth.validateAuthResponse(setup.as, setup.client, callback, state),
    codeVerifier,
  );

  // JAR
  const signer = op.clients.privateKeyJwt;
  const key = op.clientKey;
  setup = await setupFor(signer, oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
  ({ codeVerifier, codeChallenge } = await pkce());
  state = oauth.generateRandomState();
  const signed = await signAuthorizationRequest(
    setup,
    {
      redirect_uri: signer.redirect_uri,
      response_type: "code",
      scope: "openid",
      code_challenge: codeChallenge,
      code_challenge_method: "S256",
      state,
    },
    key.privateKey,
    key.kid,
  );
  assert.ok(signed.searchParams.get("request"));
  callback = await op.login(signed);
  await redeem(
    setup,
    oauth.validateAuthResponse(setup.as, setup.client, callback, state),
    codeVerifier,
  );

  // JARM and form_post, with the public client
  const publicClient = op.clients.public;
  setup = await setupFor(publicClient, oauth.None());
  for (const mode of ["jwt", "form_post"] as const) {
    ({ codeVerifier, codeChallenge } = await pkce());
    state = oauth.generateRandomState();
    const url = new URL(setup.as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: publicClient.client_id,
      redirect_uri: publicClient.redirect_uri,
      response_type: "code",
      response_mode: mode,
      scope: "openid",
      code_challenge: codeChallenge,
      code_challenge_method: "S256",
      state,
    }).toString();
    callback = await op.login(url);
    let params: URLSearchParams;
    if (mode === "jwt") {
      assert.deepEqual([...callback.searchParams.keys()], ["response"]);
      params = await jarmCallback(setup, new Request(callback), state);
    } else {
      // login() reports a form_post as the form's action with the posted fields as its query
      const action = new URL(callback);
      action.search = "";
      const posted = new Request(action, { method: "POST", body: callback.searchParams });
      params = await formPostCallback(setup, posted, state);
    }
    assert.ok(params.get("code"));
    await redeem(setup, params, codeVerifier);
  }
});

Deno.test("recipes: DPoP, with the retry for use_dpop_nonce, against a provider that requires nonces", async () => {
  await using op = await startProvider({ features: dpopRequiringNonces() });
  const registered = op.clients.confidential;
  const setup = await confidentialSetUp(op);
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(setup.as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: registered.client_id,
    redirect_uri: registered.redirect_uri,
    response_type: "code",
    scope: "openid",
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
  }).toString();
  const params = oauth.validateAuthResponse(setup.as, setup.client, await op.login(url), state);
  const { tokens, api } = await dpopSignIn(
    setup,
    params,
    codeVerifier,
    new URL(setup.as.userinfo_endpoint!),
  );
  assert.equal(tokens.token_type, "dpop");
  assert.equal(api.status, 200, await api.clone().text());
  assert.equal((await api.json()).sub, "alice");
});

Deno.test("recipes: the device flow polls until the user approves", async () => {
  await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
  const approvals: Promise<void>[] = [];
  // RFC 8628 §3.2: the device authorization response, just before it is sent. A one-second
  // interval keeps the test short; the user approves while the recipe waits.
  op.provider.on("device_authorization.success", (_ctx: unknown, body: unknown) => {
    const answer = body as { interval?: number; user_code: string };
    answer.interval = 1;
    approvals.push(op.approveDeviceCode(answer.user_code));
  });
  const registered = op.clients.public;
  const setup = await setUp(
    new URL(op.issuer),
    { client_id: registered.client_id },
    oauth.None(),
    registered.redirect_uri,
  );
  const log = console.log;
  const printed: string[] = [];
  console.log = (...data: unknown[]) => void printed.push(data.join(" "));
  let tokens: oauth.TokenEndpointResponse;
  try {
    tokens = await deviceSignIn(setup);
  } finally {
    console.log = log;
  }
  await Promise.all(approvals);
  assert.equal(approvals.length, 1);
  assert.match(printed[0]!, /^Open http:\/\/127\.0\.0\.1:\d+\/device and enter /);
  assert.equal(oauth.getValidatedIdTokenClaims(tokens)?.sub, "alice");
});

Deno.test("recipes: session helpers, a client credentials token source and a KV JWKS cache, on an in-memory KV", async () => {
  await using op = await startProvider();
  const issuer = new URL(op.issuer);
  const setup = await confidentialSetUp(op);
  const kv = await Deno.openKv(":memory:");
  try {
    const accessToken = await serviceTokenFromKv(setup, issuer, kv);
    assert.equal(await serviceTokenFromKv(setup, issuer, kv), accessToken, "reused from KV");
    const claims = await validateWithKvJwks(setup, kv, bearer(accessToken));
    assert.equal(claims.aud, RESOURCE);
    assert.equal(claims.client_id, setup.client.client_id);
  } finally {
    kv.close();
  }
});

Deno.test("recipes: FAPI 2.0 in short, against the provider with the FAPI 2.0 profile and PAR required", async () => {
  await using fapi = await startEmbeddedFapi("dpop");
  const { options, op } = fapi;
  const setup = await setUp(
    options.issuer,
    options.client,
    options.clientAuth,
    options.redirectUri,
  );
  const tokens = await fapi2SignIn(
    setup,
    op.clientKey.privateKey,
    op.clientKey.kid,
    (url) => op.login(url),
  );
  assert.equal(tokens.token_type, "dpop");
});

// --- recipes run against the fake authorization server ---------------------------------------

/** The shared setup for a fake authorization server. */
function fakeSetup(fake: ReturnType<typeof createFakeAs>): Setup {
  return {
    as: fake.as,
    client: fake.client,
    clientAuth: oauth.ClientSecretPost(fake.clientSecret),
    redirectUri: "https://app.example/cb",
    options: fake.options as Options,
  };
}

Deno.test("recipes: token exchange, against the fake authorization server", async () => {
  const fake = createFakeAs();
  const exchanged = await exchange(fakeSetup(fake), "subject-access-token");
  assert.equal(exchanged.issued_token_type, "urn:ietf:params:oauth:token-type:access_token");
  const form = fake.lastRequest("token")!.form!;
  assert.equal(form.get("grant_type"), "urn:ietf:params:oauth:grant-type:token-exchange");
  assert.equal(form.get("subject_token"), "subject-access-token");
});

Deno.test("recipes: an encrypted ID token is decrypted with jose and validated", async () => {
  const fake = createFakeAs();
  const setup = fakeSetup(fake);
  const encryption = await crypto.subtle.generateKey(
    {
      name: "RSA-OAEP",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["encrypt", "decrypt"],
  );
  const nonce = oauth.generateRandomNonce();
  const signed = await fake.idToken({ nonce });
  const jwe = await new CompactEncrypt(new TextEncoder().encode(signed))
    .setProtectedHeader({ alg: "RSA-OAEP-256", enc: "A256GCM", cty: "JWT" })
    .encrypt(encryption.publicKey);
  const response = Response.json({ access_token: "at", token_type: "Bearer", id_token: jwe });
  const tokens = await processEncrypted(setup, response, nonce, encryption.privateKey);
  assert.equal(oauth.getValidatedIdTokenClaims(tokens)?.nonce, nonce);
});

Deno.test("recipes: a provider without discovery (GitHub-style), metadata written by hand", async () => {
  const fake = createFakeAs();
  // The GitHub URLs go to the fake server, which plays GitHub: no ID token, no `iss`.
  const toFake: Options[typeof oauth.customFetch] = (url, init) =>
    fake.fetch(
      url.replace("https://github.com/login/oauth/access_token", fake.as.token_endpoint),
      init as RequestInit,
    );
  fake.override("token", {
    access_token: "gho_example",
    token_type: "bearer",
    scope: "read:user",
  });
  const { as, client, clientAuth } = gitHub(fake.client.client_id, fake.clientSecret);
  const redirectUri = "https://app.example/cb";
  const options: Options = { [oauth.customFetch]: toFake };
  const { url, pending } = await startSignIn({ as, client, clientAuth, redirectUri, options });
  assert.equal(`${url.origin}${url.pathname}`, "https://github.com/login/oauth/authorize");
  const callback = new URL(redirectUri);
  callback.search = new URLSearchParams({ code: "from-github", state: pending.state }).toString();
  const tokens = await gitHubCallback(
    as,
    client,
    clientAuth,
    new Request(callback),
    pending,
    redirectUri,
    options,
  );
  assert.equal(tokens.access_token, "gho_example");
  const form = fake.lastRequest("token")!.form!;
  assert.equal(form.get("code"), "from-github");
  assert.equal(form.get("code_verifier"), pending.codeVerifier);
  assert.equal(form.get("client_secret"), fake.clientSecret);

  // GitHub answers a refused code with a 200 whose body holds `error` (what the README says)
  fake.override("token", { error: "bad_verification_code", error_description: "expired" });
  const err = await failure(() =>
    gitHubCallback(as, client, clientAuth, new Request(callback), pending, redirectUri, options)
  ) as oauth.OperationProcessingError;
  assert.ok(err instanceof oauth.OperationProcessingError);
  assert.equal(err.code, oauth.INVALID_RESPONSE);
  assert.equal((err.cause as { body: { error: string } }).body.error, "bad_verification_code");
});

// --- the Errors recipe, each kind of error produced for real ----------------------------------

async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return assert.fail("expected a failure");
}

Deno.test("recipes: the Errors recipe tells sign-in, retry and fix apart on real failures", async () => {
  const fake = createFakeAs();
  const auth = oauth.ClientSecretPost(fake.clientSecret);
  const refreshWith = async (options: Options = fake.options as Options) =>
    oauth.processRefreshTokenResponse(
      fake.as,
      fake.client,
      await oauth.refreshTokenGrantRequest(fake.as, fake.client, auth, "rt", options),
    );
  const cases: [string, () => Promise<unknown>, ReturnType<typeof nextStep>][] = [
    ["invalid_grant", () => {
      fake.overrideOnce("token", fake.oauthError("invalid_grant", "gone", 400));
      return refreshWith();
    }, "sign-in"],
    ["invalid_client", () => {
      fake.overrideOnce("token", fake.oauthError("invalid_client", "bad secret", 401));
      return refreshWith();
    }, "fix"],
    ["a userinfo challenge", async () => {
      fake.overrideOnce(
        "userinfo",
        new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'Bearer error="invalid_token"' },
        }),
      );
      return oauth.processUserInfoResponse(
        fake.as,
        fake.client,
        oauth.skipSubjectCheck,
        await oauth.userInfoRequest(fake.as, fake.client, "at", fake.options),
      );
    }, "sign-in"],
    ["access_denied at the callback", () =>
      Promise.resolve().then(() =>
        oauth.validateAuthResponse(
          fake.as,
          fake.client,
          new URLSearchParams({ error: "access_denied", iss: fake.issuer }),
          oauth.skipStateCheck,
        )
      ), "sign-in"],
    ["a 503", () => {
      fake.overrideOnce("token", new Response("down", { status: 503 }));
      return refreshWith();
    }, "retry"],
    ["a 404", () => {
      fake.overrideOnce("token", new Response("lost", { status: 404 }));
      return refreshWith();
    }, "fix"],
    [
      "http: without [allowInsecureRequests]",
      () => oauth.discoveryRequest(new URL("http://127.0.0.1:9")),
      "fix",
    ],
  ];
  // Real sockets: a refused port, a server that never answers, TLS to a plain-HTTP server.
  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response());
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch { /* closed */ }
  })();
  const hanging = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refused = `http://127.0.0.1:${(closed.addr as Deno.NetAddr).port}`;
  closed.close();
  const http = { [oauth.allowInsecureRequests]: true };
  cases.push(
    ["a refused port", () => oauth.discoveryRequest(new URL(refused), http), "retry"],
    [
      "a server that never answers",
      () => oauth.discoveryRequest(new URL(hanging), { ...http, signal: AbortSignal.timeout(100) }),
      "retry",
    ],
    [
      "https:// to a plain-HTTP port",
      () => oauth.discoveryRequest(new URL(`https://127.0.0.1:${plain.addr.port}`)),
      "fix",
    ],
  );
  try {
    const seen = new Map<string, string>();
    for (const [name, fail, expected] of cases) {
      const err = await failure(fail);
      assert.equal(nextStep(err), expected, `${name}: ${err}`);
      seen.set(name, (err as { code?: string }).code ?? "");
    }
    assert.equal(seen.get("a refused port"), oauth.NETWORK_ERROR);
    assert.equal(seen.get("a server that never answers"), oauth.REQUEST_TIMEOUT);
    assert.equal(seen.get("https:// to a plain-HTTP port"), oauth.TLS_ERROR);
  } finally {
    await plain.shutdown();
    for (const conn of held) conn.close();
    listener.close();
    await accepting;
  }
});

// --- mutual TLS -------------------------------------------------------------------------------

Deno.test("recipes: mutual TLS, with the built-in adapter, by hand, and at a resource", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki, {
    handler: ({ path, x5tS256 }) => {
      if (path.endsWith("/token")) {
        return x5tS256 === null
          ? { status: 401, body: { error: "invalid_client" } }
          : { body: { access_token: `bound-to-${x5tS256}`, token_type: "Bearer" } };
      }
      return { body: { path, x5tS256 } };
    },
  });
  const as: oauth.AuthorizationServer = {
    issuer: server.url,
    token_endpoint: `${server.url}/token`,
    mtls_endpoint_aliases: { token_endpoint: `${server.url}/mtls/token` },
  };
  const pems = { cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] };

  const { tokens, client } = await mtlsClient(as, pems);
  oauth.closeMtlsConnections(client);
  assert.equal(tokens.access_token, `bound-to-${pki.ec.x5tS256}`);
  assert.equal(server.requests.at(-1)?.path, "/mtls/token", "the alias was used");

  const byHand = await mtlsByHand(as, { client_id: "my-client" }, pems);
  assert.equal(byHand.access_token, `bound-to-${pki.ec.x5tS256}`);
  assert.equal(server.requests.at(-1)?.path, "/mtls/token");

  const resource = await mtlsResource(tokens.access_token, new URL(`${server.url}/resource`), pems);
  assert.equal(resource.status, 200);
  assert.equal(resource.thumbprint, pki.ec.x5tS256);
  assert.deepEqual(resource.body, { path: "/resource", x5tS256: pki.ec.x5tS256 });
});
