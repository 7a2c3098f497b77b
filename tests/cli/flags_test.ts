// The CLI's flags as oauth2c and curl users expect them: --version, --allow-http and the refused
// --insecure, --timeout, --verbose with secrets redacted, RFC 8414 auth-method names, warnings for
// comma-separated scopes, the --param policy, endpoint flags for servers without discovery,
// --redirect-uri and the browser, --dpop-key files, and decode's marks. Against the in-process
// fake authorization server through CliIo.fetch: no sockets.

import assert from "node:assert/strict";
import { createFakeAs, type FakeAs, type FakeFetchInit } from "../_fake_as.ts";
import { capture, type Captured, json, run } from "./_harness.ts";
import { main } from "../../src/cli/mod.ts";

/** CliIo that sends every request to the fake server. */
function via(server: FakeAs) {
  return { fetch: (url: string, init: RequestInit) => server.fetch(url, init as FakeFetchInit) };
}

/** The flags of the fake server's issuer and client, the secret in $S. */
function clientFlags(server: FakeAs): string[] {
  return [
    "--issuer",
    server.issuer,
    "--client-id",
    server.client.client_id,
    "--client-secret-env",
    "S",
  ];
}

/** client-credentials at the fake server with its client; $S is its secret unless `env` says. */
function clientCredentials(
  server: FakeAs,
  extra: string[] = [],
  env: Record<string, string> = { S: server.clientSecret },
) {
  return run(["client-credentials", ...clientFlags(server), ...extra], env, via(server));
}

/**
 * `login ARGS` with the fake server as the browser, $S its client secret: waits for the printed
 * authorization URL, has the fake server answer it, gives both to `inspect`, then delivers the
 * redirect to the CLI's loopback listener (200) and waits for exit code 0.
 */
async function login(
  server: FakeAs,
  args: string[],
  inspect: (authorizationUrl: URL, callback: URL, captured: Captured) => unknown = () => {},
): Promise<Captured> {
  const captured = capture({ S: server.clientSecret }, via(server));
  const running = main(["login", ...args], captured.io);
  const [, printed] = await captured.waitFor(/^ {2}(https:\/\/\S+)$/m);
  const authorizationUrl = new URL(printed!);
  const redirect = await server.fetch(authorizationUrl.href, { redirect: "manual" });
  const callback = new URL(redirect.headers.get("location")!);
  await inspect(authorizationUrl, callback, captured);
  assert.equal(await captured.deliver(callback), 200);
  assert.equal(await running, 0, captured.stderr);
  return captured;
}

function b64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unsignedJwt(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  return `${b64url(header)}.${b64url(claims)}.c2ln`;
}

Deno.test("--version prints the version of deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  for (const args of [["--version"], ["version"]]) {
    const result = await run(args);
    assert.equal(result.code, 0);
    assert.ok(result.stdout.startsWith(`authlane ${config.version} (`), result.stdout);
  }
});

