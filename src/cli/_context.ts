/**
 * Turns flags into the library's vocabulary: the discovered `AuthorizationServer` (OIDC Discovery
 * 1.0 §4, falling back to RFC 8414 §3) or one built from endpoint flags for servers without
 * discovery, the `Client` (with RFC 8705 mutual TLS when `--cert` is given), the `ClientAuth`
 * (RFC 6749 §2.3.1 secrets, RFC 7523 JWT assertions, RFC 8705 §2 TLS), a DPoP handle (RFC 9449)
 * and the request options: `--allow-http`, `--timeout`, and a transport that trusts `--ca`,
 * presents `--cert` and records (with `--verbose`, prints) every exchange. Secrets are read from
 * the environment or files; none is ever echoed.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import {
  AUTH_METHOD_NAMES,
  type AuthMethod,
  ENDPOINT_FLAGS,
  type Flags,
  UsageError,
} from "./_args.ts";
import type { CliIo, EmbeddedProvider } from "./_io.ts";
import { dpopKeyPair, importPrivateKey, readFile } from "./_keys.ts";
import type { Output } from "./_output.ts";
import { type BaseFetch, HttpTrace } from "./_trace.ts";

export { readFile };

/** The environment variable read for the client secret when no flag names a source. */
export const SECRET_ENV = "AUTHLANE_CLIENT_SECRET";

/** The request timeout without `--timeout`, in seconds (the library's own default). */
export const DEFAULT_TIMEOUT_SECONDS = 30;

/** Request options the CLI passes to every library call. */
export interface HttpOptions {
  /** Set by `--allow-http` (and for the embedded provider). */
  [oauth.allowInsecureRequests]?: boolean;
  /** The CLI's transport: records and traces each exchange, trusts `--ca`, presents `--cert`. */
  [oauth.customFetch]?: (
    url: string,
    options: oauth.CustomFetchOptions<string, unknown>,
  ) => Promise<Response>;
  /** `--timeout`, per request. */
  signal?: (url: string) => AbortSignal;
}

/** Everything a command needs to talk to the authorization server. */
export interface Session {
  /** The validated server metadata (or the one built from endpoint flags). */
  as: oauth.AuthorizationServer;
  /** Whether `as` came from discovery (it did not when endpoint flags were given). */
  discovered: boolean;
  /** The client. */
  client: oauth.Client;
  /** Client authentication (only when the command authenticates). */
  clientAuth: oauth.ClientAuth;
  /** Options for requests made on behalf of the client (mTLS aware). */
  http: HttpOptions;
  /** Options for requests that are not the client's (discovery, JWKS). */
  plainHttp: HttpOptions;
  /** The DPoP handle, with `--dpop` or `--dpop-key`. */
  dpop?: oauth.DPoPHandle;
  /** The embedded provider, when no `--issuer` was given. */
  embedded?: EmbeddedProvider;
  /** The record of every exchange. */
  trace: HttpTrace;
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

/** Why `--insecure` is refused: it would mean curl's -k, which Deno's fetch cannot do. */
export function insecureRefused(): UsageError {
  return new UsageError(
    "--insecure (curl -k: skip TLS certificate verification) is not available: Deno's fetch " +
      "cannot turn verification off",
    "trust a private CA with --ca FILE, or allow an http: server on loopback with --allow-http " +
      "(deno run --unsafely-ignore-certificate-errors=HOST turns verification off for a whole " +
      "process: never against a real server)",
  );
}

/**
 * Parses a positive number of seconds.
 *
 * @param value The flag value.
 * @param fallback The default.
 * @param flag The flag, for the message.
 * @returns The seconds.
 * @throws {UsageError} When it is not a positive number.
 */
export function parseSeconds(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(seconds > 0)) {
    throw new UsageError(`${flag} must be a positive number of seconds`);
  }
  return seconds;
}

/**
 * The HTTP trace of a run, made from `--verbose` and `--timeout` before anything else so that a
 * failure of any request can be explained.
 *
 * @param flags The parsed flags.
 * @param io I/O.
 * @param out Output; the trace is recorded in its failure context.
 * @returns The trace.
 */
export function startTrace(flags: Flags, io: CliIo, out: Output): HttpTrace {
  if (out.context.trace !== undefined) return out.context.trace;
  const timeout = parseSeconds(flags.string("timeout"), DEFAULT_TIMEOUT_SECONDS, "--timeout");
  const trace = new HttpTrace(io, flags.boolean("verbose"), timeout);
  out.context.trace = trace;
  out.context.dpopKey = flags.has("dpop-key");
  return trace;
}

