// Tests of the test harness itself: the fake authorization server, the test keys and the shared
// assertions. They use jose (as an independent JOSE implementation) and raw fetch calls only, so
// they stay green whatever state the library is in.

import assert from "node:assert/strict";
import { AssertionError } from "node:assert/strict";
import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, jwtVerify, SignJWT } from "jose";
import {
  allowInsecureRequests,
  customFetch,
  type HttpRequestOptions,
  type JWKS,
} from "@authlane/oauth";
import { createFakeAs, type FakeAs, startFakeAs } from "./_fake_as.ts";
import { generateTestKey, keys, testAlgs } from "./_keys.ts";
import { assertOAuthError, assertTypeError } from "./_assert.ts";

const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function getJson(server: FakeAs, url: string, init?: RequestInit): Promise<unknown> {
  const response = await server.fetch(url, init);
  assert.equal(response.status, 200, `${url} answered ${response.status}`);
  return await response.json();
}

function basic(id: string, secret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  return `Basic ${btoa(`${encode(id)}:${encode(secret)}`)}`;
}

async function post(
  server: FakeAs,
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await server.fetch(url, {
    method: "POST",
    headers: { ...FORM, ...headers },
    body: new URLSearchParams(form),
  });
}

async function dpopProof(
  htm: string,
  htu: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const { kid: _kid, alg: _alg, use: _use, ...jwk } = keys.ES256.publicJwk;
  return await new SignJWT({ jti: crypto.randomUUID(), htm, htu, ...extra })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk })
    .setIssuedAt()
    .sign(keys.ES256.privateKey);
}

async function s256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// -- keys ---------------------------------------------------------------------------------------

Deno.test("keys holds one extractable key pair per test algorithm with a sig JWK", async () => {
  for (const alg of testAlgs) {
    const key = keys[alg];
    assert.equal(key.alg, alg);
    assert.equal(key.publicJwk.kid, alg.toLowerCase());
    assert.equal(key.publicJwk.alg, alg);
    assert.equal(key.publicJwk.use, "sig");
    assert.equal(key.publicJwk.d, undefined);
    assert.equal(typeof key.privateJwk.d, "string");
    assert.equal(key.privateKey.extractable, true);
    assert.equal(key.publicKey.type, "public");
  }
  const fresh = await generateTestKey("ES256", "es256");
  assert.equal(fresh.kid, "es256");
  assert.notEqual(fresh.publicJwk.x, keys.ES256.publicJwk.x);
});

// -- discovery ------------------------------------------------------------------------------------

Deno.test("createFakeAs() serves discovery at both well-known URLs of a root issuer", async () => {
  const server = createFakeAs();
  assert.equal(server.issuer, "https://as.example");
  for (const path of ["openid-configuration", "oauth-authorization-server"]) {
    const metadata = await getJson(server, `https://as.example/.well-known/${path}`);
    assert.deepEqual(metadata, server.as);
  }
  assert.deepEqual(server.requests.map((r) => r.route), ["discovery", "discovery"]);
});

Deno.test("createFakeAs() serves discovery for a path issuer by RFC 8414 insertion and OIDC suffix only", async () => {
  const server = createFakeAs({ issuer: "https://as.example/tenant" });
  assert.equal(server.as.issuer, "https://as.example/tenant");
  assert.equal(server.as.token_endpoint, "https://as.example/tenant/token");
  const oidc = await getJson(server, "https://as.example/tenant/.well-known/openid-configuration");
  const oauth = await getJson(
    server,
    "https://as.example/.well-known/oauth-authorization-server/tenant",
  );
  assert.deepEqual(oidc, server.as);
  assert.deepEqual(oauth, server.as);
  for (
    const wrong of [
      "https://as.example/.well-known/openid-configuration",
      "https://as.example/.well-known/openid-configuration/tenant",
      "https://as.example/tenant/.well-known/oauth-authorization-server",
      "https://as.example/.well-known/oauth-authorization-server",
    ]
  ) {
    const response = await server.fetch(wrong);
    await response.body?.cancel();
    assert.equal(response.status, 404, wrong);
  }
  assert.equal(createFakeAs({ path: "/tenant" }).issuer, "https://as.example/tenant");
});

