/**
 * `deno task bench`: authlane beside oauth4webapi and the Web Crypto floor.
 *
 * Per workload it prints authlane ops/s, oauth4webapi ops/s, their ratio, each library's per-op
 * cost as a multiple of the floor, and the cost of building one input (Response, Request or URL),
 * which is kept out of the timed loop. Then cold start (a fresh `deno run` importing the package entry (dist/authlane.js), minus
 * an empty script, beside the TypeScript sources and oauth4webapi) and shipped size.
 *
 * Each workload runs in a fresh process of its own, which checks both libraries and then drives
 * each side (authlane, oauth4webapi, the floor, the bare work) in a process of its own, in
 * interleaved rounds on the same pinned core (bench/_side.ts says why). `--shared-process` times
 * the sides in the workload's one process instead (the method before issue 14's third round);
 * `--in-process` runs every workload in this process.
 *
 * Then, in a process of its own, the session layer's figures (`bench/session.ts`), so every table
 * of the README's "Performance" comes from one run.
 *
 * Flags: `--quick` (about 20 s smoke run), `--only=1,1s,3` (some workloads), `--no-cold`,
 * `--no-size`, `--no-session`, `--json=path` (write the results as JSON too). The script re-runs itself under
 * `taskset -c 0` when taskset exists, so the whole run stays on one core.
 *
 * @module
 */

import { measure, measureSides, median, type Plan, type Result } from "./_harness.ts";
import { type RemoteSide, remoteSide, serveSide, type SideName } from "./_side.ts";
import { makeFixtures } from "./_fixtures.ts";
import { makeWorkloads, type Workload } from "./_workloads.ts";

const ROOT = new URL("../", import.meta.url);

/** A file: URL as a path (percent-decoded: a checkout path may hold spaces). */
function fromFileUrl(url: URL): string {
  return decodeURIComponent(url.pathname);
}
const PINNED_ENV = "AUTHLANE_BENCH_PINNED";

const args = new Set(Deno.args);
const quick = args.has("--quick");
const only = Deno.args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const jsonOut = Deno.args.find((a) => a.startsWith("--json="))?.slice(7);
const roundsArg = Deno.args.find((a) => a.startsWith("--rounds="))?.slice(9);
const workerId = Deno.args.find((a) => a.startsWith("--worker="))?.slice(9);
const inProcess = args.has("--in-process");
const sharedProcess = inProcess || args.has("--shared-process");
const sideArg = Deno.args.find((a) => a.startsWith("--side="))?.slice(7);

