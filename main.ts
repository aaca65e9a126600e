/**
 * secure-api entry point: the only module with side effects at import.
 *
 * read config → logging → open database → migrate → wire dependencies →
 * bootstrap admin → TLS certificate → createApp → Deno.serve (HTTPS) →
 * graceful shutdown on SIGTERM/SIGINT.
 */
import { dispose, getLogger } from "@logtape/logtape";
import { createApp } from "./src/app.ts";
import { crashHandler } from "./src/crash.ts";
import { bootstrap, initDatabase } from "./src/bootstrap.ts";
import { type Config, CONFIG_VARIABLES, ConfigError, parseConfig } from "./src/config.ts";
import { createDeps } from "./src/deps.ts";
import { AUDIT_CATEGORY, configureLogging } from "./src/logging.ts";
import { createRateLimitStore } from "./src/ratelimit/create_store.ts";
import { ensureDevCertificate } from "./src/tls/dev_cert.ts";

const stderr = (line: string) => Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));

// The sandbox grants only APP_* variables, so read them by name (Deno.env.toObject() would need all).
const env = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, Deno.env.get(name)]));
let config: Config;
try {
  config = parseConfig(env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  stderr(`secure-api: configuration error: ${error.message}`);
  Deno.exit(1);
}

await configureLogging({ level: config.logLevel, format: config.logFormat, file: config.logFile });
const log = getLogger(["secure-api", "server"]);
const { db, applied } = await initDatabase(config.dbPath);
if (applied.length > 0) log.info("applied migrations {applied}", { applied });

const deps = createDeps(config, db, {
  logger: getLogger([...AUDIT_CATEGORY]),
  rateLimitStore: await createRateLimitStore(config, getLogger(["secure-api", "ratelimit"])),
});
const generated = await bootstrap(deps);
if (generated !== null) {
  stderr(`secure-api: created admin user "${config.adminUsername}" with the one-time password: ${generated}`);
  stderr("secure-api: store it now; it is not shown again.");
}

const tls = config.tls ?? await ensureDevCertificate("certs");
const app = createApp(deps);
const server = Deno.serve({
  hostname: config.host,
  port: config.port,
  cert: await Deno.readTextFile(tls.certFile),
  key: await Deno.readTextFile(tls.keyFile),
  onListen: ({ hostname, port }) => log.info("listening on {url}", { url: `https://${hostname}:${port}` }),
  onError: (error) => {
    log.error("unhandled server error: {error}", { error });
    return new Response(null, { status: 500 });
  },
}, app.fetch);

deps.audit.append({
  event: "sys_startup",
  client: "local",
  detail: {
    env: config.env,
    address: `${config.host}:${config.port}`,
    pbkdf2Iterations: config.pbkdf2Iterations,
    rateLimitStore: config.rateLimitStore.kind,
    devCertificate: config.tls === null,
  },
});
deps.audit.logHead();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("{signal}: stopping; in-flight requests have {ms} ms", { signal, ms: config.shutdownTimeoutMs });
  const deadline = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), config.shutdownTimeoutMs));
  // shutdown() stops accepting at once and resolves when in-flight requests have finished.
  const outcome = await Promise.race([server.shutdown().then(() => "drained" as const), deadline]);
  deps.audit.append({ event: "sys_shutdown", client: "local", detail: { signal, outcome } });
  deps.audit.logHead();
  await deps.rateLimitStore.close();
  db.close();
  await dispose();
  Deno.exit(outcome === "drained" ? 0 : 1);
}

const crash = crashHandler({ audit: deps.audit, log, flush: dispose, exit: Deno.exit });

for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => void shutdown(signal));
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  void crash(event.reason);
});
globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  void crash(event.error);
});
