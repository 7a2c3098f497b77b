/**
 * The openid-client harness itself, and what crosses between the two libraries: the rewritten
 * copy really imports the library under test, and a JWKS cache exported by openid-client on one
 * library serves the other (`getJwksCache()` / `setJwksCache()`).
 */
import assert from "node:assert/strict";
import * as authlane from "@authlane/oauth";
import * as oauth4webapi from "oauth4webapi";
import { startProvider } from "../_oidc_provider.ts";
import { connect, signIn } from "./_cases.ts";
import { entryOf, loadOpenIdClient } from "./_openid_client.ts";

Deno.test("openid-client's copy imports the library under test, not its own oauth4webapi", async () => {
  const [onAuthlane, onOauth4webapi] = await Promise.all(
    (["authlane", "oauth4webapi"] as const).map(loadOpenIdClient),
  );
  // openid-client re-exports three error classes from its oauth4webapi import.
  assert.equal(onAuthlane!.ResponseBodyError, authlane.ResponseBodyError);
  assert.equal(onAuthlane!.WWWAuthenticateChallengeError, authlane.WWWAuthenticateChallengeError);
  assert.equal(onOauth4webapi!.ResponseBodyError, oauth4webapi.ResponseBodyError);
  assert.notEqual(authlane.ResponseBodyError, oauth4webapi.ResponseBodyError as unknown);
  assert.equal(entryOf("authlane"), import.meta.resolve("@authlane/oauth"));
});

for (const [from, to] of [["oauth4webapi", "authlane"], ["authlane", "oauth4webapi"]] as const) {
  Deno.test(`openid-client: a JWKS cache exported on ${from} serves ${to} without a fetch`, async () => {
    const [source, target] = await Promise.all([loadOpenIdClient(from), loadOpenIdClient(to)]);
    await using op = await startProvider();
    const first = await connect(source, op, op.clients.public, { auth: source.None() });
    source.enableNonRepudiationChecks(first.config);
    await signIn(source, first.config, op);
    const exported = source.getJwksCache(first.config);
    assert.ok(exported);
    const second = await connect(target, op, op.clients.public, { auth: target.None() });
    target.setJwksCache(second.config, structuredClone(exported));
    target.enableNonRepudiationChecks(second.config);
    const { tokens } = await signIn(target, second.config, op);
    assert.equal(tokens.claims()?.sub, "alice");
    assert.equal(second.log.to("/jwks").length, 0, "the imported cache was used");
    assert.deepEqual(target.getJwksCache(second.config), exported);
  });
}
