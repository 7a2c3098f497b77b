/**
 * PKCE (RFC 7636 §4.1-4.2) and the random `state` / `nonce` values: the RFC's own test vector,
 * the verifier syntax the challenge accepts, and an independent SHA-256 oracle.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import * as oauth from "@authlane/oauth";
import { assertTypeError } from "./_assert.ts";

const BASE64URL_43 = /^[A-Za-z0-9_-]{43}$/;

Deno.test("calculatePKCECodeChallenge() reproduces RFC 7636 Appendix B", async () => {
  assert.equal(
    await oauth.calculatePKCECodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  );
});

Deno.test("generateRandomCodeVerifier() returns fresh 43-character verifiers the challenge accepts", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 32; i++) {
    const verifier = oauth.generateRandomCodeVerifier();
    assert.match(verifier, BASE64URL_43);
    assert.match(await oauth.calculatePKCECodeChallenge(verifier), BASE64URL_43);
    seen.add(verifier);
  }
  assert.equal(seen.size, 32);
});

Deno.test("generateRandomState() and generateRandomNonce() return fresh 256-bit base64url values", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 16; i++) {
    for (const value of [oauth.generateRandomState(), oauth.generateRandomNonce()]) {
      assert.match(value, BASE64URL_43);
      seen.add(value);
    }
  }
  assert.equal(seen.size, 32);
});

Deno.test("calculatePKCECodeChallenge() accepts verifiers of 43 and 128 unreserved characters", async () => {
  const oracle = (v: string) => createHash("sha256").update(v).digest("base64url");
  for (const verifier of ["a".repeat(43), "Z9-._~".repeat(21) + "xy", "~".repeat(128)]) {
    assert.equal(await oauth.calculatePKCECodeChallenge(verifier), oracle(verifier), verifier);
  }
});

Deno.test("calculatePKCECodeChallenge() refuses a verifier that is not a string", async () => {
  for (const value of [undefined, null, 42, new Uint8Array(43), { toString: () => "a" }]) {
    await assertTypeError(
      () => oauth.calculatePKCECodeChallenge(value as unknown as string),
      "ERR_INVALID_ARG_TYPE",
    );
  }
});

Deno.test("calculatePKCECodeChallenge() refuses an empty verifier", async () => {
  await assertTypeError(() => oauth.calculatePKCECodeChallenge(""), "ERR_INVALID_ARG_VALUE");
});

Deno.test("calculatePKCECodeChallenge() refuses verifiers outside RFC 7636 §4.1's length and alphabet", async () => {
  for (
    const verifier of [
      "a".repeat(42), // too short
      "a".repeat(129), // too long
      `${"a".repeat(42)}+`, // base64, not base64url
      `${"a".repeat(42)}=`,
      `${"a".repeat(42)} `,
      `${"a".repeat(42)}é`,
      `${"a".repeat(42)}\n`,
    ]
  ) {
    await assertTypeError(
      () => oauth.calculatePKCECodeChallenge(verifier),
      "ERR_INVALID_ARG_VALUE",
    );
  }
});

Deno.test("fast-check: calculatePKCECodeChallenge() hashes every RFC 7636 verifier and refuses anything else with a coded TypeError", async () => {
  const valid = fc.stringMatching(/^[A-Za-z0-9\-._~]{43,128}$/);
  await fc.assert(
    fc.asyncProperty(valid, async (verifier) => {
      const expected = createHash("sha256").update(verifier, "ascii").digest("base64url");
      assert.equal(await oauth.calculatePKCECodeChallenge(verifier), expected);
    }),
    { numRuns: 200 },
  );
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 200, unit: "grapheme" }), async (input) => {
      const ok = /^[A-Za-z0-9\-._~]{43,128}$/.test(input);
      try {
        const challenge = await oauth.calculatePKCECodeChallenge(input);
        assert.ok(ok, `accepted ${JSON.stringify(input)}`);
        assert.match(challenge, BASE64URL_43);
      } catch (err) {
        assert.ok(!ok, `refused a valid verifier ${JSON.stringify(input)}`);
        assert.ok(err instanceof TypeError);
        assert.equal((err as { code?: string }).code, "ERR_INVALID_ARG_VALUE");
      }
    }),
    { numRuns: 300 },
  );
});