/**
 * Discovers the server (or reads its endpoints from flags) and builds the client, its
 * authentication and the request options.
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
    if (flags.boolean("insecure")) throw insecureRefused();
    const trace = startTrace(flags, io, out);
    const endpoints = endpointFlags(flags);
    let embedded: EmbeddedProvider | undefined;
    let issuerFlag = flags.string("issuer");
    if (issuerFlag === undefined && endpoints === undefined) {
      if (!needs.embedded || io.embedded === undefined) {
        throw new UsageError(
          "--issuer is required (or, for a server without discovery, its endpoint flags)",
        );
      }
      embedded = await io.embedded();
      closers.push(() => embedded!.close());
      issuerFlag = embedded.issuer;
      out.info(
        `No --issuer given: using the embedded test provider at ${embedded.issuer} ` +
          `(client ${embedded.clientId}).`,
      );
    }
    const allowHttp = embedded !== undefined || flags.boolean("allow-http");
    const timeoutMs = trace.timeoutSeconds * 1000;
    const signal = () => AbortSignal.timeout(timeoutMs);
    const allow = allowHttp ? { [oauth.allowInsecureRequests]: true } : {};

    const caPath = flags.string("ca");
    const ca = caPath === undefined ? undefined : await readFile(io, caPath, "--ca");
    let base: BaseFetch = io.fetch;
    if (ca !== undefined) {
      const trusting = io.trustingFetch(ca);
      closers.push(() => trusting.close());
      base = trusting.fetch;
    }
    const plainHttp: HttpOptions = {
      ...allow,
      signal,
      [oauth.customFetch]: transportOption(trace, base),
    };

    let as: oauth.AuthorizationServer;
    if (endpoints !== undefined) {
      for (const url of Object.values(endpoints)) checkInsecure(new URL(url), allowHttp, out);
      const issuer = issuerFlag ??
        new URL(endpoints.authorization_endpoint ?? Object.values(endpoints)[0]!).origin;
      parseUrl(issuer, "--issuer");
      as = { issuer, ...endpoints };
      out.info(
        `No discovery: the server is described by the endpoint flags (issuer ${issuer}).`,
      );
    } else {
      const issuer = parseIssuer(issuerFlag!, out);
      checkInsecure(issuer, allowHttp, out);
      as = await discover(issuer, plainHttp);
    }

    const clientId = flags.string("client-id") ?? embedded?.clientId;
    if (clientId === undefined && needs.authenticates) {
      throw new UsageError("--client-id is required");
    }
    const client: oauth.Client = { client_id: clientId ?? "authlane-cli" };
    let http = plainHttp;
    const certificate = await readCertificate(flags, io, ca);
    if (certificate !== undefined) {
      // RFC 8705 §5: requests of the client go to the mTLS aliases, over a connection that
      // presents the certificate (the library checks the certificate and key first).
      client.use_mtls_endpoint_aliases = true;
      const mtls = oauth.mtlsFetch(certificate);
      closers.push(() => mtls.close());
      http = { ...allow, signal, [oauth.customFetch]: transportOption(trace, mtls) };
    }

    const clientAuth = needs.authenticates
      ? await clientAuthentication(flags, io, out, certificate !== undefined, embedded)
      : oauth.None();

    let dpop: oauth.DPoPHandle | undefined;
    const dpopKeyPath = flags.string("dpop-key");
    if (dpopKeyPath !== undefined) {
      dpop = oauth.DPoP(client, await dpopKeyPair(io, dpopKeyPath, out));
    } else if (flags.boolean("dpop")) {
      out.info(
        "note: --dpop signs with a key that is gone when this command exits, so no later " +
          "command can use the DPoP-bound token; --dpop-key FILE keeps the key.",
      );
      dpop = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    }
    return {
      as,
      discovered: endpoints === undefined,
      client,
      clientAuth,
      http,
      plainHttp,
      dpop,
      embedded,
      trace,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function transportOption(trace: HttpTrace, base: BaseFetch): HttpOptions[typeof oauth.customFetch] {
  const traced = trace.transport(base);
  return (url, options) => traced(url, options as RequestInit);
}

/** The metadata members given as endpoint flags, or `undefined` when none was. */
function endpointFlags(flags: Flags): Record<string, string> | undefined {
  const given = ENDPOINT_FLAGS.filter(({ flag }) => flags.has(flag));
  if (given.length === 0) return undefined;
  return Object.fromEntries(given.map(({ flag, member }) => {
    const value = flags.string(flag)!;
    return [member, parseUrl(value, `--${flag}`).href];
  }));
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
  if (url === null || !/^https?:$/.test(url.protocol)) {
    throw new UsageError(`${flag} must be an absolute http(s) URL`);
  }
  return url;
}

