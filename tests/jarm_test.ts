/**
 * JARM (JWT Secured Authorization Response Mode): the fake server signs (and the tests encrypt
 * with jose) the `response` JWT; every lie — an unsigned or re-keyed token, an HMAC made with the
 * public key, another issuer or audience, an expired response, an `error` or a foreign `state`
 * inside — is refused, and an honest response feeds the authorization code grant.
 */
import assert from "node:assert/strict";
import { compactDecrypt, CompactEncrypt, generateKeyPair } from "jose";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, type FakeAs, now } from "./_fake_as.ts";
import { b64u, generateTestKey, keys } from "./_keys.ts";

const CALLBACK = "https://app.example/cb";

function jarmClaims(server: FakeAs, overrides?: Record<string, unknown>): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    iss: server.issuer,
    aud: server.client.client_id,
    exp: now() + 60,
    code: "code-1",
    state: "st",
    ...overrides,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}

function callback(jwt: string): URL {
  const url = new URL(CALLBACK);
  url.searchParams.set("response", jwt);
  return url;
}

async function validate(
  server: FakeAs,
  jwt: string,
  client: oauth.Client = server.client,
  expectedState: string | typeof oauth.expectNoState | typeof oauth.skipStateCheck = "st",
  options: oauth.JWEDecryptOptions = {},
): Promise<URLSearchParams> {
  return await oauth.validateJwtAuthResponse(
    server.as,
    client,
    callback(jwt),
    expectedState,
    { ...server.options, ...options },
  );
}

Deno.test("validateJwtAuthResponse() returns the response's string claims except aud", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server, { extra: 1, other: { a: "b" } }));
  const params = await validate(server, jwt);
  assert.deepEqual(Object.fromEntries(params), {
    iss: server.issuer,
    code: "code-1",
    state: "st",
  });
  assert.equal(server.requestsTo("jwks").length, 1);
});

Deno.test("validateJwtAuthResponse() output is accepted by authorizationCodeGrantRequest", async () => {
  const server = createFakeAs();
  const verifier = "verifier-verifier-verifier-verifier-verifier-1";
  const challenge = b64u(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
  const url = await server.authorize({
    client_id: server.client.client_id,
    redirect_uri: CALLBACK,
    response_type: "code",
    response_mode: "jwt",
    state: "st",
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  assert.ok(url.searchParams.has("response"));
  const params = await oauth.validateJwtAuthResponse(
    server.as,
    server.client,
    url,
    "st",
    server.options,
  );
  const response = await oauth.authorizationCodeGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretBasic(server.clientSecret),
    params,
    CALLBACK,
    verifier,
    server.options,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(server.as, server.client, response);
  assert.equal(tokens.token_type, "bearer");
  assert.equal(server.lastRequest("token")!.form?.get("code"), params.get("code"));
});

Deno.test("validateJwtAuthResponse() reads response from the fragment for fragment.jwt", async () => {
  const server = createFakeAs();
  const url = await server.authorize({
    client_id: server.client.client_id,
    redirect_uri: CALLBACK,
    response_type: "code",
    response_mode: "fragment.jwt",
    state: "st",
  });
  assert.equal(url.searchParams.has("response"), false);
  const params = await oauth.validateJwtAuthResponse(
    server.as,
    server.client,
    url,
    "st",
    server.options,
  );
  assert.ok(params.get("code"));
});

Deno.test("validateJwtAuthResponse() accepts URLSearchParams", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server));
  const params = await oauth.validateJwtAuthResponse(
    server.as,
    server.client,
    new URLSearchParams({ response: jwt }),
    "st",
    server.options,
  );
  assert.equal(params.get("code"), "code-1");
});

