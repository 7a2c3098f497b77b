/**
 * validateApplicationLevelSignature() and the JWKS behind it (RFC 7517 §5, OpenID Connect Core
 * §10.1.1): key selection by `kid`/`kty`/`crv`/`alg`/`use`/`key_ops`, refusal of ambiguity, one
 * refetch on an unknown key once the set is 60 seconds old, a 5-minute maximum age, the
 * `[jwksCache]` import/export (moved to and from real oauth4webapi, which must behave the same),
 * and refusal of every key source a token could smuggle in its own header.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import * as o4w from "oauth4webapi";
import { selectCandidates } from "../src/jwks.ts";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs, type FakeAs } from "./_fake_as.ts";
import { b64u, generateTestKey, keys, type TestKey } from "./_keys.ts";

/** A token response carrying `jwt`, already through processAuthorizationCodeResponse(). */
async function processed(
  server: FakeAs,
  jwt: string,
  as: oauth.AuthorizationServer = server.as,
): Promise<Response> {
  const response = server.json(await server.tokenBody({ id_token: jwt }));
  await oauth.processAuthorizationCodeResponse(as, server.client, response);
  return response;
}

function validate(
  server: FakeAs,
  response: Response,
  as: oauth.AuthorizationServer = server.as,
  extra?: oauth.ValidateSignatureOptions,
): Promise<void> {
  return oauth.validateApplicationLevelSignature(as, response, { ...server.options, ...extra });
}

function jwksFetches(server: FakeAs): number {
  return server.requestsTo("jwks").length;
}

// --- the happy path and the wrong key -------------------------------------------------------

Deno.test("validateApplicationLevelSignature() resolves for a token signed by the server's key", async () => {
  const server = createFakeAs();
  const response = await processed(server, await server.idToken());
  await validate(server, response);
  const [request] = server.requestsTo("jwks");
  assert.equal(request?.method, "GET");
  assert.equal(request?.url.href, server.as.jwks_uri);
  assert.match(request?.headers.get("accept") ?? "", /application\/json/);
});

Deno.test("validateApplicationLevelSignature() verifies every supported key type when the server advertises it", async () => {
  const server = createFakeAs({
    metadata: {
      id_token_signing_alg_values_supported: ["ES256", "RS256", "PS256", "EdDSA", "ES384"],
    },
  });
  for (const alg of ["ES256", "RS256", "PS256", "EdDSA", "ES384"] as const) {
    await validate(server, await processed(server, await server.idToken({}, undefined, alg)));
  }
  assert.equal(jwksFetches(server), 1);
});

Deno.test("validateApplicationLevelSignature() refuses a token whose kid names a key it was not signed with", async () => {
  const server = createFakeAs();
  const impostor = await generateTestKey("ES256", "es256");
  const response = await processed(server, await server.idToken({}, undefined, impostor));
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
    { alg: "ES256", kid: "es256" },
  );
});

Deno.test("validateApplicationLevelSignature() refuses a token whose payload was altered after signing", async () => {
  const server = createFakeAs();
  const [h, , s] = (await server.idToken()).split(".");
  const forged = `${h}.${b64u(JSON.stringify(server.idTokenClaims({ sub: "admin" })))}.${s}`;
  const response = await processed(server, forged);
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("validateApplicationLevelSignature() refuses an ES256 token with an empty or truncated signature", async () => {
  const server = createFakeAs();
  const [h, p, s] = (await server.idToken()).split(".") as [string, string, string];
  for (const signature of ["", s.slice(0, 20), `${s}AAAA`]) {
    const response = await processed(server, `${h}.${p}.${signature}`);
    await assertOAuthError(
      () => validate(server, response),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  }
});

// --- selection -------------------------------------------------------------------------------------

Deno.test("validateApplicationLevelSignature() selects the single matching key of a token without kid", async () => {
  const server = createFakeAs();
  const response = await processed(server, await server.idToken({}, { kid: undefined }));
  await validate(server, response);
});

Deno.test("validateApplicationLevelSignature() refuses a kid that names no key after a token without kid selected one", async () => {
  const server = createFakeAs();
  await validate(server, await processed(server, await server.idToken({}, { kid: undefined })));
  // The remembered selection of the kid-less token must not answer for any kid string.
  const response = await processed(server, await server.idToken({}, { kid: "\u0001" }));
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
    { candidates: 0 },
  );
});

Deno.test("validateApplicationLevelSignature() refuses a token without kid when two keys could match", async () => {
  const server = createFakeAs();
  const second = await generateTestKey("ES256");
  server.jwks.keys.push(second.publicJwk);
  const response = await processed(server, await server.idToken({}, { kid: undefined }));
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
    { candidates: 2 },
  );
});

Deno.test("validateApplicationLevelSignature() uses the kid to choose between keys of one type", async () => {
  const server = createFakeAs();
  const second = await generateTestKey("ES256");
  server.jwks.keys.push(second.publicJwk);
  await validate(server, await processed(server, await server.idToken()));
  await validate(server, await processed(server, await server.idToken({}, undefined, second)));
});

Deno.test("validateApplicationLevelSignature() refuses a JWKS with two keys under the token's kid", async () => {
  const server = createFakeAs();
  const twin = await generateTestKey("ES256", "es256");
  server.jwks.keys.push(twin.publicJwk);
  const response = await processed(server, await server.idToken({}, undefined, twin));
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
    { candidates: 2 },
  );
});

