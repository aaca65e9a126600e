/**
 * secure-api entry point: the only module with side effects at import.
 *
 * read config → logging → open database → migrate → wire dependencies →
 * bootstrap admin → TLS certificate → createApp → serveHTTPS (the connection
 * guard in front of Deno.serve) → graceful shutdown on SIGTERM/SIGINT.
 */
import { dispose, getLogger } from "@logtape/logtape";
import { createApp } from "./src/app.ts";
import { crashHandler } from "./src/crash.ts";
import { bootstrap, initDatabase } from "./src/bootstrap.ts";
import { type Config, CONFIG_VARIABLES, ConfigError, parseConfig } from "./src/config.ts";
import { resolveSecretFiles } from "./src/config_secrets.ts";
import { createDeps } from "./src/deps.ts";
import { ApiError } from "./src/errors.ts";
import { problemResponse } from "./src/middleware/error_handler.ts";
import { AUDIT_CATEGORY, colorWanted, configureLogging } from "./src/logging.ts";
import { type HTTPSService, ListenError, serveHTTPS } from "./src/server/serve_https.ts";
import { createRateLimitStore } from "./src/ratelimit/create_store.ts";
import { describeListenError, preflight } from "./src/startup/preflight.ts";
import { ensureDevCertificate } from "./src/tls/dev_cert.ts";
import { WorkerStrengthEstimator } from "./src/auth/strength_estimator.ts";

const stderr = (line: string) => Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));

// The sandbox grants only APP_* variables, so read them by name (Deno.env.toObject() would need all).
const env = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, Deno.env.get(name)]));
let config: Config;
try {
  config = parseConfig(await resolveSecretFiles(env));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  stderr(`secure-api: configuration error: ${error.message}`);
  Deno.exit(1);
}
// Before anything is created: one line for a mistake in the environment (src/startup/preflight.ts).
const problem = preflight(config);
if (problem !== null) {
  stderr(`secure-api: configuration error: ${problem}`);
  Deno.exit(1);
}

await configureLogging({
  level: config.logLevel,
  format: config.logFormat,
  color: colorWanted(),
  file: config.logFile,
});
const log = getLogger(["secure-api", "server"]);
const { store, applied } = await initDatabase(config.dbPath);
if (applied.length > 0) log.info("applied migrations {applied}", { applied });

const deps = createDeps(config, store, {
  logger: getLogger([...AUDIT_CATEGORY]),
  rateLimitStore: await createRateLimitStore(config, getLogger(["secure-api", "ratelimit"])),
  // The estimate costs up to ~100 ms of CPU for hostile input: off the event loop.
  strength: new WorkerStrengthEstimator(),
});
let bootstrapped: Awaited<ReturnType<typeof bootstrap>>;
try {
  bootstrapped = await bootstrap(deps);
} catch (error) {
  // A bootstrap password that breaks the password policy is a configuration error: one line, no stack.
  if (!(error instanceof ApiError)) throw error;
  stderr(`secure-api: configuration error: APP_ADMIN_PASSWORD: ${error.errors?.[0]?.message ?? error.message}`);
  await store.close();
  Deno.exit(1);
}
if (bootstrapped?.generatedPassword) {
  stderr(
    `secure-api: created admin user "${bootstrapped.username}" with the one-time password: ` +
      bootstrapped.generatedPassword,
  );
  stderr("secure-api: it must be changed at first use (PUT /auth/password); it is not shown again.");
} else if (bootstrapped) {
  stderr(`secure-api: created admin user "${bootstrapped.username}" with the password of APP_ADMIN_PASSWORD`);
}

const tls = config.tlsCertFile !== null && config.tlsKeyFile !== null
  ? { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile }
  : await ensureDevCertificate("certs");
