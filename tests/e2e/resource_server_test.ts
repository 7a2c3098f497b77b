/**
 * End to end from a resource server's seat: oidc-provider issues RFC 9068 JWT access tokens for
 * the resource `https://api.example` (client credentials with `resource`), the client sends them
 * with `protectedResourceRequest()`, and the `Request` it would put on the wire (captured through
 * `[customFetch]`) is what `validateJwtAccessToken()` checks, against the provider's JWKS. A
 * DPoP-bound token (RFC 9449 §7) is validated with the client's real proof, and refused without
 * it, with another key's proof, or with a proof made for another request. The provider's signature,
 * its issuer and the audience are all checked.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { type OidcProviderHarness, RESOURCE_SCOPE, startProvider } from "../_oidc_provider.ts";
import { discover, http } from "./_code_flow.ts";

/** A client credentials token for the built-in resource, optionally DPoP-bound. */
async function resourceToken(
  op: OidcProviderHarness,
  as: oauth.AuthorizationServer,
  DPoP?: oauth.DPoPHandle,
): Promise<oauth.TokenEndpointResponse> {
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const tokens = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(registered.client_secret!),
      { resource: op.resource, scope: RESOURCE_SCOPE },
      { ...http, DPoP },
    ),
  );
  assert.equal(tokens.access_token.split(".").length, 3, "a JWT access token");
  return tokens;
}

/**
 * Sends a resource request with `protectedResourceRequest()` and returns the `Request` a resource
 * server would receive: the library's own headers, proof and body, never touching the network.
 */
async function receivedRequest(
  accessToken: string,
  method: string,
  url: URL,
  options: { DPoP?: oauth.DPoPHandle; body?: string } = {},
): Promise<Request> {
  let captured: Request | undefined;
  const response = await oauth.protectedResourceRequest(
    accessToken,
    method,
    url,
    new Headers({ accept: "application/json" }),
    options.body,
    {
      DPoP: options.DPoP,
      [oauth.customFetch]: (target, init) => {
        captured = new Request(target, init as RequestInit);
        return Promise.resolve(Response.json({ ok: true }));
      },
    },
  );
  await response.body?.cancel();
  assert.ok(captured, "the library sent the request through customFetch");
  return captured;
}

/** The same request as `request`, but with `change` applied to a copy of its headers. */
function withHeaders(request: Request, change: (headers: Headers) => void): Request {
  const headers = new Headers(request.headers);
  change(headers);
  return new Request(request.url, { method: request.method, headers });
}

Deno.test("validateJwtAccessToken() accepts the provider's JWT access token as the resource server receives it", async () => {
  await using op = await startProvider();
  const as = await discover(op);
  const tokens = await resourceToken(op, as);
  assert.equal(tokens.token_type, "bearer");
  const url = new URL("/orders?limit=5", op.resource);
  const request = await receivedRequest(tokens.access_token, "GET", url);
  assert.equal(request.headers.get("authorization"), `Bearer ${tokens.access_token}`);

  const claims = await oauth.validateJwtAccessToken(as, request, op.resource, http);
  assert.equal(claims.iss, op.issuer);
  assert.equal(claims.aud, op.resource);
  assert.equal(claims.client_id, op.clients.confidential.client_id);
  assert.equal(
    claims.sub,
    op.clients.confidential.client_id,
    "client credentials: sub is the client",
  );
  assert.equal(claims.scope, RESOURCE_SCOPE);
  assert.equal(claims.cnf, undefined);
  assert.ok(claims.exp > claims.iat);
});

Deno.test("validateJwtAccessToken() refuses the provider's token at another audience, and a token whose claims were altered", async () => {
  await using op = await startProvider();
  const as = await discover(op);
  const { access_token } = await resourceToken(op, as);
  const url = new URL("/orders", op.resource);

  await assertOAuthError(
    oauth.validateJwtAccessToken(
      as,
      await receivedRequest(access_token, "GET", url),
      "https://other-api.example",
      http,
    ),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "aud" },
  );

  // The client widens its own scope: the provider's signature no longer matches.
  const [header, payload, signature] = access_token.split(".");
  const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(payload!)));
  claims.scope = `${RESOURCE_SCOPE} api:admin`;
  const altered = `${header}.${toBase64Url(JSON.stringify(claims))}.${signature}`;
  await assertOAuthError(
    oauth.validateJwtAccessToken(
      as,
      await receivedRequest(altered, "GET", url),
      op.resource,
      http,
    ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    // The signature check failed (the harness signs this resource's tokens with ES256).
    { alg: "ES256", kid: JSON.parse(new TextDecoder().decode(fromBase64Url(header!))).kid },
  );
});

