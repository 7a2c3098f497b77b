/**
 * Client authentication (RFC 6749 §2.3.1, RFC 7523 §2.2, OpenID Connect Core §9, RFC 8705 §2):
 * what each method puts on the wire, checked against independent encoders and Web Crypto
 * verification, and that a client secret never surfaces in an error.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import * as o4w from "oauth4webapi";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, type FakeAs, type FakeRequest } from "./_fake_as.ts";
import { keys, type TestAlg } from "./_keys.ts";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** Sends a client credentials request with `auth`, processes it, and returns what the AS saw. */
async function authenticate(
  server: FakeAs,
  auth: oauth.ClientAuth,
  client: oauth.Client = server.client,
  as: oauth.AuthorizationServer = server.as,
): Promise<FakeRequest> {
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    auth,
    { scope: "api" },
    server.options,
  );
  await oauth.processClientCredentialsResponse(as, client, response);
  return server.lastRequest("token")!;
}

/**
 * `application/x-www-form-urlencoded` as RFC 6749 §2.3.1 and Appendix B name it (HTML 4.01
 * §17.13.4.1): UTF-8 bytes; only ASCII letters and digits kept; space to `+`; every other byte
 * `%XX` with uppercase hex.
 */
function formUrlEncode(value: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const keep = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a);
    if (byte === 0x20) out += "+";
    else if (keep) out += String.fromCharCode(byte);
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function fromB64u(segment: string): Uint8Array<ArrayBuffer> {
  const b64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function decodeJwt(
  jwt: string,
): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, p] = jwt.split(".");
  const text = (s: string) => new TextDecoder().decode(fromB64u(s));
  return { header: JSON.parse(text(h!)), claims: JSON.parse(text(p!)) };
}

const VERIFY_PARAMS: Record<TestAlg, AlgorithmIdentifier | RsaPssParams | EcdsaParams> = {
  ES256: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
  ES384: { name: "ECDSA", hash: "SHA-384" } as EcdsaParams,
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  PS256: { name: "RSA-PSS", saltLength: 32 } as RsaPssParams,
  EdDSA: { name: "Ed25519" },
};

async function verifies(
  jwt: string,
  key: CryptoKey,
  params: AlgorithmIdentifier,
): Promise<boolean> {
  const [h, p, s] = jwt.split(".");
  return await crypto.subtle.verify(
    params,
    key,
    fromB64u(s!),
    new TextEncoder().encode(`${h}.${p}`),
  );
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

// --- client_secret_basic (RFC 6749 §2.3.1) ----------------------------------------------------

Deno.test("ClientSecretBasic() form-encodes the client ID and secret before Basic encoding", async () => {
  const clientId = "a b:c.d_e";
  const secret = "p@ss:w/ord é+*~!'()-._";
  const server = createFakeAs({ client: { client_id: clientId }, clientSecret: secret });
  const sent = await authenticate(server, oauth.ClientSecretBasic(secret));
  const expectedUser = formUrlEncode(clientId);
  const expectedPassword = formUrlEncode(secret);
  assert.equal(expectedUser, "a+b%3Ac%2Ed%5Fe");
  assert.equal(expectedPassword, "p%40ss%3Aw%2Ford+%C3%A9%2B%2A%7E%21%27%28%29%2D%2E%5F");
  assert.equal(
    sent.headers.get("authorization"),
    `Basic ${btoa(`${expectedUser}:${expectedPassword}`)}`,
  );
  // A server decoding per §2.3.1 recovers both.
  const decoded = atob(sent.headers.get("authorization")!.slice("Basic ".length));
  const colon = decoded.indexOf(":");
  const formDecode = (x: string) => decodeURIComponent(x.replace(/\+/g, " "));
  assert.equal(formDecode(decoded.slice(0, colon)), clientId);
  assert.equal(formDecode(decoded.slice(colon + 1)), secret);
  assert.equal(sent.clientAuth?.method, "client_secret_basic");
  assert.equal(sent.form?.has("client_secret"), false);
  assert.equal(sent.form?.has("client_assertion"), false);
});

Deno.test("ClientSecretBasic() sends letters and digits unchanged and encodes - as %2D", async () => {
  const server = createFakeAs();
  assert.equal(server.clientSecret, "fake-secret");
  const sent = await authenticate(server, oauth.ClientSecretBasic(server.clientSecret));
  assert.equal(sent.headers.get("authorization"), `Basic ${btoa("client:fake%2Dsecret")}`);
});

Deno.test("ClientSecretBasic() sends the same Authorization header as oauth4webapi, byte for byte", async () => {
  const as = { issuer: "https://as.example", token_endpoint: "https://as.example/token" };
  const values = ["client", "a b", "x-y_z.w~v*u!t'(s)", "é ü 日本", "p%40ss", "+/=:;@&", "A1"];
  for (const clientId of values) {
    for (const secret of values) {
      const sent: string[] = [];
      const record = (_url: string, init: { headers: Record<string, string> }) => {
        sent.push(init.headers.authorization!);
        return Promise.resolve(new Response(null, { status: 204 }));
      };
      const client = { client_id: clientId };
      await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret), {}, {
        [oauth.customFetch]: record,
      });
      await o4w.clientCredentialsGrantRequest(as, client, o4w.ClientSecretBasic(secret), {}, {
        [o4w.customFetch]: record,
      });
      assert.equal(sent[0], sent[1], `${clientId} / ${secret}`);
    }
  }
});

