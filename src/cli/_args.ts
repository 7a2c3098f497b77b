/**
 * The command line grammar of the authlane CLI: a small hand-written parser (no `node:` or `jsr:`
 * import, so the shipped CLI stays Web/Deno-only), the flag tables of every command and the help
 * text generated from them.
 *
 * Grammar: `--name value`, `--name=value`, boolean `--name`, `-h` for `--help`, `-v` for
 * `--verbose`, `--` ends the flags, a lone `-` is a positional argument (read from stdin), and so is
 * any other word that starts with one `-` but is not a one-letter flag (a token may start with
 * `-`). Unknown flags, missing values and a non-repeatable flag given twice are usage errors (exit
 * code 2).
 *
 * @module
 */

/** A caller mistake on the command line; the CLI exits with code 2. */
export class UsageError extends Error {
  /** The flag to use instead, when the message does not say it. */
  hint?: string;

  /**
   * Creates the error.
   *
   * @param message What is wrong, without any secret value.
   * @param hint The next step.
   */
  constructor(message: string, hint?: string) {
    super(message);
    this.name = "UsageError";
    if (hint !== undefined) this.hint = hint;
  }
}

/**
 * An argument as a usage message may quote it: short ones whole, long ones (tokens, secrets
 * pasted in the wrong place) by their first characters only.
 *
 * @param arg The argument.
 * @returns A JSON-quoted string.
 */
export function quoteArgument(arg: string): string {
  return JSON.stringify(arg.length <= 16 ? arg : `${arg.slice(0, 4)}…`);
}

/** How a flag takes its value: a switch, a single value, or a repeatable value. */
export type FlagKind = "boolean" | "string" | "list";

/** One flag of a command. */
export interface FlagSpec {
  /** The long name, without `--`. */
  name: string;
  /** Switch, single value or repeatable value. */
  kind: FlagKind;
  /** The placeholder shown in help, e.g. `URL`. */
  value?: string;
  /** One line of help. */
  help: string;
}

/** The parsed command line of one command. */
export interface ParsedArgs {
  /** Flag values by long name: `true`, a string, or the list of a repeatable flag. */
  flags: Map<string, boolean | string | string[]>;
  /** Arguments that are not flags, in order. */
  positionals: string[];
}

/** The one-letter flags, as curl spells them. */
const SHORT_FLAGS: Record<string, string> = { "-h": "help", "-v": "verbose" };

/**
 * Parses `args` against `specs`.
 *
 * @param args The arguments after the command name.
 * @param specs The command's flags.
 * @returns The flags and positional arguments.
 * @throws {UsageError} For an unknown flag, a missing value, or a single-value flag given twice.
 */
export function parseArgs(args: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const flags = new Map<string, boolean | string | string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    const short = SHORT_FLAGS[arg];
    if (short !== undefined && byName.has(short)) {
      flags.set(short, true);
      continue;
    }
    if (!arg.startsWith("--")) {
      // `-x` is a short flag, and only -h and -v exist. A longer word that starts with one "-" is a
      // value: base64url tokens can start with "-", and a refused one would be echoed on stderr.
      if (/^-[^-]$/.test(arg)) throw new UsageError(`unknown flag ${JSON.stringify(arg)}`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = byName.get(name);
    if (spec === undefined) throw new UsageError(`unknown flag --${name}`);
    if (spec.kind === "boolean") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new UsageError(`--${name} needs a value (${spec.value ?? "VALUE"})`);
      }
      value = next;
      i++;
    }
    if (spec.kind === "list") {
      const list = flags.get(name);
      if (Array.isArray(list)) list.push(value);
      else flags.set(name, [value]);
    } else {
      if (flags.has(name)) throw new UsageError(`--${name} was given more than once`);
      flags.set(name, value);
    }
  }
  return { flags, positionals };
}

/** Typed access to parsed flags. */
export class Flags {
  #parsed: ParsedArgs;

  /**
   * Wraps a parse result.
   *
   * @param parsed The result of {@link parseArgs}.
   */
  constructor(parsed: ParsedArgs) {
    this.#parsed = parsed;
  }

