/**
 * The benchmark workloads: for each, one operation as authlane does it, as oauth4webapi does it,
 * and the raw platform floor underneath (the Web Crypto operation for crypto-bound workloads, the
 * minimal Web-API parsing for the others), on identical inputs. Each workload also checks, before
 * anything is timed, that both libraries accept the good input and refuse the bad ones.
 *
 * @module
 */

import * as authlane from "../mod.ts";
import * as o4w from "oauth4webapi";
import {
  accessTokenClaims,
  asMetadata,
  b64u,
  CLIENT_ID,
  corruptSignature,
  discoveryDocument,
  type Fixtures,
  fromB64u,
  idTokenClaims,
  ISSUER,
  NONCE,
  RESOURCE,
  type SigningKey,
  signJws,
  STATE,
  tokenResponseText,
} from "./_fixtures.ts";

/** One side of a workload: authlane, oauth4webapi or the floor. */
export type Op<I> = (input: I) => unknown;

/** A benchmark workload. */
export interface Workload<I = unknown> {
  /** Short id, as in the issue ("1", "1s", ...). */
  id: string;
  /** What is measured. */
  title: string;
  /** Crypto-bound workloads are held to the Web Crypto floor; the others to oauth4webapi. */
  kind: "crypto" | "non-crypto";
  /** What the floor column measures. */
  floorLabel: string;
  /** Whether every op is synchronous (no `await` in the timing loop). */
  sync: boolean;
  /** Why the workload cannot run yet (an export still missing), or undefined. */
  pending?: string;
  /** Builds `n` fresh inputs (Responses, Requests, URLs): timed separately, never in the op. */
  build(n: number): I[] | Promise<I[]>;
  authlane: Op<I>;
  oauth4webapi: Op<I>;
  floor: Op<I>;
  /**
   * For crypto-bound workloads: the whole operation done with raw Web APIs and no checks (read the
   * input, decode the JWT, verify), i.e. what even a library with zero overhead would pay.
   */
  platform?: Op<I>;
  /** What the platform column measures. */
  platformLabel?: string;
  /** Correctness checks run before timing; returns the failures (empty when all pass). */
  check(): Promise<string[]>;
}

/** Exports that are still landing in authlane, looked up at run time. */
interface LandingApi {
  processDiscoveryResponse?: (expected: URL, response: Response) => Promise<{ issuer: string }>;
  validateAuthResponse?: (
    as: authlane.AuthorizationServer,
    client: authlane.Client,
    parameters: URLSearchParams | URL,
    expectedState?: string,
  ) => URLSearchParams;
  generateRandomCodeVerifier?: () => string;
  calculatePKCECodeChallenge?: (verifier: string) => Promise<string>;
}
const landing = authlane as unknown as LandingApi;

function missing(...names: (keyof LandingApi)[]): string | undefined {
  const absent = names.filter((name) => typeof landing[name] !== "function");
  return absent.length === 0 ? undefined : `authlane does not export ${absent.join(", ")} yet`;
}

const encoder = new TextEncoder();
const JSON_HEADERS = { "content-type": "application/json;charset=UTF-8" };
const encoded = new Map<string, Uint8Array<ArrayBuffer>>();

/**
 * A Response shaped like one `fetch` returns for a small JSON body: a byte body (copied, so no
 * two Responses share a buffer), `content-type` and `content-length`.
 */
function jsonResponse(text: string): Response {
  let bytes = encoded.get(text);
  if (bytes === undefined) {
    bytes = encoder.encode(text);
    encoded.set(text, bytes);
  }
  return new Response(bytes.slice(), {
    status: 200,
    headers: { ...JSON_HEADERS, "content-length": String(bytes.byteLength) },
  });
}

const blobUrls = new Map<string, string>();

/**
 * `n` Responses that `fetch()` produced (type "basic", `content-type` and `content-length` set),
 * without a network: `fetch()` of a `blob:` URL holding the body. This is what a server's small
 * JSON answer looks like to a library, and what a `[customFetch]` wrapping `fetch` hands it.
 */
