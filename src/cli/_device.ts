/**
 * `authlane device`: the device authorization grant (RFC 8628): the device authorization request
 * (§3.1-3.2), the user code shown to the user (§3.3), and polling the token endpoint (§3.4-3.5)
 * every `interval` seconds (5 by default), 5 seconds slower after each `slow_down`, with a live
 * progress indicator, until the code is approved, refused or expired.
 *
 * @module
 */

import * as oauth from "../../mod.ts";
import type { Flags } from "./_args.ts";
import type { Session } from "./_context.ts";
import type { CliIo } from "./_io.ts";
import { type Output, Progress, ProtocolError } from "./_output.ts";
import {
  noPositionals,
  printTokens,
  requestOptions,
  requestParameters,
  tokenRequest,
} from "./_shared.ts";

export async function device(
  session: Session,
  flags: Flags,
  io: CliIo,
  out: Output,
): Promise<void> {
  noPositionals(flags);
  const { as, client, clientAuth, embedded } = session;
  const params = requestParameters(
    flags,
    out,
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
  // One clock for the deadline and the waits: a caller that replaces sleep() replaces now() too.
  const deadline = io.now() + authorization.expires_in * 1000;
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
      // RFC 8628 §3.5: the next poll may not come sooner than `interval`; when that is past the
      // code's expiry, no poll can succeed any more.
      const next = io.now() + interval * 1000;
      if (next > deadline) {
        throw new ProtocolError("the device code expired before it was approved", {
          error: "expired_token",
        });
      }
      progress.update(`waiting for approval (${status}); polling every ${interval}s`, () => {
        const now = io.now();
        const seconds = (t: number) => Math.max(0, Math.ceil((t - now) / 1000));
        return `poll ${poll}, next in ${seconds(next)}s, code expires in ${seconds(deadline)}s`;
      });
      await io.sleep(interval * 1000);
    }
  } finally {
    progress.stop();
  }
}