  /** The positional arguments. */
  get positionals(): string[] {
    return this.#parsed.positionals;
  }

  /**
   * A single-value flag.
   *
   * @param name The long name.
   * @returns Its value, or `undefined` when absent.
   */
  string(name: string): string | undefined {
    const value = this.#parsed.flags.get(name);
    return typeof value === "string" ? value : undefined;
  }

  /**
   * A switch.
   *
   * @param name The long name.
   * @returns Whether it was given.
   */
  boolean(name: string): boolean {
    return this.#parsed.flags.get(name) === true;
  }

  /**
   * A repeatable flag.
   *
   * @param name The long name.
   * @returns Its values, in order (empty when absent).
   */
  list(name: string): string[] {
    const value = this.#parsed.flags.get(name);
    return Array.isArray(value) ? value : [];
  }

  /**
   * Whether a flag was given at all.
   *
   * @param name The long name.
   * @returns `true` when present.
   */
  has(name: string): boolean {
    return this.#parsed.flags.has(name);
  }
}

// ---------------------------------------------------------------------------------------------
// Flag tables

const HELP: FlagSpec = { name: "help", kind: "boolean", help: "Show this help (-h)" };
const JSON_OUTPUT: FlagSpec = {
  name: "json",
  kind: "boolean",
  help: "Machine-readable output: one JSON object on stdout",
};
const ISSUER: FlagSpec = {
  name: "issuer",
  kind: "string",
  value: "URL",
  help: "Issuer identifier; its metadata is discovered and validated",
};
const ALLOW_HTTP: FlagSpec = {
  name: "allow-http",
  kind: "boolean",
  help: "Allow http: URLs (for servers on loopback); https: is required otherwise",
};
const INSECURE: FlagSpec = {
  name: "insecure",
  kind: "boolean",
  help: "Refused: Deno cannot skip TLS verification (curl -k); use --ca or --allow-http",
};
const CA: FlagSpec = {
  name: "ca",
  kind: "string",
  value: "PATH",
  help: "PEM CA certificate(s) trusted for the server's TLS certificate",
};
const TIMEOUT: FlagSpec = {
  name: "timeout",
  kind: "string",
  value: "SECONDS",
  help: "Give up on an HTTP request after this long (default: 30)",
};
const VERBOSE: FlagSpec = {
  name: "verbose",
  kind: "boolean",
  help: "Trace every HTTP exchange on stderr, secrets redacted (-v)",
};

const SERVER: readonly FlagSpec[] = [
  ISSUER,
  ALLOW_HTTP,
  CA,
  TIMEOUT,
  VERBOSE,
  JSON_OUTPUT,
  HELP,
  INSECURE,
];

/**
 * Metadata members that a flag of the same name (dashes for underscores) sets, for servers
 * without discovery (GitHub-style OAuth apps). Any of them turns discovery off, as in oauth2c.
 */
export const ENDPOINT_FLAGS: readonly { flag: string; member: string }[] = [
  "authorization_endpoint",
  "token_endpoint",
  "device_authorization_endpoint",
  "pushed_authorization_request_endpoint",
  "userinfo_endpoint",
  "introspection_endpoint",
  "revocation_endpoint",
  "jwks_uri",
].map((member) => ({ flag: member.replaceAll("_", "-"), member }));

const ENDPOINTS: readonly FlagSpec[] = ENDPOINT_FLAGS.map(({ flag, member }) => ({
  name: flag,
  kind: "string",
  value: "URL",
  help: `The server's ${member}, for a server without discovery (--issuer is then optional)`,
}));

const JWKS_URI: FlagSpec = ENDPOINTS.find((flag) => flag.name === "jwks-uri")!;

/** `--auth` values: RFC 8414 / RFC 7591 method names, and the CLI's short names. */
export const AUTH_METHOD_NAMES: Readonly<Record<string, AuthMethod>> = {
  client_secret_basic: "basic",
  client_secret_post: "post",
  client_secret_jwt: "jwt",
  private_key_jwt: "private-key-jwt",
  tls_client_auth: "tls",
  self_signed_tls_client_auth: "tls",
  none: "none",
  basic: "basic",
  post: "post",
  jwt: "jwt",
  "private-key-jwt": "private-key-jwt",
  tls: "tls",
};

