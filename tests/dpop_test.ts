/**
 * DPoP (RFC 9449): proof contents (§4.2) checked by decoding the `DPoP` header a request carries
 * and verifying its signature with Web Crypto, nonce handling (§8, §9), `isDPoPNonceError`,
 * key pair validation, redaction, and `generateKeyPair`.
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from "jose";
import * as oauth from "@authlane/oauth";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { createFakeAs } from "./_fake_as.ts";
import { b64u } from "./_keys.ts";

type Init = oauth.CustomFetchOptions<string, unknown>;

interface Recorded {
  url: string;
  init: Init;
}

/** A customFetch that records each call and answers with `respond` (default: 204, no body). */
function recorder(respond?: (url: string, init: Init) => Response) {
  const calls: Recorded[] = [];
  const fetch = (url: string, init: Init): Promise<Response> => {
    calls.push({ url, init });
    return Promise.resolve(respond?.(url, init) ?? new Response(null, { status: 204 }));
  };
  return { calls, options: { [oauth.customFetch]: fetch } };
}

interface DecodedProof {
  proof: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

function proofOf(call: Recorded | undefined): DecodedProof {
  const proof = call?.init.headers.dpop;
  assert.ok(proof, "the request carries a DPoP header");
  return {
    proof,
    header: decodeProtectedHeader(proof) as Record<string, unknown>,
    claims: decodeJwt(proof) as Record<string, unknown>,
  };
}

function verifyParams(alg: string): AlgorithmIdentifier | EcdsaParams | RsaPssParams {
  switch (alg) {
    case "ES256":
      return { name: "ECDSA", hash: "SHA-256" } as EcdsaParams;
    case "ES384":
      return { name: "ECDSA", hash: "SHA-384" } as EcdsaParams;
    case "ES512":
      return { name: "ECDSA", hash: "SHA-512" } as EcdsaParams;
    case "PS256":
      return { name: "RSA-PSS", saltLength: 32 } as RsaPssParams;
    case "RS256":
      return { name: "RSASSA-PKCS1-v1_5" };
    case "Ed25519":
      return { name: "Ed25519" };
  }
  throw new Error(`no verify params for ${alg}`);
}

async function verifies(proof: string, alg: string, key: CryptoKey): Promise<boolean> {
  const [h, p, s] = proof.split(".");
  const signature = Uint8Array.from(
    atob(s!.replace(/-/g, "+").replace(/_/g, "/")),
    (c) => c.charCodeAt(0),
  );
  return await crypto.subtle.verify(
    verifyParams(alg),
    key,
    signature,
    new TextEncoder().encode(`${h}.${p}`),
  );
}

async function sha256b64u(text: string): Promise<string> {
  return b64u(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))),
  );
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

const es256 = await oauth.generateKeyPair("ES256");
const client: oauth.Client = { client_id: "client" };

async function resourceCall(
  DPoP: oauth.DPoPHandle,
  fetcher: ReturnType<typeof recorder>,
  url = "https://rs.example/api",
  method = "GET",
  token = "access-token",
): Promise<void> {
  const response = await oauth.protectedResourceRequest(
    token,
    method,
    new URL(url),
    undefined,
    undefined,
    { DPoP, ...fetcher.options },
  );
  await response.body?.cancel();
}

// --- proof contents (RFC 9449 §4.2) -------------------------------------------------------------