async function pinToOneCore(): Promise<void> {
  if (Deno.env.get(PINNED_ENV) !== undefined) return;
  let status: Deno.CommandStatus;
  try {
    status = await new Deno.Command("taskset", {
      args: [
        "-c",
        "0",
        Deno.execPath(),
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        fromFileUrl(new URL(import.meta.url)),
        ...Deno.args,
      ],
      env: { [PINNED_ENV]: "taskset -c 0" },
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      Deno.env.set(PINNED_ENV, "no (taskset not found)");
      return;
    }
    throw err;
  }
  Deno.exit(status.code);
}

function cpuModel(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

function cpuCount(): number {
  try {
    return Deno.readTextFileSync("/proc/cpuinfo").match(/^processor\s*:/gm)?.length ?? 0;
  } catch {
    return navigator.hardwareConcurrency;
  }
}

function fmtOps(ops: number): string {
  return ops >= 100_000 ? `${Math.round(ops / 1000)}k` : Math.round(ops).toLocaleString("en-US");
}

/**
 * Issue 14's targets: every workload at oauth4webapi's throughput or above; the crypto-bound ones
 * also within 5% of the bare Web API work under them (the whole operation done with raw Web APIs
 * where the workload has one, else the Web Crypto floor).
 */
function targetOf(w: Workload, r: Result): { target: string; holds: boolean } {
  if (w.kind === "crypto") {
    const bare = r.authlanePlatform ?? r.authlaneFloor;
    return { target: "≥1.00× o4w, ≤1.05× bare", holds: bare <= 1.05 && r.ratio >= 1.0 };
  }
  return { target: "≥1.00× o4w", holds: r.ratio >= 1.0 };
}

// ---------------------------------------------------------------------------------------------
// Cold start

async function runOnce(script: string): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", script],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - start;
  if (!out.success) {
    throw new Error(`${script} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return elapsed;
}

interface ColdStart {
  empty: number;
  /** `import "dist/authlane.js"`: the package's "." export, as users load it. */
  authlane: number;
  /** `import "src/index.ts"`: the TypeScript sources the bundle is made from (39 modules). */
  authlaneSources: number;
  oauth4webapi: number;
  runs: number;
}

async function coldStart(runs: number): Promise<ColdStart> {
  const scripts = {
    empty: "bench/_cold/empty.ts",
    authlane: "bench/_cold/authlane.ts",
    authlaneSources: "bench/_cold/authlane_sources.ts",
    oauth4webapi: "bench/_cold/oauth4webapi.ts",
  } as const;
  const names = Object.keys(scripts) as (keyof typeof scripts)[];
  // One untimed run each fills Deno's transpile and code caches.
  for (const name of names) await runOnce(scripts[name]);
  const times: Record<string, number[]> = {};
  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) (times[name] ??= []).push(await runOnce(scripts[name]));
  }
  return {
    empty: median(times.empty!),
    authlane: median(times.authlane!),
    authlaneSources: median(times.authlaneSources!),
    oauth4webapi: median(times.oauth4webapi!),
    runs,
  };
}

// ---------------------------------------------------------------------------------------------
// Shipped size

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

async function bundle(entry: string, flags: string[], dir: string, name: string) {
  const out = `${dir}/${name}.js`;
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", ...flags, "-o", out, entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(result.stderr)}`);
  }
  const bytes = await Deno.readFile(out);
  return { raw: bytes.byteLength, gzip: await gzipSize(bytes) };
}

interface Size {
  label: string;
  raw: number;
  gzip: number;
}

async function ownSources(): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("src/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      files.push(fromFileUrl(new URL(`src/${entry.name}`, ROOT)));
    }
  }
  return files.sort();
}

/** oauth4webapi's published build/index.js in Deno's npm cache, from `deno info --json`. */
async function o4wPublishedFile(): Promise<string | undefined> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "bench/_cold/oauth4webapi.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    npmPackages?: Record<string, { name: string; localPath?: string }>;
  };
  const pkg = Object.values(info.npmPackages ?? {}).find((p) => p.name === "oauth4webapi");
  return pkg?.localPath === undefined ? undefined : `${pkg.localPath}/build/index.js`;
}

async function fileSize(label: string, path: string): Promise<Size> {
  const bytes = await Deno.readFile(path);
  return { label, raw: bytes.byteLength, gzip: await gzipSize(bytes) };
}