/** The client authentication methods the CLI implements. */
export type AuthMethod = "basic" | "post" | "jwt" | "private-key-jwt" | "none" | "tls";

const DPOP_KEY: FlagSpec = {
  name: "dpop-key",
  kind: "string",
  value: "FILE",
  help: "DPoP key (RFC 9449) as a private JWK file: created (mode 0600) if missing, else reused",
};

const CLIENT: readonly FlagSpec[] = [
  { name: "client-id", kind: "string", value: "ID", help: "Client identifier" },
  {
    name: "client-secret",
    kind: "string",
    value: "SECRET",
    help: "Client secret (visible in the process list: prefer the next two)",
  },
  {
    name: "client-secret-env",
    kind: "string",
    value: "NAME",
    help: "Read the client secret from this environment variable (default: AUTHLANE_CLIENT_SECRET)",
  },
  {
    name: "client-secret-file",
    kind: "string",
    value: "PATH",
    help: "Read the client secret from this file",
  },
  {
    name: "auth",
    kind: "string",
    value: "METHOD",
    help: "Client authentication: client_secret_basic, client_secret_post, client_secret_jwt, " +
      "private_key_jwt, tls_client_auth, none (or basic, post, jwt, private-key-jwt, tls)",
  },
  {
    name: "private-key",
    kind: "string",
    value: "PATH",
    help: "Private key for private_key_jwt: PEM PKCS#8 or a private JWK (JSON)",
  },
  {
    name: "alg",
    kind: "string",
    value: "ALG",
    help: "JWS algorithm of --private-key (default: the JWK's alg, else guessed)",
  },
  { name: "kid", kind: "string", value: "KID", help: "Key ID of --private-key" },
  {
    name: "cert",
    kind: "string",
    value: "PATH",
    help: "PEM client certificate for mutual TLS (RFC 8705); uses the mTLS endpoint aliases",
  },
  { name: "key", kind: "string", value: "PATH", help: "PEM private key of --cert" },
  DPOP_KEY,
  {
    name: "dpop",
    kind: "boolean",
    help: "Bind tokens to a throw-away ES256 DPoP key (see --dpop-key to keep it)",
  },
];

const REQUEST: readonly FlagSpec[] = [
  {
    name: "scope",
    kind: "list",
    value: "SCOPE",
    help: 'Scope to request (repeatable; space-separated: --scope "a b")',
  },
  {
    name: "resource",
    kind: "list",
    value: "URI",
    help: "Resource indicator, RFC 8707 (repeatable)",
  },
  {
    name: "param",
    kind: "list",
    value: "NAME=VALUE",
    help: "Extra request parameter (repeatable); refused for parameters the command sets itself",
  },
];

const TOKEN_INPUT: readonly FlagSpec[] = [
  {
    name: "token-env",
    kind: "string",
    value: "NAME",
    help: "Read the token from this environment variable",
  },
  { name: "token-file", kind: "string", value: "PATH", help: "Read the token from this file" },
];

const TOKEN_TYPE_HINT: FlagSpec = {
  name: "token-type-hint",
  kind: "string",
  value: "HINT",
  help: "access_token or refresh_token",
};

/** One command: its name, what it does, its positional arguments and its flags. */
export interface CommandSpec {
  /** The command name. */
  name: string;
  /** One line saying what it does. */
  summary: string;
  /** Positional arguments, as shown in help. */
  usage: string;
  /** More help, shown under the usage line. */
  details?: string;
  /** Its flags. */
  flags: readonly FlagSpec[];
}

const TOKEN_ARGUMENT_HELP =
  'TOKEN may be "-" to read it from stdin; --token-env/--token-file keep it out of argv.';

