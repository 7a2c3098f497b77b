/**
 * mTLS (RFC 8705) support over `node:https` for the oidc-provider harness: reads the client
 * certificate off the TLS socket for oidc-provider's `features.mTLS` callbacks.
 *
 * @module
 */

import type { TLSSocket } from "node:tls";

function peerCertificate(
  socket: unknown,
): { raw?: Uint8Array; subject?: Record<string, unknown>; subjectaltname?: string } | undefined {
  const tlsSocket = socket as Partial<TLSSocket> | undefined;
  if (typeof tlsSocket?.getPeerCertificate !== "function") return undefined;
  const peer = tlsSocket.getPeerCertificate(false);
  if (peer === null || typeof peer !== "object" || !peer.raw || peer.raw.length === 0) {
    return undefined;
  }
  return peer as unknown as {
    raw: Uint8Array;
    subject?: Record<string, unknown>;
    subjectaltname?: string;
  };
}

/** The client certificate of the connection as PEM, or `undefined` when none was presented. */
export function peerCertificatePem(socket: unknown): string | undefined {
  const raw = peerCertificate(socket)?.raw;
  if (raw === undefined) return undefined;
  let binary = "";
  for (const byte of raw) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/**
 * RFC 8705 §2.1.2: compares one registered `tls_client_auth_*` value with the certificate. The
 * subject DN is compared as an unordered set of `TYPE=value` pairs; SAN values exactly.
 */
export function certificateSubjectMatches(
  socket: unknown,
  property: string,
  expected: string,
): boolean {
  const peer = peerCertificate(socket);
  if (peer === undefined) return false;
  if (property === "tls_client_auth_subject_dn") {
    const normalize = (pairs: string[]) =>
      pairs.map((p) => p.trim().replace(/\s*=\s*/, "=")).sort().join(",");
    const actual = Object.entries(peer.subject ?? {}).flatMap(([type, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) => `${type}=${v}`)
    );
    return normalize(actual) === normalize(expected.split(","));
  }
  const prefix = {
    tls_client_auth_san_dns: "DNS:",
    tls_client_auth_san_uri: "URI:",
    tls_client_auth_san_ip: "IP Address:",
    tls_client_auth_san_email: "email:",
  }[property];
  if (prefix === undefined) return false;
  return (peer.subjectaltname ?? "").split(/,\s*/).some((entry) =>
    entry === `${prefix}${expected}`
  );
}
