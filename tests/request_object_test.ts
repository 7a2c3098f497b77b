/**
 * Request objects (RFC 9101 §4, §10.8): header and claims checked by an independent JOSE
 * implementation (jose) with the public key, parameter conversions, `[modifyAssertion]`, and the
 * refusal of parameters a request object cannot carry.
 */
import assert from "node:assert/strict";
import { decodeProtectedHeader, jwtVerify } from "jose";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs } from "./_fake_as.ts";
import { keys } from "./_keys.ts";

const AS: oauth.AuthorizationServer = { issuer: "https://as.example" };
const CLIENT: oauth.Client = { client_id: "client-1" };
const PARAMS = {
  response_type: "code",
  redirect_uri: "https://app.example/cb",
  scope: "openid",
  state: "st",
};

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

Deno.test("issueRequestObject() signs the parameters with iss, aud, client_id and a 60 s lifetime", async () => {
  const jwt = await oauth.issueRequestObject(AS, CLIENT, PARAMS, {
    key: keys.ES256.privateKey,
    kid: "client-key",
  });
  const { payload, protectedHeader } = await jwtVerify(jwt, keys.ES256.publicKey, {
    issuer: CLIENT.client_id,
    audience: AS.issuer,
    typ: "oauth-authz-req+jwt",
    algorithms: ["ES256"],
  });
  assert.deepEqual(protectedHeader, {
    alg: "ES256",
    typ: "oauth-authz-req+jwt",
    kid: "client-key",
  });
  for (const [name, value] of Object.entries(PARAMS)) assert.equal(payload[name], value);
  assert.equal(payload.client_id, CLIENT.client_id);
  assert.equal(typeof payload.jti, "string");
  assert.ok((payload.jti as string).length >= 32);
  const t = nowSeconds();
  assert.ok(Math.abs(payload.iat! - t) <= 2);
  assert.equal(payload.nbf, payload.iat);
  assert.equal(payload.exp, payload.iat! + 60);
});

for (const alg of ["RS256", "PS256", "ES384"] as const) {
  Deno.test(`issueRequestObject() sets alg ${alg} from a ${alg} key and omits kid without one`, async () => {
    const jwt = await oauth.issueRequestObject(AS, CLIENT, PARAMS, keys[alg].privateKey);
    const { protectedHeader } = await jwtVerify(jwt, keys[alg].publicKey, { algorithms: [alg] });
    assert.deepEqual(protectedHeader, { alg, typ: "oauth-authz-req+jwt" });
  });
}

Deno.test("issueRequestObject() signs with an Ed25519 key", async () => {
  const jwt = await oauth.issueRequestObject(AS, CLIENT, PARAMS, keys.EdDSA.privateKey);
  const header = decodeProtectedHeader(jwt);
  assert.equal(header.alg, "Ed25519");
  await jwtVerify(jwt, keys.EdDSA.publicKey, { algorithms: ["Ed25519"] });
});

Deno.test("issueRequestObject() gives each request object a fresh jti", async () => {
  const a = await oauth.issueRequestObject(AS, CLIENT, PARAMS, keys.ES256.privateKey);
  const b = await oauth.issueRequestObject(AS, CLIENT, PARAMS, keys.ES256.privateKey);
  const jti = async (jwt: string) => (await jwtVerify(jwt, keys.ES256.publicKey)).payload.jti;
  assert.notEqual(await jti(a), await jti(b));
});

Deno.test("issueRequestObject() uses the client's clock skew for iat, nbf and exp", async () => {
  const client: oauth.Client = { ...CLIENT, [oauth.clockSkew]: 3600 };
  const jwt = await oauth.issueRequestObject(AS, client, PARAMS, keys.ES256.privateKey);
  const { payload } = await jwtVerify(jwt, keys.ES256.publicKey, {
    currentDate: new Date((nowSeconds() + 3600) * 1000),
  });
  assert.ok(Math.abs(payload.iat! - (nowSeconds() + 3600)) <= 2);
});

Deno.test("issueRequestObject() never takes iss, aud, client_id, exp or jti from the parameters", async () => {
  const jwt = await oauth.issueRequestObject(AS, CLIENT, {
    ...PARAMS,
    iss: "attacker",
    aud: "https://evil.example",
    client_id: "someone-else",
    exp: "9999999999",
    jti: "fixed",
  }, keys.ES256.privateKey);
  const { payload } = await jwtVerify(jwt, keys.ES256.publicKey);
  assert.equal(payload.iss, CLIENT.client_id);
  assert.equal(payload.aud, AS.issuer);
  assert.equal(payload.client_id, CLIENT.client_id);
  assert.equal(payload.exp, payload.iat! + 60);
  assert.notEqual(payload.jti, "fixed");
});

