/**
 * The Deno side of the runtime matrix: the control server every runtime's flow talks to
 * (tests/runtimes/_flow.mjs `connect()`), a child-process runner that never hangs, and the
 * assertions on the recorded steps, the same for every runtime.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  mtlsClientCredentials,
  type OidcProviderHarness,
  startProvider,
  type StartProviderOptions,
} from "../_oidc_provider.ts";
import { getPki } from "../_pki.ts";
import { BUNDLE, ROOT } from "./_tools.ts";

/** One result the flow recorded. */
export interface Step {
  step: string;
  [key: string]: unknown;
}

/** What the flow runs against; `GET /config` returns it. */
export interface FlowConfig {
  issuer: string;
  client_id: string;
  client_secret?: string;
  redirect_uri: string;
  resource: string;
  /** A client certificate and key, for the mTLS refusal (`mtlsFetch` outside Deno). */
  cert: string;
  key: string;
  [key: string]: unknown;
}

/** A running control server. */
export interface Control extends AsyncDisposable {
  /** Its base URL, `http://127.0.0.1:PORT/`. */
  readonly url: string;
  /** The steps recorded so far, in order. */
  readonly steps: Step[];
  /** Resolves when the flow records `done` or `error`. */
  readonly finished: Promise<void>;
  /** The recorded step called `name`; fails when there is none or more than one. */
  get(name: string): Step;
}

/**
 * Serves `/config`, `/authorize` (the end-user logs in at `op`) and `/step`, plus `routes`.
 * `config` may be a function, called on each `/config`, for values known after the start.
 */
