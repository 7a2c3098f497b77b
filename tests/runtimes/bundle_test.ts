/**
 * The file every runtime of the matrix loads, dist/authlane.js (what mod.ts loads, written by
 * `deno task build`), is one self-contained ES module: no import of any kind, and no Deno API
 * at load, so Node.js, Bun, workerd and browsers can load it as it is.
 */
import assert from "node:assert/strict";
import { assertBundleBuilt } from "./_matrix.ts";
import { BUNDLE } from "./_tools.ts";

Deno.test("dist/authlane.js is one self-contained ES module with no Deno API at load", async () => {
  await assertBundleBuilt();
  const source = await Deno.readTextFile(BUNDLE);
  // An ES module: it exports; everything is inlined: no static or dynamic import, no specifier.
  assert.match(source, /^export \{/m);
  assert.doesNotMatch(source, /^\s*import[\s{*"']/m);
  assert.doesNotMatch(source, /\bimport\s*\(/);
  assert.doesNotMatch(source, /\brequire\s*\(/);
  assert.doesNotMatch(source, /["'](npm|jsr|node):/);
  // Deno is read only through globalThis, inside a function (mtlsFetch's), never at the top
  // level; the runtimes of the matrix show that it loads without a Deno global.
  assert.doesNotMatch(source, /(?<![\w."])Deno\.(?!customInspect|createHttpClient)/);
  const lines = source.split("\n").filter((line) => /\bglobalThis\.Deno\b/.test(line));
  assert.ok(lines.length > 0, "mtlsFetch reads globalThis.Deno");
  for (const line of lines) assert.match(line, /^\s+/, `at the top level: ${line}`);
  const size = (await Deno.stat(BUNDLE)).size;
  assert.ok(size < 512 * 1024, `the bundle is ${size} bytes`);
});