Deno.test("createFakeAs() metadata lists every endpoint and mTLS aliases on another host served by the same handler", async () => {
  const server = createFakeAs({
    path: "/t",
    metadata: { require_pushed_authorization_requests: true, jwks_uri: undefined },
  });
  const { as } = server;
  assert.equal(as.authorization_response_iss_parameter_supported, true);
  assert.deepEqual(as.id_token_signing_alg_values_supported, ["ES256", "RS256"]);
  assert.deepEqual(as.code_challenge_methods_supported, ["S256"]);
  assert.equal(as.require_pushed_authorization_requests, true);
  assert.equal(as.jwks_uri, undefined);
  for (
    const [name, url] of Object.entries(as.mtls_endpoint_aliases) as [string, string][]
  ) {
    assert.equal(new URL(url).host, "mtls.as.example", name);
    assert.equal(new URL(url).pathname, new URL(as[name] as string).pathname, name);
  }
  const response = await post(server, as.mtls_endpoint_aliases.token_endpoint, {
    grant_type: "client_credentials",
    client_id: "client",
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const record = server.lastRequest()!;
  assert.equal(record.route, "token");
  assert.equal(record.mtls, true);
  assert.equal(record.url.host, "mtls.as.example");
});

Deno.test("createFakeAs() answers 404 for unknown paths and foreign hosts, and logs them", async () => {
  const server = createFakeAs();
  for (const url of ["https://as.example/nope", "https://evil.example/token"]) {
    const response = await server.fetch(url);
    await response.body?.cancel();
    assert.equal(response.status, 404);
  }
  assert.deepEqual(server.requestsTo("unknown").map((r) => r.url.host), [
    "as.example",
    "evil.example",
  ]);
});

// -- signing ----------------------------------------------------------------------------------

Deno.test("sign() makes JWTs that verify with jose against the served JWKS, for every test key", async () => {
  const server = createFakeAs();
  const jwks = await getJson(server, server.as.jwks_uri) as JWKS;
  assert.deepEqual(jwks.keys.map((k) => k.kid), ["es256", "rs256", "ps256", "eddsa", "es384"]);
  const keySet = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  for (const alg of testAlgs) {
    const jwt = await server.sign(server.idTokenClaims(), undefined, alg);
    const { payload, protectedHeader } = await jwtVerify(jwt, keySet, {
      issuer: server.issuer,
      audience: "client",
    });
    assert.equal(protectedHeader.alg, alg);
    assert.equal(protectedHeader.kid, alg.toLowerCase());
    assert.equal(payload.sub, "user-1");
  }
  assert.equal((await server.idToken()).split(".").length, 3);
  const defaultHeader = JSON.parse(atob((await server.sign({})).split(".")[0]!));
  assert.deepEqual(defaultHeader, { alg: "ES256", kid: "es256" });
});

Deno.test("sign() applies header overrides and signs with the key, so a header alg may lie", async () => {
  const server = createFakeAs();
  const header = (jwt: string) => JSON.parse(atob(jwt.split(".")[0]!.replace(/-/g, "+")));
  assert.deepEqual(header(await server.sign({}, { kid: undefined, typ: "JWT" })), {
    alg: "ES256",
    typ: "JWT",
  });
  assert.deepEqual(header(await server.sign({}, { crit: ["urn:x"], "urn:x": 1 })).crit, ["urn:x"]);
  const lying = await server.sign({ a: 1 }, { alg: "RS256" });
  assert.equal(header(lying).alg, "RS256");
  // The signature is ECDSA (64 bytes), not RSA: verify it as ES256.
  const [h, p, sig] = lying.split(".") as [string, string, string];
  const ok = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    keys.ES256.publicKey,
    Uint8Array.from(atob(sig.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
    new TextEncoder().encode(`${h}.${p}`),
  );
  assert.equal(ok, true);
  const stranger = await generateTestKey("ES256", "es256");
  const forged = await server.sign({}, undefined, stranger);
  await assert.rejects(
    jwtVerify(forged, createLocalJWKSet(server.jwks as Parameters<typeof createLocalJWKSet>[0])),
  );
});

Deno.test("signWith() builds hostile tokens: a non-JSON payload and an unsigned alg none", async () => {
  const server = createFakeAs();
  const garbage = await server.signWith({ alg: "ES256", kid: "es256" }, "not json");
  const [, payload, signature] = garbage.split(".");
  assert.equal(atob(payload!), "not json");
  assert.notEqual(signature, "");
  const none = await server.signWith({ alg: "none" }, JSON.stringify({ sub: "x" }));
  assert.ok(none.endsWith("."));
  assert.equal(decodeJwt(none).sub, "x");
  const rawHeader = await server.signWith("{not json", "{}", null);
  assert.equal(atob(rawHeader.split(".")[0]!), "{not json");
  assert.ok(rawHeader.endsWith("."));
});

Deno.test("idTokenClaims() gives valid claims and deletes a claim overridden with undefined", () => {
  const server = createFakeAs();
  const claims = server.idTokenClaims({ nonce: "n", exp: undefined });
  assert.equal(claims.iss, "https://as.example");
  assert.equal(claims.aud, "client");
  assert.equal(claims.sub, "user-1");
  assert.equal(claims.nonce, "n");
  assert.ok(Math.abs((claims.iat as number) - server.now()) <= 1);
  assert.equal("exp" in claims, false);
  assert.equal(server.idTokenClaims().exp, (server.idTokenClaims().iat as number) + 300);
});

// -- overrides and the log ----------------------------------------------------------------------

Deno.test("override() replaces a route until reset(); overrideOnce() answers first, once each", async () => {
  const server = createFakeAs();
  const url = server.as.userinfo_endpoint;
  const auth = { authorization: "Bearer at" };
  server.override("userinfo", { sub: "persistent" });
  server.overrideOnce("userinfo", { sub: "once-1" });
  server.override("userinfo", server.oauthError("slow_down"), { once: true });
  assert.deepEqual(await getJson(server, url, { headers: auth }), { sub: "once-1" });
  const second = await server.fetch(url, { headers: auth });
  assert.equal(second.status, 400);
  assert.deepEqual(await second.json(), { error: "slow_down" });
  assert.deepEqual(await getJson(server, url, { headers: auth }), { sub: "persistent" });
  assert.deepEqual(await getJson(server, url, { headers: auth }), { sub: "persistent" });
  server.reset();
  assert.equal(server.requests.length, 0);
  const body = await getJson(server, url, { headers: auth }) as Record<string, unknown>;
  assert.equal(body.sub, "user-1");
  assert.throws(() => server.override("tokens" as "token", {}), TypeError);
});

Deno.test("override() with a Response serves a fresh clone on each request", async () => {
  const server = createFakeAs();
  server.override("jwks", new Response("not json", { status: 200 }));
  for (let i = 0; i < 2; i++) {
    const response = await server.fetch(server.as.jwks_uri);
    assert.equal(await response.text(), "not json");
  }
});

Deno.test("override() with a function gets the request, the parsed form and next()", async () => {
  const server = createFakeAs();
  server.override("token", async (req, body, next) => {
    assert.equal(req.method, "POST");
    assert.ok(body instanceof URLSearchParams);
    assert.equal(body.get("grant_type"), "client_credentials");
    assert.equal(await req.text(), body.toString());
    const original = await next();
    const json = await original.json();
    return { ...json, token_type: "weird" };
  });
  const response = await post(server, server.as.token_endpoint, {
    grant_type: "client_credentials",
    client_id: "client",
  });
  const body = await response.json();
  assert.equal(body.token_type, "weird");
  assert.equal(typeof body.access_token, "string");
  server.override("registration", (_req, raw) => server.json({ raw }, 400));
  const reg = await server.fetch(server.as.registration_endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "[1]",
  });
  assert.deepEqual(await reg.json(), { raw: "[1]" });
});

Deno.test("requests records method, URL, route, headers, body and parsed form of every request", async () => {
  const server = createFakeAs();
  assert.equal(server.requests.length, 0);
  const response = await post(
    server,
    server.as.revocation_endpoint,
    { token: "rt", token_type_hint: "refresh_token" },
    { authorization: basic("client", server.clientSecret), "x-test": "1" },
  );
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "");
  const [record] = server.requests;
  assert.equal(record?.method, "POST");
  assert.equal(record?.route, "revocation");
  assert.equal(record?.url.href, "https://as.example/revoke");
  assert.equal(record?.headers.get("x-test"), "1");
  assert.equal(record?.body, "token=rt&token_type_hint=refresh_token");
  assert.equal(record?.form?.get("token"), "rt");
  assert.equal(record?.mtls, false);
  assert.deepEqual(record?.clientAuth, {
    method: "client_secret_basic",
    clientId: "client",
    clientSecret: server.clientSecret,
  });
});

// -- client authentication ------------------------------------------------------------------------

Deno.test("token route form-decodes client_secret_basic credentials (RFC 6749 §2.3.1)", async () => {
  const secret = "a:b c+d%e/é";
  const server = createFakeAs({ clientSecret: secret, client: { client_id: "my client:1" } });
  const ok = await post(server, server.as.token_endpoint, { grant_type: "client_credentials" }, {
    authorization: basic("my client:1", secret),
  });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.equal(server.lastRequest()?.clientAuth?.clientSecret, secret);
  // Not form-encoded: "%e/" does not decode, so the client is refused.
  const raw = await post(server, server.as.token_endpoint, { grant_type: "client_credentials" }, {
    authorization: `Basic ${btoa(unescape(encodeURIComponent(`my client:1:${secret}`)))}`,
  });
  assert.equal(raw.status, 401);
  assert.equal(raw.headers.get("www-authenticate"), 'Basic realm="fake-as"');
  assert.equal((await raw.json()).error, "invalid_client");
});

Deno.test("token route accepts client_secret_post, none and an unverified JWT assertion, and refuses two methods", async () => {
  const server = createFakeAs();
  const grant = { grant_type: "client_credentials" };
  const cases: [Record<string, string>, Record<string, string>, number, string][] = [
    [{ client_id: "client", client_secret: server.clientSecret }, {}, 200, "client_secret_post"],
    [{ client_id: "client", client_secret: "wrong" }, {}, 401, "client_secret_post"],
    [{ client_id: "client" }, {}, 200, "none"],
    [{ client_id: "someone" }, {}, 401, "none"],
    [{}, {}, 401, "none"],
    [
      {
        client_id: "client",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: await server.sign({ iss: "client", sub: "client", aud: "x" }, undefined, {
          privateKey: (await generateTestKey("ES256")).privateKey,
        }),
      },
      {},
      200,
      "private_key_jwt",
    ],
    [
      { client_secret: server.clientSecret },
      { authorization: basic("client", server.clientSecret) },
      400,
      "invalid",
    ],
  ];
  for (const [form, headers, status, method] of cases) {
    const response = await post(server, server.as.token_endpoint, { ...grant, ...form }, headers);
    await response.body?.cancel();
    assert.equal(response.status, status, JSON.stringify(form));
    assert.equal(server.lastRequest()?.clientAuth?.method, method);
  }
  const jwtAuth = server.requests[5]?.clientAuth;
  assert.equal(jwtAuth?.assertionHeader?.alg, "ES256");
  assert.equal(jwtAuth?.assertionClaims?.aud, "x");
});

// -- grants -----------------------------------------------------------------------------------

Deno.test("authorize() returns a callback with code, state and iss; the token route checks PKCE and single use", async () => {
  const server = createFakeAs();
  const verifier = "v".repeat(43);
  const callback = await server.authorize({
    client_id: "client",
    redirect_uri: "https://rp.example/cb",
    response_type: "code",
    scope: "openid",
    state: "st",
    nonce: "n-1",
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  });
  assert.equal(callback.origin + callback.pathname, "https://rp.example/cb");
  assert.equal(callback.searchParams.get("state"), "st");
  assert.equal(callback.searchParams.get("iss"), server.issuer);
  const code = callback.searchParams.get("code")!;
  const redeem = (code_verifier: string) =>
    post(server, server.as.token_endpoint, {
      grant_type: "authorization_code",
      client_id: "client",
      code,
      redirect_uri: "https://rp.example/cb",
      code_verifier,
    });
  const response = await redeem(verifier);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("cache-control"), "no-store");
  const body = await response.json();
  assert.equal(body.token_type, "Bearer");
  assert.equal(body.expires_in, 3600);
  assert.equal(body.scope, "openid");
  assert.equal(typeof body.refresh_token, "string");
  const { payload } = await jwtVerify(
    body.id_token,
    createLocalJWKSet(server.jwks as Parameters<typeof createLocalJWKSet>[0]),
  );
  assert.equal(payload.nonce, "n-1");
  const reused = await redeem(verifier);
  assert.equal(reused.status, 400);
  assert.equal((await reused.json()).error, "invalid_grant");
  // A wrong verifier on a fresh code is refused.
  const other = (await server.authorize({
    client_id: "client",
    redirect_uri: "https://rp.example/cb",
    response_type: "code",
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  })).searchParams.get("code")!;
  const wrong = await post(server, server.as.token_endpoint, {
    grant_type: "authorization_code",
    client_id: "client",
    code: other,
    redirect_uri: "https://rp.example/cb",
    code_verifier: "w".repeat(43),
  });
  assert.equal((await wrong.json()).error, "invalid_grant");
});

