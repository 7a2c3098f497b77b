/**
 * src/session/token_source.ts: client credentials tokens cached in Deno KV per (client, scope,
 * resource), reused until shortly before expiry, one grant in flight per key, in one process and
 * in four, against oidc-provider.
 */
import assert from "node:assert/strict";
import {
  type ClientCredentialsTokenSourceOptions,
  createClientCredentialsTokenSource,
} from "@authlane/oauth/session";
import { RESOURCE } from "../_oidc_provider.ts";
import { CLIENT_ID, type Env, oauth, rejection, startEnv } from "./_env.ts";
import { runIsolates } from "./_isolates.ts";

function source(env: Env, options: Partial<ClientCredentialsTokenSourceOptions> = {}) {
  return createClientCredentialsTokenSource({
    issuer: env.op.issuer,
    client: { client_id: CLIENT_ID },
    clientAuth: oauth.ClientSecretBasic(env.clientSecret),
    scope: "api:read",
    resource: RESOURCE,
    kv: env.kv,
    allowInsecureRequests: true,
    ...options,
  });
}

function ccGrants(env: Env): number {
  return env.grants.filter((grant) => grant === "client_credentials").length;
}

async function storedTokens(env: Env): Promise<unknown[]> {
  return [...(await env.dump())].filter(([key]) => key.startsWith("client_credentials/"))
    .map(([, value]) => value);
}

Deno.test("getToken(): 50 concurrent callers share one grant; a new isolate on the same KV reuses the token", async () => {
  await using env = await startEnv();
  await using tokens = source(env);
  const results = await Promise.all(Array.from({ length: 50 }, () => tokens.getToken()));
  assert.equal(new Set(results.map((t) => t.accessToken)).size, 1);
  assert.equal(ccGrants(env), 1);
  const token = results[0]!;
  assert.equal(token.tokenType, "bearer");
  assert.equal(token.scope, "api:read");
  assert.ok(token.expiresAt > Date.now() / 1000 + 500); // the provider's 600 s
  // A JWT access token for the resource (RFC 9068), as the provider issues for it.
  assert.equal(JSON.parse(atob(token.accessToken.split(".")[1]!)).aud, RESOURCE);
  await using other = source(env);
  assert.equal((await other.getToken()).accessToken, token.accessToken);
  assert.equal(ccGrants(env), 1);
  assert.equal((await storedTokens(env)).length, 1);
});

Deno.test("getToken() gets a new token within refreshAhead of expiry, not before", async () => {
  await using env = await startEnv();
  const clock = { offset: 0 };
  await using tokens = source(env, {
    refreshAhead: 60,
    now: () => Math.floor(Date.now() / 1000) + clock.offset,
  });
  const first = await tokens.getToken();
  clock.offset = 600 - 70;
  assert.equal((await tokens.getToken()).accessToken, first.accessToken);
  clock.offset = 600 - 50;
  const second = await tokens.getToken();
  assert.notEqual(second.accessToken, first.accessToken);
  assert.equal(ccGrants(env), 2);
});

Deno.test("tokens are cached per scope and resource", async () => {
  await using env = await startEnv();
  await using forApi = source(env);
  await using plain = source(env, { scope: undefined, resource: undefined });
  const a = await forApi.getToken();
  const b = await plain.getToken();
  assert.notEqual(a.accessToken, b.accessToken);
  assert.equal((await forApi.getToken()).accessToken, a.accessToken);
  assert.equal((await plain.getToken()).accessToken, b.accessToken);
  assert.equal(ccGrants(env), 2);
  assert.equal((await storedTokens(env)).length, 2);
});

Deno.test("invalidate() forgets a refused token everywhere, but keeps a newer one", async () => {
  await using env = await startEnv();
  await using tokens = source(env);
  await using other = source(env);
  const first = await tokens.getToken();
  await tokens.invalidate(first.accessToken);
  const second = await other.getToken();
  assert.notEqual(second.accessToken, first.accessToken);
  await other.invalidate(first.accessToken); // stale: nothing happens
  assert.equal((await tokens.getToken()).accessToken, second.accessToken);
  assert.equal(ccGrants(env), 2);
});

Deno.test("getToken() passes the provider's refusal through (invalid_client) and caches nothing", async () => {
  await using env = await startEnv();
  await using tokens = source(env, { clientAuth: oauth.ClientSecretBasic("wrong") });
  // RFC 6749 §5.2: a client that authenticated with Basic gets 401 and a challenge.
  const error = await rejection(tokens.getToken(), oauth.WWWAuthenticateChallengeError);
  assert.equal(error.status, 401);
  assert.equal(error.cause[0]?.parameters.error, "invalid_client");
  assert.deepEqual(await storedTokens(env), []);
  assert.deepEqual(
    [...(await env.dump()).keys()].filter((key) => key.startsWith("client_credentials_lease")),
    [],
  );
  assert.ok(!error.message.includes("wrong"));
});

Deno.test("a CachedToken prints without its access token", async () => {
  await using env = await startEnv();
  await using tokens = source(env);
  const token = await tokens.getToken();
  const printed = Deno.inspect(token);
  assert.ok(!printed.includes(token.accessToken));
  assert.match(printed, /"tokenType":"bearer"/);
});

Deno.test("createClientCredentialsTokenSource() refuses bad options before any I/O", () => {
  const clientAuth = oauth.None();
  assert.throws(
    () =>
      createClientCredentialsTokenSource({
        issuer: "not a url",
        client: { client_id: "x" },
        clientAuth,
      }),
    { code: "ERR_INVALID_ARG_VALUE" },
  );
  assert.throws(
    () =>
      createClientCredentialsTokenSource({
        issuer: "https://op.example",
        client: { client_id: "" },
        clientAuth,
      }),
    { code: "ERR_INVALID_ARG_TYPE" },
  );
});

Deno.test("many isolates: 4 processes x 50 concurrent getToken() send one client credentials grant", async () => {
  await using env = await startEnv({ kv: "file" });
  const results = await runIsolates(4, {
    mode: "token",
    kvPath: env.kvPath!,
    concurrency: 50,
    issuer: env.op.issuer,
    clientId: CLIENT_ID,
    clientSecret: env.clientSecret,
    resource: RESOURCE,
  });
  assert.deepEqual(results.map((r) => r.errors), [[], [], [], []]);
  assert.equal(new Set(results.flatMap((r) => r.values)).size, 1, "one token everywhere");
  assert.equal(ccGrants(env), 1, "the provider saw one grant");
  assert.deepEqual(env.grantErrors, []);
  if (Deno.env.get("AUTHLANE_SESSION_REPORT")) {
    console.log(
      `many isolates (client credentials): ${ccGrants(env)} grant; concurrent phase ` +
        `${results.map((r) => r.elapsedMs.toFixed(0)).join("/")} ms; locked retries ` +
        `${results.map((r) => r.lockRetries).join("/")}`,
    );
  }
});