Deno.test("ClientSecretBasic() with a wrong secret is refused by the server and the secret stays out of the error", async () => {
  const server = createFakeAs();
  const secret = "SENTINEL-basic-s3cr3t";
  const response = await oauth.clientCredentialsGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretBasic(secret),
    {},
    server.options,
  );
  const err = await assertOAuthError(
    () => oauth.processClientCredentialsResponse(server.as, server.client, response),
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assertNoSecret(err, secret);
});

// --- client_secret_post ------------------------------------------------------------------------

Deno.test("ClientSecretPost() puts client_id and client_secret in the body only", async () => {
  const secret = "p@ss:w/ord é+*~!'()&=";
  const server = createFakeAs({ clientSecret: secret });
  const sent = await authenticate(server, oauth.ClientSecretPost(secret));
  assert.equal(sent.form?.get("client_id"), "client");
  assert.equal(sent.form?.get("client_secret"), secret);
  assert.equal(sent.headers.get("authorization"), null);
  assert.equal(sent.form?.has("client_assertion"), false);
  assert.match(sent.headers.get("content-type") ?? "", /^application\/x-www-form-urlencoded/);
});

Deno.test("ClientSecretPost() with a wrong secret yields an invalid_client error free of the secret", async () => {
  const server = createFakeAs();
  const secret = "SENTINEL-post-s3cr3t";
  const response = await oauth.clientCredentialsGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(secret),
    {},
    server.options,
  );
  const err = await assertOAuthError(
    () => oauth.processClientCredentialsResponse(server.as, server.client, response),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
    { error: "invalid_client" },
  );
  assert.equal(err.status, 401);
  assertNoSecret(err, secret);
});

function assertNoSecret(err: Error, secret: string): void {
  const views = [
    err.message,
    String(err.stack),
    JSON.stringify(err.cause) ?? "",
    Deno.inspect(err, { depth: Infinity }),
    Deno.inspect(err, { depth: Infinity, showHidden: true }),
    Deno.inspect(err.cause, { depth: Infinity, showHidden: true }),
  ];
  for (const view of views) assert.ok(!view.includes(secret), `secret leaked into: ${view}`);
}

// --- none and tls_client_auth ------------------------------------------------------------------

Deno.test("None() sends only client_id", async () => {
  const server = createFakeAs();
  const sent = await authenticate(server, oauth.None());
  assert.deepEqual([...sent.form!.keys()].sort(), ["client_id", "grant_type", "scope"]);
  assert.equal(sent.form?.get("client_id"), "client");
  assert.equal(sent.headers.get("authorization"), null);
  assert.equal(sent.clientAuth?.method, "none");
});

Deno.test("TlsClientAuth() sends only client_id, no secret and no assertion", async () => {
  const server = createFakeAs();
  const sent = await authenticate(server, oauth.TlsClientAuth());
  assert.deepEqual([...sent.form!.keys()].sort(), ["client_id", "grant_type", "scope"]);
  assert.equal(sent.headers.get("authorization"), null);
});

// --- private_key_jwt (RFC 7523 §2.2, OIDC Core §9) --------------------------------------------

const ASSERTION_ALGS: [TestAlg, string][] = [
  ["ES256", "ES256"],
  ["RS256", "RS256"],
  ["PS256", "PS256"],
  ["EdDSA", "Ed25519"],
  ["ES384", "ES384"],
];

