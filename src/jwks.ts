/**
 * The authorization server's JWK Set (RFC 7517 §5, RFC 8414 §2 `jwks_uri`): fetched on first use,
 * cached (per `[jwksCache]` object, else per metadata object), refetched once on an unknown key
 * with a 30-second cooldown, expired after 10 minutes, and shared between concurrent callers.
 * Key selection (OpenID Connect Core §10.1.1) filters by `kid`, `kty`, `crv`, `alg`, `use` and
 * `key_ops`, and refuses ambiguity.
 *
 * @module
 */

import { isJsonObject } from "./_assert.ts";
import {
  checkStatus,
  enforcesHttps,
  type HttpOptions,
  prepareHeaders,
  readJsonObject,
  resolveEndpoint,
  send,
  transportFor,
} from "./_http.ts";
import { importPublicJwk } from "./_jose.ts";
import { epochTime } from "./_time.ts";
import { argError, INVALID_RESPONSE, KEY_SELECTION, processingError } from "./errors.ts";
import { jwksCache } from "./symbols.ts";
import type {
  AuthorizationServer,
  ExportedJWKSCache,
  JsonObject,
  JWK,
  JWKS,
  JWKSCacheOptions,
} from "./types.ts";

/** Seconds after which a cached JWKS is fetched again. */
export const JWKS_MAX_AGE = 600;
/** Seconds that must pass before an unknown key triggers another fetch. */
export const JWKS_REFETCH_COOLDOWN = 30;

interface CacheState {
  jwks?: JWKS;
  uat?: number;
  pending?: Promise<JWKS>;
  /** The one key selected per `alg` and `kid` from `jwks`; dropped whenever `jwks` changes. */
  selected?: Map<string, JWK>;
}

const states = new WeakMap<object, CacheState>();

function stateFor(
  as: AuthorizationServer,
  options?: JWKSCacheOptions,
): { state: CacheState; exported?: object } {
  const exported = options?.[jwksCache];
  if (exported !== undefined && !isJsonObject(exported)) {
    throw argError('"options[jwksCache]" must be an object');
  }
  const owner: object = exported ?? as;
  let state = states.get(owner);
  if (state === undefined) {
    state = {};
    const input = exported as Partial<ExportedJWKSCache> | undefined;
    if (input && isJwks(input.jwks) && typeof input.uat === "number") {
      state.jwks = input.jwks;
      state.uat = input.uat;
    }
    states.set(owner, state);
  }
  return { state, exported };
}

function isJwks(value: unknown): value is JWKS {
  return isJsonObject(value) && Array.isArray(value.keys) && value.keys.every(isJsonObject);
}

async function fetchJwks(as: AuthorizationServer, options?: HttpOptions): Promise<JWKS> {
  const url = resolveEndpoint(as, "jwks_uri", false, enforcesHttps(options));
  const headers = prepareHeaders(options?.headers);
  headers.set("accept", "application/json, application/jwk-set+json");
  const response = await send({
    url,
    method: "GET",
    headers,
    options,
    transport: transportFor(undefined, options),
  });
  await checkStatus(response, 200, "JSON Web Key Set");
  const body: JsonObject = await readJsonObject(response);
  if (!isJwks(body)) {
    throw processingError('"response" body must be a JSON Web Key Set', INVALID_RESPONSE, { body });
  }
  return body;
}

async function loadJwks(
  as: AuthorizationServer,
  state: CacheState,
  exported: object | undefined,
  options?: HttpOptions,
): Promise<JWKS> {
  const joined = state.pending !== undefined;
  if (!joined) {
    state.pending = fetchJwks(as, options).then((jwks) => {
      state.jwks = jwks;
      state.selected = undefined;
      state.uat = epochTime();
      if (exported) Object.assign(exported, { jwks, uat: state.uat });
      return jwks;
    }).finally(() => {
      state.pending = undefined;
    });
  }
  try {
    return await state.pending!;
  } catch (err) {
    // A caller that joined another caller's fetch must not fail because of that caller's
    // signal: when the shared fetch was aborted and this caller's own signal was not, it
    // fetches once on its own.
    if (
      joined && isAbort(err) && !(options?.signal instanceof AbortSignal && options.signal.aborted)
    ) {
      return await loadJwks(as, state, exported, options);
    }
    throw err;
  }
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && (err.name === "AbortError" || err.name === "TimeoutError");
}

