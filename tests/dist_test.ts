/**
 * `dist/authlane.js` is what `mod.ts` loads at run time: it must be exactly what `deno task build`
 * makes from src/ now, and the package entry must work as users import it. `deno task test` builds
 * it first and then runs the suite twice, on the sources and on mod.ts (tools/test.ts); these tests
 * also catch a stale bundle in a plain `deno test` run.
 */
import assert from "node:assert/strict";
import * as pkg from "../mod.ts";
import * as source from "@authlane/oauth";
import { build, DIST } from "../tools/build.ts";

Deno.test("dist/authlane.js is a fresh build of src/ (run `deno task build` after changing src/)", async () => {
  const onDisk = await Deno.readTextFile(new URL(`../${DIST}`, import.meta.url)).catch(() => "");
  const fresh = await build();
  assert.ok(
    onDisk === fresh,
    `${DIST} is missing or older than src/: run \`deno task build\` (deno task test does it first)`,
  );
});

Deno.test("mod.ts exports at run time exactly what src/index.ts exports", () => {
  assert.deepEqual(Object.keys(pkg).sort(), Object.keys(source).sort());
  for (const name of Object.keys(source) as (keyof typeof source)[]) {
    assert.equal(typeof pkg[name], typeof source[name], name);
  }
});

Deno.test("mod.ts works as users import it: a lying discovery document is refused with its code", async () => {
  const issuer = new URL("https://as.example.com");
  const body = JSON.stringify({ issuer: "https://evil.example", token_endpoint: "https://x" });
  const response = () =>
    new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  await assert.rejects(
    pkg.processDiscoveryResponse(issuer, response()),
    (err) =>
      err instanceof pkg.OperationProcessingError && err.code === pkg.JSON_ATTRIBUTE_COMPARISON,
  );
  const good = JSON.stringify({ issuer: issuer.origin, token_endpoint: `${issuer.origin}/token` });
  const as = await pkg.processDiscoveryResponse(
    issuer,
    new Response(good, { status: 200, headers: { "content-type": "application/json" } }),
  );
  assert.equal(as.token_endpoint, "https://as.example.com/token");
  // The package's own symbols are the ones its functions read.
  let seen = "";
  const request = await pkg.discoveryRequest(issuer, {
    [pkg.customFetch]: (url: string) => {
      seen = url;
      return Promise.resolve(
        new Response(good, { headers: { "content-type": "application/json" } }),
      );
    },
  });
  await request.body?.cancel();
  assert.equal(seen, "https://as.example.com/.well-known/openid-configuration");
});

Deno.test('the shipped run (tools/test.ts) resolves @authlane/oauth to the package\'s "." export, the sources run to src/', async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(config.exports["."], "./dist/authlane.js");
  // The "." export is JavaScript: its types and docs must come from the sources, or JSR users
  // would get an untyped module.
  const bundle = await Deno.readTextFile(new URL("../dist/authlane.js", import.meta.url));
  assert.ok(bundle.startsWith('/* @ts-self-types="../src/index.ts" */\n'), bundle.slice(0, 80));
  const resolved = import.meta.resolve("@authlane/oauth");
  const expected = Deno.env.get("AUTHLANE_ENTRY") === "shipped"
    ? "../dist/authlane.js"
    : "../src/index.ts";
  assert.equal(resolved, new URL(expected, import.meta.url).href);
});