Deno.test("validateApplicationLevelSignature() never selects encryption keys or keys for another alg", async () => {
  const variants: [string, Record<string, unknown>][] = [
    ['use "enc"', { use: "enc" }],
    ['key_ops ["encrypt"]', { key_ops: ["encrypt"] }],
    ['key_ops ["sign"]', { key_ops: ["sign"] }],
    ['alg "ES384"', { alg: "ES384" }],
    ['crv "P-384"', { crv: "P-384" }],
  ];
  for (const [what, change] of variants) {
    const server = createFakeAs();
    server.jwks = { keys: [{ ...keys.ES256.publicJwk, ...change }] };
    const response = await processed(server, await server.idToken());
    await assertOAuthError(
      () => validate(server, response),
      oauth.OperationProcessingError,
      oauth.KEY_SELECTION,
      (cause) => assert.equal((cause as { candidates: number }).candidates, 0, what),
    );
  }
});

Deno.test("validateApplicationLevelSignature() refuses an RS256 token when the RSA key is published for PS256", async () => {
  const server = createFakeAs();
  server.jwks = { keys: [{ ...keys.RS256.publicJwk, alg: "PS256" }] };
  const response = await processed(server, await server.idToken({}, undefined, "RS256"));
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
    { candidates: 0 },
  );
});

Deno.test("validateApplicationLevelSignature() selects signature keys marked use sig, key_ops verify, or unmarked", async () => {
  const variants: Record<string, unknown>[] = [
    { use: "sig" },
    { key_ops: ["verify"] },
    { use: undefined, alg: undefined, key_ops: undefined },
  ];
  for (const change of variants) {
    const server = createFakeAs();
    server.jwks = { keys: [{ ...keys.ES256.publicJwk, ...change }] };
    await validate(server, await processed(server, await server.idToken()));
  }
});