Deno.test("issueRequestObject() converts max_age, claims, authorization_details and a repeated resource", async () => {
  const params = new URLSearchParams(PARAMS);
  params.set("max_age", "300");
  params.set("claims", JSON.stringify({ id_token: { acr: { essential: true } } }));
  params.set("authorization_details", JSON.stringify([{ type: "payment", amount: "1" }]));
  params.append("resource", "https://rs1.example");
  params.append("resource", "https://rs2.example");
  const jwt = await oauth.issueRequestObject(AS, CLIENT, params, keys.ES256.privateKey);
  const { payload } = await jwtVerify(jwt, keys.ES256.publicKey);
  assert.equal(payload.max_age, 300);
  assert.deepEqual(payload.claims, { id_token: { acr: { essential: true } } });
  assert.deepEqual(payload.authorization_details, [{ type: "payment", amount: "1" }]);
  assert.deepEqual(payload.resource, ["https://rs1.example", "https://rs2.example"]);
});

Deno.test("issueRequestObject() keeps a single resource a string", async () => {
  const jwt = await oauth.issueRequestObject(
    AS,
    CLIENT,
    { ...PARAMS, resource: "https://rs.example" },
    keys.ES256.privateKey,
  );
  const { payload } = await jwtVerify(jwt, keys.ES256.publicKey);
  assert.equal(payload.resource, "https://rs.example");
});

Deno.test("issueRequestObject() refuses a claims parameter that is not JSON", async () => {
  await assertOAuthError(
    () =>
      oauth.issueRequestObject(AS, CLIENT, { ...PARAMS, claims: "{nope" }, keys.ES256.privateKey),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
});

Deno.test("issueRequestObject() refuses a claims parameter that is not a JSON object", async () => {
  await assertTypeError(
    () => oauth.issueRequestObject(AS, CLIENT, { ...PARAMS, claims: "[]" }, keys.ES256.privateKey),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("issueRequestObject() refuses authorization_details that is not JSON", async () => {
  await assertOAuthError(
    () =>
      oauth.issueRequestObject(
        AS,
        CLIENT,
        { ...PARAMS, authorization_details: "[{" },
        keys.ES256.privateKey,
      ),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
});

Deno.test("issueRequestObject() refuses authorization_details that is not a JSON array", async () => {
  await assertTypeError(
    () =>
      oauth.issueRequestObject(
        AS,
        CLIENT,
        { ...PARAMS, authorization_details: '{"type":"x"}' },
        keys.ES256.privateKey,
      ),
    "ERR_INVALID_ARG_VALUE",
  );
});

for (const value of ["-1", "1.5", "abc", ""]) {
  Deno.test(`issueRequestObject() refuses max_age ${JSON.stringify(value)}`, async () => {
    await assertTypeError(
      () =>
        oauth.issueRequestObject(AS, CLIENT, { ...PARAMS, max_age: value }, keys.ES256.privateKey),
      "ERR_INVALID_ARG_VALUE",
    );
  });
}

Deno.test("issueRequestObject() refuses a repeated parameter other than resource", async () => {
  const params = new URLSearchParams(PARAMS);
  params.append("scope", "email");
  await assertTypeError(
    () => oauth.issueRequestObject(AS, CLIENT, params, keys.ES256.privateKey),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("issueRequestObject() refuses a public key", async () => {
  await assertTypeError(
    () => oauth.issueRequestObject(AS, CLIENT, PARAMS, keys.ES256.publicKey),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () => oauth.issueRequestObject(AS, CLIENT, PARAMS, { key: "nope" as unknown as CryptoKey }),
    "ERR_INVALID_ARG_TYPE",
  );
});

Deno.test("issueRequestObject() applies [modifyAssertion] to the header and claims before signing", async () => {
  const jwt = await oauth.issueRequestObject(AS, CLIENT, PARAMS, keys.ES256.privateKey, {
    [oauth.modifyAssertion](header, payload) {
      assert.equal(header.typ, "oauth-authz-req+jwt");
      assert.equal(payload.aud, AS.issuer);
      header.kid = "rotated";
      payload.exp = (payload.iat as number) + 600;
      payload.aud = [AS.issuer, "https://as.example/par"];
      payload.extra = "value";
    },
  });
  const { payload, protectedHeader } = await jwtVerify(jwt, keys.ES256.publicKey);
  assert.equal(protectedHeader.kid, "rotated");
  assert.equal(payload.exp, payload.iat! + 600);
  assert.deepEqual(payload.aud, [AS.issuer, "https://as.example/par"]);
  assert.equal(payload.extra, "value");
});

Deno.test("issueRequestObject() output is accepted by a pushed authorization request", async () => {
  const server = createFakeAs();
  const request = await oauth.issueRequestObject(
    server.as,
    server.client,
    PARAMS,
    keys.ES256.privateKey,
  );
  const response = await oauth.pushedAuthorizationRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(server.clientSecret),
    { request },
    server.options,
  );
  const { request_uri } = await oauth.processPushedAuthorizationResponse(
    server.as,
    server.client,
    response,
  );
  const callback = await server.authorize({ client_id: server.client.client_id, request_uri });
  assert.equal(callback.searchParams.get("state"), "st");
  assert.ok(callback.searchParams.get("code"));
});
