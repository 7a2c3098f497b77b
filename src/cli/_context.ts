/**
 * Turns flags into the library's vocabulary: the discovered `AuthorizationServer` (OIDC Discovery
 * 1.0 §4, falling back to RFC 8414 §3), the `Client` (with RFC 8705 mutual TLS when `--cert` is
 * given), the `ClientAuth` (RFC 6749 §2.3.1 secrets, RFC 7523 JWT assertions, RFC 8705 §2 TLS),
 * a DPoP handle (RFC 9449) and the request options. Secrets are read from the environment or
 * files; none is ever echoed.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { type Flags, UsageError } from "./_args.ts";
import type { CliIo, EmbeddedProvider } from "./_io.ts";
import type { Output } from "./_output.ts";

/** The environment variable read for the client secret when no flag names a source. */
export const SECRET_ENV = "AUTHLANE_CLIENT_SECRET";

/** Request options the CLI passes to every library call. */
export interface HttpOptions {
  /** Set by `--insecure` (and for the embedded provider). */
  [oauth.allowInsecureRequests]?: boolean;
  /** Trusts `--ca` for requests that do not present a client certificate. */
  [oauth.customFetch]?: (
    url: string,
    options: oauth.CustomFetchOptions<string, unknown>,
  ) => Promise<Response>;
}

/** Everything a command needs to talk to the authorization server. */
export interface Session {
  /** The validated server metadata. */
  as: oauth.AuthorizationServer;
  /** The client. */
  client: oauth.Client;
  /** Client authentication (only when the command authenticates). */
  clientAuth: oauth.ClientAuth;
  /** Options for requests made on behalf of the client (mTLS aware). */
  http: HttpOptions;
  /** Options for requests that are not the client's (discovery, JWKS). */
  plainHttp: HttpOptions;
  /** The DPoP handle, with `--dpop`. */
  dpop?: oauth.DPoPHandle;
  /** The embedded provider, when no `--issuer` was given. */
  embedded?: EmbeddedProvider;
  /** Releases the embedded provider and HTTP clients. */
  close(): Promise<void>;
}

/** What a command asks of {@link openSession}. */
export interface SessionNeeds {
  /** Whether the command may fall back to the embedded provider. */
  embedded?: boolean;
  /** Whether the command authenticates as a client (needs `--client-id`). */
  authenticates?: boolean;
}

/**
 * Discovers the server and builds the client, its authentication and the request options.
 *
 * @param flags The parsed flags.
 * @param io I/O.
 * @param out Output, for warnings.
 * @param needs What the command needs.
 * @returns The session; close it when done.
 * @throws {UsageError} For missing or contradictory flags and unreadable files.
 */
