/**
 * The server and lifecycle of the oidc-provider harness: {@linkcode startProvider} loads
 * oidc-provider (quietly), listens on 127.0.0.1 over `http:` or `https:` (with client
 * certificates requested for mTLS), mounts the provider under the issuer path, and assembles
 * the {@linkcode OidcProviderHarness} that closes the server when disposed.
 *
 * @module
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { buildConfiguration, exposed, RESOURCE } from "./configuration.ts";
import { interactions } from "./interactions.ts";
import { clientKeyPair, providerSigningKeys } from "./keys.ts";
import type { Any, OidcProviderHarness, StartProviderOptions } from "./types.ts";

/**
 * Starts oidc-provider on 127.0.0.1 and returns a harness to drive it.
 *
 * @param options Configuration overrides, extra clients, port.
 * @returns The running harness; dispose it with `await using` or `close()`.
 * @example Usage
 * ```ts ignore
 * await using op = await startProvider({ features: { deviceFlow: { enabled: true } } });
 * const discovery = await (await fetch(op.discoveryUrl)).json();
 * ```
 */
export async function startProvider(
  options: StartProviderOptions = {},
): Promise<OidcProviderHarness> {
  const { Provider, errors } = await loadOidcProvider();
  const [signingKeys, clientKey] = await Promise.all([providerSigningKeys(), clientKeyPair()]);

  const issuerPath = normalizeIssuerPath(options.issuerPath ?? "");
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (handler === undefined) {
      res.statusCode = 503;
      res.end();
      return;
    }
    if (issuerPath !== "") {
      // RFC 8414 §3.1: the metadata of an issuer with a path lives at the root well-known URL.
      const url = req.url ?? "/";
      const wellKnown = "/.well-known/oauth-authorization-server";
      // oidc-provider derives its mount path from req.originalUrl minus req.url (as Express does).
      const mounted = req as IncomingMessage & { originalUrl?: string };
      if (url === `${wellKnown}${issuerPath}` || url.startsWith(`${wellKnown}${issuerPath}?`)) {
        req.url = `${wellKnown}${url.slice(wellKnown.length + issuerPath.length)}`;
        mounted.originalUrl = `${issuerPath}${req.url}`;
      } else if (
        url === issuerPath || url.startsWith(`${issuerPath}/`) || url.startsWith(`${issuerPath}?`)
      ) {
        mounted.originalUrl = url;
        req.url = url.slice(issuerPath.length) || "/";
      } else {
        res.statusCode = 404;
        res.end();
        return;
      }
    }
    handler(req, res);
  };
  const tls = options.tls;
  const server: Server = tls === undefined ? createServer(listener) : createTlsServer({
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca,
    requestCert: true,
    rejectUnauthorized: false,
  }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = tls === undefined
    ? `http://127.0.0.1:${port}`
    : `https://${tls.hostname ?? "127.0.0.1"}:${port}`;
  const issuer = `${origin}${issuerPath}`;

  try {
    const { configuration, builtIn, registeredClients, resourceServers } = buildConfiguration(
      options,
      errors,
      signingKeys,
      clientKey,
    );

    const identifier = options.issuerIdentifier ?? issuer;
    const provider: Any = quietly(() => new Provider(identifier, configuration));
    provider.on("server_error", (_ctx: unknown, error: unknown) => {
      console.error("oidc-provider server_error:", error);
    });
    // Static clients are validated lazily; validate them now so bad metadata fails startup.
    for (const client of registeredClients) {
      let found: unknown;
      try {
        found = await provider.Client.find(client.client_id);
      } catch (cause) {
        const detail = (cause as { error_description?: string }).error_description;
        throw new Error(`client ${client.client_id} is invalid: ${detail ?? cause}`, { cause });
      }
      if (!found) throw new Error(`client ${client.client_id} did not register`);
    }
    handler = provider.callback();

    const browserFetch = options.fetch ?? globalThis.fetch;
    let closed: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closed ??= closeServer(server);
      return closed;
    };

    const { login, approveDeviceCode, completeBackchannel, logout } = interactions({
      provider,
      errors,
      origin,
      registeredClients,
      resourceServers,
      browserFetch,
    });

    const harness: OidcProviderHarness = {
      issuer: identifier,
      origin,
      port,
      discoveryUrl: `${issuer}/.well-known/openid-configuration`,
      provider,
      clients: {
        confidential: exposed(builtIn.confidential),
        public: exposed(builtIn.public),
        privateKeyJwt: exposed(builtIn.privateKeyJwt),
      },
      registeredClients,
      clientKey,
      jwks: { keys: signingKeys.public },
      resource: RESOURCE,
      url: (path: string) => new URL(`${issuer}${path.startsWith("/") ? path : `/${path}`}`),
      login,
      approveDeviceCode,
      completeBackchannel,
      logout,
      close,
      [Symbol.asyncDispose]: close,
    };
    return harness;
  } catch (error) {
    await closeServer(server);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Loading oidc-provider quietly

interface OidcProviderModule {
  Provider: Any;
  errors: Any;
}

let modulePromise: Promise<OidcProviderModule> | undefined;

/** Imports oidc-provider once, dropping its "Unsupported runtime" warning. */
function loadOidcProvider(): Promise<OidcProviderModule> {
  modulePromise ??= (async () => {
    const restore = muteProviderConsole();
    try {
      const mod = await import("oidc-provider");
      return { Provider: mod.default ?? mod.Provider, errors: mod.errors };
    } finally {
      restore();
    }
  })();
  return modulePromise;
}

/** Runs `fn` with oidc-provider's development warnings (devInteractions, keys) muted. */
function quietly<T>(fn: () => T): T {
  const restore = muteProviderConsole();
  try {
    return fn();
  } finally {
    restore();
  }
}

function muteProviderConsole(): () => void {
  const { warn, info } = console;
  const filter = (original: (...args: unknown[]) => void) => (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].includes("oidc-provider ")) return;
    original.apply(console, args);
  };
  console.warn = filter(warn);
  console.info = filter(info);
  return () => {
    console.warn = warn;
    console.info = info;
  };
}

// ---------------------------------------------------------------------------------------------
// Server

function normalizeIssuerPath(path: string): string {
  if (path === "" || path === "/") return "";
  const withSlash = path.startsWith("/") ? path : `/${path}`;
  return withSlash.endsWith("/") ? withSlash.slice(0, -1) : withSlash;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections?.();
  });
}