Deno.test("validateJwtAccessToken() refuses a token from another provider signing with the same keys (iss check)", async () => {
  await using op = await startProvider();
  await using other = await startProvider();
  // The harness generates its signing keys once per process, so only `iss` tells them apart.
  assert.deepEqual(other.jwks, op.jwks);
  const as = await discover(op);
  const { access_token } = await resourceToken(other, await discover(other));
  await assertOAuthError(
    oauth.validateJwtAccessToken(
      as,
      await receivedRequest(access_token, "GET", new URL("/orders", op.resource)),
      op.resource,
      http,
    ),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "iss" },
  );
});

Deno.test("validateJwtAccessToken() accepts a DPoP-bound token with the client's real proof, and refuses it without the proof, with another key's proof, or for another request", async () => {
  await using op = await startProvider();
  const as = await discover(op);
  const client: oauth.Client = { client_id: op.clients.confidential.client_id };
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  const tokens = await resourceToken(op, as, DPoP);
  assert.equal(tokens.token_type, "dpop");
  const url = new URL("/orders", op.resource);
  const body = JSON.stringify({ item: "book" });

  const request = await receivedRequest(tokens.access_token, "POST", url, { DPoP, body });
  assert.equal(request.headers.get("authorization"), `DPoP ${tokens.access_token}`);
  assert.ok(request.headers.get("dpop"));
  const claims = await oauth.validateJwtAccessToken(as, request, op.resource, {
    ...http,
    requireDPoP: true,
  });
  assert.deepEqual(claims.cnf, { jkt: await DPoP.calculateThumbprint() });
  assert.equal(await request.text(), body, "the resource server still has the body to read");

  // RFC 9449 §7.1: a bound token must come with the DPoP scheme and a proof.
  await assertOAuthError(
    oauth.validateJwtAccessToken(
      as,
      await receivedRequest(tokens.access_token, "POST", url),
      op.resource,
      http,
    ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { header: "dpop" },
  );

  // A thief's own, valid proof: the key is not the one the token is bound to.
  const thief = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
  // Computed first: an await among assertOAuthError's arguments would leave the pending
  // validation's rejection unobserved for a moment, which Deno reports as an uncaught error.
  const thiefJkt = await thief.calculateThumbprint();
  await assertOAuthError(
    oauth.validateJwtAccessToken(
      as,
      await receivedRequest(tokens.access_token, "POST", url, { DPoP: thief }),
      op.resource,
      http,
    ),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "cnf.jkt", expected: thiefJkt },
  );

  // The genuine proof replayed on another request: htm and htu no longer match.
  const replayedMethod = new Request(request.url, {
    method: "DELETE",
    headers: request.headers,
  });
  await assertOAuthError(
    oauth.validateJwtAccessToken(as, replayedMethod, op.resource, http),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "htm" },
  );
  const replayedUrl = new Request(new URL("/admin", op.resource), {
    method: "POST",
    headers: request.headers,
  });
  await assertOAuthError(
    oauth.validateJwtAccessToken(as, replayedUrl, op.resource, http),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "htu" },
  );

  // A proof made for another access token (ath, RFC 9449 §4.3 (12)).
  const other = await resourceToken(op, as, DPoP);
  const foreignProof = await receivedRequest(other.access_token, "POST", url, { DPoP });
  await assertOAuthError(
    oauth.validateJwtAccessToken(
      as,
      withHeaders(request, (h) => h.set("dpop", foreignProof.headers.get("dpop")!)),
      op.resource,
      http,
    ),
    oauth.OperationProcessingError,
    oauth.JWT_CLAIM_COMPARISON,
    { claim: "ath" },
  );
});

Deno.test("validateJwtAccessToken() with requireDPoP refuses a Bearer token the provider did not bind", async () => {
  await using op = await startProvider();
  const as = await discover(op);
  const { access_token } = await resourceToken(op, as);
  await assertOAuthError(
    oauth.validateJwtAccessToken(
      as,
      await receivedRequest(access_token, "GET", new URL("/orders", op.resource)),
      op.resource,
      { ...http, requireDPoP: true },
    ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

function fromBase64Url(value: string): Uint8Array {
  const b64 = value.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(
    atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)),
    (c) => c.charCodeAt(0),
  );
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}
