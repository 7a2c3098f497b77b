// A Cloudflare Worker that runs the core flow of tests/runtimes/_flow.mjs with the shipped
// bundle when tests/runtimes/workerd_test.ts posts `{ "control": URL }` to it. `GET /` answers
// "ready" so the test knows workerd listens.

import * as oauth from "../../../dist/authlane.js";
import { connect, serverFlow } from "../_flow.mjs";

export default {
  async fetch(request) {
    if (request.method === "GET") return new Response("ready");
    const { control } = await request.json();
    try {
      await serverFlow(oauth, connect(control));
      return new Response("done");
    } catch (err) {
      return new Response(String(err?.stack ?? err), { status: 500 });
    }
  },
};
