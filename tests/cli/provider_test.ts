// `deno task provider` as a user meets it: started as its own process, its printed issuer and
// ready-to-paste commands read from stdout, and every one of those commands run (in-process,
// through main()) against it: discover, login (a real loopback listener, the browser played by
// the harness's page driver), device, client-credentials with a secret file, a private_key_jwt
// key and mTLS, login --dpop-key and userinfo with the same key. Then Ctrl-C (SIGINT) stops it
// and removes its files.

import assert from "node:assert/strict";
import { type CliIo, main } from "../../src/cli/mod.ts";
import { interactions } from "../_oidc_provider/interactions.ts";

const REPO = new URL("../../", import.meta.url);

interface Started {
  child: Deno.ChildProcess;
  banner: string;
  rest: ReadableStreamDefaultReader<Uint8Array>;
}

/** Starts `deno run -A tools/provider.ts --port 0` and reads its banner up to `Ready.`. */
async function startProviderProcess(): Promise<Started> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/provider.ts", "--port", "0"],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let banner = "";
  while (!banner.includes("\nReady.\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the provider exited before it was ready:\n${banner}`);
    banner += decoder.decode(value, { stream: true });
  }
  return { child, banner, rest: reader };
}

/** The commands the banner offers, as argument lists for main(). */
function commands(banner: string): string[][] {
  return banner.split("\n")
    .filter((line) => line.startsWith("  deno task cli "))
    .map((line) => line.trim().slice("deno task cli ".length).split(" "));
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(
  args: string[],
  env: Record<string, string> = {},
  io: Partial<CliIo> = {},
  tee: (stderr: string) => void = () => {},
): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => tee(stderr += text),
    env: (name) => env[name],
    readStdin: () => Promise.resolve(""),
    isTerminal: false,
    ...io,
  });
  return { code, stdout, stderr };
}

function tokens(outcome: Outcome): Record<string, unknown> {
  assert.equal(outcome.code, 0, outcome.stderr);
  return JSON.parse(outcome.stdout);
}

Deno.test("deno task provider: every command it prints works against it, until SIGINT stops it", async () => {
  const { child, banner, rest } = await startProviderProcess();
  let exited = false;
  const dir = /^Files: (\S+) \(removed when the provider stops\)$/m.exec(banner)?.[1];
  try {
    const issuer = /^Issuer: +(http:\/\/127\.0\.0\.1:\d+) /m.exec(banner)?.[1];
    const mtlsIssuer = /^mTLS issuer: +(https:\/\/127\.0\.0\.1:\d+) /m.exec(banner)?.[1];
    assert.ok(issuer && mtlsIssuer && dir, banner);
    assert.match(banner, /^ {2}confidential-client +client_secret_basic, secret \S{20,}$/m);
    const all = commands(banner);
    const named = (command: string, ...including: string[]) => {
      const found = all.find((args) =>
        args[0] === command && including.every((part) => args.join(" ").includes(part))
      );
      assert.ok(found, `${command} ${including.join(" ")} in:\n${banner}`);
      return found;
    };

    // The browser: the harness's driver of oidc-provider's development pages, over HTTP.
    const browser = interactions({
      provider: { urlFor: () => `${issuer}/device` },
      errors: undefined,
      origin: issuer,
      registeredClients: [],
      resourceServers: {},
      browserFetch: fetch,
    });
    let browsing: Promise<void> | undefined;
    const openBrowser = (url: string) => {
      browsing = (async () => {
        const callback = await browser.login(new URL(url));
        // The redirect, to the CLI's real loopback listener.
        const response = await fetch(callback);
        assert.equal(response.status, 200);
        await response.body?.cancel();
      })();
      return Promise.resolve(true);
    };

    const discovered = await cli(named("discover"));
    assert.equal(discovered.code, 0, discovered.stderr);
    assert.match(discovered.stdout, new RegExp(`^issuer: +${issuer}$`, "m"));

    const login = await cli([...named("login", "--client-id authlane-cli"), "--json"], {}, {
      openBrowser,
    });
    await browsing;
    assert.equal((tokens(login).id_token_claims as Record<string, unknown>).sub, "alice");

    // The first wait between polls is when the user approves the code shown.
    let shown = "";
    let approved: Promise<void> | undefined;
    const device = await cli([...named("device"), "--json"], {}, {
      sleep: () => {
        approved ??= (async () => {
          const userCode = /enter the code\n\n {2}(\S+)\n/.exec(shown)?.[1];
          assert.ok(userCode, shown);
          await browser.approveDeviceCode(userCode);
        })();
        return approved;
      },
    }, (stderr) => (shown = stderr));
    assert.equal(typeof tokens(device).access_token, "string");

    const secret = tokens(
      await cli([...named("client-credentials", "--client-secret-file"), "--json"]),
    );
    assert.equal(secret.scope, "api:read");
    const keyed = tokens(await cli([...named("client-credentials", "--private-key"), "--json"]));
    assert.equal(typeof keyed.access_token, "string");

    const dpopLogin = named("login", "--dpop-key");
    const bound = tokens(await cli(dpopLogin, {}, { openBrowser }));
    await browsing;
    assert.equal(bound.token_type, "dpop");
    const info = await cli([...named("userinfo", "--dpop-key"), "--json"], {
      ACCESS_TOKEN: bound.access_token as string,
    });
    assert.equal(tokens(info).sub, "alice");

    const mtls = tokens(await cli([...named("client-credentials", "--cert"), "--json"]));
    const decoded = tokens(await cli(["decode", mtls.access_token as string, "--json"]));
    assert.equal(
      typeof (decoded.claims as { cnf?: Record<string, unknown> }).cnf?.["x5t#S256"],
      "string",
    );
    assert.ok(named("client-credentials", "--cert").includes(mtlsIssuer));

    child.kill("SIGINT");
    assert.equal((await child.status).code, 0);
    exited = true;
    await assert.rejects(Deno.stat(dir), Deno.errors.NotFound, "the files are removed");
  } finally {
    if (!exited) {
      // A failed assertion: stop the provider the way a user would, and clean up after it.
      child.kill("SIGINT");
      await child.status;
      if (dir !== undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    await rest.cancel();
  }
});
