/**
 * Runs `_worker.ts` in several Deno processes at once on one SQLite KV file: starts them, waits
 * until each is ready, releases them together, and collects their results.
 *
 * @module
 */

import type { WorkerConfig, WorkerResult } from "./_worker.ts";

const WORKER = new URL("./_worker.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);

/** Starts `count` workers with `config`, releases them together, and returns their results. */
export async function runIsolates(count: number, config: WorkerConfig): Promise<WorkerResult[]> {
  const children = Array.from({ length: count }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", CONFIG.pathname, WORKER.pathname, JSON.stringify(config)],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn());
  const outputs = children.map((child) => readLines(child.stdout));
  const stderrs = children.map((child) => new Response(child.stderr).text());
  try {
    await Promise.all(outputs.map(async (lines) => {
      const first = await lines.next();
      if (first.value !== "ready") throw new Error(`worker said ${first.value ?? "nothing"}`);
    }));
    const go = new TextEncoder().encode("go\n");
    await Promise.all(children.map(async (child) => {
      const writer = child.stdin.getWriter();
      await writer.write(go);
      await writer.close();
    }));
    const results = await Promise.all(outputs.map(async (lines) => {
      const line = await lines.next();
      if (line.done) throw new Error("worker printed no result");
      return JSON.parse(line.value) as WorkerResult;
    }));
    const statuses = await Promise.all(children.map((child) => child.status));
    const failed = statuses.findIndex((status) => !status.success);
    if (failed !== -1) throw new Error(`worker ${failed} failed:\n${await stderrs[failed]}`);
    return results;
  } catch (error) {
    for (const child of children) {
      try {
        child.kill();
      } catch { /* exited */ }
    }
    await Promise.all(children.map((child) => child.status));
    const logs = (await Promise.all(stderrs)).join("\n---\n");
    throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
  } finally {
    await Promise.all(outputs.map((lines) => lines.return(undefined)));
    await Promise.allSettled(stderrs);
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer !== "") yield buffer;
}

/** The median of `values`. */
export function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** The `p`th percentile (0–100) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