export function startControl(options: {
  config: FlowConfig | (() => FlowConfig);
  op?: OidcProviderHarness;
  routes?: (request: Request, url: URL) => Promise<Response | undefined> | Response | undefined;
}): Control {
  const steps: Step[] = [];
  const finished = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/config") {
        const { config } = options;
        return Response.json(typeof config === "function" ? config() : config);
      }
      if (url.pathname === "/authorize" && request.method === "POST" && options.op) {
        const callback = await options.op.login(await request.text());
        return new Response(callback.href);
      }
      if (url.pathname === "/step" && request.method === "POST") {
        const step = JSON.parse(await request.text()) as Step;
        steps.push(step);
        if (step.step === "done" || step.step === "error") finished.resolve();
        return new Response(null, { status: 204 });
      }
      const routed = await options.routes?.(request, url);
      if (routed) return routed;
      await request.body?.cancel();
      return new Response("not found", { status: 404 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    steps,
    finished: finished.promise,
    get(name) {
      const matching = steps.filter((s) => s.step === name);
      assert.equal(matching.length, 1, `one step "${name}" in ${JSON.stringify(steps)}`);
      return matching[0]!;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** Rejects after `ms` with a message naming `what`. */
export async function within<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A finished child process. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, killing it after `timeoutMs`. */
export async function runProcess(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: Record<string, string>; cwd?: URL } = {},
): Promise<Ran> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000);
  try {
    const status = await child.status;
    return { code: status.code, stdout: await stdout, stderr: await stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** How many names the shipped bundle exports (what each runtime must see too). */
export async function bundleExportCount(): Promise<number> {
  return Object.keys(await import(BUNDLE.href)).length;
}

/** Fails with the bundle missing: the runtimes run exactly what `deno task build` wrote. */
export async function assertBundleBuilt(): Promise<void> {
  const stat = await Deno.stat(BUNDLE).catch(() => undefined);
  assert.ok(stat?.isFile, `${BUNDLE.pathname} is missing: run \`deno task build\``);
}

/** What a refusal must look like: the error's class, `code`, OAuth `error`, message. */
export interface Refusal {
  name: string;
  code: string;
  error?: string;
  challenge?: string;
  message: RegExp;
}

/** Asserts that `step` recorded the refusal `expected`. */
export function assertRefused(step: Step, expected: Refusal): void {
  const { message, ...rest } = expected;
  assert.deepEqual(
    {
      refused: step.refused,
      name: step.name,
      code: step.code,
      error: step.error,
      challenge: step.challenge,
    },
    { refused: true, error: undefined, challenge: undefined, ...rest },
    `${step.step}: ${JSON.stringify(step)}`,
  );
  assert.match(String(step.message), message, step.step);
}

const SIGNATURE_REFUSED: Refusal = {
  name: "OperationProcessingError",
  code: "OAUTH_INVALID_RESPONSE",
  message: /signature verification failed/,
};

// INVALID_RESPONSE, as oauth4webapi reports every DPoP defect at a resource server.
const DPOP_AS_BEARER_REFUSED: Refusal = {
  name: "OperationProcessingError",
  code: "OAUTH_INVALID_RESPONSE",
  message: /no DPoP HTTP Header/,
};

/** What every flow must have recorded, whatever the runtime. */
export interface Expected {
  /** `runtime.name` as the flow reports it. */
  runtime: "node" | "bun" | "workerd" | "browser";
  /** Matches `runtime.version` (e.g. `/^22\./`). */
  version: RegExp;
  op: OidcProviderHarness;
  clientId: string;
  /** Client credentials ran (a confidential client). */
  clientCredentials: boolean;
  /** The code flow's tokens are DPoP-bound. */
  dpop: boolean;
  /** The DPoP key pair went through IndexedDB between the two pages (the browser). */
  keyStorage?: boolean;
  exports: number;
}

/** The step names, in order, the flow must record. */
function expectedOrder(expected: Expected): string[] {
  const rs = (name: string, dpop: boolean) =>
    dpop ? [name, `${name}:tampered`, `${name}:as_bearer`] : [name, `${name}:tampered`];
  return [
    "runtime",
    "discovery",
    ...(expected.clientCredentials
      ? [
        "client_credentials",
        ...rs("client_credentials:rs", false),
        "dpop",
        ...rs("dpop:rs", true),
      ]
      : []),
    ...(expected.keyStorage ? ["dpop_key"] : []),
    "wrong_state",
    "code",
    "userinfo",
    "refresh",
    ...rs("refresh:rs", expected.dpop),
    "replay",
    "after_replay",
    "mtls",
    "done",
  ];
}

/** Asserts every step of the flow; `ran` (the process output) goes into the failure message. */
export function assertFlow(control: Control, expected: Expected, ran?: Ran): void {
  const error = control.steps.find((s) => s.step === "error");
  const detail = ran ? `\nstdout:\n${ran.stdout}\nstderr:\n${ran.stderr}` : "";
  assert.equal(error, undefined, `the flow failed: ${JSON.stringify(error)}${detail}`);
  assert.deepEqual(control.steps.map((s) => s.step), expectedOrder(expected), detail);

  const { op, clientId } = expected;
  const runtime = control.get("runtime");
  assert.equal(runtime.name, expected.runtime);
  assert.match(String(runtime.version), expected.version);
  assert.equal(runtime.deno, "undefined", "no Deno global");
  assert.equal(runtime.cryptoKey, "function", "CryptoKey is a global");
  assert.equal(runtime.exports, expected.exports, "the bundle's exports");

  assert.deepEqual(control.get("discovery"), { step: "discovery", issuer: op.issuer, dpop: true });

  if (expected.clientCredentials) {
    assert.equal(control.get("client_credentials").token_type, "bearer");
    assert.deepEqual(
      pick(control.get("client_credentials:rs"), ["client_id", "aud", "scope", "jkt"]),
      { client_id: clientId, aud: op.resource, scope: "api:read", jkt: undefined },
    );
    assertRefused(control.get("client_credentials:rs:tampered"), SIGNATURE_REFUSED);
    const dpop = control.get("dpop");
    assert.equal(dpop.token_type, "dpop");
    assert.equal(dpop.privateKeyIsCryptoKey, true);
    assert.equal(dpop.extractable, false, "generateKeyPair makes non-extractable keys");
    assert.match(String(dpop.thumbprint), /^[\w-]{43}$/);
    const bound = control.get("dpop:rs");
    assert.equal(bound.jkt, dpop.thumbprint, "cnf.jkt is the client's key thumbprint");
    assert.equal(bound.thumbprint, dpop.thumbprint);
    assert.equal(bound.client_id, clientId);
    assertRefused(control.get("dpop:rs:tampered"), SIGNATURE_REFUSED);
    assertRefused(control.get("dpop:rs:as_bearer"), DPOP_AS_BEARER_REFUSED);
  }

  if (expected.keyStorage) {
    assert.deepEqual(control.get("dpop_key"), {
      step: "dpop_key",
      privateKeyIsCryptoKey: true,
      extractable: false,
    });
  }
  assertRefused(control.get("wrong_state"), {
    name: "OperationProcessingError",
    code: "OAUTH_INVALID_RESPONSE",
    message: /"state"/,
  });
  assert.deepEqual(control.get("code"), {
    step: "code",
    token_type: expected.dpop ? "dpop" : "bearer",
    sub: "alice",
    aud: clientId,
    nonceMatches: true,
    hasRefreshToken: true,
    idTokenSignature: "verified",
  });
  assert.deepEqual(control.get("userinfo"), {
    step: "userinfo",
    sub: "alice",
    email: "alice@example.com",
  });
  assert.deepEqual(control.get("refresh"), {
    step: "refresh",
    token_type: expected.dpop ? "dpop" : "bearer",
    idTokenSub: "alice",
  });
  const refreshed = control.get("refresh:rs");
  assert.deepEqual(pick(refreshed, ["client_id", "aud", "sub", "scope"]), {
    client_id: clientId,
    aud: op.resource,
    sub: "alice",
    scope: "api:read",
  });
  if (expected.dpop) {
    assert.match(String(refreshed.jkt), /^[\w-]{43}$/);
    assert.equal(refreshed.jkt, refreshed.thumbprint, "the refreshed token is bound to the key");
    assertRefused(control.get("refresh:rs:as_bearer"), DPOP_AS_BEARER_REFUSED);
  } else {
    assert.equal(refreshed.jkt, undefined);
  }
  assertRefused(control.get("refresh:rs:tampered"), SIGNATURE_REFUSED);
  assertRefused(control.get("replay"), {
    name: "ResponseBodyError",
    code: "OAUTH_RESPONSE_BODY_ERROR",
    error: "invalid_grant",
    message: /error in the response body/,
  });
  assertRefused(control.get("after_replay"), {
    name: "WWWAuthenticateChallengeError",
    code: "OAUTH_WWW_AUTHENTICATE_CHALLENGE",
    challenge: "invalid_token",
    message: /WWW-Authenticate/,
  });
  assertRefused(control.get("mtls"), {
    name: "TypeError",
    code: "ERR_INVALID_ARG_VALUE",
    message: /Deno\.createHttpClient.*\[customFetch\]/,
  });
}

function pick(step: Step, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, step[key]]));
}