async function fetchedResponses(text: string, n: number): Promise<Response[]> {
  let url = blobUrls.get(text);
  if (url === undefined) {
    url = URL.createObjectURL(
      new Blob([encoder.encode(text)], { type: JSON_HEADERS["content-type"] }),
    );
    blobUrls.set(text, url);
  }
  const out: Promise<Response>[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = fetch(url);
  return await Promise.all(out);
}

/** Bodies the loopback server answers, by index (registered before it starts). */
const loopbackBodies: string[] = [];
let loopbackOrigin: Promise<string> | undefined;

/** The index under which the loopback server answers `text` (`GET /<index>`). */
function loopbackPath(text: string): string {
  let index = loopbackBodies.indexOf(text);
  if (index === -1) index = loopbackBodies.push(text) - 1;
  return `/${index}`;
}

/**
 * Starts bench/_http_server.ts once, in a child process, with the bodies registered so far; it
 * dies with this process.
 */
function loopbackServer(): Promise<string> {
  return loopbackOrigin ??= (async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", new URL("_http_server.ts", import.meta.url).pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode(JSON.stringify(loopbackBodies)));
    await writer.close();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the loopback server exited");
      line += value;
    }
    reader.releaseLock();
    child.unref();
    globalThis.addEventListener("unload", () => child.kill());
    return `http://127.0.0.1:${line.trim()}`;
  })();
}

/**
 * `n` Responses `fetch()` produced over HTTP/1.1 on loopback, from a Deno.serve server in another
 * process: what a token endpoint's answer is to a library, with the socket reads `bytes()` and
 * `json()` do (one op for the whole body) and a header list as a server sends it.
 */
async function loopbackResponses(text: string, n: number): Promise<Response[]> {
  const path = loopbackPath(text);
  const origin = await loopbackServer();
  const out: Promise<Response>[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = fetch(`${origin}${path}`);
  return await Promise.all(out);
}

async function fetchedResponse(text: string): Promise<Response> {
  return (await fetchedResponses(text, 1))[0]!;
}

/**
 * `n` Responses that undici's `fetch()` produced, answered by a `MockAgent` (no socket): what an
 * application on Node.js (openid-client's default) or one with undici's `fetch` as its
 * `[customFetch]` hands a library. They are Response-likes, not instances of Deno's `Response`:
 * undici's own class, type "basic", with the `content-type` and `content-length` a server sends.
 */
async function undiciResponses(text: string, n: number): Promise<Response[]> {
  const { fetch, agent } = await undici();
  const path = undiciPath(agent, text);
  const out: Promise<Response>[] = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = fetch(`${ISSUER}${path}`, { method: "POST", dispatcher: agent }) as unknown as Promise<
      Response
    >;
  }
  return await Promise.all(out);
}

type Undici = typeof import("undici");
let undiciState: Promise<{ fetch: Undici["fetch"]; agent: InstanceType<Undici["MockAgent"]> }>;

/**
 * undici and its MockAgent, imported on first use: only the process of workload 1u loads it (and
 * Node.js's modules under it), so no other workload runs on a heap and JIT state it changed.
 */
function undici() {
  return undiciState ??= import("undici").then(({ fetch, MockAgent }) => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    return { fetch, agent };
  });
}

const undiciPaths = new Map<string, string>();

/** The MockAgent path that answers `text` (one persistent interceptor per body). */
function undiciPath(agent: InstanceType<Undici["MockAgent"]>, text: string): string {
  let path = undiciPaths.get(text);
  if (path === undefined) {
    path = `/token/${undiciPaths.size}`;
    undiciPaths.set(text, path);
    const bytes = encoder.encode(text);
    agent.get(ISSUER).intercept({ path, method: "POST" }).reply(200, bytes, {
      headers: { ...JSON_HEADERS, "content-length": String(bytes.byteLength) },
    }).persist();
  }
  return path;
}

function fill<T>(n: number, make: () => T): T[] {
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = make();
  return out;
}

/** Records a failure unless `fn` throws. */
async function refuses(
  failures: string[],
  label: string,
  fn: () => unknown,
): Promise<void> {
  try {
    await fn();
  } catch {
    return;
  }
  failures.push(`${label} was accepted`);
}

