/**
 * `deno task admin`: user administration on the database file, for the
 * operator — the first admin's lost password, an account to lock now, a
 * user to create before the API is reachable. See {@link USAGE}.
 *
 * It runs under its own permission set (`-P=admin` in `deno.json`): read
 * `data/` and `sql/`, write `data/`, environment `APP_*`; no network, no
 * subprocesses, no `certs/`. It goes through the same accounts service as
 * the API, so it applies the same password policy and guard rails and writes
 * the same audit events, with actor `null` (the operator), client `cli` and
 * method `CLI`.
 *
 * The operator holds the database file, so the "grant only what you hold"
 * rules do not apply to them; the last-admin rule does, with no override:
 * the tool will not leave the system without an administrator.
 *
 * A running server sees every change on its next request: disabled users and
 * tokens are read from the database on each request, and a cached password
 * is checked against the stored hash (see `CredentialCache.isCurrent`).
 *
 * {@link runAdmin} is pure (arguments, environment and streams are passed
 * in) so tests run it in-process; the `import.meta.main` block at the end is
 * the only code that touches the real process.
 */
import type { AuditContext } from "../audit/events.ts";
import { ADMIN_ROLE, DEFAULT_ROLE } from "../domain/permissions.ts";
import { initDatabase } from "../bootstrap.ts";
import { type Config, CONFIG_VARIABLES, ConfigError, parseConfig } from "../config.ts";
import { resolveSecretFiles } from "../config_secrets.ts";
import { MigrationError } from "../db/migrations.ts";
import type { DataStore } from "../db/store.ts";
import { type AppDeps, createDeps, type DepsOverrides } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { generatePassword, type PublicUser } from "../services/accounts.ts";
import { isoNow } from "../util/clock.ts";
import { type AdminCommand, parseAdminArgs, USAGE, UsageError } from "./admin_args.ts";

/** Exit statuses of `deno task admin`. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Refused: no such user, a conflict (last admin, name taken), invalid input. */
  refused: 1,
  /** The command line is wrong. */
  usage: 2,
  /** The environment is wrong: configuration, permissions, the database file. */
  environment: 3,
  /** A bug: anything else (EX_SOFTWARE). */
  internal: 70,
} as const;

/** The process around {@link runAdmin}; tests pass fakes. */
export interface AdminIO {
  /** The `APP_*` variables (others are ignored). */
  env: Readonly<Record<string, string | undefined>>;
  /** Writes to standard output (results, generated passwords). */
  stdout(text: string): void;
  /** Writes to standard error (errors, warnings, notes). */
  stderr(text: string): void;
  /** All of standard input; read only for `--password-stdin`. */
  readStdin(): Promise<string>;
  /** Dependency overrides (clock, KDF) for tests. Default none. */
  overrides?: DepsOverrides;
}

/** The environment problem behind an error, or null when it is something else. */
function environmentProblem(error: unknown): string | null {
  if (error instanceof ConfigError) return `configuration error: ${error.message}`;
  if (error instanceof MigrationError) return `database migration failed: ${error.message}`;
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return `not permitted: ${error.message}. The admin permission set allows reading data/ and sql/, ` +
      "writing data/ and reading APP_* variables: keep APP_DB inside data/.";
  }
  return null;
}

/** How the CLI names the fields a service reports (the API's body fields). */
const FIELD_NAMES: Readonly<Record<string, string>> = { roles: "role" };

/**
 * A refusal in the CLI's own words: a validation failure is its field
 * errors (`role: unknown role(s): superuser; the roles are …`), not the
 * API's "The request is not valid; see errors.", which points at a response
 * body the operator never sees.
 */
export function refusal(error: ApiError, knownRoles: readonly string[] = []): string {
  const fields = error.errors ?? [];
  const lines = error.kind === "validation-failed" && fields.length > 0
    ? fields.map((field) => {
      const name = FIELD_NAMES[field.path] ?? field.path;
      const hint = field.path === "roles" && knownRoles.length > 0 ? `; the roles are: ${knownRoles.join(", ")}` : "";
      return `${name}: ${field.message}${hint}`;
    })
    : [error.message, ...fields.map((field) => `  ${FIELD_NAMES[field.path] ?? field.path}: ${field.message}`)];
  if (error.kind === "conflict" && /last active admin/.test(error.message)) {
    lines.push("  Create or enable another admin first; the operator cannot override this.");
  }
  return lines.join("\n");
}

/**
 * Runs one `deno task admin` command line and returns the exit status.
 * Never throws and never exits the process.
 */
export async function runAdmin(args: readonly string[], io: AdminIO): Promise<number> {
  const err = (line: string) => io.stderr(`admin: ${line}\n`);
  let command: AdminCommand;
  try {
    command = parseAdminArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(error.message);
    io.stderr(`Run "deno task admin help" for usage.\n`);
    return EXIT.usage;
  }
  if (command.name === "help") {
    io.stdout(`${USAGE}\n`);
    return EXIT.ok;
  }

  let config: Config;
  let store: DataStore;
  try {
    config = parseConfig(
      await resolveSecretFiles(Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, io.env[name]]))),
    );
    const opened = await initDatabase(config.dbPath);
    store = opened.store;
    if (opened.applied.length > 0) err(`applied ${opened.applied.join(", ")} to ${config.dbPath}`);
  } catch (error) {
    const problem = environmentProblem(error);
    err(problem ?? `cannot open the database: ${(error as Error).message}`);
    return EXIT.environment;
  }

  let knownRoles: string[] = [];
  try {
    const deps = createDeps(config, store, io.overrides ?? {});
    await store.transaction((tx) => tx.roles.syncCatalogue(isoNow(deps.clock)), { exclusive: true });
    knownRoles = (await deps.services.roles.list()).map((role) => role.name);
    const status = await execute(command, deps, io);
    if (command.name !== "list" && await deps.services.accounts.activeAdmins() === 0) {
      err(`warning: no active admin exists; create one with "create-user <name> --role ${ADMIN_ROLE}".`);
    }
    return status;
  } catch (error) {
    if (error instanceof ApiError && error.kind !== "internal") {
      err(refusal(error, knownRoles));
      return EXIT.refused;
    }
    const problem = environmentProblem(error);
    if (problem) {
      err(problem);
      return EXIT.environment;
    }
    err(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.internal;
  } finally {
    await store.close();
  }
}

