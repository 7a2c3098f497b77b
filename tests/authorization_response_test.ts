/**
 * Authorization responses at the redirect URI (RFC 6749 §4.1.2, RFC 9207 §2.4, RFC 9700 §4.4 and
 * §4.7): mix-up and CSRF defences, error responses bound to the issuer and state first, repeated
 * parameters, JARM / implicit / hybrid responses refused, and the form_post response mode.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs } from "./_fake_as.ts";

const ISSUER = "https://as.example";
const AS: oauth.AuthorizationServer = {
  issuer: ISSUER,
  authorization_response_iss_parameter_supported: true,
};
/** Metadata of a server that does not send `iss` (no RFC 9207). */
const LEGACY_AS: oauth.AuthorizationServer = { issuer: ISSUER };
const CLIENT: oauth.Client = { client_id: "client" };
const STATE = "state-value-1";

function callback(params: Record<string, string> | string[][]): URLSearchParams {
  return new URLSearchParams(params);
}

/** A cause check: `cause.parameters` is the response, `cause.expected` the expected value. */
function causeOf(expected: string | undefined, has: string[] = []) {
  return (cause: unknown) => {
    const c = cause as { expected?: string; parameters: URLSearchParams };
    assert.equal(c.expected, expected);
    assert.ok(c.parameters instanceof URLSearchParams);
    for (const name of has) assert.ok(c.parameters.has(name), name);
  };
}

// -- the happy path -------------------------------------------------------------------------------

Deno.test("validateAuthResponse() returns a fresh copy of the parameters when iss and state match", () => {
  const input = callback({ code: "c0de", state: STATE, iss: ISSUER });
  const result = oauth.validateAuthResponse(AS, CLIENT, input, STATE);
  assert.notEqual(result, input);
  assert.equal(result.get("code"), "c0de");
  assert.equal(result.get("state"), STATE);
  assert.equal(result.get("iss"), ISSUER);
  assert.equal(input.toString(), `code=c0de&state=${STATE}&iss=https%3A%2F%2Fas.example`);
});

Deno.test("validateAuthResponse() reads a callback URL's query and ignores its fragment", () => {
  const url = new URL(`https://app.example/cb?code=c0de&iss=${ISSUER}#state=forged`);
  const result = oauth.validateAuthResponse(AS, CLIENT, url);
  assert.equal(result.get("code"), "c0de");
  assert.equal(result.has("state"), false);
  assert.equal(url.search, `?code=c0de&iss=${ISSUER}`);
});

Deno.test("validateAuthResponse() output is what authorizationCodeGrantRequest() accepts, a caller's copy is not", async () => {
  const server = createFakeAs();
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const redirectUri = "https://app.example/cb";
  const url = await server.authorize({
    response_type: "code",
    client_id: server.client.client_id,
    redirect_uri: redirectUri,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  const params = oauth.validateAuthResponse(server.as, server.client, url, state);
  const auth = oauth.ClientSecretBasic(server.clientSecret);
  await assertTypeError(
    () =>
      oauth.authorizationCodeGrantRequest(
        server.as,
        server.client,
        auth,
        new URLSearchParams(params),
        redirectUri,
        verifier,
        server.options,
      ),
    "ERR_INVALID_ARG_VALUE",
  );
  const response = await oauth.authorizationCodeGrantRequest(
    server.as,
    server.client,
    auth,
    params,
    redirectUri,
    verifier,
    server.options,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(server.as, server.client, response);
  assert.ok(tokens.access_token);
  assert.equal(server.requestsTo("token").length, 1);
});

// -- RFC 9207 / mix-up (RFC 9700 §4.4) ------------------------------------------------------------

Deno.test("mix-up: validateAuthResponse() refuses a response whose iss is another server", async () => {
  const params = callback({ code: "c0de", state: STATE, iss: "https://attacker.example" });
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, params, STATE),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    causeOf(ISSUER, ["iss"]),
  );
});

Deno.test("mix-up: a code obtained at a second fake server is refused by the first server's iss check", async () => {
  const honest = createFakeAs({ issuer: "https://honest.example" });
  const attacker = createFakeAs({ issuer: "https://attacker.example" });
  const url = await attacker.authorize({
    response_type: "code",
    client_id: attacker.client.client_id,
    redirect_uri: "https://app.example/cb",
    state: STATE,
  });
  await assertOAuthError(
    () => oauth.validateAuthResponse(honest.as, honest.client, url, STATE),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    causeOf("https://honest.example", ["code"]),
  );
  assert.equal(honest.requests.length, 0);
});

Deno.test("validateAuthResponse() compares iss as an exact string (RFC 9207 §2.4)", async () => {
  for (const iss of [`${ISSUER}/`, "HTTPS://as.example", "https://as.example:443", ""]) {
    await assertOAuthError(
      () => oauth.validateAuthResponse(AS, CLIENT, callback({ code: "c", iss })),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      causeOf(ISSUER),
    );
  }
});

Deno.test("validateAuthResponse() rejects a missing iss when the server advertises RFC 9207", async () => {
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, callback({ code: "c0de", state: STATE }), STATE),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    causeOf(ISSUER, ["code"]),
  );
});

