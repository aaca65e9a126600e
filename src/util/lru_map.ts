/**
 * A Map with a size bound that forgets the least recently used entry first.
 *
 * Used wherever an attacker controls the keys (client addresses,
 * usernames), so that a flood of fresh keys cannot exhaust memory — nor
 * time: every operation is O(1), the eviction included.
 *
 * The recency order is a doubly linked list threaded through slot numbers
 * (`#older`/`#newer`), and a Map finds a key's slot. The obvious shortcut —
 * a plain Map, "touching" by delete and re-insert, evicting
 * `keys().next()` — is not O(1) in V8: deletions leave holes at the front
 * of the table that every `keys().next()` walks over until the table is
 * rebuilt, and with 100,000 keys under a flood of fresh ones each eviction
 * cost 20–60 µs instead of well under one.
 */

const NONE = -1;

/** A Map bounded at `maxSize` entries that evicts the least recently used one, in O(1). */
export class LRUMap<K, V> {
  /** Most entries kept. */
  readonly maxSize: number;
  /** Key → slot. */
  readonly #slots = new Map<K, number>();
  readonly #keys: (K | undefined)[] = [];
  readonly #values: (V | undefined)[] = [];
  /** Per slot: the next less recently used slot (towards the tail), or NONE. */
  readonly #older: number[] = [];
  /** Per slot: the next more recently used slot (towards the head), or NONE. */
  readonly #newer: number[] = [];
  /** Slots freed by {@link delete}, reused before new ones. */
  readonly #free: number[] = [];
  #head = NONE;
  #tail = NONE;

  constructor(maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError("maxSize must be a positive integer");
    this.maxSize = maxSize;
  }

  /** The value for `key`, marking it most recently used. */
  get(key: K): V | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    this.#moveToHead(slot);
    return this.#values[slot];
  }

  /** The value for `key` without changing its recency. */
  peek(key: K): V | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#values[slot];
  }

  /** Stores `value` as most recently used, evicting the least recently used entry when full. */
  set(key: K, value: V): void {
    const existing = this.#slots.get(key);
    if (existing !== undefined) {
      this.#values[existing] = value;
      this.#moveToHead(existing);
      return;
    }
    let slot: number;
    if (this.#slots.size >= this.maxSize) {
      // Reuse the least recently used slot.
      slot = this.#tail;
      this.#slots.delete(this.#keys[slot] as K);
      this.#unlink(slot);
    } else if (this.#free.length > 0) {
      slot = this.#free.pop()!;
    } else {
      slot = this.#keys.length;
      this.#keys.push(undefined);
      this.#values.push(undefined);
      this.#older.push(NONE);
      this.#newer.push(NONE);
    }
    this.#keys[slot] = key;
    this.#values[slot] = value;
    this.#slots.set(key, slot);
    this.#linkAtHead(slot);
  }

  /** Removes `key`; true when it was present. */
  delete(key: K): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#slots.delete(key);
    this.#unlink(slot);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    this.#free.push(slot);
    return true;
  }

  /** Number of entries (never more than `maxSize`). */
  get size(): number {
    return this.#slots.size;
  }

  /** Removes everything. */
  clear(): void {
    this.#slots.clear();
    this.#keys.length = 0;
    this.#values.length = 0;
    this.#older.length = 0;
    this.#newer.length = 0;
    this.#free.length = 0;
    this.#head = NONE;
    this.#tail = NONE;
  }

  /** Keys from most to least recently used (for tests and diagnostics; O(n)). */
  *keys(): IterableIterator<K> {
    for (let slot = this.#head; slot !== NONE; slot = this.#older[slot]!) yield this.#keys[slot] as K;
  }

  #moveToHead(slot: number): void {
    if (slot === this.#head) return;
    this.#unlink(slot);
    this.#linkAtHead(slot);
  }

  #linkAtHead(slot: number): void {
    this.#newer[slot] = NONE;
    this.#older[slot] = this.#head;
    if (this.#head !== NONE) this.#newer[this.#head] = slot;
    this.#head = slot;
    if (this.#tail === NONE) this.#tail = slot;
  }

  #unlink(slot: number): void {
    const older = this.#older[slot]!;
    const newer = this.#newer[slot]!;
    if (newer !== NONE) this.#older[newer] = older;
    else this.#head = older;
    if (older !== NONE) this.#newer[older] = newer;
    else this.#tail = newer;
    this.#older[slot] = NONE;
    this.#newer[slot] = NONE;
  }
}