/** The oidc-provider configuration of the core flow (tests/runtimes/_flow.mjs). */
export const CORE_PROVIDER: StartProviderOptions = {
  // A token request without `resource` gets an access token for userinfo, even after the
  // authorization request named the API: the refresh asks for the API's JWT access token.
  features: { resourceIndicators: { defaultResource: () => undefined } },
};

/**
 * Runs the core flow of a server runtime (Node.js, Bun, workerd) as the confidential client
 * against oidc-provider: `run` starts the runtime on tests/runtimes/_flow.mjs with the control
 * server's URL and returns when it is done.
 */
export async function serverRuntimeFlow(
  run: string | ((control: string) => Promise<Ran>),
  expected: Pick<Expected, "runtime" | "version">,
): Promise<void> {
  await assertBundleBuilt();
  const [pki, exports] = await Promise.all([getPki(), bundleExportCount()]);
  await using op = await startProvider(CORE_PROVIDER);
  const client = op.clients.confidential;
  await using control = startControl({
    op,
    config: {
      issuer: op.issuer,
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uri: client.redirect_uri,
      resource: op.resource,
      cert: pki.ec.cert,
      key: pki.ec.key,
    },
  });
  const ran = typeof run === "string"
    ? await runProcess(
      run,
      ["tests/runtimes/_driver.mjs", BUNDLE.pathname, control.url, "core"],
      { cwd: ROOT },
    )
    : await run(control.url);
  assertFlow(control, {
    ...expected,
    op,
    clientId: client.client_id,
    clientCredentials: true,
    dpop: false,
    exports,
  }, ran);
  assert.equal(ran.code, 0, ran.stderr);
}