const app = createApp(deps);
let server: HTTPSService;
try {
  server = await serveHTTPS({
    config,
    cert: await Deno.readTextFile(tls.certFile),
    key: await Deno.readTextFile(tls.keyFile),
    probePath: tls.certFile,
    handler: app.fetch,
    // Only reached if the app itself fails to produce a response (its own onError handles the rest);
    // still a problem+json body (RFC 9457) whose request id matches the log line.
    onError: (error) => {
      const requestId = crypto.randomUUID();
      log.error("unhandled server error ({requestId}): {error}", { requestId, error });
      return problemResponse(new ApiError("internal", "An unexpected error occurred."), "/", requestId);
    },
    log,
    audit: deps.audit,
    onFatal: (error) => void crash(error),
  });
} catch (error) {
  // Too few file descriptors for the connection caps in production, or an address taken (or not allowed) after the
  // preflight check, for the public port or the one behind the guard: one line, like any configuration error.
  const line = error instanceof ConfigError
    ? error.message
    : error instanceof ListenError
    ? describeListenError(error.cause, error.address)
    : null;
  if (line === null) throw error;
  stderr(`secure-api: configuration error: ${line}`);
  await store.close();
  Deno.exit(1);
}
log.info("listening on {url}", { url: server.url });

let stopping = false;

/**
 * Graceful stop: close the listener at once (new connections are refused),
 * let the requests in flight finish until the deadline, record
 * `sys_shutdown`, close the rate-limit store and the database (the last
 * connection's close checkpoints the WAL into app.db and removes
 * app.db-wal), flush the log sinks, exit 0 — or 1 when the deadline passed.
 */
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("{signal}: stopping; in-flight requests have {ms} ms", { signal, ms: config.shutdownTimeoutMs });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), config.shutdownTimeoutMs);
  });
  const outcome = await Promise.race([server.shutdown().then(() => "drained" as const), deadline]);
  clearTimeout(timer);
  let code = outcome === "drained" ? 0 : 1;
  try {
    await deps.audit.append({ event: "sys_shutdown", client: "local", detail: { signal, outcome } });
    await deps.audit.logHead();
  } catch (error) {
    code = 1;
    log.error("could not record sys_shutdown: {error}", { error });
  }
  try {
    await deps.rateLimitStore.close();
  } catch (error) {
    log.warning("the rate-limit store did not close cleanly: {error}", { error });
  }
  await store.close();
  await dispose();
  Deno.exit(code);
}

const crashNow = crashHandler({
  audit: deps.audit,
  log,
  flush: async () => {
    try {
      // The raw close: a crash must not wait for a transaction that may never end.
      store.database.close();
    } catch { /* the database may be what failed */ }
    await dispose();
  },
  exit: Deno.exit,
});

/** Last resort for an error nothing handled: record it, flush, exit 70. During a shutdown, only log it. */
function crash(error: unknown): Promise<void> | void {
  if (stopping) {
    // A request cut off by the shutdown deadline may fail on the closed database; shutdown() exits.
    log.error("error while stopping: {error}", { error });
    return;
  }
  stopping = true;
  return crashNow(error);
}

if (config.watch) {
  // Under `deno run --watch`, Deno 2.9 hands SIGINT/SIGTERM (and a synthetic SIGTERM on each change) to the
  // script's listeners when it has any, and then neither restarts nor exits on its own: with no listener it
  // restarts on a change and exits on a signal at once (README "Development").
  log.info("watch mode: signals are left to the watcher (restart on change, exit on signal; no graceful shutdown)");
} else {
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => void shutdown(signal));
}
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  void crash(event.reason);
});
globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  void crash(event.error);
});

// Recorded once the signal and crash handlers are in place: a SIGTERM that arrives meanwhile is a clean stop.
await deps.audit.append({
  event: "sys_startup",
  client: "local",
  detail: {
    env: config.env,
    address: `${config.host}:${config.port}`,
    pbkdf2Iterations: config.pbkdf2Iterations,
    rateLimitStore: config.rateLimitStore.kind,
    devCertificate: config.tlsCertFile === null,
    // The connection guard's total cap; null when the guard is off (a proxy in front bounds connections).
    maxConnections: config.connectionGuard ? server.plan.maxTotal : null,
  },
});
await deps.audit.logHead();
