/**
 * tests/_chromium.ts drives a real headless chromium: a page on loopback sets a cookie, a form is
 * filled and submitted through a redirect, and the browser reports what it holds.
 */
import assert from "node:assert/strict";
import { launchChromium } from "./_chromium.ts";

Deno.test("chromium harness: navigation, a form post through a redirect, and cookie attributes", async () => {
  await using browser = await launchChromium();
  if (browser === undefined) return; // printed why; only outside CI
  const seen: string[] = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      seen.push(`${req.method} ${url.pathname}`);
      if (url.pathname === "/") {
        return new Response(
          `<form method="post" action="/post"><input name="who"></form>`,
          {
            headers: {
              "content-type": "text/html",
              "set-cookie": "sid=abc; HttpOnly; SameSite=Lax; Path=/",
            },
          },
        );
      }
      if (url.pathname === "/post") {
        const form = await req.formData();
        return new Response(null, {
          status: 303,
          headers: { location: `/done?who=${encodeURIComponent(String(form.get("who")))}` },
        });
      }
      return new Response(`<p>hello ${url.searchParams.get("who")}</p>`, {
        headers: { "content-type": "text/html" },
      });
    },
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  await page.evaluate(`document.querySelector("input").value = "ada"`);
  await page.navigateBy(`document.querySelector("form").submit()`);
  assert.equal(await page.url(), `${origin}/done?who=ada`);
  assert.equal(await page.text(), "hello ada");
  const [cookie, ...rest] = await page.cookies();
  assert.deepEqual(rest, []);
  assert.equal(cookie?.name, "sid");
  assert.equal(cookie?.httpOnly, true);
  assert.equal(cookie?.sameSite, "Lax");
  assert.deepEqual(seen.filter((s) => !s.includes("favicon")), [
    "GET /",
    "POST /post",
    "GET /done",
  ]);
  assert.match(browser.version, /Chrom/);
});
