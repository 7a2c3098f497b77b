/**
 * Metadata discovery (RFC 8414 §3, OpenID Connect Discovery 1.0 §4, RFC 9728 §3): the well-known
 * URL for root and path identifiers both ways, the issuer / resource binding, and every refusal of
 * a response that is not a conform metadata document.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as oauth from "@authlane/oauth";
import * as o4w from "oauth4webapi";
import { assertOAuthError, assertTypeError } from "./_assert.ts";
import { challenge, createFakeAs, json, oauthError } from "./_fake_as.ts";

/** A customFetch that records every call and answers with `answer()` (a fresh Response). */
function recorder(answer: () => Response = () => new Response(null, { status: 204 })) {
  const calls: { url: string; init: oauth.CustomFetchOptions<"GET", undefined> }[] = [];
  const fetch = (url: string, init: oauth.CustomFetchOptions<"GET", undefined>) => {
    calls.push({ url, init });
    return Promise.resolve(answer());
  };
  return { calls, options: { [oauth.customFetch]: fetch } };
}

/** Builds the discovery URL authlane requests for an issuer, via a recording customFetch. */
async function requestedUrl(
  issuer: string,
  algorithm?: "oidc" | "oauth2",
  insecure = false,
): Promise<string> {
  const { calls, options } = recorder();
  const response = await oauth.discoveryRequest(new URL(issuer), {
    ...options,
    algorithm,
    [oauth.allowInsecureRequests]: insecure,
  });
  await response.body?.cancel();
  assert.equal(calls.length, 1);
  return calls[0]!.url;
}

const ISSUER = "https://as.example";

// -- discoveryRequest(): the well-known URL ------------------------------------------------------

Deno.test("discoveryRequest() GETs /.well-known/openid-configuration of a root issuer with Accept: application/json", async () => {
  const server = createFakeAs();
  const issuer = new URL(server.issuer);
  const response = await oauth.discoveryRequest(issuer, server.options);
  const as = await oauth.processDiscoveryResponse(issuer, response);
  assert.deepEqual(as, server.as);
  const sent = server.lastRequest("discovery")!;
  assert.equal(sent.method, "GET");
  assert.equal(sent.url.href, "https://as.example/.well-known/openid-configuration");
  assert.equal(sent.headers.get("accept"), "application/json");
  assert.ok(sent.headers.get("user-agent"));
  assert.equal(server.requests.length, 1);
});

Deno.test("discoveryRequest() appends the OIDC suffix after a path issuer's path", async () => {
  const server = createFakeAs({ path: "/tenant" });
  const issuer = new URL(server.issuer);
  const response = await oauth.discoveryRequest(issuer, { ...server.options, algorithm: "oidc" });
  const as = await oauth.processDiscoveryResponse(issuer, response);
  assert.equal(as.issuer, "https://as.example/tenant");
  assert.equal(
    server.lastRequest("discovery")!.url.href,
    "https://as.example/tenant/.well-known/openid-configuration",
  );
});

Deno.test("discoveryRequest() inserts /.well-known/oauth-authorization-server before a path issuer's path with algorithm oauth2", async () => {
  const server = createFakeAs({ path: "/tenant" });
  const issuer = new URL(server.issuer);
  const response = await oauth.discoveryRequest(issuer, {
    ...server.options,
    algorithm: "oauth2",
  });
  const as = await oauth.processDiscoveryResponse(issuer, response);
  assert.equal(as.issuer, "https://as.example/tenant");
  assert.equal(
    server.lastRequest("discovery")!.url.href,
    "https://as.example/.well-known/oauth-authorization-server/tenant",
  );
});

Deno.test("discoveryRequest() adds no path suffix after the oauth2 well-known URL of a root issuer", async () => {
  assert.equal(
    await requestedUrl(`${ISSUER}/`, "oauth2"),
    "https://as.example/.well-known/oauth-authorization-server",
  );
  assert.equal(
    await requestedUrl(ISSUER, "oidc"),
    "https://as.example/.well-known/openid-configuration",
  );
});

