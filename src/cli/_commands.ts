/**
 * The CLI's commands, each a short script over the public API: `discover` (OIDC Discovery 1.0
 * §4 / RFC 8414 §3), `login` (RFC 6749 §4.1 with RFC 7636 PKCE, RFC 8252 §7.3 loopback redirect,
 * RFC 9207 `iss`, RFC 9126 PAR, OIDC Core §3.1.3.7 ID token validation), `device` (RFC 8628 §3.4-
 * 3.5 polling with `interval` and `slow_down`), `client-credentials` (RFC 6749 §4.4), `refresh`
 * (§6), `token-exchange` (RFC 8693 §2), `introspect` (RFC 7662), `revoke` (RFC 7009), `userinfo`
 * (OIDC Core §5.3) and `decode`.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { type Flags, UsageError } from "./_args.ts";
import {
  checkInsecure,
  type HttpOptions,
  openSession,
  parseUrl,
  readFile,
  type Session,
  type SessionNeeds,
  withDpopRetry,
} from "./_context.ts";
import type { CliIo } from "./_io.ts";
import { decodeJwt, validateJwt } from "./_jwt.ts";
import { formatRecord, formatTimes, type Output, Progress, ProtocolError } from "./_output.ts";

/** A command's implementation. */
export type Command = (flags: Flags, io: CliIo, out: Output) => Promise<void>;

/** Runs `body` with a session opened for `needs`, closing it afterwards. */
function withSession(
  needs: SessionNeeds,
  body: (session: Session, flags: Flags, io: CliIo, out: Output) => Promise<void>,
): Command {
  return async (flags, io, out) => {
    const session = await openSession(flags, io, out, needs);
    try {
      await body(session, flags, io, out);
    } finally {
      await session.close();
    }
  };
}

/** Every command by name. */
export const COMMAND_RUNNERS: Readonly<Record<string, Command>> = {
  "discover": discoverCommand,
  "login": withSession({ embedded: true, authenticates: true }, login),
  "device": withSession({ embedded: true, authenticates: true }, device),
  "client-credentials": withSession({ authenticates: true }, clientCredentials),
  "refresh": withSession({ authenticates: true }, refresh),
  "token-exchange": withSession({ authenticates: true }, tokenExchange),
  "introspect": withSession({ authenticates: true }, introspect),
  "revoke": withSession({ authenticates: true }, revoke),
  "userinfo": withSession({}, userinfo),
  "decode": decode,
};

// ---------------------------------------------------------------------------------------------
// Shared pieces

function noPositionals(flags: Flags): void {
  if (flags.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(flags.positionals[0])}`);
  }
}

/**
 * Reads the token argument from exactly one source: the positional argument (`-` for stdin),
 * `--token-env` or `--token-file`.
 */
async function readToken(flags: Flags, io: CliIo, what: string): Promise<string> {
  if (flags.positionals.length > 1) {
    throw new UsageError(`unexpected argument ${JSON.stringify(flags.positionals[1])}`);
  }
  const positional = flags.positionals[0];
  const sources = [positional, flags.string("token-env"), flags.string("token-file")]
    .filter((source) => source !== undefined);
  if (sources.length !== 1) {
    throw new UsageError(
      `give the ${what} once: as an argument ("-" reads stdin), --token-env NAME or --token-file PATH`,
    );
  }
  let token: string;
  if (positional === "-") {
    token = await io.readStdin();
  } else if (positional !== undefined) {
    token = positional;
  } else if (flags.has("token-env")) {
    const name = flags.string("token-env")!;
    token = io.env(name) ?? "";
    if (token === "") throw new UsageError(`--token-env: environment variable ${name} is not set`);
  } else {
    token = await readFile(io, flags.string("token-file")!, "--token-file");
  }
  token = token.trim();
  if (token === "") throw new UsageError(`the ${what} is empty`);
  return token;
}

/** `--scope`, `--resource` and `--param` as request parameters. */
function requestParameters(flags: Flags, defaultScope?: string): URLSearchParams {
  const params = new URLSearchParams();
  const scope = flags.list("scope").join(" ").trim() || defaultScope;
  if (scope !== undefined && scope !== "") params.set("scope", scope);
  for (const resource of flags.list("resource")) params.append("resource", resource);
  for (const param of flags.list("param")) {
    const eq = param.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param must look like NAME=VALUE`);
    params.append(param.slice(0, eq), param.slice(eq + 1));
  }
  return params;
}

function requestOptions(session: Session): HttpOptions & oauth.DPoPRequestOptions {
  return session.dpop === undefined ? { ...session.http } : { ...session.http, DPoP: session.dpop };
}