for (const alg of ["ES256", "ES384", "ES512", "PS256", "RS256", "Ed25519"]) {
  Deno.test(`DPoP() signs a proof with ${alg} that verifies with the public key via Web Crypto`, async () => {
    const keyPair = await oauth.generateKeyPair(alg);
    const fetcher = recorder();
    await resourceCall(oauth.DPoP(client, keyPair), fetcher);
    const { proof, header } = proofOf(fetcher.calls[0]);
    assert.equal(header.alg, alg);
    assert.equal(header.typ, "dpop+jwt");
    assert.ok(await verifies(proof, alg, keyPair.publicKey));
    const embedded = await crypto.subtle.importKey(
      "jwk",
      header.jwk as JsonWebKey,
      alg.startsWith("ES")
        ? { name: "ECDSA", namedCurve: (header.jwk as { crv: string }).crv }
        : alg === "Ed25519"
        ? { name: "Ed25519" }
        : { name: alg.startsWith("PS") ? "RSA-PSS" : "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["verify"],
    );
    assert.ok(await verifies(proof, alg, embedded), "the embedded jwk verifies the proof");
  });
}

Deno.test("DPoP() proof header carries typ, alg and a jwk with no private members", async () => {
  const keyPair = await oauth.generateKeyPair("ES256", { extractable: true });
  const fetcher = recorder();
  await resourceCall(oauth.DPoP(client, keyPair), fetcher);
  const { header } = proofOf(fetcher.calls[0]);
  assert.deepEqual(Object.keys(header).sort(), ["alg", "jwk", "typ"]);
  const jwk = header.jwk as Record<string, unknown>;
  const publicJwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  assert.deepEqual(jwk, { kty: "EC", crv: "P-256", x: publicJwk.x, y: publicJwk.y });
  const privateJwk = await crypto.subtle.exportKey("jwk", keyPair.privateKey);
  assert.ok(!JSON.stringify(header).includes(privateJwk.d!));
});

Deno.test("DPoP() proof carries htm and an htu without query and fragment", async () => {
  const fetcher = recorder();
  await resourceCall(
    oauth.DPoP(client, es256),
    fetcher,
    "https://rs.example:8443/api/items?page=2&q=x#top",
    "POST",
  );
  const { claims } = proofOf(fetcher.calls[0]);
  assert.equal(claims.htm, "POST");
  assert.equal(claims.htu, "https://rs.example:8443/api/items");
  assert.equal(fetcher.calls[0]!.url, "https://rs.example:8443/api/items?page=2&q=x#top");
});

Deno.test("DPoP() signs no proof for a URL carrying user:pass@ credentials: the request is refused first", async () => {
  const fetcher = recorder();
  await assertTypeError(
    () => resourceCall(oauth.DPoP(client, es256), fetcher, "https://user:pass@rs.example/api"),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(fetcher.calls.length, 0);
  await resourceCall(oauth.DPoP(client, es256), fetcher, "https://rs.example/api");
  assert.equal(proofOf(fetcher.calls[0]).claims.htu, "https://rs.example/api");
});

Deno.test("DPoP() proof iat is the client's time, shifted by clockSkew", async () => {
  const fetcher = recorder();
  await resourceCall(oauth.DPoP({ [oauth.clockSkew]: 300 }, es256), fetcher);
  await resourceCall(oauth.DPoP({}, es256), fetcher);
  const skewed = proofOf(fetcher.calls[0]).claims.iat as number;
  const plain = proofOf(fetcher.calls[1]).claims.iat as number;
  assert.ok(Math.abs(skewed - (nowSeconds() + 300)) <= 2, `iat ${skewed}`);
  assert.ok(Math.abs(plain - nowSeconds()) <= 2, `iat ${plain}`);
  assert.ok(Number.isInteger(skewed));
});

Deno.test("DPoP() proofs carry a unique, high-entropy jti each time", async () => {
  const fetcher = recorder();
  const DPoP = oauth.DPoP(client, es256);
  await resourceCall(DPoP, fetcher);
  await resourceCall(DPoP, fetcher);
  const first = proofOf(fetcher.calls[0]).claims.jti as string;
  const second = proofOf(fetcher.calls[1]).claims.jti as string;
  assert.equal(typeof first, "string");
  assert.ok(first.length >= 22, "at least 128 bits, base64url");
  assert.notEqual(first, second);
});

Deno.test("DPoP() proof ath is the base64url SHA-256 of the access token it accompanies", async () => {
  const fetcher = recorder();
  await resourceCall(oauth.DPoP(client, es256), fetcher, undefined, "GET", "tok-éü.123");
  const { claims } = proofOf(fetcher.calls[0]);
  assert.equal(claims.ath, await sha256b64u("tok-éü.123"));
  assert.equal(fetcher.calls[0]!.init.headers.authorization, "DPoP tok-éü.123");
});

Deno.test("DPoP() proof has no ath at the token endpoint, where no access token is presented", async () => {
  const server = createFakeAs();
  const DPoP = oauth.DPoP(server.client, es256);
  const response = await oauth.clientCredentialsGrantRequest(
    server.as,
    server.client,
    oauth.ClientSecretPost(server.clientSecret),
    {},
    { DPoP, ...server.options },
  );
  const tokens = await oauth.processClientCredentialsResponse(server.as, server.client, response);
  assert.equal(tokens.token_type, "dpop");
  const claims = server.lastRequest("token")!.dpop!.claims!;
  assert.equal(claims.ath, undefined);
  assert.equal(claims.htm, "POST");
  assert.equal(claims.htu, server.as.token_endpoint);
});

Deno.test("DPoP() honours modifyAssertion on the proof header and claims", async () => {
  const fetcher = recorder();
  const DPoP = oauth.DPoP(client, es256, {
    [oauth.modifyAssertion]: (header, payload) => {
      header.kid = "k1";
      payload.extra = "yes";
      (header.jwk as Record<string, unknown>).x = "tampered";
    },
  });
  await resourceCall(DPoP, fetcher);
  await resourceCall(DPoP, fetcher);
  const first = proofOf(fetcher.calls[0]);
  assert.equal(first.header.kid, "k1");
  assert.equal(first.claims.extra, "yes");
  const jwk = await crypto.subtle.exportKey("jwk", es256.publicKey);
  // The modifier changed its copy; the handle's cached JWK is intact for the next proof.
  const second = proofOf(fetcher.calls[1]);
  assert.equal((second.header.jwk as Record<string, unknown>).x, "tampered");
  assert.equal(await DPoP.calculateThumbprint(), await calculateJwkThumbprint(jwk));
});

Deno.test("DPoP() calculateThumbprint() returns the RFC 7638 thumbprint of the proof jwk", async () => {
  const fetcher = recorder();
  const DPoP = oauth.DPoP(client, es256);
  await resourceCall(DPoP, fetcher);
  const { header } = proofOf(fetcher.calls[0]);
  const expected = await calculateJwkThumbprint(
    header.jwk as Parameters<typeof calculateJwkThumbprint>[0],
  );
  assert.equal(await DPoP.calculateThumbprint(), expected);
  assert.equal(await DPoP.calculateThumbprint(), expected);
});

// --- nonces (RFC 9449 §8, §9) -------------------------------------------------------------------

Deno.test("DPoP() remembers the nonce of a 400 use_dpop_nonce token response and sends it on retry", async () => {
  const server = createFakeAs();
  server.dpopNonce = "nonce-from-as";
  const DPoP = oauth.DPoP(server.client, es256);
  const grant = async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      server.as,
      server.client,
      oauth.ClientSecretPost(server.clientSecret),
      {},
      { DPoP, ...server.options },
    );
    return await oauth.processClientCredentialsResponse(server.as, server.client, response);
  };
  const err = await assertOAuthError(grant, oauth.ResponseBodyError, oauth.RESPONSE_BODY_ERROR);
  assert.equal(err.error, "use_dpop_nonce");
  assert.equal(oauth.isDPoPNonceError(err), true);
  assert.equal(server.requestsTo("token")[0]!.dpop!.claims!.nonce, undefined);

  const tokens = await grant();
  assert.equal(tokens.token_type, "dpop");
  assert.equal(server.requestsTo("token")[1]!.dpop!.claims!.nonce, "nonce-from-as");
});