Deno.test("discoveryRequest() drops one terminating slash of a path issuer both ways", async () => {
  assert.equal(
    await requestedUrl(`${ISSUER}/a/b/`, "oidc"),
    "https://as.example/a/b/.well-known/openid-configuration",
  );
  assert.equal(
    await requestedUrl(`${ISSUER}/a/b/`, "oauth2"),
    "https://as.example/.well-known/oauth-authorization-server/a/b",
  );
});

Deno.test("discoveryRequest() keeps the issuer's host when its path starts with two slashes", async () => {
  const oidc = new URL(await requestedUrl(`${ISSUER}//evil.example/x`, "oidc"));
  const oauth2 = new URL(await requestedUrl(`${ISSUER}//evil.example/x`, "oauth2"));
  assert.equal(oidc.host, "as.example");
  assert.equal(oidc.pathname, "//evil.example/x/.well-known/openid-configuration");
  assert.equal(oauth2.host, "as.example");
  assert.equal(oauth2.pathname, "/.well-known/oauth-authorization-server//evil.example/x");
});

Deno.test("discoveryRequest() keeps a non-default port", async () => {
  assert.equal(
    await requestedUrl("https://as.example:8443/t", "oauth2"),
    "https://as.example:8443/.well-known/oauth-authorization-server/t",
  );
});

Deno.test("discoveryRequest() passes the caller's headers but always asks for JSON", async () => {
  const { calls, options } = recorder();
  const response = await oauth.discoveryRequest(new URL(ISSUER), {
    ...options,
    headers: { "x-trace": "1", accept: "text/html" },
  });
  await response.body?.cancel();
  assert.equal(calls[0]!.init.headers["x-trace"], "1");
  assert.equal(calls[0]!.init.headers.accept, "application/json");
  assert.equal(calls[0]!.init.method, "GET");
  assert.equal(calls[0]!.init.redirect, "manual");
});

// -- discoveryRequest(): refusals before any request ---------------------------------------------

Deno.test("discoveryRequest() refuses an issuer with a query or fragment before any request", async () => {
  for (const issuer of [`${ISSUER}/?x=1`, `${ISSUER}/t#frag`, `${ISSUER}/?`, `${ISSUER}/#`]) {
    const { calls, options } = recorder();
    await assertTypeError(
      () => oauth.discoveryRequest(new URL(issuer), options),
      "ERR_INVALID_ARG_VALUE",
    );
    assert.equal(calls.length, 0, issuer);
  }
});