/** Records a failure when `fn` throws or `ok` is false. */
async function accepts<T>(
  failures: string[],
  label: string,
  fn: () => T | Promise<T>,
  ok: (value: T) => boolean,
): Promise<void> {
  try {
    const value = await fn();
    if (!ok(value)) failures.push(`${label} returned a wrong result`);
  } catch (err) {
    failures.push(`${label} threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
}

/**
 * A verify-only floor: the signature and signing input decoded once, and the key imported once
 * from the JWKS's JWK, as both libraries import it (a generated key can verify at another speed).
 */
async function verifyFloor(key: SigningKey, jws: string): Promise<() => Promise<boolean>> {
  const dot = jws.lastIndexOf(".");
  const data = encoder.encode(jws.slice(0, dot));
  const signature = fromB64u(jws.slice(dot + 1));
  const { alg: _alg, use: _use, kid: _kid, ...jwk } = key.publicJwk;
  const imported = await crypto.subtle.importKey(
    "jwk",
    jwk,
    key.alg === "ES256"
      ? { name: "ECDSA", namedCurve: "P-256" }
      : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
  return () => crypto.subtle.verify(key.params, imported, signature, data);
}

/** The ID-token workloads: 1 / 1s (ES256) and 2 / 2s (RS256). */
async function codeGrantWorkloads(
  f: Fixtures,
  key: SigningKey,
  ids: [string, string],
): Promise<Workload<Response>[]> {
  const sign = (overrides: Record<string, unknown> = {}) =>
    signJws(key, { kid: key.kid, typ: "JWT" }, idTokenClaims(f.now, overrides));
  const idToken = await sign();
  const body = tokenResponseText(idToken);
  const badSig = tokenResponseText(corruptSignature(idToken));
  const badAud = tokenResponseText(await sign({ aud: "someone-else" }));
  const badIss = tokenResponseText(await sign({ iss: "https://evil.example" }));

  const meta = asMetadata();
  const as = meta as unknown as authlane.AuthorizationServer;
  const oas = { ...meta } as unknown as o4w.AuthorizationServer;
  const client: authlane.Client = { client_id: CLIENT_ID, id_token_signed_response_alg: key.alg };
  const oclient: o4w.Client = { client_id: CLIENT_ID, id_token_signed_response_alg: key.alg };
  const jwksFetch = () => Promise.resolve(jsonResponse(f.jwksText));
  const aOpts = { [authlane.customFetch]: jwksFetch };
  const oOpts = { [o4w.customFetch]: jwksFetch };

  const al = async (res: Response, nonce = NONCE) => {
    const result = await authlane.processAuthorizationCodeResponse(as, client, res, {
      expectedNonce: nonce,
    });
    return authlane.getValidatedIdTokenClaims(result);
  };
  const ow = async (res: Response, nonce = NONCE) => {
    const result = await o4w.processAuthorizationCodeResponse(oas, oclient, res, {
      expectedNonce: nonce,
    });
    return o4w.getValidatedIdTokenClaims(result);
  };
  const alSig = async (res: Response) => {
    const claims = await al(res);
    await authlane.validateApplicationLevelSignature(as, res, aOpts);
    return claims;
  };
  const owSig = async (res: Response) => {
    const claims = await ow(res);
    await o4w.validateApplicationLevelSignature(oas, res, oOpts);
    return claims;
  };

  const checkClaims = (claims: { sub?: unknown; nonce?: unknown } | undefined) =>
    claims?.sub === "248289761001" && claims?.nonce === NONCE;
  // Every check runs on a fetch()-produced Response and on a constructed one.
  const both = async (text: string) => [await fetchedResponse(text), jsonResponse(text)];
  const claimChecks = async (failures: string[]) => {
    for (const [name, run] of [["authlane", al], ["oauth4webapi", ow]] as const) {
      for (const res of await both(body)) {
        await accepts(failures, `${name} valid response`, () => run(res), checkClaims);
      }
      for (const res of await both(body)) {
        await refuses(failures, `${name} wrong nonce`, () => run(res, "other-nonce"));
      }
      for (const res of await both(badAud)) {
        await refuses(failures, `${name} wrong audience`, () => run(res));
      }
      for (const res of await both(badIss)) {
        await refuses(failures, `${name} wrong issuer`, () => run(res));
      }
    }
  };
  const sigChecks = async (failures: string[]) => {
    await claimChecks(failures);
    for (const [name, run] of [["authlane", alSig], ["oauth4webapi", owSig]] as const) {
      for (const res of await both(body)) {
        await accepts(failures, `${name} valid signature`, () => run(res), checkClaims);
      }
      for (const res of await both(badSig)) {
        await refuses(failures, `${name} bad signature`, () => run(res));
      }
    }
  };

  const payload = idToken.split(".")[1]!;
  const build = (n: number) => fetchedResponses(body, n);
  const verify = await verifyFloor(key, idToken);
  const parseFloor = async (res: Response) => {
    const json = await res.json();
    void json.id_token;
    return JSON.parse(new TextDecoder().decode(fromB64u(payload)));
  };
  for (const text of [body, badAud, badIss]) loopbackPath(text);
  /**
   * Both libraries on responses `make` builds: the valid one accepted with its claims, a wrong
   * nonce, audience and issuer refused.
   */
  const checkOn = async (label: string, make: (text: string) => Promise<Response>) => {
    const failures: string[] = [];
    for (const [name, run] of [["authlane", al], ["oauth4webapi", ow]] as const) {
      await accepts(
        failures,
        `${name} valid ${label}`,
        async () => run(await make(body)),
        checkClaims,
      );
      await refuses(
        failures,
        `${name} ${label}, wrong nonce`,
        async () => run(await make(body), "other-nonce"),
      );
      await refuses(
        failures,
        `${name} ${label}, wrong audience`,
        async () => run(await make(badAud)),
      );
      await refuses(
        failures,
        `${name} ${label}, wrong issuer`,
        async () => run(await make(badIss)),
      );
    }
    return failures;
  };
  const constructed: Workload<Response>[] = key.alg !== "ES256" ? [] : [{
    id: `${ids[0]}h`,
    title: `code grant, ${key.alg} ID token (claims only), over loopback HTTP`,
    kind: "non-crypto",
    floorLabel: "Response.json() + JWT payload decode",
    sync: false,
    build: (n) => loopbackResponses(body, n),
    authlane: al,
    oauth4webapi: ow,
    floor: parseFloor,
    check: () => checkOn("HTTP response", async (text) => (await loopbackResponses(text, 1))[0]!),
  }, {
    id: `${ids[0]}c`,
    title: `code grant, ${key.alg} ID token (claims only), constructed Response`,
    kind: "non-crypto",
    floorLabel: "Response.json() + JWT payload decode",
    sync: false,
    build: (n) => fill(n, () => jsonResponse(body)),
    authlane: al,
    oauth4webapi: ow,
    floor: parseFloor,
    async check() {
      const failures: string[] = [];
      await claimChecks(failures);
      return failures;
    },
  }, {
    id: `${ids[0]}u`,
    title: `code grant, ${key.alg} ID token (claims only), undici's Response`,
    kind: "non-crypto",
    floorLabel: "Response.json() + JWT payload decode",
    sync: false,
    build: (n) => undiciResponses(body, n),
    authlane: al,
    oauth4webapi: ow,
    floor: parseFloor,
    async check() {
      const [res] = await undiciResponses(body, 1);
      await res!.body?.cancel();
      const failures = res instanceof Response ? ["undici's Response is this realm's"] : [];
      return [
        ...failures,
        ...await checkOn("undici response", async (text) => (await undiciResponses(text, 1))[0]!),
      ];
    },
  }];
  return [
    {
      id: ids[0],
      title: `code grant, ${key.alg} ID token (claims only)`,
      kind: "non-crypto",
      floorLabel: "Response.json() + JWT payload decode",
      sync: false,
      build,
      authlane: al,
      oauth4webapi: ow,
      floor: parseFloor,
      async check() {
        const failures: string[] = [];
        await claimChecks(failures);
        return failures;
      },
    },
    {
      id: ids[1],
      title: `code grant, ${key.alg} ID token + signature (JWKS cached)`,
      kind: "crypto",
      floorLabel: `crypto.subtle.verify ${key.alg}`,
      sync: false,
      build,
      authlane: alSig,
      oauth4webapi: owSig,
      floor: () => verify(),
      platform: async (res) => {
        await parseFloor(res);
        return await verify();
      },
      platformLabel: `Response.json() + JWT payload decode + crypto.subtle.verify ${key.alg}`,
      async check() {
        const failures: string[] = [];
        await sigChecks(failures);
        return failures;
      },
    },
    ...constructed,
  ];
}