Deno.test("validateAuthResponse() accepts a missing iss when the server does not advertise RFC 9207", () => {
  const result = oauth.validateAuthResponse(
    LEGACY_AS,
    CLIENT,
    callback({ code: "c0de", state: STATE }),
    STATE,
  );
  assert.equal(result.get("code"), "c0de");
});

Deno.test("validateAuthResponse() still checks an iss the server sends without advertising RFC 9207", async () => {
  await assertOAuthError(
    () =>
      oauth.validateAuthResponse(
        LEGACY_AS,
        CLIENT,
        callback({ code: "c", iss: "https://x.example" }),
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    causeOf(ISSUER),
  );
  const ok = oauth.validateAuthResponse(LEGACY_AS, CLIENT, callback({ code: "c", iss: ISSUER }));
  assert.equal(ok.get("iss"), ISSUER);
});

// -- state / CSRF (RFC 9700 §4.7) -----------------------------------------------------------------

Deno.test("CSRF: validateAuthResponse() refuses a state other than the expected one", async () => {
  await assertOAuthError(
    () =>
      oauth.validateAuthResponse(
        AS,
        CLIENT,
        callback({ code: "c", state: "attacker-state", iss: ISSUER }),
        STATE,
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    causeOf(STATE, ["state"]),
  );
});

Deno.test("CSRF: validateAuthResponse() refuses a response without the expected state", async () => {
  for (
    const params of [
      callback({ code: "c", iss: ISSUER }),
      callback({ code: "c", iss: ISSUER, state: "" }),
    ]
  ) {
    await assertOAuthError(
      () => oauth.validateAuthResponse(AS, CLIENT, params, STATE),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      causeOf(STATE),
    );
  }
});

Deno.test("validateAuthResponse() refuses an unexpected state when none was sent (the default)", async () => {
  const params = callback({ code: "c", state: "injected", iss: ISSUER });
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, params),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    causeOf(undefined, ["state"]),
  );
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, params, oauth.expectNoState),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  // Even an empty state is a state.
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, callback({ code: "c", state: "", iss: ISSUER })),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateAuthResponse() accepts a response without state when none was sent", () => {
  const result = oauth.validateAuthResponse(
    AS,
    CLIENT,
    callback({ code: "c", iss: ISSUER }),
    oauth.expectNoState,
  );
  assert.equal(result.get("code"), "c");
});

Deno.test("validateAuthResponse() leaves state to the caller with skipStateCheck", () => {
  for (
    const params of [
      callback({ code: "c", iss: ISSUER }),
      callback({ code: "c", iss: ISSUER, state: "any" }),
    ]
  ) {
    const result = oauth.validateAuthResponse(AS, CLIENT, params, oauth.skipStateCheck);
    assert.equal(result.get("state"), params.get("state"));
  }
});

Deno.test("validateAuthResponse() refuses an expectedState that is empty or not a string", async () => {
  const params = callback({ code: "c", iss: ISSUER });
  await assertTypeError(
    () => oauth.validateAuthResponse(AS, CLIENT, params, ""),
    "ERR_INVALID_ARG_VALUE",
  );
  for (const value of [42, null, Symbol("skipStateCheck")]) {
    await assertTypeError(
      () => oauth.validateAuthResponse(AS, CLIENT, params, value as unknown as string),
      "ERR_INVALID_ARG_TYPE",
    );
  }
});

// -- error responses (RFC 6749 §4.1.2.1) ------------------------------------------------------------

Deno.test("validateAuthResponse() turns an error response into an AuthorizationResponseError", async () => {
  const params = callback({
    error: "access_denied",
    error_description: "The user said no",
    state: STATE,
    iss: ISSUER,
  });
  const err = await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, params, STATE),
    oauth.AuthorizationResponseError,
    oauth.AUTHORIZATION_RESPONSE_ERROR,
  );
  assert.equal(err.error, "access_denied");
  assert.equal(err.error_description, "The user said no");
  assert.ok(err.cause instanceof URLSearchParams);
  assert.equal(err.cause.get("error"), "access_denied");
});

