// Mutual TLS (RFC 8705) outside Deno: the shipped bundle, with a `[customFetch]` that presents
// the client certificate the way docs/RUNTIMES.md tells users to build it on each runtime, against
// oidc-provider over TLS with `tls_client_auth` and certificate-bound access tokens.
//
// Node.js: an `Agent` of the npm package undici (its path comes in the config) that carries the
// certificate, two ways (see `fetchers`). Bun: Bun's `fetch` with its `tls` option.

import { describe, discover, refusal, runtimeInfo } from "./_flow.mjs";

/**
 * Two `fetch` functions for `[customFetch]`: `certificate` presents the client certificate,
 * `anonymous` presents none; both trust the test CA. `config.recipe` picks how (Node.js):
 *
 * - `dispatcher`: the global `fetch` with an undici `Agent` as its `dispatcher`;
 * - `undici`: undici's own `fetch` and `Agent`, its response copied into a global `Response`
 *   (authlane accepts only the global `Response` class; see docs/RUNTIMES.md).
 */
async function fetchers(config) {
  const { cert, key, ca } = config;
  if (globalThis.Bun !== undefined) {
    return {
      recipe: "bun fetch tls",
      certificate: (url, init) => fetch(url, { ...init, tls: { cert, key, ca } }),
      anonymous: (url, init) => fetch(url, { ...init, tls: { ca } }),
    };
  }
  const undici = await import(new URL(`file://${config.undici}`).href);
  const withCertificate = new undici.Agent({ connect: { cert, key, ca } });
  const withoutCertificate = new undici.Agent({ connect: { ca } });
  if (config.recipe === "dispatcher") {
    return {
      recipe: "dispatcher",
      certificate: (url, init) => fetch(url, { ...init, dispatcher: withCertificate }),
      anonymous: (url, init) => fetch(url, { ...init, dispatcher: withoutCertificate }),
    };
  }
  if (config.recipe === "undici") {
    const viaUndici = async (url, init, dispatcher) => {
      const response = await undici.fetch(url, { ...init, dispatcher });
      return new Response(response.body, response);
    };
    return {
      recipe: "undici",
      certificate: (url, init) => viaUndici(url, init, withCertificate),
      anonymous: (url, init) => viaUndici(url, init, withoutCertificate),
    };
  }
  throw new Error(`unknown recipe ${config.recipe}`);
}

/** Client credentials with `tls_client_auth`, the token validated as a resource server would. */
export async function mtlsFlow(oauth, io) {
  try {
    const config = await io.config();
    const { recipe, certificate, anonymous } = await fetchers(config);
    await io.emit({ step: "runtime", ...runtimeInfo(), recipe });
    const requests = [];
    const counting = (url, init) => {
      requests.push(new URL(url).pathname);
      return certificate(url, init);
    };
    const { as } = await discover(oauth, io, { issuer: config.issuer }, {
      [oauth.customFetch]: anonymous,
    });
    const client = { client_id: config.client_id, use_mtls_endpoint_aliases: true };
    const parameters = { resource: config.resource, scope: "api:read" };

    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), parameters, {
        [oauth.customFetch]: counting,
      }),
    );
    await io.emit({ step: "client_credentials", token_type: tokens.token_type, requests });

    // The resource server compares cnf.x5t#S256 with the certificate the caller presented.
    const request = new Request(`${config.resource}/data`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    const rs = { [oauth.customFetch]: anonymous };
    const claims = await oauth.validateJwtAccessToken(as, request, config.resource, {
      ...rs,
      clientCertificate: config.cert,
    });
    await io.emit({
      step: "rs",
      client_id: claims.client_id,
      aud: claims.aud,
      x5t: claims.cnf?.["x5t#S256"],
    });
    await refusal(
      io,
      "rs:other_certificate",
      () =>
        oauth.validateJwtAccessToken(as, request, config.resource, {
          ...rs,
          clientCertificate: config.otherCert,
        }),
    );
    await refusal(
      io,
      "rs:no_certificate",
      () => oauth.validateJwtAccessToken(as, request, config.resource, rs),
    );

    // An opaque token (no resource): introspection, the client authenticated by its
    // certificate again, reports the binding.
    const opaque = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), {}, {
        [oauth.customFetch]: counting,
      }),
    );
    const introspection = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, oauth.TlsClientAuth(), opaque.access_token, {
        [oauth.customFetch]: counting,
      }),
    );
    await io.emit({
      step: "introspection",
      active: introspection.active,
      client_id: introspection.client_id,
      x5t: introspection.cnf?.["x5t#S256"],
      requests,
    });

    // The same request without a certificate: the provider does not know the client.
    await refusal(io, "no_certificate", async () =>
      oauth.processClientCredentialsResponse(
        as,
        client,
        await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), parameters, {
          [oauth.customFetch]: anonymous,
        }),
      ));
    await io.emit({ step: "done" });
  } catch (err) {
    await io.emit({ step: "error", ...describe(err), stack: String(err?.stack) }).catch(() => {});
    throw err;
  }
}
