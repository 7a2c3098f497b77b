/**
 * Response helpers for the fake authorization server and for tests' overrides: JSON bodies, OAuth
 * 2.0 errors, `WWW-Authenticate` challenges, JWT bodies, and the clock (`now()`).
 *
 * @module
 */

/**
 * A JSON response.
 *
 * @param body Any JSON-serializable value.
 * @param status HTTP status. @default 200
 * @param headers Extra headers; `content-type` defaults to `application/json`.
 * @returns The response.
 */
export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  if (!h.has("content-type")) h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/**
 * An OAuth 2.0 error response (RFC 6749 §5.2).
 *
 * @param error The `error` code.
 * @param description The `error_description`, when given.
 * @param status HTTP status. @default 400
 * @param headers Extra headers.
 * @returns The response.
 */
export function oauthError(
  error: string,
  description?: string,
  status = 400,
  headers?: HeadersInit,
): Response {
  return json(
    description === undefined ? { error } : { error, error_description: description },
    status,
    headers,
  );
}

/**
 * A response carrying a `WWW-Authenticate` challenge and no body.
 *
 * @param header The `WWW-Authenticate` value, such as `Bearer error="invalid_token"`.
 * @param status HTTP status. @default 401
 * @param headers Extra headers.
 * @returns The response.
 */
export function challenge(header: string, status = 401, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("www-authenticate", header);
  return new Response(null, { status, headers: h });
}

/**
 * A response whose body is a JWT.
 *
 * @param jwt The compact JWT.
 * @param contentType The media type. @default "application/jwt"
 * @param status HTTP status. @default 200
 * @returns The response.
 */
export function jwtResponse(jwt: string, contentType = "application/jwt", status = 200): Response {
  return new Response(jwt, { status, headers: { "content-type": contentType } });
}

/** @returns The current time in epoch seconds. */
export function now(): number {
  return Math.floor(Date.now() / 1000);
}