const OIDC_METADATA = /^(.*?)\/\.well-known\/openid-configuration\/?$/;
const OAUTH_METADATA = /^\/\.well-known\/oauth-authorization-server(\/.*)?$/;

/**
 * Parses `--issuer`. A metadata URL pasted in its place (`…/.well-known/openid-configuration`,
 * or RFC 8414's `/.well-known/oauth-authorization-server/…`) is turned into the issuer it
 * describes, with a note, as oauth2c does.
 *
 * @param value The flag value.
 * @param out Output, for the note.
 * @returns The issuer identifier.
 */
export function parseIssuer(value: string, out: Output): URL {
  const url = parseUrl(value, "--issuer");
  const path = OIDC_METADATA.exec(url.pathname)?.[1] ??
    (OAUTH_METADATA.test(url.pathname) ? OAUTH_METADATA.exec(url.pathname)![1] ?? "" : undefined);
  if (path === undefined) return url;
  const issuer = `${url.origin}${path}`;
  out.info(
    `note: --issuer takes the issuer identifier, not its metadata URL; using --issuer ${issuer}`,
  );
  return new URL(issuer);
}

/**
 * Refuses `http:` without `--allow-http`, and warns when it reaches beyond loopback.
 *
 * @param url The URL about to be used.
 * @param allowHttp Whether `--allow-http` was given.
 * @param out Output, for the warning.
 * @throws {UsageError} For `http:` without `--allow-http`.
 */
export function checkInsecure(url: URL, allowHttp: boolean, out: Output): void {
  if (url.protocol !== "http:") return;
  if (!allowHttp) {
    throw new UsageError(
      `refusing plain http: ${url.origin} (https: is required)`,
      "pass --allow-http to allow it (meant for servers on loopback)",
    );
  }
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    out.info(`warning: sending requests over plain http to ${url.host} (--allow-http)`);
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

/** The `--auth` names, as help and errors list them: RFC names first. */
const AUTH_NAMES = Object.keys(AUTH_METHOD_NAMES);

async function clientAuthentication(
  flags: Flags,
  io: CliIo,
  out: Output,
  hasCertificate: boolean,
  embedded: EmbeddedProvider | undefined,
): Promise<oauth.ClientAuth> {
  const requested = flags.string("auth");
  const named = requested === undefined ? undefined : AUTH_METHOD_NAMES[requested];
  if (
    requested !== undefined && (named === undefined || !Object.hasOwn(AUTH_METHOD_NAMES, requested))
  ) {
    throw new UsageError(`--auth must be one of ${AUTH_NAMES.join(", ")}`);
  }
  const secret = await readClientSecret(flags, io, out);
  const keyPath = flags.string("private-key");
  const method: AuthMethod = named ??
    (secret?.explicit
      ? "basic"
      : keyPath !== undefined
      ? "private-key-jwt"
      : hasCertificate
      ? "tls"
      : secret !== undefined && embedded === undefined
      ? "basic"
      : "none");
  const shown = requested ?? method;
  const needSecret = () => {
    if (secret === undefined) {
      throw new UsageError(
        `--auth ${shown} needs a client secret (--client-secret-env, --client-secret-file or $${SECRET_ENV})`,
      );
    }
    return secret.secret;
  };
  if (secret?.explicit && !["basic", "post", "jwt"].includes(method)) {
    throw new UsageError(`a client secret was given, but --auth ${shown} does not use one`);
  }
  if (keyPath !== undefined && method !== "private-key-jwt") {
    throw new UsageError(`--private-key was given, but --auth is ${shown}`);
  }
  switch (method) {
    case "basic":
      return oauth.ClientSecretBasic(needSecret());
    case "post":
      return oauth.ClientSecretPost(needSecret());
    case "jwt":
      return oauth.ClientSecretJwt(needSecret());
    case "private-key-jwt": {
      if (keyPath === undefined) throw new UsageError(`--auth ${shown} needs --private-key`);
      return oauth.PrivateKeyJwt(await importPrivateKey(io, keyPath, flags));
    }
    case "tls":
      if (!hasCertificate) throw new UsageError(`--auth ${shown} needs --cert and --key`);
      return oauth.TlsClientAuth();
    case "none":
      return oauth.None();
  }
}
