import assert from "node:assert/strict";
import fc from "fast-check";
import { calculateCertificateThumbprint } from "@authlane/oauth";
import { certificateVersion, pemBlocks } from "../src/certificate.ts";
import { getPki } from "./_pki.ts";

type Coded = TypeError & { code: string };

/** Asserts that `fn` rejects with a coded TypeError; returns it for further checks. */
async function assertCodedTypeError(
  fn: () => Promise<unknown> | unknown,
  code: "ERR_INVALID_ARG_TYPE" | "ERR_INVALID_ARG_VALUE",
): Promise<Coded> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof TypeError, `expected a TypeError, got ${caught}`);
  assert.equal((caught as Coded).code, code);
  return caught as Coded;
}

function base64(der: Uint8Array): string {
  return der.toBase64();
}

Deno.test("calculateCertificateThumbprint() matches openssl for a PEM certificate", async () => {
  const pki = await getPki();
  assert.equal(await calculateCertificateThumbprint(pki.ec.cert), pki.ec.x5tS256);
  assert.equal(await calculateCertificateThumbprint(pki.rsa.cert), pki.rsa.x5tS256);
  assert.notEqual(pki.ec.x5tS256, pki.rsa.x5tS256);
});

Deno.test("calculateCertificateThumbprint() matches openssl for DER bytes", async () => {
  const pki = await getPki();
  assert.equal(await calculateCertificateThumbprint(pki.ec.der), pki.ec.x5tS256);
  assert.equal(await calculateCertificateThumbprint(pki.rsa.der), pki.rsa.x5tS256);
});

Deno.test("calculateCertificateThumbprint() accepts DER bytes that are a view into a larger buffer", async () => {
  const pki = await getPki();
  const buffer = new Uint8Array(pki.ec.der.length + 10);
  buffer.set(pki.ec.der, 5);
  const view = buffer.subarray(5, 5 + pki.ec.der.length);
  assert.equal(await calculateCertificateThumbprint(view), pki.ec.x5tS256);
});

Deno.test("calculateCertificateThumbprint() matches openssl for base64 DER as in x5c", async () => {
  const pki = await getPki();
  assert.equal(await calculateCertificateThumbprint(base64(pki.ec.der)), pki.ec.x5tS256);
});

Deno.test("calculateCertificateThumbprint() accepts the RFC 9440 Client-Cert form with and without colons", async () => {
  const pki = await getPki();
  const value = base64(pki.rsa.der);
  assert.equal(await calculateCertificateThumbprint(`:${value}:`), pki.rsa.x5tS256);
  assert.equal(await calculateCertificateThumbprint(` :${value}: `), pki.rsa.x5tS256);
  assert.equal(await calculateCertificateThumbprint(value.replace(/=+$/, "")), pki.rsa.x5tS256);
});

Deno.test("calculateCertificateThumbprint() uses the leaf of a chain listed leaf first", async () => {
  const pki = await getPki();
  assert.equal(await calculateCertificateThumbprint(pki.ec.cert + pki.ca), pki.ec.x5tS256);
  assert.equal(await calculateCertificateThumbprint(pki.rsa.cert + pki.ec.cert), pki.rsa.x5tS256);
});

Deno.test("calculateCertificateThumbprint() ignores text around PEM blocks and CRLF line ends", async () => {
  const pki = await getPki();
  const decorated = `subject=CN=ec\nissuer=CN=authlane-test-CA\n${pki.ec.cert}trailing text\n`;
  assert.equal(await calculateCertificateThumbprint(decorated), pki.ec.x5tS256);
  assert.equal(
    await calculateCertificateThumbprint(pki.ec.cert.replaceAll("\n", "\r\n")),
    pki.ec.x5tS256,
  );
});

Deno.test("calculateCertificateThumbprint() skips a private key before the certificate", async () => {
  const pki = await getPki();
  assert.equal(await calculateCertificateThumbprint(pki.ec.key + pki.ec.cert), pki.ec.x5tS256);
});

Deno.test("calculateCertificateThumbprint() rejects a value that is neither a string nor bytes", async () => {
  for (const value of [undefined, null, 42, {}, new ArrayBuffer(4), [1, 2]]) {
    await assertCodedTypeError(
      () => calculateCertificateThumbprint(value as unknown as string),
      "ERR_INVALID_ARG_TYPE",
    );
  }
});

Deno.test("calculateCertificateThumbprint() rejects garbage text", async () => {
  for (const value of ["", "   ", "::", "not a certificate", "hello world!", "MIIB!!", "%%%"]) {
    await assertCodedTypeError(
      () => calculateCertificateThumbprint(value),
      "ERR_INVALID_ARG_VALUE",
    );
  }
});

Deno.test("calculateCertificateThumbprint() rejects base64 that is not a DER certificate", async () => {
  const pki = await getPki();
  const notCertificates = [
    "AAAA",
    base64(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])),
    base64(pki.ec.der.subarray(0, pki.ec.der.length - 1)), // truncated
    base64(new Uint8Array([...pki.ec.der, 0])), // trailing byte
  ];
  for (const value of notCertificates) {
    await assertCodedTypeError(
      () => calculateCertificateThumbprint(value),
      "ERR_INVALID_ARG_VALUE",
    );
  }
});

