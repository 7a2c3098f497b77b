/**
 * Mutual TLS transport for RFC 8705 (OAuth 2.0 Mutual-TLS Client Authentication and
 * Certificate-Bound Access Tokens): §2 client authentication and §3 certificate binding both
 * need the client to present its certificate in the TLS handshake, which `fetch` cannot do on its
 * own. On Deno, `Deno.createHttpClient({ cert, key, caCerts })` can; this file wraps one such
 * client per certificate in a fetch-compatible function.
 *
 * This is the only library file that names `Deno`. It reads `globalThis.Deno?.createHttpClient`
 * when called, never at module load, so the module loads on any runtime.
 *
 * @module
 */

import { assertNonEmptyString, isJsonObject } from "./_assert.ts";
import { certificateVersion, pemBlocks, pemCertificates } from "./certificate.ts";
import { argError } from "./errors.ts";
import { clientCertificate } from "./symbols.ts";
import type { Client, ClientCertificate, CustomFetchOptions, FetchLike } from "./types.ts";

/**
 * A `fetch`-compatible function that presents a TLS client certificate, returned by
 * {@link mtlsFetch}. All calls share one connection pool. Close it when done, or declare it with
 * `using`.
 */
export interface MtlsFetch {
  /**
   * Sends a request like `fetch`, presenting the client certificate when the server asks for
   * one.
   *
   * @param input The URL or request.
   * @param init Request options, as for `fetch`.
   * @returns The response.
   */
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * The same call as authlane's helpers make it, so the function fits every `[customFetch]`
   * option (`protectedResourceRequest` bodies include `Uint8Array`s that `RequestInit` does not
   * type).
   *
   * @param url The URL.
   * @param options Request options from an authlane helper.
   * @returns The response.
   */
  (url: string, options: CustomFetchOptions<string, unknown>): Promise<Response>;
  /** Closes the connection pool; later calls reject with a `TypeError`. Closing twice is fine. */
  close(): void;
  /** Same as {@link MtlsFetch.close}, for `using` declarations. */
  [Symbol.dispose](): void;
}

/** PEM labels of the unencrypted private key encodings rustls reads. */
const PRIVATE_KEY_LABELS: ReadonlySet<string> = new Set([
  "PRIVATE KEY", // PKCS#8, RFC 5958
  "RSA PRIVATE KEY", // PKCS#1, RFC 8017 Appendix A.1.2
  "EC PRIVATE KEY", // SEC1, RFC 5915
]);

const INSPECT_DENO = Symbol.for("Deno.customInspect");
const INSPECT_NODE = Symbol.for("nodejs.util.inspect.custom");

/** What `Deno.createHttpClient` receives, after validation. */
interface TlsOptions {
  cert: string;
  key: string;
  caCerts?: string[];
  /** Certificates in `cert`, for the redacted summary. */
  chainLength: number;
}

/**
 * Creates a `fetch`-compatible function that presents a TLS client certificate (mutual TLS), for
 * RFC 8705 `tls_client_auth` / `self_signed_tls_client_auth` client authentication and
 * certificate-bound access tokens. Deno only.
 *
 * The certificate and key are checked before anything else: `cert` must hold PEM `CERTIFICATE`
 * blocks (leaf first) whose leaf is X.509 v3, `key` exactly one unencrypted PEM private key
 * (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`) matching the leaf, and `caCerts`, when
 * given, PEM certificates that are trusted for the server's certificate in addition to the
 * system roots. One `Deno.createHttpClient` backs the function, so connections are reused. The
 * result never shows the key when logged, and no error message or `cause` carries it.
 *
 * `authlane` calls this itself for a client with `use_mtls_endpoint_aliases: true` and a
 * {@link clientCertificate}; call it directly to send certificate-bound requests elsewhere, or to
 * pass as `[customFetch]`.
 *
 * @param certificate The client certificate, its private key and optional extra CA certificates.
 * @returns A `fetch`-compatible function with `close()` and `[Symbol.dispose]()`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` when `certificate`, `cert`, `key` or `caCerts` has
 *   the wrong type; `ERR_INVALID_ARG_VALUE` when a PEM value is unreadable or missing its block,
 *   the key is encrypted or does not match the certificate, the certificate is not X.509 v3, or
 *   the runtime has no `Deno.createHttpClient` (use `[customFetch]` there). Calling the returned
 *   function after `close()` rejects with a `TypeError` (`ERR_INVALID_ARG_VALUE`). TLS failures
 *   (the server refusing the certificate, an untrusted server certificate) reject with the
 *   platform's `fetch` error, unchanged.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * using mtls = oauth.mtlsFetch({
 *   cert: await Deno.readTextFile("client.crt"),
 *   key: await Deno.readTextFile("client.key"),
 * });
 * const response = await mtls("https://rs.example.com/resource", {
 *   headers: { authorization: "Bearer …" },
 * });
 * ```
 * @example With a private CA for the server
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * using mtls = oauth.mtlsFetch({
 *   cert: await Deno.readTextFile("client.crt"),
 *   key: await Deno.readTextFile("client.key"),
 *   caCerts: [await Deno.readTextFile("internal-ca.crt")],
 * });
 * ```
 * @see {@link https://www.rfc-editor.org/rfc/rfc8705#section-2 | RFC 8705 §2}
 * @see {@link https://docs.deno.com/api/deno/~/Deno.createHttpClient | Deno.createHttpClient}
 */
