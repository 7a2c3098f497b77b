/**
 * The default answer of each fake authorization server route: discovery, JWKS, authorization
 * (with PAR and JARM), token (PKCE and single-use codes), userinfo, introspection, revocation,
 * device, CIBA, registration and the protected resource; client authentication and DPoP checks;
 * and the codes, tokens, pushed requests and clients issued along the way.
 *
 * @module
 */

import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from "jose";
import { testAlgs } from "../_keys.ts";
import { tryDecode } from "./request.ts";
import { challenge, json, jwtResponse, now, oauthError } from "./responses.ts";
import type { FakeAs } from "./server.ts";
import type { FakeRequest } from "./types.ts";
import { CIBA, DEVICE_CODE, random, sha256, TOKEN_EXCHANGE, withoutUndefined } from "./util.ts";

const DPOP_ALGS = [...testAlgs, "Ed25519", "ES512", "RS384", "RS512", "PS384", "PS512"];
const DPOP_IAT_WINDOW = 60;

interface IssuedCode {
  clientId: string;
  redirectUri: string | null;
  codeChallenge: string | null;
  nonce: string | null;
  scope: string | null;
}

interface IssuedToken {
  clientId: string;
  scope?: string;
  jkt?: string;
}

type DPoPResult = { ok: true; jkt?: string } | { ok: false; error: string; description: string };

/**
 * What a {@link FakeAs} answers when no override does, with the state those answers keep (cleared
 * by `reset()`). Internal to the fake server.
 */
export class DefaultRoutes {
  #server: FakeAs;
  #clients = new Map<string, string | undefined>();
  #codes = new Map<string, IssuedCode>();
  #usedCodes = new Set<string>();
  #pushed = new Map<string, URLSearchParams>();
  #tokens = new Map<string, IssuedToken>();

  /** @param server The server whose issuer, keys, client, JWKS and nonces the routes use. */
  constructor(server: FakeAs) {
    this.#server = server;
    this.#clients.set(server.client.client_id, server.clientSecret);
  }

  /** Forgets issued codes, tokens, pushed requests and clients registered at the route. */
  reset(): void {
    this.#codes.clear();
    this.#usedCodes.clear();
    this.#pushed.clear();
    this.#tokens.clear();
    this.#clients.clear();
    this.#clients.set(this.#server.client.client_id, this.#server.clientSecret);
  }

  // -- default routes ---------------------------------------------------------------------------

