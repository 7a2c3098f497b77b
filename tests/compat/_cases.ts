/**
 * The shape of the openid-client equivalence cases and the steps they share: connecting
 * openid-client to the embedded provider ({@linkcode connect}), signing a user in through the
 * code flow ({@linkcode signIn}), registering a client ({@linkcode register}), and asserting the
 * errors openid-client surfaces. {@linkcode defineCases} registers every case once per library.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ClientMetadata, Configuration } from "openid-client";
import { type OidcProviderHarness, REDIRECT_URI } from "../_oidc_provider.ts";
import {
  LIBRARIES,
  type Library,
  loadOpenIdClient,
  type OpenIdClientModule,
  type Recorder,
  recorder,
} from "./_openid_client.ts";

/** One scenario, run once on oauth4webapi and once on authlane with the same expectations. */
export interface Case {
  /** What openid-client does, as the test name after `openid-client on <library>: `. */
  name: string;
  /**
   * Skips the authlane run only, while a cause outside this branch's files is being fixed; the
   * oauth4webapi run still shows what the case expects. Give the cause in a `// pending:` comment.
   */
  ignore?: boolean;
  /** The scenario, given openid-client on the library under test. */
  run(c: OpenIdClientModule, library: Library): Promise<void>;
}

/** Registers each case as one `Deno.test` per library. */
export function defineCases(cases: readonly Case[]): void {
  for (const library of LIBRARIES) {
    for (const testCase of cases) {
      Deno.test({
        name: `openid-client on ${library}: ${testCase.name}`,
        ignore: testCase.ignore === true && library === "authlane",
        async fn() {
          await testCase.run(await loadOpenIdClient(library), library);
        },
      });
    }
  }
}

/** Client metadata as registered at the provider (its `client_secret` included). */
export interface RegisteredClient {
  /** The client ID. */
  client_id: string;
  /** The secret, for the `client_secret_*` methods. */
  client_secret?: string;
  /** Other metadata. */
  [key: string]: unknown;
}

/** Options of {@linkcode connect}. */
export interface ConnectOptions {
  /** Client authentication; openid-client's default (client_secret_post or none) otherwise. */
  auth?: ReturnType<OpenIdClientModule["None"]>;
  /** The URL given to `discovery()`. @default the issuer */
  server?: URL;
  /** Rewrites the discovery document the provider serves. */
  rewriteMetadata?: (metadata: Record<string, unknown>) => Record<string, unknown>;
  /** Rewrites URLs before they are fetched, e.g. to emulate another host. */
  rewriteUrl?: (url: URL) => URL;
  /** Rewrites any response, e.g. to stage a server's quirk. */
  rewriteResponse?: (url: URL, response: Response) => Promise<Response> | Response;
}

/**
 * Discovers the provider with openid-client and configures the client, allowing `http:` and
 * recording every request.
 *
 * @returns The configuration and the request log.
 */
export async function connect(
  c: OpenIdClientModule,
  op: OidcProviderHarness,
  registered: RegisteredClient,
  options: ConnectOptions = {},
): Promise<{ config: Configuration; log: Recorder }> {
  const { rewriteMetadata, rewriteResponse } = options;
  const log = recorder({
    url: options.rewriteUrl,
    response: async (url, response) => {
      if (
        rewriteMetadata !== undefined &&
        url.pathname.endsWith("/.well-known/openid-configuration")
      ) {
        response = Response.json(rewriteMetadata(await response.json()), {
          status: response.status,
        });
      }
      return rewriteResponse === undefined ? response : await rewriteResponse(url, response);
    },
  });
  const config = await c.discovery(
    options.server ?? new URL(op.issuer),
    registered.client_id,
    registered as Partial<ClientMetadata>,
    options.auth,
    { [c.customFetch]: log.fetch, execute: [c.allowInsecureRequests] },
  );
  return { config, log };
}

/**
 * Registers a client with openid-client's `dynamicClientRegistration()`; it authenticates with
 * `client_secret_basic` afterwards.
 *
 * @returns The configuration of the new client.
 */