for (const [keyAlg, headerAlg] of ASSERTION_ALGS) {
  Deno.test(`PrivateKeyJwt() signs a verifiable ${headerAlg} assertion with a ${keyAlg} key`, async () => {
    const server = createFakeAs();
    const key = keys[keyAlg];
    const sent = await authenticate(
      server,
      oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
    );
    assert.equal(sent.form?.get("client_assertion_type"), JWT_BEARER);
    assert.equal(sent.form?.get("client_id"), "client");
    assert.equal(sent.form?.has("client_secret"), false);
    assert.equal(sent.headers.get("authorization"), null);
    const assertion = sent.form!.get("client_assertion")!;
    const { header } = decodeJwt(assertion);
    assert.equal(header.alg, headerAlg);
    assert.equal(header.kid, key.kid);
    assert.ok(await verifies(assertion, key.publicKey, VERIFY_PARAMS[keyAlg]));
  });
}

Deno.test("PrivateKeyJwt() carries iss, sub, aud, a 60 s lifetime and a fresh jti", async () => {
  const server = createFakeAs();
  const auth = oauth.PrivateKeyJwt(keys.ES256.privateKey);
  const before = now();
  const first = decodeJwt((await authenticate(server, auth)).form!.get("client_assertion")!);
  const second = decodeJwt((await authenticate(server, auth)).form!.get("client_assertion")!);
  const after = now();
  for (const { header, claims } of [first, second]) {
    assert.equal(header.kid, undefined);
    assert.equal(claims.iss, "client");
    assert.equal(claims.sub, "client");
    assert.equal(claims.aud, server.issuer);
    assert.equal(typeof claims.iat, "number");
    assert.ok((claims.iat as number) >= before && (claims.iat as number) <= after);
    assert.equal((claims.exp as number) - (claims.iat as number), 60);
    assert.equal(typeof claims.jti, "string");
    assert.ok((claims.jti as string).length >= 16);
  }
  assert.notEqual(first.claims.jti, second.claims.jti);
});

Deno.test("PrivateKeyJwt() follows [clockSkew] for iat and exp", async () => {
  const server = createFakeAs();
  const client = { ...server.client, [oauth.clockSkew]: 3600 };
  const sent = await authenticate(server, oauth.PrivateKeyJwt(keys.ES256.privateKey), client);
  const { claims } = decodeJwt(sent.form!.get("client_assertion")!);
  assert.ok(Math.abs((claims.iat as number) - (now() + 3600)) <= 2);
});

Deno.test("PrivateKeyJwt() applies [modifyAssertion] before signing", async () => {
  const server = createFakeAs();
  const auth = oauth.PrivateKeyJwt({ key: keys.PS256.privateKey, kid: "k1" }, {
    [oauth.modifyAssertion]: (header, payload) => {
      header.typ = "client-authentication+jwt";
      payload.exp = (payload.iat as number) + 30;
      payload.extra = "value";
    },
  });
  const assertion = (await authenticate(server, auth)).form!.get("client_assertion")!;
  const { header, claims } = decodeJwt(assertion);
  assert.equal(header.typ, "client-authentication+jwt");
  assert.equal(header.kid, "k1");
  assert.equal((claims.exp as number) - (claims.iat as number), 30);
  assert.equal(claims.extra, "value");
  assert.ok(await verifies(assertion, keys.PS256.publicKey, VERIFY_PARAMS.PS256));
});

Deno.test('PrivateKeyJwt() addresses the token endpoint with audience "token_endpoint"', async () => {
  const server = createFakeAs();
  const auth = oauth.PrivateKeyJwt(keys.ES256.privateKey, { audience: "token_endpoint" });
  const { claims } = decodeJwt((await authenticate(server, auth)).form!.get("client_assertion")!);
  assert.equal(claims.aud, server.as.token_endpoint);
});

Deno.test("PrivateKeyJwt() refuses an unknown audience option before any request", async () => {
  const server = createFakeAs();
  const auth = oauth.PrivateKeyJwt(keys.ES256.privateKey, {
    audience: "resource" as "issuer",
  });
  await assertTypeError(() => authenticate(server, auth), "ERR_INVALID_ARG_VALUE");
  assert.equal(server.requests.length, 0);
});

Deno.test("PrivateKeyJwt() refuses a [modifyAssertion] that is not a function before any request", async () => {
  const server = createFakeAs();
  const auth = oauth.PrivateKeyJwt(keys.ES256.privateKey, {
    [oauth.modifyAssertion]: "nope" as unknown as oauth.ModifyAssertionFunction,
  });
  await assertTypeError(() => authenticate(server, auth), "ERR_INVALID_ARG_TYPE");
  assert.equal(server.requests.length, 0);
});

