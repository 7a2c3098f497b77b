/**
 * src/session/jwks_cache.ts: the JWKS in Deno KV, fed to `validateJwtAccessToken` through
 * `[jwksCache]` and `[customFetch]`: one fetch for many callers and processes, none for a new
 * isolate, `Cache-Control: max-age` within bounds, key rotation, a failing endpoint.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createKvJwksCache, type KvJwksCacheOptions } from "@authlane/oauth/session";
import { oauth, rejection } from "./_env.ts";
import { runIsolates } from "./_isolates.ts";

const AUDIENCE = "https://api.example/";
const http = { [oauth.allowInsecureRequests]: true } as const;

interface Signer {
  kid: string;
  jwk: JsonWebKey & { kid: string };
  sign(claims?: Record<string, unknown>): Promise<string>;
}

async function signer(issuer: string, kid = crypto.randomUUID()): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  return {
    kid,
    jwk: { ...await exportJWK(publicKey), kid, alg: "ES256", use: "sig" },
    sign: (claims = {}) =>
      new SignJWT({ client_id: "svc", ...claims })
        .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
        .setIssuer(issuer)
        .setSubject("svc")
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime("5m")
        .setJti(crypto.randomUUID())
        .sign(privateKey),
  };
}

/** A JWKS endpoint that counts GETs and serves the keys and Cache-Control it is told to. */
async function jwksServer(cacheControl?: string) {
  const state = {
    keys: [] as (JsonWebKey & { kid: string })[],
    gets: 0,
    status: 200,
    cacheControl,
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (request.method === "GET") state.gets++;
    const headers: Record<string, string> = {};
    if (state.cacheControl !== undefined) headers["cache-control"] = state.cacheControl;
    return state.status === 200
      ? Response.json({ keys: state.keys }, { headers })
      : new Response("down", { status: state.status });
  });
  const issuer = `https://as-${server.addr.port}.example`;
  const as: oauth.AuthorizationServer = {
    issuer,
    jwks_uri: `http://127.0.0.1:${server.addr.port}/jwks`,
  };
  const key = await signer(issuer);
  state.keys = [key.jwk];
  return {
    state,
    as,
    key,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function validate(
  cache: ReturnType<typeof createKvJwksCache>,
  as: oauth.AuthorizationServer,
  token: string,
): Promise<oauth.JWTAccessTokenClaims> {
  return (async () =>
    oauth.validateJwtAccessToken(
      as,
      new Request(AUDIENCE, { headers: { authorization: `Bearer ${token}` } }),
      AUDIENCE,
      { ...http, ...await cache.options(as) },
    ))();
}

async function storedFreshness(kv: Deno.Kv, issuer: string): Promise<number> {
  const entry = await kv.get<{ fetchedAt: number; freshUntil: number }>([
    "authlane",
    "jwks",
    issuer,
  ]);
  assert.ok(entry.value, "the key set is in KV");
  return entry.value.freshUntil - entry.value.fetchedAt;
}

Deno.test("createKvJwksCache(): 50 concurrent validations fetch the key set once; a new isolate fetches nothing", async () => {
  await using server = await jwksServer("public, max-age=300");
  using kv = await Deno.openKv(":memory:");
  const cache = createKvJwksCache({ kv });
  const token = await server.key.sign();
  const claims = await Promise.all(
    Array.from({ length: 50 }, () => validate(cache, server.as, token)),
  );
  assert.equal(claims.length, 50);
  assert.ok(claims.every((c) => c.sub === "svc"));
  assert.equal(server.state.gets, 1);
  assert.equal(await storedFreshness(kv, server.as.issuer), 300);
  // Another cache object on the same KV stands for a new isolate: it reads KV.
  const fresh = createKvJwksCache({ kv });
  assert.equal((await validate(fresh, server.as, await server.key.sign())).sub, "svc");
  assert.equal(server.state.gets, 1);
});

Deno.test("createKvJwksCache() honours Cache-Control max-age within [minMaxAge, maxMaxAge]", async () => {
  const cases: [string | undefined, number, Partial<KvJwksCacheOptions>][] = [
    ["max-age=120", 120, {}],
    ["public, max-age=5", 60, {}], // below minMaxAge
    ["max-age=9999999", 86_400, {}], // above maxMaxAge
    ["max-age=9999999", 3600, { maxMaxAge: 3600 }],
    ["no-store", 60, {}],
    ["no-cache, max-age=300", 60, {}],
    [undefined, 600, {}], // none: the library's own ten minutes
    [undefined, 900, { defaultMaxAge: 900 }],
  ];
  for (const [header, expected, options] of cases) {
    await using server = await jwksServer(header);
    using kv = await Deno.openKv(":memory:");
    await validate(createKvJwksCache({ kv, ...options }), server.as, await server.key.sign());
    assert.equal(await storedFreshness(kv, server.as.issuer), expected, header);
  }
});

Deno.test("createKvJwksCache() refetches when max-age runs out, not before", async () => {
  await using server = await jwksServer("max-age=120");
  using kv = await Deno.openKv(":memory:");
  const clock = { offset: 0 };
  const now = () => Math.floor(Date.now() / 1000) + clock.offset;
  const token = await server.key.sign();
  await validate(createKvJwksCache({ kv, now }), server.as, token);
  clock.offset = 110;
  await validate(createKvJwksCache({ kv, now }), server.as, token);
  assert.equal(server.state.gets, 1);
  clock.offset = 121;
  await validate(createKvJwksCache({ kv, now }), server.as, token);
  assert.equal(server.state.gets, 2);
});

Deno.test("createKvJwksCache(): a rotated key is fetched once, shared, but not within 30 s of the last fetch", async () => {
  await using server = await jwksServer("max-age=3600");
  using kv = await Deno.openKv(":memory:");
  const clock = { offset: 0 };
  const now = () => Math.floor(Date.now() / 1000) + clock.offset;
  const cache = createKvJwksCache({ kv, now });
  const other = createKvJwksCache({ kv, now }); // another isolate
  await validate(cache, server.as, await server.key.sign());
  await validate(other, server.as, await server.key.sign()); // the old set, now in its memory
  const rotated = await signer(server.as.issuer);
  server.state.keys = [rotated.jwk, server.key.jwk];
  const token = await rotated.sign();
  // Right after a fetch, an unknown kid does not make another (the library's 30 s cooldown).
  const refused = await rejection(
    validate(cache, server.as, token),
    oauth.OperationProcessingError,
  );
  assert.equal(refused.code, oauth.KEY_SELECTION);
  assert.equal(server.state.gets, 1);
  clock.offset = 31;
  const claims = await Promise.all(
    Array.from({ length: 20 }, () => validate(cache, server.as, token)),
  );
  assert.equal(claims.length, 20);
  assert.equal(server.state.gets, 2);
  // The other isolate, with the old set in memory, picks the new one up from KV: no fetch.
  assert.equal((await validate(other, server.as, token)).sub, "svc");
  assert.equal(server.state.gets, 2);
});

Deno.test("createKvJwksCache(): a failing JWKS endpoint fails the validation with the library's error and caches nothing", async () => {
  await using server = await jwksServer("max-age=300");
  using kv = await Deno.openKv(":memory:");
  server.state.status = 503;
  const cache = createKvJwksCache({ kv });
  const token = await server.key.sign();
  const error = await rejection(validate(cache, server.as, token), oauth.OperationProcessingError);
  assert.equal(error.code, oauth.RESPONSE_IS_NOT_CONFORM);
  assert.equal((await kv.get(["authlane", "jwks", server.as.issuer])).value, null);
  assert.equal((await kv.get(["authlane", "jwks_lease", server.as.issuer])).value, null);
  server.state.status = 200;
  assert.equal((await validate(cache, server.as, token)).sub, "svc");
  assert.equal(server.state.gets, 2);
});

Deno.test("createKvJwksCache() refuses bad options before any I/O", () => {
  assert.throws(() => createKvJwksCache({} as KvJwksCacheOptions), {
    code: "ERR_INVALID_ARG_TYPE",
  });
  return (async () => {
    using kv = await Deno.openKv(":memory:");
    assert.throws(() => createKvJwksCache({ kv, minMaxAge: 0 }), { code: "ERR_INVALID_ARG_VALUE" });
    assert.throws(() => createKvJwksCache({ kv, minMaxAge: 10, maxMaxAge: 5 }), {
      code: "ERR_INVALID_ARG_VALUE",
    });
  })();
});

Deno.test("many isolates: 4 processes x 50 concurrent validations fetch the JWKS once", async () => {
  await using server = await jwksServer("max-age=600");
  const dir = await Deno.makeTempDir({ prefix: "authlane-jwks-" });
  try {
    const results = await runIsolates(4, {
      mode: "jwks",
      kvPath: `${dir}/kv.sqlite3`,
      concurrency: 50,
      as: server.as,
      token: await server.key.sign(),
      audience: AUDIENCE,
    });
    assert.deepEqual(results.map((r) => r.errors), [[], [], [], []]);
    assert.deepEqual(results.map((r) => r.values), [["svc"], ["svc"], ["svc"], ["svc"]]);
    assert.equal(server.state.gets, 1, "the JWKS endpoint saw one fetch");
    if (Deno.env.get("AUTHLANE_SESSION_REPORT")) {
      console.log(
        `many isolates (jwks): ${server.state.gets} fetch; concurrent phase ` +
          `${results.map((r) => r.elapsedMs.toFixed(0)).join("/")} ms; locked retries ` +
          `${results.map((r) => r.lockRetries).join("/")}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
