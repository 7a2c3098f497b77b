/**
 * Pieces the CLI's commands share: reading a token argument from argv, stdin, the environment or
 * a file; `--scope`/`--resource` (RFC 8707)/`--param` as request parameters; sending a token
 * request with one retry on a DPoP nonce error (RFC 9449 §8) and checking an ID token's
 * signature (OIDC Core §3.1.3.7); printing a token response (RFC 6749 §5.1).
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import { type Flags, quoteArgument, UsageError } from "./_args.ts";
import { type HttpOptions, type Session, withDpopRetry } from "./_context.ts";
import { readFile } from "./_keys.ts";
import type { CliIo } from "./_io.ts";
import { formatRecord, type Output } from "./_output.ts";

export function noPositionals(flags: Flags): void {
  if (flags.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${quoteArgument(flags.positionals[0]!)}`);
  }
}

/**
 * Reads the token argument from exactly one source: the positional argument (`-` for stdin),
 * `--token-env` or `--token-file`.
 */
export async function readToken(flags: Flags, io: CliIo, what: string): Promise<string> {
  if (flags.positionals.length > 1) {
    throw new UsageError(`unexpected argument ${quoteArgument(flags.positionals[1]!)}`);
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
  // A token copied from an Authorization header: "Bearer " / "DPoP " is not part of it.
  token = token.trim().replace(/^(Bearer|DPoP)\s+/i, "");
  if (token === "") throw new UsageError(`the ${what} is empty`);
  return token;
}

/**
 * Parameters a command sets itself, with what to use instead: `--param` may not give them, since
 * the command would send them twice or overwrite them without saying so.
 */
const OWNED_PARAMS: Readonly<Record<string, string>> = {
  grant_type: "the command chooses the grant type",
  client_id: "use --client-id",
  client_secret: "use --client-secret-env or --client-secret-file",
  client_assertion: "use --auth private_key_jwt or client_secret_jwt",
  client_assertion_type: "use --auth private_key_jwt or client_secret_jwt",
  code_challenge: "login makes the PKCE pair itself",
  code_challenge_method: "login makes the PKCE pair itself (S256)",
  code_verifier: "login makes the PKCE pair itself",
  response_type: "login is the code flow (response_type=code)",
  dpop_jkt: "use --dpop-key",
  request_uri: "use --par",
  code: "login receives the code on its redirect listener",
  refresh_token: "give the refresh token as the argument of refresh",
  device_code: "device gets the device code itself",
  subject_token: "give the subject token as the argument of token-exchange",
  actor_token: "use --actor-token-file",
};

/** Parameters that have a flag: `--param` may give them instead of the flag, not as well. */
const FLAG_PARAMS: Readonly<Record<string, string>> = {
  scope: "scope",
  redirect_uri: "redirect-uri",
  subject_token_type: "subject-token-type",
  actor_token_type: "actor-token-type",
  requested_token_type: "requested-token-type",
};

/** Warns about a scope value that looks comma-separated (RFC 6749 §3.3 separates by spaces). */
function warnCommaScope(value: string, source: string, out: Output): void {
  if (!value.includes(",")) return;
  out.info(
    `warning: ${source} ${JSON.stringify(value)} has a comma, but scopes are space-separated ` +
      `(RFC 6749 §3.3): the server gets ${
        value.split(" ").filter(Boolean).map((s) => JSON.stringify(s)).join(", ")
      }. For several scopes: --scope ${JSON.stringify(value.split(",").join(" "))}.`,
  );
}

/**
 * `--scope`, `--resource` and `--param` as request parameters.
 *
 * A `--param` that the command sets itself is refused; one that has a flag (scope, redirect_uri,
 * token types) stands in for that flag, with a note, and is refused next to it; the others are
 * sent as given. `login` takes `redirect_uri`, `state` and `nonce` from the result.
 *
 * @param flags The parsed flags.
 * @param out Output, for warnings and notes.
 * @param defaultScope The scope sent when none is given.
 * @returns The parameters.
 * @throws {UsageError} For a malformed or refused `--param`.
 */
export function requestParameters(
  flags: Flags,
  out: Output,
  defaultScope?: string,
): URLSearchParams {
  const params = new URLSearchParams();
  const extra: [string, string][] = [];
  for (const param of flags.list("param")) {
    const eq = param.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param must look like NAME=VALUE`);
    const name = param.slice(0, eq);
    const value = param.slice(eq + 1);
    const owned = OWNED_PARAMS[name];
    if (owned !== undefined) {
      throw new UsageError(`--param ${name}: the command sets ${name} itself (${owned})`);
    }
    const flag = FLAG_PARAMS[name];
    if (flag !== undefined && flags.has(flag)) {
      throw new UsageError(`give ${name} once: --${flag} or --param ${name}, not both`);
    }
    extra.push([name, value]);
  }
  for (const value of flags.list("scope")) warnCommaScope(value, "--scope", out);
  const scope = flags.list("scope").join(" ").trim();
  const paramScopes = extra.filter(([name]) => name === "scope");
  if (paramScopes.length > 0) {
    for (const [, value] of paramScopes) warnCommaScope(value, "--param scope", out);
    if (defaultScope !== undefined) {
      out.info(`note: --param scope replaces the default scope ${JSON.stringify(defaultScope)}`);
    }
  } else if (scope !== "") {
    params.set("scope", scope);
  } else if (defaultScope !== undefined && defaultScope !== "") {
    params.set("scope", defaultScope);
  }
  for (const resource of flags.list("resource")) params.append("resource", resource);
  for (const [name, value] of extra) params.append(name, value);
  return params;
}

export function requestOptions(session: Session): HttpOptions & oauth.DPoPRequestOptions {
  return session.dpop === undefined ? { ...session.http } : { ...session.http, DPoP: session.dpop };
}

/** Prints a token endpoint response and, when there is one, the validated ID token's claims. */
export async function printTokens(
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
export async function tokenRequest(
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

export function missingMetadata(attribute: string): oauth.OperationProcessingError {
  return new oauth.OperationProcessingError(`the server's metadata has no "${attribute}"`, {
    code: oauth.MISSING_SERVER_METADATA,
    cause: { attribute },
  });
}
