/**
 * The shipped library under a TypeScript name, for code in this repository and the package's
 * `./cli` and `./session` entries: the same module as the package's `.` export
 * (`dist/authlane.js`, written by `deno task build`), with the types and documentation of
 * `src/index.ts`. Users import `@authlane/oauth`, which loads `dist/authlane.js` directly.
 *
 * @example Usage
 * ```ts
 * import * as oauth from "./mod.ts";
 * const verifier = oauth.generateRandomCodeVerifier();
 * const challenge = await oauth.calculatePKCECodeChallenge(verifier);
 * ```
 *
 * @module
 */

// Run time: one JavaScript module bundled from src/ (`deno task build`), because Deno loads one
// file faster than the 39 TypeScript modules it was bundled from (README "Performance").
// Types and documentation: the sources, through the directive below.
// @ts-types="./src/index.ts"
export * from "./dist/authlane.js";
