/**
 * `authlane login`: the authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636, S256), a
 * loopback redirect listener on the address of `--redirect-uri` (RFC 8252 §7.3), the browser
 * opened on the authorization URL (unless `--no-browser`), `state`, `nonce` (OIDC Core
 * §3.1.2.1), the RFC 9207 `iss` check, optional PAR (RFC 9126) and `dpop_jkt` (RFC 9449 §10),
 * then the code redemption and ID token validation (OIDC Core §3.1.3.7).
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { type Flags, UsageError } from "./_args.ts";
import { parseSeconds, type Session, withDpopRetry } from "./_context.ts";
import type { CliIo, CliListener } from "./_io.ts";
import { CliError, type Output } from "./_output.ts";
import {
  missingMetadata,
  noPositionals,
  printTokens,
  requestOptions,
  requestParameters,
  tokenRequest,
} from "./_shared.ts";

/** The page the browser lands on; it echoes nothing from the request. */
function callbackPage(failed: boolean): string {
  const message = failed
    ? "The authorization server returned an error; the terminal shows it."
    : "Signed in. You can close this window and return to the terminal.";
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>authlane</title></head>` +
    `<body><p>${message}</p></body></html>`;
}

/** Where the loopback listener listens, and the redirect URI it answers for. */
export interface RedirectTarget {
  /** The address to listen on. */
  hostname: string;
  /** The port to listen on (0: any free port). */
  port: number;
  /** The path of the redirect URI; only a GET of it is the redirect. */
  path: string;
  /** The redirect URI for the port actually listened on. */
  uri(port: number): string;
}

const LOOPBACK_HOSTS: Readonly<Record<string, string>> = {
  "127.0.0.1": "127.0.0.1",
  "[::1]": "::1",
  // RFC 8252 §8.3 prefers IP literals, but many registrations say localhost: browsers resolve it
  // to loopback and fall back from ::1 to 127.0.0.1.
  "localhost": "127.0.0.1",
};

/** An explicit port in an http URI (the URL parser drops a spelled-out :80). */
const EXPLICIT_PORT = /^http:\/\/(?:\[[^\]]*\]|[^/:?#]*):(\d+)/i;

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError("--port must be 0-65535");
  return port;
}

/**
 * The listener's address and the redirect URI, from `--redirect-uri` (or `--param redirect_uri`)
 * and `--port`. The URI must be an http: loopback URI (RFC 8252 §7.3): the CLI receives the
 * redirect itself. Without a port in it, any free port is used and written into the URI sent.
 *
 * @param flags The parsed flags.
 * @param fromParam The `--param redirect_uri` value, if any.
 * @returns The target.
 * @throws {UsageError} For a URI the CLI cannot listen on, or a contradicting `--port`.
 */
export function redirectTarget(flags: Flags, fromParam: string | null): RedirectTarget {
  const portFlag = parsePort(flags.string("port"));
  const value = flags.string("redirect-uri") ?? fromParam ?? undefined;
  if (value === undefined) {
    return {
      hostname: "127.0.0.1",
      port: portFlag ?? 0,
      path: "/callback",
      uri: (port) => `http://127.0.0.1:${port}/callback`,
    };
  }
  const url = URL.parse(value);
  const hostname = url === null ? undefined : LOOPBACK_HOSTS[url.hostname];
  if (url === null || url.protocol !== "http:" || hostname === undefined) {
    throw new UsageError(
      `--redirect-uri ${JSON.stringify(value)}: login receives the redirect on a loopback ` +
        "listener, so it must be http://127.0.0.1, http://[::1] or http://localhost with a path " +
        "(RFC 8252 §7.3); register one for the client",
    );
  }
  if (url.hash !== "") throw new UsageError("--redirect-uri must not have a fragment");
  const explicit = EXPLICIT_PORT.exec(value)?.[1];
  const fixed = explicit === undefined ? undefined : Number(explicit);
  if (fixed !== undefined && portFlag !== undefined && fixed !== portFlag) {
    throw new UsageError(`--port ${portFlag} contradicts --redirect-uri ${value}`);
  }
  // Everything after the authority, as written (a registration is compared as a string).
  const rest = value.replace(/^http:\/\/(?:\[[^\]]*\]|[^/?#]*)/i, "");
  return {
    hostname,
    port: fixed ?? portFlag ?? 0,
    path: url.pathname,
    uri: (port) => fixed !== undefined ? value : `http://${url.hostname}:${port}${rest}`,
  };
}

/** The loopback redirect listener (RFC 8252 §7.3): one callback, then it stops. */
class CallbackListener implements AsyncDisposable {
  readonly port: number;
  readonly redirectUri: string;
  #path: string;
  #listener: CliListener;
  #received = Promise.withResolvers<URL>();
  #done = false;

  constructor(io: CliIo, target: RedirectTarget) {
    this.#path = target.path;
    try {
      this.#listener = io.listen(target.port, (request) => this.handle(request), target.hostname);
    } catch (err) {
      if (err instanceof Deno.errors.AddrInUse) {
        throw new UsageError(
          `--port ${target.port}: the port is in use (give another in --redirect-uri or --port)`,
        );
      }
      throw err;
    }
    this.port = this.#listener.port;
    this.redirectUri = target.uri(this.port);
  }

  /** Answers one request to the listener: the first GET of the callback path is the redirect. */
  handle(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname !== this.#path || request.method !== "GET") {
      return new Response("not found", { status: 404 });
    }
    if (this.#done) return new Response("already received", { status: 409 });
    this.#done = true;
    this.#received.resolve(url);
    const failed = url.searchParams.has("error");
    return new Response(callbackPage(failed), {
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    });
  }

  /** Waits for the redirect, up to `seconds`. */
  async wait(seconds: number): Promise<URL> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CliError(
              `no redirect arrived at ${this.redirectUri} within ${seconds} s`,
              "sign in within --browser-timeout SECONDS; check that the client's registered " +
                "redirect URI is this one (--redirect-uri)",
            ),
          ),
        seconds * 1000,
      );
    });
    try {
      return await Promise.race([this.#received.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#listener.close();
  }
}

/**
 * Refuses login's own flags before any request: `--browser-timeout`, `--port` and a
 * `--redirect-uri` the CLI cannot listen on.
 *
 * @param flags The parsed flags.
 * @throws {UsageError} For a bad value.
 */
export function checkLoginFlags(flags: Flags): void {
  parseSeconds(flags.string("browser-timeout"), 300, "--browser-timeout");
  const param = flags.list("param").find((p) => p.startsWith("redirect_uri="));
  redirectTarget(flags, param === undefined ? null : param.slice("redirect_uri=".length));
}

export async function login(
  session: Session,
  flags: Flags,
  io: CliIo,
  out: Output,
): Promise<void> {
  noPositionals(flags);
  const { as, client, clientAuth, embedded } = session;
  const browserTimeout = parseSeconds(flags.string("browser-timeout"), 300, "--browser-timeout");
  if (as.authorization_endpoint === undefined) throw missingMetadata("authorization_endpoint");
  // OpenID Connect is the default where discovery found the server; a server described by
  // endpoint flags may be plain OAuth (GitHub), so the scope is then whatever --scope says.
  const params = requestParameters(
    flags,
    out,
    embedded !== undefined ? "openid profile email" : session.discovered ? "openid" : undefined,
  );
  // --param values login would set itself: redirect_uri stands in for --redirect-uri; state
  // and nonce win (login then checks the response against them), with a note.
  const target = redirectTarget(flags, params.get("redirect_uri"));
  if (params.has("redirect_uri")) {
    out.info("note: --param redirect_uri is used as --redirect-uri (login listens there)");
  }
  const taken = (name: string) => {
    const values = params.getAll(name);
    params.delete(name);
    if (values.length > 1) throw new UsageError(`give --param ${name} once`);
    if (values[0] !== undefined && name !== "redirect_uri") {
      out.info(
        `note: sending --param ${name} instead of a random one; a fixed ${name} is guessable, ` +
          "so keep it for testing",
      );
    }
    return values[0];
  };
  taken("redirect_uri");
  const paramState = taken("state");
  const paramNonce = taken("nonce");

  await using listener = new CallbackListener(io, target);
  const redirectUri = listener.redirectUri;
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = paramState ?? oauth.generateRandomState();
  const openid = (params.get("scope") ?? "").split(" ").includes("openid");
  const nonce = paramNonce ?? (openid ? oauth.generateRandomNonce() : undefined);
  params.set("client_id", client.client_id);
  params.set("redirect_uri", redirectUri);
  params.set("response_type", "code");
  params.set("state", state);
  params.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
  params.set("code_challenge_method", "S256");
  if (nonce !== undefined) params.set("nonce", nonce);
  if (session.dpop !== undefined) {
    params.set("dpop_jkt", await session.dpop.calculateThumbprint()); // RFC 9449 §10
  }

  const authorizationUrl = new URL(as.authorization_endpoint);
  if (flags.boolean("par")) {
    const pushed = await withDpopRetry(
      session,
      async () =>
        await oauth.processPushedAuthorizationResponse(
          as,
          client,
          await oauth.pushedAuthorizationRequest(
            as,
            client,
            clientAuth,
            params,
            requestOptions(session),
          ),
        ),
    );
    authorizationUrl.searchParams.set("client_id", client.client_id);
    authorizationUrl.searchParams.set("request_uri", pushed.request_uri);
  } else {
    for (const [name, value] of params) authorizationUrl.searchParams.append(name, value);
  }

  out.info(`Open this URL in a browser to sign in:\n\n  ${authorizationUrl.href}\n`);
  if (embedded === undefined && !flags.boolean("no-browser")) {
    out.info(
      await io.openBrowser(authorizationUrl.href)
        ? "(opened in your browser)"
        : "(could not open a browser: open the URL yourself)",
    );
  }
  out.info(`Waiting for the redirect to ${redirectUri} ...`);
  if (embedded !== undefined) {
    out.info("(embedded provider: signing in as alice automatically)");
    // Drive the provider's pages as a browser would, then hand its redirect to the listener as
    // the browser's request.
    const target = await embedded.login(authorizationUrl);
    await listener.handle(new Request(target)).body?.cancel();
  }
  const callback = await listener.wait(browserTimeout);

  const callbackParams = oauth.validateAuthResponse(as, client, callback, state);
  const tokens = await tokenRequest(
    session,
    () =>
      oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        callbackParams,
        redirectUri,
        codeVerifier,
        requestOptions(session),
      ),
    (response) =>
      oauth.processAuthorizationCodeResponse(as, client, response, {
        ...(nonce === undefined ? {} : { expectedNonce: nonce }),
        requireIdToken: openid,
      }),
  );
  await printTokens(out, session, tokens);
}
