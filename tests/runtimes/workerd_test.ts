/**
 * Cloudflare's Workers runtime (npm `workerd`, pinned in tests/runtimes/_tools.ts) in local mode:
 * tests/runtimes/workerd/config.capnp embeds the shipped bundle and the shared flow in a Worker,
 * and the test's request makes the Worker run the core flow of tests/runtimes/_flow.mjs against
 * oidc-provider on loopback. No wrangler, no account, no nodejs_compat.
 */
import { type Ran, serverRuntimeFlow, within } from "./_matrix.ts";
import { ROOT, runtime } from "./_tools.ts";

const workerd = runtime("workerd");

/** Starts workerd, has the Worker run the flow, stops workerd. */
async function runWorker(executable: string, control: string): Promise<Ran> {
  const child = new Deno.Command(executable, {
    args: ["serve", "tests/runtimes/workerd/config.capnp", "config"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  const [forPort, rest] = child.stderr.tee();
  const stderr = new Response(rest).text();
  try {
    // workerd prints "Listening on http://127.0.0.1:PORT" for the socket at port 0.
    const origin = await within(
      "workerd start",
      (async () => {
        let seen = "";
        for await (const chunk of forPort.pipeThrough(new TextDecoderStream())) {
          seen += chunk;
          const match = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
          if (match) return match[1]!;
        }
        throw new Error(`workerd exited before it listened`);
      })(),
      20_000,
    );
    const response = await within(
      "the Worker's flow",
      fetch(origin, { method: "POST", body: JSON.stringify({ control }) }),
      60_000,
    );
    const text = await response.text();
    return { code: response.ok ? 0 : 1, stdout: text, stderr: "" };
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await forPort.cancel().catch(() => {});
    const [out, err] = await Promise.all([stdout, stderr]);
    if (err.trim() !== "" && !/^Listening on \S+\s*$/.test(err.trim())) console.error(out, err);
  }
}

Deno.test({
  name:
    "workerd runs the shipped bundle in a Worker: discovery, client credentials, DPoP, code flow with ID token signature, refresh, JWT access tokens, refusals",
  ignore: workerd.ignore,
  fn: () => {
    if (workerd.path === undefined) throw new Error(workerd.missing);
    const executable = workerd.path;
    return serverRuntimeFlow((control) => runWorker(executable, control), {
      runtime: "workerd",
      version: /^Cloudflare-Workers$/,
    });
  },
});
