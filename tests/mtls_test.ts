import assert from "node:assert/strict";
import { inspect } from "node:util";
import * as oauth from "@authlane/oauth";
import { closeMtlsAdapter, mtlsAdapterFor } from "../src/mtls.ts";
import type { Client, ClientCertificate } from "@authlane/oauth";
import { getPki } from "./_pki.ts";
import { startTlsServer } from "./_tls_server.ts";

type Coded = TypeError & { code: string };

/** Asserts that `fn` throws or rejects with a coded TypeError; returns it for further checks. */
async function assertCodedTypeError(
  fn: () => unknown,
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

/** Replaces `Deno.createHttpClient` for the duration of `fn`, restoring it in `finally`. */
async function withCreateHttpClient(
  replacement: typeof Deno.createHttpClient | undefined,
  fn: () => unknown,
): Promise<void> {
  const original = Object.getOwnPropertyDescriptor(Deno, "createHttpClient")!;
  if (replacement) {
    Object.defineProperty(Deno, "createHttpClient", { ...original, value: replacement });
  } else {
    delete (Deno as { createHttpClient?: unknown }).createHttpClient;
  }
  try {
    await fn();
  } finally {
    Object.defineProperty(Deno, "createHttpClient", original);
  }
}

/** Runs `fn` while counting calls to `Deno.createHttpClient`; returns the count. */
async function countCreateHttpClient(fn: () => unknown): Promise<number> {
  let calls = 0;
  const original = Deno.createHttpClient;
  await withCreateHttpClient((options) => {
    calls++;
    return original(options);
  }, fn);
  return calls;
}

interface Echo {
  path: string;
  method: string;
  body: string;
  x5tS256: string | null;
}

/** A secret-looking slice of a PEM key body, to check it never shows up in output. */
function keyFragment(pem: string): string {
  return pem.split("\n")[2]!.slice(0, 24);
}

Deno.test("mtlsFetch() presents the EC client certificate to the server", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  using mtls = oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] });
  const response = await mtls(`${server.url}/token`, { method: "POST", body: "grant_type=x" });
  assert.equal(response.status, 200);
  const echo: Echo = await response.json();
  assert.deepEqual(echo, {
    path: "/token",
    method: "POST",
    body: "grant_type=x",
    x5tS256: pki.ec.x5tS256,
  });
});

Deno.test("mtlsFetch() presents the RSA client certificate, giving the other thumbprint", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  using mtls = oauth.mtlsFetch({ cert: pki.rsa.cert, key: pki.rsa.key, caCerts: [pki.ca] });
  const echo: Echo = await (await mtls(`${server.url}/`)).json();
  assert.equal(echo.x5tS256, pki.rsa.x5tS256);
  assert.notEqual(echo.x5tS256, pki.ec.x5tS256);
});

Deno.test("mtlsFetch() accepts SEC1 and PKCS#1 key encodings", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  const cases = [
    { cert: pki.ec.cert, key: pki.ec.sec1Key, expected: pki.ec.x5tS256 },
    { cert: pki.rsa.cert, key: pki.rsa.pkcs1Key, expected: pki.rsa.x5tS256 },
  ];
  for (const { cert, key, expected } of cases) {
    using mtls = oauth.mtlsFetch({ cert, key, caCerts: [pki.ca] });
    const echo: Echo = await (await mtls(`${server.url}/`)).json();
    assert.equal(echo.x5tS256, expected);
  }
});

Deno.test("mtlsFetch() presents the leaf when cert holds a chain", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  using mtls = oauth.mtlsFetch({ cert: pki.ec.cert + pki.ca, key: pki.ec.key, caCerts: [pki.ca] });
  const echo: Echo = await (await mtls(`${server.url}/`)).json();
  assert.equal(echo.x5tS256, pki.ec.x5tS256);
});

Deno.test("mtlsFetch() takes a Request and reaches the server by IP address", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  using mtls = oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] });
  const request = new Request(`https://127.0.0.1:${server.port}/r?x=1`, {
    method: "PUT",
    body: "payload",
  });
  const echo: Echo = await (await mtls(request)).json();
  assert.deepEqual(echo, {
    path: "/r?x=1",
    method: "PUT",
    body: "payload",
    x5tS256: pki.ec.x5tS256,
  });
});

