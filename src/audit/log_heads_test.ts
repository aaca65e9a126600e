import assert from "node:assert/strict";
import { headsInLogLine, linesOf, readLogHeads } from "./log_heads.ts";

const H1 = "a".repeat(64);
const H2 = "b".repeat(64);

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => encoder.encode(c)));
}

Deno.test("headsInLogLine() reads auditHead lines and audit event lines", () => {
  const head = JSON.stringify({ level: "INFO", properties: { auditHead: { seq: 7, hash: H1 }, seq: 7 } });
  assert.deepEqual(headsInLogLine(head), [{ seq: 7, hash: H1 }]);
  const event = JSON.stringify({ properties: { event: "sys_startup", audit: { seq: 8, hash: H2, event: "x" } } });
  assert.deepEqual(headsInLogLine(event), [{ seq: 8, hash: H2 }]);
});

Deno.test("headsInLogLine() ignores other lines and malformed heads instead of trusting them", () => {
  for (
    const line of [
      "",
      "not json",
      "{broken",
      "null",
      JSON.stringify({ message: "listening" }),
      JSON.stringify({ properties: { auditHead: null } }),
      JSON.stringify({ properties: { auditHead: { seq: 0, hash: H1 } } }),
      JSON.stringify({ properties: { auditHead: { seq: 1.5, hash: H1 } } }),
      JSON.stringify({ properties: { auditHead: { seq: "3", hash: H1 } } }),
      JSON.stringify({ properties: { auditHead: { seq: 3, hash: "ABC" } } }),
      JSON.stringify({ properties: { auditHead: { seq: 3, hash: H1.toUpperCase() } } }),
    ]
  ) {
    assert.deepEqual(headsInLogLine(line), [], line);
  }
});

Deno.test("linesOf() splits across chunk boundaries and strips CRLF", async () => {
  const lines = [];
  for await (const line of linesOf(streamOf("one\r\ntw", "o\nthr", "ee"))) lines.push(line);
  assert.deepEqual(lines, ["one", "two", "three"]);
});

Deno.test("readLogHeads() collects distinct heads and counts lines", async () => {
  const head = (seq: number, hash: string) => JSON.stringify({ properties: { auditHead: { seq, hash } } });
  const text = [head(1, H1), "plain text", head(1, H1), head(2, H2), head(2, H1)].join("\n") + "\n";
  const found = await readLogHeads(streamOf(text));
  assert.equal(found.lines, 5);
  assert.deepEqual(found.heads, [{ seq: 1, hash: H1 }, { seq: 2, hash: H2 }, { seq: 2, hash: H1 }]);
});
