import assert from "node:assert/strict";
import { type ResilientServerOptions, serveResiliently } from "./resilient_server.ts";

/** A stand-in for Deno.serve's server whose listener the test can kill. */
function fakeServer(port: number) {
  const finished = Promise.withResolvers<void>();
  let shutdowns = 0;
  const server = {
    addr: { transport: "tcp", hostname: "127.0.0.1", port } as Deno.NetAddr,
    finished: finished.promise,
    shutdown() {
      shutdowns++;
      finished.resolve();
      return Promise.resolve();
    },
    ref() {},
    unref() {},
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return { server, die: (error: Error) => finished.reject(error), shutdowns: () => shutdowns };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

const EMFILE = () => new Error("Http: Error: Too many open files (os error 24)");

function setup(overrides: Partial<ResilientServerOptions> = {}) {
  const clock = { t: 0 };
  const generations: ReturnType<typeof fakeServer>[] = [];
  const state = { failingListens: 0 };
  const failures: unknown[] = [];
  const recoveries: [number, number][] = [];
  const sleeps: number[] = [];
  const resilient = serveResiliently({
    listen: () => {
      if (state.failingListens > 0) {
        state.failingListens--;
        throw new Error("Too many open files (os error 24)");
      }
      const generation = fakeServer(8443);
      generations.push(generation);
      return generation.server;
    },
    onFailure: (error) => failures.push(error),
    onRecovered: (count, ms) => recoveries.push([count, ms]),
    stableMs: 50,
    now: () => clock.t,
    sleep: (ms) => {
      sleeps.push(ms);
      clock.t += ms;
      return Promise.resolve();
    },
    ...overrides,
  });
  return { clock, generations, state, failures, recoveries, sleeps, resilient };
}

Deno.test("serveResiliently() listens again when the listener dies of EMFILE, backing off while listening fails too", async () => {
  const { generations, state, failures, sleeps, resilient } = setup();
  assert.equal(resilient.addr.port, 8443);
  state.failingListens = 3;
  generations[0]!.die(EMFILE());
  await until(() => generations.length === 2, "a second generation");
  assert.equal(failures.length, 1);
  assert.deepEqual(sleeps, [5, 10, 20, 40], "5 ms, doubling while listening fails");
  await resilient.shutdown();
  assert.deepEqual(generations.map((g) => g.shutdowns()), [1, 1], "the old one drains too: it still has connections");
});

Deno.test("serveResiliently() reports one episode however many listeners die in it, and its end once one is stable", async () => {
  const { clock, generations, failures, recoveries, sleeps, resilient } = setup();
  for (let i = 0; i < 5; i++) {
    generations.at(-1)!.die(EMFILE()); // each new listener dies at once while descriptors stay exhausted
    await until(() => generations.length === i + 2, `generation ${i + 2}`);
  }
  assert.equal(failures.length, 1, "one report for the episode");
  assert.deepEqual(sleeps, [5, 10, 20, 40, 80], "quick deaths double the delay");
  assert.deepEqual(recoveries, []);
  await new Promise((resolve) => setTimeout(resolve, 80)); // the last generation outlives stableMs
  assert.deepEqual(recoveries, [[5, 155]], "5 failures over the 155 ms of backoff");
  clock.t += 10_000;
  generations.at(-1)!.die(EMFILE());
  await until(() => failures.length === 2, "a new episode");
  assert.equal(sleeps.at(-1), 5, "after a stable generation the delay starts again at 5 ms");
  await resilient.shutdown();
});

Deno.test("serveResiliently() keeps at most maxGenerations, shutting the oldest down gracefully", async () => {
  const { generations, resilient } = setup({ maxGenerations: 3 });
  for (let i = 0; i < 4; i++) {
    generations.at(-1)!.die(EMFILE());
    await until(() => generations.length === i + 2, `generation ${i + 2}`);
  }
  assert.deepEqual(generations.map((g) => g.shutdowns()), [1, 1, 0, 0, 0]);
  await resilient.shutdown();
});

Deno.test("serveResiliently() does not restart after shutdown, and a first listen failure is thrown to the caller", async () => {
  const { generations, failures, resilient } = setup();
  await resilient.shutdown();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(generations.length, 1);
  assert.deepEqual(failures, [], "a graceful end is not a failure");
  assert.throws(
    () =>
      serveResiliently({
        listen: () => {
          throw new Deno.errors.AddrInUse("Address already in use");
        },
        onFailure: () => {},
        onRecovered: () => {},
      }),
    Deno.errors.AddrInUse,
  );
});
