/**
 * authlane: an OAuth 2.0 / OpenID Connect client for Deno with oauth4webapi v3's API.
 *
 * @module
 */

// Vocabulary: types, option symbols, errors
export * from "./src/symbols.ts";

// --- section: www_authenticate ---
// RFC 9110 §11.6.1: WWW-Authenticate challenges
export type { WWWAuthenticateChallenge, WWWAuthenticateChallengeParameters } from "./src/types.ts";
// --- end: www_authenticate ---

// --- section: mtls ---
// --- end: mtls ---

// --- section: core ---
// --- end: core ---