Deno.test("startTlsServer() reports no certificate when a plain fetch presents none", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  using client = Deno.createHttpClient({ caCerts: [pki.ca] });
  const echo: Echo = await (await fetch(`${server.url}/`, { client })).json();
  assert.equal(echo.x5tS256, null);
});

Deno.test("mtlsFetch() reuses one connection across many calls", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  using mtls = oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] });
  for (let i = 0; i < 5; i++) {
    const echo: Echo = await (await mtls(`${server.url}/${i}`)).json();
    assert.equal(echo.x5tS256, pki.ec.x5tS256);
  }
  assert.equal(server.requests.length, 5);
  // Pooled: fewer connections than requests. Not exactly one: the pool may open a second
  // connection when a request starts before the previous one was returned to it.
  assert.ok(server.connections >= 1 && server.connections < 5, `${server.connections} connections`);
});

Deno.test("mtlsFetch() rejects calls after dispose by using", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  let escaped: oauth.MtlsFetch;
  {
    using mtls = oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] });
    escaped = mtls;
    await (await mtls(`${server.url}/`)).body?.cancel();
  }
  await assertCodedTypeError(() => escaped(`${server.url}/`), "ERR_INVALID_ARG_VALUE");
  escaped.close(); // closing twice is harmless
  assert.equal(server.requests.length, 1);
});

Deno.test("mtlsFetch() rejects calls after close()", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  const mtls = oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] });
  mtls.close();
  await assertCodedTypeError(() => mtls(`${server.url}/`), "ERR_INVALID_ARG_VALUE");
  assert.equal(server.connections, 0);
});

Deno.test("mtlsFetch() prints a redacted summary when logged", async () => {
  const pki = await getPki();
  using mtls = oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] });
  for (const text of [Deno.inspect(mtls), inspect(mtls), Deno.inspect({ nested: mtls })]) {
    assert.ok(text.includes("[redacted]"), text);
    assert.ok(!text.includes(keyFragment(pki.ec.key)), text);
    assert.ok(!text.includes("PRIVATE KEY"), text);
  }
  assert.equal(JSON.stringify({ mtls }), "{}");
});

Deno.test("mtlsFetch() refuses an encrypted PKCS#8 key before creating a TLS client", async () => {
  const pki = await getPki();
  const calls = await countCreateHttpClient(async () => {
    const err = await assertCodedTypeError(
      () => oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.encryptedKey }),
      "ERR_INVALID_ARG_VALUE",
    );
    assert.ok(!err.message.includes(keyFragment(pki.ec.encryptedKey)));
    assert.equal(err.cause, undefined);
  });
  assert.equal(calls, 0);
});

Deno.test("mtlsFetch() refuses a legacy Proc-Type encrypted key", async () => {
  const pki = await getPki();
  const calls = await countCreateHttpClient(() =>
    assertCodedTypeError(
      () => oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.legacyEncryptedKey }),
      "ERR_INVALID_ARG_VALUE",
    )
  );
  assert.equal(calls, 0);
});

Deno.test("mtlsFetch() refuses a key that does not match the certificate", async () => {
  const pki = await getPki();
  const mismatches = [
    { cert: pki.ec.cert, key: pki.otherKey }, // same algorithm, other key
    { cert: pki.rsa.cert, key: pki.ec.key }, // other algorithm
    { cert: pki.ec.cert, key: pki.rsa.key },
  ];
  for (const { cert, key } of mismatches) {
    const err = await assertCodedTypeError(
      () => oauth.mtlsFetch({ cert, key, caCerts: [pki.ca] }),
      "ERR_INVALID_ARG_VALUE",
    );
    assert.ok(err.cause instanceof Error, "keeps the platform's error as cause");
    for (const text of [err.message, String(err.cause), Deno.inspect(err)]) {
      assert.ok(!text.includes(keyFragment(key)), "leaks key material");
    }
  }
});