Deno.test("validateApplicationLevelSignature() refuses a non-string kid header", async () => {
  const server = createFakeAs();
  const response = await processed(server, await server.idToken({}, { kid: 1 }));
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

// --- keys a token brings along are never trusted --------------------------------------------

Deno.test("validateApplicationLevelSignature() ignores a jwk header carrying the attacker's key", async () => {
  const server = createFakeAs();
  const attacker = await generateTestKey("ES256");
  const { kid: _kid, ...embedded } = attacker.publicJwk;
  const withoutKid = await server.idToken({}, { kid: undefined, jwk: embedded }, attacker);
  await assertOAuthError(
    () => processed(server, withoutKid).then((r) => validate(server, r)),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  const withKid = await server.idToken({}, { jwk: attacker.publicJwk }, attacker);
  await assertOAuthError(
    () => processed(server, withKid).then((r) => validate(server, r)),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
    { candidates: 0 },
  );
});

Deno.test("validateApplicationLevelSignature() never fetches jku or x5u, nor trusts x5c", async () => {
  const server = createFakeAs();
  const attacker = await generateTestKey("RS256");
  const header = {
    kid: undefined,
    jku: `${server.issuer}/attacker/jwks`,
    x5u: `${server.issuer}/attacker/cert.pem`,
    x5c: [b64u("not really a certificate")],
  };
  const response = await processed(server, await server.idToken({}, header, attacker));
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
  assert.deepEqual(server.requests.map((r) => r.route), ["jwks"]);
});

Deno.test("validateApplicationLevelSignature() cannot be tricked into HS256 with the RSA public key as secret", async () => {
  const server = createFakeAs({
    metadata: { id_token_signing_alg_values_supported: ["HS256", "RS256"] },
  });
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.RS256.publicKey));
  const jwkText = new TextEncoder().encode(JSON.stringify(keys.RS256.publicJwk));
  for (const secret of [spki, jwkText]) {
    const hmac = await crypto.subtle.importKey(
      "raw",
      secret,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const jwt = await server.idToken({}, { alg: "HS256", kid: "rs256" }, {
      privateKey: hmac,
      alg: "HS256",
    });
    await assertOAuthError(
      () => processed(server, jwt),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
  // Nor would the key selection offer an RSA (or any) key for HS256.
  assert.deepEqual(selectCandidates(server.jwks.keys, "HS256", "rs256"), []);
  assert.deepEqual(selectCandidates(server.jwks.keys, "HS256", undefined), []);
  assert.equal(selectCandidates(server.jwks.keys, "RS256", "rs256").length, 1);
});

// --- refetch on an unknown key, and its cooldown -------------------------------------------

Deno.test("validateApplicationLevelSignature() refetches the JWKS once when a rotated key appears", async () => {
  const server = createFakeAs();
  const rotated = await generateTestKey("ES256");
  const cache = { jwks: { keys: [keys.ES256.publicJwk] }, uat: server.now() - 60 };
  server.jwks = { keys: [rotated.publicJwk] };
  const response = await processed(server, await server.idToken({}, undefined, rotated));
  await validate(server, response, server.as, { [oauth.jwksCache]: cache });
  assert.equal(jwksFetches(server), 1);
  assert.deepEqual(cache.jwks, server.jwks);
  assert.ok(Math.abs(cache.uat - server.now()) <= 2);
});

Deno.test("validateApplicationLevelSignature() refuses a kid still unknown after the refetch, and waits out the cooldown", async () => {
  const server = createFakeAs();
  const stranger = await generateTestKey("ES256");
  const cache = { jwks: { keys: [keys.ES256.publicJwk] }, uat: server.now() - 60 };
  const options = { [oauth.jwksCache]: cache };
  const first = await processed(server, await server.idToken({}, undefined, stranger));
  await assertOAuthError(
    () => validate(server, first, server.as, options),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
    { candidates: 0 },
  );
  assert.equal(jwksFetches(server), 1);
  const second = await processed(server, await server.idToken({}, undefined, stranger));
  await assertOAuthError(
    () => validate(server, second, server.as, options),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
  );
  assert.equal(jwksFetches(server), 1);
});

Deno.test("validateApplicationLevelSignature() does not refetch a JWKS it has just fetched", async () => {
  const server = createFakeAs();
  const stranger = await generateTestKey("ES256");
  const response = await processed(server, await server.idToken({}, undefined, stranger));
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.KEY_SELECTION,
  );
  assert.equal(jwksFetches(server), 1);
});

// --- JWKS responses the server gets wrong ------------------------------------------------------

Deno.test("validateApplicationLevelSignature() refuses a JWKS that is not a JWK Set", async () => {
  const bodies: unknown[] = [
    [keys.ES256.publicJwk],
    { keys: keys.ES256.publicJwk },
    { keys: "es256" },
    { keys: [keys.ES256.publicJwk, "garbage"] },
    { keys: [1] },
    { keys: [null] },
    {},
  ];
  for (const served of bodies) {
    const server = createFakeAs();
    server.jwks = served as oauth.JWKS;
    const response = await processed(server, await server.idToken());
    await assertOAuthError(
      () => validate(server, response),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  }
});

Deno.test("validateApplicationLevelSignature() refuses a JWKS response that is not JSON", async () => {
  const server = createFakeAs();
  // Function responders: Deno's Response.clone() may drop headers of a never-read Response.
  server.override(
    "jwks",
    () => new Response("keys: none", { headers: { "content-type": "text/plain" } }),
  );
  const response = await processed(server, await server.idToken());
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_JSON,
    { contentType: "text/plain", status: 200 },
  );
});

Deno.test("validateApplicationLevelSignature() accepts a JWKS served as application/jwk-set+json", async () => {
  const server = createFakeAs();
  server.override(
    "jwks",
    () =>
      new Response(JSON.stringify(server.jwks), {
        headers: { "content-type": "application/jwk-set+json" },
      }),
  );
  await validate(server, await processed(server, await server.idToken()));
});

Deno.test("validateApplicationLevelSignature() refuses a JWKS body that does not parse", async () => {
  const server = createFakeAs();
  server.override(
    "jwks",
    () => new Response("{", { headers: { "content-type": "application/json" } }),
  );
  const response = await processed(server, await server.idToken());
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
});

Deno.test("validateApplicationLevelSignature() refuses a JWKS endpoint answering 404", async () => {
  const server = createFakeAs();
  server.override("jwks", () => new Response("not found", { status: 404 }));
  const response = await processed(server, await server.idToken());
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_CONFORM,
    { status: 404 },
  );
});

Deno.test("validateApplicationLevelSignature() refuses metadata without jwks_uri before any request", async () => {
  const server = createFakeAs({ metadata: { jwks_uri: undefined } });
  const response = await processed(server, await server.idToken());
  await assertOAuthError(
    () => validate(server, response),
    oauth.OperationProcessingError,
    oauth.MISSING_SERVER_METADATA,
    { attribute: "jwks_uri" },
  );
  assert.equal(server.requests.length, 0);
});

// --- the cache ------------------------------------------------------------------------------

Deno.test("validateApplicationLevelSignature() fills a [jwksCache] object with jwks and uat", async () => {
  const server = createFakeAs();
  const cache = {} as oauth.JWKSCacheInput;
  await validate(server, await processed(server, await server.idToken()), server.as, {
    [oauth.jwksCache]: cache,
  });
  const filled = cache as oauth.ExportedJWKSCache;
  assert.deepEqual(filled.jwks, server.jwks);
  assert.equal(typeof filled.uat, "number");
  assert.ok(Math.abs(filled.uat - server.now()) <= 2);
});

Deno.test("validateApplicationLevelSignature() reuses a [jwksCache] across copies of the metadata", async () => {
  const server = createFakeAs();
  const cache = {};
  const options = { [oauth.jwksCache]: cache };
  await validate(server, await processed(server, await server.idToken()), server.as, options);
  const copy = { ...server.as };
  await validate(server, await processed(server, await server.idToken(), copy), copy, options);
  assert.equal(jwksFetches(server), 1);
});

Deno.test("validateApplicationLevelSignature() uses a [jwksCache] exported by a previous process without fetching", async () => {
  const server = createFakeAs();
  const exported = JSON.parse(JSON.stringify({ jwks: server.jwks, uat: server.now() - 5 }));
  await validate(server, await processed(server, await server.idToken()), server.as, {
    [oauth.jwksCache]: exported,
  });
  assert.equal(jwksFetches(server), 0);
});

Deno.test("validateApplicationLevelSignature() refetches a [jwksCache] older than five minutes", async () => {
  const server = createFakeAs();
  const exported = { jwks: server.jwks, uat: server.now() - 3600 };
  await validate(server, await processed(server, await server.idToken()), server.as, {
    [oauth.jwksCache]: exported,
  });
  assert.equal(jwksFetches(server), 1);
  assert.ok(exported.uat >= server.now() - 2);
});

Deno.test("validateApplicationLevelSignature() caches per metadata object without [jwksCache]", async () => {
  const server = createFakeAs();
  await validate(server, await processed(server, await server.idToken()));
  await validate(server, await processed(server, await server.idToken()));
  assert.equal(jwksFetches(server), 1);
});

Deno.test("validateApplicationLevelSignature() shares one JWKS fetch between concurrent calls", async () => {
  const server = createFakeAs();
  const responses: Response[] = [];
  for (let i = 0; i < 5; i++) responses.push(await processed(server, await server.idToken()));
  await Promise.all(responses.map((r) => validate(server, r)));
  assert.equal(jwksFetches(server), 1);
});

Deno.test("validateApplicationLevelSignature() refuses a [jwksCache] that is not an object", async () => {
  const server = createFakeAs();
  const response = await processed(server, await server.idToken());
  await assertTypeError(
    () =>
      validate(server, response, server.as, {
        [oauth.jwksCache]: "cache" as unknown as oauth.JWKSCacheInput,
      }),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(jwksFetches(server), 0);
});

// --- arguments ------------------------------------------------------------------------------

Deno.test("validateApplicationLevelSignature() refuses a Response that no processor has seen", async () => {
  const server = createFakeAs();
  const unprocessed = server.json(await server.tokenBody());
  await assertTypeError(() => validate(server, unprocessed), "ERR_INVALID_ARG_VALUE");
  await unprocessed.body?.cancel();
  // A processed response without any JWT is refused the same way.
  const plain = server.json(await server.tokenBody({ id_token: undefined }));
  await oauth.processAuthorizationCodeResponse(server.as, server.client, plain);
  await assertTypeError(() => validate(server, plain), "ERR_INVALID_ARG_VALUE");
  await assertTypeError(
    () => validate(server, {} as unknown as Response),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("validateApplicationLevelSignature() accepts a key the server rotated in as a second key", async () => {
  const server = createFakeAs();
  const next: TestKey = await generateTestKey("RS256");
  server.jwks.keys.push(next.publicJwk);
  await validate(server, await processed(server, await server.idToken({}, undefined, next)));
});

Deno.test("validateApplicationLevelSignature() refuses an RSA key shorter than 2048 bits", async () => {
  // RFC 7518 §3.3 and §3.5: RS* and PS* keys MUST be 2048 bits or larger (oauth4webapi agrees).
  const server = createFakeAs();
  const weak = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 1024,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const { key_ops: _ops, ext: _ext, ...material } = await crypto.subtle.exportKey(
    "jwk",
    weak.publicKey,
  );
  server.jwks = { keys: [{ ...material, kid: "weak", alg: "RS256", use: "sig" } as oauth.JWK] };
  const jwt = await server.idToken({}, { kid: "weak", alg: "RS256" }, {
    privateKey: weak.privateKey,
    alg: "RS256",
  });
  const response = await processed(server, jwt);
  await assertOAuthError(
    () => validate(server, response),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

Deno.test("validateApplicationLevelSignature() does not fail a caller because another caller's signal aborted the shared JWKS fetch", async () => {
  const server = createFakeAs();
  const release = Promise.withResolvers<void>();
  let calls = 0;
  server.override("jwks", async (_req, _body, next) => {
    calls++;
    if (calls === 1) await release.promise; // the first fetch hangs until its caller gives up
    return await next();
  });
  const impatient = new AbortController();
  const first = validate(server, await processed(server, await server.idToken()), server.as, {
    signal: impatient.signal,
  });
  const second = validate(server, await processed(server, await server.idToken()));
  impatient.abort(new DOMException("gave up", "AbortError"));
  await assert.rejects(first, (err) => err instanceof DOMException && err.name === "AbortError");
  await second; // joined the aborted fetch, then fetched on its own
  release.resolve();
  assert.equal(calls, 2);
});

// --- the [jwksCache] lifecycle, against real oauth4webapi ------------------------------------

type Library = "authlane" | "oauth4webapi";
const LIBRARIES: Library[] = ["authlane", "oauth4webapi"];

/**
 * Validates an ID token signed with `key` through `library`, with a fresh copy of the metadata
 * (so oauth4webapi, which keys its own cache by the metadata object, starts from the export as
 * a new process would) and the given `[jwksCache]`.
 */
async function validateWith(
  library: Library,
  server: FakeAs,
  cache: Record<string, unknown>,
  key?: TestKey,
): Promise<void> {
  const as = { ...server.as };
  const body = await server.tokenBody({ id_token: await server.idToken({}, undefined, key) });
  const fetch = server.options[oauth.customFetch];
  if (library === "authlane") {
    const response = server.json(body);
    await oauth.processAuthorizationCodeResponse(as, server.client, response);
    await oauth.validateApplicationLevelSignature(as, response, {
      [oauth.customFetch]: fetch,
      [oauth.jwksCache]: cache as oauth.JWKSCacheInput,
    });
  } else {
    const response = server.json(body);
    await o4w.processAuthorizationCodeResponse(as, server.client, response);
    await o4w.validateApplicationLevelSignature(as, response, {
      [o4w.customFetch]: fetch as never,
      [o4w.jwksCache]: cache as o4w.JWKSCacheInput,
    });
  }
}

/** The outcome of one validation: how many JWKS fetches it made, and the error code if any. */
async function outcome(
  library: Library,
  cache: Record<string, unknown>,
  setup: (server: FakeAs) => void | Promise<void> = () => {},
  key?: TestKey,
): Promise<{ fetches: number; code?: string; exported: string[] }> {
  const server = createFakeAs();
  await setup(server);
  let code: string | undefined;
  try {
    await validateWith(library, server, cache, key);
  } catch (err) {
    code = (err as { code?: string }).code ?? String(err);
  }
  return { fetches: jwksFetches(server), code, exported: Object.keys(cache).sort() };
}

Deno.test("[jwksCache] filled by oauth4webapi is used by authlane without a fetch, and the other way round", async () => {
  for (const [filler, reader] of [["oauth4webapi", "authlane"], ["authlane", "oauth4webapi"]]) {
    const server = createFakeAs();
    const cache: Record<string, unknown> = {};
    await validateWith(filler as Library, server, cache);
    assert.equal(jwksFetches(server), 1);
    assert.deepEqual(Object.keys(cache).sort(), ["jwks", "uat"], `${filler} exports { jwks, uat }`);
    assert.deepEqual(cache.jwks, server.jwks);
    assert.ok(Math.abs((cache.uat as number) - server.now()) <= 2);
    const moved = JSON.parse(JSON.stringify(cache)); // as an application would persist it
    await validateWith(reader as Library, server, moved);
    assert.equal(jwksFetches(server), 1, `${reader} used ${filler}'s export`);
  }
});

Deno.test("[jwksCache] both libraries use a set younger than five minutes and refetch one five minutes old", async () => {
  for (const age of [299, 300]) {
    const results = [];
    for (const library of LIBRARIES) {
      const server = createFakeAs();
      const cache = { jwks: structuredClone(server.jwks), uat: server.now() - age };
      results.push(
        await outcome(library, cache, (s) => {
          s.jwks = server.jwks;
        }),
      );
    }
    assert.deepEqual(results[0], results[1], `age ${age}`);
    assert.equal(results[0]!.fetches, age < oauth_MAX_AGE ? 0 : 1, `age ${age}`);
  }
});

const oauth_MAX_AGE = 300;

Deno.test("[jwksCache] an unknown kid triggers a refetch only once the set is 60 seconds old, in both libraries", async () => {
  const rotated = await generateTestKey("ES256");
  for (const age of [59, 60]) {
    const results = [];
    for (const library of LIBRARIES) {
      const cache = { jwks: { keys: [keys.ES256.publicJwk] }, uat: 0 };
      results.push(
        await outcome(library, cache, (s) => {
          cache.uat = s.now() - age;
          s.jwks = { keys: [rotated.publicJwk] };
        }, rotated),
      );
    }
    assert.deepEqual(results[0], results[1], `age ${age}`);
    if (age < 60) {
      assert.equal(results[0]!.fetches, 0);
      assert.equal(results[0]!.code, oauth.KEY_SELECTION);
    } else {
      assert.equal(results[0]!.fetches, 1);
      assert.equal(results[0]!.code, undefined);
    }
  }
});

Deno.test("[jwksCache] an expired export is not used, and a failed refetch surfaces the same error in both libraries", async () => {
  const results = [];
  for (const library of LIBRARIES) {
    const cache: Record<string, unknown> = { jwks: { keys: [keys.ES256.publicJwk] }, uat: 0 };
    results.push(
      await outcome(library, cache, (s) => {
        cache.uat = s.now() - 600;
        s.override("jwks", s.oauthError("temporarily_unavailable", undefined, 503));
      }),
    );
  }
  assert.deepEqual(results[0], results[1]);
  assert.deepEqual(results[0], {
    fetches: 1,
    code: oauth.RESPONSE_IS_NOT_CONFORM,
    exported: ["jwks", "uat"],
  });
});

Deno.test("[jwksCache] a stale or malformed export is not used by either library", async () => {
  for (
    const cache of [
      { jwks: { keys: "none" }, uat: "now" },
      { jwks: { keys: [1] } },
      { uat: 0 },
    ]
  ) {
    const results = [];
    for (const library of LIBRARIES) {
      results.push(
        await outcome(library, structuredClone(cache) as Record<string, unknown>, (s) => {
          if (typeof cache.uat === "number") cache.uat = s.now();
        }),
      );
    }
    assert.deepEqual(results[0], results[1], JSON.stringify(cache));
    assert.equal(results[0]!.fetches, 1);
  }
});