Deno.test("discoveryRequest() refuses an issuer that is not a URL", async () => {
  const { calls, options } = recorder();
  await assertTypeError(
    () => oauth.discoveryRequest(ISSUER as unknown as URL, options),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(calls.length, 0);
});

Deno.test("discoveryRequest() refuses an unknown algorithm", async () => {
  const { calls, options } = recorder();
  await assertTypeError(
    () =>
      oauth.discoveryRequest(new URL(ISSUER), {
        ...options,
        algorithm: "webfinger" as "oidc",
      }),
    "ERR_INVALID_ARG_VALUE",
  );
  assert.equal(calls.length, 0);
});

Deno.test("discoveryRequest() refuses an http issuer without allowInsecureRequests and sends nothing", async () => {
  const { calls, options } = recorder();
  await assertOAuthError(
    () => oauth.discoveryRequest(new URL("http://as.example"), options),
    oauth.OperationProcessingError,
    oauth.HTTP_REQUEST_FORBIDDEN,
  );
  assert.equal(calls.length, 0);
});

Deno.test("discoveryRequest() sends to an http issuer with allowInsecureRequests", async () => {
  const server = createFakeAs({ issuer: "http://as.example" });
  const issuer = new URL(server.issuer);
  const response = await oauth.discoveryRequest(issuer, {
    ...server.options,
    [oauth.allowInsecureRequests]: true,
  });
  const as = await oauth.processDiscoveryResponse(issuer, response);
  assert.equal(as.issuer, "http://as.example");
});

Deno.test("discoveryRequest() refuses schemes other than https and http even with allowInsecureRequests", async () => {
  const { calls, options } = recorder();
  await assertOAuthError(
    () =>
      oauth.discoveryRequest(new URL("ftp://as.example/t"), {
        ...options,
        [oauth.allowInsecureRequests]: true,
      }),
    oauth.OperationProcessingError,
    oauth.REQUEST_PROTOCOL_FORBIDDEN,
  );
  assert.equal(calls.length, 0);
});

Deno.test("discoveryRequest() refuses a customFetch that is not a function before any request", async () => {
  await assertTypeError(
    () =>
      oauth.discoveryRequest(new URL(ISSUER), {
        [oauth.customFetch]: "fetch" as unknown as typeof fetch,
      }),
    "ERR_INVALID_ARG_TYPE",
  );
});

Deno.test("discoveryRequest() does not follow a redirect and processDiscoveryResponse() refuses it", async () => {
  const { calls, options } = recorder(() =>
    new Response(null, {
      status: 302,
      headers: { location: "https://evil.example/.well-known/openid-configuration" },
    })
  );
  const issuer = new URL(ISSUER);
  const response = await oauth.discoveryRequest(issuer, options);
  assert.equal(response.status, 302);
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(issuer, response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_CONFORM,
    { status: 302, expected: 200 },
  );
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.init.redirect, "manual");
});

Deno.test("fast-check: discovery URLs of arbitrary issuers stay on the issuer's origin or fail with a typed error", async () => {
  const typed = (err: unknown): boolean =>
    (err instanceof TypeError &&
      ["ERR_INVALID_ARG_TYPE", "ERR_INVALID_ARG_VALUE"].includes(
        (err as { code?: string }).code ?? "",
      )) ||
    (err instanceof oauth.OperationProcessingError &&
      [oauth.HTTP_REQUEST_FORBIDDEN, oauth.REQUEST_PROTOCOL_FORBIDDEN].includes(err.code ?? ""));
  await fc.assert(
    fc.asyncProperty(
      fc.webUrl({ withQueryParameters: false, withFragments: false }),
      fc.oneof(fc.string(), fc.array(fc.webSegment()).map((s) => s.join("/"))),
      fc.constantFrom("oidc" as const, "oauth2" as const),
      fc.boolean(),
      async (base, path, algorithm, insecure) => {
        const issuer = new URL(base);
        issuer.pathname = path;
        const { calls, options } = recorder();
        let response: Response;
        try {
          response = await oauth.discoveryRequest(issuer, {
            ...options,
            algorithm,
            [oauth.allowInsecureRequests]: insecure,
          });
        } catch (err) {
          assert.ok(typed(err), `untyped error ${String(err)}`);
          assert.equal(calls.length, 0);
          return;
        }
        await response.body?.cancel();
        assert.equal(calls.length, 1);
        const url = calls[0]!.url;
        assert.ok(url.startsWith(`${issuer.origin}/`), `${url} outside ${issuer.origin}`);
        assert.equal(new URL(url).origin, issuer.origin);
        const trimmed = issuer.pathname.replace(/\/$/, "");
        assert.equal(
          new URL(url).pathname,
          algorithm === "oidc"
            ? `${trimmed}/.well-known/openid-configuration`
            : `/.well-known/oauth-authorization-server${trimmed}`,
        );
      },
    ),
    { numRuns: 300 },
  );
});

// -- processDiscoveryResponse() ------------------------------------------------------------------

const METADATA = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  token_endpoint: `${ISSUER}/token`,
  jwks_uri: `${ISSUER}/jwks`,
};