export async function openSession(
  flags: Flags,
  io: CliIo,
  out: Output,
  needs: SessionNeeds,
): Promise<Session> {
  const closers: (() => void | Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    let embedded: EmbeddedProvider | undefined;
    let issuerFlag = flags.string("issuer");
    if (issuerFlag === undefined) {
      if (!needs.embedded || io.embedded === undefined) {
        throw new UsageError("--issuer is required");
      }
      embedded = await io.embedded();
      closers.push(() => embedded!.close());
      issuerFlag = embedded.issuer;
      out.info(
        `No --issuer given: using the embedded test provider at ${embedded.issuer} ` +
          `(client ${embedded.clientId}).`,
      );
    }
    const insecure = embedded !== undefined || flags.boolean("insecure");
    const issuer = parseUrl(issuerFlag, "--issuer");
    checkInsecure(issuer, insecure, out);

    const plainHttp: HttpOptions = insecure ? { [oauth.allowInsecureRequests]: true } : {};
    const caPath = flags.string("ca");
    const ca = caPath === undefined ? undefined : await readFile(io, caPath, "--ca");
    if (ca !== undefined) {
      const trusting = io.trustingFetch(ca);
      closers.push(() => trusting.close());
      plainHttp[oauth.customFetch] = (url, init) => trusting.fetch(url, init as RequestInit);
    }

    const as = await discover(issuer, plainHttp);

    const clientId = flags.string("client-id") ?? embedded?.clientId;
    if (clientId === undefined && needs.authenticates) {
      throw new UsageError("--client-id is required");
    }
    const client: oauth.Client = { client_id: clientId ?? "authlane-cli" };
    let http = plainHttp;
    const certificate = await readCertificate(flags, io, ca);
    if (certificate !== undefined) {
      // RFC 8705 §5: requests of the client go to the mTLS aliases over the library's own
      // per-client adapter (built from client[clientCertificate], trusting --ca). No customFetch
      // here: it would win over the adapter. The pool is closed with the session.
      client.use_mtls_endpoint_aliases = true;
      client[oauth.clientCertificate] = certificate;
      closers.push(() => oauth.closeMtlsConnections(client));
      http = insecure ? { [oauth.allowInsecureRequests]: true } : {};
    }

    const clientAuth = needs.authenticates
      ? await clientAuthentication(flags, io, out, certificate !== undefined, embedded)
      : oauth.None();

    let dpop: oauth.DPoPHandle | undefined;
    if (flags.boolean("dpop")) {
      dpop = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    }
    return { as, client, clientAuth, http, plainHttp, dpop, embedded, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Runs a request once more when the server asks for a DPoP nonce (RFC 9449 §8, §9); the handle
 * has already stored the nonce.
 *
 * @param session The session.
 * @param request Sends the request and processes the response.
 * @returns What `request` returns.
 */
export async function withDpopRetry<T>(session: Session, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (session.dpop !== undefined && oauth.isDPoPNonceError(err)) return await request();
    throw err;
  }
}

/**
 * Parses an absolute URL flag.
 *
 * @param value The flag value.
 * @param flag The flag name, for the message.
 * @returns The URL.
 * @throws {UsageError} When it is not an absolute URL.
 */
export function parseUrl(value: string, flag: string): URL {
  const url = URL.parse(value);
  if (url === null) throw new UsageError(`${flag} must be an absolute URL`);
  return url;
}

/**
 * Refuses `http:` without `--insecure`, and warns when `--insecure` reaches beyond loopback.
 *
 * @param url The URL about to be used.
 * @param insecure Whether `--insecure` was given.
 * @param out Output, for the warning.
 * @throws {UsageError} For `http:` without `--insecure`.
 */
export function checkInsecure(url: URL, insecure: boolean, out: Output): void {
  if (url.protocol !== "http:") return;
  if (!insecure) {
    throw new UsageError(
      `${url.origin} uses http:; pass --insecure to allow it (meant for servers on loopback)`,
    );
  }
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    out.info(`warning: sending requests over plain http to ${url.host} (--insecure)`);
  }
}

/**
 * Discovers and validates the metadata of `issuer`: OpenID Connect Discovery first, then RFC 8414
 * when the server has no OpenID configuration.
 *
 * @param issuer The issuer identifier.
 * @param http Request options.
 * @returns The metadata.
 */
export async function discover(issuer: URL, http: HttpOptions): Promise<oauth.AuthorizationServer> {
  try {
    return await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, http));
  } catch (err) {
    const status = (err as { cause?: { status?: unknown } }).cause?.status;
    if (
      err instanceof oauth.OperationProcessingError && err.code === oauth.RESPONSE_IS_NOT_CONFORM &&
      status === 404
    ) {
      const response = await oauth.discoveryRequest(issuer, { ...http, algorithm: "oauth2" });
      return await oauth.processDiscoveryResponse(issuer, response);
    }
    throw err;
  }
}

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

async function readCertificate(
  flags: Flags,
  io: CliIo,
  ca: string | undefined,
): Promise<oauth.ClientCertificate | undefined> {
  const certPath = flags.string("cert");
  const keyPath = flags.string("key");
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    throw new UsageError("--cert and --key go together");
  }
  return {
    cert: await readFile(io, certPath, "--cert"),
    key: await readFile(io, keyPath, "--key"),
    ...(ca === undefined ? {} : { caCerts: [ca] }),
  };
}