Deno.test("authorize() wraps the response in a JARM JWT for response_mode=jwt", async () => {
  const server = createFakeAs();
  const callback = await server.authorize({
    client_id: "client",
    redirect_uri: "https://rp.example/cb",
    response_type: "code",
    response_mode: "jwt",
    state: "s",
  });
  const claims = decodeJwt(callback.searchParams.get("response")!);
  assert.equal(claims.iss, server.issuer);
  assert.equal(claims.aud, "client");
  assert.equal(claims.state, "s");
  assert.equal(typeof claims.code, "string");
});

Deno.test("token route serves every grant; nextNonce lands in ID tokens; client_credentials has neither refresh nor ID token", async () => {
  const server = createFakeAs();
  server.nextNonce = "nonce-42";
  const grants: [Record<string, string>, boolean, boolean][] = [
    [
      { grant_type: "authorization_code", code: "made-up", redirect_uri: "https://rp/cb" },
      true,
      true,
    ],
    [{ grant_type: "refresh_token", refresh_token: "rt" }, true, true],
    [{ grant_type: "client_credentials", scope: "api" }, false, false],
    [
      { grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: "dc" },
      false,
      true,
    ],
    [{ grant_type: "urn:openid:params:grant-type:ciba", auth_req_id: "ar" }, true, true],
    [{ grant_type: "urn:example:custom" }, false, true],
  ];
  for (const [form, idToken, refresh] of grants) {
    const response = await post(server, server.as.token_endpoint, { client_id: "client", ...form });
    assert.equal(response.status, 200, form.grant_type);
    const body = await response.json();
    assert.equal(typeof body.access_token, "string");
    assert.equal("id_token" in body, idToken, form.grant_type);
    assert.equal("refresh_token" in body, refresh, form.grant_type);
    if (idToken) assert.equal(decodeJwt(body.id_token).nonce, "nonce-42");
  }
  const missing = await post(server, server.as.token_endpoint, {
    client_id: "client",
    grant_type: "refresh_token",
  });
  assert.equal((await missing.json()).error, "invalid_request");
  const tokenBody = await server.tokenBody({ refresh_token: undefined, scope: "x" });
  assert.equal(decodeJwt(tokenBody.id_token as string).nonce, "nonce-42");
  assert.equal("refresh_token" in tokenBody, false);
});