/** Workload 3: RFC 9068 JWT access token validation at a resource server. */
async function accessTokenWorkload(f: Fixtures): Promise<Workload<Request>> {
  const key = f.es;
  const sign = (overrides: Record<string, unknown> = {}) =>
    signJws(key, { kid: key.kid, typ: "at+jwt" }, accessTokenClaims(f.now, overrides));
  const token = await sign();
  const badSig = corruptSignature(token);
  const badAud = await sign({ aud: "https://other-api.example.com" });
  const badIss = await sign({ iss: "https://evil.example" });
  const meta = asMetadata();
  const as = meta as unknown as authlane.AuthorizationServer;
  const oas = { ...meta } as unknown as o4w.AuthorizationServer;
  const jwksFetch = () => Promise.resolve(jsonResponse(f.jwksText));
  const aOpts = { [authlane.customFetch]: jwksFetch };
  const oOpts = { [o4w.customFetch]: jwksFetch };
  const url = `${RESOURCE}/v1/orders?limit=20`;
  const request = (jwt: string) =>
    new Request(url, { headers: { authorization: `Bearer ${jwt}` } });

  const al = (req: Request, audience = RESOURCE) =>
    authlane.validateJwtAccessToken(as, req, audience, aOpts);
  const ow = (req: Request, audience = RESOURCE) =>
    o4w.validateJwtAccessToken(oas, req, audience, oOpts);
  const verify = await verifyFloor(key, token);
  return {
    id: "3",
    title: "validateJwtAccessToken, ES256 at+jwt (JWKS cached)",
    kind: "crypto",
    floorLabel: "crypto.subtle.verify ES256",
    sync: false,
    build: (n) => fill(n, () => request(token)),
    authlane: (req) => al(req),
    oauth4webapi: (req) => ow(req),
    floor: () => verify(),
    platform: (req) => {
      const token = req.headers.get("authorization")!.slice(7);
      JSON.parse(new TextDecoder().decode(fromB64u(token.split(".")[1]!)));
      return verify();
    },
    platformLabel: "Authorization header + JWT payload decode + crypto.subtle.verify ES256",
    async check() {
      const failures: string[] = [];
      for (const [name, run] of [["authlane", al], ["oauth4webapi", ow]] as const) {
        await accepts(
          failures,
          `${name} valid token`,
          () => run(request(token)),
          (claims) => claims.client_id === CLIENT_ID && claims.sub === "248289761001",
        );
        await refuses(failures, `${name} bad signature`, () => run(request(badSig)));
        await refuses(failures, `${name} wrong audience (token)`, () => run(request(badAud)));
        await refuses(
          failures,
          `${name} wrong audience (expected)`,
          () => run(request(token), "https://x.example"),
        );
        await refuses(failures, `${name} wrong issuer`, () => run(request(badIss)));
      }
      return failures;
    },
  };
}

