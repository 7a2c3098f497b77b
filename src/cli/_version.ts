/**
 * The version `authlane --version` prints. It is part of the published source, so it is right for
 * `deno install jsr:@authlane/oauth/cli` and `deno run jsr:…` alike; `tests/cli/flags_test.ts`
 * fails when it differs from the `version` of deno.json, which the publish workflow checks
 * against the release tag (tools/check_version.ts).
 *
 * @module
 */

/** The package version. */
export const VERSION = "0.1.0";