/**
 * Reads the client secret from exactly one source: `--client-secret-env`, `--client-secret-file`,
 * `--client-secret` (with a warning), else `$AUTHLANE_CLIENT_SECRET`.
 */
async function readClientSecret(
  flags: Flags,
  io: CliIo,
  out: Output,
): Promise<{ secret: string; explicit: boolean } | undefined> {
  const given = ["client-secret", "client-secret-env", "client-secret-file"].filter((name) =>
    flags.has(name)
  );
  if (given.length > 1) {
    throw new UsageError(`give the client secret once (${given.map((n) => `--${n}`).join(", ")})`);
  }
  const argv = flags.string("client-secret");
  if (argv !== undefined) {
    out.info(
      "warning: --client-secret is visible to other users of this machine; " +
        "prefer --client-secret-env or --client-secret-file",
    );
    return { secret: argv, explicit: true };
  }
  const envName = flags.string("client-secret-env");
  if (envName !== undefined) {
    const value = io.env(envName);
    if (value === undefined || value === "") {
      throw new UsageError(`--client-secret-env: environment variable ${envName} is not set`);
    }
    return { secret: value, explicit: true };
  }
  const file = flags.string("client-secret-file");
  if (file !== undefined) {
    const value = (await readFile(io, file, "--client-secret-file")).replace(/\r?\n$/, "");
    if (value === "") throw new UsageError("--client-secret-file: the file is empty");
    return { secret: value, explicit: true };
  }
  const fallback = io.env(SECRET_ENV);
  return fallback === undefined || fallback === ""
    ? undefined
    : { secret: fallback, explicit: false };
}

const AUTH_METHODS = ["basic", "post", "jwt", "private-key-jwt", "none", "tls"] as const;
type AuthMethod = typeof AUTH_METHODS[number];

async function clientAuthentication(
  flags: Flags,
  io: CliIo,
  out: Output,
  hasCertificate: boolean,
  embedded: EmbeddedProvider | undefined,
): Promise<oauth.ClientAuth> {
  const requested = flags.string("auth");
  if (requested !== undefined && !(AUTH_METHODS as readonly string[]).includes(requested)) {
    throw new UsageError(`--auth must be one of ${AUTH_METHODS.join(", ")}`);
  }
  const secret = await readClientSecret(flags, io, out);
  const keyPath = flags.string("private-key");
  const method: AuthMethod = (requested as AuthMethod | undefined) ??
    (secret?.explicit
      ? "basic"
      : keyPath !== undefined
      ? "private-key-jwt"
      : hasCertificate
      ? "tls"
      : secret !== undefined && embedded === undefined
      ? "basic"
      : "none");
  const needSecret = () => {
    if (secret === undefined) {
      throw new UsageError(
        `--auth ${method} needs a client secret (--client-secret-env, --client-secret-file or $${SECRET_ENV})`,
      );
    }
    return secret.secret;
  };
  if (secret?.explicit && !["basic", "post", "jwt"].includes(method)) {
    throw new UsageError(`a client secret was given, but --auth ${method} does not use one`);
  }
  if (keyPath !== undefined && method !== "private-key-jwt") {
    throw new UsageError(`--private-key was given, but --auth is ${method}`);
  }
  switch (method) {
    case "basic":
      return oauth.ClientSecretBasic(needSecret());
    case "post":
      return oauth.ClientSecretPost(needSecret());
    case "jwt":
      return oauth.ClientSecretJwt(needSecret());
    case "private-key-jwt": {
      if (keyPath === undefined) throw new UsageError("--auth private-key-jwt needs --private-key");
      return oauth.PrivateKeyJwt(await importPrivateKey(io, keyPath, flags));
    }
    case "tls":
      if (!hasCertificate) throw new UsageError("--auth tls needs --cert and --key");
      return oauth.TlsClientAuth();
    case "none":
      return oauth.None();
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
async function importPrivateKey(io: CliIo, path: string, flags: Flags): Promise<oauth.PrivateKey> {
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
