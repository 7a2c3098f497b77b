/**
 * Keeps the layering of ARCHITECTURE.md true. Import edges come from Deno's own module graph
 * (`deno info --json`, through tools/_module_graph.ts), not from reading import statements:
 * imports in `src/` point down the layers only, without cycles; shipped code loads nothing from
 * a package, `node:`, `jsr:`, `tests/` or `tools/`; the CLI reaches the library through `mod.ts`
 * alone. Two rules are about code rather than imports and read the text with comments and string
 * literals removed: `Deno.` only in `mtls.ts` (and the Deno-only CLI), `fetch(` only in
 * `_http.ts`.
 */
import assert from "node:assert/strict";
import { moduleGraph, relative } from "../tools/_module_graph.ts";

const SRC = new URL("../src/", import.meta.url);

/** Every layer of src/ (top level), lowest first; a file not listed is layer 3 (protocol). */
const LAYERS: readonly (readonly string[])[] = [
  // 0 vocabulary
  ["types.ts", "symbols.ts", "errors.ts"],
  // 1 mechanics
  [
    "_assert.ts",
    "_encoding.ts",
    "_time.ts",
    "_callback.ts",
    "www_authenticate.ts",
    "certificate.ts",
    "mtls.ts",
    "endpoints.ts",
    "_http.ts",
  ],
  // 2 JOSE
  ["jws_algorithms.ts", "_jose.ts", "jwks.ts", "_jwt.ts"],
];

function layerOf(file: string): number {
  const layer = LAYERS.findIndex((files) => files.includes(file));
  return layer === -1 ? 3 : layer;
}

async function sourceFiles(dir: URL): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".ts")) files.push(new URL(entry.name, dir).href);
  }
  return files.sort();
}

const topLevel = await sourceFiles(SRC);
const cliFiles = await sourceFiles(new URL("cli/", SRC));
const sessionFiles = await sourceFiles(new URL("session/", SRC));
const modTs = new URL("../mod.ts", import.meta.url).href;
const graph = await moduleGraph([...topLevel, ...cliFiles, ...sessionFiles, modTs]);

/** `_jose.ts` for a top-level src/ module, undefined for anything else. */
function srcName(specifier: string): string | undefined {
  const name = specifier.startsWith(SRC.href) ? specifier.slice(SRC.href.length) : undefined;
  return name === undefined || name.includes("/") ? undefined : name;
}

/** The import edges between top-level src/ files, from the graph. */
const srcEdges: [string, string][] = topLevel.flatMap((file) =>
  (graph.get(file) ?? []).flatMap((dep) => {
    const [from, to] = [srcName(file), srcName(dep)];
    return from !== undefined && to !== undefined ? [[from, to] as [string, string]] : [];
  })
);

Deno.test("architecture: the module graph was read (every src/ file, with its imports)", () => {
  for (const file of [...topLevel, ...cliFiles, ...sessionFiles]) {
    assert.ok(graph.has(file), relative(file));
  }
  assert.ok(srcEdges.length > 100, `${srcEdges.length} edges`);
  assert.ok(srcEdges.some(([from, to]) => from === "_jose.ts" && to === "jws_algorithms.ts"));
});

Deno.test("architecture: src/ imports point down the layers only", () => {
  const violations = srcEdges.filter(([from, to]) => layerOf(to) > layerOf(from)).map((
    [from, to],
  ) => `${from} (layer ${layerOf(from)}) imports ${to} (layer ${layerOf(to)})`);
  assert.deepEqual(violations, []);
});

Deno.test("architecture: src/ has no import cycles", () => {
  const next = new Map<string, string[]>();
  for (const [from, to] of srcEdges) next.set(from, [...next.get(from) ?? [], to]);
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[] = [];
  const visit = (node: string, path: string[]) => {
    if (state.get(node) === "done") return;
    if (state.get(node) === "visiting") {
      cycles.push([...path.slice(path.indexOf(node)), node].join(" -> "));
      return;
    }
    state.set(node, "visiting");
    for (const to of next.get(node) ?? []) visit(to, [...path, node]);
    state.set(node, "done");
  };
  for (const file of topLevel) visit(srcName(file)!, []);
  assert.deepEqual(cycles, []);
});

