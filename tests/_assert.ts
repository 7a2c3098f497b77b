/**
 * Assertions shared by the test suite: an expected library error (class, `code`, `cause`) and an
 * expected caller error (a coded `TypeError`). Both accept a function (sync or async) or a promise,
 * return the caught error for further checks, and fail with an `AssertionError` that says what
 * came instead.
 *
 * ```ts
 * const err = await assertOAuthError(
 *   () => oauth.processAuthorizationCodeResponse(as, client, response),
 *   oauth.OperationProcessingError,
 *   oauth.JWT_CLAIM_COMPARISON,
 *   { claim: "aud" },
 * );
 * await assertTypeError(() => oauth.revocationRequest(as, client, auth, ""), "ERR_INVALID_ARG_VALUE");
 * ```
 *
 * @module
 */

import { AssertionError, deepStrictEqual } from "node:assert/strict";

/** Any error class. */
// deno-lint-ignore no-explicit-any
export type ErrorClass<E extends Error = Error> = abstract new (...args: any[]) => E;

/**
 * A check of the caught error's `cause`: a function (it may assert and throw), or an object whose
 * every member must deep-equal the same member of `cause` (other members of `cause` are ignored).
 */
export type CauseCheck<E> =
  | ((cause: unknown, error: E) => void | Promise<void>)
  | Record<string, unknown>;

/** What a caller mistake carries. */
export type TypeErrorCode = "ERR_INVALID_ARG_TYPE" | "ERR_INVALID_ARG_VALUE";

function describe(value: unknown): string {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return `${value.name}${code === undefined ? "" : ` [${String(code)}]`}: ${value.message}`;
  }
  try {
    return `a non-error value ${Deno.inspect(value, { depth: 2 })}`;
  } catch {
    return "a non-error value";
  }
}

function fail(message: string, actual?: unknown): never {
  const err = new AssertionError({ message });
  if (actual !== undefined) Object.defineProperty(err, "cause", { value: actual });
  throw err;
}

async function capture(
  fnOrPromise: (() => unknown) | PromiseLike<unknown>,
  expected: string,
): Promise<unknown> {
  let settled: unknown;
  try {
    settled = await (typeof fnOrPromise === "function" ? fnOrPromise() : fnOrPromise);
  } catch (err) {
    return err;
  }
  if (settled instanceof Response) await settled.body?.cancel();
  return fail(`expected ${expected} to be thrown, but the call returned ${describe(settled)}`);
}

async function checkCause<E>(err: E & Error, check: CauseCheck<E>): Promise<void> {
  if (typeof check === "function") {
    await check(err.cause, err);
    return;
  }
  const cause = err.cause;
  if (typeof cause !== "object" || cause === null) {
    fail(`expected ${describe(err)} to have an object cause, got ${describe(cause)}`, err);
  }
  for (const [key, value] of Object.entries(check)) {
    deepStrictEqual(
      (cause as Record<string, unknown>)[key],
      value,
      `cause.${key} of ${describe(err)} differs`,
    );
  }
}

/**
 * Asserts that a call throws (or rejects with) an instance of `ErrorClass` carrying `code`, and
 * optionally checks its `cause`.
 *
 * @param fnOrPromise A function (sync or async) or a promise.
 * @param ErrorClass The expected class (checked with `instanceof`).
 * @param code The expected `code`; not checked when omitted.
 * @param causeCheck A function given `(cause, error)`, or an object matched member by member.
 * @returns The caught error.
 */
export async function assertOAuthError<E extends Error>(
  fnOrPromise: (() => unknown) | PromiseLike<unknown>,
  ErrorClass: ErrorClass<E>,
  code?: string,
  causeCheck?: CauseCheck<E>,
): Promise<E> {
  const expected = `${ErrorClass.name}${code === undefined ? "" : ` [${code}]`}`;
  const err = await capture(fnOrPromise, expected);
  if (!(err instanceof ErrorClass)) {
    fail(`expected ${expected} to be thrown, got ${describe(err)}`, err);
  }
  if (code !== undefined && (err as { code?: unknown }).code !== code) {
    fail(`expected ${expected} to be thrown, got ${describe(err)}`, err);
  }
  if (causeCheck !== undefined) await checkCause(err, causeCheck);
  return err;
}

/**
 * Asserts that a call throws (or rejects with) a `TypeError` whose `code` is `code`: the shape of
 * every caller mistake in authlane.
 *
 * @param fnOrPromise A function (sync or async) or a promise.
 * @param code `ERR_INVALID_ARG_TYPE` or `ERR_INVALID_ARG_VALUE`.
 * @returns The caught error.
 */
export async function assertTypeError(
  fnOrPromise: (() => unknown) | PromiseLike<unknown>,
  code: TypeErrorCode,
): Promise<TypeError & { code: TypeErrorCode }> {
  return await assertOAuthError(fnOrPromise, TypeError, code) as TypeError & {
    code: TypeErrorCode;
  };
}