/** Prints a token endpoint response and, when there is one, the validated ID token's claims. */
async function printTokens(
  out: Output,
  session: Session,
  tokens: oauth.TokenEndpointResponse,
): Promise<void> {
  const record: Record<string, unknown> = { ...tokens };
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  const dpopJkt = tokens.token_type === "dpop" && session.dpop !== undefined
    ? await session.dpop.calculateThumbprint()
    : undefined;
  const extra: Record<string, unknown> = {};
  if (claims !== undefined) extra.id_token_claims = { ...claims };
  if (dpopJkt !== undefined) extra.dpop_jkt = dpopJkt;
  out.result({ ...record, ...extra }, () => {
    let text = formatRecord(record);
    if (dpopJkt !== undefined) text += formatRecord({ dpop_jkt: dpopJkt });
    if (claims !== undefined) {
      text += `\nID token claims (validated):\n${JSON.stringify(claims, null, 2)}\n`;
    }
    return text;
  });
}

/**
 * Sends a token request and processes its response (once more on a DPoP nonce error); an ID
 * token in it also gets its signature checked against the issuer's keys, which OIDC Core
 * §3.1.3.7 (6) would let a client skip for a direct TLS response.
 */
async function tokenRequest(
  session: Session,
  send: () => Promise<Response>,
  process: (response: Response) => Promise<oauth.TokenEndpointResponse>,
): Promise<oauth.TokenEndpointResponse> {
  return await withDpopRetry(session, async () => {
    const response = await send();
    const tokens = await process(response);
    if (tokens.id_token !== undefined) {
      await oauth.validateApplicationLevelSignature(session.as, response, session.plainHttp);
    }
    return tokens;
  });
}

function missingMetadata(attribute: string): oauth.OperationProcessingError {
  return new oauth.OperationProcessingError(`the server's metadata has no "${attribute}"`, {
    code: oauth.MISSING_SERVER_METADATA,
    cause: { attribute },
  });
}

// ---------------------------------------------------------------------------------------------
// discover

async function discoverCommand(flags: Flags, io: CliIo, out: Output): Promise<void> {
  noPositionals(flags);
  const session = await openSession(flags, io, out, {});
  try {
    const metadata = session.as;
    out.result(metadata, () => formatRecord({ ...metadata }));
  } finally {
    await session.close();
  }
}

// ---------------------------------------------------------------------------------------------
// login

const CALLBACK_PATH = "/callback";

