/** The contract of `tokens`: hashes only, use times, revocation and expiry. */
import assert from "node:assert/strict";
import { createUser, type MakeStore, testName, withStore } from "./contract_helpers.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

/** Registers the tokens cases for `engine`. */
export function defineTokensContract(engine: string, makeStore: MakeStore): void {
  const test = (behaviour: string, fn: Parameters<typeof withStore>[1]) =>
    Deno.test(testName(engine, "tokens", behaviour), () => withStore(makeStore, fn));

  test("create() and find() keep the hash, owner and times in milliseconds; touch() moves lastUsedAt", async (store) => {
    const id = await createUser(store, "alice");
    await store.transaction((tx) => tx.tokens.create(A, id, 1_000, 50_000));
    assert.deepEqual({ ...(await store.tokens.find(A)) }, {
      hash: A,
      userId: id,
      createdAt: 1_000,
      lastUsedAt: 1_000,
      expiresAt: 50_000,
    });
    await store.transaction((tx) => tx.tokens.touch(A, 2_000));
    assert.equal((await store.tokens.find(A))!.lastUsedAt, 2_000);
    assert.equal(await store.tokens.find(B), undefined);
  });

  test("revoke() and revokeAllForUser() delete and count; purgeExpired() drops idle and expired tokens", async (store) => {
    const alice = await createUser(store, "alice");
    const bob = await createUser(store, "bob");
    await store.transaction(async (tx) => {
      await tx.tokens.create(A, alice, 1_000, 100_000);
      await tx.tokens.create(B, alice, 1_000, 100_000);
      await tx.tokens.create(C, bob, 1_000, 100_000);
    });
    assert.equal(await store.transaction((tx) => tx.tokens.revoke(A)), true);
    assert.equal(await store.transaction((tx) => tx.tokens.revoke(A)), false);
    assert.equal(await store.transaction((tx) => tx.tokens.revokeAllForUser(alice)), 1);
    assert.ok(await store.tokens.find(C));
    await store.transaction((tx) => tx.tokens.create(A, bob, 5_000, 9_000));
    // C was last used at 1 000, A expires at 9 000: at 9 500 with idle limit 2 000, both go.
    assert.equal(await store.transaction((tx) => tx.tokens.purgeExpired(9_500, 2_000)), 2);
    assert.equal(await store.tokens.find(C), undefined);
  });

  test("listForUser() gives one user's tokens oldest first; usersWithTokens() the users who have any", async (store) => {
    const alice = await createUser(store, "alice");
    const bob = await createUser(store, "bob");
    await createUser(store, "carol");
    await store.transaction(async (tx) => {
      await tx.tokens.create(B, alice, 2_000, 100_000);
      await tx.tokens.create(A, alice, 1_000, 100_000);
      await tx.tokens.create(C, bob, 1_500, 100_000);
    });
    assert.deepEqual((await store.tokens.listForUser(alice)).map((t) => [t.hash, t.createdAt]), [[A, 1_000], [
      B,
      2_000,
    ]]);
    assert.deepEqual(await store.tokens.listForUser(999), []);
    assert.deepEqual(await store.tokens.usersWithTokens(), [alice, bob]);
    await store.transaction((tx) => tx.tokens.revokeAllForUser(alice));
    assert.deepEqual(await store.tokens.usersWithTokens(), [bob]);
  });
}
