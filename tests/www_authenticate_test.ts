import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkAuthenticationChallenges,
  parseWwwAuthenticateChallenges,
} from "../src/www_authenticate.ts";
import {
  OperationProcessingError,
  PARSE_ERROR,
  WWW_AUTHENTICATE_CHALLENGE,
  WWWAuthenticateChallengeError,
} from "@authlane/oauth";
import type { WWWAuthenticateChallenge } from "../src/types.ts";

function assertParseError(header: string): OperationProcessingError {
  try {
    parseWwwAuthenticateChallenges(header);
  } catch (err) {
    assert.ok(err instanceof OperationProcessingError, `unexpected ${err}`);
    assert.equal(err.code, PARSE_ERROR);
    const cause = err.cause as { header: string; position: number };
    assert.equal(cause.header, header);
    assert.equal(typeof cause.position, "number");
    return err;
  }
  assert.fail(`expected a PARSE_ERROR for ${JSON.stringify(header)}`);
}

// --- single and multiple challenges ---------------------------------------------------------

Deno.test("parseWwwAuthenticateChallenges() reads one challenge with auth-params", () => {
  assert.deepEqual(
    parseWwwAuthenticateChallenges('Bearer realm="example", error="invalid_token"'),
    [{ scheme: "bearer", parameters: { realm: "example", error: "invalid_token" } }],
  );
});

Deno.test("parseWwwAuthenticateChallenges() reads a scheme without parameters", () => {
  assert.deepEqual(parseWwwAuthenticateChallenges("Bearer"), [
    { scheme: "bearer", parameters: {} },
  ]);
  assert.deepEqual(parseWwwAuthenticateChallenges("Bearer, DPoP"), [
    { scheme: "bearer", parameters: {} },
    { scheme: "dpop", parameters: {} },
  ]);
});

Deno.test("parseWwwAuthenticateChallenges() splits several challenges in one value", () => {
  assert.deepEqual(
    parseWwwAuthenticateChallenges(
      'Bearer error="invalid_token", DPoP algs="ES256 PS256", error="use_dpop_nonce"',
    ),
    [
      { scheme: "bearer", parameters: { error: "invalid_token" } },
      { scheme: "dpop", parameters: { algs: "ES256 PS256", error: "use_dpop_nonce" } },
    ],
  );
});

Deno.test("parseWwwAuthenticateChallenges() accepts token values and BWS around =", () => {
  assert.deepEqual(
    parseWwwAuthenticateChallenges('Newauth realm = apps , type=1 ,title="Login",Basic'),
    [
      { scheme: "newauth", parameters: { realm: "apps", type: "1", title: "Login" } },
      { scheme: "basic", parameters: {} },
    ],
  );
});

Deno.test("parseWwwAuthenticateChallenges() skips empty list elements", () => {
  assert.deepEqual(parseWwwAuthenticateChallenges(' , ,Bearer a=b, ,  c="d" ,, Basic ,'), [
    { scheme: "bearer", parameters: { a: "b", c: "d" } },
    { scheme: "basic", parameters: {} },
  ]);
});

// --- quoted strings ---------------------------------------------------------------------------

Deno.test("parseWwwAuthenticateChallenges() keeps commas and = inside quoted strings", () => {
  assert.deepEqual(
    parseWwwAuthenticateChallenges('Bearer error_description="a, b=c, Basic x", scope="openid"'),
    [{ scheme: "bearer", parameters: { error_description: "a, b=c, Basic x", scope: "openid" } }],
  );
});

Deno.test("parseWwwAuthenticateChallenges() unescapes quoted-pairs", () => {
  assert.deepEqual(
    parseWwwAuthenticateChallenges(String.raw`Bearer realm="say \"hi\" \\ \x", a=""`),
    [{ scheme: "bearer", parameters: { realm: String.raw`say "hi" \ x`, a: "" } }],
  );
});

Deno.test("parseWwwAuthenticateChallenges() keeps obs-text in quoted strings", () => {
  assert.deepEqual(parseWwwAuthenticateChallenges('Bearer realm="caf\u00e9"'), [
    { scheme: "bearer", parameters: { realm: "caf\u00e9" } },
  ]);
});

// --- token68 ----------------------------------------------------------------------------------

Deno.test("parseWwwAuthenticateChallenges() reads a token68 with padding", () => {
  assert.deepEqual(parseWwwAuthenticateChallenges("Basic dGVzdA=="), [
    { scheme: "basic", parameters: {}, token68: "dGVzdA==" },
  ]);
  assert.deepEqual(parseWwwAuthenticateChallenges("Negotiate abc=="), [
    { scheme: "negotiate", parameters: {}, token68: "abc==" },
  ]);
});

