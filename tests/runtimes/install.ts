/**
 * Installs the npm runtimes of the matrix (tests/runtimes/_tools.ts pins them) into
 * `.ci/.tools/runtimes/`, with the machine's npm and only the npm registry: `node` (Node.js 22),
 * `bun`, `workerd` and `undici`. The binaries come in the platform packages the first three list
 * as optional dependencies; their install scripts only link them (no download from elsewhere).
 * Does nothing when the pinned versions are already there. `.ci/run` calls it.
 *
 * Usage: `deno run -A tests/runtimes/install.ts`
 *
 * @module
 */

import { installedVersion, PACKAGES, TOOLS } from "./_tools.ts";

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${text}${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return text.trim();
}

if (import.meta.main) {
  const wanted = Object.entries(PACKAGES).map(([name, version]) => `${name}@${version}`);
  const stale = Object.entries(PACKAGES).filter(([name, version]) =>
    installedVersion(name) !== version
  );
  const dir = TOOLS.pathname;
  if (stale.length === 0) {
    console.log(`runtimes up to date in ${dir}: ${wanted.join(" ")}`);
  } else {
    console.log(`installing ${wanted.join(" ")} from the npm registry into ${dir}`);
    await Deno.mkdir(dir, { recursive: true });
    const start = performance.now();
    // One command for all: `npm install --no-save` removes what the command does not name.
    await run("npm", [
      "install",
      "--prefix",
      dir,
      "--no-save",
      "--package-lock=false",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      ...wanted,
    ]);
    const seconds = ((performance.now() - start) / 1000).toFixed(1);
    const size = (await run("du", ["-sh", dir])).split(/\s/)[0];
    console.log(`installed in ${seconds} s, ${size} on disk`);
  }
  const bin = (name: string) => new URL(`node_modules/.bin/${name}`, TOOLS).pathname;
  console.log(`node ${await run(bin("node"), ["--version"])}`);
  console.log(`bun ${await run(bin("bun"), ["--version"])}`);
  console.log(await run(bin("workerd"), ["--version"]));
  console.log(`undici ${installedVersion("undici")}`);
}
