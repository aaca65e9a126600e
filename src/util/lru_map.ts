/**
 * A Map with a size bound that forgets the least recently used entry first.
 *
 * JavaScript's Map keeps insertion order, so "touching" an entry is a delete
 * and re-insert and the oldest entry is the first key: every operation is
 * O(1). Used wherever an attacker controls the keys (client addresses,
 * usernames), so that a flood of fresh keys cannot exhaust memory.
 */
export class LRUMap<K, V> {
  readonly maxSize: number;
  readonly #map = new Map<K, V>();

  constructor(maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError("maxSize must be a positive integer");
    this.maxSize = maxSize;
  }

  /** The value for `key`, marking it most recently used. */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** The value for `key` without changing its recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Stores `value` as most recently used, evicting the oldest entry when full. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.maxSize) {
      this.#map.delete(this.#map.keys().next().value as K);
    }
  }

  /** Removes `key`; true when it was present. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Number of entries (never more than `maxSize`). */
  get size(): number {
    return this.#map.size;
  }

  /** Removes everything. */
  clear(): void {
    this.#map.clear();
  }
}
