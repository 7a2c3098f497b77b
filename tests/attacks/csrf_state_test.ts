/**
 * Attack family: CSRF against the redirect URI (RFC 6749 §10.12, RFC 9700 §4.7). The attacker
 * makes the victim's browser deliver a callback the victim's session never asked for; `state`
 * binds the callback to the session, and every check runs before the code goes anywhere.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "../_assert.ts";
import { createFakeAs } from "../_fake_as.ts";
import { authorize, newSession, REDIRECT_URI } from "./_attack.ts";

Deno.test("CSRF: a callback carrying the attacker's own state is refused", async () => {
  const server = createFakeAs();
  const attacker = newSession();
  const victim = newSession();
  const callback = await authorize(server, attacker);
  await assertOAuthError(
    () => oauth.validateAuthResponse(server.as, server.client, callback, victim.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: victim.state },
  );
  assert.equal(server.requestsTo("token").length, 0);
});

Deno.test("CSRF: a callback without state is refused when the session sent one", async () => {
  const server = createFakeAs();
  const session = newSession();
  const callback = await authorize(server, session);
  callback.searchParams.delete("state");
  await assertOAuthError(
    () => oauth.validateAuthResponse(server.as, server.client, callback, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: session.state },
  );
});

Deno.test("CSRF: a callback with a state is refused when the session sent none", async () => {
  const server = createFakeAs();
  const callback = await authorize(server, newSession());
  for (const expected of [undefined, oauth.expectNoState] as const) {
    await assertOAuthError(
      () => oauth.validateAuthResponse(server.as, server.client, callback, expected),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  }
});

Deno.test("CSRF: a repeated state whose second value is the victim's is refused", async () => {
  const server = createFakeAs();
  const session = newSession();
  const callback = await authorize(server, session);
  callback.searchParams.set("state", "attacker");
  callback.searchParams.append("state", session.state);
  await assertOAuthError(
    () => oauth.validateAuthResponse(server.as, server.client, callback, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { parameter: "state" },
  );
});

Deno.test("CSRF: a second code smuggled beside the real one is refused", async () => {
  const server = createFakeAs();
  const session = newSession();
  const callback = await authorize(server, session);
  callback.searchParams.append("code", "attacker-code");
  await assertOAuthError(
    () => oauth.validateAuthResponse(server.as, server.client, callback, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { parameter: "code" },
  );
});

Deno.test("CSRF: a forged error response with the wrong state is refused, not reported as the server's error", async () => {
  const server = createFakeAs();
  const session = newSession();
  const callback = new URL(REDIRECT_URI);
  callback.search = new URLSearchParams({
    error: "access_denied",
    state: "forged",
    iss: server.issuer,
  }).toString();
  const err = await assertOAuthError(
    () => oauth.validateAuthResponse(server.as, server.client, callback, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.ok(!(err instanceof oauth.AuthorizationResponseError));
});

Deno.test("CSRF: a state differing only in case or padding is refused (exact comparison)", async () => {
  const server = createFakeAs();
  const session = newSession();
  for (const variant of [session.state.toUpperCase(), `${session.state}=`, ` ${session.state}`]) {
    if (variant === session.state) continue;
    const callback = await authorize(server, session);
    callback.searchParams.set("state", variant);
    await assertOAuthError(
      () => oauth.validateAuthResponse(server.as, server.client, callback, session.state),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  }
});

Deno.test("CSRF: an empty expected state is refused as a caller mistake, never matched", async () => {
  const server = createFakeAs();
  const callback = new URL(REDIRECT_URI);
  callback.search = new URLSearchParams({ code: "c", state: "", iss: server.issuer }).toString();
  await assertTypeError(
    () => oauth.validateAuthResponse(server.as, server.client, callback, ""),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("CSRF: a form_post callback with the wrong state is refused", async () => {
  const server = createFakeAs();
  const session = newSession();
  const request = new Request(REDIRECT_URI, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ code: "c", state: "forged", iss: server.issuer }),
  });
  const params = await oauth.formPostResponse(request);
  await assertOAuthError(
    () => oauth.validateAuthResponse(server.as, server.client, params, session.state),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("CSRF: a JARM response whose signed state is another session's is refused", async () => {
  const server = createFakeAs();
  const attacker = newSession();
  const victim = newSession();
  const callback = await authorize(server, attacker, { response_mode: "jwt" });
  await assertOAuthError(
    () =>
      oauth.validateJwtAuthResponse(
        server.as,
        server.client,
        callback,
        victim.state,
        server.options,
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { expected: victim.state },
  );
});

Deno.test("CSRF: the session's own callback is accepted", async () => {
  const server = createFakeAs();
  const session = newSession();
  const params = oauth.validateAuthResponse(
    server.as,
    server.client,
    await authorize(server, session),
    session.state,
  );
  assert.equal(params.get("state"), session.state);
});

Deno.test("CSRF: generated states carry 256 bits and never repeat", () => {
  const seen = new Set(Array.from({ length: 200 }, () => oauth.generateRandomState()));
  assert.equal(seen.size, 200);
  for (const state of seen) assert.match(state, /^[A-Za-z0-9_-]{43}$/);
});

Deno.test("CSRF (left open, RFC 6749 §10.12): the same callback validates twice; one-time use of state is the application's", async () => {
  const server = createFakeAs();
  const session = newSession();
  const callback = await authorize(server, session);
  oauth.validateAuthResponse(server.as, server.client, callback, session.state);
  const again = oauth.validateAuthResponse(server.as, server.client, callback, session.state);
  assert.equal(again.get("state"), session.state);
});
