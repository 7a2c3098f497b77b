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
import { type HttpOptions, readFile, type Session, withDpopRetry } from "./_context.ts";
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
  token = token.trim();
  if (token === "") throw new UsageError(`the ${what} is empty`);
  return token;
}

/** `--scope`, `--resource` and `--param` as request parameters. */
export function requestParameters(flags: Flags, defaultScope?: string): URLSearchParams {
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
