/**
 * An in-memory connected pair of byte streams with the `Deno.Conn` methods
 * the connection guard uses (`read`, `write`, `closeWrite`, `close`), so its
 * relay and accept loop are tested without sockets or real time.
 *
 * Semantics follow TCP closely enough for those tests: `closeWrite` makes
 * the peer read end-of-stream; `close` fails this end's pending read
 * (`BadResource`), ends the peer's reads and fails its writes (`BrokenPipe`).
 */

/** One end of a {@link memoryPipe}. */
export interface MemoryEnd {
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  /** True once `close()` was called on this end. */
  readonly closed: boolean;
  /** Reads until end of stream (or until this end is closed) and returns the bytes as text. */
  readAll(): Promise<string>;
  /** Resolves once the stream ended or this end was closed: `eof`, `closed`. */
  ended(): Promise<"eof" | "closed">;
}

interface State {
  chunks: Uint8Array[];
  eof: boolean;
  closed: boolean;
  writeClosed: boolean;
  waiter: (() => void) | null;
}

/** Creates two connected ends. */
export function memoryPipe(): [MemoryEnd, MemoryEnd] {
  const a: State = { chunks: [], eof: false, closed: false, writeClosed: false, waiter: null };
  const b: State = { chunks: [], eof: false, closed: false, writeClosed: false, waiter: null };
  return [end(a, b), end(b, a)];
}

function wake(state: State): void {
  const waiter = state.waiter;
  state.waiter = null;
  waiter?.();
}

function end(self: State, peer: State): MemoryEnd {
  const read = async (buffer: Uint8Array): Promise<number | null> => {
    for (;;) {
      if (self.closed) throw new Deno.errors.BadResource("closed");
      const chunk = self.chunks[0];
      if (chunk) {
        const n = Math.min(buffer.length, chunk.length);
        buffer.set(chunk.subarray(0, n));
        if (n === chunk.length) self.chunks.shift();
        else self.chunks[0] = chunk.subarray(n);
        return n;
      }
      if (self.eof) return null;
      await new Promise<void>((resolve) => (self.waiter = resolve));
    }
  };
  return {
    read,
    write(data) {
      if (self.closed) return Promise.reject(new Deno.errors.BadResource("closed"));
      if (self.writeClosed || peer.closed) return Promise.reject(new Deno.errors.BrokenPipe("peer closed"));
      peer.chunks.push(data.slice());
      wake(peer);
      return Promise.resolve(data.length);
    },
    closeWrite() {
      if (self.closed) return Promise.reject(new Deno.errors.BadResource("closed"));
      self.writeClosed = true;
      peer.eof = true;
      wake(peer);
      return Promise.resolve();
    },
    close() {
      if (self.closed) throw new Deno.errors.BadResource("closed twice");
      self.closed = true;
      peer.eof = true;
      wake(self);
      wake(peer);
    },
    get closed() {
      return self.closed;
    },
    async readAll() {
      const parts: Uint8Array[] = [];
      const buffer = new Uint8Array(4096);
      try {
        for (let n = await read(buffer); n !== null; n = await read(buffer)) parts.push(buffer.slice(0, n));
      } catch { /* closed */ }
      return new TextDecoder().decode(new Uint8Array(parts.flatMap((p) => [...p])));
    },
    async ended() {
      const buffer = new Uint8Array(4096);
      try {
        while ((await read(buffer)) !== null);
        return "eof";
      } catch {
        return "closed";
      }
    },
  };
}
