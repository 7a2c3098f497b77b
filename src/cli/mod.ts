/**
 * `authlane`: an OAuth 2.0 / OpenID Connect command line client in the spirit of `oauth2c`,
 * built only on the public API of `@authlane/oauth`.
 *
 * Commands: `discover`, `login` (authorization code + PKCE with a loopback redirect listener),
 * `device` (device authorization grant with a live progress indicator), `client-credentials`,
 * `refresh`, `token-exchange`, `introspect`, `revoke`, `userinfo` and `decode` (prints a JWT;
 * with `--issuer`, checks its signature against the issuer's keys, `iss` and `exp`). Client
 * authentication: `--auth` with the RFC 8414 method names (`client_secret_basic`,
 * `client_secret_post`, `client_secret_jwt`, `private_key_jwt`, `tls_client_auth`, `none`), with
 * secrets read from the environment or files (`--client-secret-env`, `--client-secret-file`),
 * `--private-key` (PEM PKCS#8 or JWK), `--cert`/`--key`/`--ca` for RFC 8705 mutual TLS,
 * `--dpop-key FILE` for RFC 9449 (the key is kept, so later commands can use the token), `--par`
 * for RFC 9126. `--allow-http` for http: servers on loopback, `--timeout SECONDS` per request,
 * `--verbose` (`-v`) traces every HTTP exchange with secrets redacted, endpoint flags
 * (`--token-endpoint`, …) describe servers without discovery. `--json` prints one JSON object;
 * `--help` works everywhere, `--version` prints the version.
 *
 * A failure prints one line saying what went wrong (the DNS name that did not resolve, the port
 * that refused, the TLS failure, the HTTP status and URL, the issuer expected and found) and a
 * `hint:` line with the next step, never a token, secret or key.
 *
 * Exit codes: `0` success, `2` usage error, `3` protocol error (an OAuth error response or a
 * failed validation; the output names `error`, `error_description` and `code`), `1` anything
 * else. Results go to stdout; instructions, progress and errors to stderr.
 *
 * Every command needs `--issuer` (or endpoint flags). In the repository, `deno task cli` runs this
 * CLI with an embedded oidc-provider on 127.0.0.1 passed in through `io.embedded` (tools/cli.ts),
 * so `deno task cli login` and `deno task cli device` without `--issuer` complete on their own,
 * and `deno task provider` keeps one running to try every command against.
 *
 * @example Install it as the `authlane` command
 * ```sh
 * deno install -g -A -n authlane jsr:@authlane/oauth/cli
 * authlane --version
 * ```
 *
 * @example Sign in against your provider
 * ```sh
 * deno run -A jsr:@authlane/oauth/cli login --issuer https://id.example.com --client-id my-cli
 * ```
 *
 * @example A client credentials token as JSON, with the secret from the environment
 * ```sh
 * export CLIENT_SECRET=...
 * deno run -A jsr:@authlane/oauth/cli client-credentials --issuer https://id.example.com \
 *   --client-id service --client-secret-env CLIENT_SECRET --scope api:read --json
 * ```
 *
 * @example Run it from a program, capturing output
 * ```ts
 * import { main } from "@authlane/oauth/cli";
 * let output = "";
 * const code = await main(["decode", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0."], {
 *   stdout: (text) => (output += text),
 * });
 * ```
 *
 * @module
 */

import { commandHelp, COMMANDS, Flags, mainHelp, parseArgs, UsageError } from "./_args.ts";
import { COMMAND_RUNNERS } from "./_commands.ts";
import {
  type CliFetch,
  type CliIo,
  type CliListener,
  type EmbeddedProvider,
  resolveIo,
} from "./_io.ts";
import { EXIT, Output } from "./_output.ts";
import { VERSION } from "./_version.ts";

export type { CliFetch, CliIo, CliListener, EmbeddedProvider };

/**
 * Runs the CLI with `args` (the arguments after the program name) and returns its exit code.
 *
 * Parses the command and its flags, prints help for `--help`, runs the command, and maps any
 * failure to one error line plus its OAuth fields on stderr. It never throws and never calls
 * `Deno.exit`, so it can be run in-process with captured I/O.
 *
 * @param args The command line, e.g. `["login", "--issuer", "https://id.example.com"]`.
 * @param io Replacements for the process's streams, environment, files, timer, loopback
 *   listener and `--ca` HTTP client, and an embedded provider for `login` and `device` without
 *   `--issuer`; anything left out uses the real one (and no embedded provider).
 * @returns `0` on success, `2` for a usage error, `3` for a protocol error, `1` otherwise.
 * @example Usage
 * ```ts
 * import { main } from "@authlane/oauth/cli";
 * const code = await main(["discover", "--issuer", "https://id.example.com", "--json"]);
 * ```
 */
export async function main(args: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const resolved = resolveIo(io);
  const [name, ...rest] = args;
  if (name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
    resolved.stdout(mainHelp());
    return EXIT.ok;
  }
  if (name === "--version" || name === "version") {
    resolved.stdout(`authlane ${VERSION} (@authlane/oauth, Deno ${Deno.version.deno})\n`);
    return EXIT.ok;
  }
  if (name === undefined) {
    resolved.stderr(mainHelp());
    return EXIT.usage;
  }
  if (name === "help") return await main([rest[0]!, "--help"], io);
  const command = COMMANDS.find((c) => c.name === name);
  const out = new Output(resolved, rest.includes("--json"), command === undefined ? "" : name);
  if (command === undefined) {
    return out.error(new UsageError(`unknown command ${JSON.stringify(name)}`));
  }
  try {
    const flags = new Flags(parseArgs(rest, command.flags));
    if (flags.boolean("help")) {
      resolved.stdout(commandHelp(command));
      return EXIT.ok;
    }
    await COMMAND_RUNNERS[command.name]!(flags, resolved, out);
    return EXIT.ok;
  } catch (err) {
    return out.error(err);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