Deno.test("mtlsFetch() refuses a v1 certificate before creating a TLS client", async () => {
  const pki = await getPki();
  const calls = await countCreateHttpClient(() =>
    assertCodedTypeError(
      () => oauth.mtlsFetch({ cert: pki.v1.cert, key: pki.v1.key }),
      "ERR_INVALID_ARG_VALUE",
    )
  );
  assert.equal(calls, 0);
});

Deno.test("mtlsFetch() refuses malformed certificate fields before creating a TLS client", async () => {
  const pki = await getPki();
  const valueErrors: unknown[] = [
    { cert: "", key: pki.ec.key },
    { cert: pki.ec.cert, key: "" },
    { cert: "not pem", key: pki.ec.key },
    { cert: pki.ec.cert, key: "not pem" },
    { cert: pki.ec.key, key: pki.ec.key }, // key passed as cert
    { cert: pki.ec.cert, key: pki.ec.cert }, // cert passed as key
    { cert: pki.ec.cert, key: pki.ec.key + pki.otherKey }, // two keys
    { cert: pki.ec.cert.replace("-----END CERTIFICATE-----", ""), key: pki.ec.key },
    { cert: pki.ec.cert, key: pki.ec.key, caCerts: ["not pem"] },
    { cert: pki.ec.cert, key: pki.ec.key, caCerts: [""] },
    { cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.otherKey] },
  ];
  const typeErrors: unknown[] = [
    undefined,
    null,
    "cert",
    { key: pki.ec.key },
    { cert: pki.ec.cert },
    { cert: new TextEncoder().encode(pki.ec.cert), key: pki.ec.key },
    { cert: pki.ec.cert, key: pki.ec.key, caCerts: pki.ca },
    { cert: pki.ec.cert, key: pki.ec.key, caCerts: [42] },
  ];
  const calls = await countCreateHttpClient(async () => {
    for (const value of valueErrors) {
      const err = await assertCodedTypeError(
        () => oauth.mtlsFetch(value as ClientCertificate),
        "ERR_INVALID_ARG_VALUE",
      );
      assert.ok(!err.message.includes(keyFragment(pki.ec.key)), "leaks key material");
    }
    for (const value of typeErrors) {
      await assertCodedTypeError(
        () => oauth.mtlsFetch(value as ClientCertificate),
        "ERR_INVALID_ARG_TYPE",
      );
    }
  });
  assert.equal(calls, 0);
});

Deno.test("mtlsFetch() names [customFetch] when the runtime has no Deno.createHttpClient", async () => {
  const pki = await getPki();
  await withCreateHttpClient(undefined, async () => {
    assert.equal(typeof Deno.createHttpClient, "undefined");
    const err = await assertCodedTypeError(
      () => oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.key }),
      "ERR_INVALID_ARG_VALUE",
    );
    assert.match(err.message, /customFetch/);
    assert.match(err.message, /Deno\.createHttpClient/);
  });
  assert.equal(typeof Deno.createHttpClient, "function");
});

Deno.test("mtlsFetch() lets the TLS error surface when the server refuses the certificate", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki, { requireClientCert: true });
  using rogue = oauth.mtlsFetch({ cert: pki.rogue.cert, key: pki.rogue.key, caCerts: [pki.ca] });
  let caught: unknown;
  try {
    await rogue(`${server.url}/token`);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof Error, "the request must fail");
  assert.notEqual((caught as { code?: unknown }).code, "ERR_INVALID_ARG_VALUE");
  assert.notEqual((caught as { code?: unknown }).code, "ERR_INVALID_ARG_TYPE");
  assert.equal(server.requests.length, 0);
  assert.ok(server.tlsErrors.length >= 1);
});

Deno.test("mtlsFetch() is accepted by a server that requires a CA-signed certificate", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki, { requireClientCert: true });
  using mtls = oauth.mtlsFetch({ cert: pki.rsa.cert, key: pki.rsa.key, caCerts: [pki.ca] });
  const echo: Echo = await (await mtls(`${server.url}/token`)).json();
  assert.equal(echo.x5tS256, pki.rsa.x5tS256);
});

Deno.test("mtlsFetch() lets the TLS error surface when the server certificate is untrusted", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  using mtls = oauth.mtlsFetch({ cert: pki.ec.cert, key: pki.ec.key }); // no caCerts
  await assert.rejects(() => mtls(`${server.url}/`), (err: Error & { code?: unknown }) => {
    assert.equal(err.code, undefined);
    return true;
  });
  assert.equal(server.requests.length, 0);
});