Deno.test("userinfo route answers 401 Bearer invalid_token without a token and the claims with one", async () => {
  const server = createFakeAs();
  const anonymous = await server.fetch(server.as.userinfo_endpoint);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
  await anonymous.body?.cancel();
  const claims = await getJson(server, server.as.userinfo_endpoint, {
    headers: { authorization: "Bearer at" },
  });
  assert.deepEqual(claims, { sub: "user-1", name: "Test User", email: "user-1@as.example" });
  const signed = await server.fetch(server.as.userinfo_endpoint, {
    headers: { authorization: "Bearer at", accept: "application/jwt" },
  });
  assert.equal(signed.headers.get("content-type"), "application/jwt");
  assert.equal(decodeJwt(await signed.text()).iss, server.issuer);
});

Deno.test("DPoP: the token route binds to the proof key and enforces dpopNonce; resources check ath", async () => {
  const server = createFakeAs();
  const tokenUrl = server.as.token_endpoint;
  const form = { grant_type: "client_credentials", client_id: "client" };
  server.dpopNonce = "n1";
  const noNonce = await post(server, tokenUrl, form, { dpop: await dpopProof("POST", tokenUrl) });
  assert.equal(noNonce.status, 400);
  assert.equal(noNonce.headers.get("dpop-nonce"), "n1");
  assert.equal((await noNonce.json()).error, "use_dpop_nonce");
  const wrongHtu = await post(server, tokenUrl, form, {
    dpop: await dpopProof("POST", server.as.userinfo_endpoint, { nonce: "n1" }),
  });
  assert.equal((await wrongHtu.json()).error, "invalid_dpop_proof");
  const ok = await post(server, tokenUrl, form, {
    dpop: await dpopProof("POST", `${tokenUrl}?ignored=1`, { nonce: "n1" }),
  });
  const body = await ok.json();
  assert.equal(body.token_type, "DPoP");
  assert.equal(server.lastRequest()?.dpop?.header?.typ, "dpop+jwt");
  const at = body.access_token as string;
  const resource = server.resource;
  const good = await server.fetch(resource, {
    headers: {
      authorization: `DPoP ${at}`,
      dpop: await dpopProof("GET", resource, { nonce: "n1", ath: await s256(at) }),
    },
  });
  assert.equal(good.status, 200);
  assert.equal((await good.json()).authorization, `DPoP ${at}`);
  const noAth = await server.fetch(resource, {
    headers: {
      authorization: `DPoP ${at}`,
      dpop: await dpopProof("GET", resource, { nonce: "n1" }),
    },
  });
  assert.equal(noAth.status, 401);
  assert.match(noAth.headers.get("www-authenticate")!, /^DPoP error="invalid_dpop_proof"/);
  await noAth.body?.cancel();
  const asBearer = await server.fetch(resource, { headers: { authorization: `Bearer ${at}` } });
  assert.equal(asBearer.status, 401);
  await asBearer.body?.cancel();
  assert.equal(
    (await getJson(server, server.as.introspection_endpoint, {
      method: "POST",
      headers: FORM,
      body: new URLSearchParams({ token: at, client_id: "client" }),
    }) as { cnf: { jkt: string } }).cnf.jkt,
    await calculateJwkThumbprint(
      keys.ES256.publicJwk as Parameters<typeof calculateJwkThumbprint>[0],
    ),
  );
});

