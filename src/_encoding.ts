/**
 * Byte and text encodings: base64url (RFC 4648 §5), UTF-8, random values, and the
 * `application/x-www-form-urlencoded` encoding RFC 6749 §2.3.1 requires before HTTP Basic
 * client authentication.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 encodes a string. */
export function toBytes(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** Decodes UTF-8; throws a `TypeError` on malformed input. */
export function toText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** base64url-encodes bytes without padding. */
export function toBase64Url(bytes: Uint8Array | ArrayBuffer): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return view.toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * Decodes base64url without padding; throws a `SyntaxError` on characters outside the alphabet
 * or on padding.
 */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromBase64(text, { alphabet: "base64url", lastChunkHandling: "loose" });
}

/** Decodes standard base64 (with or without padding). */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromBase64(text, { alphabet: "base64", lastChunkHandling: "loose" });
}

/** base64-encodes bytes with padding. */
export function toBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/** base64url-encodes the UTF-8 bytes of a string. */
export function textToBase64Url(text: string): string {
  return toBase64Url(encoder.encode(text));
}

/** Returns 32 random bytes, base64url-encoded (256 bits of entropy). */
export function randomToken(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

const FORM_EXTRA = /[!'()~]/g;

/**
 * Encodes a value as `application/x-www-form-urlencoded` (RFC 6749 §2.3.1, Appendix B): what
 * `encodeURIComponent` leaves alone except `*-._` is percent-encoded, and spaces become `+`.
 */
export function formEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(FORM_EXTRA, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
}