Deno.test("PrivateKeyJwt() refuses a public key, a secret key and non-keys", async () => {
  await assertTypeError(() => oauth.PrivateKeyJwt(keys.ES256.publicKey), "ERR_INVALID_ARG_VALUE");
  await assertTypeError(
    () => oauth.PrivateKeyJwt({ key: keys.RS256.publicKey, kid: "rs256" }),
    "ERR_INVALID_ARG_VALUE",
  );
  const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  await assertTypeError(() => oauth.PrivateKeyJwt(hmac as CryptoKey), "ERR_INVALID_ARG_VALUE");
  await assertTypeError(
    () => oauth.PrivateKeyJwt(keys.ES256.privateJwk as unknown as CryptoKey),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => oauth.PrivateKeyJwt("-----BEGIN PRIVATE KEY-----" as unknown as CryptoKey),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => oauth.PrivateKeyJwt({ key: keys.ES256.privateKey, kid: "" }),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("PrivateKeyJwt() refuses an RSA key shorter than 2048 bits", async () => {
  // RFC 7518 §3.3 and §3.5: RS* and PS* keys MUST be 2048 bits or larger (oauth4webapi agrees).
  for (const name of ["RSASSA-PKCS1-v1_5", "RSA-PSS"]) {
    const weak = await crypto.subtle.generateKey(
      { name, modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      false,
      ["sign", "verify"],
    ) as CryptoKeyPair;
    await assertOAuthError(
      () => oauth.PrivateKeyJwt(weak.privateKey),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

// --- client_secret_jwt -----------------------------------------------------------------------

Deno.test("ClientSecretJwt() signs an HS256 assertion that verifies with the secret", async () => {
  const server = createFakeAs();
  const secret = "a-client-secret-of-reasonable-length-é";
  const sent = await authenticate(server, oauth.ClientSecretJwt(secret));
  const assertion = sent.form!.get("client_assertion")!;
  const { header, claims } = decodeJwt(assertion);
  assert.equal(header.alg, "HS256");
  assert.equal(claims.iss, "client");
  assert.equal(claims.sub, "client");
  assert.equal(claims.aud, server.issuer);
  assert.equal((claims.exp as number) - (claims.iat as number), 60);
  const hmac = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  assert.ok(await verifies(assertion, hmac, "HMAC"));
  // The secret itself never travels.
  assert.ok(!sent.body.includes(encodeURIComponent(secret)));
  assert.ok(!sent.body.includes(secret));
  assert.equal(sent.headers.get("authorization"), null);
});

Deno.test("ClientSecretJwt() keeps the secret out of the error when the server refuses the client", async () => {
  const server = createFakeAs();
  const secret = "SENTINEL-jwt-s3cr3t";
  server.override("token", () => server.oauthError("invalid_client", "assertion rejected", 401));
  const response = await oauth.clientCredentialsGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretJwt(secret, { audience: "token_endpoint" }),
    {},
    server.options,
  );
  const err = await assertOAuthError(
    () => oauth.processClientCredentialsResponse(server.as, server.client, response),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assertNoSecret(err, secret);
});

// --- argument errors -----------------------------------------------------------------------

Deno.test("ClientSecretPost(), ClientSecretBasic() and ClientSecretJwt() refuse an empty or missing secret", async () => {
  for (const factory of [oauth.ClientSecretPost, oauth.ClientSecretBasic, oauth.ClientSecretJwt]) {
    await assertTypeError(() => factory(""), "ERR_INVALID_ARG_VALUE");
    await assertTypeError(() => factory(undefined as unknown as string), "ERR_INVALID_ARG_TYPE");
    await assertTypeError(() => factory(1234 as unknown as string), "ERR_INVALID_ARG_TYPE");
  }
});

Deno.test("clientCredentialsGrantRequest() refuses a clientAuthentication that is not a function", async () => {
  const server = createFakeAs();
  await assertTypeError(
    () =>
      oauth.clientCredentialsGrantRequest(
        server.as,
        server.client,
        "client_secret_basic" as unknown as oauth.ClientAuth,
        {},
        server.options,
      ),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("PrivateKeyJwt() keeps a secret passed by mistake out of its TypeError", async () => {
  const secret = "SENTINEL-typed-wrong";
  const err = await assertTypeError(
    () => oauth.PrivateKeyJwt(secret as unknown as CryptoKey),
    "ERR_INVALID_ARG_TYPE",
  );
  assertNoSecret(err, secret);
});