/** Workload 4: a DPoP-bound protected resource request (proof generation). */
function dpopWorkload(f: Fixtures): Workload<Response> {
  const accessToken = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
  const url = new URL(`${RESOURCE}/v1/orders?limit=20`);
  const client: authlane.Client = { client_id: CLIENT_ID };
  const aDPoP = authlane.DPoP(client, f.dpopKeys);
  const oDPoP = o4w.DPoP(client as o4w.Client, f.dpopKeys);
  let next: Response | undefined;
  let seen: Record<string, string> | undefined;
  const serve = (_url: string, init: { headers: Record<string, string> }) => {
    seen = init.headers;
    const res = next!;
    next = undefined;
    return Promise.resolve(res);
  };
  const lastHeaders = () => seen;
  const aOpts = { DPoP: aDPoP, [authlane.customFetch]: serve };
  const oOpts = { DPoP: oDPoP, [o4w.customFetch]: serve };
  const build = (n: number) =>
    fill(n, () => new Response('{"orders":[]}', { status: 200, headers: JSON_HEADERS }));
  const al = (res: Response) => {
    next = res;
    return authlane.protectedResourceRequest(accessToken, "GET", url, undefined, undefined, aOpts);
  };
  const ow = (res: Response) => {
    next = res;
    return o4w.protectedResourceRequest(accessToken, "GET", url, undefined, undefined, oOpts);
  };
  const sample = encoder.encode(
    `${b64u(new Uint8Array(220))}.${b64u(new Uint8Array(150))}`,
  );
  const params = { name: "ECDSA", hash: "SHA-256" };
  return {
    id: "4",
    title: "protectedResourceRequest with DPoP, ES256 proof",
    kind: "crypto",
    floorLabel: "SHA-256 (ath) + getRandomValues + crypto.subtle.sign ES256",
    sync: false,
    build,
    authlane: al,
    oauth4webapi: ow,
    floor: async () => {
      await crypto.subtle.digest("SHA-256", encoder.encode(accessToken));
      crypto.getRandomValues(new Uint8Array(32));
      return await crypto.subtle.sign(params, f.dpopKeys.privateKey, sample);
    },
    async check() {
      const failures: string[] = [];
      const ath = b64u(await crypto.subtle.digest("SHA-256", encoder.encode(accessToken)));
      for (const [name, run] of [["authlane", al], ["oauth4webapi", ow]] as const) {
        seen = undefined;
        const jtis = new Set<string>();
        for (let i = 0; i < 2; i++) {
          await run(build(1)[0]!);
          const sent = lastHeaders();
          const proof = sent?.dpop ?? sent?.DPoP;
          const auth = sent?.authorization ?? sent?.Authorization;
          if (auth !== `DPoP ${accessToken}`) failures.push(`${name} Authorization header`);
          if (proof === undefined) {
            failures.push(`${name} sent no DPoP proof`);
            continue;
          }
          const [h, p, s] = proof.split(".");
          const header = JSON.parse(new TextDecoder().decode(fromB64u(h!)));
          const claims = JSON.parse(new TextDecoder().decode(fromB64u(p!)));
          const ok = await crypto.subtle.verify(
            params,
            f.dpopKeys.publicKey,
            fromB64u(s!),
            encoder.encode(`${h}.${p}`),
          );
          if (!ok) failures.push(`${name} proof signature does not verify`);
          if (header.typ !== "dpop+jwt" || header.alg !== "ES256" || header.jwk?.kty !== "EC") {
            failures.push(`${name} proof header`);
          }
          if (
            claims.htm !== "GET" || claims.htu !== `${RESOURCE}/v1/orders` || claims.ath !== ath ||
            typeof claims.iat !== "number" || typeof claims.jti !== "string"
          ) {
            failures.push(`${name} proof claims ${JSON.stringify(claims)}`);
          }
          jtis.add(claims.jti);
        }
        if (jtis.size !== 2) failures.push(`${name} reused a jti`);
      }
      return failures;
    },
  };
}

