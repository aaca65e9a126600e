import assert from "node:assert/strict";
import { CredentialCache } from "./credential_cache.ts";

function clock() {
  const state = { now: 1_000_000 };
  return { state, now: () => state.now };
}

Deno.test("CredentialCache returns the user for the same credentials within the TTL", () => {
  const c = clock();
  const cache = new CredentialCache({ clock: c.now, ttlMs: 300_000 });
  const key = cache.keyOf("alice", "correct horse battery staple");
  cache.set(key, 7);
  c.state.now += 299_999;
  assert.equal(cache.get(key), 7);
});

Deno.test("CredentialCache forgets an entry when its TTL expires", () => {
  const c = clock();
  const cache = new CredentialCache({ clock: c.now, ttlMs: 300_000 });
  const key = cache.keyOf("alice", "pw");
  cache.set(key, 7);
  c.state.now += 300_000;
  assert.equal(cache.get(key), undefined);
  assert.equal(cache.size, 0);
});

Deno.test("CredentialCache keys differ for any change of username or password", () => {
  const cache = new CredentialCache();
  const keys = new Set([
    cache.keyOf("alice", "pw"),
    cache.keyOf("Alice", "pw"),
    cache.keyOf("alice", "pw "),
    cache.keyOf("alice", "Pw"),
    cache.keyOf("alic", "epw"),
  ]);
  assert.equal(keys.size, 5);
});

Deno.test("CredentialCache keys depend on the per-process secret (useless outside the process)", () => {
  const a = new CredentialCache();
  const b = new CredentialCache();
  assert.notEqual(a.keyOf("alice", "pw"), b.keyOf("alice", "pw"));
  const fixed = new Uint8Array(32);
  assert.equal(
    new CredentialCache({ secret: fixed }).keyOf("alice", "pw"),
    new CredentialCache({ secret: fixed }).keyOf("alice", "pw"),
  );
});

Deno.test("CredentialCache.evictUser() drops every entry of that user and no other", () => {
  const cache = new CredentialCache();
  const a1 = cache.keyOf("alice", "one");
  const a2 = cache.keyOf("ALICE", "one");
  const b = cache.keyOf("bob", "two");
  cache.set(a1, 1);
  cache.set(a2, 1);
  cache.set(b, 2);
  cache.evictUser(1);
  assert.equal(cache.get(a1), undefined);
  assert.equal(cache.get(a2), undefined);
  assert.equal(cache.get(b), 2);
});

Deno.test("CredentialCache holds at most maxEntries, evicting the least recently used", () => {
  const cache = new CredentialCache({ maxEntries: 100 });
  const keys = Array.from({ length: 1_000 }, (_, i) => cache.keyOf(`user${i}`, "pw"));
  keys.forEach((key, i) => cache.set(key, i));
  assert.equal(cache.size, 100);
  assert.equal(cache.get(keys[0]!), undefined);
  assert.equal(cache.get(keys[999]!), 999);
});
