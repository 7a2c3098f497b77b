// Proves tests/_oidc_provider.ts with plain fetch, independent of authlane.

import assert from "node:assert/strict";
import { CookieJar } from "./e2e/_cookie_jar.ts";
import { CLIENT_IDS, type OidcProviderHarness, RESOURCE, startProvider } from "./_oidc_provider.ts";

type Json = Record<string, unknown>;

function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

function randomToken(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

function decodeJwtPayload(jwt: string): Json {
  const part = jwt.split(".")[1] ?? "";
  const padded = part.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(padded + "=".repeat((4 - padded.length % 4) % 4)));
}

function basic(id: string, secret: string): string {
  return `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;
}

async function discover(op: OidcProviderHarness): Promise<Json> {
  const response = await fetch(op.discoveryUrl);
  assert.equal(response.status, 200);
  return await response.json();
}

async function postForm(url: string, body: Record<string, string>, headers: HeadersInit = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: await response.json() as Json,
  };
}

interface AuthRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

async function authorizationRequest(
  metadata: Json,
  clientId: string,
  redirectUri: string,
  scope = "openid profile email",
): Promise<AuthRequest> {
  const verifier = randomToken();
  const state = randomToken();
  const nonce = randomToken();
  const url = new URL(metadata.authorization_endpoint as string);
  url.searchParams.set("client_id", clientId);
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", scope);
  url.searchParams.set("state", state);
  url.searchParams.set("nonce", nonce);
  url.searchParams.set("code_challenge", await s256(verifier));
  url.searchParams.set("code_challenge_method", "S256");
  return { url, verifier, state, nonce };
}

Deno.test("startProvider() serves discovery with its issuer and the configured endpoints", async () => {
  await using op = await startProvider();
  assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
  const metadata = await discover(op);
  assert.equal(metadata.issuer, op.issuer);
  assert.equal(metadata.token_endpoint, `${op.issuer}/token`);
  for (
    const key of [
      "authorization_endpoint",
      "userinfo_endpoint",
      "introspection_endpoint",
      "revocation_endpoint",
      "jwks_uri",
    ]
  ) {
    assert.equal(typeof metadata[key], "string", key);
  }
  assert.deepEqual(metadata.code_challenge_methods_supported, ["S256"]);
  assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  assert.ok((metadata.scopes_supported as string[]).includes("api:read"));
  assert.ok((metadata.grant_types_supported as string[]).includes("client_credentials"));

  const jwks = await (await fetch(metadata.jwks_uri as string)).json();
  assert.deepEqual(
    jwks.keys.map((k: Json) => k.kid).sort(),
    op.jwks.keys.map((k) => (k as Json).kid).sort(),
  );
  assert.ok(jwks.keys.every((k: Json) => k.d === undefined), "public keys only");
});

Deno.test("login() drives a full code flow with PKCE, client_secret_basic, refresh and userinfo", async () => {
  await using op = await startProvider();
  const metadata = await discover(op);
  const client = op.clients.confidential;
  const request = await authorizationRequest(metadata, client.client_id, client.redirect_uri);

  const callback = await op.login(request.url, { accountId: "bob" });
  assert.equal(`${callback.origin}${callback.pathname}`, client.redirect_uri);
  assert.equal(callback.searchParams.get("state"), request.state);
  assert.equal(callback.searchParams.get("iss"), op.issuer);
  const code = callback.searchParams.get("code");
  assert.ok(code);

  const token = await postForm(metadata.token_endpoint as string, {
    grant_type: "authorization_code",
    code,
    redirect_uri: client.redirect_uri,
    code_verifier: request.verifier,
  }, { authorization: basic(client.client_id, client.client_secret!) });
  assert.equal(token.status, 200, JSON.stringify(token.json));
  assert.equal(token.json.token_type, "Bearer");
  assert.equal(typeof token.json.access_token, "string");
  assert.equal(typeof token.json.refresh_token, "string");
  const claims = decodeJwtPayload(token.json.id_token as string);
  assert.equal(claims.iss, op.issuer);
  assert.equal(claims.aud, client.client_id);
  assert.equal(claims.sub, "bob");
  assert.equal(claims.nonce, request.nonce);

  const userinfo = await fetch(metadata.userinfo_endpoint as string, {
    headers: { authorization: `Bearer ${token.json.access_token}` },
  });
  assert.equal(userinfo.status, 200);
  assert.deepEqual(await userinfo.json(), {
    sub: "bob",
    name: "User bob",
    email: "bob@example.com",
    email_verified: true,
  });

  const introspection = await postForm(metadata.introspection_endpoint as string, {
    token: token.json.access_token as string,
  }, { authorization: basic(client.client_id, client.client_secret!) });
  assert.equal(introspection.status, 200);
  assert.equal(introspection.json.active, true);
  assert.equal(introspection.json.sub, "bob");

  const refreshed = await postForm(metadata.token_endpoint as string, {
    grant_type: "refresh_token",
    refresh_token: token.json.refresh_token as string,
  }, { authorization: basic(client.client_id, client.client_secret!) });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.json));
  assert.equal(typeof refreshed.json.access_token, "string");
  assert.equal(decodeJwtPayload(refreshed.json.id_token as string).sub, "bob");
});

Deno.test("login() returns access_denied when consent is refused", async () => {
  await using op = await startProvider();
  const metadata = await discover(op);
  const client = op.clients.public;
  const request = await authorizationRequest(metadata, client.client_id, client.redirect_uri);
  const callback = await op.login(request.url, { consent: false });
  assert.equal(callback.searchParams.get("error"), "access_denied");
  assert.equal(callback.searchParams.get("state"), request.state);
  assert.equal(callback.searchParams.get("iss"), op.issuer);
});

Deno.test("login() skips the login page when the same browser session is reused", async () => {
  await using op = await startProvider();
  const metadata = await discover(op);
  const client = op.clients.public;
  const jar = new CookieJar();
  const first = await authorizationRequest(metadata, client.client_id, client.redirect_uri);
  assert.ok((await op.login(first.url, { jar, accountId: "carol" })).searchParams.get("code"));

  const second = await authorizationRequest(metadata, client.client_id, client.redirect_uri);
  second.url.searchParams.set("prompt", "none");
  const callback = await op.login(second.url, { jar });
  const code = callback.searchParams.get("code");
  assert.ok(code, callback.href);
  const token = await postForm(metadata.token_endpoint as string, {
    grant_type: "authorization_code",
    client_id: client.client_id,
    code,
    redirect_uri: client.redirect_uri,
    code_verifier: second.verifier,
  });
  assert.equal(token.status, 200, JSON.stringify(token.json));
  assert.equal(decodeJwtPayload(token.json.id_token as string).sub, "carol");
});

Deno.test("the provider refuses an authorization request without PKCE", async () => {
  await using op = await startProvider();
  const metadata = await discover(op);
  const client = op.clients.confidential;
  const request = await authorizationRequest(metadata, client.client_id, client.redirect_uri);
  request.url.searchParams.delete("code_challenge");
  request.url.searchParams.delete("code_challenge_method");
  const callback = await op.login(request.url);
  assert.equal(callback.searchParams.get("error"), "invalid_request");
});

Deno.test("the token endpoint issues a JWT access token for the resource via client_credentials", async () => {
  await using op = await startProvider();
  const metadata = await discover(op);
  const client = op.clients.confidential;
  const token = await postForm(metadata.token_endpoint as string, {
    grant_type: "client_credentials",
    resource: RESOURCE,
    scope: "api:read",
  }, { authorization: basic(client.client_id, client.client_secret!) });
  assert.equal(token.status, 200, JSON.stringify(token.json));
  assert.equal(token.json.scope, "api:read");
  const jwt = token.json.access_token as string;
  const header = JSON.parse(atob((jwt.split(".")[0] ?? "").replace(/-/g, "+").replace(/_/g, "/")));
  assert.equal(header.typ, "at+jwt");
  assert.equal(header.alg, "ES256");
  const claims = decodeJwtPayload(jwt);
  assert.equal(claims.iss, op.issuer);
  assert.equal(claims.aud, RESOURCE);
  assert.equal(claims.client_id, client.client_id);
});

Deno.test("the token endpoint answers 401 invalid_client to a wrong client secret", async () => {
  await using op = await startProvider();
  const metadata = await discover(op);
  const client = op.clients.confidential;
  const token = await postForm(metadata.token_endpoint as string, {
    grant_type: "client_credentials",
  }, { authorization: basic(client.client_id, "not-the-secret") });
  assert.equal(token.status, 401);
  assert.equal(token.json.error, "invalid_client");
});

Deno.test("the private_key_jwt client authenticates with an ES256 assertion from clientKey", async () => {
  await using op = await startProvider();
  const metadata = await discover(op);
  const client = op.clients.privateKeyJwt;
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));
  const input = `${encode({ alg: "ES256", kid: op.clientKey.kid })}.${
    encode({
      iss: client.client_id,
      sub: client.client_id,
      aud: op.issuer,
      jti: randomToken(),
      iat: now,
      exp: now + 60,
    })
  }`;
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    op.clientKey.privateKey,
    new TextEncoder().encode(input),
  );
  const token = await postForm(metadata.token_endpoint as string, {
    grant_type: "client_credentials",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: `${input}.${b64url(new Uint8Array(signature))}`,
  });
  assert.equal(token.status, 200, JSON.stringify(token.json));
  assert.equal(typeof token.json.access_token, "string");
});

Deno.test("approveDeviceCode() approves a device authorization for the polling client", async () => {
  await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
  const metadata = await discover(op);
  const client = op.clients.public;
  const device = await postForm(metadata.device_authorization_endpoint as string, {
    client_id: client.client_id,
    scope: "openid profile",
  });
  assert.equal(device.status, 200, JSON.stringify(device.json));
  const poll = () =>
    postForm(metadata.token_endpoint as string, {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: device.json.device_code as string,
      client_id: client.client_id,
    });
  assert.equal((await poll()).json.error, "authorization_pending");

  await op.approveDeviceCode(device.json.user_code as string, { accountId: "dave" });
  const token = await poll();
  assert.equal(token.status, 200, JSON.stringify(token.json));
  assert.equal(decodeJwtPayload(token.json.id_token as string).sub, "dave");
});

Deno.test("approveDeviceCode() with consent false makes the polling client see access_denied", async () => {
  await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
  const metadata = await discover(op);
  const device = await postForm(metadata.device_authorization_endpoint as string, {
    client_id: op.clients.public.client_id,
    scope: "openid",
  });
  await op.approveDeviceCode(device.json.user_code as string, { consent: false });
  const token = await postForm(metadata.token_endpoint as string, {
    grant_type: "urn:ietf:params:oauth:grant-type:device_code",
    device_code: device.json.device_code as string,
    client_id: op.clients.public.client_id,
  });
  assert.equal(token.json.error, "access_denied");
});

Deno.test("completeBackchannel() grants a CIBA request for the polling client", async () => {
  await using op = await startProvider({ features: { ciba: { enabled: true } } });
  const metadata = await discover(op);
  const client = op.clients.confidential;
  const auth = { authorization: basic(client.client_id, client.client_secret!) };
  const started = await postForm(metadata.backchannel_authentication_endpoint as string, {
    scope: "openid",
    login_hint: "erin",
  }, auth);
  assert.equal(started.status, 200, JSON.stringify(started.json));
  const authReqId = started.json.auth_req_id as string;
  await op.completeBackchannel(authReqId);
  const token = await postForm(metadata.token_endpoint as string, {
    grant_type: "urn:openid:params:grant-type:ciba",
    auth_req_id: authReqId,
  }, auth);
  assert.equal(token.status, 200, JSON.stringify(token.json));
  assert.equal(decodeJwtPayload(token.json.id_token as string).sub, "erin");
});

Deno.test("startProvider() serves an issuer with a path and its RFC 8414 metadata", async () => {
  await using op = await startProvider({ issuerPath: "/tenant" });
  assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+\/tenant$/);
  const openid = await discover(op);
  assert.equal(openid.issuer, op.issuer);
  const rfc8414 = await fetch(`${op.origin}/.well-known/oauth-authorization-server/tenant`);
  assert.equal(rfc8414.status, 200);
  assert.equal((await rfc8414.json()).issuer, op.issuer);
  const client = op.clients.public;
  const request = await authorizationRequest(openid, client.client_id, client.redirect_uri);
  const callback = await op.login(request.url);
  assert.equal(callback.searchParams.get("iss"), op.issuer);
  assert.ok(callback.searchParams.get("code"));
});

Deno.test("startProvider() merges caller configuration, features and clients", async () => {
  await using op = await startProvider({
    configuration: { ttl: { AccessToken: 120 } },
    features: { jwtResponseModes: { enabled: true } },
    clientMetadata: { dpop_bound_access_tokens: false },
    clients: [{
      client_id: "extra",
      client_secret: "extra-secret-that-is-long-enough-for-hs256!",
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
    }],
  });
  const metadata = await discover(op);
  assert.ok((metadata.response_modes_supported as string[]).includes("jwt"));
  assert.equal(op.registeredClients.length, 4);
  assert.equal(op.clients.confidential.client_id, CLIENT_IDS.confidential);
  const token = await postForm(metadata.token_endpoint as string, {
    grant_type: "client_credentials",
    client_id: "extra",
    client_secret: "extra-secret-that-is-long-enough-for-hs256!",
  });
  assert.equal(token.status, 200, JSON.stringify(token.json));
  assert.equal(token.json.expires_in, 600); // ClientCredentials TTL, not AccessToken
});

Deno.test("startProvider() rejects invalid client metadata at startup", async () => {
  await assert.rejects(
    () =>
      startProvider({
        clients: [{
          client_id: "bad",
          client_secret: "x",
          redirect_uris: [],
          token_endpoint_auth_method: "nope",
        }],
      }),
    /client bad is invalid: token_endpoint_auth_method must be/,
  );
});

Deno.test("login() returns a form_post response as a URL carrying the posted fields", async () => {
  await using op = await startProvider();
  const metadata = await discover(op);
  const client = op.clients.public;
  const request = await authorizationRequest(metadata, client.client_id, client.redirect_uri);
  request.url.searchParams.set("response_mode", "form_post");
  const callback = await op.login(request.url);
  assert.equal(`${callback.origin}${callback.pathname}`, client.redirect_uri);
  assert.ok(callback.searchParams.get("code"));
  assert.equal(callback.searchParams.get("state"), request.state);
  assert.equal(callback.searchParams.get("iss"), op.issuer);
});

Deno.test("logout() ends the browser session so prompt=none then fails with login_required", async () => {
  await using op = await startProvider();
  const metadata = await discover(op);
  const client = op.clients.public;
  const jar = new CookieJar();
  const first = await authorizationRequest(metadata, client.client_id, client.redirect_uri);
  await op.login(first.url, { jar });

  const end = new URL(metadata.end_session_endpoint as string);
  end.searchParams.set("client_id", client.client_id);
  const landed = await op.logout(end, jar);
  assert.equal(landed.origin, op.origin);

  const second = await authorizationRequest(metadata, client.client_id, client.redirect_uri);
  second.url.searchParams.set("prompt", "none");
  const callback = await op.login(second.url, { jar });
  assert.equal(callback.searchParams.get("error"), "login_required");
});

Deno.test("CookieJar sends cookies by path and forgets expired ones", () => {
  const jar = new CookieJar();
  const base = "http://127.0.0.1:1";
  jar.setCookie(`${base}/interaction/abc`, "_interaction=abc; path=/interaction/abc; httponly");
  jar.setCookie(`${base}/auth`, "_session=s1; path=/; expires=Fri, 01 Jan 2100 00:00:00 GMT");
  jar.setCookie(`${base}/a/b/c`, "dflt=1");
  assert.equal(jar.header(`${base}/interaction/abc`), "_interaction=abc; _session=s1");
  assert.equal(jar.header(`${base}/interaction/abcd`), "_session=s1");
  assert.equal(jar.header(`${base}/a/b/x`), "dflt=1; _session=s1");
  assert.equal(jar.header("http://127.0.0.1:2/interaction/abc"), undefined);
  jar.setCookie(`${base}/`, "_session=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT");
  assert.equal(jar.get("_session"), undefined);
  jar.setCookie(`${base}/`, "gone=1; max-age=0");
  jar.setCookie(`${base}/`, "safe=1; secure");
  assert.equal(jar.header(`${base}/`), undefined);
  assert.equal(jar.header("https://127.0.0.1:1/"), undefined); // other origin
  assert.equal(jar.size, 3);
});

/** A throwaway PKI made with the openssl CLI: a CA, a server cert for 127.0.0.1, a client cert. */
async function makePki() {
  const dir = await Deno.makeTempDir();
  try {
    const run = async (...args: string[]) => {
      const out = await new Deno.Command("openssl", {
        args,
        cwd: dir,
        stdout: "null",
        stderr: "piped",
      })
        .output();
      if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    };
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await run(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-subj",
      "/CN=harness-ca",
      "-days",
      "1",
    );
    const leaf = async (name: string, ext: string) => {
      await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
      await run(
        "req",
        "-new",
        ...ec,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        `/CN=${name}`,
      );
      await run(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.pem`,
      );
      const cert = await Deno.readTextFile(`${dir}/${name}.pem`);
      const body = cert.replace(/-----[A-Z ]+-----|\s/g, "");
      const der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
      return { cert, key: await Deno.readTextFile(`${dir}/${name}.key`), der };
    };
    const server = await leaf(
      "server",
      "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    );
    const client = await leaf(
      "mtls-client",
      "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    );
    return { ca: await Deno.readTextFile(`${dir}/ca.pem`), server, client };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("startProvider() with tls authenticates tls_client_auth and binds the token to the certificate", async () => {
  const pki = await makePki();
  using withCert = Deno.createHttpClient({
    caCerts: [pki.ca],
    cert: pki.client.cert,
    key: pki.client.key,
  });
  using withoutCert = Deno.createHttpClient({ caCerts: [pki.ca] });
  await using op = await startProvider({
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca },
    fetch: (input, init) => fetch(input, { ...init, client: withoutCert }),
    features: { mTLS: { enabled: true, tlsClientAuth: true, certificateBoundAccessTokens: true } },
    clients: [{
      client_id: "mtls-client",
      token_endpoint_auth_method: "tls_client_auth",
      tls_client_auth_subject_dn: "CN=mtls-client",
      tls_client_certificate_bound_access_tokens: true,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
    }],
  });
  assert.match(op.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
  const request = (client: Deno.HttpClient) =>
    fetch(`${op.issuer}/token`, {
      method: "POST",
      client,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: "mtls-client",
        resource: RESOURCE,
        scope: "api:read",
      }),
    });

  const ok = await request(withCert);
  const token = await ok.json();
  assert.equal(ok.status, 200, JSON.stringify(token));
  const thumbprint = b64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", pki.client.der)),
  );
  assert.deepEqual(decodeJwtPayload(token.access_token).cnf, { "x5t#S256": thumbprint });

  const refused = await request(withoutCert);
  assert.equal(refused.status, 401);
  assert.equal((await refused.json()).error, "invalid_client");

  // The browser helpers go through options.fetch, so they work over TLS too.
  const verifier = randomToken();
  const url = new URL(`${op.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: op.clients.public.client_id,
    redirect_uri: op.clients.public.redirect_uri,
    response_type: "code",
    scope: "openid",
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  }).toString();
  const callback = await op.login(url);
  assert.equal(callback.searchParams.get("iss"), op.issuer);
  assert.ok(callback.searchParams.get("code"));
});