Deno.test("processDiscoveryResponse() accepts an issuer equal to the expected one after URL serialization", async () => {
  // "https://as.example" and new URL("https://as.example").href ("…example/") denote one issuer.
  const as = await oauth.processDiscoveryResponse(new URL(ISSUER), json(METADATA));
  assert.equal(as.issuer, ISSUER);
  assert.equal(as.token_endpoint, METADATA.token_endpoint);
});

Deno.test("processDiscoveryResponse() refuses metadata whose issuer is another server (mix-up)", async () => {
  const body = { ...METADATA, issuer: "https://evil.example" };
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(new URL(ISSUER), json(body)),
    oauth.OperationProcessingError,
    oauth.JSON_ATTRIBUTE_COMPARISON,
    { expected: "https://as.example/", attribute: "issuer", body },
  );
});

Deno.test("processDiscoveryResponse() refuses metadata of another tenant on the same host", async () => {
  const body = { ...METADATA, issuer: `${ISSUER}/tenant-b` };
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(new URL(`${ISSUER}/tenant-a`), json(body)),
    oauth.OperationProcessingError,
    oauth.JSON_ATTRIBUTE_COMPARISON,
    { attribute: "issuer", expected: `${ISSUER}/tenant-a` },
  );
  // A trailing slash makes a different path issuer.
  await assertOAuthError(
    () =>
      oauth.processDiscoveryResponse(
        new URL(`${ISSUER}/tenant-a`),
        json({ ...METADATA, issuer: `${ISSUER}/tenant-a/` }),
      ),
    oauth.OperationProcessingError,
    oauth.JSON_ATTRIBUTE_COMPARISON,
  );
});

Deno.test("processDiscoveryResponse() refuses an issuer that matches the expected one only after URL normalisation (RFC 8414 §3.3)", async () => {
  const cases: [string, string][] = [
    ["https://as.example", "https://AS.example"],
    ["https://as.example", "https://As.Example/"],
    ["https://as.example", "https://as.example:443"],
    ["https://as.example/tenant", "https://as.example/x/../tenant"],
    ["https://as.example/tenant", "https://as.example/./tenant"],
    ["https://bücher.example", "https://bücher.example"],
    ["https://as.example/t%C3%A9nant", "https://as.example/ténant"],
  ];
  for (const [expected, issuer] of cases) {
    const body = { ...METADATA, issuer };
    await assertOAuthError(
      () => oauth.processDiscoveryResponse(new URL(expected), json(body)),
      oauth.OperationProcessingError,
      oauth.JSON_ATTRIBUTE_COMPARISON,
      { attribute: "issuer", expected: new URL(expected).href },
    );
    // oauth4webapi compares after parsing the issuer as a URL, and accepts (README difference).
    const accepted = await o4w.processDiscoveryResponse(new URL(expected), json(body));
    assert.equal(accepted.issuer, issuer);
  }
});

Deno.test("processDiscoveryResponse() accepts the identical issuer, with or without the slash of an empty path", async () => {
  for (const issuer of ["https://as.example", "https://as.example/"]) {
    const as = await oauth.processDiscoveryResponse(new URL(ISSUER), json({ ...METADATA, issuer }));
    assert.equal(as.issuer, issuer);
  }
  const tenant = "https://as.example/tenant";
  const as = await oauth.processDiscoveryResponse(
    new URL(tenant),
    json({ ...METADATA, issuer: tenant }),
  );
  assert.equal(as.issuer, tenant);
  const punycode = "https://xn--bcher-kva.example";
  assert.equal(
    (await oauth.processDiscoveryResponse(
      new URL("https://bücher.example"),
      json({ ...METADATA, issuer: punycode }),
    )).issuer,
    punycode,
  );
});

Deno.test("processDiscoveryResponse() refuses an issuer that is not a URL as a mismatch", async () => {
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(new URL(ISSUER), json({ ...METADATA, issuer: "as" })),
    oauth.OperationProcessingError,
    oauth.JSON_ATTRIBUTE_COMPARISON,
  );
});

