/**
 * `dist/authlane.js` is what `mod.ts` loads at run time: it must be exactly what `deno task build`
 * makes from src/ today, and the package entry must work as users import it. The rest of the suite
 * runs on the sources (src/index.ts); these tests tie the two together.
 */
import assert from "node:assert/strict";
import * as pkg from "../mod.ts";
import * as source from "../src/index.ts";
import { build, DIST } from "../tools/build.ts";

Deno.test("dist/authlane.js is a fresh build of src/ (run `deno task build` after changing src/)", async () => {
  const committed = await Deno.readTextFile(new URL(`../${DIST}`, import.meta.url));
  const fresh = await build();
  assert.ok(
    committed === fresh,
    `${DIST} differs from a fresh build with Deno ${Deno.version.deno} (its first line names the ` +
      "version it was built with): run `deno task build` and commit it",
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
