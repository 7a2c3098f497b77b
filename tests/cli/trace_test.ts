// Unit tests of the CLI's private helpers for the --verbose trace (src/cli/_trace.ts) and the
// failure allow-list (src/cli/_explain.ts), and of the version constant the published CLI prints.

import assert from "node:assert/strict";
import { printable } from "../../src/cli/_explain.ts";
import { formatBody, redactValue } from "../../src/cli/_trace.ts";
import { VERSION } from "../../src/cli/_version.ts";

const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl";

Deno.test("VERSION, in the published source, is deno.json's version", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assert.equal(VERSION, config.version);
});

Deno.test("redactValue shows secrets by length and tokens by a 4-character prefix", () => {
  const cases: [string, string, string | undefined][] = [
    ["client_secret", "s3cr3t-value", "[redacted, 12 chars]"],
    ["code_verifier", "x".repeat(43), "[redacted, 43 chars]"],
    ["Cookie", "a=b", "[redacted, 3 chars]"],
    ["access_token", TOKEN, `eyJh…(${TOKEN.length} chars)`],
    ["refresh_token", "short", "[redacted, 5 chars]"],
    ["DPoP", TOKEN, `eyJh…(${TOKEN.length} chars)`],
    ["Authorization", `Bearer ${TOKEN}`, `Bearer eyJh…(${TOKEN.length} chars)`],
    ["authorization", `DPoP ${TOKEN}`, `DPoP eyJh…(${TOKEN.length} chars)`],
    ["authorization", "Basic Y2xpZW50OnNlY3JldA==", "Basic [redacted, 20 chars]"],
    ["scope", "openid", undefined],
    ["content-type", "application/json", undefined],
  ];
  for (const [name, value, expected] of cases) {
    assert.equal(redactValue(name, value), expected, name);
  }
});

Deno.test("formatBody redacts forms, JSON (nested too) and JWT bodies, and cuts long text", () => {
  const form = formatBody(
    `grant_type=refresh_token&refresh_token=${TOKEN}&client_secret=abc&scope=a%20b`,
    "application/x-www-form-urlencoded;charset=UTF-8",
  );
  assert.equal(
    form,
    `grant_type=refresh_token&refresh_token=eyJh…(${TOKEN.length} chars)&` +
      "client_secret=[redacted, 3 chars]&scope=a%20b",
  );
  const registration = formatBody(
    JSON.stringify({
      client_id: "c",
      client_secret: "abcdef",
      registration_access_token: TOKEN,
      nested: [{ id_token: TOKEN }],
    }),
    "application/json; charset=utf-8",
  );
  assert.ok(!registration.includes(TOKEN) && !registration.includes("abcdef"), registration);
  assert.match(registration, /"client_id": "c"/);
  assert.match(registration, /"id_token": "eyJh…\(\d+ chars\)"/);
  assert.equal(formatBody(TOKEN, "application/jwt"), `eyJh…(${TOKEN.length} chars)`);
  assert.equal(formatBody("x".repeat(5000), "text/html").length < 4100, true);
  assert.equal(formatBody("not json {", "application/json"), "not json {");
});

Deno.test("printable keeps a server's value to one line of at most 200 characters", () => {
  assert.equal(printable("https://as.example"), "https://as.example");
  assert.equal(printable("a\nb"), '"a\\nb"');
  assert.equal(printable("x".repeat(300)).length, 201);
  assert.equal(printable(42), "42");
});
