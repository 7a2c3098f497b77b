/**
 * A server-rendered web app that signs users in with OpenID Connect, on `@authlane/oauth/session`:
 * the authorization code flow with PKCE, sessions in Deno KV (tokens never reach the browser),
 * access tokens refreshed ahead of expiry once across all isolates, sign-out with token
 * revocation and RP-initiated logout, and back-channel logout from the provider.
 *
 * ```sh
 * deno run -A examples/web_app.ts        # against an embedded provider; open the printed URL
 * ISSUER=https://op.example CLIENT_ID=my-app CLIENT_SECRET=… \
 *   REDIRECT_URI=https://app.example/callback deno run -A examples/web_app.ts
 * ```
 *
 * Register at the provider: the redirect URI, `post_logout_redirect_uris: [origin + "/"]`,
 * `backchannel_logout_uri: origin + "/backchannel-logout"` with
 * `backchannel_logout_session_required: true`, and the `refresh_token` grant. Routes:
 * `GET /login`, `GET /callback`, `POST /logout`, `POST /backchannel-logout` (served by the session
 * layer) and `GET /` (this app).
 *
 * @module
 */

// #region readme:web-app (the README's "Sign users in (Deno.serve)" shows this part verbatim)
import * as oauth from "@authlane/oauth";
import {
  createSessionAuth,
  type SessionAuth,
  type SessionAuthOptions,
} from "@authlane/oauth/session";

/** The app: the session layer's routes, and a home page that calls userinfo with the session. */
export function createWebApp(options: SessionAuthOptions): {
  auth: SessionAuth;
  handler: (request: Request) => Promise<Response>;
} {
  const auth = createSessionAuth({ scope: "openid profile email", ...options });
  const http = { [oauth.allowInsecureRequests]: options.allowInsecureRequests === true };
  const handler = auth.handler(async (request, session) => {
    if (new URL(request.url).pathname !== "/") return page(404, "Not found", "");
    if (session === null) return page(200, "Not signed in", `<a href="/login">Sign in</a>`);
    // session.accessToken is fresh: use it for APIs (here the provider's userinfo).
    const as = await auth.metadata();
    const user = await oauth.processUserInfoResponse(
      as,
      options.client,
      session.sub,
      await oauth.userInfoRequest(as, options.client, session.accessToken, http),
    );
    return page(
      200,
      "Signed in",
      `<dl><dt>Subject</dt><dd data-subject>${escape(session.sub)}</dd>` +
        `<dt>Name</dt><dd data-name>${escape(String(user.name))}</dd>` +
        `<dt>Email</dt><dd data-email>${escape(String(user.email))}</dd></dl>` +
        `<p data-refreshes="${session.refreshes}">Access token refreshed ${session.refreshes} time(s)</p>` +
        `<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
    );
  });
  return { auth, handler };
}

function page(status: number, title: string, body: string): Response {
  return new Response(
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
      `<body><h1>${title}</h1>${body}</body></html>`,
    {
      status,
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    },
  );
}

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

if (import.meta.main && Deno.env.has("ISSUER")) {
  const app = createWebApp({
    issuer: Deno.env.get("ISSUER")!,
    client: { client_id: Deno.env.get("CLIENT_ID")! },
    clientAuth: oauth.ClientSecretBasic(Deno.env.get("CLIENT_SECRET")!),
    redirectUri: Deno.env.get("REDIRECT_URI")!, // its origin is the app's
    // kv: omitted, so Deno.openKv(): a local SQLite file, or Deno Deploy's KV when deployed
  });
  Deno.serve({ port: Number(Deno.env.get("PORT") ?? "8000") }, app.handler);
}
// #endregion readme:web-app

if (import.meta.main && !Deno.env.has("ISSUER")) {
  // No provider given: oidc-provider on loopback, with this app registered (any login works).
  const { startProvider } = await import("../tests/_oidc_provider.ts");
  const { sessionProviderOptions, webAppClient } = await import(
    "../tests/_oidc_provider/session.ts"
  );
  const port = Number(Deno.env.get("PORT") ?? "8000");
  const origin = `http://127.0.0.1:${port}`;
  const clientSecret = crypto.randomUUID();
  const op = await startProvider(
    sessionProviderOptions([webAppClient(origin, "web-app", clientSecret)]),
  );
  console.log(`Embedded OpenID Provider at ${op.issuer} (any login and password work)`);
  const app = createWebApp({
    issuer: op.issuer,
    client: { client_id: "web-app" },
    clientAuth: oauth.ClientSecretBasic(clientSecret),
    redirectUri: `${origin}/callback`, // http: on 127.0.0.1: the cookies' local development mode
    kv: ":memory:", // this provider lives as long as the process; so do its sessions
    allowInsecureRequests: true,
  });
  Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => console.log(`Web app on ${origin}/`) },
    app.handler,
  );
}
