/**
 * authlane beyond Deno: `deno bundle` turns mod.ts into one self-contained ES module, and Node.js runs it against oidc-provider on loopback through tests/_node_smoke.mjs:
 * discovery, client credentials with a JWT access token validated as a resource server, DPoP,
 * the code flow with PKCE and ID token signature validation, userinfo and refresh, and the
 * library's refusals (wrong state, replayed code, the revoked token after it, mTLS without
 * Deno.createHttpClient).
 */
import assert from "node:assert/strict";
import { startProvider } from "./_oidc_provider.ts";
import { getPki } from "./_pki.ts";

const root = new URL("../", import.meta.url);

/** Runs a command to completion, failing with its stderr. */
async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `${command} ${args.join(" ")} failed:\n${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

/** Bundles mod.ts into `dir`; returns the file path. `--no-lock`: a test never writes deno.lock. */
async function bundle(dir: string): Promise<string> {
  const file = `${dir}/authlane.mjs`;
  await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--no-lock",
    "--platform",
    "browser",
    "--output",
    file,
    "mod.ts",
  ]);
  return file;
}

/** Reads newline-delimited JSON from a stream. */
async function* jsonLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<Step> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim() !== "") yield JSON.parse(line);
    }
  }
}

interface Step {
  step: string;
  [key: string]: unknown;
}

Deno.test("deno bundle makes mod.ts one self-contained ES module with no Deno API at load", async () => {
  const dir = await Deno.makeTempDir({ prefix: "authlane-bundle-" });
  try {
    const file = await bundle(dir);
    const source = await Deno.readTextFile(file);
    // Everything is inlined: no import of npm:, jsr:, node: or a file.
    assert.doesNotMatch(source, /^\s*import\s.*from\s/m);
    assert.doesNotMatch(source, /\bimport\(\s*["']/);
    assert.doesNotMatch(source, /["'](npm|jsr|node):/);
    // Deno is only read inside mtlsFetch, through globalThis.
    assert.doesNotMatch(source, /(?<![\w."])Deno\.(?!customInspect|createHttpClient)/);
    const size = (await Deno.stat(file)).size;
    assert.ok(size < 512 * 1024, `the bundle is ${size} bytes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the bundle runs under Node.js: discovery, client credentials, DPoP, code flow with ID token signature, refusals", async () => {
  const dir = await Deno.makeTempDir({ prefix: "authlane-node-" });
  try {
    const [file, pki] = await Promise.all([bundle(dir), getPki()]);
    await using op = await startProvider();
    const registered = op.clients.confidential;

    const child = new Deno.Command("node", {
      args: ["tests/_node_smoke.mjs", file],
      cwd: root,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const writer = child.stdin.getWriter();
    const send = (line: string) => writer.write(new TextEncoder().encode(`${line}\n`));
    const steps = new Map<string, Step>();
    try {
      await send(JSON.stringify({
        issuer: op.issuer,
        client_id: registered.client_id,
        client_secret: registered.client_secret,
        redirect_uri: registered.redirect_uri,
        resource: op.resource,
        cert: pki.ec.cert,
        key: pki.ec.key,
      }));
      for await (const step of jsonLines(child.stdout)) {
        steps.set(step.step, step);
        if (step.step === "authorize") {
          const callback = await op.login(step.url as string);
          await send(callback.href);
        }
      }
    } finally {
      await writer.close().catch(() => {});
    }
    const status = await child.status;
    const errors = await stderr;
    assert.equal(steps.get("error"), undefined, JSON.stringify(steps.get("error")) + errors);
    assert.equal(status.code, 0, errors);

    assert.equal(steps.get("runtime")?.deno, "undefined", "no Deno global under Node");
    assert.match(String(steps.get("runtime")?.node), /^\d+\./);
    assert.equal(steps.get("discovery")?.issuer, op.issuer);
    assert.deepEqual(
      {
        token_type: steps.get("client_credentials")?.token_type,
        client_id: steps.get("client_credentials")?.client_id,
        aud: steps.get("client_credentials")?.aud,
      },
      { token_type: "bearer", client_id: registered.client_id, aud: op.resource },
    );
    assert.equal(steps.get("dpop")?.token_type, "dpop");
    assert.equal(steps.get("dpop")?.privateKeyIsCryptoKey, true);
    assert.match(String(steps.get("dpop")?.thumbprint), /^[\w-]{43}$/);
    assert.deepEqual(
      { ...steps.get("wrong_state"), message: undefined },
      {
        step: "wrong_state",
        refused: true,
        name: "OperationProcessingError",
        code: "OAUTH_INVALID_RESPONSE",
        message: undefined,
      },
    );
    assert.deepEqual(steps.get("code"), {
      step: "code",
      sub: "alice",
      aud: registered.client_id,
      nonceMatches: true,
      hasRefreshToken: true,
    });
    assert.equal(steps.get("replay")?.refused, true);
    assert.equal(steps.get("replay")?.name, "ResponseBodyError");
    assert.equal(steps.get("replay")?.error, "invalid_grant");
    assert.equal(steps.get("userinfo_refresh")?.email, "alice@example.com");
    assert.equal(steps.get("userinfo_refresh")?.refreshedSub, "alice");
    assert.equal(steps.get("after_replay")?.refused, true);
    assert.equal(steps.get("after_replay")?.name, "WWWAuthenticateChallengeError");
    assert.equal(steps.get("after_replay")?.challenge, "invalid_token");
    assert.equal(steps.get("mtls")?.refused, true);
    assert.equal(steps.get("mtls")?.name, "TypeError");
    assert.equal(steps.get("mtls")?.code, "ERR_INVALID_ARG_VALUE");
    assert.ok(steps.has("done"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