Deno.test("parseWwwAuthenticateChallenges() reads a token68 followed by more challenges", () => {
  assert.deepEqual(
    parseWwwAuthenticateChallenges('Negotiate a+b/c~d.e_f-=, Bearer realm="x", Basic Zm9v'),
    [
      { scheme: "negotiate", parameters: {}, token68: "a+b/c~d.e_f-=" },
      { scheme: "bearer", parameters: { realm: "x" } },
      { scheme: "basic", parameters: {}, token68: "Zm9v" },
    ],
  );
});

Deno.test("parseWwwAuthenticateChallenges() keeps the case of token68 and values", () => {
  const [challenge] = parseWwwAuthenticateChallenges('NEGOTIATE AbC=, Bearer Error="Invalid"');
  assert.deepEqual(challenge, { scheme: "negotiate", parameters: {}, token68: "AbC=" });
  assert.deepEqual(parseWwwAuthenticateChallenges('Bearer Error="Invalid"')[0]?.parameters, {
    error: "Invalid",
  });
});

// --- case-insensitivity -----------------------------------------------------------------------

Deno.test("parseWwwAuthenticateChallenges() lowercases scheme and parameter names", () => {
  assert.deepEqual(
    parseWwwAuthenticateChallenges('BEARER REALM="R", Error_Description="D", dPoP ALGS=ES256'),
    [
      { scheme: "bearer", parameters: { realm: "R", error_description: "D" } },
      { scheme: "dpop", parameters: { algs: "ES256" } },
    ],
  );
});

Deno.test("parseWwwAuthenticateChallenges() rejects a name repeated in another case", () => {
  assertParseError('Bearer realm="a", REALM="b"');
});

// --- empty --------------------------------------------------------------------------------------

Deno.test("parseWwwAuthenticateChallenges() returns no challenges when the value is blank", () => {
  assert.deepEqual(parseWwwAuthenticateChallenges(""), []);
  assert.deepEqual(parseWwwAuthenticateChallenges("   \t "), []);
  assert.deepEqual(parseWwwAuthenticateChallenges(" , ,, "), []);
});

// --- malformed ----------------------------------------------------------------------------------

Deno.test("parseWwwAuthenticateChallenges() rejects an unterminated quoted string", () => {
  assertParseError('Bearer realm="abc');
  assertParseError('Bearer realm="abc\\"');
  assertParseError('Bearer realm="abc\\');
});

Deno.test("parseWwwAuthenticateChallenges() rejects = without a parameter name", () => {
  assertParseError('Bearer ="x"');
  assertParseError('Bearer a=b, ="x"');
  assertParseError("=x");
});

Deno.test("parseWwwAuthenticateChallenges() rejects a parameter without a value", () => {
  assertParseError("Bearer a=b, c=");
  assertParseError("Bearer a=, b=c");
  assertParseError("Bearer a=b, c= ,");
  assertParseError('Bearer a=b, c="x", d=');
});

Deno.test("parseWwwAuthenticateChallenges() reads a lone name= as a token68, as the grammar does", () => {
  assert.deepEqual(parseWwwAuthenticateChallenges("Bearer a= , Basic"), [
    { scheme: "bearer", parameters: {}, token68: "a=" },
    { scheme: "basic", parameters: {} },
  ]);
});

Deno.test("parseWwwAuthenticateChallenges() rejects trailing garbage", () => {
  assertParseError('Bearer realm="x" y');
  assertParseError('Bearer realm="x"y');
  assertParseError("Basic dGVzdA== extra");
  assertParseError("Bearer realm=x;");
  assertParseError("Bearer a=b c");
});

Deno.test("parseWwwAuthenticateChallenges() rejects a missing or invalid auth-scheme", () => {
  assertParseError('"Bearer"');
  assertParseError("Bearer=x");
  assertParseError('Bearer"x"');
  assertParseError("Be@rer realm=x");
});

Deno.test("parseWwwAuthenticateChallenges() rejects a duplicate parameter name", () => {
  const err = assertParseError('DPoP error="a", algs="ES256", error="b"');
  assert.equal((err.cause as { position: number }).position > 0, true);
  // The same name in two challenges is fine.
  assert.equal(parseWwwAuthenticateChallenges('Bearer error="a", DPoP error="b"').length, 2);
});

Deno.test("parseWwwAuthenticateChallenges() rejects control characters", () => {
  assertParseError('Bearer realm="a\nb"');
  assertParseError('Bearer realm="a\u0000b"');
  assertParseError('Bearer realm="a\\\u0001b"');
  assertParseError('Bearer realm="a\u0100b"');
  assertParseError("Bearer\nrealm=x");
});

