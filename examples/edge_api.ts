/**
 * An edge-function-style API, `(request: Request) => Promise<Response>`, that accepts only
 * DPoP-bound JWT access tokens (RFC 9068 + RFC 9449): it validates the token's signature and
 * claims against the authorization server's metadata and JWKS, checks the DPoP proof and the key
 * binding, checks the scope, and answers failures with a `401`/`403` and a `WWW-Authenticate:
 * DPoP` challenge (RFC 9449 §7.1, RFC 6750 §3).
 *
 * ```sh
 * deno run -A examples/edge_api.ts       # embedded provider: gets a token, calls the API, exits
 * ISSUER=https://op.example AUDIENCE=https://api.example PORT=8000 deno run -A examples/edge_api.ts
 * ```
 *
 * The same handler deploys unchanged where functions are `fetch` handlers: `Deno.serve(handler)`
 * on Deno Deploy and Supabase Edge Functions, `export default handler` on Netlify Edge Functions,
 * `export default { fetch: handler }` on Cloudflare Workers (see docs/RUNTIMES.md).
 *
 * @module
 */

import * as oauth from "@authlane/oauth";

/** Configuration of {@linkcode createEdgeApi}. */
export interface EdgeApiConfig {
  /** The authorization server's issuer identifier. */
  issuer: URL;
  /** The API's resource identifier (RFC 8707), expected in the token's `aud`. */
  audience: string;
  /** The scope `GET /me` requires. @default "api:read" */
  requiredScope?: string;
  /** Allow `http:` server URLs (loopback development only). @default false */
  allowInsecureRequests?: boolean;
}

/** What `GET /me` answers. */
export interface MeResponse {
  /** The token's subject: the user, or the client for a client credentials token. */
  sub: string;
  /** The client the token was issued to. */
  client_id: string;
  /** The granted scopes. */
  scope: string;
  /** The JWK thumbprint of the key the token is bound to (RFC 9449 §6.1). */
  jkt: string;
}

/** JWS algorithms the API accepts, for tokens and DPoP proofs alike. */
const ALGS = ["ES256", "EdDSA", "Ed25519", "PS256", "RS256"];

/**
 * Returns the API's request handler. Metadata discovery happens on the first request and is
 * kept, and so is the JWKS (refetched when an unknown key id shows up), so a warm instance
 * validates tokens without network calls.
 *
 * @param config The authorization server and the API's identifier.
 * @returns The handler.
 */
export function createEdgeApi(config: EdgeApiConfig): (request: Request) => Promise<Response> {
  const http = { [oauth.allowInsecureRequests]: config.allowInsecureRequests === true };
  const requiredScope = config.requiredScope ?? "api:read";
  let discovered: Promise<oauth.AuthorizationServer> | undefined;
  const metadata = (): Promise<oauth.AuthorizationServer> => {
    discovered ??= oauth.discoveryRequest(config.issuer, http)
      .then((response) => oauth.processDiscoveryResponse(config.issuer, response));
    discovered.catch(() => discovered = undefined); // try again on the next request
    return discovered;
  };

  return async function handler(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname !== "/me") return Response.json({ error: "not_found" }, { status: 404 });
    if (request.method !== "GET") {
      return Response.json({ error: "method_not_allowed" }, {
        status: 405,
        headers: { allow: "GET" },
      });
    }
    // RFC 6750 §3.1: a request without credentials gets a challenge and no error code.
    if (!request.headers.has("authorization")) return challenge(401);

    let claims: oauth.JWTAccessTokenClaims;
    try {
      claims = await oauth.validateJwtAccessToken(await metadata(), request, config.audience, {
        ...http,
        requireDPoP: true,
        signingAlgorithms: ALGS,
      });
    } catch (err) {
      if (
        err instanceof oauth.OperationProcessingError ||
        err instanceof oauth.UnsupportedOperationError
      ) {
        return challenge(401, errorCodeOf(err, request));
      }
      throw err; // the authorization server is unreachable, or a bug: a 500, not a 401
    }

    const scopes = (claims.scope ?? "").split(" ");
    if (!scopes.includes(requiredScope)) return challenge(403, "insufficient_scope", requiredScope);

    const cnf = claims.cnf as { jkt: string };
    const body: MeResponse = {
      sub: claims.sub,
      client_id: claims.client_id,
      scope: claims.scope ?? "",
      jkt: cnf.jkt,
    };
    return Response.json(body, { headers: { "cache-control": "no-store" } });
  };
}

