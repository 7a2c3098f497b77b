/**
 * A real browser for the tests: Debian's chromium, headless, driven over the Chrome DevTools
 * Protocol with Deno's own WebSocket (no npm package, no browser download).
 *
 * `launchChromium()` returns undefined when no chromium is installed and the run is not CI, so a
 * developer without a browser sees the test skip with the reason; under CI (`CI=true`, set by
 * `.ci/run`, which installs chromium) a missing browser fails the test.
 *
 * @module
 */

/** Where chromium may be installed, first match wins; `CHROMIUM` overrides. */
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** A cookie as the browser holds it (CDP `Network.Cookie`). */
export interface BrowserCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  expires: number;
  httpOnly: boolean;
  secure: boolean;
  session: boolean;
  sameSite?: "Strict" | "Lax" | "None";
}

/** One tab. Every method rejects after `timeoutMs` (default 15 s) rather than hang. */
export interface BrowserPage {
  /** Navigates and waits for the load event of the final document (after redirects). */
  goto(url: string): Promise<void>;
  /** Evaluates `expression` in the page and returns its JSON value (awaiting promises). */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Runs `action` (an expression that navigates, e.g. a form submit) and waits for the load. */
  navigateBy(expression: string): Promise<void>;
  /** Polls `expression` until it is truthy. */
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
  /** The current document's URL. */
  url(): Promise<string>;
  /** The current document's `document.body.innerText`. */
  text(): Promise<string>;
  /** Every cookie the browser holds for `urls` (default: the current URL). */
  cookies(urls?: string[]): Promise<BrowserCookie[]>;
  /** Reloads and waits for the load event. */
  reload(): Promise<void>;
}

/** A running headless chromium; dispose it with `await using`. */
export interface Chromium extends AsyncDisposable {
  /** The browser's version string (CDP `Browser.getVersion`). */
  readonly version: string;
  /** Opens a new tab in a fresh browser context (its own cookie jar). */
  newPage(): Promise<BrowserPage>;
  /** Closes the browser and waits for its process to exit. */
  close(): Promise<void>;
}

/** The chromium executable, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  const override = Deno.env.get("CHROMIUM");
  for (const path of override ? [override] : CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there; try the next one
    }
  }
  return undefined;
}

/** Whether this run is CI (`CI` set to anything but `false`/`0`/empty). */
export function isCi(): boolean {
  const value = Deno.env.get("CI");
  return value !== undefined && value !== "" && value !== "false" && value !== "0";
}

/**
 * Starts headless chromium. Returns undefined (after printing why) when chromium is missing
 * outside CI; throws when it is missing in CI.
 */
