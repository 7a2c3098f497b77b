/**
 * authlane: an OAuth 2.0 / OpenID Connect client for Deno with oauth4webapi v3's API.
 *
 * @module
 */

// Vocabulary: types, option symbols, errors
export * from "./src/symbols.ts";

// --- section: www_authenticate ---
// --- end: www_authenticate ---

// --- section: mtls ---
// --- end: mtls ---

// --- section: core ---
// --- end: core ---