Deno.test("processDiscoveryResponse() refuses a missing, empty or non-string issuer", async () => {
  for (const issuer of [undefined, "", 42, null, [ISSUER]]) {
    await assertOAuthError(
      () => oauth.processDiscoveryResponse(new URL(ISSUER), json({ ...METADATA, issuer })),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute: "issuer" },
    );
  }
});

Deno.test("processDiscoveryResponse() skips only the issuer comparison with _nodiscoverycheck", async () => {
  const skip = oauth._nodiscoverycheck as unknown as URL;
  const as = await oauth.processDiscoveryResponse(
    skip,
    json({ ...METADATA, issuer: "https://other.example" }),
  );
  assert.equal(as.issuer, "https://other.example");
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(skip, json({ ...METADATA, issuer: undefined })),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("processDiscoveryResponse() refuses a body that does not parse and is not labelled JSON as RESPONSE_IS_NOT_JSON", async () => {
  const response = new Response("<html>maintenance</html>", {
    headers: { "content-type": "text/html" },
  });
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(new URL(ISSUER), response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_JSON,
  );
  assert.equal(response.bodyUsed, true);
});

Deno.test("processDiscoveryResponse() reads a JSON document whatever its content type, as oauth4webapi does", async () => {
  for (const headers of [{ "content-type": "text/plain" }, {}] as HeadersInit[]) {
    const response = new Response(JSON.stringify(METADATA), { headers });
    const as = await oauth.processDiscoveryResponse(new URL(ISSUER), response);
    assert.equal(as.issuer, ISSUER);
  }
});

Deno.test("processDiscoveryResponse() accepts application/json with a charset parameter", async () => {
  const response = new Response(JSON.stringify(METADATA), {
    headers: { "content-type": "application/json; charset=utf-8" },
  });
  const as = await oauth.processDiscoveryResponse(new URL(ISSUER), response);
  assert.equal(as.issuer, ISSUER);
});

Deno.test("processDiscoveryResponse() refuses a JSON content type with a body that does not parse", async () => {
  const response = new Response("{issuer:", { headers: { "content-type": "application/json" } });
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(new URL(ISSUER), response),
    oauth.OperationProcessingError,
    oauth.PARSE_ERROR,
  );
});

Deno.test("processDiscoveryResponse() refuses a JSON body that is not an object", async () => {
  for (const body of [[METADATA], "https://as.example", null, 1]) {
    await assertOAuthError(
      () => oauth.processDiscoveryResponse(new URL(ISSUER), json(body)),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
    );
  }
});

Deno.test("processDiscoveryResponse() refuses a non-200 OAuth 2.0 error body as not conform, as oauth4webapi does", async () => {
  const response = oauthError("invalid_request", "no such tenant", 404);
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(new URL(ISSUER), response),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_CONFORM,
    { status: 404, expected: 200 },
  );
  assert.equal(response.bodyUsed, true, "the body is released");
});

Deno.test("processDiscoveryResponse() refuses any status but 200 without an error body as not conform", async () => {
  for (const status of [201, 204, 404, 500]) {
    const response = status === 204
      ? new Response(null, { status })
      : status === 201
      ? json(METADATA, status)
      : new Response("oops", { status });
    await assertOAuthError(
      () => oauth.processDiscoveryResponse(new URL(ISSUER), response),
      oauth.OperationProcessingError,
      oauth.RESPONSE_IS_NOT_CONFORM,
      { status, expected: 200 },
    );
  }
});

Deno.test("processDiscoveryResponse() refuses a 401 with a challenge as not conform, as oauth4webapi does", async () => {
  await assertOAuthError(
    () => oauth.processDiscoveryResponse(new URL(ISSUER), challenge('Bearer realm="as"')),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_CONFORM,
    { status: 401 },
  );
});

Deno.test("processDiscoveryResponse() reads a 200 document that also carries a challenge", async () => {
  const response = new Response(JSON.stringify(METADATA), {
    headers: { "content-type": "application/json", "www-authenticate": 'Key realm="kong"' },
  });
  assert.equal((await oauth.processDiscoveryResponse(new URL(ISSUER), response)).issuer, ISSUER);
});

