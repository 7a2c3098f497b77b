/**
 * Keeps the layering of STYLE.md true: imports in `src/` point down only, no cycles, no `jose` (or any other
 * package) at run time, `Deno.` only in `mtls.ts` (and the CLI), `fetch(` only in `_http.ts`, and no
 * `node:` or `jsr:` imports in shipped code.
 */
import assert from "node:assert/strict";

const SRC = new URL("../src/", import.meta.url);

const LAYER0 = new Set(["types.ts", "symbols.ts", "errors.ts"]);
const LAYER1 = new Set([
  "_assert.ts",
  "_encoding.ts",
  "_time.ts",
  "_callback.ts",
  "www_authenticate.ts",
  "certificate.ts",
  "mtls.ts",
  "_http.ts",
]);
const LAYER2 = new Set(["_jose.ts", "jwks.ts", "_jwt.ts"]);

function layerOf(file: string): number {
  if (LAYER0.has(file)) return 0;
  if (LAYER1.has(file)) return 1;
  if (LAYER2.has(file)) return 2;
  return 3;
}

interface SourceFile {
  name: string;
  text: string;
  imports: string[];
}

async function readSources(): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  for await (const entry of Deno.readDir(SRC)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(new URL(entry.name, SRC));
    const imports = [
      ...text.matchAll(/^\s*(?:import|export)\s[^;]*?["']([^"']+)["']/gm),
      ...text.matchAll(/\bimport\(\s*["']([^"']+)["']/g),
    ].map((m) => m[1]!);
    files.push({ name: entry.name, text, imports });
  }
  return files;
}

const sources = await readSources();

Deno.test("architecture: src/ imports point down the layers only", () => {
  const violations: string[] = [];
  for (const file of sources) {
    for (const spec of file.imports) {
      if (!spec.startsWith("./")) continue;
      const target = spec.slice(2);
      if (layerOf(target) > layerOf(file.name)) {
        violations.push(
          `${file.name} (layer ${layerOf(file.name)}) imports ${target} (layer ${layerOf(target)})`,
        );
      }
    }
  }
  assert.deepEqual(violations, []);
});

Deno.test("architecture: src/ has no import cycles", () => {
  const graph = new Map(
    sources.map((
      f,
    ) => [f.name, f.imports.filter((s) => s.startsWith("./")).map((s) => s.slice(2))]),
  );
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[] = [];
  const visit = (node: string, path: string[]) => {
    if (state.get(node) === "done") return;
    if (state.get(node) === "visiting") {
      cycles.push([...path.slice(path.indexOf(node)), node].join(" -> "));
      return;
    }
    state.set(node, "visiting");
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, "done");
  };
  for (const node of graph.keys()) visit(node, []);
  assert.deepEqual(cycles, []);
});

Deno.test("architecture: mod.ts loads no package at run time (jose is for tests and examples)", async () => {
  // Thumbprints were jose's last job in src/; its modules cost ~7 ms of every cold start. The
  // module graph as Deno resolves it (static and literal dynamic imports) must stay local.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../mod.ts", import.meta.url).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const root = new URL("../", import.meta.url).href;
  // src/ files appear as the types of mod.ts (@ts-types); the code is dist/authlane.js.
  const foreign = info.modules.map((m) => m.specifier).filter((s) =>
    !s.startsWith(`${root}src/`) && s !== `${root}mod.ts` && s !== `${root}dist/authlane.js`
  );
  assert.deepEqual(foreign, []);
  assert.ok(info.modules.length > 30, "the graph was read");
});

Deno.test("architecture: Deno APIs are used by mtls.ts only", () => {
  const users = sources.filter((f) =>
    f.name !== "mtls.ts" && /\bDeno\.[a-zA-Z]/.test(codeOnly(f.text))
  )
    .map((f) => f.name);
  assert.deepEqual(users, []);
});

