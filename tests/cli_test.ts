// Tests of the authlane CLI (src/cli/): in-process through main(args, io) with captured output,
// and as a subprocess for the entry point itself, against the embedded oidc-provider harness and
// the fake authorization server.

import assert from "node:assert/strict";
import { type EmbeddedProvider, main } from "../src/cli/mod.ts";
import { EMBEDDED_CLIENT_ID, startEmbeddedProvider } from "../tools/cli.ts";
import { capture, json, type Run, run } from "./cli/_harness.ts";
import {
  CLIENT_IDS,
  mtlsClientCredentials,
  type OidcProviderHarness,
  startProvider,
} from "./_oidc_provider.ts";
import { createFakeAs, type FakeFetchInit, startFakeAs } from "./_fake_as.ts";
import { getPki } from "./_pki.ts";

const REPO = new URL("../", import.meta.url);
const NATIVE_REDIRECT_URI = "http://127.0.0.1/callback";

/** The flags that point the CLI at a fake AS with its confidential client (secret in env `S`). */
function fakeAsArgs(server: { issuer: string; client: { client_id: string } }): string[] {
  return [
    "--issuer",
    server.issuer,
    "--allow-http",
    "--client-id",
    server.client.client_id,
    "--client-secret-env",
    "S",
  ];
}

/** oidc-provider with the device flow on and the confidential client as a native app. */
function startTestProvider(): Promise<OidcProviderHarness> {
  return startProvider({
    features: { deviceFlow: { enabled: true } },
    clients: [{
      client_id: CLIENT_IDS.confidential,
      application_type: "native", // RFC 8252 §7.3: any loopback port
      redirect_uris: [NATIVE_REDIRECT_URI],
    }],
  });
}

function confidential(op: OidcProviderHarness): { args: string[]; env: Record<string, string> } {
  return {
    args: [
      "--issuer",
      op.issuer,
      "--allow-http",
      "--client-id",
      CLIENT_IDS.confidential,
      "--client-secret-env",
      "SECRET",
    ],
    env: { SECRET: op.clients.confidential.client_secret! },
  };
}

/**
 * Runs `authlane login --issuer` as a user would: waits for the printed authorization URL, signs
 * in through the provider's pages, and delivers the redirect to the CLI's loopback listener.
 */
async function signIn(
  op: OidcProviderHarness,
  extra: string[] = [],
  loginOptions: { consent?: boolean } = {},
): Promise<Run & { authorizationUrl: URL }> {
  const { args, env } = confidential(op);
  const captured = capture(env);
  const running = main(["login", ...args, "--json", ...extra], captured.io);
  const printed = await Promise.race([
    captured.waitFor(/^ {2}(http:\/\/\S+\/auth\?\S+)$/m),
    running.then((code) => {
      throw new Error(`login exited ${code} before printing a URL: ${captured.stderr}`);
    }),
  ]);
  const authorizationUrl = new URL(printed[1]!);
  const callback = await op.login(authorizationUrl, loginOptions);
  assert.equal(await captured.deliver(callback), 200);
  const code = await running;
  return { code, stdout: captured.stdout, stderr: captured.stderr, authorizationUrl };
}