Deno.test("processDiscoveryResponse() refuses invalid arguments", async () => {
  await assertTypeError(
    () => oauth.processDiscoveryResponse(ISSUER as unknown as URL, json(METADATA)),
    "ERR_INVALID_ARG_TYPE",
  );
  await assertTypeError(
    () => oauth.processDiscoveryResponse(new URL(ISSUER), METADATA as unknown as Response),
    "ERR_INVALID_ARG_TYPE",
  );
  const used = json(METADATA);
  await used.text();
  await assertTypeError(
    () => oauth.processDiscoveryResponse(new URL(ISSUER), used),
    "ERR_INVALID_ARG_VALUE",
  );
});

Deno.test("processDiscoveryResponse() refuses members authlane reads when they have the wrong type", async () => {
  const cases: [string, unknown][] = [
    ["token_endpoint", 42],
    ["jwks_uri", { href: `${ISSUER}/jwks` }],
    ["userinfo_endpoint", null],
    ["authorization_endpoint", [`${ISSUER}/authorize`]],
    ["pushed_authorization_request_endpoint", true],
    ["authorization_response_iss_parameter_supported", "true"],
    ["require_pushed_authorization_requests", 1],
    ["tls_client_certificate_bound_access_tokens", "yes"],
    ["id_token_signing_alg_values_supported", "RS256"],
    ["userinfo_signing_alg_values_supported", ["RS256", 256]],
    ["code_challenge_methods_supported", "S256"],
    ["dpop_signing_alg_values_supported", {}],
    ["signed_metadata", {}],
  ];
  for (const [attribute, value] of cases) {
    const body = { ...METADATA, [attribute]: value };
    await assertOAuthError(
      () => oauth.processDiscoveryResponse(new URL(ISSUER), json(body)),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute, body },
    );
  }
});

Deno.test("processDiscoveryResponse() refuses mtls_endpoint_aliases that are not an object of strings", async () => {
  for (const aliases of [[], "https://mtls.as.example", { token_endpoint: 1 }, null]) {
    await assertOAuthError(
      () =>
        oauth.processDiscoveryResponse(
          new URL(ISSUER),
          json({ ...METADATA, mtls_endpoint_aliases: aliases }),
        ),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute: "mtls_endpoint_aliases" },
    );
  }
});

Deno.test("processDiscoveryResponse() accepts well-typed members and leaves unknown members alone", async () => {
  const body = {
    ...METADATA,
    mtls_endpoint_aliases: { token_endpoint: "https://mtls.as.example/token" },
    authorization_response_iss_parameter_supported: true,
    id_token_signing_alg_values_supported: ["ES256"],
    code_challenge_methods_supported: [],
    x_vendor_flag: "yes",
    x_nested: { anything: [1, null, "x"] },
    claims_supported: 5, // not read by authlane, so not checked
  };
  const as = await oauth.processDiscoveryResponse(new URL(ISSUER), json(body));
  assert.deepEqual(as, body);
});

// -- resource metadata (RFC 9728) ----------------------------------------------------------------

Deno.test("resourceDiscoveryRequest() inserts /.well-known/oauth-protected-resource before the resource path", async () => {
  const server = createFakeAs({ path: "/t" });
  const resource = new URL(server.resource);
  const response = await oauth.resourceDiscoveryRequest(resource, server.options);
  const rs = await oauth.processResourceDiscoveryResponse(resource, response);
  assert.equal(rs.resource, server.resource);
  assert.deepEqual(rs.authorization_servers, [server.issuer]);
  const sent = server.lastRequest("resource_metadata")!;
  assert.equal(sent.method, "GET");
  assert.equal(sent.url.href, "https://as.example/.well-known/oauth-protected-resource/t/resource");
  assert.equal(sent.headers.get("accept"), "application/json");
});