Deno.test("parseWwwAuthenticateChallenges() stores a __proto__ parameter as data", () => {
  const [challenge] = parseWwwAuthenticateChallenges('Bearer __proto__="x", constructor=y');
  assert.ok(challenge);
  assert.equal(Object.getPrototypeOf(challenge.parameters), Object.prototype);
  assert.deepEqual(Object.entries(challenge.parameters), [["__proto__", "x"], [
    "constructor",
    "y",
  ]]);
});

Deno.test("parseWwwAuthenticateChallenges() throws PARSE_ERROR when given a non-string", () => {
  for (const value of [undefined, null, 1, {}]) {
    assert.throws(
      () => parseWwwAuthenticateChallenges(value as unknown as string),
      (err) => err instanceof OperationProcessingError && err.code === PARSE_ERROR,
    );
  }
});

// --- pathological input ---------------------------------------------------------------------

function parsesOrParseError(header: string): void {
  try {
    parseWwwAuthenticateChallenges(header);
  } catch (err) {
    assert.ok(err instanceof OperationProcessingError, `unexpected ${err}`);
    assert.equal(err.code, PARSE_ERROR);
  }
}

Deno.test("parseWwwAuthenticateChallenges() finishes on 100 000-character pathological values", () => {
  const n = 100_000;
  const inputs = [
    "Bearer " + "a".repeat(n - 7),
    "Bearer " + "a ".repeat(n / 2),
    "Bearer " + "a=".repeat(n / 2),
    "Bearer " + "=".repeat(n),
    "Basic " + "a".repeat(n / 2) + "=".repeat(n / 2) + " x",
    'Bearer realm="' + '\\"'.repeat(n / 2),
    'Bearer realm="' + ",".repeat(n),
    "Bearer " + "a=b, ".repeat(n / 5),
    ",".repeat(n),
    " ".repeat(n) + "x",
    "Bearer, ".repeat(n / 8),
    "A " + "b ".repeat(n / 2) + "=",
    "Bearer a=b, " + "c ".repeat(n / 2) + "=d",
    "Bearer " + Array.from({ length: n / 10 }, (_, i) => `p${i}=v`).join(","),
  ];
  for (const header of inputs) parsesOrParseError(header);
  assert.equal(parseWwwAuthenticateChallenges("Bearer, ".repeat(n / 8)).length, n / 8);
  assert.equal(parseWwwAuthenticateChallenges(inputs.at(-1)!).length, 1);
});

// --- properties -----------------------------------------------------------------------------

Deno.test("parseWwwAuthenticateChallenges() parses or throws PARSE_ERROR for any string", () => {
  const alphabet = fc.constantFrom(
    ...'aZ09-._~+/!#=",\\ \t;:@é\u0000\n'.split(""),
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: "binary", maxLength: 100 }),
        fc.string({ unit: alphabet, maxLength: 200 }),
      ),
      (header) => parsesOrParseError(header),
    ),
    { numRuns: 2000 },
  );
});

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const TOKEN68_CHARS = "-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

const token = fc.string({
  unit: fc.constantFrom(...TCHARS.split("")),
  minLength: 1,
  maxLength: 12,
});
const printable = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', "\\", ",", "=", " ", "\t"),
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 30,
});
const token68 = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...TOKEN68_CHARS.split("")), minLength: 1, maxLength: 20 }),
    fc.integer({ min: 0, max: 3 }),
  )
  .map(([body, pad]) => body + "=".repeat(pad));

interface Generated {
  scheme: string;
  params: readonly (readonly [name: string, value: string, quoted: boolean])[];
  token68?: string;
}

const generatedChallenge: fc.Arbitrary<Generated> = fc.oneof(
  fc.record({
    scheme: token,
    params: fc.uniqueArray(
      fc.tuple(
        token,
        fc.oneof(
          token.map((v) => [v, false] as const),
          printable.map((v) => [v, true] as const),
        ),
      ).map(([name, [value, quoted]]) => [name, value, quoted] as Generated["params"][number]),
      { maxLength: 5, selector: ([name]) => name.toLowerCase() },
    ),
  }),
  fc.record({ scheme: token, params: fc.constant([]), token68 }),
);

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function serialize(challenges: Generated[], sep: string): string {
  return challenges
    .map(({ scheme, params, token68 }) => {
      if (token68 !== undefined) return `${scheme} ${token68}`;
      if (params.length === 0) return scheme;
      const list = params.map(([name, value, quoted]) =>
        `${name}=${quoted ? quote(value) : value}`
      );
      return `${scheme} ${list.join(sep)}`;
    })
    .join(sep);
}

