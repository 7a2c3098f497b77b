/**
 * The `WWW-Authenticate` challenge parser: RFC 9110 §11.6.1 (the header), §11.2 (`challenge`,
 * `auth-param`, `token68`), §5.6.1 (comma-separated lists, empty elements allowed), §5.6.2
 * (`token`) and §5.6.4 (`quoted-string`).
 *
 * The parser is a single forward scan with bounded look-ahead, so its cost is linear in the
 * length of the header whatever the server sends. Anything the grammar does not allow is a
 * `PARSE_ERROR`.
 *
 * @module
 */

import type { WWWAuthenticateChallenge, WWWAuthenticateChallengeParameters } from "./types.ts";
import {
  describeResponse,
  type OperationProcessingError,
  PARSE_ERROR,
  processingError,
  quote,
  WWWAuthenticateChallengeError,
} from "./errors.ts";

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/** RFC 9110 §11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const TOKEN68_CHAR = new Uint8Array(128);
for (const c of "-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN68_CHAR[c.charCodeAt(0)] = 1;
}

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

function isToken68Char(c: number): boolean {
  return c < 128 && TOKEN68_CHAR[c] === 1;
}

/** RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
function isQdtext(c: number): boolean {
  return c === HTAB || c === SP || c === 0x21 || (c >= 0x23 && c <= 0x5b) ||
    (c >= 0x5d && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

/** RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
function isQuotedPairChar(c: number): boolean {
  return c === HTAB || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

/** A cursor over one header value. Every method moves forward only. */
class Scanner {
  readonly #input: string;
  #pos = 0;

  constructor(input: string) {
    this.#input = input;
  }

  get pos(): number {
    return this.#pos;
  }

  set pos(value: number) {
    this.#pos = value;
  }

  atEnd(): boolean {
    return this.#pos >= this.#input.length;
  }

  /** The code unit at the cursor, or -1 at the end. */
  peek(): number {
    return this.#pos < this.#input.length ? this.#input.charCodeAt(this.#pos) : -1;
  }