Deno.test("resourceDiscoveryRequest() builds the well-known URL of root resources and keeps a query", async () => {
  const urls: string[] = [];
  for (
    const resource of [
      "https://rs.example",
      "https://rs.example/api/",
      "https://rs.example/api?v=1",
    ]
  ) {
    const { calls, options } = recorder();
    const response = await oauth.resourceDiscoveryRequest(new URL(resource), options);
    await response.body?.cancel();
    urls.push(calls[0]!.url);
  }
  assert.deepEqual(urls, [
    "https://rs.example/.well-known/oauth-protected-resource",
    "https://rs.example/.well-known/oauth-protected-resource/api",
    "https://rs.example/.well-known/oauth-protected-resource/api?v=1",
  ]);
});

Deno.test("resourceDiscoveryRequest() removes the terminating slash of a resource path as RFC 9728 §3.1 requires (oauth4webapi keeps it)", async () => {
  const resource = new URL("https://rs.example/api/");
  const ours = recorder();
  await (await oauth.resourceDiscoveryRequest(resource, ours.options)).body?.cancel();
  assert.equal(ours.calls[0]!.url, "https://rs.example/.well-known/oauth-protected-resource/api");
  const theirs = recorder();
  await (await o4w.resourceDiscoveryRequest(resource, {
    [o4w.customFetch]: theirs.options[oauth.customFetch],
  })).body?.cancel();
  assert.equal(
    theirs.calls[0]!.url,
    "https://rs.example/.well-known/oauth-protected-resource/api/",
    "the README's difference row still holds",
  );
});

Deno.test("resourceDiscoveryRequest() refuses a resource with a fragment before any request", async () => {
  const { calls, options } = recorder();
  await assertTypeError(
    () => oauth.resourceDiscoveryRequest(new URL("https://rs.example/api#x"), options),
    "ERR_INVALID_ARG_VALUE",
  );
  await assertTypeError(
    () => oauth.resourceDiscoveryRequest("https://rs.example" as unknown as URL, options),
    "ERR_INVALID_ARG_TYPE",
  );
  assert.equal(calls.length, 0);
});

Deno.test("resourceDiscoveryRequest() refuses an http resource without allowInsecureRequests and sends nothing", async () => {
  const { calls, options } = recorder();
  await assertOAuthError(
    () => oauth.resourceDiscoveryRequest(new URL("http://rs.example/api"), options),
    oauth.OperationProcessingError,
    oauth.HTTP_REQUEST_FORBIDDEN,
  );
  assert.equal(calls.length, 0);
  const response = await oauth.resourceDiscoveryRequest(new URL("http://rs.example/api"), {
    ...options,
    [oauth.allowInsecureRequests]: true,
  });
  await response.body?.cancel();
  assert.equal(calls.length, 1);
});

const RESOURCE = "https://rs.example/api";

Deno.test("processResourceDiscoveryResponse() accepts metadata whose resource is exactly the expected one", async () => {
  const body = {
    resource: RESOURCE,
    authorization_servers: [ISSUER],
    bearer_methods_supported: ["header"],
    dpop_bound_access_tokens_required: true,
    x_extra: 1,
  };
  const rs = await oauth.processResourceDiscoveryResponse(new URL(RESOURCE), json(body));
  assert.deepEqual(rs, body);
});

Deno.test("processResourceDiscoveryResponse() refuses metadata for another resource", async () => {
  for (const resource of ["https://rs.example/other", `${RESOURCE}/`, "https://evil.example/api"]) {
    const body = { resource, authorization_servers: [ISSUER] };
    await assertOAuthError(
      () => oauth.processResourceDiscoveryResponse(new URL(RESOURCE), json(body)),
      oauth.OperationProcessingError,
      oauth.JSON_ATTRIBUTE_COMPARISON,
      { expected: RESOURCE, attribute: "resource", body },
    );
  }
});

