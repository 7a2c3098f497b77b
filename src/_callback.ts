/**
 * The brand that marks authorization response parameters as validated (by
 * `validateAuthResponse`, `validateJwtAuthResponse` and the hybrid validators), so the
 * authorization code grant only accepts parameters that went through the RFC 9207 / state checks.
 *
 * @module
 */

const validated = new WeakSet<URLSearchParams>();

/** Marks parameters as validated and returns them. */
export function markValidated(params: URLSearchParams): URLSearchParams {
  validated.add(params);
  return params;
}

/** Whether parameters came out of one of the validators. */
export function isValidated(params: unknown): params is URLSearchParams {
  return params instanceof URLSearchParams && validated.has(params);
}
