/**
 * The suite, run twice: once on the sources, once on what users import.
 *
 * 1. Every test file runs with `@authlane/oauth` resolved to `src/index.ts` (the TypeScript
 *    sources), as in a plain `deno test`.
 * 2. Every test file that reaches the library only through its entry points (the `exports` of
 *    deno.json and `src/index.ts`) runs again with `@authlane/oauth` resolved to
 *    `dist/authlane.js`, the package's `.` export, the bundle `deno task build` writes (typed by
 *    `src/index.ts` through its `@ts-self-types` directive).
 *
 * Which files qualify is read from Deno's own module graph (`deno info --json`), not from a list:
 * a file qualifies unless some module of its graph outside `src/` imports a `src/` module that is
 * not an entry point. The end-to-end, attack, property and export tests must qualify; the run
 * fails when one does not, naming the import that keeps it out. A file whose graph never reaches
 * the library (no module of `src/`, not the bundle) runs the same either way and runs once, on the
 * sources: the harness tests, and the runtime matrix of tests/runtimes/, which loads
 * `dist/authlane.js` in Node.js, Bun, workerd and chromium, not through `@authlane/oauth`.
 *
 * Arguments after `--` go to both `deno test` runs (for example `-- --filter mix-up`).
 *
 * @module
 */

import { moduleGraph, relative } from "./_module_graph.ts";

const ROOT = new URL("../", import.meta.url);
const SOURCE_ENTRY = new URL("src/index.ts", ROOT).href;
const SHIPPED_ENTRY = new URL("dist/authlane.js", ROOT).href;

/** Test files (or folders of them) that must run on the shipped entry. */
const MUST_SHIP = [
  "tests/compat/",
  "tests/e2e/",
  "tests/attacks/",
  "tests/properties_test.ts",
  "tests/exports_test.ts",
];

interface DenoConfig {
  imports?: Record<string, string>;
  exports?: Record<string, string>;
}

async function readConfig(): Promise<DenoConfig> {
  return JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
}

/** Every `*_test.ts` file under tests/, as file URLs, sorted. */
async function testFiles(dir = new URL("tests/", ROOT)): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) found.push(...await testFiles(new URL(`${entry.name}/`, dir)));
    else if (entry.name.endsWith("_test.ts")) found.push(new URL(entry.name, dir).href);
  }
  return found.sort();
}

const SRC = new URL("src/", ROOT).href;

/**
 * Walks `file`'s module graph (into the dependencies `follow` accepts) and returns what `check`
 * says of the first import edge it objects to, or undefined when it objects to none.
 */
function findEdge(
  file: string,
  graph: Map<string, string[]>,
  check: (from: string, to: string) => string | undefined,
  follow: (to: string) => boolean = () => true,
): string | undefined {
  const seen = new Set<string>();
  const queue = [file];
  while (queue.length > 0) {
    const current = queue.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const dep of graph.get(current) ?? []) {
      const found = check(current, dep);
      if (found !== undefined) return found;
      if (follow(dep)) queue.push(dep);
    }
  }
  return undefined;
}

/**
 * Why `file` cannot run on the shipped entry (an importer and the private module it imports), or
 * undefined when it can. The library's own modules import each other; only the way in matters.
 */
function blocker(
  file: string,
  graph: Map<string, string[]>,
  entries: Set<string>,
): string | undefined {
  return findEdge(
    file,
    graph,
    (from, to) =>
      !from.startsWith(SRC) && to.startsWith(SRC) && !entries.has(to)
        ? `${relative(from)} imports ${relative(to)}`
        : undefined,
    (to) => !to.startsWith(SRC),
  );
}

/** Whether some module of `file`'s graph is the library: a module of `src/`, or the bundle. */
function reachesLibrary(file: string, graph: Map<string, string[]>): boolean {
  const library = (_: string, to: string) =>
    to.startsWith(SRC) || to === SHIPPED_ENTRY ? to : undefined;
  return findEdge(file, graph, library) !== undefined;
}

async function denoTest(args: string[], entry: "sources" | "shipped"): Promise<boolean> {
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--parallel", ...args],
    cwd: ROOT,
    env: { AUTHLANE_ENTRY: entry },
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  return status.success;
}

if (import.meta.main) {
  const dash = Deno.args.indexOf("--");
  const passThrough = dash === -1 ? [] : Deno.args.slice(dash + 1);
  const config = await readConfig();
  const entries = new Set([
    SOURCE_ENTRY,
    ...Object.values(config.exports ?? {}).map((path) => new URL(path, ROOT).href),
  ]);

  const files = await testFiles();
  const graph = await moduleGraph(files);
  const shipped: string[] = [];
  const missing: string[] = [];
  let once = 0;
  for (const file of files) {
    const mustShip = MUST_SHIP.some((prefix) => relative(file).startsWith(prefix));
    if (!reachesLibrary(file, graph)) {
      if (mustShip) missing.push(`${relative(file)}: it never imports the library`);
      else once++;
      continue;
    }
    const why = blocker(file, graph, entries);
    if (why === undefined) shipped.push(file);
    else if (mustShip) missing.push(`${relative(file)}: ${why}`);
  }
  if (missing.length > 0) {
    console.error(
      "These tests must run on the shipped entry but reach a private module of src/; import " +
        `the library as "@authlane/oauth" instead:\n  ${missing.join("\n  ")}`,
    );
    Deno.exit(1);
  }

  console.log(`\n== ${files.length} test files on the sources (@authlane/oauth -> src/index.ts)`);
  const onSources = await denoTest(passThrough, "sources");

  const dir = await Deno.makeTempDir({ prefix: "authlane-shipped-" });
  let onShipped = false;
  try {
    const imports: Record<string, string> = {};
    for (const [key, value] of Object.entries(config.imports ?? {})) {
      imports[key] = value.startsWith("./") ? new URL(value, ROOT).href : value;
    }
    imports["@authlane/oauth"] = SHIPPED_ENTRY;
    const map = `${dir}/import_map.json`;
    await Deno.writeTextFile(map, JSON.stringify({ imports }, null, 2));
    console.log(
      `\n== ${shipped.length} of ${files.length} test files on the shipped entry ` +
        "(@authlane/oauth -> dist/authlane.js); " +
        `${once} that never import the library ran once, above`,
    );
    onShipped = await denoTest(
      ["--import-map", map, ...passThrough, ...shipped.map(relative)],
      "shipped",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  if (!onSources || !onShipped) Deno.exit(1);
}