Deno.test("mtlsAdapterFor() returns one function per client object", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  const certificate = { cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] };
  const a: Client = { client_id: "a", [oauth.clientCertificate]: certificate };
  const b: Client = { client_id: "b", [oauth.clientCertificate]: certificate };
  try {
    const adapter = mtlsAdapterFor(a);
    assert.equal(mtlsAdapterFor(a), adapter);
    assert.notEqual(mtlsAdapterFor(b), adapter);
    for (const client of [a, b, a]) {
      const response = await mtlsAdapterFor(client)(`${server.url}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials" }),
        redirect: "manual",
      });
      const echo: Echo = await response.json();
      assert.equal(echo.x5tS256, pki.ec.x5tS256);
      assert.equal(echo.body, "grant_type=client_credentials");
    }
    // one pool per client object: at least two, and fewer than one per request
    assert.ok(
      server.connections >= 2 && server.connections <= 3,
      `${server.connections} connections`,
    );
  } finally {
    closeMtlsAdapter(a);
    closeMtlsAdapter(b);
  }
});

Deno.test("mtlsAdapterFor() builds a new function when the certificate object is replaced", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  const client: Client = {
    client_id: "rotating",
    [oauth.clientCertificate]: { cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] },
  };
  try {
    const before = mtlsAdapterFor(client);
    client[oauth.clientCertificate] = { cert: pki.rsa.cert, key: pki.rsa.key, caCerts: [pki.ca] };
    const after = mtlsAdapterFor(client);
    assert.notEqual(after, before);
    const init = { method: "GET", headers: {}, body: undefined, redirect: "manual" as const };
    const echo: Echo = await (await after(`${server.url}/`, init)).json();
    assert.equal(echo.x5tS256, pki.rsa.x5tS256);
    await assertCodedTypeError(() => before(`${server.url}/`, init), "ERR_INVALID_ARG_VALUE");
  } finally {
    closeMtlsAdapter(client);
  }
});

Deno.test("mtlsAdapterFor() names [customFetch] and sends nothing when the client has no certificate", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  const client: Client = { client_id: "no-cert", use_mtls_endpoint_aliases: true };
  const err = await assertCodedTypeError(
    () =>
      mtlsAdapterFor(client)(`${server.url}/token`, {
        method: "POST",
        headers: {},
        body: "",
        redirect: "manual",
      }),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.match(err.message, /customFetch/);
  assert.match(err.message, /clientCertificate/);
  assert.equal(server.requests.length, 0);
  assert.equal(server.connections, 0);
});

Deno.test("mtlsAdapterFor() refuses an invalid certificate on the client before any I/O", async () => {
  const pki = await getPki();
  const client: Client = {
    client_id: "bad",
    [oauth.clientCertificate]: { cert: pki.ec.cert, key: pki.ec.encryptedKey },
  };
  const calls = await countCreateHttpClient(() =>
    assertCodedTypeError(() => mtlsAdapterFor(client), "ERR_INVALID_ARG_VALUE")
  );
  assert.equal(calls, 0);
  closeMtlsAdapter(client); // nothing cached: a no-op
});

Deno.test("closeMtlsAdapter() closes the client's function and a later call builds a new one", async () => {
  const pki = await getPki();
  await using server = await startTlsServer(pki);
  const client: Client = {
    client_id: "closing",
    [oauth.clientCertificate]: { cert: pki.ec.cert, key: pki.ec.key, caCerts: [pki.ca] },
  };
  const first = mtlsAdapterFor(client);
  closeMtlsAdapter(client);
  const init = { method: "GET", headers: {}, body: undefined, redirect: "manual" as const };
  await assertCodedTypeError(() => first(`${server.url}/`, init), "ERR_INVALID_ARG_VALUE");
  const second = mtlsAdapterFor(client);
  try {
    assert.notEqual(second, first);
    await (await second(`${server.url}/`, init)).body?.cancel();
    assert.equal(server.requests.length, 1);
  } finally {
    closeMtlsAdapter(client);
  }
});