Deno.test("validateJwtAuthResponse() refuses parameters without a response", async () => {
  const server = createFakeAs();
  await assertOAuthError(
    () =>
      oauth.validateJwtAuthResponse(
        server.as,
        server.client,
        new URLSearchParams({ code: "code-1", state: "st", iss: server.issuer }),
        "st",
        server.options,
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("validateJwtAuthResponse() refuses a response parameter sent twice", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server));
  const params = new URLSearchParams([["response", jwt], ["response", jwt]]);
  await assertOAuthError(
    () => oauth.validateJwtAuthResponse(server.as, server.client, params, "st", server.options),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { parameter: "response" },
  );
});

Deno.test("validateJwtAuthResponse() refuses parameters that are neither URL nor URLSearchParams", async () => {
  const server = createFakeAs();
  await assertTypeError(
    () =>
      oauth.validateJwtAuthResponse(
        server.as,
        server.client,
        "response=x" as unknown as URL,
        "st",
        server.options,
      ),
    "ERR_INVALID_ARG_TYPE",
  );
});

Deno.test('validateJwtAuthResponse() refuses alg "none"', async () => {
  const server = createFakeAs();
  const jwt = await server.signWith({ alg: "none" }, JSON.stringify(jarmClaims(server)));
  await assertOAuthError(
    () => validate(server, jwt),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
  assert.equal(server.requestsTo("jwks").length, 0);
});

Deno.test("validateJwtAuthResponse() refuses a token whose signature was stripped", async () => {
  const server = createFakeAs();
  const signed = await server.sign(jarmClaims(server));
  const unsigned = signed.slice(0, signed.lastIndexOf(".") + 1);
  await assertOAuthError(
    () => validate(server, unsigned),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

async function hmacWithPublicKey(server: FakeAs, claims: Record<string, unknown>): Promise<string> {
  // Algorithm confusion: an HMAC keyed with the bytes of the server's public RSA key.
  const publicKeyBytes = new TextEncoder().encode(JSON.stringify(keys.RS256.publicJwk));
  const key = await crypto.subtle.importKey(
    "raw",
    publicKeyBytes,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return await server.signWith(
    { alg: "HS256", kid: keys.RS256.kid },
    JSON.stringify(claims),
    { privateKey: key, alg: "HS256" },
  );
}

Deno.test("validateJwtAuthResponse() refuses HS256 made with the public key when the server advertises asymmetric algs", async () => {
  const server = createFakeAs();
  const jwt = await hmacWithPublicKey(server, jarmClaims(server));
  await assertOAuthError(
    () => validate(server, jwt),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: ["ES256", "RS256"] },
  );
});

Deno.test("validateJwtAuthResponse() refuses HS256 even when the client registered it", async () => {
  const server = createFakeAs();
  const jwt = await hmacWithPublicKey(server, jarmClaims(server));
  const client = { ...server.client, authorization_signed_response_alg: "HS256" };
  await assertOAuthError(
    () => validate(server, jwt, client),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
  assert.equal(server.requestsTo("jwks").length, 0);
});

Deno.test("validateJwtAuthResponse() refuses an alg other than the client's authorization_signed_response_alg", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server)); // ES256
  const client = { ...server.client, authorization_signed_response_alg: "RS256" };
  await assertOAuthError(
    () => validate(server, jwt, client),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: ["RS256"] },
  );
  const rs256 = await server.sign(jarmClaims(server), undefined, "RS256");
  const params = await validate(server, rs256, client);
  assert.equal(params.get("code"), "code-1");
});

Deno.test("validateJwtAuthResponse() falls back to RS256 without client or server configuration", async () => {
  const server = createFakeAs({
    metadata: { authorization_signing_alg_values_supported: undefined },
  });
  await assertOAuthError(
    async () => validate(server, await server.sign(jarmClaims(server))),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: ["RS256"] },
  );
  const params = await validate(server, await server.sign(jarmClaims(server), undefined, "RS256"));
  assert.equal(params.get("code"), "code-1");
});

Deno.test("validateJwtAuthResponse() refuses a token signed by a key the server does not publish", async () => {
  const server = createFakeAs();
  const impostor = await generateTestKey("ES256", server.key.kid); // same kid, another key
  const jwt = await server.sign(jarmClaims(server), undefined, impostor);
  await assertOAuthError(
    () => validate(server, jwt),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAuthResponse() refuses a token whose kid is not in the JWKS", async () => {
  const server = createFakeAs();
  const stranger = await generateTestKey("ES256");
  const jwt = await server.sign(jarmClaims(server), undefined, stranger);
  await assertOAuthError(
    () => validate(server, jwt),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
  );
});

Deno.test("validateJwtAuthResponse() refuses a response from another issuer", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server, { iss: "https://evil.example" }));
  await assertOAuthError(
    () => validate(server, jwt),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss", expected: server.issuer },
  );
});

for (const claim of ["iss", "aud", "exp"]) {
  Deno.test(`validateJwtAuthResponse() refuses a response without ${claim}`, async () => {
    const server = createFakeAs();
    const jwt = await server.sign(jarmClaims(server, { [claim]: undefined }));
    await assertOAuthError(
      () => validate(server, jwt),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim },
    );
  });
}

Deno.test("validateJwtAuthResponse() refuses a response for another client", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server, { aud: "someone-else" }));
  await assertOAuthError(
    () => validate(server, jwt),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "aud", expected: server.client.client_id },
  );
});

Deno.test("validateJwtAuthResponse() accepts an aud array that contains the client", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server, { aud: ["other", server.client.client_id] }));
  const params = await validate(server, jwt);
  assert.equal(params.has("aud"), false);
});

Deno.test("validateJwtAuthResponse() refuses an expired response", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server, { exp: now() - 120 }));
  await assertOAuthError(
    () => validate(server, jwt),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "exp" },
  );
});