/** The password to set: from standard input, or generated (and then printed). */
async function choosePassword(
  passwordStdin: boolean,
  io: AdminIO,
): Promise<{ password: string; generated: boolean }> {
  if (!passwordStdin) return { password: generatePassword(), generated: true };
  // Remove the one line break `echo` or a here-string adds; nothing else: a password is used exactly as given (NIST SP 800-63B 3.1.1.2).
  const password = (await io.readStdin()).replace(/\r?\n$/, "");
  if (password === "") {
    throw new ApiError("validation-failed", "No password was given on standard input.", {
      errors: [{ path: "password", message: "none was given on standard input" }],
    });
  }
  return { password, generated: false };
}

function findUser(deps: AppDeps, username: string): Promise<PublicUser> {
  return deps.services.accounts.findByUsername(username);
}

function describe(user: PublicUser): string {
  return `"${user.username}" (id ${user.id}, roles: ${user.roles.join(", ") || "none"})`;
}

async function execute(command: Exclude<AdminCommand, { name: "help" }>, deps: AppDeps, io: AdminIO) {
  const out = (line: string) => io.stdout(`${line}\n`);
  const ctx: AuditContext = {
    actor: null,
    client: "cli",
    method: "CLI",
    path: `admin ${command.name}`,
    requestId: crypto.randomUUID(),
  };
  const { accounts } = deps.services;
  switch (command.name) {
    case "list": {
      const users = await listUsers(deps);
      out(command.json ? JSON.stringify(users, null, 2) : table(users));
      return EXIT.ok;
    }
    case "create-user": {
      const roles = command.roles.length > 0 ? command.roles : [DEFAULT_ROLE];
      const { password, generated } = await choosePassword(command.passwordStdin, io);
      // The operator knows this password: the user must replace it at first use (ASVS 5.0 6.4.1).
      const user = await accounts.create(command.username, password, ctx, roles, { mustChangePassword: true });
      out(`created user ${describe(user)}; they must change the password at first use`);
      if (generated) announcePassword(password, io);
      return EXIT.ok;
    }
    case "reset-password": {
      const existing = await findUser(deps, command.username);
      const { password, generated } = await choosePassword(command.passwordStdin, io);
      const user = await accounts.resetPassword(existing.username, password, ctx);
      out(
        `reset the password of ${describe(user)}; their tokens and cached logins are ended, ` +
          "and they must change the password at first use",
      );
      if (generated) announcePassword(password, io);
      return EXIT.ok;
    }
    case "disable": {
      const user = await accounts.setDisabled(null, (await findUser(deps, command.username)).id, true, ctx);
      out(`disabled ${describe(user)}; their tokens and cached logins are ended`);
      return EXIT.ok;
    }
    case "enable": {
      const user = await accounts.setDisabled(null, (await findUser(deps, command.username)).id, false, ctx);
      out(`enabled ${describe(user)}; tokens ended earlier stay ended`);
      return EXIT.ok;
    }
    case "set-roles": {
      const user = await accounts.setRoles(null, (await findUser(deps, command.username)).id, command.roles, ctx);
      out(`set the roles of ${describe(user)}; effective on their next request`);
      return EXIT.ok;
    }
    case "delete-user": {
      const existing = await findUser(deps, command.username);
      await accounts.delete(null, existing.id, ctx);
      out(`deleted ${describe(existing)}; their tokens and grants are gone, their products stay unowned`);
      return EXIT.ok;
    }
  }
}

function announcePassword(password: string, io: AdminIO): void {
  io.stdout(`password: ${password}\n`);
  io.stderr("admin: this password is shown once; store it now.\n");
}

async function listUsers(deps: AppDeps): Promise<PublicUser[]> {
  const all: PublicUser[] = [];
  for (let after = 0;;) {
    const page = await deps.services.accounts.list(after, 500);
    all.push(...page);
    if (page.length < 500) return all;
    after = page[page.length - 1]!.id;
  }
}

/** A plain-text table. Usernames and role names are restricted to safe characters, so no escaping is needed. */
function table(users: readonly PublicUser[]): string {
  const rows = [
    ["ID", "USERNAME", "STATUS", "ROLES", "CREATED"],
    ...users.map((u) => [
      String(u.id),
      u.username,
      u.disabled ? "disabled" : "active",
      u.roles.join(",") || "-",
      u.createdAt,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  if (users.length === 0) lines.push("(no users)");
  return lines.join("\n");
}

function writeAll(file: { writeSync(bytes: Uint8Array): number }, text: string): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

if (import.meta.main) {
  const stderr = (text: string) => writeAll(Deno.stderr, text);
  let env: Record<string, string | undefined>;
  try {
    // Read by name: the permission set grants APP_* only, so Deno.env.toObject() would be refused.
    env = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, Deno.env.get(name)]));
  } catch (error) {
    stderr(`admin: ${environmentProblem(error) ?? String(error)}\n`);
    Deno.exit(EXIT.environment);
  }
  Deno.exit(
    await runAdmin(Deno.args, {
      env,
      stdout: (text) => writeAll(Deno.stdout, text),
      stderr,
      readStdin: () => new Response(Deno.stdin.readable).text(),
    }),
  );
}
