/**
 * `authlane decode`: prints a compact JWS's header and claims (RFC 7515 §7.1), marks an expired or
 * not-yet-valid token and an unsigned one (`alg: "none"`), and with `--issuer`
 * validates it the way a relying party would for a token of unknown kind, with the library's
 * `validateJwt`: the signature against the issuer's `jwks_uri` key set, `iss` equal to the
 * discovered issuer, `exp` present and not past, `nbf` not in the future (RFC 7519 §4.1, 30
 * seconds of tolerance), and `aud` with `--audience`.
 *
 * Failures are the library's own error classes and codes (`INVALID_RESPONSE` for a bad
 * signature, `KEY_SELECTION`, `JWT_CLAIM_COMPARISON`, `JWT_TIMESTAMP_CHECK`), so they print and
 * exit (code 3) like every other protocol failure.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { type Flags, UsageError } from "./_args.ts";
import { openSession } from "./_context.ts";
import type { CliIo } from "./_io.ts";
import { formatTimes, type Output } from "./_output.ts";
import { readToken } from "./_shared.ts";

/** A compact JWS's header and claims, decoded for display only. */
interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** What validation established. */
interface JwtValidation {
  /** The algorithm verified. */
  alg: string;
  /** The `kid` of the key used, if it has one. */
  kid?: string;
  /** Where the key came from. */
  jwks_uri: string;
  /** The issuer matched. */
  issuer: string;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Decodes one base64url JSON object segment, or returns undefined. */
function decodeSegment(segment: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  try {
    const base64 = segment.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decodes a compact JWS for display, without verifying anything (validation is the library's).
 *
 * @throws {UsageError} When it is not a compact JWS with JSON object header and claims.
 */
function decodeJwt(token: string): DecodedJwt {
  const parts = token.split(".");
  if (parts.length === 5) {
    throw new UsageError("the token is encrypted (a JWE); decode reads signed JWTs only");
  }
  if (parts.length !== 3) {
    throw new UsageError("the token is not a JWT (three dot-separated parts)");
  }
  const header = decodeSegment(parts[0]!);
  if (header === undefined) throw new UsageError("the JWT header is not a JSON object");
  const claims = decodeSegment(parts[1]!);
  if (claims === undefined) throw new UsageError("the JWT payload is not a JSON object");
  if (!BASE64URL.test(parts[2]!)) throw new UsageError("the JWT signature is not base64url");
  return { header, claims };
}

/** Seconds of clock skew allowed before a token is marked expired or not yet valid. */
const TOLERANCE = 30;

/**
 * What decoding alone can tell without verifying: an `exp` in the past, an `nbf` (or `iat`) in
 * the future, an unsigned token (`alg: "none"`, RFC 7519 §6) (RFC 7519 §4.1.4, §4.1.5).
 *
 * @param jwt The decoded token.
 * @param now Seconds since the epoch.
 * @returns The marks: `"expired"`, `"not-yet-valid"`, `"unsigned"`.
 */
export function marks(jwt: DecodedJwt, now: number): string[] {
  const found: string[] = [];
  const { exp, nbf } = jwt.claims;
  if (typeof exp === "number" && exp + TOLERANCE < now) found.push("expired");
  if (typeof nbf === "number" && nbf - TOLERANCE > now) found.push("not-yet-valid");
  if (typeof jwt.header.alg === "string" && jwt.header.alg.toLowerCase() === "none") {
    found.push("unsigned");
  }
  return found;
}

const MARK_TEXT: Readonly<Record<string, string>> = {
  "expired": "EXPIRED: exp is in the past",
  "not-yet-valid": "NOT YET VALID: nbf is in the future",
  "unsigned": 'UNSIGNED: alg is "none"; nothing vouches for these claims, never accept it',
};

/** The `decode` command. */
export async function decode(flags: Flags, io: CliIo, out: Output): Promise<void> {
  const token = await readToken(flags, io, "JWT");
  const jwt = decodeJwt(token);
  const now = Math.floor(io.now() / 1000);
  const found = marks(jwt, now);
  const issuer = flags.string("issuer");
  if (issuer === undefined && flags.has("audience")) {
    throw new UsageError("--audience checks need --issuer");
  }
  if (issuer === undefined && flags.has("jwks-uri")) {
    throw new UsageError("--jwks-uri needs --issuer (the iss the token must have)");
  }
  let validated: JwtValidation | undefined;
  if (issuer !== undefined) {
    const session = await openSession(flags, io, out, {});
    try {
      const { as } = session;
      const audience = flags.string("audience");
      const { header } = await oauth.validateJwt(as, token, {
        ...session.plainHttp,
        ...(audience === undefined ? {} : { expectedAudience: audience }),
      });
      validated = {
        alg: header.alg as string,
        ...(typeof header.kid === "string" ? { kid: header.kid } : {}),
        jwks_uri: as.jwks_uri!,
        issuer: as.issuer,
      };
    } finally {
      await session.close();
    }
  }
  out.result(
    {
      header: jwt.header,
      claims: jwt.claims,
      ...(found.length > 0 ? { marks: found } : {}),
      ...(validated ? { validated } : {}),
    },
    () => {
      let text = `Header:\n${JSON.stringify(jwt.header, null, 2)}\n\n` +
        `Claims:\n${JSON.stringify(jwt.claims, null, 2)}\n`;
      const times = formatTimes(jwt.claims, now);
      if (times !== "") text += `\n${times}`;
      if (found.length > 0) text += `\n${found.map((mark) => MARK_TEXT[mark]).join("\n")}\n`;
      text += validated === undefined
        ? "\nNot validated (pass --issuer to check the signature, iss and exp).\n"
        : `\nValid: ${validated.alg} signature by ${
          validated.kid === undefined ? "a key" : `key ${validated.kid}`
        } of ${validated.jwks_uri}; iss is ${validated.issuer}; not expired.\n`;
      return text;
    },
  );
}