function tamper(jwt: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = jwt.split(".");
  const decoded = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
  const changed = btoa(JSON.stringify({ ...decoded, ...claims }))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${header}.${changed}.${signature}`;
}

// ---------------------------------------------------------------------------------------------
// Help and usage errors

Deno.test("main() prints the commands for --help and exits 0", async () => {
  const result = await run(["--help"]);
  assert.equal(result.code, 0);
  for (
    const command of [
      "discover",
      "login",
      "device",
      "client-credentials",
      "refresh",
      "token-exchange",
      "introspect",
      "revoke",
      "userinfo",
      "decode",
    ]
  ) {
    assert.match(result.stdout, new RegExp(`^  ${command} `, "m"));
  }
});

Deno.test("main() prints each command's flags for --help and -h", async () => {
  const login = await run(["login", "--help"]);
  assert.equal(login.code, 0);
  for (const flag of ["--issuer", "--client-secret-env", "--auth", "--dpop", "--par", "--port"]) {
    assert.ok(login.stdout.includes(flag), flag);
  }
  const decode = await run(["decode", "-h"]);
  assert.equal(decode.code, 0);
  assert.match(decode.stdout, /--audience/);
  assert.equal((await run(["help", "revoke"])).code, 0);
});

Deno.test("main() takes a token that starts with - as an argument and never echoes a long one", async () => {
  const secret = "-SECRET0123456789abcdefSECRET";
  // Reaches decode as the JWT argument, instead of being refused (and printed) as a flag.
  const dashed = await run(["decode", secret]);
  assert.equal(dashed.code, 2);
  assert.match(dashed.stderr, /not a JWT/);
  assert.ok(!dashed.stderr.includes("0123456789"), dashed.stderr);
  const extra = await run(["decode", "a.b.c", "SECRET0123456789abcdefSECRET"]);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /unexpected argument "SECR…"/);
  assert.ok(!extra.stderr.includes("0123456789"), extra.stderr);
  assert.match((await run(["decode", "-x"])).stderr, /unknown flag "-x"/);
});

Deno.test("main() exits 2 with one readable line on usage errors", async () => {
  const cases: [string[], RegExp][] = [
    [[], /Usage: authlane <command>/],
    [["nope"], /unknown command "nope"/],
    [["discover", "--issuer"], /--issuer needs a value/],
    [["discover", "--nope"], /unknown flag --nope/],
    [["discover"], /--issuer is required/],
    [["discover", "--issuer", "not a url"], /--issuer must be an absolute http\(s\) URL/],
    [["discover", "--issuer", "http://127.0.0.1:1"], /pass --allow-http/],
    [["discover", "--issuer", "https://a.example", "--json=1"], /--json takes no value/],
    [
      ["client-credentials", "--issuer", "https://a.example", "--issuer", "https://b.example"],
      /more than once/,
    ],
    [["decode"], /give the JWT once/],
    [["decode", "not-a-jwt"], /not a JWT/],
    [["decode", "a.b.c.d.e"], /encrypted/],
  ];
  for (const [args, message] of cases) {
    const result = await run(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stdout, "");
  }
});

Deno.test("main() exits 2 for contradictory or incomplete client flags, before any request", async () => {
  await using server = await startFakeAs();
  const base = ["client-credentials", "--issuer", server.issuer, "--allow-http"];
  const cases: [string[], Record<string, string>, RegExp][] = [
    [[...base], {}, /--client-id is required/],
    [[...base, "--client-id", "client", "--auth", "magic"], {}, /--auth must be one of/],
    [[...base, "--client-id", "client", "--auth", "post"], {}, /needs a client secret/],
    [[...base, "--client-id", "client", "--client-secret-env", "NOPE"], {}, /NOPE is not set/],
    [
      [...base, "--client-id", "client", "--client-secret-env", "S", "--client-secret-file", "x"],
      { S: "s" },
      /give the client secret once/,
    ],
    [
      [...base, "--client-id", "client", "--client-secret-env", "S", "--auth", "none"],
      { S: "s" },
      /does not use one/,
    ],
    [[...base, "--client-id", "client", "--auth", "private-key-jwt"], {}, /needs --private-key/],
    [[...base, "--client-id", "client", "--auth", "tls"], {}, /needs --cert and --key/],
    [[...base, "--client-id", "client", "--cert", "c.pem"], {}, /--cert and --key go together/],
    [[...base, "--client-id", "client", "--param", "novalue"], {}, /NAME=VALUE/],
  ];
  for (const [args, env, message] of cases) {
    const before = server.requestsTo("token").length;
    const result = await run(args, env);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(server.requestsTo("token").length, before, "no token request was sent");
  }
});

// ---------------------------------------------------------------------------------------------
// discover

Deno.test("discover prints the validated metadata, as text and as JSON", async () => {
  await using op = await startTestProvider();
  const text = await run(["discover", "--issuer", op.issuer, "--allow-http"]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^issuer: +${op.issuer}$`, "m"));
  assert.match(text.stdout, /^token_endpoint: +http:\/\/127\.0\.0\.1:\d+\/token$/m);
  const metadata = json(await run(["discover", "--issuer", op.issuer, "--allow-http", "--json"]));
  assert.equal(metadata.issuer, op.issuer);
  assert.equal(metadata.device_authorization_endpoint, `${op.issuer}/device/auth`);
});

Deno.test("discover exits 3 when the metadata names another issuer", async () => {
  await using server = await startFakeAs({ metadata: { issuer: "https://evil.example" } });
  const result = await run(["discover", "--issuer", server.issuer, "--allow-http"]);
  assert.equal(result.code, 3);
  assert.match(result.stderr, /code=OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED/);
});

// ---------------------------------------------------------------------------------------------
// login

