/**
 * The authorization server's JWK Set (RFC 7517 §5, RFC 8414 §2 `jwks_uri`): fetched on first use,
 * cached per `[jwksCache]` object (else per metadata object), and shared between concurrent
 * callers. The lifecycle is
 * oauth4webapi's, so an exported `[jwksCache]` moves between the two libraries and behaves the
 * same: a cached set is used for 5 minutes; a key that is not in it triggers one refetch once the
 * set is at least 60 seconds old; a `[jwksCache]` object seeds the cache when it is fresh (under
 * 5 minutes old), receives `{ jwks, uat }` (a copy of the set, and its fetch time in epoch
 * seconds) after each fetch, and is emptied when its set expires or is refetched. Key selection
 * (OpenID Connect Core §10.1.1) filters by `kid`, `kty`, `crv`, `alg`, `use` and `key_ops`, and
 * refuses ambiguity.
 *
 * @module
 */

import { isJsonObject } from "./_assert.ts";
import {
  checkMetadataStatus,
  enforcesHttps,
  type HttpOptions,
  prepareHeaders,
  readJsonObject,
  send,
  transportFor,
} from "./_http.ts";
import { resolveEndpoint } from "./endpoints.ts";
import { importPublicJwk } from "./_jose.ts";
import { jwsAlgorithm } from "./jws_algorithms.ts";
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

/** Seconds after which a cached JWKS is fetched again (oauth4webapi's 300). */
export const JWKS_MAX_AGE = 300;
/** Seconds a JWKS must have been cached before an unknown key triggers a refetch (oauth4webapi's 60). */
export const JWKS_REFETCH_COOLDOWN = 60;

interface CacheState {
  jwks?: JWKS;
  uat?: number;
  /** The copy of `jwks` last written to (or taken from) the caller's `[jwksCache]`. */
  exportedJwks?: JWKS;
  pending?: Promise<{ jwks: JWKS; uat: number }>;
  /** The one key selected per `alg` and `kid` from `jwks`; dropped whenever `jwks` changes. */
  selected?: Map<string, JWK>;
}

/**
 * The caches: per `[jwksCache]` object when the caller gives one (so copies of the metadata that
 * share it share one fetch), else per metadata object. Either way the set in use is the one the
 * export holds, as oauth4webapi reads it.
 */
const states = new WeakMap<object, CacheState>();

function exportedCache(options?: JWKSCacheOptions): Partial<ExportedJWKSCache> | undefined {
  const exported = options?.[jwksCache];
  if (exported !== undefined && !isJsonObject(exported)) {
    throw argError('"options[jwksCache]" must be an object');
  }
  return exported as Partial<ExportedJWKSCache> | undefined;
}

function stateFor(
  as: AuthorizationServer,
  exported: Partial<ExportedJWKSCache> | undefined,
): CacheState {
  const owner: object = exported ?? as;
  let state = states.get(owner);
  if (state === undefined) {
    state = {};
    states.set(owner, state);
  }
  // The export is the truth: when someone else filled, replaced or emptied it since this cache
  // last wrote it (oauth4webapi sharing it, the application restoring it), a fresh set there is
  // taken as is and anything else leaves nothing cached.
  if (
    exported !== undefined &&
    (exported.jwks !== state.exportedJwks || exported.uat !== state.uat)
  ) {
    if (isFresh(exported)) {
      setJwks(state, exported.jwks!, exported.uat!);
      state.exportedJwks = exported.jwks;
    } else {
      forget(state);
    }
  }
  return state;
}

function isFresh(exported: Partial<ExportedJWKSCache>): boolean {
  return typeof exported.uat === "number" && epochTime() - exported.uat < JWKS_MAX_AGE &&
    isJwks(exported.jwks);
}

function isJwks(value: unknown): value is JWKS {
  return isJsonObject(value) && Array.isArray(value.keys) && value.keys.every(isJsonObject);
}

function setJwks(state: CacheState, jwks: JWKS, uat: number): void {
  state.jwks = jwks;
  state.uat = uat;
  state.selected = undefined;
}

function forget(state: CacheState): void {
  state.jwks = undefined;
  state.uat = undefined;
  state.exportedJwks = undefined;
  state.selected = undefined;
}

/** Forgets the cached set, in the cache and in the caller's export (as oauth4webapi does). */
function clear(state: CacheState, exported: Partial<ExportedJWKSCache> | undefined): void {
  forget(state);
  if (exported !== undefined) {
    delete exported.jwks;
    delete exported.uat;
  }
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
  await checkMetadataStatus(response, 200, "JSON Web Key Set");
  const body: JsonObject = await readJsonObject(response, JWKS_TYPES);
  if (!Array.isArray(body.keys)) {
    throw processingError('"response" body "keys" property must be an array', INVALID_RESPONSE, {
      body,
    });
  }
  if (!isJwks(body)) {
    throw processingError(
      '"response" body "keys" property members must be JWK formatted objects',
      INVALID_RESPONSE,
      { body },
    );
  }
  return body;
}

/** RFC 7517 §8.5.1: a JWK Set may also be labelled `application/jwk-set+json`. */
const JWKS_TYPES: readonly string[] = ["application/json", "application/jwk-set+json"];

/**
 * Fetches the set into the cache (joining a fetch already under way), then exports a copy into
 * the caller's `[jwksCache]`, so the caller may persist or change it without touching the cache.
 */
async function loadJwks(
  as: AuthorizationServer,
  state: CacheState,
  exported: Partial<ExportedJWKSCache> | undefined,
  options?: HttpOptions,
): Promise<void> {
  const { jwks, uat } = await sharedFetch(as, state, options);
  if (exported !== undefined) {
    const copy = structuredClone(jwks);
    Object.assign(exported, { jwks: copy, uat });
    state.exportedJwks = copy;
  }
}

async function sharedFetch(
  as: AuthorizationServer,
  state: CacheState,
  options?: HttpOptions,
): Promise<{ jwks: JWKS; uat: number }> {
  const joined = state.pending !== undefined;
  if (!joined) {
    state.pending = fetchJwks(as, options).then((jwks) => {
      const uat = epochTime();
      setJwks(state, jwks, uat);
      return { jwks, uat };
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
      return await sharedFetch(as, state, options);
    }
    throw err;
  }
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && (err.name === "AbortError" || err.name === "TimeoutError");
}

/** Returns the JWKS keys that may verify a JWS with this `alg` and `kid`. */
export function selectCandidates(keys: readonly JWK[], alg: string, kid: unknown): JWK[] {
  const expected = jwsAlgorithm(alg);
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
  const exported = exportedCache(options);
  const state = stateFor(as, exported);
  const now = epochTime();
  let fresh = false;
  if (state.jwks !== undefined && now - state.uat! >= JWKS_MAX_AGE) clear(state, exported);
  if (state.jwks === undefined) {
    await loadJwks(as, state, exported, options);
    fresh = true;
  }
  // Repeated validations select the same key: remember it per (alg, kid) for this JWKS.
  // A kid is any string, so only its absence may be spelled without the separator.
  const memo = kid === undefined ? alg : `${alg}\u0000${kid}`;
  const known = state.selected?.get(memo);
  if (known !== undefined) return await importPublicJwk(known, alg);
  let candidates = selectCandidates(state.jwks!.keys, alg, kid);
  if (candidates.length === 0 && !fresh && now - state.uat! >= JWKS_REFETCH_COOLDOWN) {
    clear(state, exported);
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