Deno.test("validateAuthResponse() reports an error without error_description", async () => {
  const err = await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, callback({ error: "server_error", iss: ISSUER })),
    oauth.AuthorizationResponseError,
    oauth.AUTHORIZATION_RESPONSE_ERROR,
  );
  assert.equal(err.error, "server_error");
  assert.equal(err.error_description, undefined);
});

Deno.test("validateAuthResponse() reports the fake server's error response for an unsupported response_type", async () => {
  const server = createFakeAs();
  const url = await server.authorize({
    response_type: "token",
    client_id: server.client.client_id,
    redirect_uri: "https://app.example/cb",
    state: STATE,
  });
  const err = await assertOAuthError(
    () => oauth.validateAuthResponse(server.as, server.client, url, STATE),
    oauth.AuthorizationResponseError,
    oauth.AUTHORIZATION_RESPONSE_ERROR,
  );
  assert.equal(err.error, "unsupported_response_type");
});

Deno.test("mix-up: an error response from another issuer fails the iss check, not as the server's error", async () => {
  const params = callback({
    error: "access_denied",
    state: STATE,
    iss: "https://attacker.example",
  });
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, params, STATE),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    causeOf(ISSUER, ["error"]),
  );
  await assertOAuthError(
    () =>
      oauth.validateAuthResponse(
        AS,
        CLIENT,
        callback({ error: "access_denied", state: STATE }),
        STATE,
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("CSRF: an error response with a forged state fails the state check first", async () => {
  await assertOAuthError(
    () =>
      oauth.validateAuthResponse(
        AS,
        CLIENT,
        callback({ error: "access_denied", state: "forged", iss: ISSUER }),
        STATE,
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    causeOf(STATE, ["error"]),
  );
});

// -- repeated parameters (RFC 6749 §3.1) ----------------------------------------------------------

Deno.test("validateAuthResponse() refuses a response parameter that appears twice", async () => {
  const base: Record<string, string> = { code: "c", state: STATE, iss: ISSUER };
  for (const name of ["code", "state", "iss", "error", "error_description"]) {
    // The same value twice is refused too: the second copy was not the server's.
    for (const second of [base[name] ?? "x", "other"]) {
      const params = callback(base);
      if (!params.has(name)) params.append(name, second);
      params.append(name, second);
      await assertOAuthError(
        () => oauth.validateAuthResponse(AS, CLIENT, params, STATE),
        oauth.OperationProcessingError,
        oauth.INVALID_RESPONSE,
        { parameter: name },
      );
    }
  }
});

Deno.test("validateAuthResponse() leaves the redirect URI's own repeated parameters alone", () => {
  const url = new URL(`https://app.example/cb?tab=a&tab=b&code=c&state=${STATE}&iss=${ISSUER}`);
  const result = oauth.validateAuthResponse(AS, CLIENT, url, STATE);
  assert.deepEqual(result.getAll("tab"), ["a", "b"]);
});

// -- JARM, implicit and hybrid responses ----------------------------------------------------------

Deno.test("validateAuthResponse() refuses a JARM response and points to validateJwtAuthResponse()", async () => {
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, callback({ response: "eyJ.eyJ.sig" }), STATE),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateAuthResponse() refuses implicit and hybrid responses as unsupported", async () => {
  for (const name of ["id_token", "token", "access_token"]) {
    await assertOAuthError(
      () =>
        oauth.validateAuthResponse(
          AS,
          CLIENT,
          callback({ code: "c", state: STATE, iss: ISSUER, [name]: "eyJ.eyJ.sig" }),
          STATE,
        ),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
      { parameter: name },
    );
  }
});

// -- arguments ------------------------------------------------------------------------------------

Deno.test("token leakage: validateAuthResponse() redacts tokens from the cause of a refused response", async () => {
  const token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ2aWN0aW0ifQ.c2lnbmF0dXJl";
  const leaky = { access_token: token, id_token: token, token, response: token };
  const input = callback({ code: "c0de", state: "forged", iss: ISSUER, ...leaky });
  const check = (cause: unknown) => {
    const parameters = (cause as { parameters: URLSearchParams }).parameters;
    assert.notEqual(parameters, input);
    for (const name of Object.keys(leaky)) assert.equal(parameters.get(name), "[redacted]");
    assert.equal(parameters.get("code"), "c0de");
  };
  // state, iss, repeated parameters and JARM checks all report the parameters.
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, input, STATE),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    check,
  );
  input.set("state", STATE);
  input.set("iss", "https://attacker.example");
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, input, STATE),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    check,
  );
  assert.equal(input.get("access_token"), token, "the caller's parameters are left untouched");
  const error = callback({
    error: "access_denied",
    state: STATE,
    iss: ISSUER,
    access_token: token,
  });
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, error, STATE),
    oauth.AuthorizationResponseError,
    oauth.AUTHORIZATION_RESPONSE_ERROR,
    (cause) => {
      assert.equal((cause as URLSearchParams).get("access_token"), "[redacted]");
      assert.equal((cause as URLSearchParams).get("error"), "access_denied");
    },
  );
});

