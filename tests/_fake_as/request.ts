/**
 * Reading what a request carries, for the fake authorization server's request log: the body's
 * media type, JWTs decoded without verification, and how the client authenticated.
 *
 * @module
 */

import { decodeJwt, decodeProtectedHeader } from "jose";
import type { FakeClientAuth } from "./types.ts";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

export function tryDecode(
  jwt: string,
): { header?: Record<string, unknown>; claims?: Record<string, unknown> } {
  const out: { header?: Record<string, unknown>; claims?: Record<string, unknown> } = {};
  try {
    out.header = decodeProtectedHeader(jwt) as Record<string, unknown>;
  } catch { /* left undefined */ }
  try {
    out.claims = decodeJwt(jwt) as Record<string, unknown>;
  } catch { /* left undefined */ }
  return out;
}

function parseBasic(authorization: string): { id: string; secret: string } | undefined {
  try {
    const bytes = Uint8Array.from(atob(authorization.slice(6).trim()), (c) => c.charCodeAt(0));
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const colon = text.indexOf(":");
    if (colon === -1) return undefined;
    return { id: formDecode(text.slice(0, colon)), secret: formDecode(text.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** Reads (without verifying) how a client authenticated; RFC 6749 §2.3, RFC 7523 §2.2. */
export function parseClientAuth(headers: Headers, form?: URLSearchParams): FakeClientAuth {
  const authorization = headers.get("authorization");
  const basic = authorization !== null && /^basic /i.test(authorization);
  const used: string[] = [];
  if (basic) used.push("client_secret_basic");
  if (form?.has("client_secret")) used.push("client_secret_post");
  if (form?.has("client_assertion") || form?.has("client_assertion_type")) used.push("jwt");
  if (used.length > 1) {
    return { method: "invalid", problem: `more than one method: ${used.join(", ")}` };
  }
  const formClientId = form?.get("client_id") ?? undefined;
  if (basic) {
    const credentials = parseBasic(authorization);
    if (!credentials) return { method: "client_secret_basic", problem: "malformed credentials" };
    if (formClientId !== undefined && formClientId !== credentials.id) {
      return { method: "invalid", problem: "client_id differs from the Basic user-id" };
    }
    return {
      method: "client_secret_basic",
      clientId: credentials.id,
      clientSecret: credentials.secret,
    };
  }
  if (used[0] === "client_secret_post") {
    return {
      method: "client_secret_post",
      clientSecret: form?.get("client_secret") ?? "",
      ...(formClientId === undefined ? {} : { clientId: formClientId }),
    };
  }
  if (used[0] === "jwt") {
    const assertion = form?.get("client_assertion") ?? "";
    if (form?.get("client_assertion_type") !== JWT_BEARER || assertion === "") {
      return { method: "invalid", problem: "bad client_assertion_type or no client_assertion" };
    }
    const { header, claims } = tryDecode(assertion);
    const alg = typeof header?.alg === "string" ? header.alg : "";
    const sub = typeof claims?.sub === "string" ? claims.sub : undefined;
    const clientId = formClientId ?? sub;
    return {
      method: alg.startsWith("HS") ? "client_secret_jwt" : "private_key_jwt",
      assertion,
      ...(header ? { assertionHeader: header } : {}),
      ...(claims ? { assertionClaims: claims } : {}),
      ...(clientId === undefined ? {} : { clientId }),
    };
  }
  return { method: "none", ...(formClientId === undefined ? {} : { clientId: formClientId }) };
}

export function isForm(headers: Headers): boolean {
  return /^application\/x-www-form-urlencoded\b/i.test(headers.get("content-type") ?? "");
}

export function isJson(headers: Headers): boolean {
  return /^application\/(?:[\w.+-]+\+)?json\b/i.test(headers.get("content-type") ?? "");
}