Deno.test("DPoP() remembers the nonce of a 401 resource challenge and sends it on retry", async () => {
  const server = createFakeAs();
  server.dpopNonce = "nonce-from-rs";
  const DPoP = oauth.DPoP(server.client, es256);
  const call = () =>
    oauth.protectedResourceRequest("at", "GET", new URL(server.resource), undefined, undefined, {
      DPoP,
      ...server.options,
    });
  const err = await assertOAuthError(
    call,
    oauth.WWWAuthenticateChallengeError,
    oauth.WWW_AUTHENTICATE_CHALLENGE,
  );
  assert.equal(oauth.isDPoPNonceError(err), true);
  const response = await call();
  assert.equal(response.status, 200);
  await response.body?.cancel();
  assert.equal(server.lastRequest("resource")!.dpop!.claims!.nonce, "nonce-from-rs");
});

Deno.test("DPoP() remembers a nonce from a successful response too and uses the newest", async () => {
  let nonce = "n-1";
  const fetcher = recorder(() =>
    new Response(null, { status: 200, headers: { "dpop-nonce": nonce } })
  );
  const DPoP = oauth.DPoP(client, es256);
  await resourceCall(DPoP, fetcher);
  await resourceCall(DPoP, fetcher);
  nonce = "n-2";
  await resourceCall(DPoP, fetcher);
  await resourceCall(DPoP, fetcher);
  assert.deepEqual(
    fetcher.calls.map((c) => proofOf(c).claims.nonce),
    [undefined, "n-1", "n-1", "n-2"],
  );
});