Deno.test("validateAuthResponse() refuses parameters that are neither URLSearchParams nor URL", async () => {
  for (const value of [`code=c&iss=${ISSUER}`, { code: "c" }, undefined]) {
    await assertTypeError(
      () => oauth.validateAuthResponse(AS, CLIENT, value as unknown as URLSearchParams),
      "ERR_INVALID_ARG_TYPE",
    );
  }
});

Deno.test("validateAuthResponse() refuses invalid server or client metadata", async () => {
  const params = callback({ code: "c", iss: ISSUER });
  await assertTypeError(
    () => oauth.validateAuthResponse(null as unknown as oauth.AuthorizationServer, CLIENT, params),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => oauth.validateAuthResponse({ issuer: "" }, CLIENT, params),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () => oauth.validateAuthResponse(AS, {} as oauth.Client, params),
    "ERR_INVALID_ARG_TYPE",
  );
});

// -- form_post (OAuth 2.0 Form Post Response Mode) ------------------------------------------------

function formPost(body: string, init: RequestInit = {}): Request {
  return new Request("https://app.example/cb", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
    ...init,
  });
}

Deno.test("formPostResponse() returns the posted parameters for validateAuthResponse()", async () => {
  const body = new URLSearchParams({ code: "c0de", state: STATE, iss: ISSUER }).toString();
  const params = await oauth.formPostResponse(formPost(body));
  assert.equal(params.get("code"), "c0de");
  const result = oauth.validateAuthResponse(AS, CLIENT, params, STATE);
  assert.equal(result.get("code"), "c0de");
});

Deno.test("formPostResponse() accepts a form content type with a charset parameter", async () => {
  const request = formPost("code=c", {
    headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" },
  });
  assert.equal((await oauth.formPostResponse(request)).get("code"), "c");
});

Deno.test("formPostResponse() does not validate: a forged state still fails validateAuthResponse()", async () => {
  const params = await oauth.formPostResponse(formPost(`code=c&state=forged&iss=${ISSUER}`));
  await assertOAuthError(
    () => oauth.validateAuthResponse(AS, CLIENT, params, STATE),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("formPostResponse() refuses a request that is not a form POST", async () => {
  await assertTypeError(
    () => oauth.formPostResponse(new Request(`https://app.example/cb?code=c`)),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () =>
      oauth.formPostResponse(
        formPost(JSON.stringify({ code: "c" }), {
          headers: { "content-type": "application/json" },
        }),
      ),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () => oauth.formPostResponse(formPost("code=c", { headers: {} })),
    "ERR_INVALID_ARG_VALUE",
  );
  const used = formPost("code=c");
  await used.text();
  await assertTypeError(() => oauth.formPostResponse(used), "ERR_INVALID_ARG_VALUE");
  await assertTypeError(
    () => oauth.formPostResponse("code=c" as unknown as Request),
    "ERR_INVALID_ARG_TYPE",
  );
});

Deno.test("formPostResponse() refuses a body over the cap without buffering it whole", async () => {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += 64 * 1024;
      controller.enqueue(new TextEncoder().encode("a".repeat(64 * 1024)));
    },
  });
  const request = new Request("https://app.example/cb", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  await assertOAuthError(
    () => oauth.formPostResponse(request),
    oauth.OperationProcessingError,
    oauth.RESPONSE_TOO_LARGE,
  );
  assert.ok(pulled < 4 * 1024 * 1024, `read ${pulled} bytes`);
});

Deno.test("formPostResponse() refuses a body that is not UTF-8", async () => {
  const request = new Request("https://app.example/cb", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new Uint8Array([0x63, 0x6f, 0x64, 0x65, 0x3d, 0xff, 0xfe]),
  });
  await assertOAuthError(
    () => oauth.formPostResponse(request),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
});
