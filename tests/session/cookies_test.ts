/**
 * src/session/cookies.ts (unit tests of a private helper): cookie names and attributes per
 * origin, local development mode, and reading a cookie out of a `Cookie` header.
 */
import assert from "node:assert/strict";
import { clearCookie, cookieNamesFor, readCookie, setCookie } from "../../src/session/cookies.ts";

Deno.test("cookieNamesFor(): __Host- and Secure on https:, plain names on loopback http:, refused elsewhere", () => {
  const secure = cookieNamesFor(new URL("https://app.example/callback"));
  assert.deepEqual(secure, {
    session: "__Host-authlane-session",
    transaction: "__Host-authlane-tx",
    secure: true,
  });
  assert.equal(
    setCookie(secure, secure.session, "v", 60),
    "__Host-authlane-session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure",
  );
  for (const origin of ["http://localhost:8000", "http://127.0.0.1", "http://[::1]:9"]) {
    const local = cookieNamesFor(new URL(origin));
    assert.equal(local.secure, false, origin);
    assert.equal(
      setCookie(local, local.transaction, "v", 600.9),
      "authlane-tx=v; Path=/; Max-Age=600; HttpOnly; SameSite=Lax",
    );
  }
  for (
    const origin of [
      "http://app.example",
      "http://10.0.0.1",
      "http://localhost.evil.example",
      "ws://localhost",
    ]
  ) {
    assert.throws(() => cookieNamesFor(new URL(origin)), { code: "ERR_INVALID_ARG_VALUE" }, origin);
  }
  assert.equal(
    clearCookie(secure, secure.transaction),
    "__Host-authlane-tx=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure",
  );
});

Deno.test("readCookie() takes the named cookie's first value and nothing else", () => {
  const request = (cookie?: string) =>
    new Request("http://127.0.0.1/", cookie === undefined ? {} : { headers: { cookie } });
  assert.equal(readCookie(request(), "a"), undefined);
  assert.equal(readCookie(request("a=1; b=2"), "b"), "2");
  assert.equal(readCookie(request(" a = 1 ;a=2"), "a"), "1");
  assert.equal(readCookie(request("xa=1; ab=2"), "a"), undefined);
  assert.equal(readCookie(request("a="), "a"), "");
  assert.equal(readCookie(request("a=x=y"), "a"), "x=y");
});