Deno.test("DPoP() keeps nonces per origin and never sends one origin's nonce to another", async () => {
  const fetcher = recorder((url) =>
    new Response(null, { status: 204, headers: { "dpop-nonce": `for-${new URL(url).host}` } })
  );
  const DPoP = oauth.DPoP(client, es256);
  await resourceCall(DPoP, fetcher, "https://a.example/x");
  await resourceCall(DPoP, fetcher, "https://b.example/x");
  await resourceCall(DPoP, fetcher, "https://a.example/other/path");
  await resourceCall(DPoP, fetcher, "https://a.example:8443/x");
  assert.deepEqual(
    fetcher.calls.map((c) => proofOf(c).claims.nonce),
    [undefined, undefined, "for-a.example", undefined],
  );
});

Deno.test("DPoP() ignores a DPoP-Nonce header that is not an RFC 9449 §8.1 nonce", async () => {
  const fetcher = recorder(() =>
    new Response(null, { status: 204, headers: { "dpop-nonce": 'bad "nonce"' } })
  );
  const DPoP = oauth.DPoP(client, es256);
  await resourceCall(DPoP, fetcher);
  await resourceCall(DPoP, fetcher);
  assert.equal(proofOf(fetcher.calls[1]).claims.nonce, undefined);
});

Deno.test("DPoP() forgets the least recently used origin's nonce beyond 100 origins", async () => {
  const fetcher = recorder((url) =>
    new Response(null, { status: 204, headers: { "dpop-nonce": `n-${new URL(url).hostname}` } })
  );
  const DPoP = oauth.DPoP(client, es256);
  await resourceCall(DPoP, fetcher, "https://first.example/");
  await resourceCall(DPoP, fetcher, "https://kept.example/");
  for (let i = 0; i < 98; i++) await resourceCall(DPoP, fetcher, `https://o${i}.example/`);
  // 100 origins known; using kept.example makes it the most recent.
  await resourceCall(DPoP, fetcher, "https://kept.example/");
  await resourceCall(DPoP, fetcher, "https://one-more.example/"); // evicts first.example
  fetcher.calls.length = 0;
  await resourceCall(DPoP, fetcher, "https://first.example/");
  await resourceCall(DPoP, fetcher, "https://kept.example/");
  assert.equal(proofOf(fetcher.calls[0]).claims.nonce, undefined);
  assert.equal(proofOf(fetcher.calls[1]).claims.nonce, "n-kept.example");
});

// --- isDPoPNonceError ---------------------------------------------------------------------------

function bodyError(error: string): oauth.ResponseBodyError {
  return new oauth.ResponseBodyError("error", {
    cause: { error },
    response: new Response(null, { status: 400 }),
  });
}

function challengeError(...cause: oauth.WWWAuthenticateChallenge[]) {
  return new oauth.WWWAuthenticateChallengeError("challenge", {
    cause,
    response: new Response(null, { status: 401 }),
  });
}

Deno.test("isDPoPNonceError() is true for an authorization server's use_dpop_nonce error body", () => {
  assert.equal(oauth.isDPoPNonceError(bodyError("use_dpop_nonce")), true);
});

Deno.test("isDPoPNonceError() is false for other error bodies", () => {
  assert.equal(oauth.isDPoPNonceError(bodyError("invalid_dpop_proof")), false);
  assert.equal(oauth.isDPoPNonceError(bodyError("invalid_grant")), false);
});

Deno.test("isDPoPNonceError() is true for a DPoP use_dpop_nonce challenge, alone or beside others", () => {
  const dpop = { scheme: "dpop", parameters: { error: "use_dpop_nonce" } } as const;
  const bearer = { scheme: "bearer", parameters: { realm: "api" } } as const;
  assert.equal(oauth.isDPoPNonceError(challengeError(dpop)), true);
  assert.equal(oauth.isDPoPNonceError(challengeError(bearer, dpop)), true);
});

