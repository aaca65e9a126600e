/** The contract of `roles`: the synced catalogue, custom roles, uniqueness and holders. */
import assert from "node:assert/strict";
import { BUILTIN_ROLES, PERMISSION_NAMES } from "../../src/domain/permissions.ts";
import { UniqueViolation } from "../../src/db/store.ts";
import { createUser, LATER, type MakeStore, NOW, seedCatalogue, testName, withStore } from "./contract_helpers.ts";

/** Registers the roles cases for `engine`. */
export function defineRolesContract(engine: string, makeStore: MakeStore): void {
  const test = (behaviour: string, fn: Parameters<typeof withStore>[1]) =>
    Deno.test(testName(engine, "roles", behaviour), () => withStore(makeStore, fn));

  test("syncCatalogue() creates the built-in roles with exactly their permissions, idempotently", async (store) => {
    await seedCatalogue(store);
    await seedCatalogue(store);
    const roles = await store.roles.list();
    assert.deepEqual(roles.map((r) => [r.name, r.builtin]), [["admin", true], ["editor", true], ["viewer", true]]);
    for (const role of roles) {
      const expected = BUILTIN_ROLES[role.name as keyof typeof BUILTIN_ROLES].permissions;
      assert.deepEqual(role.permissions, [...expected].sort(), role.name);
    }
    assert.equal((await store.roles.get("admin"))!.permissions.length, PERMISSION_NAMES.length);
  });

  test("create(), update() and get() keep a custom role's description, permissions and times", async (store) => {
    await seedCatalogue(store);
    const created = await store.transaction((tx) => tx.roles.create("ops", "Operations", ["products:read"], NOW));
    assert.deepEqual(created, {
      name: "ops",
      description: "Operations",
      builtin: false,
      permissions: ["products:read"],
      createdAt: NOW,
      updatedAt: NOW,
    });
    const updated = await store.transaction((tx) =>
      tx.roles.update("ops", "Ops", ["products:read", "audit:read"], LATER)
    );
    assert.deepEqual(updated.permissions, ["audit:read", "products:read"]);
    assert.equal(updated.updatedAt, LATER);
    assert.deepEqual(await store.roles.get("ops"), updated);
    assert.equal(await store.roles.get("nope"), undefined);
  });

  test("create() rejects an existing name with UniqueViolation", async (store) => {
    await seedCatalogue(store);
    await assert.rejects(store.transaction((tx) => tx.roles.create("viewer", "", [], NOW)), UniqueViolation);
  });

  test("delete() removes a custom role, never a built-in one; holderCount() counts grants", async (store) => {
    await seedCatalogue(store);
    await store.transaction((tx) => tx.roles.create("ops", "", [], NOW));
    await createUser(store, "alice", ["ops"]);
    assert.equal(await store.roles.holderCount("ops"), 1);
    assert.equal(await store.roles.holderCount("admin"), 0);
    assert.equal(await store.transaction((tx) => tx.roles.delete("viewer")), false);
    assert.ok(await store.roles.get("viewer"));
    await store.transaction(async (tx) => {
      await tx.users.setRoles((await tx.users.findByUsername("alice"))!.id, [], NOW);
      assert.equal(await tx.roles.delete("ops"), true);
    });
    assert.equal(await store.roles.get("ops"), undefined);
  });
}
