/**
 * The end-user side of the oidc-provider harness: a small browser that follows redirects and
 * submits the development login, consent, device and logout pages (`login()`,
 * `approveDeviceCode()`, `logout()`), and the authentication device of CIBA
 * (`completeBackchannel()`).
 *
 * @module
 */

import { CookieJar } from "../e2e/_cookie_jar.ts";
import { DEFAULT_ACCOUNT } from "./configuration.ts";
import type { Any, ClientMetadata, OidcProviderHarness, ResourceServerInfo } from "./types.ts";

/** What the end-user drivers need to know about the running provider. */
export interface InteractionContext {
  /** The oidc-provider instance. */
  provider: Any;
  /** oidc-provider's `errors` export. */
  errors: Any;
  /** The origin the server listens on; navigating elsewhere leaves the provider. */
  origin: string;
  /** Every registered client; navigating to one of their redirect URIs leaves the provider. */
  registeredClients: readonly ClientMetadata[];
  /** The resource servers by resource indicator, for CIBA grants. */
  resourceServers: Record<string, ResourceServerInfo>;
  /** The `fetch` to browse with (`StartProviderOptions.fetch`). */
  browserFetch: typeof fetch;
}

/** The harness methods that act as the end-user. */
export type Interactions = Pick<
  OidcProviderHarness,
  "login" | "approveDeviceCode" | "completeBackchannel" | "logout"
>;

/**
 * Creates the end-user drivers of a running provider.
 *
 * @param context The running provider.
 * @returns `login`, `approveDeviceCode`, `completeBackchannel` and `logout`.
 */