Deno.test("login without --issuer signs in at the embedded provider, end to end", async () => {
  const result = await run(["login", "--json"]);
  const tokens = json(result);
  assert.equal(typeof tokens.access_token, "string");
  assert.equal(typeof tokens.refresh_token, "string");
  assert.equal(tokens.token_type, "bearer");
  const claims = tokens.id_token_claims as Record<string, unknown>;
  assert.equal(claims.sub, "alice");
  assert.equal(claims.aud, EMBEDDED_CLIENT_ID);
  assert.match(result.stderr, /embedded test provider at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(result.stderr, /redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fcallback/);
  assert.match(result.stderr, /code_challenge_method=S256/);
});

Deno.test("login without --issuer prints tokens and validated claims as text", async () => {
  const result = await run(["login"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^access_token: +\S+$/m);
  assert.match(result.stdout, /^ID token claims \(validated\):$/m);
  assert.match(result.stdout, /"sub": "alice"/);
});

Deno.test("login --par pushes the authorization request and sends only its request_uri", async () => {
  const captured = capture();
  const code = await main(["login", "--par", "--json"], captured.io);
  assert.equal(code, 0, captured.stderr);
  const printed = /^ {2}(http:\/\/\S+)$/m.exec(captured.stderr)![1]!;
  const url = new URL(printed);
  assert.deepEqual([...url.searchParams.keys()].sort(), ["client_id", "request_uri"]);
  assert.match(url.searchParams.get("request_uri")!, /^urn:ietf:params:oauth:request_uri:/);
  assert.equal((JSON.parse(captured.stdout).id_token_claims as { sub: string }).sub, "alice");
});

Deno.test("login --dpop sends dpop_jkt and gets a DPoP-bound token from the embedded provider", async () => {
  const result = await run(["login", "--dpop", "--json"]);
  const tokens = json(result);
  assert.equal(tokens.token_type, "dpop");
  assert.equal(typeof tokens.dpop_jkt, "string");
  const printed = new URL(/^ {2}(http:\/\/\S+)$/m.exec(result.stderr)![1]!);
  assert.equal(printed.searchParams.get("dpop_jkt"), tokens.dpop_jkt);
});

Deno.test("login without --issuer and without an embedded provider exits 2 before any request", async () => {
  for (const command of ["login", "device"]) {
    const result = await run([command, "--json"], {}, { embedded: undefined });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--issuer is required/);
  }
});

Deno.test("login listens on --port and answers only the first GET of /callback", async () => {
  await using op = await startTestProvider();
  const { args, env } = confidential(op);
  const captured = capture(env);
  const running = main(["login", ...args, "--port", "8765", "--json"], captured.io);
  const printed = await captured.waitFor(/^ {2}(http:\/\/\S+\/auth\?\S+)$/m);
  const authorizationUrl = new URL(printed[1]!);
  assert.deepEqual(captured.listenedOn, [8765]);
  assert.equal(authorizationUrl.searchParams.get("redirect_uri"), "http://127.0.0.1:8765/callback");
  const callback = await op.login(authorizationUrl);
  const elsewhere = new URL(callback);
  elsewhere.pathname = "/favicon.ico";
  assert.equal(await captured.deliver(elsewhere), 404);
  assert.equal(await captured.deliver(callback), 200);
  assert.equal(await captured.deliver(callback), 409, "one redirect only");
  assert.equal(await running, 0, captured.stderr);
});

Deno.test("login exits 2 when --port is taken or invalid, and stops the embedded provider", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String((taken.addr as Deno.NetAddr).port);
  // The CLI's own loopback listener (Deno.serve), on a real socket.
  const busy = await run(["login", "--port", port], {}, { listen: undefined });
  assert.equal(busy.code, 2, busy.stderr);
  assert.match(busy.stderr, new RegExp(`--port ${port}: the port is in use`));
  const invalid = await run(["login", "--port", "http"]);
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /--port must be 0-65535/);
});

Deno.test("login --issuer waits for the loopback redirect, redeems the code and validates the ID token", async () => {
  await using op = await startTestProvider();
  const result = await signIn(op, ["--scope", "openid email"]);
  const tokens = json(result);
  assert.equal(result.authorizationUrl.searchParams.get("scope"), "openid email");
  assert.ok(result.authorizationUrl.searchParams.get("nonce"));
  const claims = tokens.id_token_claims as Record<string, unknown>;
  assert.equal(claims.iss, op.issuer);
  assert.equal(claims.aud, CLIENT_IDS.confidential);
  assert.ok(!result.stdout.includes(op.clients.confidential.client_secret!));
  assert.ok(!result.stderr.includes(op.clients.confidential.client_secret!));
});

Deno.test("login exits 3 with error=access_denied when the user refuses consent", async () => {
  await using op = await startTestProvider();
  const result = await signIn(op, [], { consent: false });
  assert.equal(result.code, 3, result.stderr);
  const error = JSON.parse(result.stderr.trim().split("\n").at(-1)!).error;
  assert.equal(error.error, "access_denied");
  assert.equal(error.code, "OAUTH_AUTHORIZATION_RESPONSE_ERROR");
  assert.equal(error.exit_code, 3);
});

// ---------------------------------------------------------------------------------------------
// client-credentials (+ secrets)