function expectedKty(alg: string): { kty: string; crv?: string } | undefined {
  switch (alg) {
    case "RS256":
    case "RS384":
    case "RS512":
    case "PS256":
    case "PS384":
    case "PS512":
      return { kty: "RSA" };
    case "ES256":
      return { kty: "EC", crv: "P-256" };
    case "ES384":
      return { kty: "EC", crv: "P-384" };
    case "ES512":
      return { kty: "EC", crv: "P-521" };
    case "Ed25519":
    case "EdDSA":
      return { kty: "OKP", crv: "Ed25519" };
  }
  return undefined;
}

/** Returns the JWKS keys that may verify a JWS with this `alg` and `kid`. */
export function selectCandidates(keys: readonly JWK[], alg: string, kid: unknown): JWK[] {
  const expected = expectedKty(alg);
  if (expected === undefined) return [];
  return keys.filter((jwk) =>
    jwk.kty === expected.kty &&
    (expected.crv === undefined || jwk.crv === expected.crv) &&
    (kid === undefined || jwk.kid === kid) &&
    (jwk.alg === undefined || jwk.alg === alg || (alg === "Ed25519" && jwk.alg === "EdDSA") ||
      (alg === "EdDSA" && jwk.alg === "Ed25519")) &&
    (jwk.use === undefined || jwk.use === "sig") &&
    (jwk.key_ops === undefined || (Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify")))
  );
}

/**
 * Selects and imports the one key of the authorization server's JWKS that verifies a JWS with
 * this header. An unknown key triggers one refetch (after the cooldown); none or several
 * matching keys is a `KEY_SELECTION` error.
 */
export async function selectVerificationKey(
  as: AuthorizationServer,
  header: JsonObject,
  options?: HttpOptions & JWKSCacheOptions,
): Promise<CryptoKey> {
  const alg = header.alg as string;
  const kid = header.kid;
  if (kid !== undefined && typeof kid !== "string") {
    throw processingError('JWT "kid" header parameter must be a string', INVALID_RESPONSE, {
      header,
    });
  }
  const { state, exported } = stateFor(as, options);
  const now = epochTime();
  let fresh = false;
  if (state.jwks === undefined || state.uat === undefined || now - state.uat >= JWKS_MAX_AGE) {
    await loadJwks(as, state, exported, options);
    fresh = true;
  }
  // Repeated validations select the same key: remember it per (alg, kid) for this JWKS.
  // A kid is any string, so only its absence may be spelled without the separator.
  const memo = kid === undefined ? alg : `${alg}\u0000${kid}`;
  const known = state.selected?.get(memo);
  if (known !== undefined) return await importPublicJwk(known, alg);
  let candidates = selectCandidates(state.jwks!.keys, alg, kid);
  if (candidates.length === 0 && !fresh && now - (state.uat ?? 0) >= JWKS_REFETCH_COOLDOWN) {
    await loadJwks(as, state, exported, options);
    candidates = selectCandidates(state.jwks!.keys, alg, kid);
  }
  if (candidates.length === 0) {
    throw processingError(
      "error when selecting a JWT verification key, no applicable keys found",
      KEY_SELECTION,
      {
        header,
        candidates: 0,
        jwks_uri: as.jwks_uri,
      },
    );
  }
  if (candidates.length > 1) {
    throw processingError(
      kid === undefined
        ? 'error when selecting a JWT verification key, multiple applicable keys found, a "kid" JWT Header Parameter is required'
        : 'error when selecting a JWT verification key, multiple applicable keys with the same "kid" found',
      KEY_SELECTION,
      { header, candidates: candidates.length, jwks_uri: as.jwks_uri },
    );
  }
  const jwk = candidates[0]!;
  const key = await importPublicJwk(jwk, alg);
  // Remembered once the key imports, and only while the JWKS it came from is still current.
  if (state.jwks?.keys.includes(jwk)) (state.selected ??= new Map()).set(memo, jwk);
  return key;
}