Deno.test("processResourceDiscoveryResponse() accepts an origin-only resource published without the slash URL serialization adds", async () => {
  for (const resource of ["https://rs.example", "https://rs.example/"]) {
    const rs = await oauth.processResourceDiscoveryResponse(
      new URL("https://rs.example"),
      json({ resource, authorization_servers: [ISSUER] }),
    );
    assert.equal(rs.resource, resource);
  }
});

Deno.test("processResourceDiscoveryResponse() refuses a resource that matches only after URL normalisation (RFC 9728 §3.3)", async () => {
  for (
    const [expected, resource] of [
      ["https://rs.example", "https://RS.example"],
      ["https://rs.example/api", "https://rs.example:443/api"],
      ["https://rs.example/api", "https://rs.example/x/../api"],
      ["https://rs.example/api", "https://rs.example/api/"],
    ]
  ) {
    await assertOAuthError(
      () =>
        oauth.processResourceDiscoveryResponse(
          new URL(expected!),
          json({ resource, authorization_servers: [ISSUER] }),
        ),
      oauth.OperationProcessingError,
      oauth.JSON_ATTRIBUTE_COMPARISON,
      { attribute: "resource" },
    );
  }
});

Deno.test("processResourceDiscoveryResponse() skips only the resource comparison with _nodiscoverycheck", async () => {
  const body = { resource: "https://elsewhere.example/api", authorization_servers: [ISSUER] };
  const rs = await oauth.processResourceDiscoveryResponse(
    oauth._nodiscoverycheck as unknown as URL,
    json(body),
  );
  assert.equal(rs.resource, body.resource);
  await assertOAuthError(
    () =>
      oauth.processResourceDiscoveryResponse(
        oauth._nodiscoverycheck as unknown as URL,
        json({ resource: 1 }),
      ),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});

Deno.test("processResourceDiscoveryResponse() refuses a missing or non-string resource", async () => {
  for (const resource of [undefined, 1, [RESOURCE]]) {
    await assertOAuthError(
      () => oauth.processResourceDiscoveryResponse(new URL(RESOURCE), json({ resource })),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute: "resource" },
    );
  }
});

Deno.test("processResourceDiscoveryResponse() refuses RFC 9728 members of the wrong type", async () => {
  const cases: [string, unknown][] = [
    ["authorization_servers", ISSUER],
    ["authorization_servers", [ISSUER, 1]],
    ["jwks_uri", 1],
    ["dpop_bound_access_tokens_required", "true"],
    ["bearer_methods_supported", "header"],
  ];
  for (const [attribute, value] of cases) {
    await assertOAuthError(
      () =>
        oauth.processResourceDiscoveryResponse(
          new URL(RESOURCE),
          json({ resource: RESOURCE, [attribute]: value }),
        ),
      oauth.OperationProcessingError,
      oauth.INVALID_RESPONSE,
      { attribute },
    );
  }
});

Deno.test("processResourceDiscoveryResponse() refuses a non-200 response as not conform", async () => {
  const err = await assertOAuthError(
    () =>
      oauth.processResourceDiscoveryResponse(
        new URL(RESOURCE),
        new Response(null, { status: 301, headers: { location: "https://evil.example/" } }),
      ),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_CONFORM,
    { status: 301 },
  );
  assert.match(err.message, /Resource Server Metadata/);
});

Deno.test("processResourceDiscoveryResponse() refuses a non-JSON or non-object body", async () => {
  await assertOAuthError(
    () =>
      oauth.processResourceDiscoveryResponse(
        new URL(RESOURCE),
        new Response("<html></html>", { headers: { "content-type": "text/plain" } }),
      ),
    oauth.OperationProcessingError,
    oauth.RESPONSE_IS_NOT_JSON,
  );
  await assertOAuthError(
    () => oauth.processResourceDiscoveryResponse(new URL(RESOURCE), json([RESOURCE])),
    oauth.OperationProcessingError,
    oauth.INVALID_RESPONSE,
  );
});