Deno.test("client-credentials --json prints the token response", async () => {
  await using op = await startTestProvider();
  const { args, env } = confidential(op);
  const result = await run(["client-credentials", ...args, "--json"], env);
  const tokens = json(result);
  assert.equal(typeof tokens.access_token, "string");
  assert.equal(tokens.token_type, "bearer");
  assert.equal(tokens.refresh_token, undefined);
  assert.ok(!(result.stdout + result.stderr).includes(env.SECRET!));
});

Deno.test("client-credentials gets a JWT access token for --resource and --scope, printed as text", async () => {
  await using op = await startTestProvider();
  const { args, env } = confidential(op);
  const result = await run([
    "client-credentials",
    ...args,
    "--resource",
    op.resource,
    "--scope",
    "api:read",
  ], env);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^scope: +api:read$/m);
  const accessToken = /^access_token: +(\S+)$/m.exec(result.stdout)![1]!;
  const decoded = json(await run(["decode", accessToken, "--json"]));
  assert.equal((decoded.claims as Record<string, unknown>).aud, op.resource);
});

Deno.test("client-credentials exits 3 with error=invalid_client for a wrong secret, and never prints it", async () => {
  await using op = await startTestProvider();
  const secret = `wrong-${crypto.randomUUID()}`;
  const base = ["client-credentials", "--issuer", op.issuer, "--allow-http", "--client-id"];
  for (const json of [false, true]) {
    const result = await run([
      ...base,
      CLIENT_IDS.confidential,
      "--client-secret-env",
      "S",
      ...(json ? ["--json"] : []),
    ], { S: secret });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, json ? /"error":"invalid_client"/ : /error=invalid_client/);
    // RFC 6749 §5.2: a Basic challenge comes with the 401.
    assert.match(result.stderr, /OAUTH_WWW_AUTHENTICATE_CHALLENGE/);
    assert.match(result.stderr, json ? /"status":401/ : /status=401/);
    assert.equal(result.stdout, "");
    assert.ok(!result.stderr.includes(secret), "the secret is not printed");
  }
});