/** Every command, in help order. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "discover",
    summary: "Fetch and validate the server's metadata (OIDC Discovery, RFC 8414)",
    usage: "--issuer URL",
    flags: SERVER,
  },
  {
    name: "login",
    summary: "Authorization code flow with PKCE and a loopback redirect (RFC 8252)",
    usage: "[--issuer URL --client-id ID]",
    details:
      "Listens on the loopback address of --redirect-uri (default http://127.0.0.1:PORT/callback,\n" +
      "any free port), opens the authorization URL in the browser (--no-browser prints it only),\n" +
      "waits for the redirect, then redeems the code and validates the ID token.\n" +
      "In the repository (deno task cli), without --issuer, runs against an embedded test\n" +
      "provider and signs in automatically.",
    flags: [
      ...SERVER,
      ...CLIENT,
      ...REQUEST,
      {
        name: "redirect-uri",
        kind: "string",
        value: "URI",
        help: "The registered redirect URI: http://127.0.0.1, http://[::1] or http://localhost " +
          "with a port and path; the listener takes its address",
      },
      {
        name: "port",
        kind: "string",
        value: "PORT",
        help: "Port of the listener when --redirect-uri names none (default: any free port)",
      },
      { name: "no-browser", kind: "boolean", help: "Print the authorization URL; do not open it" },
      {
        name: "browser-timeout",
        kind: "string",
        value: "SECONDS",
        help: "How long to wait for the redirect (default: 300)",
      },
      {
        name: "par",
        kind: "boolean",
        help: "Push the authorization request first (RFC 9126)",
      },
      ...ENDPOINTS,
    ],
  },
  {
    name: "device",
    summary: "Device authorization grant (RFC 8628)",
    usage: "[--issuer URL --client-id ID]",
    details: "Shows the user code, then polls the token endpoint, honouring interval and\n" +
      "slow_down. In the repository (deno task cli), without --issuer, runs against an embedded\n" +
      "test provider, which approves the code automatically.",
    flags: [...SERVER, ...CLIENT, ...REQUEST, ...ENDPOINTS],
  },
  {
    name: "client-credentials",
    summary: "Client credentials grant (RFC 6749 §4.4)",
    usage: "--issuer URL --client-id ID",
    flags: [...SERVER, ...CLIENT, ...REQUEST, ...ENDPOINTS],
  },
  {
    name: "refresh",
    summary: "Refresh token grant (RFC 6749 §6)",
    usage: "--issuer URL --client-id ID REFRESH_TOKEN",
    details: TOKEN_ARGUMENT_HELP,
    flags: [...SERVER, ...CLIENT, ...REQUEST, ...TOKEN_INPUT, ...ENDPOINTS],
  },
  {
    name: "token-exchange",
    summary: "Token exchange (RFC 8693)",
    usage: "--issuer URL --client-id ID SUBJECT_TOKEN",
    details: TOKEN_ARGUMENT_HELP +
      "\nToken types may be given in full or as access_token, refresh_token, id_token, jwt.",
    flags: [
      ...SERVER,
      ...CLIENT,
      ...REQUEST,
      ...TOKEN_INPUT,
      {
        name: "subject-token-type",
        kind: "string",
        value: "TYPE",
        help: "Type of the subject token (default: access_token)",
      },
      {
        name: "actor-token-file",
        kind: "string",
        value: "PATH",
        help: "Read an actor token from this file",
      },
      {
        name: "actor-token-type",
        kind: "string",
        value: "TYPE",
        help: "Type of the actor token (default: access_token)",
      },
      {
        name: "requested-token-type",
        kind: "string",
        value: "TYPE",
        help: "Type of token to issue",
      },
      {
        name: "audience",
        kind: "list",
        value: "AUD",
        help: "Logical name of the target service (repeatable)",
      },
      ...ENDPOINTS,
    ],
  },
  {
    name: "introspect",
    summary: "Token introspection (RFC 7662)",
    usage: "--issuer URL --client-id ID TOKEN",
    details: TOKEN_ARGUMENT_HELP,
    flags: [...SERVER, ...CLIENT, ...TOKEN_INPUT, TOKEN_TYPE_HINT, ...ENDPOINTS],
  },
  {
    name: "revoke",
    summary: "Token revocation (RFC 7009)",
    usage: "--issuer URL --client-id ID TOKEN",
    details: TOKEN_ARGUMENT_HELP,
    flags: [...SERVER, ...CLIENT, ...TOKEN_INPUT, TOKEN_TYPE_HINT, ...ENDPOINTS],
  },
  {
    name: "userinfo",
    summary: "Call the UserInfo endpoint (OpenID Connect Core §5.3)",
    usage: "--issuer URL ACCESS_TOKEN",
    details: TOKEN_ARGUMENT_HELP +
      "\nA DPoP-bound token needs the --dpop-key it was issued for.",
    flags: [
      ...SERVER,
      { name: "client-id", kind: "string", value: "ID", help: "Client identifier" },
      {
        name: "sub",
        kind: "string",
        value: "SUB",
        help: "Expected subject; the response must match it",
      },
      { name: "cert", kind: "string", value: "PATH", help: "PEM client certificate (mTLS)" },
      { name: "key", kind: "string", value: "PATH", help: "PEM private key of --cert" },
      DPOP_KEY,
      ...TOKEN_INPUT,
      ...ENDPOINTS,
    ],
  },
  {
    name: "decode",
    summary: "Print a JWT's header and claims; with --issuer, validate it",
    usage: "JWT [--issuer URL]",
    details: TOKEN_ARGUMENT_HELP +
      '\nA leading "Bearer " or "DPoP " is dropped. Without --issuer nothing is verified, but an\n' +
      'expired or not-yet-valid token and alg "none" are marked. With --issuer the signature is\n' +
      "checked against the issuer's JWKS, and iss and exp too.",
    flags: [
      ...SERVER,
      {
        name: "audience",
        kind: "string",
        value: "AUD",
        help: "With --issuer, also require this audience",
      },
      ...TOKEN_INPUT,
      JWKS_URI,
    ],
  },
];

/**
 * The help text of one command.
 *
 * @param command The command.
 * @returns Help text ending with a newline.
 */
