/**
 * The shared-memory structures for `APP_WORKERS=N`, measured on one thread
 * beside their in-process counterparts: one rate-limit decision in the
 * shared GCRA table (target < 1 µs, like the memory store), the brute-force
 * `check` every Basic request makes, and the memory of 100,000 keys
 * (target < 32 MB). The shared table lives outside the JavaScript heap: its
 * size is fixed at creation and printed, together with the resident memory
 * it adds once every page has been touched, and how many live keys a table
 * sized for 100,000 loses to full buckets before holding them all.
 *
 * On a machine shared with other work, wall-clock times per iteration swing
 * by 2–3× between runs; the printed "CPU per decision" figures (process CPU
 * time over a million calls, so time spent preempted does not count) are the
 * stable ones.
 *
 * Run with `deno task bench` (or `deno bench -P=bench --v8-flags=--expose-gc bench/shared_state_bench.ts`).
 */
import process from "node:process";
import { BruteForceGuard } from "../src/auth/brute_force.ts";
import { createSharedBruteForceBuffers, SharedBruteForceGuard } from "../src/auth/shared_brute_force.ts";
import { MemoryRateLimitStore } from "../src/ratelimit/memory_store.ts";
import { createSharedRateLimitBuffer, SharedRateLimitStore } from "../src/ratelimit/shared_store.ts";

const API = { quota: 600, windowMs: 60_000 };
/** Never refuses, so the allowed path (which writes the table) is what is timed. */
const GENEROUS = { quota: 1_000_000_000, windowMs: 1_000 };
const KEYS = 100_000;

/** Realistic middleware keys: `api:c:<IPv4>`. */
function clientKey(i: number): string {
  return `api:c:${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.${(i * 7) & 255}`;
}
const keys = Array.from({ length: KEYS }, (_, i) => clientKey(i));

// A clock that moves, as Date.now would, without the cost of a syscall in the measurement.
let tick = Date.parse("2026-01-01T00:00:00Z");
const clock = () => (tick += 0.001);

const memoryHot = new MemoryRateLimitStore({ clock });
Deno.bench("MemoryRateLimitStore.consume(): one hot key, allowed", { group: "decision", baseline: true }, () => {
  memoryHot.consume("api:c:192.0.2.10", GENEROUS);
});

const sharedHot = new SharedRateLimitStore(createSharedRateLimitBuffer(), { clock });
Deno.bench("SharedRateLimitStore.consume(): one hot key, allowed", { group: "decision" }, () => {
  sharedHot.consume("api:c:192.0.2.10", GENEROUS);
});

// The middleware builds the key string per request, so V8 cannot reuse a cached string hash.
let octet = 0;
Deno.bench("MemoryRateLimitStore.consume(): hot key built per call", { group: "decision" }, () => {
  memoryHot.consume(`api:c:192.0.2.${octet++ & 1}`, GENEROUS);
});
Deno.bench("SharedRateLimitStore.consume(): hot key built per call", { group: "decision" }, () => {
  sharedHot.consume(`api:c:192.0.2.${octet++ & 1}`, GENEROUS);
});

const sharedRefusing = new SharedRateLimitStore(createSharedRateLimitBuffer(), { clock });
for (let i = 0; i < 700; i++) sharedRefusing.consume("api:c:192.0.2.66", API);
Deno.bench("SharedRateLimitStore.consume(): one hot key, refused", { group: "decision" }, () => {
  sharedRefusing.consume("api:c:192.0.2.66", API);
});

const memoryFull = new MemoryRateLimitStore({ maxKeys: KEYS, clock });
for (const key of keys) memoryFull.consume(key, API);
let nextMemory = 0;
Deno.bench("MemoryRateLimitStore.consume(): 100,000 keys, round robin", { group: "decision" }, () => {
  memoryFull.consume(keys[nextMemory++ % KEYS]!, GENEROUS);
});

const sharedFull = new SharedRateLimitStore(createSharedRateLimitBuffer({ maxKeys: KEYS }), { clock });
for (const key of keys) sharedFull.consume(key, API);
let nextShared = 0;
Deno.bench("SharedRateLimitStore.consume(): 100,000 keys, round robin", { group: "decision" }, () => {
  sharedFull.consume(keys[nextShared++ % KEYS]!, GENEROUS);
});

