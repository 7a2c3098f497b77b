/**
 * examples/web_app.ts in a real browser: Debian's chromium, headless (tests/_chromium.ts), signs in
 * through oidc-provider's own login and consent pages, and the test checks what the browser holds
 * (cookie attributes, no script access), that a reload keeps the session, that signing out ends it
 * at the app and at the provider, and that a back-channel logout from the provider ends the next
 * session. Outside CI it skips, saying why, when chromium is not installed; in CI it must run.
 */
import assert from "node:assert/strict";
import * as oauth from "@authlane/oauth";
import { createWebApp } from "../../examples/web_app.ts";
import { type BrowserPage, launchChromium } from "../_chromium.ts";
import { startProvider } from "../_oidc_provider.ts";
import { sessionProviderOptions, webAppClient } from "../_oidc_provider/session.ts";

/** Clicks the element `selector` names and waits for the next page. */
function click(page: BrowserPage, selector: string): Promise<void> {
  return page.navigateBy(`document.querySelector(${JSON.stringify(selector)}).click()`);
}

/**
 * On the provider's pages: types the login and password, presses Continue on the consent page,
 * until the browser is back at the app.
 */
async function completeProviderLogin(page: BrowserPage, appOrigin: string): Promise<string[]> {
  const visited: string[] = [];
  for (let step = 0; step < 5; step++) {
    const url = new URL(await page.url());
    if (url.origin === appOrigin) return visited;
    const hasLogin = await page.evaluate<boolean>(`!!document.querySelector("input[name=login]")`);
    if (hasLogin) {
      visited.push("login page");
      await page.evaluate(
        `document.querySelector("input[name=login]").value = "alice";
         document.querySelector("input[name=password]").value = "correct horse";`,
      );
    } else {
      visited.push("consent page");
    }
    await click(page, "form [type=submit], button[type=submit]");
  }
  throw new Error(`still at the provider after 5 pages: ${await page.url()}`);
}

Deno.test("web_app in chromium: sign in on the provider's pages, cookies, reload, sign out, sign in again, back-channel logout", async () => {
  await using browser = await launchChromium();
  if (browser === undefined) return; // launchChromium() printed why (only outside CI)
  const steps: string[] = [];
  const started = performance.now();
  const step = (what: string) =>
    steps.push(`${(performance.now() - started).toFixed(0)} ms ${what}`);

  // The app's origin is in its redirect URI, so the server listens before the app exists.
  const serving: { handler?: (request: Request) => Promise<Response> } = {};
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => serving.handler?.(request) ?? new Response(null, { status: 503 }),
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const clientSecret = crypto.randomUUID();
  await using op = await startProvider(
    sessionProviderOptions([webAppClient(origin, "web-app", clientSecret)]),
  );
  const backchannel: string[] = [];
  (op.provider as unknown as { on(event: string, fn: () => void): void })
    .on("backchannel.success", () => backchannel.push("ok"));
  using kv = await Deno.openKv(":memory:");
  const app = createWebApp({
    issuer: op.issuer,
    client: { client_id: "web-app" },
    clientAuth: oauth.ClientSecretBasic(clientSecret),
    redirectUri: `${origin}/callback`,
    kv,
    allowInsecureRequests: true,
    log: () => {},
  });
  await using _auth = app.auth;
  serving.handler = app.handler;
  const page = await browser.newPage();
  step(`chromium ${browser.version} up, provider and app listening`);

  // 1. Signed out; sign in through the provider's real login and consent pages.
  await page.goto(`${origin}/`);
  assert.match(await page.text(), /Not signed in/);
  await click(page, 'a[href="/login"]');
  assert.equal(new URL(await page.url()).origin, op.origin);
  const pages = await completeProviderLogin(page, origin);
  assert.deepEqual(pages, ["login page", "consent page"]);
  assert.equal(await page.url(), `${origin}/`);
  assert.equal(
    await page.evaluate(`document.querySelector("[data-subject]").textContent`),
    "alice",
  );
  assert.equal(
    await page.evaluate(`document.querySelector("[data-email]").textContent`),
    "alice@example.com",
  );
  step("signed in through the provider's login and consent pages");

  // 2. What the browser holds: one session cookie, HttpOnly, SameSite=Lax, Path=/, and in local
  // development mode (http://127.0.0.1) neither Secure nor __Host-; no script can read it.
  // (Cookies are per host, not per port: the provider's own cookies on 127.0.0.1 show up too.)
  const ours = async () =>
    (await page.cookies([`${origin}/`])).filter((c) => c.name.startsWith("authlane-"));
  const cookies = await ours();
  assert.deepEqual(cookies.map((c) => c.name), ["authlane-session"]);
  const [session] = cookies;
  assert.equal(session!.httpOnly, true);
  assert.equal(session!.sameSite, "Lax");
  assert.equal(session!.path, "/");
  assert.equal(session!.secure, false);
  assert.equal(session!.session, false, "it lasts as long as the session (Max-Age)");
  assert.match(session!.value, /^[\w-]{43}$/);
  assert.ok(!(await page.evaluate<string>(`document.cookie`)).includes("authlane-"));
  step(
    "cookie: authlane-session, HttpOnly, SameSite=Lax, Path=/, persistent, not readable by script",
  );

  // 3. A reload keeps the session.
  await page.reload();
  assert.equal(
    await page.evaluate(`document.querySelector("[data-subject]").textContent`),
    "alice",
  );
  step("reloaded: still signed in");

  // 4. Sign out: the app ends the session and sends the browser to the provider, which asks.
  await click(page, 'form[action="/logout"] button');
  assert.equal(new URL(await page.url()).origin, op.origin);
  await click(page, "button[name=logout]");
  assert.equal(await page.url(), `${origin}/`);
  assert.match(await page.text(), /Not signed in/);
  assert.deepEqual(await ours(), []);
  step("signed out at the app and at the provider (RP-initiated logout), cookie gone");

  // 5. Sign in again (the provider asks for the login again: its session ended too).
  await click(page, 'a[href="/login"]');
  assert.equal((await completeProviderLogin(page, origin))[0], "login page");
  assert.equal(
    await page.evaluate(`document.querySelector("[data-subject]").textContent`),
    "alice",
  );
  const second = (await ours())[0]!.value;
  assert.notEqual(second, session!.value, "a new session id");
  step("signed in again, with a new session id");

  // 6. The user signs out at the provider itself; it tells the app on the back channel.
  const before = backchannel.length;
  await page.goto((await app.auth.metadata()).end_session_endpoint!);
  await click(page, "button[name=logout]");
  assert.equal(backchannel.length, before + 1, "the provider delivered one logout token");
  await page.goto(`${origin}/`);
  assert.match(await page.text(), /Not signed in/);
  assert.deepEqual(await ours(), []);
  step("logged out by a back-channel logout from the provider; the app cleared the cookie");

  if (Deno.env.get("AUTHLANE_SESSION_REPORT")) console.log(steps.join("\n"));
});
