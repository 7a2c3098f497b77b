/**
 * The CLI's HTTP transport wrapper: every request the library sends for the CLI goes through
 * {@link HttpTrace.transport} (as `[customFetch]`), which remembers each exchange (method, URL,
 * status, `Location`) so an error can name the request that failed, and with `--verbose` prints
 * the exchange on stderr, as `curl -v` and oauth2c do, with every secret redacted: the
 * `Authorization`, `DPoP` and cookie headers, client secrets, code verifiers, passwords, tokens,
 * codes, assertions and request objects show at most a four-character prefix and their length.
 *
 * @module
 */

import type { CliIo } from "./_io.ts";

/** One request and, once it came, its response. */
export interface Exchange {
  /** The HTTP method. */
  method: string;
  /** The URL requested. */
  url: string;
  /** The response status, once a response arrived. */
  status?: number;
  /** The status text the server sent. */
  statusText?: string;
  /** The `Location` header of a redirect. */
  location?: string;
  /** The response's media type. */
  contentType?: string;
}

/** A `fetch` the CLI wraps: the default client, the `--ca` one, or the mTLS one. */
export type BaseFetch = (url: string, init: RequestInit) => Promise<Response>;

/** What `[customFetch]` receives from the library. */
export type TracedFetch = (url: string, init: RequestInit) => Promise<Response>;

/** Values shown by length only: they are secrets whose any part is too much. */
const SECRET_NAMES: ReadonlySet<string> = new Set([
  "client_secret",
  "code_verifier",
  "password",
  "registration_access_token",
  "cookie",
  "set-cookie",
  "proxy-authorization",
]);

/** Values shown by a short prefix and their length: tokens, codes, assertions, signed objects. */
const TOKEN_NAMES: ReadonlySet<string> = new Set([
  "access_token",
  "refresh_token",
  "id_token",
  "id_token_hint",
  "code",
  "device_code",
  "subject_token",
  "actor_token",
  "issued_token",
  "assertion",
  "client_assertion",
  "token",
  "request",
  "response",
  "logout_token",
  "login_hint_token",
  "dpop",
]);

const MAX_BODY_CHARS = 4000;
const MAX_BODY_BYTES = 64 * 1024;

/**
 * A value as the trace shows it: secrets by length, tokens by a four-character prefix and length.
 *
 * @param name The parameter, member or header name (any case).
 * @param value The value.
 * @returns The redacted rendering, or `undefined` when the value is not secret.
 */
export function redactValue(name: string, value: string): string | undefined {
  const key = name.toLowerCase();
  if (SECRET_NAMES.has(key)) return `[redacted, ${value.length} chars]`;
  if (TOKEN_NAMES.has(key)) return tokenPrefix(value);
  if (key === "authorization") {
    const space = value.indexOf(" ");
    if (space === -1) return `[redacted, ${value.length} chars]`;
    const scheme = value.slice(0, space);
    const credentials = value.slice(space + 1);
    return /^basic$/i.test(scheme)
      ? `${scheme} [redacted, ${credentials.length} chars]`
      : `${scheme} ${tokenPrefix(credentials)}`;
  }
  return undefined;
}

function tokenPrefix(value: string): string {
  return value.length < 16
    ? `[redacted, ${value.length} chars]`
    : `${value.slice(0, 4)}…(${value.length} chars)`;
}

function redactUrl(url: string): string {
  const parsed = URL.parse(url);
  if (parsed === null || parsed.search === "") return url;
  const params = new URLSearchParams(parsed.search);
  return `${parsed.origin}${parsed.pathname}?${formatForm(params)}`;
}

/** A form body with secret values redacted (the markers themselves are left unencoded). */
function formatForm(params: URLSearchParams): string {
  return [...params].map(([name, value]) =>
    `${encodeURIComponent(name)}=${redactValue(name, value) ?? encodeURIComponent(value)}`
  ).join("&");
}

function redactJson(value: unknown, depth = 0): unknown {
  if (depth > 8) return "…";
  if (Array.isArray(value)) return value.map((item) => redactJson(item, depth + 1));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value)) {
    out[name] = typeof member === "string"
      ? redactValue(name, member) ?? member
      : redactJson(member, depth + 1);
  }
  return out;
}

function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * A body as the trace shows it: forms and JSON with their secrets redacted, JWTs (signed
 * responses) by prefix, other text cut at 4000 characters.
 */
export function formatBody(text: string, contentType: string | null | undefined): string {
  const type = mediaType(contentType);
  let shown: string;
  if (type === "application/x-www-form-urlencoded") {
    shown = formatForm(new URLSearchParams(text));
  } else if (type === "application/json" || type.endsWith("+json")) {
    try {
      shown = JSON.stringify(redactJson(JSON.parse(text)), null, 2);
    } catch {
      shown = text;
    }
  } else if (type === "application/jwt" || type.endsWith("+jwt")) {
    shown = tokenPrefix(text.trim());
  } else {
    shown = text;
  }
  return shown.length > MAX_BODY_CHARS
    ? `${shown.slice(0, MAX_BODY_CHARS)}\n… (${shown.length - MAX_BODY_CHARS} more characters)`
    : shown;
}

function requestBodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) {
    return new TextDecoder().decode(body);
  }
  return "(a body stream)";
}

/** Reads up to 64 KiB of a copy of the response body, leaving the original for the library. */
async function peekBody(response: Response): Promise<string> {
  const copy = response.clone();
  if (copy.body === null) return "";
  const reader = copy.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
      if (total >= MAX_BODY_BYTES) {
        truncated = true;
        break;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const text = new TextDecoder().decode(bytes);
  return truncated ? `${text}…` : text;
}

function prefixed(marker: string, text: string): string {
  return text.split("\n").map((line) => line === "" ? marker : `${marker} ${line}`).join("\n");
}

/** The names of the errors in a cause chain and their messages, for the verbose trace only. */
function errorChain(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const { name, message } = current as { name?: unknown; message?: unknown };
    parts.push(`${String(name ?? "Error")}: ${String(message ?? "")}`);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(" <- ");
}

/** Records, and with `--verbose` prints, every HTTP exchange of one CLI run. */
export class HttpTrace {
  /** Every exchange so far, in order. */
  readonly exchanges: Exchange[] = [];
  /** Whether exchanges are printed. */
  readonly verbose: boolean;
  /** The request timeout, in seconds (for messages). */
  readonly timeoutSeconds: number;
  #io: CliIo;
  #failed = new WeakMap<object, Exchange>();

  /**
   * @param io Where the trace goes (stderr).
   * @param verbose Whether to print exchanges.
   * @param timeoutSeconds The request timeout in force.
   */
  constructor(io: CliIo, verbose: boolean, timeoutSeconds: number) {
    this.#io = io;
    this.verbose = verbose;
    this.timeoutSeconds = timeoutSeconds;
  }

  /** The latest exchange, if any. */
  get last(): Exchange | undefined {
    return this.exchanges.at(-1);
  }

  /**
   * The exchange whose transport rejected with `err` (a network failure or timeout).
   *
   * @param err An error of a cause chain.
   * @returns The exchange, or `undefined` when `err` did not come from the transport.
   */
  failedExchange(err: unknown): Exchange | undefined {
    return typeof err === "object" && err !== null ? this.#failed.get(err) : undefined;
  }

  /**
   * Wraps a `fetch` so that it records (and traces) each exchange.
   *
   * @param base The client that sends the request.
   * @returns A function to pass as `[customFetch]`.
   */
  transport(base: BaseFetch): TracedFetch {
    return async (url, init) => {
      const exchange: Exchange = { method: (init.method ?? "GET").toUpperCase(), url };
      this.exchanges.push(exchange);
      if (this.verbose) this.#printRequest(exchange, init);
      let response: Response;
      try {
        response = await base(url, init);
      } catch (err) {
        if (typeof err === "object" && err !== null) this.#failed.set(err, exchange);
        if (this.verbose) {
          this.#io.stderr(`! ${exchange.method} ${redactUrl(url)} failed: ${errorChain(err)}\n`);
        }
        throw err;
      }
      exchange.status = response.status;
      exchange.statusText = response.statusText;
      exchange.location = response.headers.get("location") ?? undefined;
      exchange.contentType = mediaType(response.headers.get("content-type")) || undefined;
      if (this.verbose) await this.#printResponse(response);
      return response;
    };
  }

  #printRequest(exchange: Exchange, init: RequestInit): void {
    const headers = new Headers(init.headers);
    const lines = [`> ${exchange.method} ${redactUrl(exchange.url)}`];
    for (const [name, value] of headers) {
      lines.push(`> ${name}: ${redactValue(name, value) ?? value}`);
    }
    const body = requestBodyText(init.body);
    if (body !== undefined) {
      lines.push(">", prefixed(">", formatBody(body, headers.get("content-type"))));
    }
    this.#io.stderr(lines.join("\n") + "\n");
  }

  async #printResponse(response: Response): Promise<void> {
    const lines = [`< ${response.status} ${response.statusText}`.trimEnd()];
    for (const [name, value] of response.headers) {
      lines.push(`< ${name}: ${redactValue(name, value) ?? value}`);
    }
    let body: string;
    try {
      body = await peekBody(response);
    } catch (err) {
      body = `(the body did not arrive: ${errorChain(err)})`;
    }
    if (body !== "") {
      lines.push("<", prefixed("<", formatBody(body, response.headers.get("content-type"))));
    }
    this.#io.stderr(lines.join("\n") + "\n\n");
  }
}
