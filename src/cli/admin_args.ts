/**
 * Command-line parsing for `deno task admin`. Strict: an unknown
 * subcommand, flag or extra argument is a usage error (exit 2), never
 * guessed at, because an administration tool that "does what you probably
 * meant" to an account is worse than one that refuses.
 */

/** A parsed `deno task admin` command line. */
export type AdminCommand =
  | { readonly name: "help" }
  | {
    readonly name: "create-user";
    readonly username: string;
    readonly roles: readonly string[];
    readonly passwordStdin: boolean;
  }
  | { readonly name: "reset-password"; readonly username: string; readonly passwordStdin: boolean }
  | { readonly name: "disable" | "enable" | "delete-user"; readonly username: string }
  | { readonly name: "set-roles"; readonly username: string; readonly roles: readonly string[] }
  | { readonly name: "list"; readonly json: boolean };

/** A command line that does not parse; the message says what is wrong. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** What `help` prints. */
export const USAGE = `Usage: deno task admin <command> [options]

Administers users directly on the database file (APP_DB, default data/app.db),
creating and migrating it when needed. Every change is written to the audit log
as done by the operator (actor null, client "cli").

Commands:
  create-user <username> [--role <role>]... [--password-stdin]
      Create a user with the given roles (default: viewer). Without
      --password-stdin a random password is generated and printed once.
  reset-password <username> [--password-stdin]
      Set a new password (generated and printed once unless read from
      standard input). Ends every token and cached login of the user.
  disable <username>
      Refuse the user's logins and end their tokens and cached logins at once.
  enable <username>
      Allow the user to log in again. Tokens ended earlier stay ended.
  set-roles <username> <role>...
      Replace the user's roles with exactly these (at least one). Takes effect
      on the user's next request.
  delete-user <username>
      Delete the user, their tokens and grants; their products stay, unowned.
  list [--json]
      List every user with status and roles, as a table or as JSON.
  help
      Show this text.

--password-stdin reads the password from standard input; one trailing line
break is removed, nothing else (the password is used exactly as given).

Guard rails: the last active admin cannot be disabled, demoted or deleted;
there is no override. Create or enable another admin first. Unknown roles
are refused.

Exit codes: 0 done; 1 refused (no such user, conflict, invalid input);
2 usage error; 3 environment error (configuration, permissions, database);
70 unexpected error.

Run it with the same APP_* environment as the server (APP_DB, APP_PEPPER,
APP_PBKDF2_ITERATIONS), or the passwords it sets will not verify there.`;

const FLAGS: Record<AdminCommand["name"], ReadonlySet<string>> = {
  "help": new Set(),
  "create-user": new Set(["--role", "--password-stdin"]),
  "reset-password": new Set(["--password-stdin"]),
  "disable": new Set(),
  "enable": new Set(),
  "set-roles": new Set(),
  "delete-user": new Set(),
  "list": new Set(["--json"]),
};

function isCommand(name: string): name is AdminCommand["name"] {
  return Object.hasOwn(FLAGS, name);
}

/** Parses `args` (what follows `deno task admin`). Throws {@link UsageError}. */
export function parseAdminArgs(args: readonly string[]): AdminCommand {
  if (args.some((a) => a === "--help" || a === "-h")) return { name: "help" };
  const [name, ...rest] = args;
  if (name === undefined) throw new UsageError("a command is required");
  if (!isCommand(name)) throw new UsageError(`unknown command "${name}"`);

  const positional: string[] = [];
  const roles: string[] = [];
  const switches = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === "--") {
      positional.push(...rest.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (!FLAGS[name].has(flag)) throw new UsageError(`${name} does not take ${flag}`);
    if (flag === "--role") {
      const value = eq === -1 ? rest[++i] : arg.slice(eq + 1);
      if (value === undefined || value === "") throw new UsageError("--role needs a role name");
      roles.push(value);
    } else {
      if (eq !== -1) throw new UsageError(`${flag} takes no value`);
      switches.add(flag);
    }
  }

  if (name === "set-roles") {
    const [username, ...named] = positional;
    if (username === undefined || named.length === 0) {
      throw new UsageError("set-roles needs a username and at least one role");
    }
    return { name, username, roles: named };
  }
  const expected = name === "help" || name === "list" ? 0 : 1;
  if (positional.length < expected) throw new UsageError(`${name} needs a username`);
  if (positional.length > expected) throw new UsageError(`unexpected argument "${positional[expected]}"`);
  const username = positional[0] ?? "";
  const passwordStdin = switches.has("--password-stdin");

  switch (name) {
    case "help":
      return { name };
    case "list":
      return { name, json: switches.has("--json") };
    case "create-user":
      return { name, username, roles, passwordStdin };
    case "reset-password":
      return { name, username, passwordStdin };
    case "disable":
    case "enable":
    case "delete-user":
      return { name, username };
  }
}
