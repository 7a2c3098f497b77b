/**
 * `deno run --allow-read tools/check_version.ts v0.1.0`: exits 1 unless the tag names the version
 * in deno.json, so the publish workflow never ships a package whose version and tag disagree.
 *
 * @module
 */

/** Returns a reason the tag does not match `version`, or undefined when it does. */
export function tagMismatch(tag: string, version: string): string | undefined {
  if (tag === `v${version}`) return undefined;
  return `tag ${JSON.stringify(tag)} does not match deno.json version ${
    JSON.stringify(version)
  } (expected "v${version}")`;
}

if (import.meta.main) {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const problem = tagMismatch(Deno.args[0] ?? "", String(config.version));
  if (problem !== undefined) {
    console.error(problem);
    Deno.exit(1);
  }
  console.log(`publishing ${config.name}@${config.version}`);
}
