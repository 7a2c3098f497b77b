/**
 * `authlane login`: the authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636, S256), a
 * loopback redirect listener on 127.0.0.1 (RFC 8252 §7.3), `state`, `nonce` (OIDC Core
 * §3.1.2.1), the RFC 9207 `iss` check, optional PAR (RFC 9126) and `dpop_jkt` (RFC 9449 §10),
 * then the code redemption and ID token validation (OIDC Core §3.1.3.7).
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { type Flags, UsageError } from "./_args.ts";
import { type Session, withDpopRetry } from "./_context.ts";
import type { CliIo, CliListener } from "./_io.ts";
import type { Output } from "./_output.ts";
import {
  missingMetadata,
  noPositionals,
  printTokens,
  requestOptions,
  requestParameters,
  tokenRequest,
} from "./_shared.ts";

const CALLBACK_PATH = "/callback";

/** The page the browser lands on; it echoes nothing from the request. */
function callbackPage(failed: boolean): string {
  const message = failed
    ? "The authorization server returned an error; the terminal shows it."
    : "Signed in. You can close this window and return to the terminal.";
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>authlane</title></head>` +
    `<body><p>${message}</p></body></html>`;
}

/** The loopback redirect listener (RFC 8252 §7.3): one callback, then it stops. */
class CallbackListener implements AsyncDisposable {
  readonly port: number;
  #listener: CliListener;
  #received = Promise.withResolvers<URL>();
  #done = false;

  constructor(io: CliIo, port: number) {
    try {
      this.#listener = io.listen(port, (request) => this.handle(request));
    } catch (err) {
      if (err instanceof Deno.errors.AddrInUse) {
        throw new UsageError(`--port ${port}: the port is in use`);
      }
      throw err;
    }
    this.port = this.#listener.port;
  }

  /** Answers one request to the listener: the first GET of the callback path is the redirect. */
  handle(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname !== CALLBACK_PATH || request.method !== "GET") {
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

  /** The redirect URI to register and send. */
  get redirectUri(): string {
    return `http://127.0.0.1:${this.port}${CALLBACK_PATH}`;
  }

  /** Waits for the redirect, up to `seconds`. */
  async wait(seconds: number): Promise<URL> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DOMException(`no redirect arrived within ${seconds}s`, "TimeoutError")),
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

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError("--port must be 0-65535");
  return port;
}

function parseSeconds(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds <= 0) {
    throw new UsageError(`${flag} must be a positive number of seconds`);
  }
  return seconds;
}

export async function login(
  session: Session,
  flags: Flags,
  io: CliIo,
  out: Output,
): Promise<void> {
  noPositionals(flags);
  const { as, client, clientAuth, embedded } = session;
  const port = parsePort(flags.string("port"));
  const timeout = parseSeconds(flags.string("timeout"), 300, "--timeout");
  if (as.authorization_endpoint === undefined) throw missingMetadata("authorization_endpoint");
  const params = requestParameters(
    flags,
    embedded === undefined ? "openid" : "openid profile email",
  );

  await using listener = new CallbackListener(io, port);
  const redirectUri = listener.redirectUri;
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const openid = (params.get("scope") ?? "").split(" ").includes("openid");
  const nonce = openid ? oauth.generateRandomNonce() : undefined;
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
  out.info(`Waiting for the redirect to ${redirectUri} ...`);
  if (embedded !== undefined) {
    out.info("(embedded provider: signing in as alice automatically)");
    // Drive the provider's pages as a browser would, then hand its redirect to the listener as
    // the browser's request.
    const target = await embedded.login(authorizationUrl);
    await listener.handle(new Request(target)).body?.cancel();
  }
  const callback = await listener.wait(timeout);

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