Deno.test("client-credentials reads the secret from --client-secret-file, $AUTHLANE_CLIENT_SECRET or (with a warning) argv", async () => {
  await using op = await startTestProvider();
  const secret = op.clients.confidential.client_secret!;
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/secret`;
    await Deno.writeTextFile(file, `${secret}\n`);
    const base = [
      "client-credentials",
      "--issuer",
      op.issuer,
      "--allow-http",
      "--client-id",
      CLIENT_IDS.confidential,
      "--json",
    ];
    const fromFile = await run([...base, "--client-secret-file", file]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const fromDefaultEnv = await run(base, { AUTHLANE_CLIENT_SECRET: secret });
    assert.equal(fromDefaultEnv.code, 0, fromDefaultEnv.stderr);
    const fromArgv = await run([...base, "--client-secret", secret]);
    assert.equal(fromArgv.code, 0, fromArgv.stderr);
    assert.match(fromArgv.stderr, /warning: --client-secret is visible/);
    for (const result of [fromFile, fromDefaultEnv, fromArgv]) {
      assert.ok(!(result.stdout + result.stderr).includes(secret), "the secret is not printed");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client-credentials authenticates with the --auth method chosen", async () => {
  await using server = await startFakeAs();
  const base = [
    "client-credentials",
    ...fakeAsArgs(server),
  ];
  const env = { S: server.clientSecret };
  const expected: [string[], string][] = [
    [[], "client_secret_basic"],
    [["--auth", "basic"], "client_secret_basic"],
    [["--auth", "post"], "client_secret_post"],
    [["--auth", "jwt"], "client_secret_jwt"],
  ];
  for (const [flags, method] of expected) {
    const result = await run([...base, ...flags], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.lastRequest("token")!.clientAuth?.method, method, flags.join(" "));
    assert.ok(!(result.stdout + result.stderr).includes(server.clientSecret));
  }
  const none = await run([...base.slice(0, -2), "--auth", "none"]);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(server.lastRequest("token")!.clientAuth?.method, "none");
});

Deno.test("client-credentials signs private_key_jwt assertions with --private-key as a JWK or PEM PKCS#8", async () => {
  await using op = await startTestProvider();
  const dir = await Deno.makeTempDir();
  try {
    const jwkFile = `${dir}/key.json`;
    await Deno.writeTextFile(jwkFile, JSON.stringify(op.clientKey.privateJwk));
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", op.clientKey.privateKey));
    const pem = `-----BEGIN PRIVATE KEY-----\n${
      btoa(String.fromCharCode(...pkcs8)).replace(/.{64}/g, "$&\n")
    }\n-----END PRIVATE KEY-----\n`;
    const pemFile = `${dir}/key.pem`;
    await Deno.writeTextFile(pemFile, pem);
    const base = [
      "client-credentials",
      "--issuer",
      op.issuer,
      "--allow-http",
      "--client-id",
      CLIENT_IDS.privateKeyJwt,
      "--json",
    ];
    const withJwk = await run([...base, "--private-key", jwkFile]);
    assert.equal(typeof json(withJwk).access_token, "string");
    const withPem = await run([...base, "--private-key", pemFile, "--kid", op.clientKey.kid]);
    assert.equal(typeof json(withPem).access_token, "string");
    const wrongAlg = await run([...base, "--private-key", pemFile, "--alg", "RS256"]);
    assert.equal(wrongAlg.code, 2);
    assert.match(wrongAlg.stderr, /does not fit --alg RS256/);
    for (const result of [withJwk, withPem, wrongAlg]) {
      assert.ok(!(result.stdout + result.stderr).includes(op.clientKey.privateJwk.d!));
      assert.ok(!(result.stdout + result.stderr).includes("PRIVATE KEY"));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client-credentials --dpop binds the token and retries once on use_dpop_nonce", async () => {
  await using server = await startFakeAs();
  server.dpopNonce = "server-nonce-1";
  const result = await run([
    "client-credentials",
    ...fakeAsArgs(server),
    "--dpop",
    "--json",
  ], { S: server.clientSecret });
  const tokens = json(result);
  assert.equal(tokens.token_type, "dpop");
  assert.equal(typeof tokens.dpop_jkt, "string");
  const requests = server.requestsTo("token");
  assert.equal(requests.length, 2, "one retry");
  assert.equal(requests[0]!.dpop?.claims?.nonce, undefined);
  assert.equal(requests[1]!.dpop?.claims?.nonce, "server-nonce-1");
});

Deno.test("client-credentials --ca sends every request through io.trustingFetch with that CA, and releases it", async () => {
  const server = createFakeAs();
  const trusted: string[] = [];
  let closed = 0;
  const result = await run(
    [
      "client-credentials",
      "--issuer",
      server.issuer,
      "--ca",
      "/etc/ca.pem",
      "--client-id",
      server.client.client_id,
      "--client-secret-env",
      "S",
      "--json",
    ],
    { S: server.clientSecret },
    {
      readTextFile: (path) =>
        path === "/etc/ca.pem"
          ? Promise.resolve("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
          : Promise.reject(new Deno.errors.NotFound(path)),
      trustingFetch: (ca) => {
        trusted.push(ca);
        return {
          fetch: (url, init) => server.fetch(url, init as FakeFetchInit),
          close: () => closed++,
        };
      },
    },
  );
  assert.equal(typeof json(result).access_token, "string");
  assert.equal(trusted.length, 1);
  assert.match(trusted[0]!, /^-----BEGIN CERTIFICATE-----/);
  assert.equal(closed, 1);
  assert.deepEqual(
    server.requests.map((r) => r.route),
    ["discovery", "token"],
    "discovery and the token request, nothing around the client",
  );
});

Deno.test("client-credentials --cert --key --ca authenticates with tls_client_auth and gets a certificate-bound token", async () => {
  const pki = await getPki();
  await using op = await startProvider(
    mtlsClientCredentials(
      { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca },
      "mtls-client",
      "CN=ec",
    ),
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, pki.ca);
    await Deno.writeTextFile(`${dir}/client.pem`, pki.ec.cert);
    await Deno.writeTextFile(`${dir}/client.key`, pki.ec.key);
    const base = [
      "client-credentials",
      "--issuer",
      op.issuer,
      "--ca",
      `${dir}/ca.pem`,
      "--client-id",
      "mtls-client",
      "--resource",
      op.resource,
      "--scope",
      "api:read",
      "--json",
    ];
    const result = await run([
      ...base,
      "--cert",
      `${dir}/client.pem`,
      "--key",
      `${dir}/client.key`,
    ]);
    const tokens = json(result);
    const decoded = json(await run(["decode", tokens.access_token as string, "--json"]));
    // RFC 8705 §3.1: the token is bound to the certificate presented.
    assert.deepEqual((decoded.claims as Record<string, unknown>).cnf, {
      "x5t#S256": pki.ec.x5tS256,
    });
    assert.ok(!(result.stdout + result.stderr).includes("PRIVATE KEY"));
    const withoutCertificate = await run([...base, "--auth", "none"]);
    assert.equal(withoutCertificate.code, 3);
    assert.match(withoutCertificate.stderr, /invalid_client/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// refresh, userinfo, introspect, revoke

Deno.test("refresh redeems the refresh token from login (read from --token-env)", async () => {
  await using op = await startTestProvider();
  const first = json(await signIn(op));
  const { args, env } = confidential(op);
  const result = await run(["refresh", ...args, "--token-env", "RT", "--json"], {
    ...env,
    RT: first.refresh_token as string,
  });
  const refreshed = json(result);
  assert.notEqual(refreshed.access_token, first.access_token);
  assert.equal((refreshed.id_token_claims as Record<string, unknown>).sub, "alice");
  const again = await run(["refresh", ...args], env);
  assert.equal(again.code, 2, "the token is required");
});

Deno.test("refresh exits 3 with error=invalid_grant for an unknown refresh token", async () => {
  await using op = await startTestProvider();
  const { args, env } = confidential(op);
  const result = await run(["refresh", ...args, "not-a-refresh-token"], env);
  assert.equal(result.code, 3);
  assert.match(result.stderr, /error=invalid_grant/);
});

Deno.test("userinfo returns the claims of the signed-in user and checks --sub", async () => {
  await using op = await startTestProvider();
  const tokens = json(await signIn(op, ["--scope", "openid email"]));
  const env = { AT: tokens.access_token as string };
  const base = ["userinfo", "--issuer", op.issuer, "--allow-http", "--token-env", "AT"];
  const info = json(await run([...base, "--sub", "alice", "--json"], env));
  assert.equal(info.sub, "alice");
  assert.equal(info.email, "alice@example.com");
  const mismatch = await run([...base, "--sub", "bob"], env);
  assert.equal(mismatch.code, 3);
  assert.match(mismatch.stderr, /code=OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED/);
  const bad = await run([...base.slice(0, -2), "nope"]);
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /error=invalid_token/);
});

Deno.test("introspect reports an active token, revoke revokes it, then introspect reports it inactive", async () => {
  await using op = await startTestProvider();
  const tokens = json(await signIn(op));
  const { args, env } = confidential(op);
  const withToken = { ...env, AT: tokens.access_token as string };
  const active = json(await run(["introspect", ...args, "--token-env", "AT", "--json"], withToken));
  assert.equal(active.active, true);
  assert.equal(active.sub, "alice");
  assert.equal(active.client_id, CLIENT_IDS.confidential);

  const revoked = await run([
    "revoke",
    ...args,
    "--token-env",
    "AT",
    "--token-type-hint",
    "access_token",
  ], withToken);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(revoked.stdout, "Revoked.\n");

  const inactive = await run(["introspect", ...args, "--token-env", "AT"], withToken);
  assert.equal(inactive.code, 0, inactive.stderr);
  assert.match(inactive.stdout, /^active: false$/m);
});

Deno.test("introspect reads the token from stdin when given -", async () => {
  await using op = await startTestProvider();
  const { args, env } = confidential(op);
  const result = await run(["introspect", ...args, "-", "--json"], env, {
    readStdin: () => Promise.resolve("unknown-token\n"),
  });
  assert.equal(json(result).active, false);
});

// ---------------------------------------------------------------------------------------------
// token-exchange

Deno.test("token-exchange sends the RFC 8693 parameters and prints the issued token", async () => {
  await using server = await startFakeAs();
  const result = await run([
    "token-exchange",
    ...fakeAsArgs(server),
    "--audience",
    "api",
    "--requested-token-type",
    "access_token",
    "subject-token-value",
    "--json",
  ], { S: server.clientSecret });
  const tokens = json(result);
  assert.equal(tokens.issued_token_type, "urn:ietf:params:oauth:token-type:access_token");
  const form = server.lastRequest("token")!.form!;
  assert.equal(form.get("grant_type"), "urn:ietf:params:oauth:grant-type:token-exchange");
  assert.equal(form.get("subject_token"), "subject-token-value");
  assert.equal(form.get("subject_token_type"), "urn:ietf:params:oauth:token-type:access_token");
  assert.equal(form.get("requested_token_type"), "urn:ietf:params:oauth:token-type:access_token");
  assert.equal(form.get("audience"), "api");
});

// ---------------------------------------------------------------------------------------------
// decode

Deno.test("decode prints a JWT's header and claims without validating it", async () => {
  const result = await run(["login", "--json"]);
  const idToken = json(result).id_token as string;
  const text = await run(["decode", idToken]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Header:$/m);
  assert.match(text.stdout, /"sub": "alice"/);
  assert.match(text.stdout, /^exp: +\d{4}-\d\d-\d\dT.+\(in \d+m\)$/m);
  assert.match(text.stdout, /Not validated/);
  const decoded = json(
    await run(["decode", "--json", "-"], {}, {
      readStdin: () => Promise.resolve(`${idToken}\n`),
    }),
  );
  assert.equal((decoded.header as Record<string, unknown>).alg, "RS256");
  assert.equal((decoded.claims as Record<string, unknown>).sub, "alice");
  assert.equal(decoded.validated, undefined);
});

Deno.test("decode --issuer validates the signature, iss and exp, and refuses a tampered token with exit 3", async () => {
  await using op = await startTestProvider();
  const tokens = json(await signIn(op));
  const idToken = tokens.id_token as string;
  const base = ["decode", "--issuer", op.issuer, "--allow-http"];

  const valid = json(await run([...base, idToken, "--json"]));
  assert.deepEqual(valid.validated, {
    alg: "RS256",
    kid: "op-rsa",
    jwks_uri: `${op.issuer}/jwks`,
    issuer: op.issuer,
  });
  const withAudience = await run([...base, "--audience", CLIENT_IDS.confidential, idToken]);
  assert.equal(withAudience.code, 0, withAudience.stderr);
  assert.match(withAudience.stdout, /^Valid: RS256 signature by key op-rsa/m);

  const tampered = tamper(idToken, { sub: "mallory" });
  assert.equal((await run(["decode", tampered])).code, 0, "decoding alone does not check");
  const refused = await run([...base, tampered]);
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /signature verification failed/);
  assert.match(refused.stderr, /code=OAUTH_INVALID_RESPONSE/);
  assert.equal(refused.stdout, "");

  const otherAudience = await run([...base, "--audience", "someone-else", idToken]);
  assert.equal(otherAudience.code, 3);
  assert.match(otherAudience.stderr, /code=OAUTH_JWT_CLAIM_COMPARISON_FAILED/);
});

Deno.test("decode --issuer refuses a token from another issuer with exit 3", async () => {
  await using op = await startTestProvider();
  await using other = await startProvider();
  const idToken = json(await signIn(op)).id_token as string;
  // Both providers share the harness's signing keys, so only the iss check tells them apart.
  const result = await run(["decode", "--issuer", other.issuer, "--allow-http", idToken]);
  assert.equal(result.code, 3);
  assert.match(result.stderr, /"iss"/);
  assert.match(result.stderr, /code=OAUTH_JWT_CLAIM_COMPARISON_FAILED/);
});

Deno.test("decode --issuer verifies every JWS algorithm of the issuer's key set", async () => {
  await using server = await startFakeAs();
  for (const alg of ["ES256", "ES384", "RS256", "PS256", "EdDSA"] as const) {
    const jwt = await server.sign(server.idTokenClaims(), undefined, alg);
    const result = await run(["decode", "--issuer", server.issuer, "--allow-http", jwt, "--json"]);
    assert.equal((json(result).validated as Record<string, unknown>).alg, alg, alg);
  }
});

Deno.test("decode --issuer refuses expired, not-yet-valid, exp-less and unsigned tokens with exit 3", async () => {
  await using server = await startFakeAs();
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, RegExp][] = [
    [
      await server.sign(server.idTokenClaims({ exp: now - 120 })),
      /OAUTH_JWT_TIMESTAMP_CHECK_FAILED/,
    ],
    [
      await server.sign(server.idTokenClaims({ nbf: now + 600 })),
      /OAUTH_JWT_TIMESTAMP_CHECK_FAILED/,
    ],
    [await server.sign(server.idTokenClaims({ exp: undefined })), /"exp".*missing/],
    [await server.sign(server.idTokenClaims(), { alg: "none" }), /"alg": "none"/],
    [await server.sign(server.idTokenClaims(), { kid: "unknown" }), /OAUTH_KEY_SELECTION_FAILED/],
  ];
  for (const [jwt, message] of cases) {
    const result = await run(["decode", "--issuer", server.issuer, "--allow-http", jwt]);
    assert.equal(result.code, 3, `${message}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});