export async function launchChromium(): Promise<Chromium | undefined> {
  const path = chromiumPath();
  if (path === undefined) {
    const why = "chromium is not installed (apt-get install chromium; .ci/run does it in CI)";
    if (isCi()) throw new Error(`browser test cannot run: ${why}`);
    console.warn(`skipping browser test: ${why}`);
    return undefined;
  }
  const profile = await Deno.makeTempDir({ prefix: "authlane-chromium-" });
  const child = new Deno.Command(path, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrDone = Promise.withResolvers<void>();
  let endpoint: string;
  try {
    endpoint = await readEndpoint(child.stderr, stderrDone);
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    await stderrDone.promise;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw error;
  }
  const cdp = await Cdp.connect(endpoint);
  const { product } = await cdp.send<{ product: string }>("Browser.getVersion");
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await cdp.send("Browser.close").catch(() => {});
    cdp.close();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await child.status;
    clearTimeout(timer);
    await stderrDone.promise;
    await cdp.closed;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  return {
    version: product,
    newPage: () => openPage(cdp),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Reads chromium's stderr until it prints its DevTools WebSocket URL; keeps draining after. */
async function readEndpoint(
  stderr: ReadableStream<Uint8Array>,
  done: PromiseWithResolvers<void>,
): Promise<string> {
  const lines = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const timeout = Promise.withResolvers<never>();
  const timer = setTimeout(
    () => timeout.reject(new Error(`chromium did not start in 20 s:\n${buffer.slice(-2000)}`)),
    20_000,
  );
  try {
    while (true) {
      const { value, done: ended } = await Promise.race([lines.read(), timeout.promise]);
      if (ended) throw new Error(`chromium exited before it listened:\n${buffer.slice(-2000)}`);
      buffer += value;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(buffer);
      if (match) {
        // Keep draining so the pipe never fills; resolve when chromium closes stderr.
        (async () => {
          try {
            while (!(await lines.read()).done) { /* discard */ }
          } catch { /* closed */ }
          done.resolve();
        })();
        return match[1]!;
      }
    }
  } catch (error) {
    lines.cancel().catch(() => {}).finally(() => done.resolve());
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

type Listener = (params: Record<string, unknown>, sessionId?: string) => void;

/** The DevTools protocol over one WebSocket, with flattened target sessions. */
class Cdp {
  #socket: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #listeners = new Set<{ method: string; sessionId?: string; fn: Listener }>();
  readonly closed: Promise<void>;

  private constructor(socket: WebSocket, closed: Promise<void>) {
    this.#socket = socket;
    this.closed = closed;
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      if (typeof message.id === "number") {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) pending?.reject(new Error(`CDP: ${message.error.message}`));
        else pending?.resolve(message.result);
        return;
      }
      for (const listener of [...this.#listeners]) {
        if (listener.method === message.method && listener.sessionId === message.sessionId) {
          listener.fn(message.params ?? {}, message.sessionId);
        }
      }
    };
  }

  static async connect(url: string): Promise<Cdp> {
    const socket = new WebSocket(url);
    const closed = new Promise<void>((resolve) =>
      socket.addEventListener("close", () => resolve())
    );
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    const cdp = new Cdp(socket, closed);
    socket.addEventListener("close", () => {
      for (const pending of cdp.#pending.values()) pending.reject(new Error("CDP socket closed"));
      cdp.#pending.clear();
    });
    return cdp;
  }

  send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<T> {
    const id = this.#next++;
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
    return promise;
  }

  /** Resolves with the params of the next `method` event on `sessionId`. */
  once(method: string, sessionId?: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const listener = {
        method,
        sessionId,
        fn: (params: Record<string, unknown>) => {
          this.#listeners.delete(listener);
          resolve(params);
        },
      };
      this.#listeners.add(listener);
    });
  }

  close(): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.close();
  }
}

async function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`browser: ${what} took over ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function openPage(cdp: Cdp, timeoutMs = 15_000): Promise<BrowserPage> {
  const { browserContextId } = await cdp.send<{ browserContextId: string }>(
    "Target.createBrowserContext",
  );
  const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", {
    url: "about:blank",
    browserContextId,
  });
  const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", {
    targetId,
    flatten: true,
  });
  await cdp.send("Page.enable", {}, sessionId);
  await cdp.send("Network.enable", {}, sessionId);

  const evaluate = async <T>(expression: string): Promise<T> => {
    const result = await withTimeout(
      "evaluate",
      cdp.send<{
        result: { value?: unknown };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      }>("Runtime.evaluate", {
        expression,
        awaitPromise: true,
        returnByValue: true,
      }, sessionId),
      timeoutMs,
    );
    if (result.exceptionDetails) {
      const detail = result.exceptionDetails.exception?.description ??
        result.exceptionDetails.text;
      throw new Error(`browser: ${expression.slice(0, 80)} threw ${detail}`);
    }
    return result.result.value as T;
  };
  const navigate = async (what: string, start: () => Promise<unknown>) => {
    const loaded = cdp.once("Page.loadEventFired", sessionId);
    await start();
    await withTimeout(what, loaded, timeoutMs);
  };

  return {
    async goto(url) {
      await navigate(`goto ${url}`, async () => {
        const result = await cdp.send<{ errorText?: string }>("Page.navigate", { url }, sessionId);
        if (result.errorText) throw new Error(`browser: ${url}: ${result.errorText}`);
      });
    },
    evaluate,
    async navigateBy(expression) {
      await navigate(expression.slice(0, 60), () => evaluate(`void (${expression})`));
    },
    async waitFor(expression, ms = timeoutMs) {
      const deadline = Date.now() + ms;
      while (!(await evaluate<boolean>(`Boolean(${expression})`))) {
        if (Date.now() > deadline) throw new Error(`browser: waited ${ms} ms for ${expression}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    url: () => evaluate<string>("location.href"),
    text: () => evaluate<string>("document.body ? document.body.innerText : ''"),
    async cookies(urls) {
      const list = urls ?? [await evaluate<string>("location.href")];
      const { cookies } = await cdp.send<{ cookies: BrowserCookie[] }>(
        "Network.getCookies",
        { urls: list },
        sessionId,
      );
      return cookies;
    },
    async reload() {
      await navigate("reload", () => cdp.send("Page.reload", {}, sessionId));
    },
  };
}
