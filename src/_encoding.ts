/**
 * Byte and text encodings: base64url (RFC 4648 §5), UTF-8, random values, and the
 * `application/x-www-form-urlencoded` encoding RFC 6749 §2.3.1 requires before HTTP Basic
 * client authentication.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
// A replacing decoder takes the runtime's fast path (a fatal one does not, in Deno): valid input
// decodes the same with both, and invalid input always leaves a U+FFFD, which sends the bytes
// through the fatal decoder to throw.
const replacingDecoder = new TextDecoder();

/** UTF-8 encodes a string. */
export function toBytes(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** Decodes UTF-8; throws a `TypeError` on malformed input. */
export function toText(bytes: Uint8Array): string {
  const text = replacingDecoder.decode(bytes);
  return text.includes("\uFFFD") ? decoder.decode(bytes) : text;
}

type Base64Alphabet = "base64" | "base64url";
interface NativeBase64 {
  toBase64?(options?: { alphabet?: Base64Alphabet; omitPadding?: boolean }): string;
}
interface NativeBase64Constructor {
  fromBase64?(
    text: string,
    options?: { alphabet?: Base64Alphabet; lastChunkHandling?: "loose" | "strict" },
  ): Uint8Array<ArrayBuffer>;
}

// Deno and current browsers have the TC39 base64 methods; Node.js 20/22 and older runtimes do not,
// so the portable path uses btoa/atob. The choice is made once, at module load.
const nativeTo = typeof (Uint8Array.prototype as NativeBase64).toBase64 === "function";
const nativeFrom = typeof (Uint8Array as NativeBase64Constructor).fromBase64 === "function";

function encode(bytes: Uint8Array, alphabet: Base64Alphabet, omitPadding: boolean): string {
  if (nativeTo) return (bytes as NativeBase64).toBase64!({ alphabet, omitPadding });
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  let text = btoa(binary);
  if (alphabet === "base64url") text = text.replaceAll("+", "-").replaceAll("/", "_");
  return omitPadding ? text.replace(/=+$/, "") : text;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decode(text: string, alphabet: Base64Alphabet): Uint8Array<ArrayBuffer> {
  if (nativeFrom) {
    return (Uint8Array as NativeBase64Constructor).fromBase64!(text, {
      alphabet,
      lastChunkHandling: "loose",
    });
  }
  if (!(alphabet === "base64url" ? BASE64URL : BASE64).test(text) || text.length % 4 === 1) {
    throw new SyntaxError("invalid base64 input");
  }
  const binary = atob(
    alphabet === "base64url" ? text.replaceAll("-", "+").replaceAll("_", "/") : text,
  );
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** base64url-encodes bytes without padding. */
export function toBase64Url(bytes: Uint8Array | ArrayBuffer): string {
  return encode(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), "base64url", true);
}

/**
 * Decodes base64url; throws a `SyntaxError` on characters outside the alphabet. Trailing `=`
 * padding is tolerated here (JWK members from lenient servers carry it); JWS parsing refuses it
 * before decoding (`decodeJws`, RFC 7515 §2).
 */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  return decode(text, "base64url");
}

const NON_ASCII = /[\x80-\xff]/;

/**
 * Decodes base64url to UTF-8 text, accepting exactly what {@link fromBase64Url} accepts: the JWS
 * header and payload path. `atob` yields a binary string, which for ASCII (nearly every JOSE
 * header and payload) already is the text; anything else goes through {@link toText}.
 */
export function base64UrlToText(text: string): string {
  if (
    text.includes("+") || text.includes("/") ||
    (!nativeFrom && (!BASE64URL.test(text) || text.length % 4 === 1))
  ) {
    throw new SyntaxError("invalid base64url input");
  }
  let binary: string;
  try {
    binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch (cause) {
    throw new SyntaxError("invalid base64url input", { cause });
  }
  if (!NON_ASCII.test(binary)) return binary;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return toText(bytes);
}

/** Decodes standard base64 (with or without padding). */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return decode(text, "base64");
}

/** base64-encodes bytes with padding. */
export function toBase64(bytes: Uint8Array): string {
  return encode(bytes, "base64", false);
}

/** base64url-encodes the UTF-8 bytes of a string. */
export function textToBase64Url(text: string): string {
  return toBase64Url(encoder.encode(text));
}

/** Returns 32 random bytes, base64url-encoded (256 bits of entropy). */
export function randomToken(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

const FORM_EXTRA = /[-_.!~*'()]/g;

/**
 * Encodes a value as `application/x-www-form-urlencoded` the way RFC 6749 §2.3.1 and Appendix B
 * name it (HTML 4.01 §17.13.4.1): every character but ASCII letters and digits is
 * percent-encoded from its UTF-8 bytes, and spaces become `+`. That is also what oauth4webapi
 * sends, byte for byte.
 */
export function formEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(FORM_EXTRA, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
}