export async function register(
  c: OpenIdClientModule,
  op: OidcProviderHarness,
  metadata: Record<string, unknown>,
  initialAccessToken: string,
): Promise<Configuration> {
  return await c.dynamicClientRegistration(
    new URL(op.issuer),
    metadata as Partial<ClientMetadata>,
    c.ClientSecretBasic(),
    { initialAccessToken, execute: [c.allowInsecureRequests] },
  );
}

/** Options of {@linkcode signIn}. */
export interface SignInOptions {
  /** Replaces the state the callback is checked against. */
  expectedState?: string;
  /** Replaces the nonce the ID token is checked against. */
  expectedNonce?: string;
  /** Replaces the PKCE verifier sent to the token endpoint. */
  pkceCodeVerifier?: string;
  /** `false` refuses consent at the provider. */
  consent?: boolean;
  /** Extra authorization request parameters. */
  parameters?: Record<string, string>;
  /** Builds the authorization URL. @default openid-client's `buildAuthorizationUrl()` */
  build?: (parameters: Record<string, string>) => Promise<URL> | URL;
  /** Turns the callback URL into what `authorizationCodeGrant()` takes. @default the URL */
  callback?: (url: URL) => URL | Request;
  /** Options of `authorizationCodeGrant()` (DPoP). */
  grant?: Parameters<OpenIdClientModule["authorizationCodeGrant"]>[4];
}

/**
 * The code flow with PKCE, state and nonce through openid-client: builds the authorization URL,
 * signs `alice` in at the provider, and redeems the code.
 *
 * @returns The token response, and the state and nonce that were sent.
 */
export async function signIn(
  c: OpenIdClientModule,
  config: Configuration,
  op: OidcProviderHarness,
  options: SignInOptions = {},
): Promise<{
  tokens: Awaited<ReturnType<OpenIdClientModule["authorizationCodeGrant"]>>;
  state: string;
  nonce: string;
}> {
  const codeVerifier = c.randomPKCECodeVerifier();
  const state = c.randomState();
  const nonce = c.randomNonce();
  const parameters = {
    redirect_uri: REDIRECT_URI,
    scope: "openid email",
    code_challenge: await c.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...options.parameters,
  };
  const url = options.build
    ? await options.build(parameters)
    : c.buildAuthorizationUrl(config, parameters);
  const callback = await op.login(url, { consent: options.consent });
  const tokens = await c.authorizationCodeGrant(
    config,
    options.callback?.(callback) ?? callback,
    {
      pkceCodeVerifier: options.pkceCodeVerifier ?? codeVerifier,
      expectedState: options.expectedState ?? state,
      expectedNonce: options.expectedNonce ?? nonce,
    },
    undefined,
    options.grant,
  );
  return { tokens, state, nonce };
}

/** Asserts that `promise` rejects; returns what it rejected with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  return caught;
}

/**
 * Asserts that `promise` rejects with openid-client's `ClientError` carrying `code`.
 *
 * @returns The error.
 */
export async function expectClientError(
  c: OpenIdClientModule,
  promise: Promise<unknown>,
  code: string,
): Promise<InstanceType<OpenIdClientModule["ClientError"]>> {
  const caught = await rejection(promise);
  assert.ok(caught instanceof c.ClientError, `expected a ClientError, got ${caught}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}

/**
 * Asserts that `promise` rejects with a `ResponseBodyError` whose `error` is `error`.
 *
 * @returns The error.
 */
export async function expectResponseBodyError(
  c: OpenIdClientModule,
  promise: Promise<unknown>,
  error: string,
): Promise<InstanceType<OpenIdClientModule["ResponseBodyError"]>> {
  const caught = await rejection(promise);
  assert.ok(caught instanceof c.ResponseBodyError, `expected a ResponseBodyError, got ${caught}`);
  assert.equal(caught.error, error);
  assert.equal(caught.code, "OAUTH_RESPONSE_BODY_ERROR");
  return caught;
}