export function commandHelp(command: CommandSpec): string {
  const lines = [
    `authlane ${command.name}: ${command.summary}`,
    "",
    `Usage: authlane ${command.name} ${command.usage} [flags]`,
  ];
  if (command.details !== undefined) lines.push("", command.details);
  lines.push("", "Flags:");
  const labels = command.flags.map((flag) =>
    `--${flag.name}${flag.kind === "boolean" ? "" : ` ${flag.value ?? "VALUE"}`}`
  );
  // Long labels (the endpoint flags) take their own line rather than widening every row.
  const width = Math.min(MAX_LABEL, Math.max(...labels.map((label) => label.length)));
  command.flags.forEach((flag, i) => {
    const label = labels[i]!;
    if (label.length > width) lines.push(`  ${label}`, `  ${"".padEnd(width)}  ${flag.help}`);
    else lines.push(`  ${label.padEnd(width)}  ${flag.help}`);
  });
  lines.push("", EXIT_CODES_HELP);
  return lines.join("\n") + "\n";
}

/** The widest flag label that shares its line with the help text. */
const MAX_LABEL = 26;

const EXIT_CODES_HELP =
  "Exit codes: 0 ok, 1 other failure, 2 usage error, 3 protocol error (OAuth or validation).";

/**
 * The top-level help text.
 *
 * @returns Help text ending with a newline.
 */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "authlane: an OAuth 2.0 / OpenID Connect command line client, built on @authlane/oauth",
    "",
    "Usage: authlane <command> [flags]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Every command needs --issuer (or, for servers without discovery, endpoint flags such as",
    "--token-endpoint). In the repository, `deno task cli login` (or device) without --issuer",
    "runs against an embedded test provider, and `deno task provider` keeps one running.",
    "Secrets: use --client-secret-env/--client-secret-file and --token-env/--token-file.",
    "http: needs --allow-http; a private CA needs --ca; -v traces every HTTP exchange.",
    EXIT_CODES_HELP,
    "Run 'authlane <command> --help' for a command's flags, 'authlane --version' for the version.",
  ].join("\n") + "\n";
}
