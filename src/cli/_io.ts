/**
 * The CLI's window on the world: output streams, environment, files, stdin, the clock used
 * between device-flow polls, and the embedded test provider. `main()` takes these as a value so
 * tests run the CLI in-process with captured output and no real waiting.
 *
 * @module
 */

/** The embedded test provider the CLI uses for `login` and `device` when no `--issuer` is given. */
export interface EmbeddedProvider {
  /** Its issuer identifier (`http://127.0.0.1:PORT`). */
  readonly issuer: string;
  /** The public native client registered for the CLI (`none` authentication, loopback redirect). */
  readonly clientId: string;
  /**
   * Signs in on the provider's login and consent pages as a browser would and returns the URL the
   * provider redirects the browser to (the CLI's loopback callback).
   */
  login(authorizationUrl: URL): Promise<URL>;
  /** Enters and approves a device flow user code as the end-user would. */
  approveDeviceCode(userCode: string): Promise<void>;
  /** Stops the provider. */
  close(): Promise<void>;
}

/** Everything the CLI reads from or writes to outside its arguments. */
export interface CliIo {
  /** Writes to standard output (results). @default Deno.stdout */
  stdout(text: string): void;
  /** Writes to standard error (instructions, progress, errors). @default Deno.stderr */
  stderr(text: string): void;
  /** Reads an environment variable. @default Deno.env.get */
  env(name: string): string | undefined;
  /** Reads a text file (secrets, keys, certificates). @default Deno.readTextFile */
  readTextFile(path: string): Promise<string>;
  /** Reads all of standard input (a token given as `-`). @default Deno.stdin */
  readStdin(): Promise<string>;
  /** Whether standard error is a terminal, which turns on the animated progress indicator. */
  isTerminal: boolean;
  /** Waits between device-flow polls. @default a timer */
  sleep(milliseconds: number): Promise<void>;
  /** The clock device-flow deadlines are counted on, in milliseconds. @default Date.now */
  now(): number;
  /**
   * Starts the embedded test provider; `start` is the built-in way. Replace it to watch or wrap
   * the provider (tests do). @default (start) => start()
   */
  embedded(start: () => Promise<EmbeddedProvider>): Promise<EmbeddedProvider>;
}

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

/**
 * Completes a partial {@link CliIo} with the process's own streams, environment and files.
 *
 * @param io The parts to replace.
 * @returns A complete I/O object.
 */
export function resolveIo(io: Partial<CliIo> = {}): CliIo {
  return {
    stdout: io.stdout ?? ((text) => writeAll(Deno.stdout, text)),
    stderr: io.stderr ?? ((text) => writeAll(Deno.stderr, text)),
    env: io.env ?? ((name) => Deno.env.get(name)),
    readTextFile: io.readTextFile ?? ((path) => Deno.readTextFile(path)),
    readStdin: io.readStdin ?? (() => new Response(Deno.stdin.readable).text()),
    isTerminal: io.isTerminal ?? (io.stderr === undefined && Deno.stderr.isTerminal()),
    sleep: io.sleep ??
      ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds))),
    now: io.now ?? (() => Date.now()),
    embedded: io.embedded ?? ((start) => start()),
  };
}
