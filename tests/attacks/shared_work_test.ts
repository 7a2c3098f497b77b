/**
 * Attack family: shared work (RFC 7517 §5, OpenID Connect Core §10.1.1 key rotation). A burst of
 * concurrent validations, or a flood of tokens naming unknown keys, must not turn into a burst of
 * JWKS requests: concurrent callers that need the same key set share one fetch, also when each
 * passes its own copy of the metadata with the same `[jwksCache]`, and unknown `kid`s refetch at
 * most once per cooldown.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { assertOAuthError } from "../_assert.ts";
import { createFakeAs, type FakeAs } from "../_fake_as.ts";
import { generateTestKey } from "../_keys.ts";

const RS = "https://rs.example";

/** A processed token response carrying a fresh ID token, ready for signature validation. */
async function processed(
  server: FakeAs,
  header?: Record<string, unknown>,
  key?: Parameters<FakeAs["sign"]>[2],
): Promise<Response> {
  const response = new Response(
    JSON.stringify({
      access_token: "at",
      token_type: "Bearer",
      id_token: await server.idToken({}, header, key),
    }),
    { headers: { "content-type": "application/json" } },
  );
  await oauth.processGenericTokenEndpointResponse(server.as, server.client, response);
  return response;
}

function accessTokenRequest(token: string): Request {
  return new Request(`${RS}/data`, { headers: { authorization: `Bearer ${token}` } });
}

async function accessToken(
  server: FakeAs,
  header?: Record<string, unknown>,
  key?: Parameters<FakeAs["sign"]>[2],
): Promise<string> {
  const t = server.now();
  return await server.sign(
    {
      iss: server.issuer,
      aud: RS,
      sub: "user-1",
      client_id: server.client.client_id,
      iat: t,
      exp: t + 300,
      jti: crypto.randomUUID(),
    },
    { typ: "at+jwt", ...header },
    key,
  );
}

Deno.test("shared work: twenty concurrent validations with the same metadata fetch the JWKS once", async () => {
  const server = createFakeAs();
  const responses = await Promise.all(Array.from({ length: 20 }, () => processed(server)));
  await Promise.all(
    responses.map((r) => oauth.validateApplicationLevelSignature(server.as, r, server.options)),
  );
  assert.equal(server.requestsTo("jwks").length, 1);
});

Deno.test("shared work: concurrent validations each with its own copy of the metadata but the same [jwksCache] fetch once", async () => {
  const server = createFakeAs();
  const cache = {};
  const responses = await Promise.all(Array.from({ length: 20 }, () => processed(server)));
  await Promise.all(
    responses.map((r) =>
      oauth.validateApplicationLevelSignature(structuredClone(server.as), r, {
        ...server.options,
        [oauth.jwksCache]: cache,
      })
    ),
  );
  assert.equal(server.requestsTo("jwks").length, 1);
  assert.ok("jwks" in cache && "uat" in cache, "the cache was filled for the next process");
});

Deno.test("shared work: concurrent resource server validations with per-request metadata copies share one fetch through [jwksCache]", async () => {
  const server = createFakeAs();
  const cache = {};
  const tokens = await Promise.all(Array.from({ length: 20 }, () => accessToken(server)));
  const claims = await Promise.all(
    tokens.map((t) =>
      oauth.validateJwtAccessToken({ ...server.as }, accessTokenRequest(t), RS, {
        ...server.options,
        [oauth.jwksCache]: cache,
      })
    ),
  );
  assert.equal(claims.length, 20);
  assert.equal(server.requestsTo("jwks").length, 1);
});

Deno.test("shared work: concurrent JARM validations share one fetch", async () => {
  const server = createFakeAs();
  const callbacks = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      server.authorize({
        response_type: "code",
        client_id: server.client.client_id,
        redirect_uri: "https://app.example/cb",
        response_mode: "jwt",
        state: `s${i}`,
      })),
  );
  await Promise.all(
    callbacks.map((url, i) =>
      oauth.validateJwtAuthResponse(server.as, server.client, url, `s${i}`, server.options)
    ),
  );
  assert.equal(server.requestsTo("jwks").length, 1);
});