export function mtlsFetch(certificate: ClientCertificate): MtlsFetch {
  return createMtlsFetch(certificate, "certificate");
}

/** `base` names the argument in messages: "certificate" or "client[clientCertificate]". */
function createMtlsFetch(certificate: unknown, base: string): MtlsFetch {
  const options = toTlsOptions(certificate, base);
  const httpClient = createHttpClient(options, base);
  let closed = false;
  const adapter = function mtlsFetch(
    input: string | URL | Request,
    init?: RequestInit | CustomFetchOptions<string, unknown>,
  ): Promise<Response> {
    if (closed) {
      return Promise.reject(
        argError("the mutual TLS fetch function was used after close()", "ERR_INVALID_ARG_VALUE"),
      );
    }
    return globalThis.fetch(input, { ...init as RequestInit | undefined, client: httpClient });
  };
  const close = (): void => {
    if (closed) return;
    closed = true;
    httpClient.close();
  };
  const summary = (): string =>
    `MtlsFetch { cert: "${options.chainLength} certificate(s)", key: "[redacted]", ` +
    `closed: ${closed} }`;
  Object.defineProperties(adapter, {
    close: { value: close },
    [Symbol.dispose]: { value: close },
    [INSPECT_DENO]: { value: summary },
    [INSPECT_NODE]: { value: summary },
  });
  return adapter as MtlsFetch;
}

/** Validates a {@link ClientCertificate} before any TLS object exists. */
function toTlsOptions(certificate: unknown, base: string): TlsOptions {
  if (!isJsonObject(certificate)) throw argError(`"${base}" must be an object`);
  const { cert, key, caCerts } = certificate;

  assertNonEmptyString(cert, `"${base}.cert"`);
  const chain = pemCertificates(cert, `"${base}.cert"`);
  // rustls/webpki refuse end-entity certificates older than v3 (RFC 5280 §4.1.2.1).
  if (certificateVersion(chain[0]!) !== 3) {
    throw argError(
      `"${base}.cert" must be an X.509 v3 certificate; Deno's TLS stack refuses v1 and v2 ones`,
      "ERR_INVALID_ARG_VALUE",
    );
  }

  assertNonEmptyString(key, `"${base}.key"`);
  assertPrivateKeyPem(key, `"${base}.key"`);

  const options: TlsOptions = { cert, key, chainLength: chain.length };
  if (caCerts !== undefined) {
    if (!Array.isArray(caCerts)) throw argError(`"${base}.caCerts" must be an array of strings`);
    caCerts.forEach((ca, i) => {
      assertNonEmptyString(ca, `"${base}.caCerts[${i}]"`);
      pemCertificates(ca, `"${base}.caCerts[${i}]"`);
    });
    options.caCerts = caCerts as string[];
  }
  return options;
}

/**
 * Throws unless `pem` holds exactly one unencrypted private key block. Messages name the field
 * and the PEM labels, never the key's contents.
 */
function assertPrivateKeyPem(pem: string, name: string): void {
  const blocks = pemBlocks(pem, name);
  const encrypted = blocks.some((block) =>
    block.label === "ENCRYPTED PRIVATE KEY" ||
    (PRIVATE_KEY_LABELS.has(block.label) && /ENCRYPTED/i.test(block.headers["Proc-Type"] ?? ""))
  );
  if (encrypted) {
    throw argError(
      `${name} is an encrypted private key, and Deno's TLS stack cannot use passphrase-protected ` +
        "keys; decrypt it first, for example with " +
        "`openssl pkey -in client.key -out client.unencrypted.key`",
      "ERR_INVALID_ARG_VALUE",
    );
  }
  const keys = blocks.filter((block) => PRIVATE_KEY_LABELS.has(block.label));
  if (keys.length !== 1) {
    throw argError(
      keys.length === 0
        ? `${name} holds no PEM "PRIVATE KEY", "RSA PRIVATE KEY" or "EC PRIVATE KEY" block`
        : `${name} holds ${keys.length} private keys; pass only the certificate's key`,
      "ERR_INVALID_ARG_VALUE",
    );
  }
}

