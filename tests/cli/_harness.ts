/**
 * The harness of the CLI tests: `main()` in-process with captured I/O (no stdin, no waiting, the
 * repository's embedded provider, a loopback listener that is not a socket, a browser that is
 * only recorded), so a test asserts on what a person would see.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type CliIo, type CliListener, main } from "../../src/cli/mod.ts";
import { startEmbeddedProvider } from "../../tools/cli.ts";

/** What a captured run exposes. */
export interface Captured {
  /** The I/O to pass to `main()`. */
  io: Partial<CliIo>;
  /** Everything written to stdout so far. */
  readonly stdout: string;
  /** Everything written to stderr so far. */
  readonly stderr: string;
  /** Resolves when stderr matches `pattern`. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  /** Delivers a browser's request for `url` to the CLI's loopback listener; its status. */
  deliver(url: URL): Promise<number>;
  /** The ports the CLI asked its listeners for. */
  readonly listenedOn: number[];
  /** The addresses the CLI asked its listeners for. */
  readonly hostnames: (string | undefined)[];
  /** The URLs the CLI asked the browser to open. */
  readonly opened: string[];
}

/** The port a fake listener reports when asked for any port. */
export const FAKE_PORT = 49152;

/**
 * Captured I/O for main(): output into strings, no stdin, no waiting, the repository's embedded
 * provider, a loopback listener that is not a socket (`deliver` plays the browser's request) and
 * a browser that records what it is asked to open.
 *
 * @param env The environment the CLI sees.
 * @param overrides Replacements for any part of the I/O.
 * @returns The captured run.
 */
export function capture(
  env: Record<string, string> = {},
  overrides: Partial<CliIo> = {},
): Captured {
  let stdout = "";
  let stderr = "";
  const watchers: { pattern: RegExp; resolve: (match: RegExpExecArray) => void }[] = [];
  const handlers: ((request: Request) => Response)[] = [];
  const listenedOn: number[] = [];
  const hostnames: (string | undefined)[] = [];
  const opened: string[] = [];
  const listen = (
    port: number,
    handler: (request: Request) => Response,
    hostname?: string,
  ): CliListener => {
    listenedOn.push(port);
    hostnames.push(hostname);
    handlers.push(handler);
    return { port: port === 0 ? FAKE_PORT : port, close: () => Promise.resolve() };
  };
  const io: Partial<CliIo> = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
      for (const watcher of [...watchers]) {
        const match = watcher.pattern.exec(stderr);
        if (match !== null) {
          watchers.splice(watchers.indexOf(watcher), 1);
          watcher.resolve(match);
        }
      }
    },
    env: (name) => env[name],
    readStdin: () => Promise.resolve(""),
    isTerminal: false,
    sleep: () => Promise.resolve(),
    listen,
    openBrowser: (url) => {
      opened.push(url);
      return Promise.resolve(false);
    },
    embedded: startEmbeddedProvider,
    ...overrides,
  };
  return {
    io,
    listenedOn,
    hostnames,
    opened,
    async deliver(url) {
      const handler = handlers.at(-1);
      if (handler === undefined) throw new Error("the CLI has no listener");
      const response = handler(new Request(url));
      await response.body?.cancel();
      return response.status;
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitFor(pattern) {
      const match = pattern.exec(stderr);
      if (match !== null) return Promise.resolve(match);
      return new Promise((resolve) => watchers.push({ pattern, resolve }));
    },
  };
}

/** The outcome of a run. */
export interface Run {
  /** The exit code. */
  code: number;
  /** What went to stdout. */
  stdout: string;
  /** What went to stderr. */
  stderr: string;
}

/**
 * Runs `main(args)` with captured I/O.
 *
 * @param args The command line.
 * @param env The environment.
 * @param overrides I/O replacements.
 * @returns Exit code and output.
 */
export async function run(
  args: string[],
  env: Record<string, string> = {},
  overrides: Partial<CliIo> = {},
): Promise<Run> {
  const captured = capture(env, overrides);
  const code = await main(args, captured.io);
  return { code, stdout: captured.stdout, stderr: captured.stderr };
}

/**
 * The JSON a successful run printed.
 *
 * @param result The run.
 * @returns The parsed stdout.
 */
export function json(result: Run): Record<string, unknown> {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}