Deno.test("shared work: a rotated key seen by concurrent validations triggers one refetch", async () => {
  const server = createFakeAs();
  const rotated = await generateTestKey("ES256", "rotated");
  // A cache from a previous process, old enough for the refetch cooldown, young enough to use.
  const cache = { jwks: structuredClone(server.jwks), uat: server.now() - 120 };
  server.jwks = { keys: [...server.jwks.keys, rotated.publicJwk] };
  const responses = await Promise.all(
    Array.from({ length: 10 }, () => processed(server, { kid: "rotated" }, rotated)),
  );
  await Promise.all(
    responses.map((r) =>
      oauth.validateApplicationLevelSignature(server.as, r, {
        ...server.options,
        [oauth.jwksCache]: cache,
      })
    ),
  );
  assert.equal(server.requestsTo("jwks").length, 1);
});

Deno.test("JWKS refetch amplification: a flood of tokens naming unknown kids costs one fetch per cooldown", async () => {
  const server = createFakeAs();
  const cache = {};
  const options = { ...server.options, [oauth.jwksCache]: cache };
  await oauth.validateJwtAccessToken(
    server.as,
    accessTokenRequest(await accessToken(server)),
    RS,
    options,
  );
  for (let i = 0; i < 25; i++) {
    const stranger = await generateTestKey("ES256", `unknown-${i}`);
    const token = await accessToken(server, {}, stranger);
    await assertOAuthError(
      () =>
        oauth.validateJwtAccessToken(
          server.as,
          accessTokenRequest(token),
          RS,
          options,
        ),
      oauth.OperationProcessingError,
      oauth.KEY_SELECTION,
      { candidates: 0 },
    );
  }
  assert.equal(server.requestsTo("jwks").length, 1, "no refetch inside the 60-second cooldown");
});

Deno.test("shared work: a failed shared fetch fails every waiting caller and is not cached", async () => {
  const server = createFakeAs();
  server.overrideOnce("jwks", server.oauthError("temporarily_unavailable", undefined, 503));
  const responses = await Promise.all(Array.from({ length: 5 }, () => processed(server)));
  const results = await Promise.allSettled(
    responses.map((r) => oauth.validateApplicationLevelSignature(server.as, r, server.options)),
  );
  assert.equal(server.requestsTo("jwks").length, 1);
  for (const result of results) {
    assert.equal(result.status, "rejected");
    const reason = (result as PromiseRejectedResult).reason;
    assert.ok(reason instanceof oauth.OperationProcessingError);
    assert.equal(
      reason.code,
      oauth.RESPONSE_IS_NOT_CONFORM,
      "a JWKS error status, as oauth4webapi",
    );
  }
  await oauth.validateApplicationLevelSignature(server.as, responses[0]!, server.options);
  assert.equal(server.requestsTo("jwks").length, 2, "the next call fetched again");
});

Deno.test("shared work: separate [jwksCache] objects keep separate key sets", async () => {
  const honest = createFakeAs();
  const other = createFakeAs({
    issuer: "https://other.example",
    keys: [await generateTestKey("ES256", "es256")],
  });
  const honestCache = {};
  const otherCache = {};
  await oauth.validateApplicationLevelSignature(honest.as, await processed(honest), {
    ...honest.options,
    [oauth.jwksCache]: honestCache,
  });
  await oauth.validateApplicationLevelSignature(other.as, await processed(other), {
    ...other.options,
    [oauth.jwksCache]: otherCache,
  });
  // A token of the other server never verifies with the honest server's cached keys.
  await assertOAuthError(
    async () =>
      oauth.validateApplicationLevelSignature(
        honest.as,
        await processed(honest, {}, other.key),
        { ...honest.options, [oauth.jwksCache]: honestCache },
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.equal(honest.requestsTo("jwks").length, 1);
  assert.equal(other.requestsTo("jwks").length, 1);
});
