/**
 * X.509 certificate handling for mutual TLS: the textual encoding of RFC 7468 (PEM), a minimal
 * DER reader (ITU-T X.690 §8.1) for the outer shape of a certificate (RFC 5280 §4.1), and the
 * certificate thumbprint `x5t#S256` that binds access tokens to a client certificate
 * (RFC 8705 §3.1). Web Crypto only.
 *
 * @module
 */

import { argError } from "./errors.ts";

/** One PEM block (RFC 7468 §2): its label, its RFC 1421 headers if any, and its DER bytes. */
export interface PemBlock {
  /** The label between `-----BEGIN ` and `-----`, for example `CERTIFICATE`. */
  label: string;
  /** RFC 1421 headers (`Proc-Type`, `DEK-Info`) of legacy encrypted keys; usually empty. */
  headers: Record<string, string>;
  /** The decoded contents. */
  der: Uint8Array<ArrayBuffer>;
}

// RFC 7468 §3: a label is printable ASCII without "-", words joined by one space or hyphen.
const BEGIN = /^-----BEGIN ([!-,.-~]+(?:[- ][!-,.-~]+)*)-----$/;
const END = /^-----END ([!-,.-~]+(?:[- ][!-,.-~]+)*)-----$/;
const HEADER = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Standard base64 of a DER SEQUENCE: always starts with `M` (0x30). */
const BASE64_DER = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Splits PEM text into its blocks (RFC 7468 §2). Text outside the blocks, such as the
 * `subject=` lines `openssl` writes, is ignored; inside a block every line must be base64 or,
 * before the first base64 line, an RFC 1421 header. An unterminated block, a mismatched `END`
 * label, a nested `BEGIN` or bad base64 throws. Runs in one pass over the lines.
 *
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` when a block is malformed; the message names the
 *   block's label only, never its contents.
 */
export function pemBlocks(pem: string, name = '"pem"'): PemBlock[] {
  const blocks: PemBlock[] = [];
  let label: string | undefined;
  let headers: Record<string, string> = {};
  let body: string[] = [];
  for (const raw of pem.split("\n")) {
    const line = raw.trim();
    if (label === undefined) {
      const begin = BEGIN.exec(line);
      if (begin) {
        label = begin[1]!;
        headers = {};
        body = [];
      } else if (line.startsWith("-----END")) {
        throw unreadablePem(name, `an END line without BEGIN`);
      }
      continue;
    }
    const end = END.exec(line);
    if (end) {
      if (end[1] !== label) throw unreadablePem(name, `a "${label}" block closed as "${end[1]}"`);
      blocks.push({ label, headers, der: decodeBlock(body.join(""), name, label) });
      label = undefined;
      continue;
    }
    if (line.startsWith("-----")) throw unreadablePem(name, `a broken "${label}" block`);
    if (line === "") continue;
    const header = body.length === 0 ? HEADER.exec(line) : null;
    if (header) {
      headers[header[1]!] = header[2]!;
    } else if (BASE64.test(line)) {
      body.push(line);
    } else {
      throw unreadablePem(name, `a "${label}" block with a line that is not base64`);
    }
  }
  if (label !== undefined) throw unreadablePem(name, `an unterminated "${label}" block`);
  return blocks;
}

function decodeBlock(text: string, name: string, label: string): Uint8Array<ArrayBuffer> {
  if (text.length === 0) throw unreadablePem(name, `an empty "${label}" block`);
  const der = decodeBase64(text);
  if (!der) throw unreadablePem(name, `a "${label}" block with invalid base64`);
  return der;
}

/**
 * Decodes standard base64 with `atob` (WHATWG forgiving-base64: padding optional, `=` only at
 * the end), so the module also runs where `Uint8Array.fromBase64` is missing (Node.js < 25).
 */
function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** base64url without padding (RFC 4648 §5), with `btoa` for the same portability. */
function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function unreadablePem(name: string, problem: string): TypeError {
  return argError(`unreadable PEM in ${name}: found ${problem}`, "ERR_INVALID_ARG_VALUE");
}

/** Whether a string looks like PEM (has an encapsulation boundary). */
export function isPem(text: string): boolean {
  return text.includes("-----BEGIN ");
}

/**
 * Returns the DER of every `CERTIFICATE` block, in order (a chain lists the leaf first,
 * RFC 8446 §4.4.2).
 *
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` when the text is not PEM, holds no certificate, or
 *   a certificate is not a DER X.509 structure.
 */
export function pemCertificates(pem: string, name: string): Uint8Array<ArrayBuffer>[] {
  const certificates = pemBlocks(pem, name)
    .filter((block) => block.label === "CERTIFICATE")
    .map((block) => block.der);
  if (certificates.length === 0) {
    throw argError(`${name} holds no PEM "CERTIFICATE" block`, "ERR_INVALID_ARG_VALUE");
  }
  for (const der of certificates) assertCertificateDer(der, name);
  return certificates;
}

/** One DER element: tag byte, where its contents start and where the element ends. */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/**
 * Reads one DER element at `offset` (X.690 §8.1 with the §10.1 definite-length rule). Only
 * single-byte tags, which is all a certificate's outer shape needs.
 */
