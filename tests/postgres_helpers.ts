/**
 * A throwaway PostgreSQL cluster for tests: `initdb` in a fresh temporary
 * folder, `pg_ctl start` on a free loopback port, its Unix socket in that
 * folder too, so it never touches a system cluster, `/var/run/postgresql` or
 * a fixed port. When the tests run as root (CI does), the server runs as the
 * `postgres` OS user through `runuser` (PostgreSQL refuses to run as root).
 *
 * Every login uses SCRAM-SHA-256 with a random password: a superuser for the
 * harness, an owner role that owns the schema (migrations run as it) and an
 * application role that gets only the grants the migrations give it. With
 * `tls: true` the server also speaks TLS with a certificate for `localhost`
 * signed by a fresh test CA, and a second, unrelated CA is made for
 * "wrong CA" tests.
 *
 * One cluster per test file ({@link usePostgres}), one fresh database per
 * test ({@link TestPostgres.createDatabase}, a template copy). CI needs the
 * PostgreSQL 15 server binaries (Debian: `postgresql`); a test that needs
 * them fails, never skips, when they are missing.
 */
import postgres from "postgres";
import { freePort } from "./e2e_helpers.ts";

/** Options for {@link startPostgres}. */
export interface TestPostgresOptions {
  /** Serve TLS (`ssl = on`) with a test-CA certificate for `localhost`. Default false. */
  tls?: boolean;
  /**
   * Keep `fsync` and `synchronous_commit` on, for figures that mean something.
   * Default false: test clusters trade durability (which they never need) for speed.
   */
  durable?: boolean;
  /** `max_connections`. Default 60. */
  maxConnections?: number;
}

/** A login role with its password. */
export interface TestRole {
  readonly name: string;
  readonly password: string;
}

/** The TLS material of a cluster started with `tls: true`. */
export interface TestTLS {
  /** PEM file of the CA that signed the server certificate (for `sslrootcert`). */
  readonly caFile: string;
  /** PEM file of an unrelated CA: verification against it must fail. */
  readonly wrongCaFile: string;
  /** The only name in the server certificate (`127.0.0.1` is deliberately not in it). */
  readonly certificateHost: "localhost";
}

/** One database of the cluster, owned by the owner role, dropped with the cluster. */
export interface TestDatabase {
  readonly name: string;
  /** `postgres://<owner>:<password>@127.0.0.1:<port>/<name>` */
  readonly ownerUrl: string;
  /** `postgres://<app>:<password>@127.0.0.1:<port>/<name>` */
  readonly appUrl: string;
}

/** A running cluster owned by one test file. */
export interface TestPostgres extends AsyncDisposable {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** The cluster's superuser (the harness's own login). */
  readonly superuser: TestRole;
  /** Owns the test databases and their schema. */
  readonly owner: TestRole;
  /** The application's login: no privileges beyond what the migrations grant. */
  readonly app: TestRole;
  readonly tls: TestTLS | null;
  /** A superuser connection to the `postgres` database (one connection). */
  readonly admin: postgres.Sql;
  /** A URL for `role` on `database`, with optional query parameters (`sslmode`, …). */
  url(role: TestRole, database: string, params?: Record<string, string>): string;
  /**
   * Creates an empty database owned by the owner role, or a copy of `template`
   * (a database of this cluster with no open connection).
   */
  createDatabase(options?: { template?: string }): Promise<TestDatabase>;
  /** Creates a login role with a random password (dropped with the cluster). */
  createRole(prefix: string): Promise<TestRole>;
  /** The server log so far (for failure messages). */
  log(): Promise<string>;
  /** Stops the server (fast shutdown) and waits; {@link start} brings it back on the same port. */
  stop(): Promise<void>;
  /** Starts it again after {@link stop}. */
  start(): Promise<void>;
}

const decoder = new TextDecoder();

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: readonly string[], cwd?: string): Promise<RunResult> {
  const output = await new Deno.Command(cmd, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(cwd ? { cwd } : {}),
  }).output();
  return { code: output.code, stdout: decoder.decode(output.stdout).trim(), stderr: decoder.decode(output.stderr) };
}

