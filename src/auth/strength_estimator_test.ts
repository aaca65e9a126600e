import assert from "node:assert/strict";
import { ApiError } from "../errors.ts";
import { InlineStrengthEstimator, WorkerStrengthEstimator } from "./strength_estimator.ts";

const PASSWORDS = [
  "passwordpassword1",
  "marmalade skylight over the pier",
  "1qaz2wsx3edc4rfv5tgb",
  "zephyrquill-kettle",
];

Deno.test("WorkerStrengthEstimator gives the inline estimator's verdicts, off the calling thread", async () => {
  // A generous deadline: the suite shares a loaded machine.
  const worker = new WorkerStrengthEstimator({ timeoutMs: 120_000 });
  const inline = new InlineStrengthEstimator();
  try {
    for (const password of PASSWORDS) {
      assert.deepEqual(
        await worker.estimate(password, ["zephyrquill"]),
        await inline.estimate(password, ["zephyrquill"]),
      );
    }
    // While the Worker estimates, this thread keeps running timers.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await Promise.all(Array.from({ length: 3 }, () => worker.estimate("1!2@3#4$5%6^7&8*9(0)".repeat(3), [])));
    clearInterval(timer);
    assert.ok(ticks > 0);
  } finally {
    worker.close();
    inline.close();
  }
});

Deno.test("WorkerStrengthEstimator refuses beyond maxPending with 503 and Retry-After, and rejects what is pending on close", async () => {
  const worker = new WorkerStrengthEstimator({ maxPending: 2, timeoutMs: 120_000 });
  const first = worker.estimate("marmalade skylight over the pier", []);
  const second = worker.estimate("marmalade skylight over the pier", []);
  await assert.rejects(worker.estimate("marmalade skylight over the pier", []), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 503);
    assert.equal(error.headers["Retry-After"], "1");
    return true;
  });
  worker.close();
  await assert.rejects(first, /closed/);
  await assert.rejects(second, /closed/);
  // A new estimate starts a new Worker.
  try {
    assert.equal((await worker.estimate("marmalade skylight over the pier", [])).problem, null);
  } finally {
    worker.close();
  }
});