// ---------------------------------------------------------------------------------------------
// device

Deno.test("device without --issuer shows the user code, polls, and prints tokens once the code is approved", async () => {
  const approved: string[] = [];
  const { promise: approval, resolve: approvalDone } = Promise.withResolvers<void>();
  const waits: number[] = [];
  let provider: EmbeddedProvider | undefined;
  const embedded = async (): Promise<EmbeddedProvider> => {
    provider = await startEmbeddedProvider();
    const real = provider;
    return {
      ...real,
      issuer: real.issuer,
      clientId: real.clientId,
      approveDeviceCode: async (userCode: string) => {
        approved.push(userCode);
        await real.approveDeviceCode(userCode);
        approvalDone();
      },
    };
  };
  // The poll after a wait happens once the approval is done: no real time passes.
  const sleep = async (ms: number) => {
    waits.push(ms);
    await approval;
  };
  const result = await run(["device", "--json"], {}, { embedded, sleep });
  const tokens = json(result);
  assert.equal((tokens.id_token_claims as Record<string, unknown>).sub, "alice");
  assert.equal(approved.length, 1);
  assert.ok(result.stderr.includes(`\n  ${approved[0]}\n`), "the user code is shown");
  assert.match(result.stderr, /\/device\?user_code=/);
  assert.ok(waits.every((ms) => ms === 5000), "RFC 8628 §3.2: 5 s without an interval");
  assert.match(result.stderr, /Approved\./);
  assert.ok(provider !== undefined);
});

