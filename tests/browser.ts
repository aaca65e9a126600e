/**
 * A real headless browser for tests: Debian's `chromium`, driven over the
 * Chrome DevTools Protocol from Deno's own WebSocket — no npm driver, no
 * browser download. {@link launchBrowser} starts it with a throwaway profile;
 * {@link BrowserPage} navigates, evaluates script in the page and records
 * what a person would see in the console: messages, uncaught exceptions and
 * Content-Security-Policy violations (reported by Chromium both as console
 * errors and as DevTools "issues").
 *
 * A test that needs it fails — never skips — when `chromium` is missing.
 */

/** One thing the page reported. */
export interface ConsoleEntry {
  readonly kind: "console" | "exception" | "log" | "issue";
  readonly level: string;
  readonly text: string;
}

/** A page in the browser. */
export interface BrowserPage {
  /** Everything reported so far. */
  readonly console: ConsoleEntry[];
  /** Responses seen: URL and status. */
  readonly responses: { url: string; status: number }[];
  /** Loads `url` and waits for its load event. */
  navigate(url: string): Promise<void>;
  /** Evaluates `expression` in the page (awaiting a promise) and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy; returns its value. */
  waitFor<T>(expression: string, timeoutMs?: number): Promise<T>;
}

/** A running browser; `await using browser = await launchBrowser()`. */
export interface Browser extends AsyncDisposable {
  newPage(): Promise<BrowserPage>;
}

/** Options for {@link launchBrowser}. */
export interface LaunchOptions {
  /** The executable. Default `chromium` on PATH. */
  executable?: string;
  /** Accept any certificate (only for a test's self-signed development certificate). Default false. */
  ignoreCertificateErrors?: boolean;
  /** How long to wait for the browser to start. Default 60 s. */
  timeoutMs?: number;
}

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: unknown;
  error?: { message: string };
};

/** Starts headless Chromium with a fresh profile. */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const { executable = "chromium", ignoreCertificateErrors = false, timeoutMs = 60_000 } = options;
  const profile = await Deno.makeTempDir({ prefix: "secure-api-chromium-" });
  const args = [
    "--headless=new",
    "--no-sandbox", // CI runs as root, where Chromium's own sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--remote-debugging-port=0",
    `--user-data-dir=${profile}`,
    ...(ignoreCertificateErrors ? ["--ignore-certificate-errors"] : []),
    "about:blank",
  ];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(executable, { args, stdin: "null", stdout: "null", stderr: "piped" }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`${executable} is not on PATH: install it (Debian: apt-get install chromium) to run this test`);
    }
    throw error;
  }
  const endpoint = await devtoolsEndpoint(child.stderr, timeoutMs).catch(async (error) => {
    child.kill("SIGKILL");
    await child.status;
    throw error;
  });
  const socket = new WebSocket(endpoint);
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`cannot connect to ${endpoint}`));
  });

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, (message: Message) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data as string) as Message;
    if (message.id !== undefined) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result);
    } else if (message.sessionId) listeners.get(message.sessionId)?.(message);
  };
  const send = <T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> => {
    const id = nextId++;
    socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  };

  return {
    async newPage() {
      const { targetId } = await send<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await send<{ sessionId: string }>("Target.attachToTarget", { targetId, flatten: true });
      const consoleEntries: ConsoleEntry[] = [];
      const responses: { url: string; status: number }[] = [];
      let loaded: (() => void) | null = null;
      listeners.set(sessionId, ({ method, params = {} }) => {
        if (method === "Runtime.consoleAPICalled") {
          const args = (params.args as { value?: unknown; description?: string }[]) ?? [];
          consoleEntries.push({
            kind: "console",
            level: String(params.type),
            text: args.map((a) => a.value ?? a.description ?? "").join(" "),
          });
        } else if (method === "Runtime.exceptionThrown") {
          const details = params.exceptionDetails as { text: string; exception?: { description?: string } };
          consoleEntries.push({
            kind: "exception",
            level: "error",
            text: details.exception?.description ?? details.text,
          });
        } else if (method === "Log.entryAdded") {
          const entry = params.entry as { level: string; text: string; source: string };
          consoleEntries.push({ kind: "log", level: entry.level, text: `${entry.source}: ${entry.text}` });
        } else if (method === "Audits.issueAdded") {
          const issue = params.issue as { code: string; details: unknown };
          consoleEntries.push({
            kind: "issue",
            level: "issue",
            text: `${issue.code}: ${JSON.stringify(issue.details)}`,
          });
        } else if (method === "Network.responseReceived") {
          const response = params.response as { url: string; status: number };
          responses.push({ url: response.url, status: response.status });
        } else if (method === "Page.loadEventFired") {
          loaded?.();
        }
      });
      for (const domain of ["Runtime", "Log", "Network", "Page", "Audits"]) {
        await send(`${domain}.enable`, {}, sessionId);
      }

      const evaluate = async <T>(expression: string): Promise<T> => {
        const result = await send<{ result: { value: T }; exceptionDetails?: { text: string } }>("Runtime.evaluate", {
          expression,
          awaitPromise: true,
          returnByValue: true,
        }, sessionId);
        if (result.exceptionDetails) throw new Error(`${expression}: ${result.exceptionDetails.text}`);
        return result.result.value;
      };
      return {
        console: consoleEntries,
        responses,
        async navigate(url) {
          const done = new Promise<void>((resolve) => loaded = resolve);
          await send("Page.navigate", { url }, sessionId);
          await withTimeout(done, timeoutMs, `loading ${url}`);
        },
        evaluate,
        async waitFor<T>(expression: string, waitMs = timeoutMs): Promise<T> {
          const until = Date.now() + waitMs;
          for (;;) {
            const value = await evaluate<T>(expression);
            if (value) return value;
            if (Date.now() > until) throw new Error(`timed out after ${waitMs} ms waiting for ${expression}`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        },
      };
    },
    async [Symbol.asyncDispose]() {
      try {
        await send("Browser.close").catch(() => {});
        socket.close();
      } finally {
        const exited = await withTimeout(child.status, 10_000, "chromium to exit").catch(() => null);
        if (exited === null) {
          child.kill("SIGKILL");
          await child.status;
        }
        await Deno.remove(profile, { recursive: true }).catch(() => {});
      }
    },
  };
}

/** Reads Chromium's stderr until it prints its DevTools WebSocket address; keeps draining it afterwards. */
async function devtoolsEndpoint(stderr: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string> {
  const lines = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const found = (async () => {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`chromium exited before listening:\n${buffer}`);
      buffer += value;
      const match = buffer.match(/DevTools listening on (ws:\/\/\S+)/);
      if (match) {
        // Keep reading so a full pipe never blocks the browser.
        (async () => {
          while (!(await lines.read()).done) { /* discard */ }
        })().catch(() => {});
        return match[1]!;
      }
    }
  })();
  return await withTimeout(found, timeoutMs, "chromium to start");
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
