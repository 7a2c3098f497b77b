/**
 * A command-line sign-in with the OAuth 2.0 Device Authorization Grant (RFC 8628): the CLI shows
 * a URL and a short code, the user approves on any other device, and the CLI polls the token
 * endpoint until the tokens arrive, honouring the server's `interval` and `slow_down`.
 *
 * ```sh
 * deno run -A examples/device_cli.ts     # against an embedded provider that approves itself
 * ISSUER=https://op.example CLIENT_ID=my-cli deno run -A examples/device_cli.ts
 * ```
 *
 * `CLIENT_SECRET` is optional: CLIs are usually public clients (`token_endpoint_auth_method`
 * `none`), since a secret shipped in a binary is no secret. `SCOPE` defaults to
 * `openid profile offline_access`.
 *
 * @module
 */

import * as oauth from "@authlane/oauth";

/** Options of {@linkcode runDeviceCli}. */
export interface DeviceCliOptions {
  /** The authorization server's issuer identifier. */
  issuer: URL;
  /** The CLI's client id. */
  clientId: string;
  /** The client secret of a confidential client; omit it for a public client. */
  clientSecret?: string;
  /** Scopes to ask for. @default "openid profile offline_access" */
  scope?: string;
  /** Writes a line for the user. @default console.log */
  print?: (line: string) => void;
  /** Called once the user code is known, after it is printed. */
  onAuthorization?: (device: oauth.DeviceAuthorizationResponse) => void;
  /** Waits between polls. @default a timer */
  wait?: (seconds: number) => Promise<void>;
  /** Allow `http:` server URLs (loopback development only). @default false */
  allowInsecureRequests?: boolean;
  /** A `fetch` replacement for every request. @default fetch */
  customFetch?: (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;
}

/** What {@linkcode runDeviceCli} obtained. */
export interface DeviceCliResult {
  /** The validated token response. */
  tokens: oauth.TokenEndpointResponse;
  /** The validated ID token claims, when `openid` was granted. */
  claims?: oauth.IDToken;
  /** Every wait before a poll, in seconds, in order. */
  waits: number[];
}

/** Thrown when the user code expires before the user approves. */
export class DeviceCodeExpiredError extends Error {
  /**
   * Creates the error.
   *
   * @param expiresIn The code's lifetime, in seconds.
   */
  constructor(expiresIn: number) {
    super(`the user code expired after ${expiresIn} s without approval; run the command again`);
    this.name = "DeviceCodeExpiredError";
  }
}

/** RFC 8628 §3.5: the default polling interval and the `slow_down` increment, in seconds. */
const DEFAULT_INTERVAL = 5;
const SLOW_DOWN_STEP = 5;

/**
 * Runs the device flow: discovery, device authorization, prompt, polling.
 *
 * @param options The server, the client, and how to print and wait.
 * @returns The tokens and, with `openid`, the ID token claims.
 * @throws {oauth.ResponseBodyError} When the user refuses (`access_denied`) or the server ends
 *   the flow (`expired_token`, `invalid_client`, …).
 * @throws {DeviceCodeExpiredError} When the code's lifetime runs out while polling.
 */
export async function runDeviceCli(options: DeviceCliOptions): Promise<DeviceCliResult> {
  const print = options.print ?? console.log;
  const wait = options.wait ??
    ((seconds: number) => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000)));
  const http = {
    [oauth.allowInsecureRequests]: options.allowInsecureRequests === true,
    ...(options.customFetch ? { [oauth.customFetch]: options.customFetch } : {}),
  };
  const as = await oauth.processDiscoveryResponse(
    options.issuer,
    await oauth.discoveryRequest(options.issuer, http),
  );
  const client: oauth.Client = { client_id: options.clientId };
  const clientAuth = options.clientSecret === undefined
    ? oauth.None()
    : oauth.ClientSecretBasic(options.clientSecret);

  // RFC 8628 §3.1-3.3: get the codes and show them.
  const device = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(as, client, clientAuth, {
      scope: options.scope ?? "openid profile offline_access",
    }, http),
  );
  print(`To sign in, open ${device.verification_uri} and enter the code ${device.user_code}`);
  if (device.verification_uri_complete !== undefined) {
    print(`(or open ${device.verification_uri_complete})`);
  }
  print(`Waiting for approval; the code expires in ${Math.round(device.expires_in / 60)} min.`);
  options.onAuthorization?.(device);

  // RFC 8628 §3.4-3.5: poll no faster than `interval`; `slow_down` adds 5 s for good.
  let interval = device.interval ?? DEFAULT_INTERVAL;
  let elapsed = 0;
  const waits: number[] = [];
  for (;;) {
    if (elapsed + interval > device.expires_in) throw new DeviceCodeExpiredError(device.expires_in);
    await wait(interval);
    waits.push(interval);
    elapsed += interval;
    const response = await oauth.deviceCodeGrantRequest(
      as,
      client,
      clientAuth,
      device.device_code,
      http,
    );
    try {
      const tokens = await oauth.processDeviceCodeResponse(as, client, response);
      return { tokens, claims: oauth.getValidatedIdTokenClaims(tokens), waits };
    } catch (err) {
      if (!(err instanceof oauth.ResponseBodyError)) throw err;
      if (err.error === "slow_down") interval += SLOW_DOWN_STEP;
      else if (err.error !== "authorization_pending") throw err; // access_denied, expired_token
    }
  }
}

if (import.meta.main) {
  const issuer = Deno.env.get("ISSUER");
  const scope = Deno.env.get("SCOPE");
  let result: DeviceCliResult;
  if (issuer !== undefined) {
    result = await runDeviceCli({
      issuer: new URL(issuer),
      clientId: Deno.env.get("CLIENT_ID") ?? "",
      clientSecret: Deno.env.get("CLIENT_SECRET"),
      scope,
    });
  } else {
    // No server given: start oidc-provider on loopback, and play the user on "another device"
    // by approving the code as soon as it is shown.
    const { startProvider } = await import("../tests/_oidc_provider.ts");
    await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
    let approval: Promise<void> | undefined;
    result = await runDeviceCli({
      issuer: new URL(op.issuer),
      clientId: op.clients.public.client_id,
      scope,
      allowInsecureRequests: true,
      onAuthorization: (device) => {
        console.log("(embedded provider: approving as alice from another device)");
        approval = op.approveDeviceCode(device.user_code);
      },
    });
    await approval;
  }
  const { tokens, claims } = result;
  console.log(`Signed in${claims ? ` as ${claims.sub}` : ""}.`);
  console.log({
    token_type: tokens.token_type,
    expires_in: tokens.expires_in,
    scope: tokens.scope,
    refresh_token: tokens.refresh_token ? "(received)" : "(none)",
  });
}
