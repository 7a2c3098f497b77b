/**
 * Small internals shared by the fake authorization server's modules: grant type URNs, random
 * values, SHA-256 in base64url, and dropping `undefined` members.
 *
 * @module
 */

import { b64u } from "../_keys.ts";

export const DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code";
export const CIBA = "urn:openid:params:grant-type:ciba";
export const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";

export function random(bytes = 24): string {
  return b64u(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return b64u(new Uint8Array(digest));
}

export function withoutUndefined<T extends Record<string, unknown>>(
  value: T,
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