Deno.test("default routes answer introspection, PAR, device, backchannel, registration and resource metadata", async () => {
  const server = createFakeAs();
  const auth = { client_id: "client", client_secret: server.clientSecret };
  const introspection = await post(server, server.as.introspection_endpoint, {
    ...auth,
    token: "t",
  });
  assert.equal((await introspection.json()).active, true);
  const jwtIntrospection = await post(
    server,
    server.as.introspection_endpoint,
    { ...auth, token: "t" },
    { accept: "application/token-introspection+jwt" },
  );
  assert.equal(jwtIntrospection.headers.get("content-type"), "application/token-introspection+jwt");
  const introspectionJwt = await jwtIntrospection.text();
  assert.equal(JSON.parse(atob(introspectionJwt.split(".")[0]!)).typ, "token-introspection+jwt");
  assert.equal(
    (decodeJwt(introspectionJwt).token_introspection as { active: boolean }).active,
    true,
  );

  const par = await post(server, server.as.pushed_authorization_request_endpoint, {
    ...auth,
    response_type: "code",
    redirect_uri: "https://rp.example/cb",
    state: "from-par",
  });
  assert.equal(par.status, 201);
  const { request_uri, expires_in } = await par.json();
  assert.match(request_uri, /^urn:ietf:params:oauth:request_uri:/);
  assert.equal(expires_in, 60);
  const callback = await server.authorize({ client_id: "client", request_uri });
  assert.equal(callback.searchParams.get("state"), "from-par");

  const device = await post(server, server.as.device_authorization_endpoint, auth);
  const deviceBody = await device.json();
  assert.deepEqual(Object.keys(deviceBody).sort(), [
    "device_code",
    "expires_in",
    "interval",
    "user_code",
    "verification_uri",
    "verification_uri_complete",
  ]);
  const ciba = await post(server, server.as.backchannel_authentication_endpoint, {
    ...auth,
    scope: "openid",
    login_hint: "user-1",
  });
  assert.deepEqual(Object.keys(await ciba.json()).sort(), ["auth_req_id", "expires_in"]);

  const registration = await server.fetch(server.as.registration_endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ redirect_uris: ["https://rp.example/cb"] }),
  });
  assert.equal(registration.status, 201);
  const registered = await registration.json();
  assert.deepEqual(registered.redirect_uris, ["https://rp.example/cb"]);
  // The registered client can use the token endpoint.
  const token = await post(server, server.as.token_endpoint, {
    grant_type: "client_credentials",
    client_id: registered.client_id,
    client_secret: registered.client_secret,
  });
  assert.equal(token.status, 200);
  await token.body?.cancel();

  const metadata = await getJson(
    server,
    "https://as.example/.well-known/oauth-protected-resource/resource",
  );
  assert.deepEqual(metadata, {
    resource: server.resource,
    authorization_servers: [server.issuer],
    bearer_methods_supported: ["header"],
    dpop_signing_alg_values_supported: [...testAlgs],
  });
});