Deno.test("--insecure is refused before any request: Deno cannot skip TLS verification", async () => {
  const server = createFakeAs();
  const result = await clientCredentials(server, ["--insecure"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--insecure \(curl -k: skip TLS certificate verification\) is not/);
  assert.match(result.stderr, /hint: trust a private CA with --ca FILE, or .* --allow-http/);
  assert.equal(server.requests.length, 0);
});

Deno.test("--timeout and --browser-timeout take a positive number of seconds", async () => {
  for (const [command, flag] of [["discover", "--timeout"], ["login", "--browser-timeout"]]) {
    for (const value of ["0", "-1", "soon"]) {
      const result = await run([command!, "--issuer", "https://as.example", `${flag}=${value}`]);
      assert.equal(result.code, 2, `${flag} ${value}`);
      assert.match(result.stderr, new RegExp(`${flag} must be a positive number of seconds`));
    }
  }
});

Deno.test("--auth takes the RFC 8414 method names besides the short ones", async () => {
  const server = createFakeAs();
  for (
    const [name, method] of [
      ["client_secret_basic", "client_secret_basic"],
      ["client_secret_post", "client_secret_post"],
      ["client_secret_jwt", "client_secret_jwt"],
      ["post", "client_secret_post"],
    ]
  ) {
    const result = await clientCredentials(server, ["--auth", name!]);
    assert.equal(result.code, 0, `${name}: ${result.stderr}`);
    assert.equal(server.lastRequest("token")!.clientAuth?.method, method, name);
  }
  const none = await run(
    ["client-credentials", "--issuer", server.issuer, "--client-id", "c", "--auth", "none"],
    {},
    via(server),
  );
  assert.equal(server.lastRequest("token")!.clientAuth?.method, "none", none.stderr);
  const unknown = await clientCredentials(server, ["--auth", "client_secret"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--auth must be one of client_secret_basic, client_secret_post/);
  const keyless = await clientCredentials(server, ["--auth", "private_key_jwt"]);
  assert.equal(keyless.code, 2);
  assert.match(keyless.stderr, /a client secret was given, but --auth private_key_jwt/);
});

Deno.test("--scope with a comma is sent as given, with a warning that scopes are space-separated", async () => {
  const server = createFakeAs();
  const result = await clientCredentials(server, ["--scope", "read,write"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(server.lastRequest("token")!.form!.get("scope"), "read,write");
  assert.match(
    result.stderr,
    /warning: --scope "read,write" has a comma, but scopes are space-separated \(RFC 6749 §3\.3\): the server gets "read,write"\. For several scopes: --scope "read write"\./,
  );
  const spaced = await clientCredentials(server, ["--scope", "read write"]);
  assert.ok(!spaced.stderr.includes("warning"), spaced.stderr);
});

Deno.test("--param: parameters the command sets are refused before any request; flag parameters stand in for their flag", async () => {
  const server = createFakeAs();
  const refused: [string, RegExp][] = [
    ["grant_type=password", /--param grant_type: the command sets grant_type itself/],
    ["client_id=other", /--param client_id: .*use --client-id/],
    ["client_secret=x", /use --client-secret-env or --client-secret-file/],
  ];
  for (const [param, message] of refused) {
    const result = await clientCredentials(server, ["--param", param]);
    assert.equal(result.code, 2, param);
    assert.match(result.stderr, message);
  }
  assert.equal(server.requestsTo("token").length, 0);

  const both = await clientCredentials(server, ["--scope", "a", "--param", "scope=b"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give scope once: --scope or --param scope, not both/);

  const scope = await clientCredentials(server, ["--param", "scope=b", "--param", "x=1"]);
  assert.equal(scope.code, 0, scope.stderr);
  const form = server.lastRequest("token")!.form!;
  assert.deepEqual(form.getAll("scope"), ["b"]);
  assert.equal(form.get("x"), "1");

  const exchange = await run(
    [
      "token-exchange",
      ...clientFlags(server),
      "--param",
      "subject_token_type=urn:example:custom",
      "subject",
    ],
    { S: server.clientSecret },
    via(server),
  );
  assert.equal(exchange.code, 0, exchange.stderr);
  assert.deepEqual(server.lastRequest("token")!.form!.getAll("subject_token_type"), [
    "urn:example:custom",
  ]);
});

Deno.test("--verbose traces each exchange with every secret redacted", async () => {
  const server = createFakeAs();
  const result = await clientCredentials(server, ["--auth", "post", "--verbose", "--json"]);
  const tokens = json(result);
  const accessToken = tokens.access_token as string;
  const trace = result.stderr;
  assert.match(trace, /^> GET https:\/\/as\.example\/\.well-known\/openid-configuration$/m);
  assert.match(trace, /^> POST https:\/\/as\.example\/token$/m);
  assert.match(trace, /^< 200/m);
  assert.match(trace, /client_secret=\[redacted, \d+ chars\]/);
  assert.match(trace, new RegExp(`"access_token": "${accessToken.slice(0, 4)}…\\(\\d+ chars\\)"`));
  assert.ok(!trace.includes(server.clientSecret), "the client secret");
  assert.ok(!trace.includes(accessToken), "the access token");

  const basic = await clientCredentials(server, ["-v"]);
  assert.match(basic.stderr, /^> authorization: Basic \[redacted, \d+ chars\]$/m);
  assert.ok(!basic.stderr.includes(btoa(`${server.client.client_id}:`).slice(0, 8)));
  const quiet = await clientCredentials(server);
  assert.ok(!quiet.stderr.includes("> POST"), "no trace without --verbose");
});

Deno.test("endpoint flags describe a server without discovery (GitHub-style OAuth apps)", async () => {
  const server = createFakeAs();
  const result = await clientCredentials(server, [
    "--token-endpoint",
    `${server.issuer}/token`,
    "--json",
  ]);
  assert.equal(typeof json(result).access_token, "string");
  assert.deepEqual(server.requests.map((r) => r.route), ["token"], "no discovery request");
  assert.match(result.stderr, /No discovery: the server is described by the endpoint flags/);

  // login: no openid scope by default (the server may be plain OAuth, and send no ID token);
  // the issuer is the origin.
  server.override("token", async (_request, _body, next) => {
    const { id_token: _idToken, ...tokens } = await (await next()).json();
    return tokens;
  });
  const captured = await login(server, [
    "--authorization-endpoint",
    `${server.issuer}/authorize`,
    "--token-endpoint",
    `${server.issuer}/token`,
    "--client-id",
    server.client.client_id,
    "--client-secret-env",
    "S",
    "--no-browser",
    "--json",
  ], (authorizationUrl) => assert.equal(authorizationUrl.searchParams.get("scope"), null));
  assert.equal(typeof JSON.parse(captured.stdout).access_token, "string");
  assert.deepEqual(captured.opened, [], "--no-browser");

  const http = await run(
    ["client-credentials", "--token-endpoint", "http://as.example/token", "--client-id", "c"],
    {},
    via(server),
  );
  assert.equal(http.code, 2);
  assert.match(http.stderr, /refusing plain http: http:\/\/as\.example/);
});

Deno.test("an http: endpoint in https metadata is refused with the URL and --allow-http as the next step", async () => {
  const server = createFakeAs({ metadata: { token_endpoint: "http://as.example/token" } });
  const result = await clientCredentials(server);
  assert.equal(result.code, 3, result.stderr);
  assert.match(
    result.stderr,
    /^authlane client-credentials: refusing plain http: http:\/\/as\.example\/token$/m,
  );
  assert.match(result.stderr, /hint: pass --allow-http \(meant for servers on loopback\)/);
});

Deno.test("an OAuth error response names the status and URL, and the next step", async () => {
  const server = createFakeAs();
  const result = await clientCredentials(server, ["--auth", "post"], { S: "wrong-secret-value" });
  assert.equal(result.code, 3);
  assert.match(
    result.stderr,
    /^authlane client-credentials: the server refused the request: HTTP 401 from POST https:\/\/as\.example\/token$/m,
  );
  assert.match(result.stderr, /error=invalid_client/);
  assert.match(result.stderr, /hint: check --client-id, the client secret and --auth/);
  assert.ok(!result.stderr.includes("wrong-secret-value"));
});

Deno.test("login listens where --redirect-uri says and sends it as written; a port in it is kept", async () => {
  const server = createFakeAs();
  const cases: [string[], number, string, string][] = [
    [["--redirect-uri", "http://localhost:8765/cb"], 8765, "127.0.0.1", "http://localhost:8765/cb"],
    [["--redirect-uri", "http://[::1]/cb?x=1"], 0, "::1", "http://[::1]:49152/cb?x=1"],
    [["--port", "9999"], 9999, "127.0.0.1", "http://127.0.0.1:9999/callback"],
    [["--param", "redirect_uri=http://127.0.0.1:80/cb"], 80, "127.0.0.1", "http://127.0.0.1:80/cb"],
  ];
  for (const [flags, port, hostname, sent] of cases) {
    await login(
      server,
      [...clientFlags(server), "--json", ...flags],
      async (authorizationUrl, callback, captured) => {
        assert.equal(authorizationUrl.searchParams.get("redirect_uri"), sent, flags.join(" "));
        assert.deepEqual([captured.listenedOn, captured.hostnames], [[port], [hostname]]);
        assert.deepEqual(captured.opened, [authorizationUrl.href], "the browser opens the URL");
        const elsewhere = new URL(callback);
        elsewhere.pathname = "/callback-not";
        assert.equal(await captured.deliver(elsewhere), 404);
      },
    );
  }

  const refused: [string[], RegExp][] = [
    [
      ["--redirect-uri", "https://app.example/cb"],
      /must be http:\/\/127\.0\.0\.1, http:\/\/\[::1\] or http:\/\/localhost/,
    ],
    [["--redirect-uri", "http://127.0.0.1:8000/cb", "--port", "8001"], /--port 8001 contradicts/],
    [
      ["--redirect-uri", "http://127.0.0.1/cb", "--param", "redirect_uri=http://127.0.0.1/x"],
      /give redirect_uri once/,
    ],
    [["--param", "code_challenge=abc"], /login makes the PKCE pair itself/],
    [["--param", "response_type=token"], /response_type=code/],
  ];
  for (const [flags, message] of refused) {
    const result = await run(
      ["login", "--issuer", server.issuer, "--client-id", "c", ...flags],
      {},
      via(server),
    );
    assert.equal(result.code, 2, `${flags.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});

Deno.test("login --param state and nonce are sent instead of random ones, with a note", async () => {
  const server = createFakeAs();
  const captured = await login(server, [
    ...clientFlags(server),
    "--param",
    "state=fixed-state",
    "--param",
    "nonce=fixed-nonce",
    "--no-browser",
    "--json",
  ], (authorizationUrl) => {
    assert.deepEqual(authorizationUrl.searchParams.getAll("state"), ["fixed-state"]);
    assert.deepEqual(authorizationUrl.searchParams.getAll("nonce"), ["fixed-nonce"]);
  });
  assert.match(captured.stderr, /note: sending --param state instead of a random one/);
  assert.equal(
    (JSON.parse(captured.stdout).id_token_claims as Record<string, unknown>).nonce,
    "fixed-nonce",
  );
});

Deno.test("--dpop-key creates a private JWK readable by its owner only, and later commands reuse it", async () => {
  const server = createFakeAs();
  const dir = await Deno.makeTempDir();
  try {
    const keyFile = `${dir}/dpop.json`;
    const first = json(await clientCredentials(server, ["--dpop-key", keyFile, "--json"]));
    assert.equal(first.token_type, "dpop");
    const jwk = JSON.parse(await Deno.readTextFile(keyFile));
    assert.deepEqual([jwk.kty, jwk.crv, jwk.alg, typeof jwk.d], ["EC", "P-256", "ES256", "string"]);
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
    }

    const again = await clientCredentials(server, ["--dpop-key", keyFile, "--json"]);
    assert.equal(json(again).dpop_jkt, first.dpop_jkt, "the same key");
    assert.ok(!again.stderr.includes("Created"), again.stderr);

    // The token is usable by a later command with the same key, and by no other.
    const env = { AT: first.access_token as string };
    const userinfo = await run(
      ["userinfo", "--issuer", server.issuer, "--dpop-key", keyFile, "--token-env", "AT", "--json"],
      env,
      via(server),
    );
    assert.equal(json(userinfo).sub, "user-1");
    // The fake server checks the proof's key against the token's binding; the proof has ath.
    assert.equal(typeof server.lastRequest("userinfo")!.dpop?.claims?.ath, "string");
    const bearer = await run(
      ["userinfo", "--issuer", server.issuer, "--token-env", "AT"],
      env,
      via(server),
    );
    assert.equal(bearer.code, 3);
    assert.match(bearer.stderr, /a DPoP-bound token also needs its --dpop-key FILE/);

    await Deno.chmod(keyFile, 0o644);
    const loose = await clientCredentials(server, ["--dpop-key", keyFile]);
    assert.equal(loose.code, 0, loose.stderr);
    if (Deno.build.os !== "windows") {
      assert.match(loose.stderr, /warning: --dpop-key .* can be read by other users \(mode 644\)/);
    }
    await Deno.writeTextFile(`${dir}/public.json`, JSON.stringify({ ...jwk, d: undefined }));
    const publicOnly = await clientCredentials(server, ["--dpop-key", `${dir}/public.json`]);
    assert.equal(publicOnly.code, 2);
    assert.match(publicOnly.stderr, /is not a private JWK/);
    for (const result of [first, again, loose, publicOnly].map((r) => JSON.stringify(r))) {
      assert.ok(!result.includes(jwk.d), "the private key is never printed");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--dpop warns that its key is thrown away", async () => {
  const server = createFakeAs();
  const result = await clientCredentials(server, ["--dpop"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /note: --dpop signs with a key that is gone .* --dpop-key FILE/);
});

Deno.test("decode marks expired, not-yet-valid and unsigned tokens, and drops a Bearer prefix", async () => {
  const now = Math.floor(Date.now() / 1000);
  const cases: [Record<string, unknown>, Record<string, unknown>, string[], RegExp][] = [
    [{ alg: "ES256" }, { exp: now - 3600 }, ["expired"], /^EXPIRED: exp is in the past$/m],
    [{ alg: "ES256" }, { nbf: now + 3600 }, ["not-yet-valid"], /^NOT YET VALID: nbf/m],
    [{ alg: "none" }, { exp: now + 3600 }, ["unsigned"], /^UNSIGNED: alg is "none"/m],
    [{ alg: "none" }, { exp: now - 3600 }, ["expired", "unsigned"], /^EXPIRED/m],
  ];
  for (const [header, claims, marks, line] of cases) {
    const token = unsignedJwt(header, claims);
    const decoded = json(await run(["decode", `Bearer ${token}`, "--json"]));
    assert.deepEqual(decoded.marks, marks);
    const text = await run(["decode", token]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, line);
  }
  const fresh = json(
    await run(["decode", unsignedJwt({ alg: "ES256" }, { exp: now + 3600 }), "--json"]),
  );
  assert.equal(fresh.marks, undefined);
  const dpop = await run(["decode", `DPoP ${unsignedJwt({ alg: "ES256" }, {})}`]);
  assert.equal(dpop.code, 0, dpop.stderr);
});