Deno.test("device --issuer keeps polling until the test approves the user code", async () => {
  await using op = await startTestProvider();
  const { args, env } = confidential(op);
  const { promise: approval, resolve: approvalDone } = Promise.withResolvers<void>();
  const waits: number[] = [];
  const captured = capture(env, {
    sleep: async (ms) => {
      waits.push(ms);
      await approval;
    },
  });
  const running = main(["device", ...args, "--scope", "openid", "--json"], captured.io);
  const [, userCode] = await Promise.race([
    captured.waitFor(/enter the code\n\n {2}(\S+)\n/),
    running.then(() => {
      throw new Error(captured.stderr);
    }),
  ]);
  await captured.waitFor(/waiting for approval \(authorization_pending\)/);
  await op.approveDeviceCode(userCode!);
  approvalDone();
  assert.equal(await running, 0, captured.stderr);
  const tokens = JSON.parse(captured.stdout);
  assert.equal((tokens.id_token_claims as Record<string, unknown>).sub, "alice");
  assert.deepEqual(waits, [5000]);
});

Deno.test("device honours the server's interval and adds 5 s on slow_down", async () => {
  await using server = await startFakeAs();
  server.override("device_authorization", async (_req, _body, next) => {
    const response = await next();
    return { ...(await response.json()), interval: 7 };
  });
  server.overrideOnce("token", server.oauthError("slow_down"));
  server.overrideOnce("token", server.oauthError("authorization_pending"));
  const waits: number[] = [];
  const result = await run(
    [
      "device",
      ...fakeAsArgs(server),
    ],
    { S: server.clientSecret },
    { sleep: (ms) => Promise.resolve(void waits.push(ms)) },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(waits, [12_000, 12_000]);
  assert.equal(server.requestsTo("token").length, 3);
  assert.match(result.stderr, /WDJB-MJHT/);
  assert.match(result.stderr, /waiting for approval \(slow_down\); polling every 12s/);
  assert.match(result.stdout, /^access_token: +\S+$/m);
});

Deno.test("device gives up when the device code expires, on the clock the caller supplies", async () => {
  await using server = await startFakeAs();
  server.override("device_authorization", async (_req, _body, next) => {
    const response = await next();
    return { ...(await response.json()), expires_in: 12, interval: 5 };
  });
  server.override("token", server.oauthError("authorization_pending"));
  // A fake clock that only sleep() moves: with Date.now() the deadline would never come.
  let clock = 1_000_000;
  const result = await run(
    [
      "device",
      ...fakeAsArgs(server),
    ],
    { S: server.clientSecret },
    {
      now: () => clock,
      sleep: (ms) => Promise.resolve(void (clock += ms)),
    },
  );
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /expired/);
  // Polls at 0 s, 5 s and 10 s; at 15 s the 12 s code has expired.
  assert.equal(server.requestsTo("token").length, 3);
});

