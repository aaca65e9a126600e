/**
 * A fixed-size hash table in a `SharedArrayBuffer`, for state that every
 * worker thread of one process must see exactly: rate-limit timestamps,
 * brute-force counters. The main thread allocates the buffer once
 * ({@link createSharedHashTable}); each worker wraps the same buffer in its
 * own {@link SharedHashTable} and reads and writes it under a per-bucket lock.
 *
 * Why not a Map per worker: with N workers each keeping its own counts, a
 * client that reconnects for every request gets N times its quota (the
 * kernel spreads connections over the workers). Why not Redis: one machine
 * needs no server for this, and a decision in shared memory costs well under
 * a microsecond instead of a round trip.
 *
 * Layout (native endianness; every worker of a process shares it):
 *
 *     header   64 bytes   int32: magic, version, buckets, ways, fields, rankField, seedA, seedB,
 *                                evictions; int64 at byte 40: the touch counter
 *     bucket × buckets    int32 lock, int32 padding,
 *                         then `ways` slots of: uint32 fingerprint A, uint32 fingerprint B,
 *                                               `fields` × float64
 *
 * A key hashes (a seeded 64-bit mix, seeds random per buffer) to one bucket
 * of `ways` slots: that bucket is the whole probe window, so memory and the
 * work per operation are bounded whatever the keys. A slot is identified by
 * the full 64-bit hash; a false match between two keys has probability
 * about n / 2^64 per lookup and can only merge two keys' state (the stricter
 * direction for a limit). Field 0 of every record is its expiry: a record
 * whose field 0 is ≤ `now` carries no state and is free to reuse, so nothing
 * ever needs sweeping. When every slot of a bucket holds live state, the
 * record with the smallest `rankField` is evicted: for a GCRA table that is
 * the timestamp itself (the key closest to having no debt loses the least),
 * for the brute-force tables a global touch counter (least recently used).
 *
 * Locking: one futex-style mutex per bucket (0 free, 1 held, 2 held with
 * waiters; Drepper, "Futexes Are Tricky", mutex 2). The holder does a few
 * dozen plain reads and writes and never awaits, so a waiter spins briefly
 * and only then sleeps in `Atomics.wait` (allowed on Deno's main thread and
 * in workers). The JavaScript memory model makes the plain accesses inside
 * the critical section safe: the sequentially consistent `Atomics` on the
 * lock word order them. A lock not released within `lockTimeoutMs` (only
 * possible if a thread died holding it) raises {@link SharedLockTimeoutError}
 * instead of hanging the request.
 */

const MAGIC = 0x53485431; // "SHT1"
const VERSION = 1;
const HEADER_BYTES = 64;
const H_MAGIC = 0;
const H_VERSION = 1;
const H_BUCKETS = 2;
const H_WAYS = 3;
const H_FIELDS = 4;
const H_RANK = 5;
const H_SEED_A = 6;
const H_SEED_B = 7;
const H_EVICTIONS = 8;
/** Index of the touch counter in a BigInt64Array over the header (byte 40). */
const H_TOUCH_64 = 5;
/** Spins on a held lock before sleeping. */
const SPINS = 128;
const NO_BUCKET = -1;
/** Most buckets: keeps `hash × buckets` below 2^53, so the bucket index is exact. */
const MAX_BUCKETS = 2 ** 21;

/** Options for {@link createSharedHashTable}. */
export interface SharedHashTableLayout {
  /** Records the table is sized for. */
  keys: number;
  /** Float64 fields per record; field 0 is the record's expiry. At least 1. */
  fields: number;
  /** The field whose smallest value is evicted first from a full bucket. Default 0 (the expiry). */
  rankField?: number;
  /** Slots per bucket: the probe window. Default 16. */
  ways?: number;
  /**
   * Slots allocated per key of `keys`. Default 2: with 16 ways, filling a
   * table sized for 100,000 keys with 100,000 live ones evicts about 70 of
   * them early, because their buckets filled first (8 ways: about 850).
   */
  slotsPerKey?: number;
}

/** Bytes of a table with `buckets` buckets of `ways` slots of `fields` fields. */
function tableBytes(buckets: number, ways: number, fields: number): number {
  return HEADER_BYTES + buckets * bucketBytes(ways, fields);
}

function bucketBytes(ways: number, fields: number): number {
  return 8 + ways * (8 + 8 * fields);
}

/**
 * Allocates and initialises a table's buffer: done once, by the main thread,
 * before the buffer is posted to the workers. The hash seeds are random per
 * buffer, so a client cannot choose addresses that land in one bucket.
 */
