/**
 * End to end against oidc-provider with PAR (RFC 9126), signed request objects (RFC 9101) and
 * JARM switched on: a pushed request completes the code flow through its `request_uri`, a request
 * object signed with the private_key_jwt client's key travels as `request=` (and pushed), and a
 * `response_mode=jwt` callback is verified against the provider's JWKS before the code grant. The
 * provider refuses what it must (an unregistered redirect URI, a request object signed with
 * another key), and authlane refuses a tampered JARM response and a JARM response handed to
 * `validateAuthResponse()`.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { startProvider } from "../_oidc_provider.ts";
import { authorizationUrl, codeRequest, discover, http, redeem } from "./_code_flow.ts";

const FEATURES = {
  pushedAuthorizationRequests: { enabled: true },
  requestObjects: { enabled: true },
  jwtResponseModes: { enabled: true },
};

Deno.test("pushedAuthorizationRequest() gets a request_uri that completes the code flow at the authorization endpoint", async () => {
  await using op = await startProvider({ features: FEATURES });
  const as = await discover(op);
  assert.ok(as.pushed_authorization_request_endpoint);
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);
  const pending = await codeRequest(client.client_id, registered.redirect_uri);

  const pushed = await oauth.processPushedAuthorizationResponse(
    as,
    client,
    await oauth.pushedAuthorizationRequest(as, client, clientAuth, pending.params, http),
  );
  assert.match(pushed.request_uri, /^urn:ietf:params:oauth:request_uri:/);
  assert.ok(pushed.expires_in > 0);

  // RFC 9126 §4: only client_id and request_uri go through the browser.
  const callback = await op.login(
    authorizationUrl(as, { client_id: client.client_id, request_uri: pushed.request_uri }),
  );
  const params = oauth.validateAuthResponse(as, client, callback, pending.state);
  const { claims } = await redeem(as, client, clientAuth, params, registered.redirect_uri, pending);
  assert.equal(claims.sub, "alice");
});

Deno.test("processPushedAuthorizationResponse() surfaces the provider's refusal of an unregistered redirect_uri as ResponseBodyError", async () => {
  await using op = await startProvider({ features: FEATURES });
  const as = await discover(op);
  const registered = op.clients.confidential;
  const client: oauth.Client = { client_id: registered.client_id };
  const pending = await codeRequest(client.client_id, "http://127.0.0.1/not-registered");
  const response = await oauth.pushedAuthorizationRequest(
    as,
    client,
    oauth.ClientSecretBasic(registered.client_secret!),
    pending.params,
    http,
  );
  const err = await assertOAuthError(
    oauth.processPushedAuthorizationResponse(as, client, response),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.status, 400);
  // oidc-provider answers invalid_request here (RFC 9126 §2.3 allows any RFC 6749 error).
  assert.equal(err.error, "invalid_request");
});

Deno.test("issueRequestObject() signs a request the provider accepts as request= and completes the code flow", async () => {
  await using op = await startProvider({ features: FEATURES });
  const as = await discover(op);
  const registered = op.clients.privateKeyJwt;
  const client: oauth.Client = { client_id: registered.client_id };
  const key = { key: op.clientKey.privateKey, kid: op.clientKey.kid };
  const pending = await codeRequest(client.client_id, registered.redirect_uri);

  const request = await oauth.issueRequestObject(as, client, pending.params, key);
  const [header] = request.split(".");
  assert.deepEqual(JSON.parse(new TextDecoder().decode(decodeBase64Url(header!))), {
    alg: "ES256",
    typ: "oauth-authz-req+jwt",
    kid: op.clientKey.kid,
  });
  // RFC 9101 §5: only what is inside the signed request counts; OIDC Core §6.1 still wants
  // client_id, response_type and scope outside it.
  const callback = await op.login(
    authorizationUrl(as, {
      client_id: client.client_id,
      response_type: "code",
      scope: "openid",
      request,
    }),
  );
  const params = oauth.validateAuthResponse(as, client, callback, pending.state);
  const { tokens } = await redeem(
    as,
    client,
    oauth.PrivateKeyJwt(key),
    params,
    registered.redirect_uri,
    pending,
  );
  // The email scope was only inside the signed request: the provider read the request object.
  assert.deepEqual(tokens.scope?.split(" ").sort(), ["email", "openid"]);
});

Deno.test("issueRequestObject() output pushed to the PAR endpoint completes the code flow", async () => {
  await using op = await startProvider({ features: FEATURES });
  const as = await discover(op);
  const registered = op.clients.privateKeyJwt;
  const client: oauth.Client = { client_id: registered.client_id };
  const key = { key: op.clientKey.privateKey, kid: op.clientKey.kid };
  const clientAuth = oauth.PrivateKeyJwt(key);
  const pending = await codeRequest(client.client_id, registered.redirect_uri);

  const request = await oauth.issueRequestObject(as, client, pending.params, key);
  const pushed = await oauth.processPushedAuthorizationResponse(
    as,
    client,
    await oauth.pushedAuthorizationRequest(as, client, clientAuth, { request }, http),
  );
  const callback = await op.login(
    authorizationUrl(as, { client_id: client.client_id, request_uri: pushed.request_uri }),
  );
  const params = oauth.validateAuthResponse(as, client, callback, pending.state);
  await redeem(as, client, clientAuth, params, registered.redirect_uri, pending);
});

Deno.test("issueRequestObject() with a key the client never registered is refused by the provider (invalid_request_object)", async () => {
  await using op = await startProvider({ features: FEATURES });
  const as = await discover(op);
  const registered = op.clients.privateKeyJwt;
  const client: oauth.Client = { client_id: registered.client_id };
  const pending = await codeRequest(client.client_id, registered.redirect_uri);
  const stranger = await oauth.generateKeyPair("ES256");
  const request = await oauth.issueRequestObject(as, client, pending.params, {
    key: stranger.privateKey,
    kid: op.clientKey.kid,
  });
  const response = await oauth.pushedAuthorizationRequest(
    as,
    client,
    oauth.PrivateKeyJwt({ key: op.clientKey.privateKey, kid: op.clientKey.kid }),
    { request },
    http,
  );
  const err = await assertOAuthError(
    oauth.processPushedAuthorizationResponse(as, client, response),
    oauth.ResponseBodyError,
    oauth.RESPONSE_BODY_ERROR,
  );
  assert.equal(err.error, "invalid_request_object");
});

Deno.test("validateJwtAuthResponse() verifies a response_mode=jwt callback with the provider's JWKS and its code is redeemed", async () => {
  await using op = await startProvider({ features: FEATURES });
  const as = await discover(op);
  assert.ok(as.response_modes_supported?.includes("jwt"));
  const registered = op.clients.public;
  const client: oauth.Client = { client_id: registered.client_id };
  const pending = await codeRequest(client.client_id, registered.redirect_uri, {
    response_mode: "jwt",
  });
  const callback = await op.login(authorizationUrl(as, pending.params));
  assert.deepEqual([...callback.searchParams.keys()], ["response"]);

  // The response is not a plain one: validateAuthResponse() sends it to the JARM path.
  await assertOAuthError(
    () => oauth.validateAuthResponse(as, client, callback, pending.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );

  const params = await oauth.validateJwtAuthResponse(as, client, callback, pending.state, http);
  assert.equal(params.get("iss"), op.issuer);
  assert.equal(params.get("state"), pending.state);
  assert.ok(params.get("code"));
  await redeem(as, client, oauth.None(), params, registered.redirect_uri, pending);
});

Deno.test("validateJwtAuthResponse() refuses a JARM response whose signature was tampered with", async () => {
  await using op = await startProvider({ features: FEATURES });
  const as = await discover(op);
  const registered = op.clients.public;
  const client: oauth.Client = { client_id: registered.client_id };
  const pending = await codeRequest(client.client_id, registered.redirect_uri, {
    response_mode: "jwt",
  });
  const callback = await op.login(authorizationUrl(as, pending.params));
  const [header, payload, signature] = callback.searchParams.get("response")!.split(".");
  // Another state, with the provider's signature: a forged response.
  const claims = JSON.parse(new TextDecoder().decode(decodeBase64Url(payload!)));
  claims.state = oauth.generateRandomState();
  const forged = new URL(callback);
  forged.searchParams.set(
    "response",
    `${header}.${encodeBase64Url(new TextEncoder().encode(JSON.stringify(claims)))}.${signature}`,
  );
  const protectedHeader = JSON.parse(new TextDecoder().decode(decodeBase64Url(header!)));
  await assertOAuthError(
    oauth.validateJwtAuthResponse(as, client, forged, claims.state, http),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { alg: protectedHeader.alg, kid: protectedHeader.kid },
  );
  // The genuine response still passes, but only with the state the client sent.
  await assertOAuthError(
    oauth.validateJwtAuthResponse(as, client, callback, claims.state, http),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: claims.state },
  );
  const params = await oauth.validateJwtAuthResponse(as, client, callback, pending.state, http);
  assert.equal(params.get("state"), pending.state);
});

Deno.test("validateJwtAuthResponse() turns a signed access_denied response into AuthorizationResponseError", async () => {
  await using op = await startProvider({ features: FEATURES });
  const as = await discover(op);
  const registered = op.clients.public;
  const client: oauth.Client = { client_id: registered.client_id };
  const pending = await codeRequest(client.client_id, registered.redirect_uri, {
    response_mode: "jwt",
  });
  const callback = await op.login(authorizationUrl(as, pending.params), { consent: false });
  const err = await assertOAuthError(
    oauth.validateJwtAuthResponse(as, client, callback, pending.state, http),
    oauth.AuthorizationResponseError,
    oauth.AUTHORIZATION_RESPONSE_ERROR,
  );
  assert.equal(err.error, "access_denied");
});

function decodeBase64Url(value: string): Uint8Array {
  const b64 = value.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(
    atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)),
    (c) => c.charCodeAt(0),
  );
}

function encodeBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}
