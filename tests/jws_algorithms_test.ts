/**
 * `JWS_ALGORITHMS` (src/jws_algorithms.ts) against everything that states the same facts: the
 * `JWSAlgorithm` type (and oauth4webapi 3.8's), the README's algorithm table, and the library's
 * behaviour per column (verify, sign, generate). Any of them drifting from the table fails here;
 * the type comparisons fail at type-check time.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { decodeProtectedHeader } from "jose";
import type * as o4w from "oauth4webapi";
import { decodeJws, exportPublicJwk, importPublicJwk, verifySignature } from "../src/_jose.ts";
import { assertOAuthError } from "./_assert.ts";
import { createFakeAs } from "./_fake_as.ts";

const REPO = new URL("../", import.meta.url);
const ALGS = Object.keys(oauth.JWS_ALGORITHMS) as oauth.JWSAlgorithm[];

/** True when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;

// Checked by `deno check` / `deno test`: a member added to or removed from one side fails here.
const TABLE_IS_THE_TYPE: Equal<keyof typeof oauth.JWS_ALGORITHMS, oauth.JWSAlgorithm> = true;
const TYPE_IS_OAUTH4WEBAPIS: Equal<oauth.JWSAlgorithm, o4w.JWSAlgorithm> = true;

Deno.test("JWS_ALGORITHMS has one entry per member of the JWSAlgorithm type, as declared in src/types.ts", async () => {
  assert.ok(TABLE_IS_THE_TYPE && TYPE_IS_OAUTH4WEBAPIS);
  const types = await Deno.readTextFile(new URL("src/types.ts", REPO));
  const union = /export type JWSAlgorithm =([^;]+);/.exec(types)![1]!;
  const members = [...union.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  assert.deepEqual([...members].sort(), [...ALGS].sort());
  // Frozen all the way down: an entry's Web Crypto parameters are what the library uses.
  const unfrozen: string[] = [];
  const walk = (value: object, path: string) => {
    if (!Object.isFrozen(value)) unfrozen.push(path);
    for (const [name, member] of Object.entries(value)) {
      if (typeof member === "object" && member !== null) walk(member, `${path}.${name}`);
    }
  };
  walk(oauth.JWS_ALGORITHMS, "JWS_ALGORITHMS");
  assert.deepEqual(unfrozen, []);
});

/** The README's "JWS algorithms" table: one row per `alg`. */
async function readmeRows(): Promise<Map<string, string[]>> {
  const readme = await Deno.readTextFile(new URL("README.md", REPO));
  const section = readme.slice(readme.indexOf("### JWS algorithms"));
  const rows = new Map<string, string[]>();
  for (const line of section.split("\n").slice(1)) {
    if (line.startsWith("### ")) break;
    const cells = line.split("|").slice(1, -1).map((cell) => cell.trim());
    const alg = /^`([^`]+)`$/.exec(cells[0] ?? "")?.[1];
    if (alg !== undefined && alg !== "alg") rows.set(alg, cells.slice(1));
  }
  return rows;
}

function keyDescription(info: oauth.JWSAlgorithmInfo): string {
  if (info.kty === "RSA") return `RSA, ${info.minModulusLength} bits or more`;
  return info.crv === undefined ? info.kty : `${info.kty} ${info.crv}`;
}

Deno.test("the README's JWS algorithms table says what JWS_ALGORITHMS says", async () => {
  const rows = await readmeRows();
  assert.deepEqual([...rows.keys()], ALGS, "the same algorithms, in the same order");
  const yes = (value: boolean) => value ? "yes" : "no";
  for (const alg of ALGS) {
    const info = oauth.JWS_ALGORITHMS[alg];
    const [key, verify, sign, generate, spec] = rows.get(alg)!.map((cell) =>
      cell.replace(/[¹²³]$/, "")
    );
    assert.deepEqual(
      { key, verify, sign, generate, spec },
      {
        key: keyDescription(info),
        verify: yes(info.verify),
        sign: yes(info.sign),
        generate: yes(info.generate),
        spec: info.spec,
      },
      alg,
    );
  }
});

Deno.test("generate: generateKeyPair() makes keys for every algorithm whose entry says so", async () => {
  for (const alg of ALGS) {
    const info = oauth.JWS_ALGORITHMS[alg];
    if (!info.generate) {
      await assertOAuthError(
        () => oauth.generateKeyPair(alg),
        oauth.UnsupportedOperationError,
        oauth.UNSUPPORTED_OPERATION,
      );
      continue;
    }
    const { privateKey, publicKey } = await oauth.generateKeyPair(alg);
    assert.equal(privateKey.algorithm.name, info.key.name, alg);
    const jwk = await exportPublicJwk(publicKey);
    assert.equal(jwk.kty, info.kty, alg);
    assert.equal(jwk.crv, info.crv, alg);
  }
});

Deno.test("sign: a key signs as its algorithm when the entry says so, else as the entry that does", async () => {
  const server = createFakeAs();
  for (const alg of ALGS) {
    const { privateKey } = await oauth.generateKeyPair(alg);
    const jwt = await oauth.issueRequestObject(server.as, server.client, {}, privateKey);
    const signedAs = decodeProtectedHeader(jwt).alg as oauth.JWSAlgorithm;
    if (oauth.JWS_ALGORITHMS[alg].sign) {
      assert.equal(signedAs, alg);
    } else {
      assert.notEqual(signedAs, alg);
      assert.ok(oauth.JWS_ALGORITHMS[signedAs].sign, `${alg} signs as ${signedAs}`);
      assert.deepEqual(oauth.JWS_ALGORITHMS[signedAs].key, oauth.JWS_ALGORITHMS[alg].key);
    }
  }
});

Deno.test("verify: an ID token signed with each algorithm passes processAuthorizationCodeResponse, and its signature verifies with its JWK", async () => {
  // ML-DSA among them: the claims are validated (OpenID Connect Core §3.1.3.7) with the alg the
  // server advertises, and the signature checks out against the JWK the server would publish.
  for (const alg of ALGS) {
    assert.ok(oauth.JWS_ALGORITHMS[alg].verify, alg);
    const server = createFakeAs({ metadata: { id_token_signing_alg_values_supported: [alg] } });
    const pair = await oauth.generateKeyPair(alg);
    const jwk = { ...await exportPublicJwk(pair.publicKey), kid: "k", alg, use: "sig" };
    const idToken = await server.idToken({ nonce: "n-1" }, { alg, kid: "k" }, {
      privateKey: pair.privateKey,
      alg,
      kid: "k",
    });
    const response = Response.json({ access_token: "at", token_type: "bearer", id_token: idToken });
    const tokens = await oauth.processAuthorizationCodeResponse(
      server.as,
      server.client,
      response,
      {
        expectedNonce: "n-1",
      },
    );
    assert.equal(oauth.getValidatedIdTokenClaims(tokens)?.sub, "user-1", alg);
    const jws = decodeJws(idToken);
    await verifySignature(jws, alg, await importPublicJwk(jwk, alg));
    const stranger = await oauth.generateKeyPair(alg);
    await assert.rejects(
      verifySignature(jws, alg, stranger.publicKey),
      (err) => err instanceof oauth.OperationProcessingError && err.code === oauth.INVALID_RESPONSE,
      alg,
    );
  }
});

Deno.test("verify: an ID token whose alg the table does not hold is refused as unsupported", async () => {
  for (const alg of ["HS256", "ES256K", "Ed448", "ML-DSA-128"]) {
    const server = createFakeAs({ metadata: { id_token_signing_alg_values_supported: [alg] } });
    const idToken = await server.idToken({}, { alg });
    const response = Response.json({ access_token: "at", token_type: "bearer", id_token: idToken });
    await assertOAuthError(
      () => oauth.processAuthorizationCodeResponse(server.as, server.client, response),
      oauth.UnsupportedOperationError,
      oauth.UNSUPPORTED_OPERATION,
    );
  }
});

Deno.test("verify: validateJwt and validateApplicationLevelSignature select each algorithm's key from the JWKS", async () => {
  for (const alg of ALGS) {
    const server = createFakeAs({ metadata: { id_token_signing_alg_values_supported: [alg] } });
    const pair = await oauth.generateKeyPair(alg);
    const decoy = await oauth.generateKeyPair(alg === "ES256" ? "ES384" : "ES256");
    server.jwks = {
      keys: [
        { ...await exportPublicJwk(decoy.publicKey), kid: "decoy", use: "sig" },
        { ...await exportPublicJwk(pair.publicKey), use: "sig" },
      ],
    };
    const signer = { privateKey: pair.privateKey, alg };
    const jwt = await server.sign(server.idTokenClaims(), { alg, kid: undefined }, signer);
    const { header } = await oauth.validateJwt(server.as, jwt, server.options);
    assert.equal(header.alg, alg);
    const response = Response.json({ access_token: "at", token_type: "bearer", id_token: jwt });
    await oauth.processAuthorizationCodeResponse(server.as, server.client, response);
    await oauth.validateApplicationLevelSignature(server.as, response, server.options);
  }
});