export function createSharedHashTable(layout: SharedHashTableLayout): SharedArrayBuffer {
  const { keys, fields, rankField = 0, ways = 16, slotsPerKey = 2 } = layout;
  if (!Number.isSafeInteger(keys) || keys < 1) throw new RangeError("keys must be a positive integer");
  if (!Number.isInteger(fields) || fields < 1 || fields > 16) throw new RangeError("fields must be 1 to 16");
  if (!Number.isInteger(rankField) || rankField < 0 || rankField >= fields) {
    throw new RangeError("rankField must name a field");
  }
  if (!Number.isInteger(ways) || ways < 1 || ways > 64) throw new RangeError("ways must be 1 to 64");
  if (!(slotsPerKey >= 1)) throw new RangeError("slotsPerKey must be at least 1");
  const buckets = Math.ceil((keys * slotsPerKey) / ways);
  if (buckets > MAX_BUCKETS) throw new RangeError("table too large");
  const buffer = new SharedArrayBuffer(tableBytes(buckets, ways, fields));
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  const seeds = crypto.getRandomValues(new Int32Array(2));
  header[H_MAGIC] = MAGIC;
  header[H_VERSION] = VERSION;
  header[H_BUCKETS] = buckets;
  header[H_WAYS] = ways;
  header[H_FIELDS] = fields;
  header[H_RANK] = rankField;
  header[H_SEED_A] = seeds[0]!;
  header[H_SEED_B] = seeds[1]!;
  return buffer;
}

/** Raised when a bucket lock is not released in time: the shared state cannot be trusted. */
export class SharedLockTimeoutError extends Error {
  override name = "SharedLockTimeoutError";
}

/** Options for {@link SharedHashTable}. */
export interface SharedHashTableOptions {
  /** Longest wait for a bucket lock before {@link SharedLockTimeoutError}, in ms. Default 2000. */
  lockTimeoutMs?: number;
}

/**
 * One thread's handle on a shared table. Usage is a short synchronous
 * critical section: {@link acquire} (locks the key's bucket and finds its
 * record), {@link get}/{@link set}/{@link insert}/{@link remove}, then
 * {@link release} in a `finally`. One key per table at a time; a caller
 * that needs several tables locks them in one fixed order.
 */
export class SharedHashTable {
  /** Buckets in the table. */
  readonly buckets: number;
  /** Slots per bucket. */
  readonly ways: number;
  /** Fields per record. */
  readonly fields: number;
  /** Total slots: the most records the table can ever hold. */
  readonly slots: number;
  /** Bytes of shared memory, header included: fixed for the table's life. */
  readonly byteLength: number;
  readonly #header: Int32Array;
  readonly #touch: BigInt64Array;
  readonly #i32: Int32Array;
  readonly #u32: Uint32Array;
  readonly #f64: Float64Array;
  readonly #seedA: number;
  readonly #seedB: number;
  readonly #rank: number;
  /** Float64 units per slot (the fingerprint, then the fields) and per bucket (the lock word, then the slots). */
  readonly #slotStride: number;
  readonly #bucketStride: number;
  readonly #lockTimeoutMs: number;
  #bucket = NO_BUCKET;
  #fpA = 0;
  #fpB = 0;

  constructor(buffer: SharedArrayBuffer, options: SharedHashTableOptions = {}) {
    const { lockTimeoutMs = 2_000 } = options;
    const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    if (header[H_MAGIC] !== MAGIC || header[H_VERSION] !== VERSION || !(header[H_BUCKETS]! <= MAX_BUCKETS)) {
      throw new TypeError("not a shared hash table buffer (or another version)");
    }
    this.buckets = header[H_BUCKETS]!;
    this.ways = header[H_WAYS]!;
    this.fields = header[H_FIELDS]!;
    this.slots = this.buckets * this.ways;
    this.byteLength = tableBytes(this.buckets, this.ways, this.fields);
    if (buffer.byteLength !== this.byteLength) throw new TypeError("shared hash table buffer has the wrong size");
    this.#header = header;
    this.#touch = new BigInt64Array(buffer, 0, HEADER_BYTES / 8);
    this.#i32 = new Int32Array(buffer);
    this.#u32 = new Uint32Array(buffer);
    this.#f64 = new Float64Array(buffer);
    this.#seedA = header[H_SEED_A]!;
    this.#seedB = header[H_SEED_B]!;
    this.#rank = header[H_RANK]!;
    this.#slotStride = 1 + this.fields;
    this.#bucketStride = 1 + this.ways * this.#slotStride;
    this.#lockTimeoutMs = lockTimeoutMs;
  }