Deno.test("jwks can be rotated or replaced by something that is not a JWKS", async () => {
  const server = createFakeAs();
  const rotated = await generateTestKey("ES256", "rotated");
  server.jwks = { keys: [rotated.publicJwk] };
  assert.deepEqual(await getJson(server, server.as.jwks_uri), { keys: [rotated.publicJwk] });
  server.jwks = "surprise" as unknown as JWKS;
  assert.equal(await getJson(server, server.as.jwks_uri), "surprise");
  server.reset();
  assert.equal((await getJson(server, server.as.jwks_uri) as JWKS).keys.length, 5);
});

Deno.test("fetch rejects with the abort reason while a responder hangs", async () => {
  const server = createFakeAs();
  server.override("token", () => new Promise<Response>(() => {}));
  const controller = new AbortController();
  const pending = server.fetch(server.as.token_endpoint, {
    method: "POST",
    signal: controller.signal,
  });
  controller.abort(new DOMException("gave up", "TimeoutError"));
  await assert.rejects(pending, (err: DOMException) => err.name === "TimeoutError");
  await assert.rejects(
    server.fetch(server.as.token_endpoint, { signal: controller.signal }),
    (err: DOMException) => err.name === "TimeoutError",
  );
});

Deno.test("options spreads into request options as a customFetch", () => {
  const server = createFakeAs();
  const options: HttpRequestOptions<"POST", URLSearchParams> = { ...server.options };
  assert.equal(options[customFetch], server.fetch);
  assert.equal(options[allowInsecureRequests], undefined);
});