export function interactions(context: InteractionContext): Interactions {
  const { provider, errors, origin, registeredClients, resourceServers, browserFetch } = context;
  const redirectTargets = new Set(
    registeredClients.flatMap((c) => (c.redirect_uris ?? []) as string[]).map((uri) => {
      const url = new URL(uri);
      return `${url.origin}${url.pathname}`;
    }),
  );
  const isExit = (url: URL): boolean =>
    url.origin !== origin || redirectTargets.has(`${url.origin}${url.pathname}`);

  return {
    async login(authorizationUrl, loginOptions = {}) {
      const accountId = loginOptions.accountId ?? DEFAULT_ACCOUNT;
      const jar = loginOptions.jar ?? new CookieJar();
      const result = await drive(browserFetch, jar, new URL(authorizationUrl), isExit, (view) => {
        const form = view.forms.find((f) => f.method === "post");
        if (form === undefined) return undefined;
        if (
          form.fields.some((f) => f.name === "prompt" && f.value === "consent") &&
          loginOptions.consent === false
        ) {
          const abort = view.links.find((link) => link.pathname.endsWith("/abort"));
          if (abort === undefined) throw new Error(`no abort link on ${view.url}`);
          return { url: abort, method: "GET" };
        }
        return submit(form, { login: accountId, password: "password" });
      });
      if (result.kind !== "exit") {
        throw new Error(
          `login() ended on ${result.url} without reaching the client: ${summarize(result.html)}`,
        );
      }
      return result.url;
    },
    async approveDeviceCode(userCode, deviceOptions = {}) {
      const accountId = deviceOptions.accountId ?? DEFAULT_ACCOUNT;
      const jar = deviceOptions.jar ?? new CookieJar();
      const start = new URL(provider.urlFor("code_verification"));
      start.searchParams.set("user_code", userCode);
      const result = await drive(browserFetch, jar, start, isExit, (view) => {
        const form = view.forms.find((f) => f.method === "post");
        if (form === undefined) return undefined;
        const isConfirm = form.fields.some((f) => f.name === "confirm");
        if (isConfirm && deviceOptions.consent === false) {
          return submit(form, {}, { abort: "yes" }, ["confirm"]);
        }
        return submit(form, { login: accountId, password: "password", user_code: userCode });
      });
      if (result.kind === "exit") {
        throw new Error(`approveDeviceCode() left the provider for ${result.url}`);
      }
      const expected = deviceOptions.consent === false
        ? 'data-error="AbortedError"'
        : 'data-result="device-approved"';
      if (!result.html.includes(expected)) {
        throw new Error(`approveDeviceCode() ended on ${result.url}: ${summarize(result.html)}`);
      }
    },
    async completeBackchannel(authReqId, backchannelOptions = {}) {
      const request = await provider.BackchannelAuthenticationRequest.find(authReqId);
      if (!request) throw new Error("unknown auth_req_id");
      if (backchannelOptions.deny === true) {
        await provider.backchannelResult(
          request,
          new errors.AccessDenied("end-user denied the request"),
        );
        return;
      }
      const grant = new provider.Grant({
        accountId: request.accountId,
        clientId: request.clientId,
      });
      if (request.scope) grant.addOIDCScope(request.scope);
      if (request.claims && Object.keys(request.claims).length > 0) {
        grant.addOIDCClaims(
          Object.keys({ ...request.claims.id_token, ...request.claims.userinfo }),
        );
      }
      if (request.resource) {
        const resources = Array.isArray(request.resource) ? request.resource : [request.resource];
        for (const indicator of resources) {
          const info = resourceServers[indicator];
          if (info) grant.addResourceScope(indicator, info.scope);
        }
      }
      await grant.save();
      await provider.backchannelResult(request, grant, {
        authTime: Math.floor(Date.now() / 1000),
      });
    },
    async logout(endSessionUrl, jar) {
      const result = await drive(browserFetch, jar, new URL(endSessionUrl), isExit, (view) => {
        const form = view.forms.find((f) => f.method === "post");
        return form === undefined ? undefined : submit(form, {});
      });
      return result.url;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Browser driver

interface HtmlForm {
  id?: string;
  action: URL;
  method: string;
  fields: { name: string; value: string; type: string }[];
  /** The submit button a person would press (autofocus first), if it has a name. */
  primary?: { name: string; value: string };
}

interface View {
  url: URL;
  html: string;
  forms: HtmlForm[];
  links: URL[];
}

interface Step {
  url: URL;
  method: "GET" | "POST";
  body?: URLSearchParams;
}

type DriveResult = { kind: "exit"; url: URL } | { kind: "page"; url: URL; html: string };

const MAX_STEPS = 30;

/**
 * Follows redirects and submits pages (as decided by `decide`) until a navigation leaves the
 * provider (`isExit`) or a page has nothing left to submit.
 */
async function drive(
  fetch: typeof globalThis.fetch,
  jar: CookieJar,
  start: URL,
  isExit: (url: URL) => boolean,
  decide: (view: View) => Step | undefined,
): Promise<DriveResult> {
  let step: Step = { url: start, method: "GET" };
  for (let i = 0; i < MAX_STEPS; i++) {
    const headers = jar.headersFor(step.url, { accept: "text/html" });
    if (step.body) headers.set("content-type", "application/x-www-form-urlencoded");
    const response = await fetch(step.url, {
      method: step.method,
      headers,
      body: step.body,
      redirect: "manual",
    });
    jar.store(step.url, response);
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (location === null) {
        throw new Error(`${response.status} without Location from ${step.url}`);
      }
      const next = new URL(location, step.url);
      if (isExit(next)) return { kind: "exit", url: next };
      step = { url: next, method: "GET" };
      continue;
    }
    const html = await response.text();
    if (!response.ok) {
      throw new Error(`${step.method} ${step.url} answered ${response.status}: ${summarize(html)}`);
    }
    const view: View = {
      url: step.url,
      html,
      forms: parseForms(html, step.url),
      links: parseLinks(html, step.url),
    };
    // response_mode=form_post: an auto-submitting form that posts to the client.
    const toClient = view.forms.find((form) => isExit(form.action));
    if (toClient !== undefined) {
      const url = new URL(toClient.action);
      for (const field of toClient.fields) url.searchParams.append(field.name, field.value);
      return { kind: "exit", url };
    }
    const next = decide(view);
    if (next === undefined) return { kind: "page", url: step.url, html };
    step = next;
  }
  throw new Error(`no result after ${MAX_STEPS} navigations from ${start}`);
}

/**
 * Fills a form as a person would: hidden fields keep their value, visible ones take `fill`,
 * the primary button adds its name and value; `extra` acts as another button pressed.
 */
function submit(
  form: HtmlForm,
  fill: Record<string, string>,
  extra: Record<string, string> = {},
  omit: string[] = [],
): Step {
  const body = new URLSearchParams();
  for (const field of form.fields) {
    if (omit.includes(field.name)) continue;
    if (field.type === "hidden") body.append(field.name, field.value);
    else if (field.type === "checkbox" || field.type === "radio") continue;
    else body.append(field.name, fill[field.name] ?? field.value);
  }
  if (Object.keys(extra).length > 0) {
    for (const [name, value] of Object.entries(extra)) body.append(name, value);
  } else if (form.primary !== undefined) {
    body.append(form.primary.name, form.primary.value);
  }
  if (form.method === "post") return { url: form.action, method: "POST", body };
  const url = new URL(form.action);
  url.search = body.toString();
  return { url, method: "GET" };
}

const TAG = /<(form|\/form|input|button|a)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/gi;
const ATTRIBUTE = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(ATTRIBUTE)) {
    const name = match[1]!.toLowerCase();
    if (!attributes.has(name)) {
      attributes.set(name, decodeEntities(match[2] ?? match[3] ?? match[4] ?? ""));
    }
  }
  return attributes;
}