Deno.test("isDPoPNonceError() is false for challenges that do not ask for a DPoP nonce", () => {
  assert.equal(
    oauth.isDPoPNonceError(
      challengeError({ scheme: "bearer", parameters: { error: "use_dpop_nonce" } }),
    ),
    false,
  );
  assert.equal(
    oauth.isDPoPNonceError(
      challengeError({ scheme: "dpop", parameters: { error: "invalid_token" } }),
    ),
    false,
  );
  assert.equal(oauth.isDPoPNonceError(challengeError()), false);
});

Deno.test("isDPoPNonceError() is false for anything that is not one of the two error classes", () => {
  for (
    const value of [
      undefined,
      null,
      "use_dpop_nonce",
      { error: "use_dpop_nonce" },
      new Error("use_dpop_nonce"),
      new oauth.OperationProcessingError("x", { code: oauth.INVALID_RESPONSE }),
    ]
  ) {
    assert.equal(oauth.isDPoPNonceError(value), false);
  }
});

// --- key pair validation ------------------------------------------------------------------------

Deno.test("DPoP() accepts a key pair whose private key is not extractable", async () => {
  const pair = await oauth.generateKeyPair("ES256");
  assert.equal(pair.privateKey.extractable, false);
  const DPoP = oauth.DPoP(client, pair);
  assert.equal(typeof (await DPoP.calculateThumbprint()), "string");
});

Deno.test("DPoP() refuses a key pair argument that does not hold two CryptoKeys", async () => {
  await assertTypeError(
    () => oauth.DPoP(client, undefined as unknown as CryptoKeyPair),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => oauth.DPoP(client, { privateKey: es256.privateKey } as unknown as CryptoKeyPair),
    "ERR_INVALID_ARG_TYPE",
  );
});