// -- the socket server ------------------------------------------------------------------------------

Deno.test("startFakeAs() serves the same routes over a loopback socket and stops on disposal", async () => {
  let origin: string;
  {
    await using server = await startFakeAs({ path: "/tenant" });
    origin = server.origin;
    assert.match(server.issuer, /^http:\/\/127\.0\.0\.1:\d+\/tenant$/);
    assert.equal(server.options[allowInsecureRequests], true);
    assert.equal(server.options[customFetch], undefined);
    const oidc = await fetch(`${server.issuer}/.well-known/openid-configuration`);
    assert.deepEqual(await oidc.json(), server.as);
    const oauth = await fetch(`${origin}/.well-known/oauth-authorization-server/tenant`);
    assert.equal((await oauth.json()).issuer, server.issuer);
    assert.equal(server.as.mtls_endpoint_aliases.token_endpoint, `${origin}/mtls/tenant/token`);
    const token = await fetch(server.as.mtls_endpoint_aliases.token_endpoint, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: "client" }),
    });
    assert.equal(token.status, 200);
    await token.body?.cancel();
    assert.deepEqual(server.requests.map((r) => [r.route, r.mtls]), [
      ["discovery", false],
      ["discovery", false],
      ["token", true],
    ]);
  }
  await assert.rejects(fetch(`${origin}/tenant/jwks`), TypeError);
});

