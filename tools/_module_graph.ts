/**
 * The module graph as Deno resolves it (`deno info --json`): every module reachable from some
 * roots, with the code dependencies of each (static imports, re-exports and literal dynamic
 * imports; type-only edges such as `@ts-types` are left out). Shared by tools/test.ts (which test
 * files can run on the shipped entry) and tests/architecture_test.ts (the layering of src/), so
 * neither reads import statements with regular expressions.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string } }[];
}

/**
 * Reads the module graph of `roots` (file URLs or paths), resolved with the repository's
 * deno.json.
 *
 * @param roots The modules to start from.
 * @returns Each module's specifier mapped to the specifiers of its code dependencies; modules
 *   Deno could not load (a missing file) appear with no dependencies.
 */
export async function moduleGraph(roots: readonly string[]): Promise<Map<string, string[]>> {
  const dir = await Deno.makeTempDir({ prefix: "authlane-graph-" });
  try {
    // `deno info` takes one root: a module that imports them all stands in for the set.
    const root = `${dir}/roots.ts`;
    const specifiers = roots.map((r) => new URL(r, ROOT).href);
    await Deno.writeTextFile(
      root,
      specifiers.map((s) => `import ${JSON.stringify(s)};\n`).join(""),
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, root],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`deno info failed:\n${new TextDecoder().decode(output.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: InfoModule[] };
    const graph = new Map<string, string[]>();
    const rootUrl = new URL(`file://${root}`).href;
    for (const module of info.modules) {
      if (module.specifier === rootUrl) continue;
      const deps = (module.dependencies ?? []).flatMap((d) => d.code ? [d.code.specifier] : []);
      graph.set(module.specifier, deps);
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A specifier relative to the repository root (`src/_jose.ts`), or as is when outside it.
 *
 * @param specifier A module specifier.
 * @returns The short form.
 */
export function relative(specifier: string): string {
  return specifier.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : specifier;
}
