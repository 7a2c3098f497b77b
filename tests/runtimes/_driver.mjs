// The Node.js and Bun driver of the runtime matrix: loads the shipped bundle by its path (the
// file mod.ts loads, not a copy) and runs one flow, reporting to the Deno test's control server.
//
// Usage: node|bun tests/runtimes/_driver.mjs <dist/authlane.js> <control URL> <core|mtls>

import { connect, serverFlow } from "./_flow.mjs";
import { mtlsFlow } from "./_mtls_flow.mjs";

const [bundle, control, flow] = process.argv.slice(2);

// Never hang the Deno test.
setTimeout(() => {
  console.error("no result after 60 s");
  process.exit(2);
}, 60_000).unref();

try {
  const oauth = await import(new URL(`file://${bundle}`).href);
  const io = connect(control);
  if (flow === "core") await serverFlow(oauth, io);
  else if (flow === "mtls") await mtlsFlow(oauth, io);
  else throw new Error(`unknown flow ${flow}`);
  process.exit(0);
} catch (err) {
  console.error(err?.stack ?? err);
  process.exit(1);
}
