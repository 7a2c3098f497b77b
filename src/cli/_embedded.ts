/**
 * The embedded test provider behind `authlane login` and `authlane device` without `--issuer`:
 * the repository's oidc-provider harness (`tests/_oidc_provider.ts`), started on 127.0.0.1 with
 * the device flow (RFC 8628) switched on and a public native client whose loopback redirect URI
 * may use any port (RFC 8252 §7.3).
 *
 * The harness is not published, so it is loaded with a computed `import()` that `deno publish`
 * does not follow; from a published copy (or any non-`file:` location) the import is not even
 * attempted and the user is told to pass `--issuer`.
 *
 * @module
 */

import { UsageError } from "./_args.ts";
import type { CliIo, EmbeddedProvider } from "./_io.ts";
import type { Output } from "./_output.ts";

/** The `client_id` of the CLI's client at the embedded provider. */
export const EMBEDDED_CLIENT_ID = "authlane-cli";

/** The loopback redirect URI registered for it; any port is accepted (RFC 8252 §7.3). */
export const EMBEDDED_REDIRECT_URI = "http://127.0.0.1/callback";

/** The harness path, relative to this file. Kept in a variable so no tool resolves it. */
const HARNESS_PATH = ["..", "..", "tests", "_oidc_provider.ts"].join("/");

/** The part of the harness's `startProvider()` result the CLI uses. */
interface Harness {
  issuer: string;
  login(authorizationUrl: URL): Promise<URL>;
  approveDeviceCode(userCode: string): Promise<void>;
  close(): Promise<void>;
}

type StartProvider = (options: Record<string, unknown>) => Promise<Harness>;

/**
 * Starts the embedded provider (through `io.embedded`, so tests can wrap it).
 *
 * @param io I/O.
 * @param out Output, for the notice.
 * @returns The running provider.
 * @throws {UsageError} When the harness is not available (a published copy): pass `--issuer`.
 */
export async function startEmbeddedProvider(io: CliIo, out: Output): Promise<EmbeddedProvider> {
  const provider = await io.embedded(loadAndStart);
  out.info(
    `No --issuer given: using the embedded test provider at ${provider.issuer} ` +
      `(client ${provider.clientId}).`,
  );
  return provider;
}

async function loadAndStart(): Promise<EmbeddedProvider> {
  const url = new URL(HARNESS_PATH, import.meta.url);
  const unavailable = (reason: string) =>
    new UsageError(`no --issuer given and ${reason}: pass --issuer`);
  if (url.protocol !== "file:") {
    throw unavailable("the embedded test provider ships only with the source repository");
  }
  let startProvider: StartProvider;
  try {
    // Deliberately unanalyzable (deno publish warns, and does not try to include or resolve it):
    // the harness is not published.
    const module = await import(url.href);
    startProvider = module.startProvider;
  } catch (err) {
    const missing = err instanceof Error && /not found|cannot find|no such file/i.test(err.message);
    throw unavailable(
      missing
        ? "the embedded test provider (tests/_oidc_provider.ts) is not here"
        : `the embedded test provider could not be loaded (${
          err instanceof Error ? err.message.split("\n")[0] : String(err)
        })`,
    );
  }
  if (typeof startProvider !== "function") {
    throw unavailable("tests/_oidc_provider.ts has no startProvider()");
  }
  const harness = await startProvider({
    features: { deviceFlow: { enabled: true } },
    clients: [{
      client_id: EMBEDDED_CLIENT_ID,
      application_type: "native",
      token_endpoint_auth_method: "none",
      redirect_uris: [EMBEDDED_REDIRECT_URI],
      response_types: ["code"],
      grant_types: [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
      ],
    }],
  });
  return {
    issuer: harness.issuer,
    clientId: EMBEDDED_CLIENT_ID,
    login: (authorizationUrl) => harness.login(authorizationUrl),
    approveDeviceCode: (userCode) => harness.approveDeviceCode(userCode),
    close: () => harness.close(),
  };
}
