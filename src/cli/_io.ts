/**
 * The CLI's window on the world: output streams, environment, files, stdin, the clock used
 * between device-flow polls, the loopback listener of `login`, the browser, the HTTP clients (the
 * default one and the one that trusts `--ca`), and an optional embedded provider. `main()` takes these as a value so tests run the CLI
 * in-process with captured output, no real waiting and no sockets they do not test, and so the
 * repository's `deno task cli` can plug in a provider the published CLI does not ship.
 *
 * @module
 */

/**
 * An OpenID Provider the CLI runs `login` and `device` against when no `--issuer` is given. The
 * published CLI has none (`--issuer` is then required); the repository's `deno task cli`
 * (tools/cli.ts) passes one built on its oidc-provider test harness.
 */
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

/** A running loopback listener (see {@link CliIo.listen}). */
export interface CliListener {
  /** The port it listens on. */
  readonly port: number;
  /** Stops it. */
  close(): Promise<void>;
}

/** A `fetch` for `[customFetch]`, and how to release what it holds. */
export interface CliFetch {
  /** Sends a request. */
  fetch(url: string, init: RequestInit): Promise<Response>;
  /** Releases its connections. */
  close(): void;
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
   * Creates a file that must not exist yet, readable by its owner only (`mode` 0600), for a DPoP
   * key the CLI generated. Throws `Deno.errors.AlreadyExists` when the file exists.
   * @default Deno.writeTextFile with createNew and mode
   */
  writeNewFile(path: string, text: string, mode: number): Promise<void>;
  /**
   * The permission bits of a file, or `null` where the platform has none (Windows).
   * @default Deno.stat
   */
  fileMode(path: string): Promise<number | null>;
  /**
   * Starts `login`'s loopback redirect listener (RFC 8252 §7.3) on `hostname` (127.0.0.1 unless
   * the redirect URI names `[::1]`) and `port` (0: any free port), answering each request with
   * `handler`. Throws `Deno.errors.AddrInUse` when the port is taken. @default Deno.serve
   */
  listen(
    port: number,
    handler: (request: Request) => Response,
    hostname?: string,
  ): CliListener;
  /**
   * Opens `url` in the user's browser; resolves `false` when it could not (no display, no
   * opener), and the CLI then only prints the URL. @default open, xdg-open or rundll32
   */
  openBrowser(url: string): Promise<boolean>;
  /** Sends an HTTP request (every request goes through it unless `--ca` is given). @default fetch */
  fetch(url: string, init: RequestInit): Promise<Response>;
  /**
   * The HTTP client for requests that must trust `ca` (the PEM text of `--ca`) besides the
   * system's roots. @default fetch over Deno.createHttpClient({ caCerts: [ca] })
   */
  trustingFetch(ca: string): CliFetch;
  /**
   * Starts the provider used when no `--issuer` is given. @default none: `--issuer` is required
   */
  embedded?: () => Promise<EmbeddedProvider>;
}

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

function listenOnLoopback(
  port: number,
  handler: (request: Request) => Response,
  hostname = "127.0.0.1",
): CliListener {
  const server = Deno.serve({ hostname, port, onListen: () => {} }, handler);
  return { port: server.addr.port, close: () => server.shutdown() };
}

/**
 * Opens a URL with the platform's opener, passing it as one argument (never through a shell, so
 * `&` in the query stays part of it). On Linux without a display there is nothing to open it in
 * (and xdg-open would start a text browser in this terminal), so the URL is only printed.
 */
async function openInBrowser(url: string): Promise<boolean> {
  const os = Deno.build.os;
  if (
    os !== "darwin" && os !== "windows" &&
    !Deno.env.get("DISPLAY") && !Deno.env.get("WAYLAND_DISPLAY")
  ) {
    return false;
  }
  const [command, args] = os === "darwin"
    ? ["open", [url]]
    : os === "windows"
    ? ["rundll32", ["url.dll,FileProtocolHandler", url]]
    : ["xdg-open", [url]];
  try {
    const child = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    return (await child.status).success;
  } catch {
    return false;
  }
}

async function writeNewFile(path: string, text: string, mode: number): Promise<void> {
  await Deno.writeTextFile(path, text, { createNew: true, mode });
}

async function fileMode(path: string): Promise<number | null> {
  const mode = (await Deno.stat(path)).mode;
  return mode === null ? null : mode & 0o777;
}

function fetchTrusting(ca: string): CliFetch {
  const client = Deno.createHttpClient({ caCerts: [ca] });
  return {
    fetch: (url, init) => fetch(url, { ...init, client }),
    close: () => client.close(),
  };
}

/**
 * Completes a partial {@link CliIo} with the process's own streams, environment, files and
 * network.
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
    writeNewFile: io.writeNewFile ?? writeNewFile,
    fileMode: io.fileMode ?? fileMode,
    listen: io.listen ?? listenOnLoopback,
    openBrowser: io.openBrowser ?? openInBrowser,
    fetch: io.fetch ?? ((url, init) => fetch(url, init)),
    trustingFetch: io.trustingFetch ?? fetchTrusting,
    embedded: io.embedded,
  };
}