/** Parses `<form>`s, their `<input>`s and buttons (including those joined by `form="id"`). */
function parseForms(html: string, base: URL): HtmlForm[] {
  const forms: HtmlForm[] = [];
  const byId = new Map<string, HtmlForm>();
  const buttons: { form: HtmlForm; name?: string; value: string; autofocus: boolean }[] = [];
  const pending: { attributes: Map<string, string>; owner?: HtmlForm; button: boolean }[] = [];
  let current: HtmlForm | undefined;
  for (const match of html.matchAll(TAG)) {
    const tag = match[1]!.toLowerCase();
    const attributes = parseAttributes(match[2] ?? "");
    if (tag === "form") {
      current = {
        id: attributes.get("id"),
        action: new URL(attributes.get("action") || base.href, base),
        method: (attributes.get("method") ?? "get").toLowerCase(),
        fields: [],
      };
      forms.push(current);
      if (current.id !== undefined) byId.set(current.id, current);
    } else if (tag === "/form") {
      current = undefined;
    } else if (tag === "input" || tag === "button") {
      pending.push({ attributes, owner: current, button: tag === "button" });
    }
  }
  for (const { attributes, owner, button } of pending) {
    const formId = attributes.get("form");
    const form = formId !== undefined ? byId.get(formId) : owner;
    if (form === undefined) continue;
    const type = (attributes.get("type") ?? (button ? "submit" : "text")).toLowerCase();
    const name = attributes.get("name");
    if (button || type === "submit") {
      buttons.push({
        form,
        name,
        value: attributes.get("value") ?? "",
        autofocus: attributes.has("autofocus"),
      });
    } else if (name !== undefined) {
      form.fields.push({ name, value: attributes.get("value") ?? "", type });
    }
  }
  for (const form of forms) {
    const own = buttons.filter((b) => b.form === form);
    const primary = own.find((b) => b.autofocus) ?? own[0];
    if (primary?.name) form.primary = { name: primary.name, value: primary.value };
  }
  return forms;
}

function parseLinks(html: string, base: URL): URL[] {
  const links: URL[] = [];
  for (const match of html.matchAll(TAG)) {
    if (match[1]!.toLowerCase() !== "a") continue;
    const href = parseAttributes(match[2] ?? "").get("href");
    if (href) links.push(new URL(href, base));
  }
  return links;
}

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith("#x")) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith("#")) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[lower] ?? "";
  });
}

/** The visible text of a page, shortened, for error messages. */
function summarize(html: string): string {
  const text = html
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return decodeEntities(text).slice(0, 500);
}
