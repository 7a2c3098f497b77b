// A single-page app in a real browser, the public client of the matrix: tests/runtimes/
// browser_test.ts serves it on loopback with the shipped bundle and the shared flow, each at its
// path in the repository, so these imports resolve the same on disk and over HTTP. On "/", `start()` discovers the provider, makes a DPoP key pair, keeps it in
// IndexedDB (non-extractable CryptoKeys survive there, not in sessionStorage), keeps the PKCE
// verifier, state and nonce in sessionStorage, and sends the browser to the authorization
// endpoint. The provider's own login and consent pages follow; on "/cb" the page redeems the code
// as a public client (PKCE, DPoP) and runs the rest of the flow.

import * as oauth from "../../../dist/authlane.js";
import {
  codeFlowFinish,
  codeFlowStart,
  connect,
  describe,
  discover,
  mtlsRefusal,
  runtimeInfo,
} from "../_flow.mjs";

const io = connect(new URL("/", location.href).href);

/** The one object store of this page's IndexedDB database, in a transaction of `mode`. */
async function keys(mode) {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("authlane-runtime-test", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("keys");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  return db.transaction("keys", mode).objectStore("keys");
}

function request(idbRequest) {
  return new Promise((resolve, reject) => {
    idbRequest.onsuccess = () => resolve(idbRequest.result);
    idbRequest.onerror = () => reject(idbRequest.error);
  });
}

async function fail(err) {
  await io.emit({ step: "error", ...describe(err), stack: String(err?.stack) }).catch(() => {});
}

globalThis.start = async () => {
  try {
    const config = await io.config();
    await io.emit({ step: "runtime", ...runtimeInfo(), exports: Object.keys(oauth).length });
    const { as } = await discover(oauth, io, config);
    const keyPair = await oauth.generateKeyPair("ES256");
    await request((await keys("readwrite")).put(keyPair, "dpop"));
    const client = { client_id: config.client_id };
    const { url, ...saved } = await codeFlowStart(oauth, { as, config, client }, keyPair);
    sessionStorage.setItem("as", JSON.stringify(as));
    sessionStorage.setItem("saved", JSON.stringify(saved));
    location.assign(url);
  } catch (err) {
    await fail(err);
  }
};

async function callback() {
  try {
    const config = await io.config();
    const as = JSON.parse(sessionStorage.getItem("as"));
    const saved = JSON.parse(sessionStorage.getItem("saved"));
    const keyPair = await request((await keys("readonly")).get("dpop"));
    await io.emit({
      step: "dpop_key",
      privateKeyIsCryptoKey: keyPair.privateKey instanceof CryptoKey,
      extractable: keyPair.privateKey.extractable,
    });
    const ctx = {
      as,
      http: { [oauth.allowInsecureRequests]: true },
      config,
      client: { client_id: config.client_id },
      clientAuth: oauth.None(),
    };
    await codeFlowFinish(oauth, io, ctx, location.href, saved, keyPair);
    await mtlsRefusal(oauth, io, config);
    await io.emit({ step: "done" });
  } catch (err) {
    await fail(err);
  }
}

if (location.pathname === "/cb") callback();