// -- assertions --------------------------------------------------------------------------------

class FakeLibraryError extends Error {
  code: string;
  constructor(code: string, cause?: unknown) {
    super("checked something", { cause });
    this.code = code;
  }
}

Deno.test("assertOAuthError() returns the error when class, code and cause match", async () => {
  const sync = await assertOAuthError(
    () => {
      throw new FakeLibraryError("X", { claim: "aud", claims: { aud: "a" } });
    },
    FakeLibraryError,
    "X",
    { claim: "aud" },
  );
  assert.equal(sync.code, "X");
  const rejected = Promise.reject(new FakeLibraryError("Y", 1));
  let seen: unknown;
  await assertOAuthError(rejected, FakeLibraryError, "Y", (cause) => {
    seen = cause;
  });
  assert.equal(seen, 1);
});

Deno.test("assertOAuthError() fails on no throw, another class, another code or another cause", async () => {
  const attempts: (() => Promise<unknown>)[] = [
    () => assertOAuthError(() => 1, FakeLibraryError),
    () =>
      assertOAuthError(
        async () => await server().fetch("https://as.example/jwks"),
        FakeLibraryError,
      ),
    () => assertOAuthError(() => Promise.reject(new TypeError("x")), FakeLibraryError),
    () => assertOAuthError(() => Promise.reject(new FakeLibraryError("A")), FakeLibraryError, "B"),
    () =>
      assertOAuthError(
        () => Promise.reject(new FakeLibraryError("A", { claim: "iss" })),
        FakeLibraryError,
        "A",
        { claim: "aud" },
      ),
  ];
  for (const attempt of attempts) await assert.rejects(attempt(), AssertionError);
  function server() {
    return createFakeAs();
  }
});

Deno.test("assertTypeError() checks a coded TypeError thrown sync or async", async () => {
  const coded = (code: string) => Object.assign(new TypeError("bad"), { code });
  const err = await assertTypeError(() => {
    throw coded("ERR_INVALID_ARG_VALUE");
  }, "ERR_INVALID_ARG_VALUE");
  assert.equal(err.code, "ERR_INVALID_ARG_VALUE");
  await assertTypeError(async () => {
    await Promise.resolve();
    throw coded("ERR_INVALID_ARG_TYPE");
  }, "ERR_INVALID_ARG_TYPE");
  await assert.rejects(
    assertTypeError(() => {
      throw coded("ERR_INVALID_ARG_TYPE");
    }, "ERR_INVALID_ARG_VALUE"),
    AssertionError,
  );
});
