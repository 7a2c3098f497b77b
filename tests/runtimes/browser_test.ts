/**
 * A browser runs the shipped bundle: Debian's chromium, headless (tests/_chromium.ts), loads a
 * single-page app from loopback (tests/runtimes/browser/page.mjs, which imports dist/authlane.js
 * as it is on disk, and the shared flow). The app is a public client
 * with PKCE and DPoP: it sends the browser to oidc-provider, whose real login and consent pages
 * the test fills in as a person would, and on the callback page redeems the code, checks the ID
 * token signature, calls userinfo, refreshes for a DPoP-bound JWT access token and validates it,
 * all with `fetch` across origins (CORS) from the page.
 */
import assert from "node:assert/strict";
import { chromiumPath, isCi, launchChromium } from "../_chromium.ts";
import { CLIENT_IDS, type OidcProviderHarness, startProvider } from "../_oidc_provider.ts";
import { getPki } from "../_pki.ts";
import {
  assertBundleBuilt,
  assertFlow,
  bundleExportCount,
  CORE_PROVIDER,
  startControl,
  within,
} from "./_matrix.ts";
import { BUNDLE, ROOT } from "./_tools.ts";

const PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>authlane SPA</title>
<script type="module" src="/tests/runtimes/browser/page.mjs"></script></head><body><p>authlane</p></body></html>`;

/** The files the page may load, served at their paths in the repository. */
const files: Record<string, URL> = Object.fromEntries(
  [BUNDLE, new URL("_flow.mjs", import.meta.url), new URL("browser/page.mjs", import.meta.url)]
    .map((file) => [`/${file.href.slice(ROOT.href.length)}`, file]),
);

const missing = chromiumPath() === undefined && !isCi();

Deno.test({
  name:
    "chromium runs the shipped bundle in a page: a public client with PKCE and DPoP through the provider's login page, ID token signature, refresh, JWT access tokens, refusals",
  ignore: missing,
  async fn() {
    await assertBundleBuilt();
    const [pki, exports] = await Promise.all([getPki(), bundleExportCount()]);
    // The provider registers the app's redirect URI, so it starts after the app's server.
    const started: { op?: OidcProviderHarness } = {};
    await using control = startControl({
      config: () => ({
        issuer: started.op!.issuer,
        client_id: CLIENT_IDS.public,
        redirect_uri: `${control.url}cb`,
        resource: started.op!.resource,
        cert: pki.ec.cert,
        key: pki.ec.key,
      }),
      routes: async (_request, url) => {
        if (url.pathname === "/" || url.pathname === "/cb") {
          return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
        }
        const file = files[url.pathname];
        if (file === undefined) return undefined;
        return new Response(await Deno.readFile(file), {
          headers: {
            "content-type": "text/javascript; charset=utf-8",
            "cache-control": "no-store",
          },
        });
      },
    });
    await using op = await startProvider({
      ...CORE_PROVIDER,
      clients: [{ client_id: CLIENT_IDS.public, redirect_uris: [`${control.url}cb`] }],
    });
    started.op = op;

    await using browser = await launchChromium();
    assert.ok(browser, "chromium did not start");
    const page = await browser.newPage();
    const failed = () => JSON.stringify(control.steps.find((s) => s.step === "error"));

    await page.goto(control.url);
    // The app leaves for the provider: its login page, as a person sees it.
    await page.navigateBy("globalThis.start()").catch((err) => {
      throw new Error(`${err.message}; the flow said ${failed()}`);
    });
    assert.ok((await page.url()).startsWith(`${op.issuer}/interaction/`), await page.url());
    await page.evaluate(`
      document.querySelector('input[name="login"]').value = "alice";
      document.querySelector('input[name="password"]').value = "password";
    `);
    await page.navigateBy(`document.querySelector('button[type="submit"]').click()`);
    // The consent page, then the provider sends the browser back to the app's /cb.
    assert.ok((await page.url()).startsWith(`${op.issuer}/interaction/`), await page.url());
    assert.match(await page.text(), /Authorize/i);
    await page.navigateBy(`document.querySelector('button[type="submit"]').click()`);
    const callback = new URL(await page.url());
    assert.equal(`${callback.origin}${callback.pathname}`, `${control.url}cb`);
    assert.equal(callback.searchParams.get("iss"), op.issuer);

    await within("the page's flow", control.finished, 30_000);
    assertFlow(control, {
      runtime: "browser",
      version: /HeadlessChrome\/\d+\./,
      op,
      clientId: CLIENT_IDS.public,
      clientCredentials: false,
      dpop: true,
      keyStorage: true,
      exports,
    });
  },
});