/**
 * Which RFC 9449 §7.1 / RFC 6750 §3.1 error a failed validation is: `invalid_dpop_proof` when the
 * proof of a `DPoP`-scheme request is missing or wrong (its claims carry `htm`, an access
 * token's never do), and `invalid_token` for everything else: the token, its key binding, a
 * `Bearer` or unknown scheme.
 */
function errorCodeOf(
  err: oauth.OperationProcessingError | oauth.UnsupportedOperationError,
  request: Request,
): string {
  // A bound token sent with the Bearer scheme is a misused token, whatever else is missing.
  const scheme = request.headers.get("authorization")?.split(" ")[0]?.toLowerCase();
  if (scheme !== "dpop") return "invalid_token";
  const cause = (typeof err.cause === "object" && err.cause !== null ? err.cause : {}) as Record<
    string,
    unknown
  >;
  const claims = cause.claims as Record<string, unknown> | undefined;
  const header = cause.header as Record<string, unknown> | string | undefined;
  if (
    header === "dpop" || claims?.htm !== undefined ||
    (typeof header === "object" && header.typ === "dpop+jwt")
  ) {
    return "invalid_dpop_proof";
  }
  return "invalid_token";
}

/** An error response with its `WWW-Authenticate: DPoP` challenge. */
function challenge(status: 401 | 403, error?: string, scope?: string): Response {
  const parameters = [
    ...(error ? [`error="${error}"`] : []),
    ...(scope ? [`scope="${scope}"`] : []),
    `algs="${ALGS.join(" ")}"`,
  ];
  return new Response(error ? JSON.stringify({ error }) : null, {
    status,
    headers: {
      "www-authenticate": `DPoP ${parameters.join(", ")}`,
      "cache-control": "no-store",
      ...(error ? { "content-type": "application/json" } : {}),
    },
  });
}

if (import.meta.main) {
  const issuer = Deno.env.get("ISSUER");
  if (issuer !== undefined) {
    const handler = createEdgeApi({
      issuer: new URL(issuer),
      audience: Deno.env.get("AUDIENCE") ?? "",
      requiredScope: Deno.env.get("SCOPE"),
    });
    Deno.serve({ port: Number(Deno.env.get("PORT") ?? "8000") }, handler);
  } else {
    // No server given: start oidc-provider on loopback, get a DPoP-bound JWT access token for
    // https://api.example with client credentials, and call the API with it.
    const { startProvider } = await import("../tests/_oidc_provider.ts");
    await using op = await startProvider();
    const handler = createEdgeApi({
      issuer: new URL(op.issuer),
      audience: op.resource,
      allowInsecureRequests: true,
    });
    await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
    const api = new URL(`http://127.0.0.1:${server.addr.port}/me`);
    const http = { [oauth.allowInsecureRequests]: true } as const;

    const as = await oauth.processDiscoveryResponse(
      new URL(op.issuer),
      await oauth.discoveryRequest(new URL(op.issuer), http),
    );
    const client: oauth.Client = { client_id: op.clients.confidential.client_id };
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair("ES256"));
    const { access_token, token_type } = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(
        as,
        client,
        oauth.ClientSecretBasic(op.clients.confidential.client_secret!),
        { resource: op.resource, scope: "api:read" },
        { ...http, DPoP },
      ),
    );
    console.log(`Got a ${token_type} access token for ${op.resource}`);

    const response = await oauth.protectedResourceRequest(
      access_token,
      "GET",
      api,
      undefined,
      undefined,
      { ...http, DPoP },
    );
    console.log(`GET ${api} with DPoP:`, response.status, await response.json());

    const stolen = await fetch(api, { headers: { authorization: `Bearer ${access_token}` } });
    await stolen.body?.cancel();
    console.log(
      "The same token as a plain bearer token:",
      stolen.status,
      stolen.headers.get("www-authenticate"),
    );
  }
}