/**
 * Calls `Deno.createHttpClient`, read now rather than at module load so the module loads on
 * other runtimes and tests can stub it. Its refusals become coded `TypeError`s; its error, which
 * names the problem but not the key, is kept as `cause`.
 */
function createHttpClient(options: TlsOptions, base: string): Deno.HttpClient {
  const deno = globalThis.Deno;
  if (typeof deno?.createHttpClient !== "function") {
    throw argError(
      "mutual TLS needs Deno.createHttpClient, which this runtime does not provide; pass a " +
        "[customFetch] function that presents the client certificate instead",
      "ERR_INVALID_ARG_VALUE",
    );
  }
  const { cert, key, caCerts } = options;
  try {
    return deno.createHttpClient(caCerts ? { cert, key, caCerts } : { cert, key });
  } catch (cause) {
    // Deno 2.x reports "keys may not be consistent: KeyMismatch" (rustls' own check).
    if (String((cause as Error | undefined)?.message).includes("KeyMismatch")) {
      throw argError(
        `"${base}.key" does not match the public key of the certificate in "${base}.cert"`,
        "ERR_INVALID_ARG_VALUE",
        cause,
      );
    }
    throw argError(
      `Deno.createHttpClient refused the client certificate or key in "${base}"`,
      "ERR_INVALID_ARG_VALUE",
      cause,
    );
  }
}

/** Adapters per client object, with the certificate object each was built from. */
const adapters = new WeakMap<Client, { certificate: unknown; adapter: MtlsFetch }>();

/**
 * Closes an adapter's connection pool once its client object is garbage-collected, so an
 * application that builds `Client` objects per tenant or per request does not keep their TLS
 * connections open forever. The adapter is its own unregister token.
 */
const finalizer = new FinalizationRegistry<MtlsFetch>((adapter) => adapter.close());

/**
 * Returns the mutual TLS fetch function for `client`, built once from
 * `client[clientCertificate]` and cached per client object, so every request of that client
 * shares one connection pool. Assigning a new object to `client[clientCertificate]` (certificate
 * rotation) builds a new function and closes the old one; requests in flight finish.
 *
 * @internal
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` when the client has no certificate, plus whatever
 *   {@link mtlsFetch} throws.
 */
export function mtlsAdapterFor(client: Client): FetchLike {
  const certificate = client[clientCertificate];
  if (certificate === undefined || certificate === null) {
    throw argError(
      "mutual TLS needs a client certificate: set client[clientCertificate] or pass a " +
        "[customFetch] function",
      "ERR_INVALID_ARG_VALUE",
    );
  }
  const cached = adapters.get(client);
  if (cached?.certificate === certificate) return cached.adapter as FetchLike;
  const adapter = createMtlsFetch(certificate, "client[clientCertificate]");
  if (cached) {
    finalizer.unregister(cached.adapter);
    cached.adapter.close();
  }
  adapters.set(client, { certificate, adapter });
  finalizer.register(client, adapter, adapter);
  return adapter as FetchLike;
}

/**
 * Closes the mutual-TLS connection pool that authlane built for this client object (from
 * `client[clientCertificate]`), if it has one. The next request of that client builds a new pool.
 *
 * Pools are also closed when their client object is garbage-collected; call this when the client
 * is done for sooner (a CLI about to exit, a test, a tenant being removed).
 *
 * @param client The client whose pool to close.
 * @example Usage
 * ```ts
 * import * as oauth from "@authlane/oauth";
 * declare const as: oauth.AuthorizationServer;
 * declare const client: oauth.Client; // use_mtls_endpoint_aliases + [clientCertificate]
 * try {
 *   await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), {});
 * } finally {
 *   oauth.closeMtlsConnections(client);
 * }
 * ```
 */
export function closeMtlsConnections(client: Client): void {
  closeMtlsAdapter(client);
}

/**
 * Closes and forgets `client`'s mutual TLS fetch function, if it has one.
 *
 * @internal
 */
export function closeMtlsAdapter(client: Client): void {
  const cached = adapters.get(client);
  if (cached === undefined) return;
  finalizer.unregister(cached.adapter);
  cached.adapter.close();
  adapters.delete(client);
}