  fail(message: string): OperationProcessingError {
    return processingError(message, PARSE_ERROR, { header: this.#input, position: this.#pos });
  }

  /** Skips OWS / BWS (RFC 9110 §5.6.3) and returns how many characters were skipped. */
  skipSpaces(): number {
    const start = this.#pos;
    let c = this.peek();
    while (c === SP || c === HTAB) c = this.#advance();
    return this.#pos - start;
  }

  /** Skips list separators and empty list elements (RFC 9110 §5.6.1.2). */
  skipSeparators(): void {
    let c = this.peek();
    while (c === SP || c === HTAB || c === COMMA) c = this.#advance();
  }

  /** Reads a (possibly empty) run of tchar. */
  readToken(): string {
    const start = this.#pos;
    let c = this.peek();
    while (isTchar(c)) c = this.#advance();
    return this.#input.slice(start, this.#pos);
  }

  /**
   * Reads a token68 when the rest of the list element is exactly one (followed by OWS and a
   * comma or the end, which are consumed too). Leaves the cursor untouched otherwise.
   */
  tryToken68(): string | undefined {
    const start = this.#pos;
    let c = this.peek();
    while (isToken68Char(c)) c = this.#advance();
    if (this.#pos === start) return undefined;
    while (c === EQUALS) c = this.#advance();
    const end = this.#pos;
    this.skipSpaces();
    c = this.peek();
    if (c === -1 || c === COMMA) {
      if (c === COMMA) this.#advance();
      return this.#input.slice(start, end);
    }
    this.#pos = start;
    return undefined;
  }

  /** Reads a quoted-string (the cursor is on its opening DQUOTE) and returns its unescaped text. */
  readQuotedString(): string {
    this.#advance();
    const parts: string[] = [];
    let segment = this.#pos;
    for (;;) {
      const c = this.peek();
      if (c === DQUOTE) {
        parts.push(this.#input.slice(segment, this.#pos));
        this.#advance();
        return parts.join("");
      }
      if (c === BACKSLASH) {
        parts.push(this.#input.slice(segment, this.#pos));
        const escaped = this.#advance();
        if (escaped === -1) throw this.fail("unterminated quoted-string in WWW-Authenticate");
        if (!isQuotedPairChar(escaped)) {
          throw this.fail("invalid quoted-pair in WWW-Authenticate");
        }
        segment = this.#pos;
        this.#advance();
        continue;
      }
      if (c === -1) throw this.fail("unterminated quoted-string in WWW-Authenticate");
      if (!isQdtext(c)) throw this.fail("invalid character in WWW-Authenticate quoted-string");
      this.#advance();
    }
  }

  /** Moves one code unit forward and returns the new current code unit (or -1). */
  #advance(): number {
    this.#pos++;
    return this.peek();
  }
}

/**
 * Reads `#auth-param` starting with an already-read parameter `name`. Stops at the end of the
 * header, or at the first list element that is not an auth-param (the next challenge's scheme),
 * leaving the cursor there with the separating comma consumed.
 */
function parseAuthParams(scanner: Scanner, first: string): Map<string, string> {
  const params = new Map<string, string>();
  let name = first;
  for (;;) {
    if (name === "") throw scanner.fail("expected an auth-param name in WWW-Authenticate");
    scanner.skipSpaces();
    if (scanner.peek() !== EQUALS) throw scanner.fail('expected "=" after an auth-param name');
    scanner.pos++;
    scanner.skipSpaces();
    let value: string;
    if (scanner.peek() === DQUOTE) {
      value = scanner.readQuotedString();
    } else {
      value = scanner.readToken();
      if (value === "") throw scanner.fail("expected an auth-param value in WWW-Authenticate");
    }
    // RFC 9110 §11.2: each parameter name MUST only occur once per challenge.
    const key = name.toLowerCase();
    if (params.has(key)) throw scanner.fail(`duplicate "${key}" auth-param in WWW-Authenticate`);
    params.set(key, value);

    scanner.skipSpaces();
    if (scanner.atEnd()) return params;
    if (scanner.peek() !== COMMA) throw scanner.fail("unexpected character in WWW-Authenticate");
    scanner.skipSeparators();
    if (scanner.atEnd()) return params;
    // An element `token BWS "="` continues this challenge; anything else starts the next one.
    const mark = scanner.pos;
    name = scanner.readToken();
    scanner.skipSpaces();
    if (name === "" || scanner.peek() !== EQUALS) {
      scanner.pos = mark;
      return params;
    }
  }
}

/**
 * Reads one challenge (RFC 9110 §11.2). Returns with the cursor at the end of the header or just
 * past the comma that ends the challenge, so consecutive challenges are always comma-separated.
 */
function parseChallenge(scanner: Scanner): WWWAuthenticateChallenge {
  const scheme = scanner.readToken().toLowerCase() as Lowercase<string>;
  if (scheme === "") throw scanner.fail("expected an auth-scheme in WWW-Authenticate");
  const gap = scanner.skipSpaces();
  let c = scanner.peek();
  if (c === COMMA && gap > 0) {
    // challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]: after the space, the
    // #auth-param list may open with empty elements (RFC 9110 §5.6.1), as in
    // `Scheme , realm="x"`. The first non-empty element belongs to this challenge when it is an
    // auth-param (`token BWS "="`); otherwise it starts the next challenge.
    const mark = scanner.pos;
    scanner.skipSeparators();
    const name = scanner.readToken();
    scanner.skipSpaces();
    if (name !== "" && scanner.peek() === EQUALS) {
      return { scheme, parameters: Object.fromEntries(parseAuthParams(scanner, name)) };
    }
    scanner.pos = mark;
    c = COMMA;
  }
  if (c === -1 || c === COMMA) {
    if (c === COMMA) scanner.pos++;
    return { scheme, parameters: {} };
  }
  if (gap === 0) throw scanner.fail("unexpected character after an auth-scheme");
  const token68 = scanner.tryToken68();
  if (token68 !== undefined) return { scheme, parameters: {}, token68 };
  const params = parseAuthParams(scanner, scanner.readToken());
  // fromEntries defines own properties, so a "__proto__" parameter cannot touch the prototype.
  const parameters: WWWAuthenticateChallengeParameters = Object.fromEntries(params);
  return { scheme, parameters };
}

/**
 * Parses a `WWW-Authenticate` header value into its challenges.
 *
 * The value is a comma-separated list of challenges. Each is an auth-scheme, optionally
 * followed by either a token68 or comma-separated `name=value` auth-params whose values are
 * tokens or quoted-strings (with `\` escapes; commas inside quotes are text). Scheme and
 * parameter names are lowercased; values and token68 keep their case. Empty list elements are
 * skipped, so an empty or blank value yields no challenges. The scan is linear in the length of
 * the value.
 *
 * @param header The header value, as `Headers.get("www-authenticate")` returns it.
 * @returns The challenges in header order; empty when the value holds none.
 * @throws {OperationProcessingError} `PARSE_ERROR` when the value does not follow the RFC 9110
 *   grammar (an unterminated quoted-string, a parameter without a name or value, a repeated
 *   parameter name within one challenge, stray characters) or is not a string.
 * @example Usage
 * ```ts
 * import type * as oauth from "@authlane/oauth";
 * import { parseWwwAuthenticateChallenges } from "./www_authenticate.ts";
 * const challenges: oauth.WWWAuthenticateChallenge[] = parseWwwAuthenticateChallenges(
 *   'Bearer error="invalid_token", DPoP algs="ES256 PS256", error="use_dpop_nonce"',
 * );
 * console.log(challenges[1]?.parameters.error); // "use_dpop_nonce"
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1 | RFC 9110 §11.6.1}
 * @internal
 */
export function parseWwwAuthenticateChallenges(header: string): WWWAuthenticateChallenge[] {
  if (typeof header !== "string") {
    throw processingError("WWW-Authenticate header value must be a string", PARSE_ERROR, {
      header,
    });
  }
  const scanner = new Scanner(header);
  const challenges: WWWAuthenticateChallenge[] = [];
  for (;;) {
    scanner.skipSeparators();
    if (scanner.atEnd()) return challenges;
    challenges.push(parseChallenge(scanner));
  }
}

/**
 * Refuses a response that carries `WWW-Authenticate` challenges.
 *
 * When the response has a `WWW-Authenticate` header holding at least one challenge, this throws
 * a {@link WWWAuthenticateChallengeError} whose `cause` is the parsed challenges, with the
 * response's `status` and the (non-enumerable) `response`. The body is left untouched, so the
 * caller can still read it from the error. A response without the header, whose header holds
 * only empty list elements, or whose header the RFC 9110 grammar does not allow (as
 * oauth4webapi does with a header it cannot parse), passes.
 *
 * @param response The response to check.
 * @returns Nothing; it returns only when the response carries no challenge.
 * @throws {WWWAuthenticateChallengeError} `WWW_AUTHENTICATE_CHALLENGE` when challenges are present.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * import { checkAuthenticationChallenges } from "./www_authenticate.ts";
 * declare const response: Response;
 * try {
 *   checkAuthenticationChallenges(response);
 * } catch (err) {
 *   if (err instanceof oauth.WWWAuthenticateChallengeError) console.log(err.status, err.cause);
 * }
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1 | RFC 9110 §11.6.1}
 * @internal
 */
export function checkAuthenticationChallenges(response: Response): void {
  const header = response.headers.get("www-authenticate");
  if (header === null) return;
  let challenges: WWWAuthenticateChallenge[];
  try {
    challenges = parseWwwAuthenticateChallenges(header);
  } catch {
    // A header the RFC 9110 grammar does not allow carries no challenge that can be trusted; as
    // oauth4webapi does with a header it cannot parse, the response is judged without it.
    return;
  }
  if (challenges.length === 0) return;
  throw new WWWAuthenticateChallengeError(
    "server responded with a challenge in the WWW-Authenticate HTTP Header: " +
      `${describeChallenge(challenges[0]!)} (${describeResponse(response)})`,
    { cause: challenges, response },
  );
}

/**
 * The first challenge as a message shows it: the scheme and its `error` code (`Bearer
 * error="invalid_token"`); the description, realm and the rest stay in `cause`.
 */
function describeChallenge(challenge: WWWAuthenticateChallenge): string {
  const error = challenge.parameters.error;
  const scheme = quote(challenge.scheme, 40).slice(1, -1);
  return error === undefined ? scheme : `${scheme} error=${quote(error, 80)}`;
}
