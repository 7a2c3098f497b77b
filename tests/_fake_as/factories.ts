/**
 * The two ways to get a fake authorization server: {@link createFakeAs} (in-process, through
 * `customFetch`) and {@link startFakeAs} (on `Deno.serve` at a loopback port).
 *
 * @module
 */

import { FakeAs } from "./server.ts";
import type { FakeAsOptions } from "./types.ts";

function joinPath(origin: string, path: string | undefined): string {
  if (!path) return origin;
  return `${origin}${path.startsWith("/") ? "" : "/"}${path}`;
}

/**
 * Builds a fake authorization server with no socket. Use `server.fetch` as `customFetch`, or
 * spread `server.options` into a call's options.
 *
 * @param options Issuer, keys, client and metadata overrides.
 * @returns The server (disposing it does nothing).
 */
export function createFakeAs(options: FakeAsOptions = {}): FakeAs {
  const issuer = options.issuer ?? joinPath("https://as.example", options.path);
  const url = new URL(issuer);
  const mtlsOrigin = `${url.protocol}//mtls.${url.host}`;
  return new FakeAs({ issuer, mtlsOrigin, mtlsPrefix: "" }, options, "customFetch");
}

/**
 * Starts the fake authorization server on `Deno.serve` at `127.0.0.1`, port 0. The issuer is
 * `http://127.0.0.1:PORT` plus `options.path`; mTLS aliases are under `/mtls` on the same origin.
 * `server.options` holds `[allowInsecureRequests]: true`. Dispose it with `await using`.
 *
 * @param options Path, keys, client and metadata overrides (`issuer` is ignored).
 * @returns The server.
 */
export async function startFakeAs(
  options: Omit<FakeAsOptions, "issuer"> = {},
): Promise<FakeAs & { readonly port: number; readonly origin: string }> {
  const ref: { target?: FakeAs } = {};
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
    onError: (err) => new Response(`fake AS error: ${String(err)}`, { status: 500 }),
  }, (request) => ref.target!.handle(request));
  const addr = await listening;
  const origin = `http://127.0.0.1:${addr.port}`;
  let closed: Promise<void> | undefined;
  const dispose = () => (closed ??= server.shutdown().then(() => server.finished));
  const target = new FakeAs(
    { issuer: joinPath(origin, options.path), mtlsOrigin: origin, mtlsPrefix: "/mtls" },
    options,
    "insecure",
    dispose,
  );
  ref.target = target;
  return Object.assign(target, { port: addr.port, origin });
}
