/**
 * `code id_token` hybrid responses (OpenID Connect Core §3.3.2.11, §3.3.2.12) and the FAPI 1.0
 * detached signature (§5.2.2.1): `c_hash` / `s_hash` computed here with Web Crypto as an
 * independent oracle, forged and re-keyed ID tokens, the SHA-512 rule of Ed25519, and the grant
 * that follows.
 */
import assert from "node:assert/strict";
import { CompactEncrypt, generateKeyPair } from "jose";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, type FakeAs, now } from "./_fake_as.ts";
import { b64u, generateTestKey, type SigningKeyInput } from "./_keys.ts";

const CALLBACK = "https://app.example/cb";
const CODE = "SplxlOBeZQQYbYS6WxSbIA";
const STATE = "af0ifjsldkj";
const NONCE = "n-0S6_WzA2Mj";

/** The left half of the hash of the ASCII value, base64url (OIDC Core §3.3.2.11). */
async function leftHalf(value: string, hash: "SHA-256" | "SHA-384" | "SHA-512"): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest(hash, new TextEncoder().encode(value)),
  );
  return b64u(digest.slice(0, digest.length / 2));
}

interface Hybrid {
  server: FakeAs;
  idToken: string;
  url: URL;
  params: URLSearchParams;
}

async function hybrid(
  options: {
    claims?: Record<string, unknown>;
    header?: Record<string, unknown>;
    key?: SigningKeyInput;
    hash?: "SHA-256" | "SHA-384" | "SHA-512";
    state?: string | null;
    extra?: Record<string, string>;
    server?: FakeAs;
  } = {},
): Promise<Hybrid> {
  const server = options.server ?? createFakeAs();
  const hash = options.hash ?? "SHA-256";
  const state = options.state === undefined ? STATE : options.state;
  const idToken = await server.idToken(
    {
      nonce: NONCE,
      c_hash: await leftHalf(CODE, hash),
      s_hash: state === null ? undefined : await leftHalf(state, hash),
      auth_time: now() - 5,
      ...options.claims,
    },
    options.header,
    options.key,
  );
  const params = new URLSearchParams({ code: CODE, id_token: idToken });
  if (state !== null) params.set("state", state);
  for (const [k, v] of Object.entries(options.extra ?? {})) params.set(k, v);
  const url = new URL(CALLBACK);
  url.hash = params.toString();
  return { server, idToken, url, params };
}

function detached(r: Hybrid, expectedState: string | typeof oauth.expectNoState = STATE) {
  return oauth.validateDetachedSignatureResponse(
    r.server.as,
    r.server.client,
    r.url,
    NONCE,
    expectedState,
    undefined,
    r.server.options,
  );
}

function codeIdToken(r: Hybrid, expectedState: string | typeof oauth.expectNoState = STATE) {
  return oauth.validateCodeIdTokenResponse(
    r.server.as,
    r.server.client,
    r.url,
    NONCE,
    expectedState,
    undefined,
    r.server.options,
  );
}

const VALIDATORS = [
  ["validateDetachedSignatureResponse", detached],
  ["validateCodeIdTokenResponse", codeIdToken],
] as const;