  /** The default answer to a recorded request, by route (what an override's `next()` gives). */
  async respond(record: FakeRequest): Promise<Response> {
    switch (record.route) {
      case "discovery":
        return record.method === "GET" ? json(this.#server.as) : methodNotAllowed("GET");
      case "resource_metadata":
        return json({
          resource: this.#server.resource,
          authorization_servers: [this.#server.issuer],
          bearer_methods_supported: ["header"],
          dpop_signing_alg_values_supported: [...testAlgs],
        });
      case "jwks":
        return record.method === "GET" ? json(this.#server.jwks) : methodNotAllowed("GET");
      case "authorization":
        return await this.#authorization(record);
      case "token":
        return await this.#token(record);
      case "userinfo":
        return await this.#userinfo(record);
      case "introspection":
        return await this.#introspection(record);
      case "revocation":
        return this.#revocation(record);
      case "par":
        return await this.#par(record);
      case "device_authorization":
        return this.#deviceAuthorization(record);
      case "backchannel":
        return this.#backchannel(record);
      case "registration":
        return this.#registration(record);
      case "resource":
        return await this.#resource(record);
      case "unknown":
        return new Response("not found", {
          status: 404,
          headers: { "content-type": "text/plain" },
        });
    }
  }

  /** Common gate of authenticated POST routes: method, form body, client authentication. */
  #gate(record: FakeRequest): { clientId: string } | Response {
    if (record.method !== "POST") return methodNotAllowed("POST");
    if (!record.form) return oauthError("invalid_request", "expected a form-encoded body");
    const auth = record.clientAuth ?? { method: "none" };
    if (auth.method === "invalid") return oauthError("invalid_request", auth.problem);
    const basic = auth.method === "client_secret_basic";
    const refuse = (why: string) =>
      oauthError(
        "invalid_client",
        why,
        401,
        basic ? { "www-authenticate": 'Basic realm="fake-as"' } : undefined,
      );
    const clientId = auth.clientId;
    if (clientId === undefined || !this.#clients.has(clientId)) return refuse("unknown client");
    const secret = this.#clients.get(clientId);
    if (basic || auth.method === "client_secret_post") {
      if (secret === undefined || auth.clientSecret !== secret) return refuse("wrong secret");
    }
    // JWT assertions are decoded into `clientAuth` but not verified: tests inspect them.
    return { clientId };
  }

  /** RFC 9449 §4.3 checks of the DPoP header, when there is one. */
  async #checkDpop(record: FakeRequest, accessToken?: string): Promise<DPoPResult> {
    const proof = record.dpop?.proof;
    if (proof === undefined) return { ok: true };
    const bad = (description: string): DPoPResult => ({
      ok: false,
      error: "invalid_dpop_proof",
      description,
    });
    if (proof.includes(",")) return bad("more than one DPoP header");
    let claims: Record<string, unknown>;
    let jwk: Record<string, unknown>;
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, {
        typ: "dpop+jwt",
        algorithms: DPOP_ALGS,
      });
      claims = verified.payload as Record<string, unknown>;
      jwk = verified.protectedHeader.jwk as Record<string, unknown>;
    } catch (err) {
      return bad(`proof does not verify: ${(err as Error).message}`);
    }
    if (typeof claims.jti !== "string" || claims.jti === "") return bad("missing jti");
    if (claims.htm !== record.method) return bad("htm mismatch");
    let htu: URL;
    try {
      htu = new URL(String(claims.htu));
    } catch {
      return bad("htu is not a URL");
    }
    if (htu.origin + htu.pathname !== record.url.origin + record.url.pathname) {
      return bad("htu mismatch");
    }
    if (typeof claims.iat !== "number" || Math.abs(now() - claims.iat) > DPOP_IAT_WINDOW) {
      return bad("iat outside the acceptance window");
    }
    if (accessToken !== undefined && claims.ath !== await sha256(accessToken)) {
      return bad("ath mismatch");
    }
    if (this.#server.dpopNonce !== undefined && claims.nonce !== this.#server.dpopNonce) {
      return { ok: false, error: "use_dpop_nonce", description: "nonce required" };
    }
    return {
      ok: true,
      jkt: await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]),
    };
  }

  #nonceHeaders(): HeadersInit | undefined {
    return this.#server.dpopNonce === undefined
      ? undefined
      : { "dpop-nonce": this.#server.dpopNonce };
  }

  #dpopErrorAtAs(result: { error: string; description: string }): Response {
    return oauthError(result.error, result.description, 400, this.#nonceHeaders());
  }

  async #authorization(record: FakeRequest): Promise<Response> {
    let params = record.method === "POST" && record.form ? record.form : record.url.searchParams;
    const requestUri = params.get("request_uri");
    if (requestUri !== null) {
      const pushed = this.#pushed.get(requestUri);
      if (!pushed) return oauthError("invalid_request_uri", "unknown or used request_uri");
      this.#pushed.delete(requestUri);
      params = pushed;
    }
    const clientId = params.get("client_id");
    const redirectUri = params.get("redirect_uri");
    if (clientId === null || !this.#clients.has(clientId)) {
      return oauthError("invalid_request", "unknown client_id");
    }
    if (redirectUri === null) return oauthError("invalid_request", "missing redirect_uri");
    const mode = params.get("response_mode") ?? "query";
    const out = new URLSearchParams();
    const state = params.get("state");
    const challengeValue = params.get("code_challenge");
    const method = params.get("code_challenge_method");
    if (params.get("response_type") !== "code") out.set("error", "unsupported_response_type");
    else if (challengeValue !== null && method !== "S256") {
      out.set("error", "invalid_request"); // RFC 7636 §4.4.1; only S256 is advertised
      out.set("error_description", "code_challenge_method must be S256");
    } else if (challengeValue === null && method !== null) {
      out.set("error", "invalid_request");
      out.set("error_description", "code_challenge_method without code_challenge");
    } else {
      const code = random();
      this.#codes.set(code, {
        clientId,
        redirectUri,
        codeChallenge: challengeValue,
        nonce: params.get("nonce"),
        scope: params.get("scope"),
      });
      out.set("code", code);
    }
    if (state !== null) out.set("state", state);
    return await this.#redirect(redirectUri, mode, out, clientId);
  }

  async #redirect(
    redirectUri: string,
    mode: string,
    params: URLSearchParams,
    clientId: string,
  ): Promise<Response> {
    const target = new URL(redirectUri);
    let values = params;
    if (mode === "jwt" || mode.endsWith(".jwt")) {
      // JARM §2.1: the parameters travel as claims of one signed `response`.
      const jwt = await this.#server.sign({
        iss: this.#server.issuer,
        aud: clientId,
        exp: now() + 60,
        ...Object.fromEntries(params),
      });
      values = new URLSearchParams({ response: jwt });
    } else {
      values.set("iss", this.#server.issuer); // RFC 9207 §2
    }
    if (mode === "fragment" || mode === "fragment.jwt") target.hash = values.toString();
    else for (const [k, v] of values) target.searchParams.append(k, v);
    return new Response(null, { status: 302, headers: { location: target.href } });
  }

  async #token(record: FakeRequest): Promise<Response> {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const form = record.form!;
    const dpop = await this.#checkDpop(record);
    if (!dpop.ok) return this.#dpopErrorAtAs(dpop);
    const grant = form.get("grant_type");
    const requiredParam = (name: string) =>
      form.get(name) ? undefined : oauthError("invalid_request", `missing ${name}`);
    let nonce = this.#server.nextNonce;
    let scope = form.get("scope") ?? undefined;
    let idToken = false;
    let refreshToken = true;
    const extra: Record<string, unknown> = {};
    switch (grant) {
      case null:
      case "":
        return oauthError("invalid_request", "missing grant_type");
      case "authorization_code": {
        const missing = requiredParam("code");
        if (missing) return missing;
        const refused = await this.#redeemCode(form, gate.clientId);
        if (refused instanceof Response) return refused;
        if (refused) {
          nonce = refused.nonce ?? nonce;
          scope = refused.scope ?? scope;
        }
        idToken = true;
        break;
      }
      case "refresh_token": {
        const missing = requiredParam("refresh_token");
        if (missing) return missing;
        idToken = true;
        break;
      }
      case "client_credentials":
        refreshToken = false; // RFC 6749 §4.4.3
        break;
      case DEVICE_CODE: {
        const missing = requiredParam("device_code");
        if (missing) return missing;
        break;
      }
      case CIBA: {
        const missing = requiredParam("auth_req_id");
        if (missing) return missing;
        idToken = true; // CIBA §10.1.1
        break;
      }
      case TOKEN_EXCHANGE:
        extra.issued_token_type = "urn:ietf:params:oauth:token-type:access_token"; // RFC 8693
        refreshToken = false;
        break;
      default:
        break;
    }
    const accessToken = random();
    this.#tokens.set(accessToken, {
      clientId: gate.clientId,
      ...(scope === undefined ? {} : { scope }),
      ...(dpop.jkt === undefined ? {} : { jkt: dpop.jkt }),
    });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: dpop.jkt === undefined ? "Bearer" : "DPoP",
      expires_in: 3600,
      ...extra,
    };
    if (refreshToken) body.refresh_token = random();
    if (idToken) {
      body.id_token = await this.#server.sign(
        this.#server.idTokenClaims({ aud: gate.clientId, nonce }),
      );
    }
    if (scope !== undefined) body.scope = scope;
    const headers = new Headers(this.#nonceHeaders());
    headers.set("cache-control", "no-store"); // RFC 6749 §5.1
    return json(body, 200, headers);
  }

  /** Checks a code this server issued (unknown codes pass: tests make them up). */
  async #redeemCode(
    form: URLSearchParams,
    clientId: string,
  ): Promise<IssuedCode | undefined | Response> {
    const code = form.get("code")!;
    const refuse = (why: string) => oauthError("invalid_grant", why);
    if (this.#usedCodes.has(code)) return refuse("code already used"); // RFC 6749 §4.1.2
    const issued = this.#codes.get(code);
    if (!issued) return undefined;
    this.#codes.delete(code);
    this.#usedCodes.add(code);
    if (issued.clientId !== clientId) return refuse("code was issued to another client");
    if (issued.redirectUri !== form.get("redirect_uri")) return refuse("redirect_uri mismatch");
    const verifier = form.get("code_verifier");
    if (issued.codeChallenge === null) {
      // RFC 9700 §2.1.1: a code_verifier without a code_challenge is a downgrade.
      if (verifier !== null) return refuse("code_verifier sent but no code_challenge was");
    } else if (verifier === null || await sha256(verifier) !== issued.codeChallenge) {
      return refuse("PKCE verification failed (RFC 7636 §4.6)");
    }
    return issued;
  }

  /** Bearer or DPoP access token presented at a protected resource (RFC 6750 §2.1, RFC 9449 §7). */
  async #presentedToken(record: FakeRequest): Promise<{ token: string } | Response> {
    const authorization = record.headers.get("authorization") ?? "";
    const match = /^(bearer|dpop) +([\w\-.~+/]+=*)$/i.exec(authorization);
    if (!match) return challenge('Bearer error="invalid_token"');
    const scheme = match[1]!.toLowerCase();
    const token = match[2]!;
    const issued = this.#tokens.get(token);
    const dpopChallenge = (error: string, description: string) =>
      challenge(
        `DPoP error="${error}", error_description="${description}", algs="${testAlgs.join(" ")}"`,
        401,
        this.#nonceHeaders(),
      );
    if (scheme === "bearer") {
      if (issued?.jkt !== undefined) {
        return challenge('Bearer error="invalid_token", error_description="token is DPoP-bound"');
      }
      return { token };
    }
    if (record.dpop === undefined) return dpopChallenge("invalid_dpop_proof", "missing DPoP proof");
    const dpop = await this.#checkDpop(record, token);
    if (!dpop.ok) return dpopChallenge(dpop.error, dpop.description);
    if (issued !== undefined && issued.jkt !== dpop.jkt) {
      return dpopChallenge("invalid_token", "token is bound to another key");
    }
    return { token };
  }

  async #userinfo(record: FakeRequest): Promise<Response> {
    const presented = await this.#presentedToken(record);
    if (presented instanceof Response) return presented;
    const claims = { sub: "user-1", name: "Test User", email: "user-1@as.example" };
    // Signed when the client asks for JWT only (it registered userinfo_signed_response_alg); a
    // client that accepts both gets JSON, as a server answers one without that registration.
    const accept = record.headers.get("accept") ?? "";
    if (/application\/jwt/i.test(accept) && !/application\/json/i.test(accept)) {
      const aud = this.#tokens.get(presented.token)?.clientId ?? this.#server.client.client_id;
      return jwtResponse(await this.#server.sign({ iss: this.#server.issuer, aud, ...claims }));
    }
    return json(claims, 200, this.#nonceHeaders());
  }

  async #resource(record: FakeRequest): Promise<Response> {
    const presented = await this.#presentedToken(record);
    if (presented instanceof Response) return presented;
    return json(
      {
        method: record.method,
        url: record.url.href,
        authorization: record.headers.get("authorization"),
        dpop: record.headers.get("dpop"),
      },
      200,
      this.#nonceHeaders(),
    );
  }

  async #introspection(record: FakeRequest): Promise<Response> {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const token = record.form!.get("token");
    if (!token) return oauthError("invalid_request", "missing token");
    const issued = this.#tokens.get(token);
    const t = now();
    const body = withoutUndefined({
      active: true,
      client_id: issued?.clientId ?? gate.clientId,
      scope: issued?.scope,
      sub: "user-1",
      iss: this.#server.issuer,
      aud: issued?.clientId ?? gate.clientId,
      iat: t,
      exp: t + 3600,
      token_type: issued?.jkt === undefined ? "Bearer" : "DPoP",
      cnf: issued?.jkt === undefined ? undefined : { jkt: issued.jkt },
    });
    const accept = record.headers.get("accept") ?? "";
    if (/application\/token-introspection\+jwt/i.test(accept)) {
      // RFC 9701 §5
      const jwt = await this.#server.sign(
        { iss: this.#server.issuer, aud: gate.clientId, iat: t, token_introspection: body },
        { typ: "token-introspection+jwt" },
      );
      return jwtResponse(jwt, "application/token-introspection+jwt");
    }
    return json(body);
  }

  #revocation(record: FakeRequest): Response {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const token = record.form!.get("token");
    if (!token) return oauthError("invalid_request", "missing token");
    this.#tokens.delete(token);
    return new Response(null, { status: 200 });
  }

  async #par(record: FakeRequest): Promise<Response> {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const form = record.form!;
    const dpop = await this.#checkDpop(record);
    if (!dpop.ok) return this.#dpopErrorAtAs(dpop);
    if (form.has("request_uri")) {
      return oauthError("invalid_request", "request_uri is not allowed (RFC 9126 §2.1)");
    }
    const params = new URLSearchParams(form);
    const requestObject = form.get("request");
    if (requestObject !== null) {
      // RFC 9101 §6.3: the request object's claims are the parameters (not verified here).
      const { claims } = tryDecode(requestObject);
      if (!claims) return oauthError("invalid_request_object", "request object does not decode");
      for (const [k, v] of Object.entries(claims)) {
        if (typeof v === "string") params.set(k, v);
      }
    }
    params.set("client_id", gate.clientId);
    for (const name of ["client_secret", "client_assertion", "client_assertion_type"]) {
      params.delete(name);
    }
    const requestUri = `urn:ietf:params:oauth:request_uri:${random()}`;
    this.#pushed.set(requestUri, params);
    return json({ request_uri: requestUri, expires_in: 60 }, 201, { "cache-control": "no-store" });
  }

  #deviceAuthorization(record: FakeRequest): Response {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const userCode = "WDJB-MJHT";
    const verification = `${this.#server.issuer.replace(/\/+$/, "")}/device`;
    return json(
      {
        device_code: random(),
        user_code: userCode,
        verification_uri: verification,
        verification_uri_complete: `${verification}?user_code=${userCode}`,
        expires_in: 600,
        interval: 5,
      },
      200,
      { "cache-control": "no-store" },
    );
  }

  #backchannel(record: FakeRequest): Response {
    const gate = this.#gate(record);
    if (gate instanceof Response) return gate;
    const form = record.form!;
    if (!(form.get("scope") ?? "").split(" ").includes("openid")) {
      return oauthError("invalid_scope", "scope must include openid (CIBA §7.1)");
    }
    const hints = ["login_hint", "id_token_hint", "login_hint_token"].filter((n) => form.has(n));
    if (hints.length !== 1) {
      return oauthError("invalid_request", "exactly one hint is required (CIBA §7.1)");
    }
    return json({ auth_req_id: random(), expires_in: 120 });
  }

  #registration(record: FakeRequest): Response {
    if (record.method !== "POST") return methodNotAllowed("POST");
    const metadata = record.json;
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      return oauthError("invalid_client_metadata", "expected a JSON object");
    }
    const fields = metadata as Record<string, unknown>;
    const clientId = `client-${random(9)}`;
    const method = fields.token_endpoint_auth_method ?? "client_secret_basic";
    const secret = method === "client_secret_basic" || method === "client_secret_post" ||
        method === "client_secret_jwt"
      ? random()
      : undefined;
    this.#clients.set(clientId, secret);
    return json(
      withoutUndefined({
        ...fields,
        client_id: clientId,
        client_id_issued_at: now(),
        client_secret: secret,
        client_secret_expires_at: secret === undefined ? undefined : 0,
      }),
      201,
      { "cache-control": "no-store" },
    );
  }
}

function methodNotAllowed(allow: string): Response {
  return new Response("method not allowed", { status: 405, headers: { allow } });
}