/** Workload 5: processDiscoveryResponse on a ~3 KB document. */
function discoveryWorkload(f: Fixtures): Workload<Response> {
  const expected = new URL(ISSUER);
  const evil = JSON.stringify(discoveryDocument("https://evil.example"));
  const al = (res: Response) => landing.processDiscoveryResponse!(expected, res);
  const ow = (res: Response) => o4w.processDiscoveryResponse(expected, res);
  return {
    id: "5",
    title: `processDiscoveryResponse, ${(f.discoveryText.length / 1024).toFixed(1)} KB document`,
    kind: "non-crypto",
    floorLabel: "Response.json() + issuer compare",
    sync: false,
    pending: missing("processDiscoveryResponse"),
    build: (n) => fetchedResponses(f.discoveryText, n),
    authlane: al,
    oauth4webapi: ow,
    floor: async (res) => {
      const json = await res.json();
      if (json.issuer !== expected.href && `${json.issuer}/` !== expected.href) throw new Error();
      return json;
    },
    async check() {
      const failures: string[] = [];
      for (const [name, run] of [["authlane", al], ["oauth4webapi", ow]] as const) {
        for (const res of [await fetchedResponse(f.discoveryText), jsonResponse(f.discoveryText)]) {
          await accepts(
            failures,
            `${name} valid document`,
            () => run(res),
            (as) => as.issuer === ISSUER,
          );
        }
        for (const res of [await fetchedResponse(evil), jsonResponse(evil)]) {
          await refuses(failures, `${name} wrong issuer`, () => run(res));
        }
      }
      return failures;
    },
  };
}