Deno.test("DPoP() refuses swapped private and public keys", async () => {
  await assertTypeError(
    () => oauth.DPoP(client, { privateKey: es256.publicKey, publicKey: es256.privateKey }),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("DPoP() refuses a private key that cannot sign", async () => {
  const ecdh = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, [
    "deriveBits",
  ]) as CryptoKeyPair;
  await assertTypeError(() => oauth.DPoP(client, ecdh), "ERR_INVALID_ARG_VALUE");
});

Deno.test("DPoP() refuses a public key that is not extractable", async () => {
  const jwk = await crypto.subtle.exportKey("jwk", es256.publicKey);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    jwk,
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  await assertTypeError(
    () => oauth.DPoP(client, { privateKey: es256.privateKey, publicKey }),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("DPoP() refuses a key pair whose two keys are of different algorithms", async () => {
  const es384 = await oauth.generateKeyPair("ES384");
  await assertTypeError(
    () => oauth.DPoP(client, { privateKey: es256.privateKey, publicKey: es384.publicKey }),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("DPoP() refuses a key whose algorithm has no supported JWS alg", async () => {
  const sha1 = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      hash: "SHA-1",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
    },
    false,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  await assertOAuthError(
    () => oauth.DPoP(client, sha1),
    oauth.UnsupportedOperationError,
    oauth.UNSUPPORTED_OPERATION,
  );
});

Deno.test("DPoP() refuses a modifyAssertion that is not a function and a non-numeric clockSkew", async () => {
  await assertTypeError(
    () =>
      oauth.DPoP(client, es256, {
        [oauth.modifyAssertion]: "x" as unknown as oauth.ModifyAssertionFunction,
      }),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => oauth.DPoP({ [oauth.clockSkew]: "5" as unknown as number }, es256),
    "ERR_INVALID_ARG_TYPE",
  );
});

Deno.test("DPoP() handles print a redacted summary in Deno.inspect and node:util inspect", async () => {
  const pair = await oauth.generateKeyPair("ES256", { extractable: true });
  const { d } = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const DPoP = oauth.DPoP(client, pair);
  await DPoP.calculateThumbprint();
  for (const text of [Deno.inspect(DPoP, { depth: 10 }), inspect(DPoP, { depth: 10 })]) {
    assert.match(text, /DPoPHandle/);
    assert.match(text, /redacted/);
    assert.ok(!text.includes(d!), text);
  }
  assert.equal(JSON.stringify(DPoP), "{}");
});

// --- generateKeyPair ----------------------------------------------------------------------------

const KEY_CASES: [string, string, Record<string, unknown>][] = [
  ["PS256", "PS256", { name: "RSA-PSS", modulusLength: 2048 }],
  ["PS384", "PS384", { name: "RSA-PSS", modulusLength: 2048 }],
  ["PS512", "PS512", { name: "RSA-PSS", modulusLength: 2048 }],
  ["RS256", "RS256", { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048 }],
  ["RS384", "RS384", { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048 }],
  ["RS512", "RS512", { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048 }],
  ["ES256", "ES256", { name: "ECDSA", namedCurve: "P-256" }],
  ["ES384", "ES384", { name: "ECDSA", namedCurve: "P-384" }],
  ["ES512", "ES512", { name: "ECDSA", namedCurve: "P-521" }],
  ["Ed25519", "Ed25519", { name: "Ed25519" }],
  ["EdDSA", "Ed25519", { name: "Ed25519" }],
];

for (const [alg, proofAlg, algorithm] of KEY_CASES) {
  Deno.test(`generateKeyPair() makes a ${alg} pair usable for DPoP proofs`, async () => {
    const pair = await oauth.generateKeyPair(alg);
    for (const [name, value] of Object.entries(algorithm)) {
      assert.equal((pair.privateKey.algorithm as unknown as Record<string, unknown>)[name], value);
    }
    if (alg.startsWith("PS") || alg.startsWith("RS")) {
      const hash = (pair.privateKey.algorithm as RsaHashedKeyAlgorithm).hash.name;
      assert.equal(hash, `SHA-${alg.slice(2)}`);
    }
    assert.equal(pair.publicKey.extractable, true);
    assert.equal(pair.privateKey.extractable, false);
    assert.deepEqual(pair.privateKey.usages, ["sign"]);
    assert.deepEqual(pair.publicKey.usages, ["verify"]);
    const fetcher = recorder();
    await resourceCall(oauth.DPoP(client, pair), fetcher);
    assert.equal(proofOf(fetcher.calls[0]).header.alg, proofAlg);
  });
}

Deno.test("generateKeyPair() makes the private key extractable only when asked", async () => {
  const pair = await oauth.generateKeyPair("ES256", { extractable: true });
  assert.equal(pair.privateKey.extractable, true);
  assert.equal(pair.publicKey.extractable, true);
  const closed = await oauth.generateKeyPair("Ed25519", { extractable: false });
  assert.equal(closed.privateKey.extractable, false);
  assert.equal(closed.publicKey.extractable, true);
});

Deno.test("generateKeyPair() uses the requested RSA modulusLength", async () => {
  const pair = await oauth.generateKeyPair("PS256", { modulusLength: 3072 });
  assert.equal((pair.publicKey.algorithm as RsaHashedKeyAlgorithm).modulusLength, 3072);
});

Deno.test("generateKeyPair() refuses an RSA modulusLength below 2048, above 16384 or not a multiple of 8", async () => {
  for (const modulusLength of [1024, 2040]) {
    await assertOAuthError(
      () => oauth.generateKeyPair("RS256", { modulusLength }),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
  for (const modulusLength of [2049, 16392]) {
    await assertOAuthError(
      () => oauth.generateKeyPair("PS256", { modulusLength }),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test("generateKeyPair() refuses unknown and symmetric algorithms", async () => {
  for (const alg of ["HS256", "none", "ES256K", "es256", "RSA-OAEP"]) {
    await assertOAuthError(
      () => oauth.generateKeyPair(alg),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test("generateKeyPair() refuses an empty alg as a caller mistake, as oauth4webapi does", async () => {
  await assertTypeError(() => oauth.generateKeyPair(""), "ERR_INVALID_ARG_VALUE");
});

Deno.test("generateKeyPair() refuses arguments of the wrong type", async () => {
  await assertTypeError(
    () => oauth.generateKeyPair(256 as unknown as string),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => oauth.generateKeyPair("ES256", { extractable: "yes" as unknown as boolean }),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => oauth.generateKeyPair("RS256", { modulusLength: "4096" as unknown as number }),
    "ERR_INVALID_ARG_TYPE",
  );
});
