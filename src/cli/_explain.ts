/**
 * Why a command failed, in one line a person can act on, and the next step. The reason is read
 * from the error's `cause` chain and the exchange the transport recorded ({@link HttpTrace}),
 * through an allow-list: a network failure is recognised by the runtime's message and reworded
 * (DNS, connection refused or reset, TLS: unknown CA, name mismatch, expiry, not TLS at all),
 * never echoed; an HTTP failure names the status and the URL (and the `Location` of a redirect,
 * which is not followed); a discovered issuer that is not the one asked for names both. Nothing
 * else of a `cause` reaches the terminal, so no token, secret or key can.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import type { Exchange, HttpTrace } from "./_trace.ts";

/** A failure explained. */
export interface Explanation {
  /** One line: what went wrong, with the URL and status where there was one. */
  reason: string;
  /** The next step: the flag or check that changes the outcome. */
  hint?: string;
}

/** What the command knew when it failed, for the hints. */
export interface FailureContext {
  /** The request trace of the run. */
  trace?: HttpTrace;
  /** Whether `--dpop-key` was given. */
  dpopKey?: boolean;
}

/** The errors of a cause chain, outermost first (at most eight). */
function causeChain(err: unknown): object[] {
  const chain: object[] = [];
  let current: unknown = err;
  while (typeof current === "object" && current !== null && chain.length < 8) {
    if (chain.includes(current)) break;
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

function nameOf(err: object): string {
  const name = (err as { name?: unknown }).name;
  return typeof name === "string" ? name : "";
}

function messageOf(err: object): string {
  const message = (err as { message?: unknown }).message;
  return typeof message === "string" ? message : "";
}

/** host:port of a URL, with the default port spelled out. */
function hostPort(url: string): string {
  const parsed = URL.parse(url);
  if (parsed === null) return url;
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  return `${parsed.hostname}:${port}`;
}

function hostOf(url: string): string {
  return URL.parse(url)?.hostname ?? url;
}

/** A value from a response as a message may show it: printable, and at most 200 characters. */
export function printable(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  // deno-lint-ignore no-control-regex
  const clean = /^[^\x00-\x1f\x7f]*$/.test(text) ? text : JSON.stringify(text);
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

const WELL_KNOWN = /\/\.well-known\/(openid-configuration|oauth-authorization-server)/;

interface NetworkRule {
  test: RegExp;
  reason: (exchange: Exchange) => string;
  hint: (exchange: Exchange) => string | undefined;
}

/** Where the failing URL came from: discovery is --issuer's; the rest, metadata or a flag. */
function sourceOf(exchange: Exchange): string {
  return WELL_KNOWN.test(exchange.url)
    ? "--issuer"
    : "the endpoint (from the server's metadata, or its endpoint flag)";
}

/**
 * The runtime's transport messages the CLI recognises (Deno's, which come from hyper and rustls,
 * and Node's codes), in the order they are tried. Only the rule's own words are printed.
 */
const NETWORK_RULES: readonly NetworkRule[] = [
  {
    test:
      /dns error|failed to lookup address|name or service not known|nodename nor servname|no such host|ENOTFOUND|EAI_AGAIN/i,
    reason: (e) => `cannot resolve host ${hostOf(e.url)} (DNS lookup failed)`,
    hint: (e) => `check the host name in ${sourceOf(e)}; is the network up?`,
  },
  {
    test: /connection refused|ECONNREFUSED/i,
    reason: (e) => `connection refused by ${hostPort(e.url)}`,
    hint: (e) => `is the server running on ${hostPort(e.url)}? check ${sourceOf(e)}`,
  },
  {
    test:
      /UnknownIssuer|unable to get local issuer|self[- ]signed certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE/i,
    reason: (e) =>
      `TLS failure: the certificate of ${
        hostPort(e.url)
      } is signed by a CA this machine does not trust`,
    hint: () => "trust the server's CA with --ca FILE (PEM)",
  },
  {
    test:
      /NotValidForName|not valid for name|ERR_TLS_CERT_ALTNAME_INVALID|Hostname\/IP does not match/i,
    reason: (e) =>
      `TLS failure: the certificate of ${hostPort(e.url)} is not valid for ${hostOf(e.url)}`,
    hint: () => "use the host name the server's certificate was issued for",
  },
  {
    test: /\bExpired\b|CERT_HAS_EXPIRED|certificate has expired/i,
    reason: (e) => `TLS failure: the certificate of ${hostPort(e.url)} has expired`,
    hint: () => "the server's certificate must be renewed",
  },
  {
    test: /InvalidContentType|corrupt message|wrong version number|packet length too long|EPROTO/i,
    reason: (e) => `TLS failure: ${hostPort(e.url)} does not speak TLS (a plain HTTP port?)`,
    hint: (e) =>
      `if the server speaks plain HTTP on loopback, use ${
        e.url.replace(/^https:/, "http:").replace(/\/\.well-known\/.*$/, "")
      } with --allow-http`,
  },
  {
    test: /invalid peer certificate|certificate verify failed|CERT_/i,
    reason: (e) => `TLS failure: the certificate of ${hostPort(e.url)} was refused`,
    hint: () => "trust the server's CA with --ca FILE (PEM), or check the certificate",
  },
  {
    test: /fatal alert|HandshakeFailure|handshake failure|CertificateRequired/i,
    reason: (e) => `TLS failure: ${hostPort(e.url)} refused the TLS handshake`,
    hint: () => "a server that requires a client certificate needs --cert and --key",
  },
  {
    test: /invalid HTTP version parsed|invalid HTTP status/i,
    reason: (e) => `${hostPort(e.url)} did not answer in HTTP (a TLS port?)`,
    hint: (e) => `use ${e.url.replace(/^http:/, "https:").replace(/\/\.well-known\/.*$/, "")}`,
  },
  {
    test:
      /connection closed before message completed|connection reset|ECONNRESET|broken pipe|EPIPE|unexpected end of file/i,
    reason: (e) => `${hostPort(e.url)} closed the connection without an answer`,
    hint: () => "run again with --verbose; check the server's logs",
  },
  {
    test: /Requests to port \d+ are blocked/i,
    reason: (e) => `Deno blocks requests to port ${hostPort(e.url).split(":").at(-1)}`,
    hint: () => "use another port",
  },
];

function describeExchange(exchange: Exchange): string {
  return `${exchange.method} ${printable(exchange.url)}`;
}

function network(chain: object[], context: FailureContext): Explanation | undefined {
  const trace = context.trace;
  const failed = chain.map((err) => trace?.failedExchange(err)).find((e) => e !== undefined);
  const timeout = chain.find((err) => nameOf(err) === "TimeoutError");
  if (timeout !== undefined) {
    const exchange = failed ?? trace?.last;
    const seconds = trace?.timeoutSeconds ?? 30;
    return {
      reason: `no answer within ${seconds} s (timeout)` +
        (exchange === undefined ? "" : ` from ${describeExchange(exchange)}`),
      hint: "raise --timeout SECONDS, or check that the server is up and not overloaded",
    };
  }
  const permission = chain.find((err) => ["NotCapable", "PermissionDenied"].includes(nameOf(err)));
  if (permission !== undefined && failed !== undefined) {
    return {
      reason: `Deno's permissions do not allow network access to ${hostPort(failed.url)}`,
      hint: "run with --allow-net (install the CLI with deno install -g -A …)",
    };
  }
  if (failed === undefined) return undefined;
  const messages = chain.map(messageOf).join("\n");
  for (const rule of NETWORK_RULES) {
    if (rule.test.test(messages)) {
      return {
        reason: `${rule.reason(failed)}: ${describeExchange(failed)}`,
        hint: rule.hint(failed),
      };
    }
  }
  return {
    reason: `the request failed before any answer (network error): ${describeExchange(failed)}`,
    hint: "run again with --verbose to see the runtime's own message",
  };
}

function statusText(exchange: Exchange): string {
  const text = exchange.statusText && /^[\w .'-]{1,40}$/.test(exchange.statusText)
    ? ` ${exchange.statusText}`
    : "";
  return `HTTP ${exchange.status}${text}`;
}

/** The exchange a status-bearing error is about: the latest one, when its status matches. */
function exchangeWithStatus(
  context: FailureContext,
  status: unknown,
): Exchange | undefined {
  const last = context.trace?.last;
  return last !== undefined && last.status === status ? last : undefined;
}

function httpStatus(err: object, context: FailureContext): Explanation | undefined {
  const status = (err as { status?: unknown }).status ??
    (err as { cause?: { status?: unknown } }).cause?.status;
  if (typeof status !== "number") return undefined;
  const exchange = exchangeWithStatus(context, status);
  if (exchange === undefined) return undefined;
  const code = (err as { code?: unknown }).code;
  if (status >= 300 && status < 400) {
    const location = exchange.location === undefined ? "" : ` to ${printable(exchange.location)}`;
    const target = exchange.location === undefined
      ? undefined
      : URL.parse(exchange.location, exchange.url)?.href.replace(WELL_KNOWN, "").replace(
        /\/$/,
        "",
      );
    return {
      reason: `${statusText(exchange)} from ${
        describeExchange(exchange)
      }: it redirects${location}, and redirects are not followed`,
      hint: target !== undefined && WELL_KNOWN.test(exchange.url)
        ? `use the issuer it redirects to: --issuer ${printable(target)}`
        : "use the URL it redirects to",
    };
  }
  if (WELL_KNOWN.test(exchange.url) && status === 404) {
    const tried = (context.trace?.exchanges ?? [])
      .filter((e) => e.status === 404 && WELL_KNOWN.test(e.url))
      .map((e) => printable(e.url));
    return {
      reason: `${statusText(exchange)}: no metadata at ${tried.join(" nor at ")}`,
      hint: "check --issuer; for a server without discovery, give its endpoints " +
        "(--authorization-endpoint, --token-endpoint, …)",
    };
  }
  if (code === oauth.RESPONSE_IS_NOT_JSON) {
    return {
      reason: `${statusText(exchange)} from ${describeExchange(exchange)} is ${
        exchange.contentType === undefined
          ? "without a content type"
          : printable(exchange.contentType)
      }, not JSON`,
      hint: "check the URL; --verbose shows the response",
    };
  }
  if (
    err instanceof oauth.ResponseBodyError || err instanceof oauth.WWWAuthenticateChallengeError
  ) {
    return {
      reason: `the server refused the request: ${statusText(exchange)} from ${
        describeExchange(exchange)
      }`,
      hint: oauthHint(err, context),
    };
  }
  return {
    reason: `unexpected ${statusText(exchange)} from ${describeExchange(exchange)}`,
    hint: "--verbose shows the response",
  };
}

/** A next step for an OAuth error response, by its `error` code. */
function oauthHint(
  err: oauth.ResponseBodyError | oauth.WWWAuthenticateChallengeError,
  context: FailureContext,
): string | undefined {
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    const challenge = err.cause[0];
    if (challenge?.scheme === "dpop" && !context.dpopKey) {
      return "a DPoP-bound token needs the key it was issued for: --dpop-key FILE";
    }
    if (challenge?.parameters.error === "invalid_token") {
      return "the token is expired, revoked or not for this server" +
        (context.dpopKey ? "" : " (a DPoP-bound token also needs its --dpop-key FILE)");
    }
    if (challenge?.parameters.error === "invalid_client") {
      return "check --client-id, the client secret and --auth";
    }
    return undefined;
  }
  switch (err.error) {
    case "invalid_client":
      return "check --client-id, the client secret and --auth";
    case "invalid_scope":
      return "check --scope: the server does not grant it to this client";
    case "unauthorized_client":
      return "the client is not registered for this grant type";
    case "invalid_grant":
      return "the code, refresh token or device code is expired, used or not this client's";
    case "invalid_target":
      return "check --resource";
    case "invalid_dpop_proof":
      return "check --dpop-key and the clock";
    case "access_denied":
      return "the user (or the server's policy) declined";
    case "expired_token":
      return "the device code expired before it was approved: run the command again";
    default:
      return undefined;
  }
}

function library(err: object, context: FailureContext): Explanation | undefined {
  const code = (err as { code?: unknown }).code;
  const cause = (err as { cause?: unknown }).cause as Record<string, unknown> | undefined;
  if (code === oauth.HTTP_REQUEST_FORBIDDEN) {
    const url = cause instanceof URL
      ? cause.href
      : typeof cause?.url === "string" || cause?.url instanceof URL
      ? String(cause.url)
      : undefined;
    return {
      reason: `refusing plain http:${url === undefined ? "" : ` ${printable(url)}`}`,
      hint: "pass --allow-http (meant for servers on loopback)",
    };
  }
  if (
    code === oauth.JSON_ATTRIBUTE_COMPARISON && cause?.attribute === "issuer" &&
    typeof cause.expected === "string"
  ) {
    const body = cause.body as Record<string, unknown> | undefined;
    const actual = cause.actual ?? body?.issuer;
    const at = context.trace?.last;
    const names = actual === undefined
      ? "names another issuer"
      : `names issuer ${printable(actual)}`;
    return {
      reason: `the metadata${at === undefined ? "" : ` at ${printable(at.url)}`} ${names}, not ${
        printable(cause.expected)
      } (issuer mismatch)`,
      hint: typeof actual === "string"
        ? `if that server is the one you meant, use --issuer ${printable(actual)}`
        : undefined,
    };
  }
  return httpStatus(err, context);
}

/**
 * Explains a failure through the allow-list, or returns `undefined` for one the CLI has no words
 * for (the library's own message is then printed).
 *
 * @param err Anything thrown.
 * @param context What the command knew.
 * @returns The reason and the next step.
 */
export function explain(err: unknown, context: FailureContext): Explanation | undefined {
  const chain = causeChain(err);
  const fromNetwork = network(chain, context);
  if (fromNetwork !== undefined) return fromNetwork;
  for (const item of chain) {
    const explained = library(item, context);
    if (explained !== undefined) return explained;
  }
  return undefined;
}
