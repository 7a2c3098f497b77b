/**
 * Keys the CLI reads from files: `--private-key` for RFC 7523 client assertions (a private JWK or
 * PEM PKCS#8, for `--alg` or the algorithm the key names or fits), and `--dpop-key`, the RFC 9449
 * DPoP key kept as a private JWK file so that later commands can use a DPoP-bound token: created
 * as an ES256 key with mode 0600 when the file does not exist, read back otherwise (with a warning
 * when others may read it). No message names a key's private members.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { type Flags, UsageError } from "./_args.ts";
import type { CliIo } from "./_io.ts";
import type { Output } from "./_output.ts";

/**
 * Reads a file named by a flag.
 *
 * @param io I/O.
 * @param path The path.
 * @param flag The flag, for the message.
 * @returns The contents.
 * @throws {UsageError} When it cannot be read (the message names the path, not the contents).
 */
export async function readFile(io: CliIo, path: string, flag: string): Promise<string> {
  try {
    return await io.readTextFile(path);
  } catch (err) {
    const reason = err instanceof Error ? err.name : "error";
    throw new UsageError(`${flag}: cannot read ${JSON.stringify(path)} (${reason})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Private keys (RFC 7523 client assertions)

type Algorithms = typeof oauth.JWS_ALGORITHMS;
type Alg = keyof Algorithms;

/** The algorithms authlane signs with, from the library's table. */
const SIGNING_ALGS = (Object.keys(oauth.JWS_ALGORITHMS) as Alg[]).filter((alg) =>
  oauth.JWS_ALGORITHMS[alg].sign
);

function signingAlg(alg: string): Alg | undefined {
  return (SIGNING_ALGS as string[]).includes(alg) ? alg as Alg : undefined;
}

/**
 * The algorithm a private JWK without `alg` signs with: the first signing algorithm of its key
 * type and curve (RS256 for RSA, since RSA-PSS and the hash are not in the key). An `AKP` key
 * always names its parameter set.
 */
function algFromJwk(jwk: JsonWebKey & { alg?: string }): string | undefined {
  if (typeof jwk.alg === "string") return jwk.alg;
  return SIGNING_ALGS.find((alg) => {
    const { kty, crv } = oauth.JWS_ALGORITHMS[alg];
    return kty !== "AKP" && kty === jwk.kty && crv === jwk.crv;
  });
}

/**
 * The algorithms tried, in order, for a PEM key without `--alg`: one per kind of key (the first
 * signing algorithm of each key type and curve; ML-DSA's parameter set is the key's kind).
 */
function guesses(): Alg[] {
  const seen = new Set<string>();
  return SIGNING_ALGS.filter((alg) => {
    const { kty, crv } = oauth.JWS_ALGORITHMS[alg];
    const kind = kty === "AKP" ? alg : `${kty} ${crv}`;
    if (seen.has(kind)) return false;
    seen.add(kind);
    return true;
  });
}

/**
 * Imports `--private-key`: a private JWK (JSON) or PEM PKCS#8, for `--alg` or the algorithm the
 * key names or fits.
 */
export async function importPrivateKey(
  io: CliIo,
  path: string,
  flags: Flags,
): Promise<oauth.PrivateKey> {
  const text = (await readFile(io, path, "--private-key")).trim();
  const algFlag = flags.string("alg");
  let kid = flags.string("kid");
  let format: "jwk" | "pkcs8";
  let data: JsonWebKey | ArrayBuffer;
  let candidates: string[];
  if (text.startsWith("{")) {
    let jwk: JsonWebKey & { alg?: string; kid?: string; priv?: string };
    try {
      jwk = JSON.parse(text);
    } catch {
      throw new UsageError("--private-key: the file is neither PEM nor JSON");
    }
    if (
      typeof jwk !== "object" || jwk === null ||
      (typeof jwk.d !== "string" && typeof jwk.priv !== "string")
    ) {
      throw new UsageError("--private-key: the JWK is not a private key");
    }
    kid ??= typeof jwk.kid === "string" ? jwk.kid : undefined;
    const alg = algFlag ?? algFromJwk(jwk);
    if (alg === undefined) throw new UsageError("--private-key: pass --alg for this JWK");
    // An AKP key's alg names its parameter set and stays (Web Crypto checks it); other keys' alg
    // may name a JWS algorithm their Web Crypto import does not (RS256 for an RSA-PSS import).
    const { alg: _alg, key_ops: _ops, use: _use, kid: _kid, ...bare } = jwk;
    format = "jwk";
    data = jwk.kty === "AKP" ? { ...bare, alg: jwk.alg } as JsonWebKey : bare;
    candidates = [alg];
  } else {
    const match = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(text);
    if (match === null) {
      throw new UsageError(
        /-----BEGIN (RSA|EC) PRIVATE KEY-----/.test(text)
          ? "--private-key: convert the key to PKCS#8 (openssl pkcs8 -topk8 -nocrypt -in KEY)"
          : "--private-key: expected a PEM PKCS#8 key (BEGIN PRIVATE KEY) or a private JWK",
      );
    }
    let der: Uint8Array<ArrayBuffer>;
    try {
      der = Uint8Array.from(atob(match[1]!.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    } catch {
      throw new UsageError("--private-key: the PEM body is not base64");
    }
    format = "pkcs8";
    data = der.buffer;
    candidates = algFlag === undefined ? guesses() : [algFlag];
  }
  for (const candidate of candidates) {
    const alg = signingAlg(candidate);
    if (alg === undefined) throw new UsageError(`--alg ${candidate} is not supported`);
    const params = oauth.JWS_ALGORITHMS[alg].key;
    try {
      const key = format === "jwk"
        ? await crypto.subtle.importKey("jwk", data as JsonWebKey, params, false, ["sign"])
        : await crypto.subtle.importKey("pkcs8", data as ArrayBuffer, params, false, ["sign"]);
      return kid === undefined ? { key } : { key, kid };
    } catch {
      // not this algorithm; try the next
    }
  }
  throw new UsageError(
    algFlag === undefined
      ? `--private-key: the key is not a private key of ${guesses().join(", ")}`
      : `--private-key: the key does not fit --alg ${algFlag}`,
  );
}

// ---------------------------------------------------------------------------------------------
// DPoP key files (RFC 9449)

/** Members of a private JWK that its public half leaves out. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "priv", "k"];

/** The algorithm of new DPoP keys: the one every DPoP server supports (RFC 9449 §5). */
const NEW_DPOP_ALG = "ES256";

/**
 * Reads the DPoP key pair from `path`, or creates it there (ES256, mode 0600) when the file does
 * not exist.
 *
 * @param io I/O.
 * @param path The `--dpop-key` path.
 * @param out Output, for the notes.
 * @returns The key pair, its public key extractable (it goes into every proof).
 * @throws {UsageError} When the file is not a private JWK of a signing algorithm.
 */
export async function dpopKeyPair(io: CliIo, path: string, out: Output): Promise<CryptoKeyPair> {
  let text: string;
  try {
    text = await io.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new UsageError(
        `--dpop-key: cannot read ${JSON.stringify(path)} (${(err as Error).name})`,
      );
    }
    return await createDpopKey(io, path, out);
  }
  let jwk: JsonWebKey & { alg?: string; priv?: string };
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new UsageError(`--dpop-key: ${JSON.stringify(path)} is not a JWK (JSON)`);
  }
  if (
    typeof jwk !== "object" || jwk === null ||
    (typeof jwk.d !== "string" && typeof jwk.priv !== "string")
  ) {
    throw new UsageError(`--dpop-key: ${JSON.stringify(path)} is not a private JWK`);
  }
  const alg = signingAlg(algFromJwk(jwk) ?? "");
  if (alg === undefined) {
    throw new UsageError(`--dpop-key: the key in ${JSON.stringify(path)} names no signing alg`);
  }
  const mode = await io.fileMode(path).catch(() => null);
  if (mode !== null && (mode & 0o077) !== 0) {
    out.info(
      `warning: --dpop-key ${path} can be read by other users (mode ${mode.toString(8)}); ` +
        `chmod 600 ${path}`,
    );
  }
  const params = oauth.JWS_ALGORITHMS[alg].key;
  const { alg: _alg, key_ops: _ops, ext: _ext, use: _use, ...bare } = jwk;
  const data = jwk.kty === "AKP" ? { ...bare, alg } : bare;
  const publicJwk = Object.fromEntries(
    Object.entries(data).filter(([name]) => !PRIVATE_MEMBERS.includes(name)),
  ) as JsonWebKey;
  try {
    return {
      privateKey: await crypto.subtle.importKey("jwk", data, params, false, ["sign"]),
      publicKey: await crypto.subtle.importKey("jwk", publicJwk, params, true, ["verify"]),
    };
  } catch {
    throw new UsageError(
      `--dpop-key: the key in ${JSON.stringify(path)} is not a valid ${alg} key`,
    );
  }
}

async function createDpopKey(io: CliIo, path: string, out: Output): Promise<CryptoKeyPair> {
  const pair = await oauth.generateKeyPair(NEW_DPOP_ALG, { extractable: true });
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const { key_ops: _ops, ext: _ext, ...bare } = jwk;
  try {
    await io.writeNewFile(path, JSON.stringify({ ...bare, alg: NEW_DPOP_ALG }) + "\n", 0o600);
  } catch (err) {
    throw new UsageError(
      `--dpop-key: cannot create ${JSON.stringify(path)} (${(err as Error).name})`,
    );
  }
  out.info(
    `Created the DPoP key ${path} (${NEW_DPOP_ALG}, readable by you only); ` +
      `pass --dpop-key ${path} to later commands that use the token.`,
  );
  // The private key stays extractable only in the file: sign with a non-extractable copy.
  const privateKey = await crypto.subtle.importKey(
    "jwk",
    bare,
    oauth.JWS_ALGORITHMS[NEW_DPOP_ALG].key,
    false,
    ["sign"],
  );
  return { privateKey, publicKey: pair.publicKey };
}
