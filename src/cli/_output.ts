/**
 * What the CLI prints: results on stdout (aligned `key: value` text, or one JSON object with
 * `--json`), instructions and progress on stderr, and errors as one readable line (the reason
 * from `_explain.ts` when it has one, else the library's message), the OAuth error fields
 * (`error`, `error_description`, `status`, `code`) and a `hint:` line with the next step, mapped
 * to the exit codes 2 (usage), 3 (protocol: OAuth errors and failed validation) and 1 (anything
 * else).
 *
 * Nothing here prints a client secret, private key or code verifier: errors carry only the
 * library's messages, public fields and the allow-listed reasons, never `cause` itself.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { UsageError } from "./_args.ts";
import { explain, type FailureContext } from "./_explain.ts";
import type { CliIo } from "./_io.ts";

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, other: 1, usage: 2, protocol: 3 } as const;

/** A failure the CLI detected itself that is a protocol outcome (exit code 3). */
export class ProtocolError extends Error {
  /** Public fields to print with the message. */
  fields: Record<string, string | number>;
  /** The next step, if there is one. */
  hint?: string;

  /**
   * Creates the error.
   *
   * @param message What went wrong.
   * @param fields Public fields, e.g. `{ error: "expired_token" }`.
   * @param hint The next step.
   */
  constructor(message: string, fields: Record<string, string | number> = {}, hint?: string) {
    super(message);
    this.name = "ProtocolError";
    this.fields = fields;
    if (hint !== undefined) this.hint = hint;
  }
}

/** A failure of the CLI's own that is neither a usage nor a protocol error (exit code 1). */
export class CliError extends Error {
  /** The next step. */
  hint?: string;

  /**
   * Creates the error.
   *
   * @param message What went wrong.
   * @param hint The next step.
   */
  constructor(message: string, hint?: string) {
    super(message);
    this.name = "CliError";
    if (hint !== undefined) this.hint = hint;
  }
}

/** Writes results and messages for one command run. */
export class Output {
  readonly io: CliIo;
  readonly json: boolean;
  readonly command: string;
  /** What the command knew, for explaining a failure (its HTTP trace, `--dpop-key`). */
  readonly context: FailureContext = {};

  /**
   * @param io Where to write.
   * @param json Whether results are JSON.
   * @param command The command name, for error lines.
   */
  constructor(io: CliIo, json: boolean, command: string) {
    this.io = io;
    this.json = json;
    this.command = command;
  }

  /**
   * Prints a result: `value` as JSON with `--json`, else `text()`.
   *
   * @param value The machine-readable result.
   * @param text The human-readable rendering.
   */
  result(value: unknown, text: () => string): void {
    if (this.json) this.io.stdout(JSON.stringify(value, null, 2) + "\n");
    else this.io.stdout(text());
  }

  /**
   * Prints an instruction or a note on stderr.
   *
   * @param text One or more lines, without the final newline.
   */
  info(text: string): void {
    this.io.stderr(text + "\n");
  }

  /**
   * Prints an error and returns the exit code it maps to.
   *
   * @param err Anything thrown.
   * @returns 1, 2 or 3.
   */
  error(err: unknown): number {
    const { exitCode, message, fields, hint } = describeError(err, this.context);
    if (this.json) {
      this.io.stderr(
        JSON.stringify({
          error: { message, exit_code: exitCode, ...fields, ...(hint ? { hint } : {}) },
        }) + "\n",
      );
    } else {
      const prefix = this.command === "" ? "authlane" : `authlane ${this.command}`;
      let text = `${prefix}: ${message}\n`;
      const line = formatFields(fields);
      if (line !== "") text += `  ${line}\n`;
      if (hint !== undefined) text += `  hint: ${hint}\n`;
      if (exitCode === EXIT.usage) {
        text += `Run 'authlane ${
          this.command === "" ? "" : `${this.command} `
        }--help' for usage.\n`;
      }
      this.io.stderr(text);
    }
    return exitCode;
  }
}

interface DescribedError {
  exitCode: number;
  message: string;
  fields: Record<string, string | number>;
  hint?: string;
}

/**
 * Maps an error to its exit code, message, public fields and next step: the exit code and
 * fields by class, the message and hint from {@link explain} when it knows the failure.
 *
 * @param err Anything thrown.
 * @param context What the command knew.
 * @returns The description.
 */
export function describeError(err: unknown, context: FailureContext = {}): DescribedError {
  const described = describeByClass(err);
  if (
    described.exitCode === EXIT.usage || err instanceof ProtocolError || err instanceof CliError
  ) return described;
  const explained = explain(err, context);
  if (explained === undefined) return described;
  return { ...described, message: explained.reason, hint: explained.hint };
}

