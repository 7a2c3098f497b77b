/**
 * A workload's side in a process of its own: the parent drives it over stdin/stdout, one JSON line
 * per request and per answer, so the rounds stay interleaved (authlane, oauth4webapi, the floor,
 * one after another on the same pinned core) while each library runs in a process where no other
 * library's code has run. That is what an application sees (it loads one OAuth library), and what
 * issue 14 describes ("each library in its own process, interleaved rounds on one pinned core").
 *
 * The method matters. Without I/O (bench/_noio.ts, workload 5 on a ready body and a plain
 * `Headers`, CPU µs per operation, medians of 31 rounds) authlane ran at 9.7–10.2 alone and at
 * 11.6–11.8 alternating with oauth4webapi in one process (oauth4webapi 9.1–9.5 alone, 9.7–9.8
 * beside authlane), most of it in the `Headers.forEach` the body cap reads the framing headers
 * with (+0.7 µs alone, +2.0 µs beside another side's JSON parsing). On Responses `fetch()` made,
 * the other way round: one process per side measured workloads 1 and 5 at 0.81–0.90× and
 * 0.84–0.90×, one shared process at 0.90–0.93× and 0.92–0.94× (2026-12-04). `--shared-process`
 * keeps the old method for such comparisons.
 *
 * @module
 */

import { type Batch, localSide, type Side } from "./_harness.ts";
import { makeFixtures } from "./_fixtures.ts";
import { makeWorkloads } from "./_workloads.ts";

/** The sides a workload can have. */
export type SideName = "authlane" | "oauth4webapi" | "floor" | "platform";

/** A request from the parent. */
type SideRequest = { warm: number } | { batch: number; pause: number };

const encoder = new TextEncoder();

/** Lines of a byte stream, as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    let at: number;
    while ((at = buffered.indexOf("\n")) !== -1) {
      yield buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
    }
  }
}

/**
 * The child's main: builds the workload's fixtures, then answers the parent's requests for one
 * side until stdin closes. Only that side's operation ever runs here.
 */
export async function serveSide(id: string, name: SideName): Promise<void> {
  const w = (await makeWorkloads(await makeFixtures())).find((x) => x.id === id);
  if (w === undefined) throw new Error(`no workload ${id}`);
  const op = name === "platform" ? w.platform : w[name];
  if (op === undefined) throw new Error(`workload ${id} has no ${name} side`);
  const side = localSide(w, op);
  const write = (value: unknown) => Deno.stdout.write(encoder.encode(`${JSON.stringify(value)}\n`));
  await write({ ready: true });
  for await (const line of lines(Deno.stdin.readable)) {
    const request = JSON.parse(line) as SideRequest;
    if ("warm" in request) await write({ perOp: await side.warm(request.warm) });
    else await write(await side.batch(request.batch, request.pause));
  }
}

/** A side served by a child process (`script --side=<id>:<name>`); `close` ends it. */
export interface RemoteSide extends Side {
  close(): Promise<void>;
}

/**
 * Starts `script` with `--side=<id>:<name>` (same flags and CPU pin as this process) and returns
 * once the child has built its fixtures.
 */
export async function remoteSide(
  script: string,
  id: string,
  name: SideName,
  env: Record<string, string>,
): Promise<RemoteSide> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", script, `--side=${id}:${name}`],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const answers = lines(child.stdout);
  const next = async <T>(): Promise<T> => {
    const { done, value } = await answers.next();
    if (done) throw new Error(`the ${name} side of workload ${id} exited`);
    return JSON.parse(value) as T;
  };
  const ask = async <T>(request: SideRequest): Promise<T> => {
    await writer.write(encoder.encode(`${JSON.stringify(request)}\n`));
    return await next<T>();
  };
  await next<{ ready: true }>();
  return {
    warm: async (ms) => (await ask<{ perOp: number }>({ warm: ms })).perOp,
    batch: (n, pause) => ask<Batch>({ batch: n, pause }),
    async close() {
      await writer.close();
      await answers.return(undefined);
      await child.status;
    },
  };
}
