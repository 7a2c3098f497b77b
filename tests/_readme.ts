/**
 * The one mechanism that keeps the README's code true: every ```ts block of README.md (outside
 * its "Command line" section) is preceded by a `<!-- readme:<name> -->` line (blank lines between
 * are allowed) naming a region of
 * a file under `examples/`, written `// #region readme:<name>` … `// #endregion readme:<name>`,
 * and the block is that region verbatim, once the region's common indentation is removed (a
 * region may sit inside the function that runs it). The files are run by tests
 * (`tests/e2e/recipes_test.ts`, `tests/e2e/examples_test.ts`), so a README recipe that stops
 * working or drifts from its file fails the suite.
 *
 * @module
 */

const REPO = new URL("../", import.meta.url);

/** A region of an example file. */
export interface Region {
  /** The region's name, after `readme:`. */
  name: string;
  /** The file, relative to the repository. */
  file: string;
  /** The lines between the markers, with their common indentation removed. */
  text: string;
}

/** A ```ts block of the README. */
export interface ReadmeBlock {
  /** The name of the `<!-- readme:<name> -->` line before it, if any. */
  name: string | undefined;
  /** The 1-based line of its opening fence. */
  line: number;
  /** Its text, up to the closing fence. */
  text: string;
}

/** Removes the indentation every non-empty line shares. */
export function dedent(text: string): string {
  const lines = text.split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)![0].length);
  const common = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(common)).join("\n");
}

async function* exampleFiles(dir: URL, relative: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory) yield* exampleFiles(new URL(`${entry.name}/`, dir), path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/**
 * Reads every `readme:` region under `examples/`.
 *
 * @returns The regions by name; a name used twice, an unclosed region or a nested one throws.
 */
export async function readRegions(): Promise<Map<string, Region>> {
  const regions = new Map<string, Region>();
  for await (const path of exampleFiles(new URL("examples/", REPO), "examples")) {
    const lines = (await Deno.readTextFile(new URL(path, REPO))).split("\n");
    let open: { name: string; start: number } | undefined;
    lines.forEach((line, index) => {
      const start = /^\s*\/\/ #region readme:([a-z0-9-]+)/.exec(line);
      const end = /^\s*\/\/ #endregion readme:([a-z0-9-]+)/.exec(line);
      if (start !== null) {
        if (open !== undefined) throw new Error(`${path}:${index + 1}: region inside ${open.name}`);
        open = { name: start[1]!, start: index + 1 };
      } else if (end !== null) {
        const current = open;
        if (current === undefined || current.name !== end[1]) {
          throw new Error(`${path}:${index + 1}: stray end ${end[1]}`);
        }
        if (regions.has(current.name)) {
          throw new Error(`${path}: region ${current.name} defined twice`);
        }
        regions.set(current.name, {
          name: current.name,
          file: path,
          text: dedent(lines.slice(current.start, index).join("\n")) + "\n",
        });
        open = undefined;
      }
    });
    if (open !== undefined) throw new Error(`${path}: region ${open.name} is not closed`);
  }
  return regions;
}

/**
 * Reads the ```ts blocks of README.md, except those in its "Command line" section.
 *
 * @returns The blocks in order.
 */
export async function readReadmeBlocks(): Promise<ReadmeBlock[]> {
  const lines = (await Deno.readTextFile(new URL("README.md", REPO))).split("\n");
  const blocks: ReadmeBlock[] = [];
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("## ")) section = line.slice(3).trim();
    if (line !== "```ts" || section === "Command line") continue;
    const end = lines.indexOf("```", i + 1);
    if (end === -1) throw new Error(`README.md:${i + 1}: unclosed code block`);
    let before = i - 1;
    while (before > 0 && lines[before]!.trim() === "") before--; // deno fmt adds a blank line
    const marker = /^<!-- readme:([a-z0-9-]+) -->$/.exec(lines[before] ?? "");
    blocks.push({
      name: marker?.[1],
      line: i + 1,
      text: lines.slice(i + 1, end).join("\n") + "\n",
    });
    i = end;
  }
  return blocks;
}