async function sizes(): Promise<Size[]> {
  const dir = await Deno.makeTempDir({ prefix: "authlane-bench-" });
  try {
    const files = await ownSources();
    const parts = await Promise.all(files.map((file) => Deno.readFile(file)));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let offset = 0;
    for (const part of parts) {
      all.set(part, offset);
      offset += part.byteLength;
    }
    const o4wEntry = `${dir}/o4w_entry.ts`;
    await Deno.writeTextFile(o4wEntry, 'export * from "oauth4webapi";\n');
    // The same surface: authlane's exports that oauth4webapi also has, so what only authlane
    // offers (mTLS, certificate thumbprints, RFC 7592, logout tokens, the JWS table) drops out
    // unless the shared code reaches it.
    const o4wNames = Object.keys(await import("oauth4webapi"));
    const sameSurface = `${dir}/same_surface.ts`;
    await Deno.writeTextFile(
      sameSurface,
      `export { ${o4wNames.join(", ")} } from "${fromFileUrl(new URL("src/index.ts", ROOT))}";\n`,
    );
    const o4wBuild = await o4wPublishedFile();
    const named = ["--minify", "--keep-names"];
    return [
      {
        label: `authlane TypeScript sources (${files.length} src files, with docs)`,
        raw: all.byteLength,
        gzip: await gzipSize(all),
      },
      await fileSize(
        'authlane dist/authlane.js (the "." export)',
        fromFileUrl(new URL("dist/authlane.js", ROOT)),
      ),
      {
        label: "authlane, bundled + minified, names kept",
        ...await bundle("src/index.ts", named, dir, "own_min"),
      },
      {
        label: "authlane, oauth4webapi's exports only, minified, names kept",
        ...await bundle(sameSurface, named, dir, "own_same"),
      },
      {
        label: "authlane, bundled + minified, names mangled",
        ...await bundle("src/index.ts", ["--minify"], dir, "own_mangled"),
      },
      ...(o4wBuild === undefined
        ? []
        : [await fileSize("oauth4webapi 3.8.8 build/index.js (as published)", o4wBuild)]),
      {
        label: "oauth4webapi 3.8.8, bundled + minified, names kept",
        ...await bundle(o4wEntry, named, dir, "o4w_min"),
      },
      {
        label: "oauth4webapi 3.8.8, bundled + minified, names mangled",
        ...await bundle(o4wEntry, ["--minify"], dir, "o4w_mangled"),
      },
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------

function printTable(rows: { w: Workload; r?: Result; note?: string }[]): void {
  const header = [
    "#",
    "workload",
    "authlane ops/s",
    "o4w ops/s",
    "ratio al/o4w (IQR; min–max)",
    "ratio (wall)",
    "floor ops/s",
    "al × floor",
    "o4w × floor",
    "al × bare",
    "o4w × bare",
    "build µs",
    "target",
    "holds",
  ];
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map(() => "---").join("|")}|`);
  for (const { w, r, note } of rows) {
    if (r === undefined) {
      console.log(`| ${w.id} | ${w.title} | ${note} |${" |".repeat(header.length - 3)}`);
      continue;
    }
    const { target, holds } = targetOf(w, r);
    const x = (v: number | undefined) => v === undefined ? "" : v.toFixed(2);
    console.log(
      `| ${w.id} | ${w.title} | ${fmtOps(r.authlaneOps)} | ${fmtOps(r.oauth4webapiOps)} | ` +
        `${r.ratio.toFixed(2)}× (${x(r.ratioQuartiles[0])}–${x(r.ratioQuartiles[1])}; ` +
        `${x(r.ratioRange[0])}–${x(r.ratioRange[1])}) | ${r.wallRatio.toFixed(2)}× | ` +
        `${fmtOps(r.floorOps)} | ${x(r.authlaneFloor)} | ${x(r.oauth4webapiFloor)} | ` +
        `${x(r.authlanePlatform)} | ${x(r.oauth4webapiPlatform)} | ` +
        `${r.buildUs.toFixed(2)} | ${target} | ${holds ? "yes" : "NO"} |`,
    );
  }
  console.log("\nFloors:");
  for (const { w } of rows) console.log(`  ${w.id}: ${w.floorLabel}`);
  console.log("Bare (the whole operation with raw Web APIs, no checks):");
  for (const { w } of rows) {
    if (w.platformLabel !== undefined) console.log(`  ${w.id}: ${w.platformLabel}`);
  }
}

/** The README's table: one row per workload, from this run. */
function printReadmeTable(rows: { w: Workload; r?: Result }[]): void {
  console.log(
    "\n| #  | workload | authlane ops/s | oauth4webapi ops/s | ratio | authlane × floor | " +
      "oauth4webapi × floor | authlane × bare | oauth4webapi × bare |",
  );
  console.log("| -- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const { w, r } of rows) {
    if (r === undefined) continue;
    const x = (v: number | undefined) => v === undefined ? "" : v.toFixed(2);
    console.log(
      `| ${w.id} | ${w.title} | ${fmtOps(r.authlaneOps)} | ${fmtOps(r.oauth4webapiOps)} | ` +
        `${r.ratio.toFixed(2)}× | ${x(r.authlaneFloor)} | ${x(r.oauth4webapiFloor)} | ` +
        `${x(r.authlanePlatform)} | ${x(r.oauth4webapiPlatform)} |`,
    );
  }
}

/** What a worker process reports for its one workload. */
interface WorkerReport {
  failures: string[];
  result?: Result;
}

/**
 * `--worker=<id>`: checks one workload (both libraries, in this process), then measures it, each
 * side in a process of its own unless `--shared-process`; prints a {@link WorkerReport} as JSON.
 */
async function worker(id: string, plan: Plan): Promise<void> {
  const w = (await makeWorkloads(await makeFixtures())).find((x) => x.id === id);
  if (w === undefined) throw new Error(`no workload ${id}`);
  const failures = await w.check();
  if (failures.length > 0) return console.log(JSON.stringify({ failures }));
  let result: Result;
  if (sharedProcess) {
    result = await measure(w, plan);
  } else {
    const script = fromFileUrl(new URL(import.meta.url));
    const env = { [PINNED_ENV]: Deno.env.get(PINNED_ENV) ?? "no" };
    const names: SideName[] = ["authlane", "oauth4webapi", "floor"];
    if (w.platform !== undefined) names.push("platform");
    // One after another: each builds its fixtures (key generation) on the one pinned core.
    const started: RemoteSide[] = [];
    try {
      for (const name of names) started.push(await remoteSide(script, id, name, env));
      const [authlane, oauth4webapi, floor, platform] = started;
      result = await measureSides({
        authlane: authlane!,
        oauth4webapi: oauth4webapi!,
        floor: floor!,
        platform,
      }, plan);
    } finally {
      await Promise.all(started.map((side) => side.close()));
    }
  }
  console.log(JSON.stringify({ failures, result } satisfies WorkerReport));
}

/**
 * Runs one workload in a fresh process (same CPU pin, inherited), so no workload is measured on
 * the heap and JIT state the ones before it left: in one process, 1s measured 0.88× after 1 and
 * 1c had run and 0.96× on its own (bench/_calibrate.ts).
 */
async function measureIsolated(w: Workload): Promise<WorkerReport> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      fromFileUrl(new URL(import.meta.url)),
      `--worker=${w.id}`,
      ...Deno.args.filter((a) =>
        a === "--quick" || a === "--shared-process" || a.startsWith("--rounds=")
      ),
    ],
    env: { [PINNED_ENV]: Deno.env.get(PINNED_ENV) ?? "no" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`worker for workload ${w.id} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as WorkerReport;
}

async function main(): Promise<void> {
  await pinToOneCore();
  const plan: Plan = quick
    ? { rounds: 5, batchMs: 12, warmupMs: 150, pauseMs: 2 }
    : { rounds: 21, batchMs: 40, warmupMs: 400, pauseMs: 3 };
  if (roundsArg !== undefined) plan.rounds = Number(roundsArg);
  if (workerId !== undefined) return await worker(workerId, plan);
  if (sideArg !== undefined) {
    const [id, name] = sideArg.split(":") as [string, SideName];
    return await serveSide(id, name);
  }
  const started = performance.now();
  console.log(
    `authlane bench — ${
      quick ? "quick" : "full"
    } run; deno ${Deno.version.deno} (V8 ${Deno.version.v8}); ` +
      `nproc ${cpuCount()} (${cpuModel()}); pinned: ${
        Deno.env.get(PINNED_ENV)
      }; gc before each batch: ${"gc" in globalThis ? "yes" : "no"}`,
  );
  console.log(
    `method: ${
      inProcess
        ? "all workloads in this process"
        : sharedProcess
        ? "each workload in a fresh process, its sides in that one process"
        : "each workload in a fresh process, each library (and the floor) in a process of its own"
    }, ${plan.rounds} rounds per workload, ~${plan.batchMs} ms batches, authlane and ` +
      `oauth4webapi alternating (first swaps each round), medians of per-round values; ops/s, ` +
      `ratios and floor multiples from process CPU time (getrusage: user + system), the ` +
      `wall-clock ratio beside; inputs built fresh before each batch (not timed; see "build µs")\n`,
  );

  const fixtures = await makeFixtures();
  const workloads = (await makeWorkloads(fixtures)).filter((w) =>
    only === undefined || only.includes(w.id)
  );
  const rows: { w: Workload; r?: Result; note?: string }[] = [];
  for (const w of workloads) {
    if (w.pending !== undefined) {
      rows.push({ w, note: `pending: ${w.pending}` });
      console.error(`[${w.id}] skipped: ${w.pending}`);
      continue;
    }
    const { failures, result } = inProcess
      ? await (async (): Promise<WorkerReport> => {
        const failures = await w.check();
        return failures.length > 0 ? { failures } : { failures, result: await measure(w, plan) };
      })()
      : await measureIsolated(w);
    if (result === undefined) {
      rows.push({ w, note: `CHECK FAILED: ${failures.join("; ")}` });
      console.error(`[${w.id}] correctness check failed:\n  ${failures.join("\n  ")}`);
      continue;
    }
    const r = result;
    rows.push({ w, r });
    console.error(
      `[${w.id}] checks passed; ${w.title}: ratio ${r.ratio.toFixed(2)}, al ${
        r.authlaneFloor.toFixed(2)
      }× floor (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
  console.log("");
  printTable(rows);
  printReadmeTable(rows);

  let cold: ColdStart | undefined;
  if (!args.has("--no-cold")) {
    cold = await coldStart(quick ? 5 : 25);
    console.log(
      `\nCold start (fresh \`deno run\`, median of ${cold.runs} runs each, interleaved):\n` +
        `  empty script            ${cold.empty.toFixed(1)} ms\n` +
        `  import the "." export  ${cold.authlane.toFixed(1)} ms  → authlane adds ${
          (cold.authlane - cold.empty).toFixed(1)
        } ms\n` +
        `  import src/index.ts     ${cold.authlaneSources.toFixed(1)} ms  → adds ${
          (cold.authlaneSources - cold.empty).toFixed(1)
        } ms (the TypeScript sources dist/authlane.js is bundled from)\n` +
        `  import "oauth4webapi"   ${cold.oauth4webapi.toFixed(1)} ms  → oauth4webapi adds ${
          (cold.oauth4webapi - cold.empty).toFixed(1)
        } ms\n` +
        `  target authlane ≤ oauth4webapi: ${cold.authlane <= cold.oauth4webapi ? "yes" : "NO"}`,
    );
  }

  let size: Size[] | undefined;
  if (!args.has("--no-size")) {
    size = await sizes();
    console.log("\nShipped size (gzip: CompressionStream, default level):");
    for (const s of size) {
      console.log(
        `  ${s.label.padEnd(72)} ${(s.raw / 1024).toFixed(1).padStart(6)} KB raw  ${
          (s.gzip / 1024).toFixed(1).padStart(5)
        } KB gzip`,
      );
    }
  }
  let session: string | undefined;
  if (!args.has("--no-session") && only === undefined) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        fromFileUrl(new URL("session.ts", import.meta.url)),
        ...(quick ? ["--quick"] : []),
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("bench/session.ts failed");
    session = new TextDecoder().decode(out.stdout);
    console.log(`\n${session.trimEnd()}`);
  }
  console.log(`\ntotal bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);

  if (jsonOut !== undefined) {
    await Deno.writeTextFile(
      jsonOut,
      JSON.stringify(
        {
          quick,
          cpu: cpuModel(),
          cores: cpuCount(),
          rows: rows.map(({ w, r, note }) => ({ id: w.id, title: w.title, result: r, note })),
          cold,
          size,
          session,
        },
        null,
        2,
      ),
    );
  }
}

await main();