async function mustRun(cmd: string, args: readonly string[], cwd?: string): Promise<string> {
  const result = await run(cmd, args, cwd);
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

const SEARCH_DIRS = ["/usr/lib/postgresql/15/bin"];

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * The folder holding `initdb`, `pg_ctl` and `postgres`: the first on PATH,
 * else Debian's `/usr/lib/postgresql/15/bin` (where `apt-get install
 * postgresql` puts them, off PATH). Absolute paths also survive `runuser`,
 * which may reset PATH.
 */
export async function postgresBinDir(): Promise<string> {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), ...SEARCH_DIRS];
  for (const dir of dirs) {
    if (await isFile(`${dir}/initdb`) && await isFile(`${dir}/pg_ctl`)) return await Deno.realPath(dir);
  }
  throw new Error(
    "initdb/pg_ctl not found on PATH nor in /usr/lib/postgresql/15/bin: install PostgreSQL 15 " +
      "(Debian: apt-get install postgresql) to run the PostgreSQL tests",
  );
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `postgres://user:password@127.0.0.1:port/db?params`, every part percent-encoded. */
function makeUrl(port: number, role: TestRole, database: string, params: Record<string, string> = {}): string {
  const url = new URL(`postgres://127.0.0.1:${port}/${encodeURIComponent(database)}`);
  url.username = encodeURIComponent(role.name);
  url.password = encodeURIComponent(role.password);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.href;
}

async function makeCertificates(dir: string): Promise<{ ca: string; wrongCa: string; cert: string; key: string }> {
  // Every argument is free of spaces, so each command reads as one line.
  const openssl = (command: string) => mustRun("openssl", command.trim().split(/\s+/));
  const newKey = "-nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256";
  for (const ca of ["test-ca", "wrong-ca"]) {
    await openssl(`req -x509 -new ${newKey} -keyout ${dir}/${ca}.key -out ${dir}/${ca}.crt -days 2
      -subj /CN=secure-api-${ca} -addext basicConstraints=critical,CA:TRUE
      -addext keyUsage=critical,keyCertSign,cRLSign`);
  }
  await openssl(`req -new ${newKey} -keyout ${dir}/server.key -out ${dir}/server.csr -subj /CN=localhost`);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\n" +
      "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(`x509 -req -in ${dir}/server.csr -CA ${dir}/test-ca.crt -CAkey ${dir}/test-ca.key
    -CAcreateserial -out ${dir}/server.crt -days 2 -extfile ${dir}/server.ext`);
  await Deno.chmod(`${dir}/server.key`, 0o600);
  return {
    ca: `${dir}/test-ca.crt`,
    wrongCa: `${dir}/wrong-ca.crt`,
    cert: `${dir}/server.crt`,
    key: `${dir}/server.key`,
  };
}

/**
 * Starts a new cluster and returns it once it accepts SCRAM logins from the
 * owner and application roles. `await using` stops it and deletes its folder.
 */
export async function startPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const { tls = false, durable = false, maxConnections = 60 } = options;
  const bin = await postgresBinDir();
  const asRoot = Deno.uid() === 0;
  // As root, the server (and everything it must read) belongs to the `postgres` OS user.
  const as = (cmd: string, args: readonly string[], cwd?: string) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", cmd, ...args], cwd) : run(cmd, args, cwd);

  const made =
    await (asRoot
      ? as("mktemp", ["-d", "/tmp/secure-api-pg.XXXXXXXX"], "/tmp")
      : run("mktemp", ["-d", "/tmp/secure-api-pg.XXXXXXXX"]));
  if (made.code !== 0) {
    throw new Error(`could not make the cluster folder${asRoot ? " as the postgres OS user" : ""}: ${made.stderr}`);
  }
  const root = made.stdout;
  const { uid, gid } = await Deno.stat(root);
  const own = async (path: string) => {
    if (asRoot) await Deno.chown(path, uid, gid);
  };
  const data = `${root}/data`;
  const socketDir = `${root}/socket`;
  const logFile = `${root}/server.log`;
  let running = false;
  let admin: postgres.Sql | null = null;

  const cleanUp = async () => {
    await admin?.end({ timeout: 1 }).catch(() => {});
    if (running) await as(`${bin}/pg_ctl`, ["stop", "-D", data, "-m", "immediate", "-w"], root);
    running = false;
    await Deno.remove(root, { recursive: true }).catch(() => {});
  };

  try {
    const superuser: TestRole = { name: "secure_api_test_super", password: randomSecret() };
    await Deno.mkdir(socketDir, { mode: 0o700 });
    await own(socketDir);
    const pwfile = `${root}/superuser.pw`;
    await Deno.writeTextFile(pwfile, `${superuser.password}\n`, { mode: 0o600 });
    await own(pwfile);
    const init = await as(`${bin}/initdb`, [
      "-D",
      data,
      "-U",
      superuser.name,
      `--pwfile=${pwfile}`,
      "--auth=scram-sha-256",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
    ], root);
    if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    await Deno.remove(pwfile);

    let tlsFiles: Awaited<ReturnType<typeof makeCertificates>> | null = null;
    if (tls) {
      const tlsDir = `${root}/tls`;
      await Deno.mkdir(tlsDir);
      tlsFiles = await makeCertificates(tlsDir);
      for await (const entry of Deno.readDir(tlsDir)) await own(`${tlsDir}/${entry.name}`);
      await own(tlsDir);
    }

    const settings = [
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${socketDir}'`,
      `max_connections = ${maxConnections}`,
      "shared_buffers = 32MB",
      "password_encryption = 'scram-sha-256'",
      "log_min_messages = warning",
      "log_min_error_statement = panic",
      ...(durable ? [] : ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]),
      ...(tlsFiles ? ["ssl = on", `ssl_cert_file = '${tlsFiles.cert}'`, `ssl_key_file = '${tlsFiles.key}'`] : []),
    ];
    await Deno.writeTextFile(`${data}/postgresql.conf`, `\n${settings.join("\n")}\n`, { append: true });

    // A free port can be taken between freePort() and the bind: try a few.
    let port = 0;
    for (let attempt = 1; !running; attempt++) {
      port = freePort();
      const started = await as(
        `${bin}/pg_ctl`,
        ["start", "-D", data, "-l", logFile, "-w", "-t", "60", "-o", `-p ${port}`],
        root,
      );
      if (started.code === 0) running = true;
      else if (attempt === 3) {
        const log = await Deno.readTextFile(logFile).catch(() => "");
        throw new Error(`pg_ctl start failed: ${started.stderr}\n${log}`);
      }
    }

    admin = postgres({
      host: "127.0.0.1",
      port,
      user: superuser.name,
      pass: superuser.password,
      database: "postgres",
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      onnotice: () => {},
      connection: { application_name: "secure-api-test-harness" },
    });
    const owner: TestRole = { name: "secure_api_owner", password: randomSecret() };
    const app: TestRole = { name: "secure_api_app", password: randomSecret() };
    for (const role of [owner, app]) {
      // CREATE ROLE takes no bind parameters; the names are constants and the passwords hex.
      // CREATE ROLE takes no bind parameters; constant names, hex passwords.
      await admin.unsafe(`CREATE ROLE ${role.name} LOGIN PASSWORD '${role.password}'`); // nosemgrep: sql-built-from-strings
    }

    let databases = 0;
    let roles = 0;
    const cluster: TestPostgres = {
      host: "127.0.0.1",
      port,
      superuser,
      owner,
      app,
      tls: tlsFiles ? { caFile: tlsFiles.ca, wrongCaFile: tlsFiles.wrongCa, certificateHost: "localhost" } : null,
      admin,
      url: (role, database, params) => makeUrl(port, role, database, params),
      async createDatabase({ template } = {}) {
        const name = `test_${++databases}`;
        await admin!`CREATE DATABASE ${admin!(name)} OWNER ${admin!(owner.name)} TEMPLATE ${
          admin!(template ?? "template0")
        } STRATEGY FILE_COPY`;
        return { name, ownerUrl: makeUrl(port, owner, name), appUrl: makeUrl(port, app, name) };
      },
      async createRole(prefix) {
        if (!/^[a-z][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`role prefix ${prefix} is not a plain name`);
        const role = { name: `${prefix}_${++roles}`, password: randomSecret() };
        // CREATE ROLE takes no bind parameters; the name is checked against ^[a-z][a-z0-9_]*$, the password is hex.
        await admin!.unsafe(`CREATE ROLE ${role.name} LOGIN PASSWORD '${role.password}'`); // nosemgrep: sql-built-from-strings
        return role;
      },
      log: () => Deno.readTextFile(logFile),
      async stop() {
        if (!running) return;
        const stopped = await as(`${bin}/pg_ctl`, ["stop", "-D", data, "-m", "fast", "-w"], root);
        if (stopped.code !== 0) throw new Error(`pg_ctl stop failed: ${stopped.stderr}`);
        running = false;
      },
      async start() {
        if (running) return;
        const started = await as(
          `${bin}/pg_ctl`,
          ["start", "-D", data, "-l", logFile, "-w", "-t", "60", "-o", `-p ${port}`],
          root,
        );
        if (started.code !== 0) throw new Error(`pg_ctl start failed: ${started.stderr}`);
        running = true;
      },
      [Symbol.asyncDispose]: cleanUp,
    };
    return cluster;
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/**
 * One cluster for the whole test file: started before the first test, stopped
 * and removed after the last. Returns an accessor for the tests to call.
 */
export function usePostgres(options: TestPostgresOptions = {}): () => TestPostgres {
  let cluster: TestPostgres | null = null;
  Deno.test.beforeAll(async () => {
    cluster = await startPostgres(options);
  });
  Deno.test.afterAll(async () => {
    await cluster?.[Symbol.asyncDispose]();
    cluster = null;
  });
  return () => {
    if (!cluster) throw new Error("the PostgreSQL cluster is not running (did beforeAll fail?)");
    return cluster;
  };
}
