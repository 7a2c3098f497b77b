/**
 * openid-client v6 on a chosen oauth4webapi implementation.
 *
 * openid-client (npm, a dev-only dependency pinned in deno.json) is built entirely on
 * oauth4webapi's API: its ESM build has one `import * as oauth from 'oauth4webapi'`. To run it on
 * authlane, {@linkcode loadOpenIdClient} reads that build from Deno's npm cache (where
 * `import.meta.resolve("openid-client")` points), writes a copy to a temporary directory with the
 * `oauth4webapi` specifier replaced by the library under test and every other bare specifier
 * (`jose/...`) replaced by its resolved URL, and imports the copy. Nothing of openid-client is
 * committed; the copy is removed once imported.
 *
 * - `"authlane"`: `import.meta.resolve("@authlane/oauth")`, so the sources run uses
 *   `src/index.ts` and the shipped run (tools/test.ts) uses `mod.ts`.
 * - `"oauth4webapi"`: the real oauth4webapi pinned in deno.json, through the same rewritten copy,
 *   so both runs execute the very same openid-client code.
 *
 * @module
 */

// A real import, not a type-only one: it keeps openid-client in Deno's module graph, so Deno
// installs it before the run and `import.meta.resolve("openid-client")` names its file.
import * as OpenIdClient from "openid-client";
// The same for the library under test: the copy imports it by URL at run time, which Deno's module
// graph cannot see; this edge lets tools/test.ts know these tests run on either entry.
import "@authlane/oauth";

/** The libraries openid-client can be pointed at. */
export const LIBRARIES = ["oauth4webapi", "authlane"] as const;
/** One of {@linkcode LIBRARIES}. */
export type Library = typeof LIBRARIES[number];
/** openid-client's module namespace. */
export type OpenIdClientModule = typeof OpenIdClient;

const loaded = new Map<Library, Promise<OpenIdClientModule>>();

/** The module specifier (a URL) that `oauth4webapi` becomes for `library`. */
export function entryOf(library: Library): string {
  return import.meta.resolve(library === "authlane" ? "@authlane/oauth" : "oauth4webapi");
}

/**
 * openid-client with its `oauth4webapi` import pointed at `library`; loaded once per library.
 *
 * @param library The implementation under openid-client.
 * @returns openid-client's module namespace.
 */
export function loadOpenIdClient(library: Library): Promise<OpenIdClientModule> {
  let module = loaded.get(library);
  if (module === undefined) {
    module = load(library);
    loaded.set(library, module);
  }
  return module;
}

async function load(library: Library): Promise<OpenIdClientModule> {
  const buildUrl = new URL(import.meta.resolve("openid-client"));
  if (buildUrl.protocol !== "file:") {
    throw new Error(`openid-client resolved to ${buildUrl.href}, not a file in Deno's npm cache`);
  }
  const source = await Deno.readTextFile(buildUrl);
  const entry = entryOf(library);
  let oauthImports = 0;
  const rewritten = source
    .replace(/^\/\/# sourceMappingURL=.*$/m, "")
    .replace(/(\bfrom\s*)(['"])([^'"]+)\2/g, (_match, from: string, _quote, specifier: string) => {
      if (specifier.startsWith(".") || specifier.startsWith("/")) {
        throw new Error(`openid-client's build imports a relative module (${specifier})`);
      }
      if (specifier === "oauth4webapi") oauthImports++;
      const target = specifier === "oauth4webapi" ? entry : import.meta.resolve(specifier);
      return `${from}${JSON.stringify(target)}`;
    });
  if (oauthImports === 0) throw new Error("openid-client's build no longer imports oauth4webapi");
  const dir = await Deno.makeTempDir({ prefix: `openid-client-on-${library}-` });
  try {
    const file = `${dir}/openid-client.mjs`;
    await Deno.writeTextFile(file, rewritten);
    const module = await import(new URL(`file://${file}`).href) as OpenIdClientModule;
    const expected = Object.keys(OpenIdClient).sort().join();
    if (Object.keys(module).sort().join() !== expected) {
      throw new Error("the rewritten openid-client does not export what the original does");
    }
    return module;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** One request openid-client made, as its `[customFetch]` saw it. */
export interface RecordedRequest {
  /** The HTTP method. */
  method: string;
  /** The URL. */
  url: URL;
  /** The response status. */
  status: number;
}

/** A `[customFetch]` for openid-client that records every request and can rewrite URLs. */
export interface Recorder {
  /** Pass as `[customFetch]`: forwards to `fetch`, after `rewrite`. */
  fetch: OpenIdClient.CustomFetch;
  /** Every request, in order. */
  readonly requests: RecordedRequest[];
  /** The requests whose path ends with `suffix`, e.g. `"/token"`. */
  to(suffix: string): RecordedRequest[];
}

/**
 * Builds a recording `[customFetch]`.
 *
 * @param rewrite Maps the URL openid-client asked for to the one fetched, and may rewrite the
 *   response (e.g. to emulate another server's metadata).
 * @returns The recorder.
 */
export function recorder(
  rewrite?: {
    url?: (url: URL) => URL;
    response?: (url: URL, response: Response) => Promise<Response> | Response;
  },
): Recorder {
  const requests: RecordedRequest[] = [];
  return {
    requests,
    async fetch(url, init) {
      const asked = new URL(url);
      const target = rewrite?.url?.(asked) ?? asked;
      let response = await fetch(target, init as RequestInit);
      if (rewrite?.response) response = await rewrite.response(asked, response);
      requests.push({ method: init.method ?? "GET", url: asked, status: response.status });
      return response;
    },
    to(suffix) {
      return requests.filter((r) => r.url.pathname.endsWith(suffix));
    },
  };
}

/**
 * A Response from another realm, as undici's `fetch` or an iframe's would return: the same
 * members and `Symbol.toStringTag`, but not `instanceof` this realm's `Response`.
 */
export class ForeignResponse {
  readonly #response: Response;
  constructor(response: Response) {
    this.#response = response;
  }
  get [Symbol.toStringTag](): string {
    return "Response";
  }
  get status(): number {
    return this.#response.status;
  }
  get statusText(): string {
    return this.#response.statusText;
  }
  get ok(): boolean {
    return this.#response.ok;
  }
  get headers(): Headers {
    return this.#response.headers;
  }
  get body(): ReadableStream<Uint8Array> | null {
    return this.#response.body;
  }
  get bodyUsed(): boolean {
    return this.#response.bodyUsed;
  }
  get type(): ResponseType {
    return this.#response.type;
  }
  get url(): string {
    return this.#response.url;
  }
  get redirected(): boolean {
    return this.#response.redirected;
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#response.arrayBuffer();
  }
  text(): Promise<string> {
    return this.#response.text();
  }
  json(): Promise<unknown> {
    return this.#response.json();
  }
  clone(): ForeignResponse {
    return new ForeignResponse(this.#response.clone());
  }
}

/** Wraps `response` as {@linkcode ForeignResponse}, typed as a `Response`. */
export function foreignResponse(response: Response): Response {
  return new ForeignResponse(response) as unknown as Response;
}