Deno.test("architecture: shipped code loads only src/ and dist/ (no package, node:, jsr:, tests/ or tools/)", () => {
  // mod.ts's code is dist/authlane.js; src/ files are its types (@ts-types) and the CLI's code.
  // Thumbprints were jose's last job in src/; its modules cost ~7 ms of every cold start.
  const root = new URL("../", import.meta.url).href;
  const foreign = [...graph.keys()].filter((s) =>
    !s.startsWith(SRC.href) && s !== modTs && s !== `${root}dist/authlane.js`
  ).map(relative);
  assert.deepEqual(foreign, []);
});

// src/cli/ (the Deno-only CLI entry) is a user of the library, not a layer of it. It reaches the
// library through the package entry (../../mod.ts) alone, so a program that imports
// "@authlane/oauth" and "@authlane/oauth/cli" holds one copy of the library.
Deno.test("architecture: src/cli/ imports nothing but ../../mod.ts and its own files", () => {
  const cli = new URL("cli/", SRC).href;
  const bad = cliFiles.flatMap((file) =>
    (graph.get(file) ?? []).filter((dep) => dep !== modTs && !dep.startsWith(cli)).map((dep) =>
      `${relative(file)} imports ${relative(dep)}`
    )
  );
  assert.ok(cliFiles.length > 0, "src/cli/ has files");
  assert.deepEqual(bad, []);
});

// src/session/ (the ./session entry) is, like the CLI, a user of the library: it reaches it through
// the package entry (../../mod.ts) alone, so "@authlane/oauth" and "@authlane/oauth/session" share
// one copy of the library at run time (one set of error classes and option symbols).
Deno.test("architecture: src/session/ imports nothing but ../../mod.ts and its own files", () => {
  const session = new URL("session/", SRC).href;
  const deps = sessionFiles.flatMap((file) => (graph.get(file) ?? []).map((dep) => [file, dep]));
  const bad = deps.filter(([, dep]) => dep !== modTs && !dep!.startsWith(session)).map((
    [file, dep],
  ) => `${relative(file!)} imports ${relative(dep!)}`);
  assert.ok(sessionFiles.length > 0, "src/session/ has files");
  assert.ok(deps.some(([, dep]) => dep === modTs), "src/session/ uses the library");
  assert.deepEqual(bad, []);
});

async function codeOf(files: readonly string[]): Promise<{ file: string; code: string }[]> {
  return await Promise.all(
    files.map(async (file) => ({
      file: relative(file),
      code: codeOnly(await Deno.readTextFile(new URL(file))),
    })),
  );
}

Deno.test("architecture: src/ has no computed import(), which Deno's graph could not follow", async () => {
  const users = (await codeOf([...topLevel, ...cliFiles, ...sessionFiles])).filter(({ code }) =>
    // String literals are "" here: import("./x.ts") is in the graph, import(url) is not.
    /\bimport\s*\((?!\s*""\s*\))/.test(code)
  ).map(({ file }) => file);
  assert.deepEqual(users, []);
});

Deno.test("architecture: Deno APIs are used by mtls.ts only (and the CLI)", async () => {
  const users = (await codeOf(topLevel)).filter(({ file, code }) =>
    file !== "src/mtls.ts" && /\bDeno\.[a-zA-Z]/.test(code)
  ).map(({ file }) => file);
  assert.deepEqual(users, []);
});

Deno.test("architecture: fetch is called by _http.ts only (the CLI's own fetch goes through CliIo)", async () => {
  // src/session/ is a user of the library: its KV JWKS cache wraps global fetch as the
  // [customFetch] it hands to the library, like any application would.
  const callers = (await codeOf([...topLevel, ...cliFiles])).filter(({ file, code }) =>
    file !== "src/_http.ts" && file !== "src/cli/_io.ts" && /(?<![.\w])fetch\(/.test(code)
  ).map((
    { file },
  ) => file);
  assert.deepEqual(callers, []);
});

Deno.test("architecture: src/index.ts only re-exports", async () => {
  const text = stripComments(await Deno.readTextFile(new URL("index.ts", SRC)));
  const statements = text.split(";").map((s) => s.trim()).filter((s) => s.length > 0);
  const other = statements.filter((s) =>
    !/^export\s+(type\s+)?(\*|\{[^}]*\})\s+from\s+"\.\/[a-z_]+\.ts"$/s.test(s)
  );
  assert.deepEqual(other, []);
});

Deno.test("architecture: mod.ts is the bundle of src/index.ts with src/index.ts's types", async () => {
  const text = await Deno.readTextFile(new URL(modTs));
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
  return stripComments(text).replace(
    /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g,
    '""',
  );
}