for (const [name, validate] of VALIDATORS) {
  Deno.test(`${name}() returns the fragment's code and state without the ID token`, async () => {
    const r = await hybrid();
    const params = await validate(r);
    assert.equal(params.get("code"), CODE);
    assert.equal(params.get("state"), STATE);
    assert.equal(params.has("id_token"), false);
    assert.equal(r.server.requestsTo("jwks").length, 1);
  });

  Deno.test(`${name}() output is accepted by authorizationCodeGrantRequest`, async () => {
    const r = await hybrid();
    const params = await validate(r);
    const response = await oauth.authorizationCodeGrantRequest(
      r.server.as,
      r.server.client,
      oauth.ClientSecretPost(r.server.clientSecret),
      params,
      CALLBACK,
      oauth.nopkce,
      r.server.options,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(
      r.server.as,
      r.server.client,
      response,
    );
    assert.ok(tokens.access_token);
    assert.equal(r.server.lastRequest("token")!.form?.get("code"), CODE);
  });

  Deno.test(`${name}() refuses a c_hash of another code`, async () => {
    const r = await hybrid({ claims: { c_hash: await leftHalf("another-code", "SHA-256") } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.JWT_CLAIM_COMPARISON,
      { claim: "c_hash" },
    );
  });

  Deno.test(`${name}() refuses an ID token without c_hash`, async () => {
    const r = await hybrid({ claims: { c_hash: undefined } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim: "c_hash" },
    );
  });

  Deno.test(`${name}() refuses an s_hash of another state`, async () => {
    const r = await hybrid({ claims: { s_hash: await leftHalf("other-state", "SHA-256") } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.JWT_CLAIM_COMPARISON,
      { claim: "s_hash" },
    );
  });

  Deno.test(`${name}() refuses another nonce`, async () => {
    const r = await hybrid({ claims: { nonce: "replayed-nonce" } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.JWT_CLAIM_COMPARISON,
      { claim: "nonce", expected: NONCE },
    );
  });

  Deno.test(`${name}() refuses an ID token without nonce`, async () => {
    const r = await hybrid({ claims: { nonce: undefined } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim: "nonce" },
    );
  });

  Deno.test(`${name}() refuses an ID token signed by a key the server does not publish`, async () => {
    const server = createFakeAs();
    const impostor = await generateTestKey("ES256", server.key.kid); // same kid, forged
    const r = await hybrid({ server, key: impostor });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  });

  Deno.test(`${name}() refuses an ID token whose claims were changed after signing`, async () => {
    const r = await hybrid();
    const [header, , signature] = r.idToken.split(".");
    const claims = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.from(
          atob(r.idToken.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")),
          (c) => c.charCodeAt(0),
        ),
      ),
    );
    claims.sub = "admin";
    r.params.set("id_token", `${header}.${b64u(JSON.stringify(claims))}.${signature}`);
    r.url.hash = r.params.toString();
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  });

  Deno.test(`${name}() refuses an unsigned ID token`, async () => {
    const server = createFakeAs();
    const r = await hybrid({ server, header: { alg: "none" } });
    await assertOAuthError(
      () => validate(r),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  });

  Deno.test(`${name}() refuses a response without an ID token`, async () => {
    const r = await hybrid();
    r.url.hash = new URLSearchParams({ code: CODE, state: STATE }).toString();
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  });

  Deno.test(`${name}() refuses a response without a code`, async () => {
    const r = await hybrid();
    r.params.delete("code");
    r.url.hash = r.params.toString();
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  });

  Deno.test(`${name}() throws AuthorizationResponseError for an error response`, async () => {
    const r = await hybrid();
    r.url.hash = new URLSearchParams({ error: "login_required", state: STATE }).toString();
    const err = await assertOAuthError(
      () => validate(r),
      oauth.AuthorizationResponseError,
      oauth.AUTHORIZATION_RESPONSE_ERROR,
    );
    assert.equal(err.error, "login_required");
  });

  Deno.test(`${name}() refuses a state other than the expected one`, async () => {
    const r = await hybrid({ state: "attacker-state" });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  });

  Deno.test(`${name}() refuses an iss parameter of another issuer`, async () => {
    const r = await hybrid({ extra: { iss: "https://evil.example" } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
    const honest = await hybrid({ extra: { iss: r.server.issuer } });
    assert.equal((await validate(honest)).get("iss"), honest.server.issuer);
  });

  Deno.test(`${name}() refuses an ID token from another issuer`, async () => {
    const r = await hybrid({ claims: { iss: "https://evil.example" } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.JWT_CLAIM_COMPARISON,
      { claim: "iss" },
    );
  });

  Deno.test(`${name}() refuses an expired ID token`, async () => {
    const r = await hybrid({ claims: { exp: now() - 120 } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.JWT_TIMESTAMP_CHECK,
      { claim: "exp" },
    );
  });

  Deno.test(`${name}() uses SHA-512 for c_hash of an Ed25519-signed ID token`, async () => {
    const server = createFakeAs({
      metadata: { id_token_signing_alg_values_supported: ["EdDSA", "Ed25519"] },
    });
    const eddsa = await hybrid({ server, key: "EdDSA", hash: "SHA-512" });
    assert.equal((await validate(eddsa)).get("code"), CODE);
    const ed25519 = await hybrid({
      server,
      key: "EdDSA",
      header: { alg: "Ed25519" },
      hash: "SHA-512",
    });
    assert.equal((await validate(ed25519)).get("code"), CODE);
    // The same token with SHA-256 hashes (a common implementation mistake) is refused.
    const wrong = await hybrid({ server, key: "EdDSA", hash: "SHA-256" });
    await assertOAuthError(
      () => validate(wrong),
      oauth.OperationProcessingError,
      oauth.JWT_CLAIM_COMPARISON,
      { claim: "c_hash" },
    );
  });

  Deno.test(`${name}() uses SHA-384 for the hashes of an ES384-signed ID token`, async () => {
    const server = createFakeAs({
      metadata: { id_token_signing_alg_values_supported: ["ES384"] },
    });
    const r = await hybrid({ server, key: "ES384", hash: "SHA-384" });
    assert.equal((await validate(r)).get("code"), CODE);
    const wrong = await hybrid({ server, key: "ES384", hash: "SHA-256" });
    await assertOAuthError(
      () => validate(wrong),
      oauth.OperationProcessingError,
      oauth.JWT_CLAIM_COMPARISON,
      { claim: "c_hash" },
    );
  });

  Deno.test(`${name}() reads a form_post Request`, async () => {
    const r = await hybrid();
    const request = new Request(CALLBACK, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: r.params.toString(),
    });
    const params = await oauth.validateCodeIdTokenResponse(
      r.server.as,
      r.server.client,
      request,
      NONCE,
      STATE,
      undefined,
      r.server.options,
    );
    assert.equal(params.get("code"), CODE);
  });

  Deno.test(`${name}() reads URLSearchParams and a query-mode URL`, async () => {
    const r = await hybrid();
    const fromParams = await oauth.validateDetachedSignatureResponse(
      r.server.as,
      r.server.client,
      r.params,
      NONCE,
      STATE,
      undefined,
      r.server.options,
    );
    assert.equal(fromParams.get("code"), CODE);
    assert.equal(r.params.has("id_token"), true, "the caller's parameters are left untouched");
    const query = new URL(`${CALLBACK}?${r.params}`);
    const fromQuery = await oauth.validateCodeIdTokenResponse(
      r.server.as,
      r.server.client,
      query,
      NONCE,
      STATE,
      undefined,
      r.server.options,
    );
    assert.equal(fromQuery.get("code"), CODE);
  });

  Deno.test(`${name}() enforces max_age with auth_time`, async () => {
    const r = await hybrid({ claims: { auth_time: now() - 3600 } });
    await assertOAuthError(
      () =>
        oauth.validateCodeIdTokenResponse(
          r.server.as,
          r.server.client,
          r.url,
          NONCE,
          STATE,
          60,
          r.server.options,
        ),
      oauth.OperationProcessingError,
      oauth.JWT_TIMESTAMP_CHECK,
      { claim: "auth_time" },
    );
  });

  Deno.test(`${name}() refuses an encrypted ID token without [jweDecrypt]`, async () => {
    const r = await hybrid();
    const { publicKey } = await generateKeyPair("ECDH-ES");
    const jwe = await new CompactEncrypt(new TextEncoder().encode(r.idToken))
      .setProtectedHeader({ alg: "ECDH-ES", enc: "A256GCM" })
      .encrypt(publicKey);
    r.params.set("id_token", jwe);
    r.url.hash = r.params.toString();
    await assertOAuthError(
      () => validate(r),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  });
}

Deno.test("validateDetachedSignatureResponse() requires s_hash when a state was sent (FAPI 1.0 §5.2.2.1)", async () => {
  const r = await hybrid({ claims: { s_hash: undefined } });
  await assertOAuthError(
    () => detached(r),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { claim: "s_hash" },
  );
});

Deno.test("validateCodeIdTokenResponse() accepts an ID token without s_hash", async () => {
  const r = await hybrid({ claims: { s_hash: undefined } });
  assert.equal((await codeIdToken(r)).get("state"), STATE);
});

Deno.test("validateDetachedSignatureResponse() does not require s_hash without state", async () => {
  const r = await hybrid({ state: null });
  const params = await detached(r, oauth.expectNoState);
  assert.equal(params.has("state"), false);
});

Deno.test("validateCodeIdTokenResponse() refuses an s_hash when the response carries no state", async () => {
  const r = await hybrid({ state: null, claims: { s_hash: await leftHalf(STATE, "SHA-256") } });
  // oauth4webapi: a missing "state" beside an s_hash is a malformed response, not a comparison.
  await assertOAuthError(
    () => codeIdToken(r, oauth.expectNoState),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { claim: "s_hash", parameter: "state" },
  );
});

for (const [name, validate] of VALIDATORS) {
  Deno.test(`${name}() refuses an unexpired ID token issued more than an hour ago`, async () => {
    const r = await hybrid({ claims: { iat: now() - 3601, exp: now() + 600 } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.JWT_TIMESTAMP_CHECK,
      { claim: "iat" },
    );
  });

  Deno.test(`${name}() accepts an ID token issued less than an hour ago`, async () => {
    const r = await hybrid({ claims: { iat: now() - 3500, exp: now() + 600 } });
    assert.equal((await validate(r)).get("code"), CODE);
  });

  Deno.test(`${name}() refuses a c_hash that is not a string as INVALID_RESPONSE`, async () => {
    const r = await hybrid({ claims: { c_hash: 42 } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim: "c_hash" },
    );
  });

  Deno.test(`${name}() refuses an s_hash that is not a string as INVALID_RESPONSE`, async () => {
    const r = await hybrid({ claims: { s_hash: ["x"] } });
    await assertOAuthError(
      () => validate(r),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { claim: "s_hash" },
    );
  });
}

Deno.test("validateDetachedSignatureResponse() refuses an empty expectedNonce before any request", async () => {
  const r = await hybrid();
  await assertTypeError(
    () =>
      oauth.validateDetachedSignatureResponse(
        r.server.as,
        r.server.client,
        r.url,
        "",
        STATE,
        undefined,
        r.server.options,
      ),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(r.server.requests.length, 0);
});

Deno.test("validateCodeIdTokenResponse() refuses parameters of another type", async () => {
  const r = await hybrid();
  await assertTypeError(
    () =>
      oauth.validateCodeIdTokenResponse(
        r.server.as,
        r.server.client,
        r.url.href as unknown as URL,
        NONCE,
        STATE,
      ),
    "ERR_INVALID_ARG_TYPE",
  );
});