/** Workload 6: validateAuthResponse on a callback URL with code, state and iss (RFC 9207). */
function authResponseWorkload(): Workload<URL> {
  const meta = asMetadata();
  const as = meta as unknown as authlane.AuthorizationServer;
  const oas = { ...meta } as unknown as o4w.AuthorizationServer;
  const client = { client_id: CLIENT_ID };
  const callback = (state: string, iss: string | undefined) => {
    const url = new URL("https://app.example.com/callback");
    url.searchParams.set("code", "SplxlOBeZQQYbYS6WxSbIA.e3W8cT4XoUYI8bL_T6r_xA");
    url.searchParams.set("state", state);
    if (iss !== undefined) url.searchParams.set("iss", iss);
    return url.href;
  };
  const good = callback(STATE, ISSUER);
  const al = (url: URL, state = STATE) => landing.validateAuthResponse!(as, client, url, state);
  const ow = (url: URL, state = STATE) => o4w.validateAuthResponse(oas, client, url, state);
  return {
    id: "6",
    title: "validateAuthResponse, callback with code, state and iss",
    kind: "non-crypto",
    floorLabel: "URL.searchParams + state/iss compare",
    sync: true,
    pending: missing("validateAuthResponse"),
    build: (n) => fill(n, () => new URL(good)),
    authlane: (url) => al(url),
    oauth4webapi: (url) => ow(url),
    floor: (url) => {
      const params = url.searchParams;
      if (params.get("state") !== STATE || params.get("iss") !== ISSUER || params.has("error")) {
        throw new Error("floor: bad callback");
      }
      return params;
    },
    async check() {
      const failures: string[] = [];
      for (const [name, run] of [["authlane", al], ["oauth4webapi", ow]] as const) {
        await accepts(
          failures,
          `${name} valid callback`,
          () => run(new URL(good)),
          (params) => params.get("code") === "SplxlOBeZQQYbYS6WxSbIA.e3W8cT4XoUYI8bL_T6r_xA",
        );
        await refuses(failures, `${name} wrong state`, () => run(new URL(good), "other-state"));
        await refuses(
          failures,
          `${name} wrong iss`,
          () => run(new URL(callback(STATE, "https://evil.example"))),
        );
        await refuses(
          failures,
          `${name} missing iss`,
          () => run(new URL(callback(STATE, undefined))),
        );
      }
      return failures;
    },
  };
}

/** Workload 7: PKCE code verifier + S256 challenge. */
function pkceWorkload(): Workload<undefined> {
  const al = async () => {
    const verifier = landing.generateRandomCodeVerifier!();
    return [verifier, await landing.calculatePKCECodeChallenge!(verifier)] as const;
  };
  const ow = async () => {
    const verifier = o4w.generateRandomCodeVerifier();
    return [verifier, await o4w.calculatePKCECodeChallenge(verifier)] as const;
  };
  return {
    id: "7",
    title: "PKCE: random code verifier + S256 challenge",
    kind: "non-crypto",
    floorLabel: "getRandomValues + SHA-256 + 2× base64url",
    sync: false,
    pending: missing("generateRandomCodeVerifier", "calculatePKCECodeChallenge"),
    build: (n) => new Array<undefined>(n).fill(undefined),
    authlane: al,
    oauth4webapi: ow,
    floor: async () => {
      const verifier = b64u(crypto.getRandomValues(new Uint8Array(32)));
      return [verifier, b64u(await crypto.subtle.digest("SHA-256", encoder.encode(verifier)))];
    },
    async check() {
      const failures: string[] = [];
      for (const [name, run] of [["authlane", al], ["oauth4webapi", ow]] as const) {
        const [v1, c1] = await run();
        const [v2] = await run();
        const expected = b64u(await crypto.subtle.digest("SHA-256", encoder.encode(v1)));
        if (!/^[A-Za-z0-9_-]{43,128}$/.test(v1)) failures.push(`${name} verifier shape`);
        if (v1 === v2) failures.push(`${name} verifier repeated`);
        if (c1 !== expected) failures.push(`${name} challenge is not S256 of the verifier`);
      }
      return failures;
    },
  };
}

/** All workloads, in the issue's order. */
export async function makeWorkloads(f: Fixtures): Promise<Workload[]> {
  const es = await codeGrantWorkloads(f, f.es, ["1", "1s"]);
  const rs = await codeGrantWorkloads(f, f.rs, ["2", "2s"]);
  return [
    ...es,
    ...rs,
    await accessTokenWorkload(f),
    dpopWorkload(f),
    discoveryWorkload(f),
    authResponseWorkload(),
    pkceWorkload(),
  ] as Workload[];
}