Deno.test("validateJwtAuthResponse() accepts a just-expired response within the clock tolerance and skew", async () => {
  const server = createFakeAs();
  const withinTolerance = await server.sign(jarmClaims(server, { exp: now() - 10 }));
  assert.equal((await validate(server, withinTolerance)).get("code"), "code-1");
  const skewed = await server.sign(jarmClaims(server, { exp: now() - 120 }));
  const client = { ...server.client, [oauth.clockSkew]: -300 };
  assert.equal((await validate(server, skewed, client)).get("code"), "code-1");
});

Deno.test("validateJwtAuthResponse() refuses a response not yet valid", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server, { nbf: now() + 600 }));
  await assertOAuthError(
    () => validate(server, jwt),
    oauth.OperationProcessingError,
    oauth.JWT_TIMESTAMP_CHECK,
    { claim: "nbf" },
  );
});

Deno.test("validateJwtAuthResponse() throws AuthorizationResponseError for an error inside the JWT", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(
    jarmClaims(server, {
      code: undefined,
      error: "access_denied",
      error_description: "the user said no",
    }),
  );
  const err = await assertOAuthError(
    () => validate(server, jwt),
    oauth.AuthorizationResponseError,
    oauth.AUTHORIZATION_RESPONSE_ERROR,
  );
  assert.equal(err.error, "access_denied");
  assert.equal(err.error_description, "the user said no");
  assert.equal(err.cause.get("state"), "st");
});

Deno.test("validateJwtAuthResponse() refuses a state other than the expected one", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server, { state: "attacker-state" }));
  await assertOAuthError(
    () => validate(server, jwt),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAuthResponse() refuses a state when none was sent", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server));
  await assertOAuthError(
    () => validate(server, jwt, server.client, oauth.expectNoState),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  const stateless = await server.sign(jarmClaims(server, { state: undefined }));
  const params = await validate(server, stateless, server.client, oauth.expectNoState);
  assert.equal(params.has("state"), false);
});

async function encryptionKeys() {
  return await generateKeyPair("ECDH-ES", { extractable: true });
}

async function encrypt(jwt: string, publicKey: CryptoKey): Promise<string> {
  return await new CompactEncrypt(new TextEncoder().encode(jwt))
    .setProtectedHeader({ alg: "ECDH-ES", enc: "A256GCM", cty: "JWT" })
    .encrypt(publicKey);
}

Deno.test("validateJwtAuthResponse() refuses an encrypted response without [jweDecrypt]", async () => {
  const server = createFakeAs();
  const { publicKey } = await encryptionKeys();
  const jwe = await encrypt(await server.sign(jarmClaims(server)), publicKey);
  await assertOAuthError(
    () => validate(server, jwe),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("validateJwtAuthResponse() decrypts an encrypted response with [jweDecrypt]", async () => {
  const server = createFakeAs();
  const { publicKey, privateKey } = await encryptionKeys();
  const jwe = await encrypt(await server.sign(jarmClaims(server)), publicKey);
  let calls = 0;
  const params = await validate(server, jwe, server.client, "st", {
    async [oauth.jweDecrypt](value) {
      calls++;
      const { plaintext } = await compactDecrypt(value, privateKey, {
        keyManagementAlgorithms: ["ECDH-ES"],
      });
      return new TextDecoder().decode(plaintext);
    },
  });
  assert.equal(calls, 1);
  assert.equal(params.get("code"), "code-1");
});

Deno.test("validateJwtAuthResponse() still verifies the signature of a decrypted response", async () => {
  const server = createFakeAs();
  const { publicKey, privateKey } = await encryptionKeys();
  const impostor = await generateTestKey("ES256", server.key.kid);
  const jwe = await encrypt(await server.sign(jarmClaims(server), undefined, impostor), publicKey);
  await assertOAuthError(
    () =>
      validate(server, jwe, server.client, "st", {
        async [oauth.jweDecrypt](value) {
          const { plaintext } = await compactDecrypt(value, privateKey);
          return new TextDecoder().decode(plaintext);
        },
      }),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateJwtAuthResponse() refuses an empty expectedState before any request", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server));
  await assertTypeError(() => validate(server, jwt, server.client, ""), "ERR_INVALID_ARG_VALUE");
  assert.equal(server.requests.length, 0);
});

Deno.test("validateJwtAuthResponse() leaves the state check to the caller with skipStateCheck", async () => {
  const server = createFakeAs();
  const jwt = await server.sign(jarmClaims(server, { state: "whatever" }));
  const params = await validate(server, jwt, server.client, oauth.skipStateCheck);
  assert.equal(params.get("state"), "whatever");
});

Deno.test("validateJwtAuthResponse() refuses a response whose iss claim is missing even when the server advertises RFC 9207", async () => {
  const server = createFakeAs();
  assert.equal(server.as.authorization_response_iss_parameter_supported, true);
  const jwt = await server.sign(jarmClaims(server, { iss: undefined }));
  await assertOAuthError(
    () => validate(server, jwt),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { claim: "iss" },
  );
});