Deno.test("architecture: fetch is called by _http.ts only", () => {
  const callers = sources.filter((f) =>
    f.name !== "_http.ts" && /(?<![.\w])fetch\(/.test(stripComments(f.text))
  )
    .map((f) => f.name);
  assert.deepEqual(callers, []);
});

Deno.test("architecture: shipped code has no node: or jsr: imports", () => {
  const bad = sources.flatMap((f) =>
    f.imports.filter((s) => s.startsWith("node:") || s.startsWith("jsr:")).map((s) =>
      `${f.name}: ${s}`
    )
  );
  assert.deepEqual(bad, []);
});

// src/cli/ (the Deno-only CLI entry) is a user of the library, not a layer of it: readSources()
// reads the top level of src/ only, so the rules above (Deno APIs, fetch) do not apply to it.
// Instead it reaches the library through the package entry (../../mod.ts) alone, so a program
// that imports "@authlane/oauth" and "@authlane/oauth/cli" holds one copy of the library.
Deno.test("architecture: src/cli/ imports nothing but ../../mod.ts and its own files", async () => {
  const CLI = new URL("../src/cli/", import.meta.url);
  const bad: string[] = [];
  let files = 0;
  for await (const entry of Deno.readDir(CLI)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    files++;
    const text = await Deno.readTextFile(new URL(entry.name, CLI));
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm),
      ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
      ...text.matchAll(/\bimport\(\s*["'`]([^"'`]+)["'`]/g),
    ].map((m) => m[1]!);
    for (const spec of specifiers) {
      if (spec === "../../mod.ts" || /^\.\/[a-z_]+\.ts$/.test(spec)) continue;
      bad.push(`cli/${entry.name}: ${spec}`);
    }
  }
  assert.ok(files > 0, "src/cli/ has files");
  assert.ok(!sources.some((f) => f.name === "cli"), "readSources() stays at the top level");
  assert.deepEqual(bad, []);
});

// src/session/ (the ./session entry) is, like the CLI, a user of the library: it reaches it through
// the package entry (../../mod.ts) alone, so "@authlane/oauth" and "@authlane/oauth/session" share
// one copy of the library at run time (one set of error classes and option symbols).
Deno.test("architecture: src/session/ imports nothing but ../../mod.ts and its own files", async () => {
  const SESSION = new URL("../src/session/", import.meta.url);
  const bad: string[] = [];
  let files = 0;
  let usesMod = false;
  for await (const entry of Deno.readDir(SESSION)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    files++;
    const text = await Deno.readTextFile(new URL(entry.name, SESSION));
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm),
      ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
      ...text.matchAll(/\bimport\(\s*["'`]([^"'`]+)["'`]/g),
    ].map((m) => m[1]!);
    for (const spec of specifiers) {
      if (spec === "../../mod.ts") usesMod = true;
      else if (!/^\.\/[a-z_]+\.ts$/.test(spec)) bad.push(`session/${entry.name}: ${spec}`);
    }
  }
  assert.ok(files > 0, "src/session/ has files");
  assert.ok(usesMod, "src/session/ uses the library");
  assert.deepEqual(bad, []);
});

Deno.test("architecture: src/index.ts only re-exports", async () => {
  const text = stripComments(await Deno.readTextFile(new URL("../src/index.ts", import.meta.url)));
  const statements = text.split(";").map((s) => s.trim()).filter((s) => s.length > 0);
  const other = statements.filter((s) =>
    !/^export\s+(type\s+)?(\*|\{[^}]*\})\s+from\s+"\.\/[a-z_]+\.ts"$/s.test(s)
  );
  assert.deepEqual(other, []);
});

Deno.test("architecture: mod.ts is the bundle of src/index.ts with src/index.ts's types", async () => {
  const text = await Deno.readTextFile(new URL("../mod.ts", import.meta.url));
  const code = stripComments(text).trim();
  assert.equal(code, 'export * from "./dist/authlane.js";');
  assert.match(
    text,
    /^\/\/ @ts-types="\.\/src\/index\.ts"\nexport \* from "\.\/dist\/authlane\.js";$/m,
  );
});

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** Code with comments and the contents of string literals removed (`"Deno.customInspect"` is data). */
function codeOnly(text: string): string {
  return stripComments(text).replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
}