function describeByClass(err: unknown): DescribedError {
  if (err instanceof UsageError) {
    return { exitCode: EXIT.usage, message: err.message, fields: {}, hint: err.hint };
  }
  if (err instanceof ProtocolError) {
    return { exitCode: EXIT.protocol, message: err.message, fields: err.fields, hint: err.hint };
  }
  if (err instanceof CliError) {
    return { exitCode: EXIT.other, message: err.message, fields: {}, hint: err.hint };
  }
  if (err instanceof oauth.ResponseBodyError || err instanceof oauth.AuthorizationResponseError) {
    // An OAuth error response (RFC 6749 §5.2) from the token endpoint or the redirect (§4.1.2.1).
    return {
      exitCode: EXIT.protocol,
      message: err.message,
      fields: withoutUndefined({
        error: err.error,
        error_description: err.error_description,
        status: err instanceof oauth.ResponseBodyError ? err.status : undefined,
        code: err.code,
      }),
    };
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    const challenge = err.cause[0];
    return {
      exitCode: EXIT.protocol,
      message: err.message,
      fields: withoutUndefined({
        scheme: challenge?.scheme,
        error: challenge?.parameters.error,
        error_description: challenge?.parameters.error_description,
        status: err.status,
        code: err.code,
      }),
    };
  }
  if (
    err instanceof oauth.OperationProcessingError || err instanceof oauth.UnsupportedOperationError
  ) {
    return {
      exitCode: EXIT.protocol,
      message: err.message,
      fields: withoutUndefined({ code: err.code }),
    };
  }
  if (err instanceof TypeError) {
    const code = (err as TypeError & { code?: unknown }).code;
    if (code === "ERR_INVALID_ARG_TYPE" || code === "ERR_INVALID_ARG_VALUE") {
      // The library refused a value the user gave (a key, a secret, a URL): a usage error.
      return { exitCode: EXIT.usage, message: err.message, fields: { code } };
    }
  }
  if (err instanceof Error) {
    const name = err.name === "Error" || err.name === "TypeError" ? "" : `${err.name}: `;
    return { exitCode: EXIT.other, message: `${name}${err.message}`, fields: {} };
  }
  return { exitCode: EXIT.other, message: String(err), fields: {} };
}

function withoutUndefined(
  fields: Record<string, string | number | undefined>,
): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(fields).filter((entry): entry is [string, string | number] =>
      entry[1] !== undefined
    ),
  );
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([name, value]) =>
      `${name}=${
        typeof value === "number" || /^[\w.:/-]+$/.test(value) ? value : JSON.stringify(value)
      }`
    )
    .join(" ");
}

/**
 * Renders an object as aligned `key: value` lines; arrays are joined with spaces and nested
 * objects shown as compact JSON.
 *
 * @param record The object.
 * @returns Lines ending with a newline (empty for an empty object).
 */
export function formatRecord(record: Record<string, unknown>): string {
  const entries = Object.entries(record).filter(([, value]) => value !== undefined);
  if (entries.length === 0) return "";
  const width = Math.max(...entries.map(([key]) => key.length)) + 1;
  return entries
    .map(([key, value]) => `${`${key}:`.padEnd(width)} ${formatValue(value)}`)
    .join("\n") + "\n";
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    return value.join(" ");
  }
  return JSON.stringify(value);
}

/**
 * A progress indicator on stderr. On a terminal it redraws one line with a spinner; elsewhere it
 * prints a line whenever the status text changes.
 */
export class Progress {
  static readonly #FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  #io: CliIo;
  #text = "";
  #detail: () => string = () => "";
  #frame = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param io Where to draw.
   */
  constructor(io: CliIo) {
    this.#io = io;
  }

  /**
   * Shows a new status.
   *
   * @param text The status, one line; elsewhere than a terminal it is printed when it changes.
   * @param detail A changing detail (a countdown), redrawn only on a terminal.
   */
  update(text: string, detail: () => string = () => ""): void {
    if (!this.#io.isTerminal) {
      if (text !== this.#text) this.#io.stderr(`  ${text}\n`);
      this.#text = text;
      return;
    }
    this.#text = text;
    this.#detail = detail;
    this.#draw();
    this.#timer ??= setInterval(() => this.#draw(), 100);
  }

  /**
   * Removes the indicator.
   *
   * @param final A last line to print in its place.
   */
  stop(final?: string): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#io.isTerminal && this.#text !== "") this.#io.stderr("\r\x1b[2K");
    this.#text = "";
    if (final !== undefined) this.#io.stderr(`${final}\n`);
  }

  #draw(): void {
    const frame = Progress.#FRAMES[this.#frame++ % Progress.#FRAMES.length];
    const detail = this.#detail();
    const suffix = detail === "" ? "" : ` (${detail})`;
    this.#io.stderr(`\r\x1b[2K${frame} ${this.#text}${suffix}`);
  }
}

/**
 * Renders a JWT's timestamps with their date and how far they are from now.
 *
 * @param claims The claims.
 * @param now Seconds since the epoch.
 * @returns `name: value (ISO date, in/ago ...)` lines, or `""` when there are none.
 */
export function formatTimes(claims: Record<string, unknown>, now: number): string {
  const lines: string[] = [];
  for (const name of ["iat", "nbf", "auth_time", "exp"]) {
    const value = claims[name];
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    const date = new Date(value * 1000).toISOString();
    const delta = value - now;
    const relative = delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
    lines.push(`${`${name}:`.padEnd(10)} ${date} (${relative})`);
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