function expected(challenges: Generated[]): WWWAuthenticateChallenge[] {
  return challenges.map(({ scheme, params, token68 }) => {
    const parameters = Object.fromEntries(
      params.map(([name, value]) => [name.toLowerCase(), value]),
    );
    const challenge = { scheme: scheme.toLowerCase() as Lowercase<string>, parameters };
    return token68 === undefined ? challenge : { ...challenge, token68 };
  });
}

Deno.test("parseWwwAuthenticateChallenges() round-trips serialized challenges", () => {
  fc.assert(
    fc.property(
      fc.array(generatedChallenge, { maxLength: 5 }),
      fc.constantFrom(",", ", ", " , ", ",\t,  "),
      (challenges, sep) => {
        assert.deepEqual(
          parseWwwAuthenticateChallenges(serialize(challenges, sep)),
          expected(challenges),
        );
      },
    ),
    { numRuns: 1000 },
  );
});

// --- checkAuthenticationChallenges ----------------------------------------------------------

Deno.test("checkAuthenticationChallenges() throws the challenges when a 401 carries them", async () => {
  const response = new Response("denied", {
    status: 401,
    headers: { "www-authenticate": 'Bearer error="invalid_token", DPoP algs="ES256"' },
  });
  try {
    assert.throws(
      () => checkAuthenticationChallenges(response),
      (err) => {
        assert.ok(err instanceof WWWAuthenticateChallengeError);
        assert.equal(err.code, WWW_AUTHENTICATE_CHALLENGE);
        assert.equal(err.status, 401);
        assert.equal(err.response, response);
        assert.equal(Object.keys(err).includes("response"), false);
        assert.deepEqual(err.cause, [
          { scheme: "bearer", parameters: { error: "invalid_token" } },
          { scheme: "dpop", parameters: { algs: "ES256" } },
        ]);
        return true;
      },
    );
    assert.equal(response.bodyUsed, false);
  } finally {
    assert.equal(await response.text(), "denied");
  }
});

Deno.test("checkAuthenticationChallenges() returns when there is no WWW-Authenticate", async () => {
  const response = new Response('{"ok":true}', { status: 200 });
  assert.equal(checkAuthenticationChallenges(response), undefined);
  await response.body?.cancel();
});

Deno.test("checkAuthenticationChallenges() returns when the header holds no challenge", async () => {
  const response = new Response("x", { status: 401, headers: { "www-authenticate": " , " } });
  assert.equal(checkAuthenticationChallenges(response), undefined);
  await response.body?.cancel();
});

Deno.test("checkAuthenticationChallenges() passes a header the RFC 9110 grammar does not allow, as oauth4webapi does", async () => {
  for (
    const header of ['Bearer realm="unterminated', "Bearer a=b c", 'DPoP error="a", error="b"']
  ) {
    const response = new Response("x", { status: 401, headers: { "www-authenticate": header } });
    assert.equal(checkAuthenticationChallenges(response), undefined, header);
    await response.body?.cancel();
  }
});

// --- empty list elements after the scheme (RFC 9110 §5.6.1) ----------------------------------

Deno.test('parseWwwAuthenticateChallenges() reads `Scheme , realm="x"` as one challenge with its parameter', () => {
  assert.deepEqual(parseWwwAuthenticateChallenges('Scheme , realm="x"'), [
    { scheme: "scheme", parameters: { realm: "x" } },
  ]);
  assert.deepEqual(parseWwwAuthenticateChallenges('Bearer ,, , realm="x" , error=invalid_token'), [
    { scheme: "bearer", parameters: { realm: "x", error: "invalid_token" } },
  ]);
});

Deno.test("parseWwwAuthenticateChallenges() starts a new challenge when the element after `Scheme ,` is not an auth-param", () => {
  assert.deepEqual(parseWwwAuthenticateChallenges('Basic , Bearer realm="x"'), [
    { scheme: "basic", parameters: {} },
    { scheme: "bearer", parameters: { realm: "x" } },
  ]);
  assert.deepEqual(parseWwwAuthenticateChallenges("Basic , , Newauth"), [
    { scheme: "basic", parameters: {} },
    { scheme: "newauth", parameters: {} },
  ]);
});

Deno.test("parseWwwAuthenticateChallenges() still refuses an auth-param after `Scheme,` without the space the grammar requires", () => {
  assertParseError('Scheme, realm="x"');
});