Deno.test("calculateCertificateThumbprint() rejects DER bytes that are not a certificate", async () => {
  const pki = await getPki();
  for (
    const value of [
      new Uint8Array(),
      new Uint8Array([0x30, 0x00]),
      pki.ec.der.subarray(1),
      new TextEncoder().encode(pki.ec.cert),
    ]
  ) {
    await assertCodedTypeError(
      () => calculateCertificateThumbprint(value),
      "ERR_INVALID_ARG_VALUE",
    );
  }
});

Deno.test("calculateCertificateThumbprint() rejects PEM without a CERTIFICATE block", async () => {
  const pki = await getPki();
  await assertCodedTypeError(
    () => calculateCertificateThumbprint(pki.ec.key),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("calculateCertificateThumbprint() rejects malformed PEM without echoing its contents", async () => {
  const pki = await getPki();
  const lines = pki.ec.cert.trim().split("\n");
  const broken = [
    lines.slice(0, -1).join("\n"), // unterminated
    [...lines.slice(0, -1), "-----END PRIVATE KEY-----"].join("\n"), // mismatched END
    [lines[0], "-----BEGIN CERTIFICATE-----", ...lines.slice(1)].join("\n"), // nested BEGIN
    [lines[0], "not*base64", ...lines.slice(1)].join("\n"),
    [lines[0], lines.at(-1)].join("\n"), // empty block
    lines.slice(1).join("\n"), // END without BEGIN
    lines.join("\n").replace(/\n([A-Za-z0-9+/]{10})/, "\n=$1"), // padding mid-body
  ];
  for (const pem of broken) {
    const err = await assertCodedTypeError(
      () => calculateCertificateThumbprint(pem),
      "ERR_INVALID_ARG_VALUE",
    );
    assert.ok(!err.message.includes(lines[1]!.slice(0, 16)), "message echoes PEM contents");
  }
});

Deno.test("pemBlocks() returns every block with its label, headers and DER", async () => {
  const pki = await getPki();
  const blocks = pemBlocks(pki.ec.cert + pki.ec.legacyEncryptedKey);
  assert.deepEqual(blocks.map((block) => block.label), ["CERTIFICATE", "EC PRIVATE KEY"]);
  assert.deepEqual(blocks[0]!.der, pki.ec.der);
  assert.deepEqual(blocks[0]!.headers, {});
  assert.equal(blocks[1]!.headers["Proc-Type"], "4,ENCRYPTED");
  assert.ok(blocks[1]!.headers["DEK-Info"]?.startsWith("AES-256-CBC,"));
});

Deno.test("pemBlocks() returns nothing for text without PEM", () => {
  assert.deepEqual(pemBlocks("just some text\n"), []);
});

Deno.test("certificateVersion() reads v3 and v1 certificates and refuses other DER", async () => {
  const pki = await getPki();
  assert.equal(certificateVersion(pki.ec.der), 3);
  assert.equal(certificateVersion(pki.rsa.der), 3);
  assert.equal(certificateVersion(pki.v1.der), 1);
  assert.equal(certificateVersion(new Uint8Array([0x30, 0x00])), undefined);
  // Non-minimal long-form length (X.690 §10.1).
  assert.equal(certificateVersion(new Uint8Array([0x30, 0x81, 0x00])), undefined);
});

/** Whether `err` is one of the coded TypeErrors the parser may throw. */
function isCodedTypeError(err: unknown): boolean {
  return err instanceof TypeError &&
    ["ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_VALUE"].includes((err as Coded).code);
}

Deno.test("calculateCertificateThumbprint() either hashes or throws a coded TypeError for any string", async () => {
  const pki = await getPki();
  const pemLike = fc.array(
    fc.oneof(
      fc.constantFrom(
        "-----BEGIN CERTIFICATE-----",
        "-----END CERTIFICATE-----",
        "-----BEGIN PRIVATE KEY-----",
        "Proc-Type: 4,ENCRYPTED",
        "",
        "====",
        ...pki.ec.cert.split("\n"),
      ),
      fc.string(),
    ),
  ).map((lines) => lines.join("\n"));
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string(), fc.base64String(), pemLike), async (text) => {
      try {
        const thumbprint = await calculateCertificateThumbprint(text);
        assert.match(thumbprint, /^[A-Za-z0-9_-]{43}$/);
      } catch (err) {
        assert.ok(isCodedTypeError(err), `unexpected ${err}`);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("calculateCertificateThumbprint() either hashes or throws a coded TypeError for any bytes", async () => {
  const pki = await getPki();
  const mutated = fc.tuple(fc.nat({ max: pki.ec.der.length - 1 }), fc.integer({ min: 0, max: 255 }))
    .map(([index, byte]) => {
      const copy = new Uint8Array(pki.ec.der);
      copy[index] = byte;
      return copy;
    });
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array(), mutated), async (bytes) => {
      try {
        const thumbprint = await calculateCertificateThumbprint(bytes);
        assert.match(thumbprint, /^[A-Za-z0-9_-]{43}$/);
      } catch (err) {
        assert.ok(isCodedTypeError(err), `unexpected ${err}`);
      }
    }),
    { numRuns: 300 },
  );
});
