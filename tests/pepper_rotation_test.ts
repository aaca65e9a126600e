/**
 * Rotating the pepper (docs/crypto_inventory.md, ASVS 5.0 11.2.2): a new
 * pepper goes first in `APP_PEPPERS`, the old one stays listed until every
 * hash has moved, and each login rehashes its user to the newest.
 */
import assert from "node:assert/strict";
import { basicAuth, createTestApp } from "./helpers.ts";

const V1 = `v1:${"a".repeat(40)}`;
const V2 = `v2:${"b".repeat(40)}`;

Deno.test("rotating APP_PEPPERS: a login under the old pepper succeeds and rehashes to the newest; the old one can then go", async () => {
  const dir = await Deno.makeTempDir();
  const dbPath = `${dir}/app.db`;
  try {
    const users: Record<string, string> = {};
    {
      await using before = await createTestApp({ dbPath, env: { APP_PEPPERS: V1 } });
      for (const name of ["alice", "bob"]) users[name] = (await before.user(name)).password;
    }
    const hashOf = async (
      t: { deps: { store: { users: { findByUsername(n: string): Promise<unknown> } } } },
      name: string,
    ) => ((await t.deps.store.users.findByUsername(name)) as { passwordHash: string }).passwordHash;
    {
      await using during = await createTestApp({ dbPath, env: { APP_PEPPERS: `${V2},${V1}` } });
      assert.match(await hashOf(during, "alice"), /,p=v1\$/);
      const login = await during.request("/auth/me", { headers: { Authorization: basicAuth("alice", users.alice!) } });
      assert.equal(login.status, 200);
      await login.body?.cancel();
      assert.match(await hashOf(during, "alice"), /,p=v2\$/, "rehashed with the newest pepper");
      assert.match(await hashOf(during, "bob"), /,p=v1\$/, "bob has not logged in yet");
    }
    {
      await using after = await createTestApp({ dbPath, env: { APP_PEPPERS: V2 } });
      const alice = await after.request("/auth/me", { headers: { Authorization: basicAuth("alice", users.alice!) } });
      assert.equal(alice.status, 200);
      await alice.body?.cancel();
      // Dropping v1 too early locks out whoever did not log in meanwhile: hence "until no hash names it".
      const bob = await after.request("/auth/me", { headers: { Authorization: basicAuth("bob", users.bob!) } });
      assert.equal(bob.status, 401);
      await bob.body?.cancel();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
