import assert from "node:assert/strict";
import { parseAdminArgs, UsageError } from "./admin_args.ts";

Deno.test("parseAdminArgs() reads each command with its flags", () => {
  assert.deepEqual(parseAdminArgs(["create-user", "bob", "--role", "editor", "--role=viewer", "--password-stdin"]), {
    name: "create-user",
    username: "bob",
    roles: ["editor", "viewer"],
    passwordStdin: true,
  });
  assert.deepEqual(parseAdminArgs(["create-user", "bob"]), {
    name: "create-user",
    username: "bob",
    roles: [],
    passwordStdin: false,
  });
  assert.deepEqual(parseAdminArgs(["reset-password", "bob"]), {
    name: "reset-password",
    username: "bob",
    passwordStdin: false,
  });
  assert.deepEqual(parseAdminArgs(["disable", "bob"]), { name: "disable", username: "bob" });
  assert.deepEqual(parseAdminArgs(["enable", "bob"]), { name: "enable", username: "bob" });
  assert.deepEqual(parseAdminArgs(["set-roles", "bob", "editor", "viewer"]), {
    name: "set-roles",
    username: "bob",
    roles: ["editor", "viewer"],
  });
  assert.deepEqual(parseAdminArgs(["delete-user", "bob"]), { name: "delete-user", username: "bob" });
  assert.deepEqual(parseAdminArgs(["list", "--json"]), { name: "list", json: true });
  assert.deepEqual(parseAdminArgs(["list"]), { name: "list", json: false });
  assert.deepEqual(parseAdminArgs(["help"]), { name: "help" });
  assert.deepEqual(parseAdminArgs(["disable", "--help"]), { name: "help" });
  assert.deepEqual(parseAdminArgs(["disable", "--", "-dash-"]), { name: "disable", username: "-dash-" });
});

Deno.test("parseAdminArgs() refuses what it does not understand, saying what", () => {
  const cases: [string[], RegExp][] = [
    [[], /a command is required/],
    [["drop-database"], /unknown command "drop-database"/],
    [["create-user"], /create-user needs a username/],
    [["create-user", "bob", "alice"], /unexpected argument "alice"/],
    [["create-user", "bob", "--role"], /--role needs a role name/],
    [["create-user", "bob", "--role="], /--role needs a role name/],
    [["create-user", "bob", "--admin"], /create-user does not take --admin/],
    [["create-user", "bob", "--password-stdin=yes"], /--password-stdin takes no value/],
    [["disable", "bob", "--role", "admin"], /disable does not take --role/],
    [["list", "--password-stdin"], /list does not take --password-stdin/],
    [["list", "bob"], /unexpected argument "bob"/],
    [["reset-password"], /needs a username/],
    [["set-roles", "bob"], /set-roles needs a username and at least one role/],
    [["set-roles"], /set-roles needs a username and at least one role/],
    [["set-roles", "bob", "--role", "editor"], /set-roles does not take --role/],
    [["delete-user"], /delete-user needs a username/],
    [["delete-user", "bob", "alice"], /unexpected argument "alice"/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseAdminArgs(args),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      args.join(" "),
    );
  }
});