let fresh = 0;
Deno.bench("SharedRateLimitStore.consume(): a new key every call (flood)", { group: "decision" }, () => {
  sharedFull.consume(`api:c:flood-${fresh++}`, API);
});

const memoryGuard = new BruteForceGuard({ clock });
Deno.bench("BruteForceGuard.check(): cached Basic request", { group: "brute-force", baseline: true }, () => {
  memoryGuard.check("alice", "c:192.0.2.10");
});

const sharedGuard = new SharedBruteForceGuard(createSharedBruteForceBuffers(), { clock });
Deno.bench("SharedBruteForceGuard.check(): cached Basic request", { group: "brute-force" }, () => {
  sharedGuard.check("alice", "c:192.0.2.10");
});

let guess = 0;
Deno.bench("SharedBruteForceGuard.begin() + recordFailure(): one wrong password", { group: "brute-force" }, () => {
  const user = `user${guess++ % 50_000}`;
  sharedGuard.begin(user, "c:192.0.2.11");
  sharedGuard.recordFailure(user, "c:192.0.2.11");
});

/** Resident memory (RSS) after a full collection, when --expose-gc allows one. */
function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Deno.memoryUsage().rss;
}

const MiB = 1024 * 1024;
{
  const before = rss();
  const buffer = createSharedRateLimitBuffer({ maxKeys: KEYS });
  const store = new SharedRateLimitStore(buffer, { clock });
  for (let i = 0; i < KEYS; i++) store.consume(clientKey(i + 1_000_000), API);
  const grown = rss() - before;
  console.log(
    `memory: shared GCRA table for ${KEYS.toLocaleString("en")} keys: ${(buffer.byteLength / MiB).toFixed(1)} MiB ` +
      `fixed (${Math.round(buffer.byteLength / KEYS)} bytes/key); RSS grew ${
        (grown / MiB).toFixed(1)
      } MiB filling it; ` +
      `${store.liveKeys().toLocaleString("en")} live keys, ${store.evictions} evicted early (target < 32 MB) ` +
      `${buffer.byteLength / MiB < 32 ? "OK" : "OVER TARGET"}`,
  );
  const buffers = createSharedBruteForceBuffers({ maxKeys: KEYS });
  const total = buffers.accounts.byteLength + buffers.pairs.byteLength + buffers.clients.byteLength;
  console.log(
    `memory: shared brute-force tables for ${KEYS.toLocaleString("en")} keys each: ${
      (total / MiB).toFixed(1)
    } MiB fixed`,
  );
}

/** Process CPU time per call of `f` over a million calls, in ns: immune to time spent preempted. */
function cpuPerCall(f: (i: number) => void): number {
  const calls = 1_000_000;
  for (let i = 0; i < 100_000; i++) f(i);
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) f(i);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1_000) / calls;
}

{
  const memory = new MemoryRateLimitStore({ clock });
  const shared = new SharedRateLimitStore(createSharedRateLimitBuffer(), { clock });
  const rows: [string, (i: number) => void, (i: number) => void][] = [
    ["hot key", () => memory.consume("api:c:192.0.2.10", GENEROUS), () => shared.consume("api:c:192.0.2.10", GENEROUS)],
    [
      "hot key built per call",
      (i) => memory.consume(`api:c:192.0.2.${i & 1}`, GENEROUS),
      (i) => shared.consume(`api:c:192.0.2.${i & 1}`, GENEROUS),
    ],
    [
      "100,000 keys round robin",
      (i) => memoryFull.consume(keys[i % KEYS]!, GENEROUS),
      (i) => sharedFull.consume(keys[i % KEYS]!, GENEROUS),
    ],
  ];
  for (const [name, onMemory, onShared] of rows) {
    const [m, s] = [cpuPerCall(onMemory), cpuPerCall(onShared)];
    console.log(
      `CPU per decision, ${name}: memory store ${m.toFixed(0)} ns, shared table ${s.toFixed(0)} ns ` +
        `(${(s / m).toFixed(1)}×; target < 1 µs) ${s < 1_000 ? "OK" : "OVER TARGET"}`,
    );
  }
}