/** The mTLS client of tests/runtimes/_mtls_flow.mjs and the subject of the PKI's EC cert. */
const MTLS_CLIENT = "mtls-client";

/**
 * Runs the mTLS flow of a server runtime: oidc-provider over TLS with `tls_client_auth` and
 * certificate-bound access tokens; the runtime's `[customFetch]` presents the EC client
 * certificate of tests/_pki.ts.
 */
export async function mtlsRuntimeFlow(
  command: string,
  expected: { runtime: "node" | "bun"; version: RegExp; recipe: string; undici?: string },
): Promise<void> {
  await assertBundleBuilt();
  const pki = await getPki();
  await using op = await startProvider(
    mtlsClientCredentials(
      { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca },
      MTLS_CLIENT,
      "CN=ec",
    ),
  );
  await using control = startControl({
    op,
    config: {
      issuer: op.issuer,
      client_id: MTLS_CLIENT,
      redirect_uri: "",
      resource: op.resource,
      cert: pki.ec.cert,
      key: pki.ec.key,
      ca: pki.ca,
      otherCert: pki.rsa.cert,
      undici: expected.undici,
      recipe: expected.recipe,
    },
  });
  const ran = await runProcess(
    command,
    ["tests/runtimes/_driver.mjs", BUNDLE.pathname, control.url, "mtls"],
    { cwd: ROOT },
  );
  const error = control.steps.find((s) => s.step === "error");
  const detail = `\nstdout:\n${ran.stdout}\nstderr:\n${ran.stderr}`;
  assert.equal(error, undefined, `the flow failed: ${JSON.stringify(error)}${detail}`);
  assert.deepEqual(control.steps.map((s) => s.step), [
    "runtime",
    "discovery",
    "client_credentials",
    "rs",
    "rs:other_certificate",
    "rs:no_certificate",
    "introspection",
    "no_certificate",
    "done",
  ], detail);
  const runtime = control.get("runtime");
  assert.equal(runtime.name, expected.runtime);
  assert.match(String(runtime.version), expected.version);
  assert.equal(runtime.recipe, expected.recipe);
  assert.equal(control.get("discovery").issuer, op.issuer);
  // Both requests of the client went through the certificate-presenting [customFetch].
  assert.deepEqual(control.get("client_credentials"), {
    step: "client_credentials",
    token_type: "bearer",
    requests: ["/token"],
  });
  // The token is bound to the certificate: x5t#S256 as openssl computes it.
  assert.deepEqual(control.get("rs"), {
    step: "rs",
    client_id: MTLS_CLIENT,
    aud: op.resource,
    x5t: pki.ec.x5tS256,
  });
  assertRefused(control.get("rs:other_certificate"), {
    name: "OperationProcessingError",
    code: "OAUTH_JWT_CLAIM_COMPARISON_FAILED",
    message: /confirmation mismatch/,
  });
  assertRefused(control.get("rs:no_certificate"), {
    name: "OperationProcessingError",
    code: "OAUTH_INVALID_REQUEST",
    message: /certificate/,
  });
  assert.deepEqual(control.get("introspection"), {
    step: "introspection",
    active: true,
    client_id: MTLS_CLIENT,
    x5t: pki.ec.x5tS256,
    requests: ["/token", "/token", "/token/introspection"],
  });
  assertRefused(control.get("no_certificate"), {
    name: "ResponseBodyError",
    code: "OAUTH_RESPONSE_BODY_ERROR",
    error: "invalid_client",
    message: /error in the response body/,
  });
  assert.equal(ran.code, 0, ran.stderr);
}