  /**
   * Locks the bucket of `key` and returns the slot of its live record (field
   * 0 > `now`), or -1 when it has none. Must be paired with {@link release}.
   */
  acquire(key: string, now: number): number {
    if (this.#bucket !== NO_BUCKET) throw new Error("SharedHashTable: acquire() while holding a bucket");
    // A seeded 64-bit mix in two 32-bit lanes (the finaliser of cyrb53 / MurmurHash3).
    let a = this.#seedA;
    let b = this.#seedB;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      a = Math.imul(a ^ c, 0x9e3779b1);
      b = Math.imul(b ^ c, 0x5f356495);
    }
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
    b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
    a >>>= 0;
    b >>>= 0;
    // Multiply-shift maps the hash onto any number of buckets without a modulo's bias.
    const bucket = HEADER_BYTES / 8 + Math.floor((a * this.buckets) / 2 ** 32) * this.#bucketStride;
    this.#lock(bucket * 2);
    this.#bucket = bucket;
    this.#fpA = a;
    this.#fpB = b;
    const u32 = this.#u32;
    const f64 = this.#f64;
    const stride = this.#slotStride;
    for (let slot = bucket + 1, end = slot + this.ways * stride; slot < end; slot += stride) {
      if (u32[slot * 2] === a && u32[slot * 2 + 1] === b && f64[slot + 1]! > now) return slot;
    }
    return -1;
  }

  /**
   * A slot for the acquired key, which must have no live record: a free slot
   * of its bucket, or else the live record with the smallest rank, evicted.
   * Every field starts at 0 (free); the caller sets them.
   */
  insert(now: number): number {
    const bucket = this.#held();
    const f64 = this.#f64;
    const stride = this.#slotStride;
    const rank = 1 + this.#rank;
    let victim = -1;
    let victimRank = Infinity;
    for (let slot = bucket + 1, end = slot + this.ways * stride; slot < end; slot += stride) {
      if (f64[slot + 1]! <= now) {
        victim = slot;
        break;
      }
      if (victim === -1 || f64[slot + rank]! < victimRank) {
        victim = slot;
        victimRank = f64[slot + rank]!;
      }
    }
    if (f64[victim + 1]! > now) Atomics.add(this.#header, H_EVICTIONS, 1);
    this.#u32[victim * 2] = this.#fpA;
    this.#u32[victim * 2 + 1] = this.#fpB;
    f64.fill(0, victim + 1, victim + stride);
    return victim;
  }

  /** Field `field` of the record in `slot` (inside acquire/release). */
  get(slot: number, field: number): number {
    return this.#f64[slot + 1 + field]!;
  }

  /** Sets field `field` of the record in `slot` (inside acquire/release). */
  set(slot: number, field: number, value: number): void {
    this.#f64[slot + 1 + field] = value;
  }

  /** Frees the record in `slot` (inside acquire/release). */
  remove(slot: number): void {
    this.#f64.fill(0, slot + 1, slot + this.#slotStride);
  }

  /** Unlocks the bucket taken by {@link acquire}. */
  release(): void {
    const bucket = this.#held();
    this.#bucket = NO_BUCKET;
    this.#unlock(bucket * 2);
  }

  /**
   * The next value of a counter shared by every handle on this buffer: a
   * rank that orders records by last use (LRU) across threads.
   */
  touch(): number {
    return Number(Atomics.add(this.#touch, H_TOUCH_64, 1n)) + 1;
  }

  /** Live records evicted from full buckets since the buffer was created (wraps at 2^32). */
  get evictions(): number {
    return Atomics.load(this.#header, H_EVICTIONS) >>> 0;
  }

  /** Records live at `now`, counted bucket by bucket under each lock; O(slots), for tests and metrics. */
  count(now: number): number {
    if (this.#bucket !== NO_BUCKET) throw new Error("SharedHashTable: count() while holding a bucket");
    let live = 0;
    for (let b = 0; b < this.buckets; b++) {
      const bucket = HEADER_BYTES / 8 + b * this.#bucketStride;
      this.#lock(bucket * 2);
      for (let slot = bucket + 1, end = slot + this.ways * this.#slotStride; slot < end; slot += this.#slotStride) {
        if (this.#f64[slot + 1]! > now) live++;
      }
      this.#unlock(bucket * 2);
    }
    return live;
  }

  #held(): number {
    if (this.#bucket === NO_BUCKET) throw new Error("SharedHashTable: no bucket acquired");
    return this.#bucket;
  }

  #lock(index: number): void {
    if (Atomics.compareExchange(this.#i32, index, 0, 1) !== 0) this.#lockContended(index);
  }

  #lockContended(index: number): void {
    const i32 = this.#i32;
    for (let spin = 0; spin < SPINS; spin++) {
      Atomics.pause();
      if (Atomics.load(i32, index) === 0 && Atomics.compareExchange(i32, index, 0, 1) === 0) return;
    }
    const deadline = performance.now() + this.#lockTimeoutMs;
    // Mark the lock contended (2) so the holder's unlock wakes a sleeper.
    while (Atomics.exchange(i32, index, 2) !== 0) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new SharedLockTimeoutError(`a shared table lock was held for over ${this.#lockTimeoutMs} ms`);
      }
      Atomics.wait(i32, index, 2, Math.min(left, 50));
    }
  }

  #unlock(index: number): void {
    if (Atomics.sub(this.#i32, index, 1) !== 1) {
      Atomics.store(this.#i32, index, 0);
      Atomics.notify(this.#i32, index, 1);
    }
  }
}
