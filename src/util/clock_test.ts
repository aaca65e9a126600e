import assert from "node:assert/strict";
import { isoNow, toISO } from "./clock.ts";

Deno.test("toISO() writes UTC with milliseconds, so text order is time order", () => {
  assert.equal(toISO(0), "1970-01-01T00:00:00.000Z");
  assert.equal(toISO(Date.UTC(2026, 0, 1, 12, 30, 5, 7)), "2026-01-01T12:30:05.007Z");
  const instants = [Date.UTC(2026, 0, 1, 9), Date.UTC(2026, 0, 1, 10), Date.UTC(2026, 0, 2)];
  assert.deepEqual(instants.map(toISO).sort(), instants.map(toISO));
});

Deno.test("isoNow() reads the injected clock", () => {
  assert.equal(isoNow(() => Date.UTC(2026, 5, 30)), "2026-06-30T00:00:00.000Z");
});