function readTlv(der: Uint8Array, offset: number, limit: number): Tlv | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = der[offset]!;
  if ((tag & 0x1f) === 0x1f) return undefined;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    // Minimal encoding (X.690 §10.1): 1–4 length bytes, no leading zero, long form only >= 128.
    if (count === 0 || count > 4 || start + count > limit || der[start] === 0) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    if (length < 0x80) return undefined;
    start += count;
  }
  const end = start + length;
  return end > limit ? undefined : { tag, start, end };
}

/**
 * Returns the X.509 version of a DER certificate (1, 2 or 3; RFC 5280 §4.1.2.1), or `undefined`
 * when the bytes are not shaped like `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE,
 * signatureAlgorithm SEQUENCE, signatureValue BIT STRING }` filling the input exactly.
 */
export function certificateVersion(der: Uint8Array): number | undefined {
  const outer = readTlv(der, 0, der.length);
  if (!outer || outer.tag !== 0x30 || outer.end !== der.length) return undefined;
  const tbs = readTlv(der, outer.start, outer.end);
  const algorithm = tbs && tbs.tag === 0x30 ? readTlv(der, tbs.end, outer.end) : undefined;
  const signature = algorithm && algorithm.tag === 0x30
    ? readTlv(der, algorithm.end, outer.end)
    : undefined;
  if (!tbs || !signature || signature.tag !== 0x03 || signature.end !== outer.end) {
    return undefined;
  }
  // version [0] EXPLICIT Version DEFAULT v1 (RFC 5280 §4.1); absent means v1.
  const first = readTlv(der, tbs.start, tbs.end);
  if (!first) return undefined;
  if (first.tag !== 0xa0) return 1;
  const version = readTlv(der, first.start, first.end);
  if (!version || version.tag !== 0x02 || version.end - version.start !== 1) return undefined;
  const value = der[version.start]!;
  return value <= 2 ? value + 1 : undefined;
}

function assertCertificateDer(der: Uint8Array, name: string): void {
  if (certificateVersion(der) === undefined) {
    throw argError(`${name} is not a DER X.509 certificate`, "ERR_INVALID_ARG_VALUE");
  }
}

/** Decodes a bare base64 DER certificate, as in `x5c` or RFC 9440 `Client-Cert: :…:`. */
function decodeBase64Certificate(text: string, name: string): Uint8Array<ArrayBuffer> {
  let value = text.trim();
  // RFC 9440 §2.2: the header is an RFC 8941 Byte Sequence, base64 between colons.
  if (value.length >= 2 && value.startsWith(":") && value.endsWith(":")) {
    value = value.slice(1, -1);
  }
  if (!BASE64_DER.test(value)) {
    throw argError(
      `${name} is neither PEM nor a base64 DER certificate`,
      "ERR_INVALID_ARG_VALUE",
    );
  }
  // RFC 8941 §4.2.7: parsers should not fail when "=" padding is absent; atob does not.
  const der = decodeBase64(value);
  if (!der) throw argError(`${name} has invalid base64`, "ERR_INVALID_ARG_VALUE");
  return der;
}

/**
 * Calculates a certificate's SHA-256 thumbprint, the `x5t#S256` confirmation value that an
 * authorization server puts in the `cnf` claim of a certificate-bound access token.
 *
 * The value is the base64url encoding (no padding) of the SHA-256 digest of the certificate's
 * DER encoding (RFC 8705 §3.1). The input may be PEM (a chain is fine: the first `CERTIFICATE`
 * block, the leaf, is used), DER bytes, or a base64 DER string as found in a JWK `x5c` member or
 * an RFC 9440 `Client-Cert` header, with or without the surrounding colons. The DER must have the
 * shape of an X.509 certificate; its signature and validity are not checked.
 *
 * @param certificate The certificate: PEM text, base64 DER text, or DER bytes.
 * @returns The `x5t#S256` value.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `certificate` is neither a string nor a
 *   `Uint8Array`; `ERR_INVALID_ARG_VALUE` when it is unreadable PEM, not base64, or not a DER
 *   X.509 certificate.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const accessTokenClaims: oauth.JWTPayload;
 * const thumbprint = await oauth.calculateCertificateThumbprint(
 *   await Deno.readTextFile("client.crt"),
 * );
 * if (accessTokenClaims.cnf?.["x5t#S256"] !== thumbprint) {
 *   throw new Error("the access token is bound to another certificate");
 * }
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc8705#section-3.1 | RFC 8705 §3.1}
 */
export async function calculateCertificateThumbprint(
  certificate: string | Uint8Array,
): Promise<string> {
  const name = '"certificate"';
  let der: Uint8Array<ArrayBuffer>;
  if (typeof certificate === "string") {
    if (isPem(certificate)) {
      der = pemCertificates(certificate, name)[0]!;
    } else {
      der = decodeBase64Certificate(certificate, name);
      assertCertificateDer(der, name);
    }
  } else if (certificate instanceof Uint8Array) {
    der = new Uint8Array(certificate);
    assertCertificateDer(der, name);
  } else {
    throw argError(`${name} must be a string or a Uint8Array`);
  }
  return encodeBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", der)));
}