Deno.test("device exits 3 with error=access_denied when the user refuses", async () => {
  await using server = await startFakeAs();
  server.overrideOnce("token", server.oauthError("access_denied", "the user said no"));
  const result = await run([
    "device",
    ...fakeAsArgs(server),
  ], { S: server.clientSecret });
  assert.equal(result.code, 3);
  assert.match(result.stderr, /error=access_denied error_description="the user said no"/);
});

// ---------------------------------------------------------------------------------------------
// The entry point as a subprocess

async function subprocess(
  args: string[],
  env: Record<string, string> = {},
  entry = "src/cli/mod.ts",
) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", entry, ...args],
    cwd: REPO,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("deno run src/cli/mod.ts exits with the code of main(): 0, 2 and 3", async () => {
  await using op = await startTestProvider();
  const secret = op.clients.confidential.client_secret!;
  const base = [
    "client-credentials",
    "--issuer",
    op.issuer,
    "--allow-http",
    "--client-id",
    CLIENT_IDS.confidential,
    "--client-secret-env",
    "CLI_SECRET",
    "--json",
  ];
  const ok = await subprocess(base, { CLI_SECRET: secret });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(typeof JSON.parse(ok.stdout).access_token, "string");
  const usage = await subprocess(["client-credentials", "--bogus"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /unknown flag --bogus/);
  const refused = await subprocess(base, { CLI_SECRET: "wrong" });
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /"error":"invalid_client"/);
  assert.ok(!(ok.stdout + ok.stderr + refused.stderr).includes(secret));
});

Deno.test("deno run tools/cli.ts (deno task cli) login signs in at the embedded provider in a fresh process", async () => {
  const result = await subprocess(["login", "--json"], {}, "tools/cli.ts");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).id_token_claims.sub, "alice");
});

Deno.test("deno run src/cli/mod.ts (the published CLI) has no embedded provider: login without --issuer exits 2", async () => {
  const result = await subprocess(["login", "--json"]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--issuer is required/);
  assert.equal(result.stdout, "");
});
