// The failures a new user meets first (issue 12, "Why"), each staged against a real socket on
// 127.0.0.1 (or a name that cannot resolve), and the line the CLI prints for it: the reason taken
// from the error's cause through the allow-list, with the URL and status, and the next step.

import assert from "node:assert/strict";
import { getPki } from "../_pki.ts";
import { run } from "./_harness.ts";

interface Servers {
  /** A port nothing listens on. */
  refused: number;
  /** Plain HTTP: metadata under /good, /other (another issuer), /moved (301), else 404. */
  plain: number;
  /** TLS with a certificate from the test CA, which this machine does not trust. */
  tls: number;
  /** Accepts connections and never answers. */
  hang: number;
}

interface Case {
  name: string;
  args: (s: Servers) => string[];
  code: number;
  /** The first line on stderr. */
  line: (s: Servers) => RegExp;
  /** The `hint:` line (after the `code=` fields, when there are some). */
  hint: (s: Servers) => RegExp;
}

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const WK = "/.well-known/openid-configuration";

const CASES: Case[] = [
  {
    name: "a host name that does not resolve",
    args: () => ["discover", "--issuer", "https://nonexistent.invalid"],
    code: 1,
    line: () =>
      new RegExp(
        `^authlane discover: cannot resolve host nonexistent\\.invalid \\(DNS lookup failed\\): ` +
          `GET ${esc(`https://nonexistent.invalid${WK}`)}$`,
      ),
    hint: () => /^ {2}hint: check the host name in --issuer; is the network up\?$/,
  },
  {
    name: "a port nothing listens on",
    args: (s) => ["discover", "--issuer", `http://127.0.0.1:${s.refused}`, "--allow-http"],
    code: 1,
    line: (s) =>
      new RegExp(
        `^authlane discover: connection refused by 127\\.0\\.0\\.1:${s.refused}: ` +
          `GET ${esc(`http://127.0.0.1:${s.refused}${WK}`)}$`,
      ),
    hint: (s) =>
      new RegExp(
        `^ {2}hint: is the server running on 127\\.0\\.0\\.1:${s.refused}\\? check --issuer$`,
      ),
  },
  {
    name: "https: to a plain-HTTP port",
    args: (s) => ["discover", "--issuer", `https://127.0.0.1:${s.plain}`],
    code: 1,
    line: (s) =>
      new RegExp(
        `^authlane discover: TLS failure: 127\\.0\\.0\\.1:${s.plain} does not speak TLS ` +
          `\\(a plain HTTP port\\?\\): GET ${esc(`https://127.0.0.1:${s.plain}${WK}`)}$`,
      ),
    hint: (s) =>
      new RegExp(
        `^ {2}hint: if the server speaks plain HTTP on loopback, use ` +
          `${esc(`http://127.0.0.1:${s.plain}`)} with --allow-http$`,
      ),
  },
  {
    name: "a certificate from a private CA this machine does not trust",
    args: (s) => ["discover", "--issuer", `https://127.0.0.1:${s.tls}`],
    code: 1,
    line: (s) =>
      new RegExp(
        `^authlane discover: TLS failure: the certificate of 127\\.0\\.0\\.1:${s.tls} is signed ` +
          `by a CA this machine does not trust: GET ${esc(`https://127.0.0.1:${s.tls}${WK}`)}$`,
      ),
    hint: () => /^ {2}hint: trust the server's CA with --ca FILE \(PEM\)$/,
  },
  {
    name: "metadata naming another issuer",
    args: (s) => ["discover", "--issuer", `http://127.0.0.1:${s.plain}/other`, "--allow-http"],
    code: 3,
    line: (s) =>
      new RegExp(
        `^authlane discover: the metadata at ${
          esc(`http://127.0.0.1:${s.plain}/other${WK}`)
        } names issuer https://elsewhere\\.example, not ${
          esc(`http://127.0.0.1:${s.plain}/other`)
        } \\(issuer mismatch\\)$`,
      ),
    hint: () =>
      /^ {2}hint: if that server is the one you meant, use --issuer https:\/\/elsewhere\.example$/,
  },
  {
    name: "a 301 redirect",
    args: (s) => ["discover", "--issuer", `http://127.0.0.1:${s.plain}/moved`, "--allow-http"],
    code: 3,
    line: (s) =>
      new RegExp(
        `^authlane discover: HTTP 301 Moved Permanently from GET ${
          esc(`http://127.0.0.1:${s.plain}/moved${WK}`)
        }: it redirects to ${
          esc(`http://127.0.0.1:${s.plain}/good${WK}`)
        }, and redirects are not followed$`,
      ),
    hint: (s) =>
      new RegExp(
        `^ {2}hint: use the issuer it redirects to: --issuer ${
          esc(`http://127.0.0.1:${s.plain}/good`)
        }$`,
      ),
  },
  {
    name: "a 404 at both metadata locations",
    args: (s) => ["discover", "--issuer", `http://127.0.0.1:${s.plain}/missing`, "--allow-http"],
    code: 3,
    line: (s) =>
      new RegExp(
        `^authlane discover: HTTP 404 Not Found: no metadata at ${
          esc(`http://127.0.0.1:${s.plain}/missing${WK}`)
        } nor at ${
          esc(`http://127.0.0.1:${s.plain}/.well-known/oauth-authorization-server/missing`)
        }$`,
      ),
    hint: () =>
      /^ {2}hint: check --issuer; for a server without discovery, give its endpoints \(--authorization-endpoint, --token-endpoint, …\)$/,
  },
  {
    name: "the metadata URL pasted as the issuer (accepted, with a note)",
    args: (s) => [
      "discover",
      "--issuer",
      `http://127.0.0.1:${s.plain}/good${WK}`,
      "--allow-http",
    ],
    code: 0,
    line: (s) =>
      new RegExp(
        `^note: --issuer takes the issuer identifier, not its metadata URL; using --issuer ${
          esc(`http://127.0.0.1:${s.plain}/good`)
        }$`,
      ),
    hint: () => /^$/,
  },
  {
    name: "an http: issuer without --allow-http",
    args: (s) => ["discover", "--issuer", `http://127.0.0.1:${s.plain}/good`],
    code: 2,
    line: (s) =>
      new RegExp(
        `^authlane discover: refusing plain http: ${
          esc(`http://127.0.0.1:${s.plain}`)
        } \\(https: is required\\)$`,
      ),
    hint: () => /^ {2}hint: pass --allow-http to allow it \(meant for servers on loopback\)$/,
  },
  {
    name: "a server that never answers, with --timeout 1",
    args: (s) => [
      "discover",
      "--issuer",
      `http://127.0.0.1:${s.hang}`,
      "--allow-http",
      "--timeout",
      "1",
    ],
    code: 1,
    line: (s) =>
      new RegExp(
        `^authlane discover: no answer within 1 s \\(timeout\\) from GET ${
          esc(`http://127.0.0.1:${s.hang}${WK}`)
        }$`,
      ),
    hint: () =>
      /^ {2}hint: raise --timeout SECONDS, or check that the server is up and not overloaded$/,
  },
];

Deno.test("CLI: each first-hour failure prints its reason (URL, status, cause) and the next step", async () => {
  const pki = await getPki();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refused = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const plain: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, (request): Response => {
    const { pathname } = new URL(request.url);
    const origin = `http://127.0.0.1:${plain.addr.port}`;
    if (pathname === `/moved${WK}`) {
      return new Response(null, { status: 301, headers: { location: `${origin}/good${WK}` } });
    }
    if (pathname === `/other${WK}`) return Response.json({ issuer: "https://elsewhere.example" });
    if (pathname === `/good${WK}`) {
      return Response.json({ issuer: `${origin}/good`, token_endpoint: `${origin}/good/token` });
    }
    return new Response("not found", { status: 404 });
  });
  const tls = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      cert: pki.serverCert,
      key: pki.serverKey,
      onListen: () => {},
      onError: () => new Response(null, { status: 500 }),
    },
    () => Response.json({}),
  );
  const hang = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of hang) held.push(conn);
  })();
  const servers: Servers = {
    refused,
    plain: plain.addr.port,
    tls: tls.addr.port,
    hang: (hang.addr as Deno.NetAddr).port,
  };
  try {
    for (const c of CASES) {
      const result = await run(c.args(servers));
      const lines = result.stderr.split("\n");
      const hint = lines.find((line) => line.startsWith("  hint: ")) ?? "";
      assert.equal(result.code, c.code, `${c.name}: ${result.stderr}`);
      assert.match(lines[0]!, c.line(servers), c.name);
      assert.match(hint, c.hint(servers), `${c.name}: ${result.stderr}`);
      assert.ok(!result.stderr.includes("fetch failed"), `${c.name}: ${result.stderr}`);
    }
  } finally {
    await plain.shutdown();
    await tls.shutdown();
    hang.close();
    for (const conn of held) conn.close();
    await accepting;
  }
});

Deno.test("CLI: with --json the reason and the next step are fields of the error object", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const result = await run([
    "discover",
    "--issuer",
    `http://127.0.0.1:${port}`,
    "--allow-http",
    "--json",
  ]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  const { error } = JSON.parse(result.stderr);
  assert.equal(
    error.message,
    `connection refused by 127.0.0.1:${port}: GET http://127.0.0.1:${port}${WK}`,
  );
  assert.equal(error.hint, `is the server running on 127.0.0.1:${port}? check --issuer`);
  assert.equal(error.exit_code, 1);
});