const CALLBACK_PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>authlane</title>` +
  `</head><body><p>Signed in. You can close this window and return to the terminal.</p>` +
  `</body></html>`;

/** The loopback redirect listener (RFC 8252 §7.3): one callback, then it stops. */
class CallbackListener implements AsyncDisposable {
  readonly port: number;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #received: PromiseWithResolvers<URL>;

  private constructor(
    server: Deno.HttpServer<Deno.NetAddr>,
    received: PromiseWithResolvers<URL>,
  ) {
    this.#server = server;
    this.#received = received;
    this.port = server.addr.port;
  }

  static start(port: number): CallbackListener {
    const received = Promise.withResolvers<URL>();
    let done = false;
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (request) => {
        const url = new URL(request.url);
        if (url.pathname !== CALLBACK_PATH || request.method !== "GET") {
          return new Response("not found", { status: 404 });
        }
        if (done) return new Response("already received", { status: 409 });
        done = true;
        received.resolve(url);
        return new Response(CALLBACK_PAGE, {
          headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
        });
      });
    } catch (err) {
      if (err instanceof Deno.errors.AddrInUse) {
        throw new UsageError(`--port ${port}: the port is in use`);
      }
      throw err;
    }
    return new CallbackListener(server, received);
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
        () => reject(new ProtocolError(`no redirect arrived within ${seconds}s`)),
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
    await this.#server.shutdown();
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

async function login(session: Session, flags: Flags, _io: CliIo, out: Output): Promise<void> {
  noPositionals(flags);
  const { as, client, clientAuth, embedded } = session;
  const port = parsePort(flags.string("port"));
  const timeout = parseSeconds(flags.string("timeout"), 300, "--timeout");
  if (as.authorization_endpoint === undefined) throw missingMetadata("authorization_endpoint");
  const params = requestParameters(
    flags,
    embedded === undefined ? "openid" : "openid profile email",
  );

  await using listener = CallbackListener.start(port);
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
    // Drive the provider's pages as a browser would, then deliver its redirect to the listener.
    const target = await embedded.login(authorizationUrl);
    const delivered = await fetch(target, { redirect: "manual" });
    await delivered.body?.cancel();
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

// ---------------------------------------------------------------------------------------------
// device

async function device(session: Session, flags: Flags, io: CliIo, out: Output): Promise<void> {
  noPositionals(flags);
  const { as, client, clientAuth, embedded } = session;
  const params = requestParameters(
    flags,
    embedded === undefined ? undefined : "openid profile email",
  );
  const authorization = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(as, client, clientAuth, params, session.http),
  );
  const { user_code, verification_uri, verification_uri_complete } = authorization;
  out.info(
    `To sign in, visit\n\n  ${verification_uri}\n\nand enter the code\n\n  ${user_code}\n` +
      (verification_uri_complete === undefined ? "" : `\n(or open ${verification_uri_complete})\n`),
  );

  let approvalFailure: unknown;
  let approval: Promise<void> | undefined;
  if (embedded !== undefined) {
    out.info("(embedded provider: approving as alice automatically)");
    approval = embedded.approveDeviceCode(user_code).catch((err) => {
      approvalFailure = err;
    });
  }

  try {
    const tokens = await pollDeviceCode(session, authorization, io, () => approvalFailure);
    await printTokens(out, session, tokens);
  } finally {
    await approval;
  }
}

/** RFC 8628 §3.4-3.5: polls until approved, waiting `interval` (5 s more after `slow_down`). */
async function pollDeviceCode(
  session: Session,
  authorization: oauth.DeviceAuthorizationResponse,
  io: CliIo,
  failure: () => unknown,
): Promise<oauth.TokenEndpointResponse> {
  const { as, client, clientAuth } = session;
  let interval = authorization.interval ?? 5;
  const deadline = Date.now() + authorization.expires_in * 1000;
  const progress = new Progress(io);
  try {
    for (let poll = 1;; poll++) {
      let status: string;
      try {
        const tokens = await tokenRequest(
          session,
          () =>
            oauth.deviceCodeGrantRequest(
              as,
              client,
              clientAuth,
              authorization.device_code,
              requestOptions(session),
            ),
          (response) => oauth.processDeviceCodeResponse(as, client, response),
        );
        progress.stop("Approved.");
        return tokens;
      } catch (err) {
        if (!(err instanceof oauth.ResponseBodyError)) throw err;
        if (err.error === "slow_down") interval += 5;
        else if (err.error !== "authorization_pending") throw err;
        status = err.error;
      }
      const embeddedFailure = failure();
      if (embeddedFailure !== undefined) throw embeddedFailure;
      const left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) {
        throw new ProtocolError("the device code expired before it was approved", {
          error: "expired_token",
        });
      }
      const next = Date.now() + interval * 1000;
      progress.update(`waiting for approval (${status}); polling every ${interval}s`, () => {
        const now = Date.now();
        const seconds = (t: number) => Math.max(0, Math.ceil((t - now) / 1000));
        return `poll ${poll}, next in ${seconds(next)}s, code expires in ${seconds(deadline)}s`;
      });
      await io.sleep(interval * 1000);
    }
  } finally {
    progress.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// client-credentials, refresh, token-exchange

async function clientCredentials(session: Session, flags: Flags, _io: CliIo, out: Output) {
  noPositionals(flags);
  const { as, client, clientAuth } = session;
  const params = requestParameters(flags);
  const tokens = await tokenRequest(
    session,
    () =>
      oauth.clientCredentialsGrantRequest(as, client, clientAuth, params, requestOptions(session)),
    (response) => oauth.processClientCredentialsResponse(as, client, response),
  );
  await printTokens(out, session, tokens);
}

async function refresh(session: Session, flags: Flags, io: CliIo, out: Output): Promise<void> {
  const { as, client, clientAuth } = session;
  const refreshToken = await readToken(flags, io, "refresh token");
  const additionalParameters = requestParameters(flags);
  const tokens = await tokenRequest(
    session,
    () =>
      oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, {
        ...requestOptions(session),
        additionalParameters,
      }),
    (response) => oauth.processRefreshTokenResponse(as, client, response),
  );
  await printTokens(out, session, tokens);
}

const TOKEN_TYPE_PREFIX = "urn:ietf:params:oauth:token-type:";
const SHORT_TOKEN_TYPES = new Set([
  "access_token",
  "refresh_token",
  "id_token",
  "jwt",
  "saml1",
  "saml2",
]);

/** RFC 8693 §3: token type identifiers, with short names for the registered ones. */
function tokenType(value: string | undefined, fallback: string): string {
  const type = value ?? fallback;
  return SHORT_TOKEN_TYPES.has(type) ? `${TOKEN_TYPE_PREFIX}${type}` : type;
}

async function tokenExchange(session: Session, flags: Flags, io: CliIo, out: Output) {
  const { as, client, clientAuth } = session;
  const params = requestParameters(flags);
  params.set("subject_token", await readToken(flags, io, "subject token"));
  params.set("subject_token_type", tokenType(flags.string("subject-token-type"), "access_token"));
  const actorFile = flags.string("actor-token-file");
  if (actorFile !== undefined) {
    const actor = (await readFile(io, actorFile, "--actor-token-file")).trim();
    params.set("actor_token", actor);
    params.set("actor_token_type", tokenType(flags.string("actor-token-type"), "access_token"));
  } else if (flags.has("actor-token-type")) {
    throw new UsageError("--actor-token-type needs --actor-token-file");
  }
  const requested = flags.string("requested-token-type");
  if (requested !== undefined) params.set("requested_token_type", tokenType(requested, ""));
  for (const audience of flags.list("audience")) params.append("audience", audience);
  const tokens = await tokenRequest(
    session,
    () =>
      oauth.genericTokenEndpointRequest(
        as,
        client,
        clientAuth,
        "urn:ietf:params:oauth:grant-type:token-exchange",
        params,
        requestOptions(session),
      ),
    (response) => oauth.processGenericTokenEndpointResponse(as, client, response),
  );
  await printTokens(out, session, tokens);
}

// ---------------------------------------------------------------------------------------------
// introspect, revoke, userinfo

function tokenTypeHint(flags: Flags): Record<string, string> {
  const hint = flags.string("token-type-hint");
  return hint === undefined ? {} : { token_type_hint: hint };
}

async function introspect(session: Session, flags: Flags, io: CliIo, out: Output): Promise<void> {
  const { as, client, clientAuth } = session;
  const token = await readToken(flags, io, "token");
  const result = await oauth.processIntrospectionResponse(
    as,
    client,
    await oauth.introspectionRequest(as, client, clientAuth, token, {
      ...session.http,
      additionalParameters: tokenTypeHint(flags),
    }),
  );
  const record: Record<string, unknown> = { ...result };
  out.result(record, () => formatRecord(record));
}

async function revoke(session: Session, flags: Flags, io: CliIo, out: Output): Promise<void> {
  const { as, client, clientAuth } = session;
  const token = await readToken(flags, io, "token");
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, clientAuth, token, {
      ...session.http,
      additionalParameters: tokenTypeHint(flags),
    }),
  );
  out.result({ revoked: true }, () => "Revoked.\n");
}

async function userinfo(session: Session, flags: Flags, io: CliIo, out: Output): Promise<void> {
  const { as, client } = session;
  const accessToken = await readToken(flags, io, "access token");
  const result = await oauth.processUserInfoResponse(
    as,
    client,
    flags.string("sub") ?? oauth.skipSubjectCheck,
    await oauth.userInfoRequest(as, client, accessToken, session.http),
  );
  const record: Record<string, unknown> = { ...result };
  out.result(record, () => formatRecord(record));
}

// ---------------------------------------------------------------------------------------------
// decode

async function decode(flags: Flags, io: CliIo, out: Output): Promise<void> {
  const jwt = decodeJwt(await readToken(flags, io, "JWT"));
  const now = Math.floor(Date.now() / 1000);
  const issuer = flags.string("issuer");
  if (issuer === undefined && flags.has("audience")) {
    throw new UsageError("--audience checks need --issuer");
  }
  let validated: Awaited<ReturnType<typeof validateJwt>> | undefined;
  if (issuer !== undefined) {
    const url = parseUrl(issuer, "--issuer");
    checkInsecure(url, flags.boolean("insecure"), out);
    const session = await openSession(flags, io, out, {});
    try {
      validated = await validateJwt(jwt, session.as, session.plainHttp, {
        audience: flags.string("audience"),
        now,
      });
    } finally {
      await session.close();
    }
  }
  out.result(
    { header: jwt.header, claims: jwt.claims, ...(validated ? { validated } : {}) },
    () => {
      let text = `Header:\n${JSON.stringify(jwt.header, null, 2)}\n\n` +
        `Claims:\n${JSON.stringify(jwt.claims, null, 2)}\n`;
      const times = formatTimes(jwt.claims, now);
      if (times !== "") text += `\n${times}`;
      text += validated === undefined
        ? "\nNot validated (pass --issuer to check the signature, iss and exp).\n"
        : `\nValid: ${validated.alg} signature by ${
          validated.kid === undefined ? "a key" : `key ${validated.kid}`
        } of ${validated.jwks_uri}; iss is ${validated.issuer}; not expired.\n`;
      return text;
    },
  );
}
