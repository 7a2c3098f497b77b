/**
 * The CLI's command table and the commands that are one request each: `discover` (OIDC Discovery
 * 1.0 §4 / RFC 8414 §3), `client-credentials` (RFC 6749 §4.4), `refresh` (§6), `token-exchange`
 * (RFC 8693 §2), `introspect` (RFC 7662 §2), `revoke` (RFC 7009 §2), `userinfo` (OIDC Core §5.3)
 * and `decode` (RFC 7519). `login`, `device` and `decode` live in their own files.
 *
 * @module
 */

// The CLI is a user of the package entry (../../mod.ts), so a program that imports both
// "@authlane/oauth" and "@authlane/oauth/cli" holds one copy of the library.
import * as oauth from "../../mod.ts";
import { type Flags, UsageError } from "./_args.ts";
import {
  openSession,
  readFile,
  type Session,
  type SessionNeeds,
  withDpopRetry,
} from "./_context.ts";
import { device } from "./_device.ts";
import type { CliIo } from "./_io.ts";
import { decode } from "./_decode.ts";
import { checkLoginFlags, login } from "./_login.ts";
import { formatRecord, type Output } from "./_output.ts";
import {
  noPositionals,
  printTokens,
  readToken,
  requestOptions,
  requestParameters,
  tokenRequest,
} from "./_shared.ts";

/** A command's implementation. */
export type Command = (flags: Flags, io: CliIo, out: Output) => Promise<void>;

/**
 * Runs `body` with a session opened for `needs`, closing it afterwards; `check` refuses flags
 * before any request.
 */
function withSession(
  needs: SessionNeeds,
  body: (session: Session, flags: Flags, io: CliIo, out: Output) => Promise<void>,
  check?: (flags: Flags) => void,
): Command {
  return async (flags, io, out) => {
    check?.(flags);
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
  "login": withSession({ embedded: true, authenticates: true }, login, checkLoginFlags),
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
// client-credentials, refresh, token-exchange

async function clientCredentials(session: Session, flags: Flags, _io: CliIo, out: Output) {
  noPositionals(flags);
  const { as, client, clientAuth } = session;
  const params = requestParameters(flags, out);
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
  const additionalParameters = requestParameters(flags, out);
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
  const params = requestParameters(flags, out);
  params.set("subject_token", await readToken(flags, io, "subject token"));
  // A type given as --param stands in for its flag (requestParameters refused both at once).
  const setType = (name: string, value: string | undefined, fallback: string) => {
    if (params.has(name)) return;
    if (value !== undefined || fallback !== "") params.set(name, tokenType(value, fallback));
  };
  setType("subject_token_type", flags.string("subject-token-type"), "access_token");
  const actorFile = flags.string("actor-token-file");
  if (actorFile !== undefined) {
    const actor = (await readFile(io, actorFile, "--actor-token-file")).trim();
    params.set("actor_token", actor);
    setType("actor_token_type", flags.string("actor-token-type"), "access_token");
  } else if (flags.has("actor-token-type")) {
    throw new UsageError("--actor-token-type needs --actor-token-file");
  }
  setType("requested_token_type", flags.string("requested-token-type"), "");
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
  // With --dpop-key the token is presented as a DPoP-bound one, with a proof (RFC 9449 §7.1).
  const result = await withDpopRetry(session, async () =>
    await oauth.processUserInfoResponse(
      as,
      client,
      flags.string("sub") ?? oauth.skipSubjectCheck,
      await oauth.userInfoRequest(as, client, accessToken, requestOptions(session)),
    ));
  const record: Record<string, unknown> = { ...result };
  out.result(record, () => formatRecord(record));
}
