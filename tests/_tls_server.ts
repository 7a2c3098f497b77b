/**
 * A TLS test server on 127.0.0.1, port 0, that asks every client for a certificate and reports
 * the SHA-256 thumbprint (`x5t#S256`, RFC 8705 §3.1) of the one presented, or `null`.
 *
 * It uses `node:https` under Deno, whose `getPeerCertificate()` exposes the peer certificate's
 * DER (`raw`); Deno.serve cannot request a client certificate. The thumbprint is computed here
 * from those bytes with Web Crypto, independently of authlane.
 *
 * By default every request gets `200` with JSON `{ path, method, body, x5tS256 }`; set
 * `handler` to play a token endpoint or resource server. With `requireClientCert` the server
 * demands a certificate signed by the test CA and aborts the handshake otherwise.
 *
 * @module
 */

import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Pki } from "./_pki.ts";

/** A request as the server saw it. */
export interface TlsRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Request headers, names lowercased. */
  headers: Record<string, string>;
  /** The body as text. */
  body: string;
  /** base64url SHA-256 of the client certificate's DER, or `null` when none was presented. */
  x5tS256: string | null;
}

/** What a handler answers; defaults: status 200, no extra headers, empty body. */
export interface TlsResponse {
  /** HTTP status. */
  status?: number;
  /** Response headers. */
  headers?: Record<string, string>;
  /** Body; an object is sent as JSON. */
  body?: string | Record<string, unknown>;
}

/** Answers one request. */
export type TlsHandler = (request: TlsRequest) => TlsResponse | Promise<TlsResponse>;

/** Options of {@link startTlsServer}. */
export interface TlsServerOptions {
  /** Refuse, in the TLS handshake, clients without a certificate signed by the test CA. */
  requireClientCert?: boolean;
  /** Answers requests; the default echoes `{ path, method, body, x5tS256 }` as JSON. */
  handler?: TlsHandler;
}

/** A running TLS test server. */
export interface TlsServer {
  /** `https://localhost:<port>`; the server certificate also covers `127.0.0.1`. */
  url: string;
  /** The port. */
  port: number;
  /** Every request that reached the HTTP layer, in order. */
  requests: TlsRequest[];
  /** TLS connections that completed the handshake. */
  connections: number;
  /** Messages of handshakes that failed. */
  tlsErrors: string[];
  /** The current handler; replace it to change behaviour mid-test. */
  handler: TlsHandler;
  /** Closes every connection and the listener. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The default handler: echoes what the server saw. */
export const echo: TlsHandler = ({ path, method, body, x5tS256 }) => ({
  body: { path, method, body, x5tS256 },
});

async function thumbprint(socket: TLSSocket): Promise<string | null> {
  const raw = socket.getPeerCertificate()?.raw as Uint8Array | undefined;
  if (!raw || raw.length === 0) return null;
  const digest = await crypto.subtle.digest("SHA-256", new Uint8Array(raw));
  return new Uint8Array(digest).toBase64({ alphabet: "base64url", omitPadding: true });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of req) chunks.push(chunk as Uint8Array);
  return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

/** Starts a TLS server on 127.0.0.1, port 0, with the test PKI's server certificate. */
export async function startTlsServer(pki: Pki, options: TlsServerOptions = {}): Promise<TlsServer> {
  const state = {
    requests: [] as TlsRequest[],
    connections: 0,
    tlsErrors: [] as string[],
    handler: options.handler ?? echo,
  };

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const request: TlsRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers,
      body: await readBody(req),
      x5tS256: await thumbprint(req.socket as TLSSocket),
    };
    state.requests.push(request);
    let answer: TlsResponse;
    try {
      answer = await state.handler(request);
    } catch (err) {
      answer = { status: 500, body: { error: "handler_failed", message: String(err) } };
    }
    const responseHeaders = { ...answer.headers };
    let body = answer.body ?? "";
    if (typeof body !== "string") {
      body = JSON.stringify(body);
      responseHeaders["content-type"] ??= "application/json";
    }
    res.writeHead(answer.status ?? 200, responseHeaders);
    res.end(body);
  }

  const server = https.createServer({
    key: pki.serverKey,
    cert: pki.serverCert,
    ca: [pki.ca],
    requestCert: true,
    rejectUnauthorized: options.requireClientCert === true,
  }, (req, res) => void respond(req, res));
  server.on("secureConnection", () => state.connections++);
  server.on("tlsClientError", (err: Error) => state.tlsErrors.push(err.message));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return closing;
  };

  return {
    url: `https://localhost:${port}`,
    port,
    get requests() {
      return state.requests;
    },
    get connections() {
      return state.connections;
    },
    get tlsErrors() {
      return state.tlsErrors;
    },
    get handler() {
      return state.handler;
    },
    set handler(handler: TlsHandler) {
      state.handler = handler;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
