import assert from "node:assert/strict";
import { dispose, getLogger } from "@logtape/logtape";
import { captureLogs } from "../tests/log_capture.ts";
import { AUDIT_CATEGORY, configureLogging, redactText } from "./logging.ts";

/** A stream that keeps what is written to it, as text. */
function textStream(): { stream: WritableStream<Uint8Array>; text: () => string } {
  const decoder = new TextDecoder();
  let text = "";
  return {
    stream: new WritableStream({
      write(chunk) {
        text += decoder.decode(chunk, { stream: true });
      },
    }),
    text: () => text,
  };
}

Deno.test("configureLogging() writes one JSON object per line by default", async () => {
  const out = textStream();
  await configureLogging({ stream: out.stream });
  const log = getLogger(["secure-api", "test"]);
  log.info("hello {who}", { who: "line\nbreak", n: 1 });
  log.warn("second");
  log.debug("below the default level");
  await dispose();
  const lines = out.text().split("\n");
  assert.equal(lines.pop(), "", "every line ends with a newline");
  assert.equal(lines.length, 2);
  const [first, second] = lines.map((l) => JSON.parse(l));
  assert.equal(first.level, "INFO");
  assert.equal(first.logger, "secure-api.test");
  assert.deepEqual(first.properties, { who: "line\nbreak", n: 1 });
  assert.match(first["@timestamp"], /^\d{4}-\d{2}-\d{2}T/);
  assert.equal(second.level, "WARN");
});

Deno.test("configureLogging({format: 'pretty'}) writes readable text, not JSON", async () => {
  const out = textStream();
  await configureLogging({ stream: out.stream, format: "pretty" });
  getLogger(["secure-api", "test"]).info("listening on {url}", { url: "https://127.0.0.1:8443" });
  await dispose();
  const text = out.text();
  assert.match(text, /listening on/);
  assert.match(text, /127\.0\.0\.1:8443/);
  assert.throws(() => JSON.parse(text));
  assert.equal(text.trimEnd().split("\n").length, 1);
});

Deno.test("configureLogging({file}) writes the same JSON lines to a file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "log-file-" });
  try {
    const out = textStream();
    await configureLogging({ stream: out.stream, file: `${dir}/app.log` });
    const log = getLogger(["secure-api", "test"]);
    for (let i = 0; i < 3; i++) log.info("event {i}", { i });
    await dispose();
    const lines = (await Deno.readTextFile(`${dir}/app.log`)).trimEnd().split("\n");
    assert.deepEqual(lines.map((l) => JSON.parse(l).properties.i), [0, 1, 2]);
    assert.equal(out.text().trimEnd().split("\n").length, 3, "stdout still gets every line");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configureLogging({file}) rotates the file at fileMaxBytes, keeping JSON lines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "log-rotate-" });
  try {
    await configureLogging({ stream: textStream().stream, file: `${dir}/app.log`, fileMaxBytes: 2_000 });
    const log = getLogger(["secure-api", "test"]);
    for (let i = 0; i < 400; i++) log.info("event {i} {padding}", { i, padding: "x".repeat(100) });
    await dispose();
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(files, ["app.log", "app.log.1", "app.log.2", "app.log.3", "app.log.4", "app.log.5"]);
    let lines = 0;
    for (const name of files) {
      const text = await Deno.readTextFile(`${dir}/${name}`);
      // The sink buffers up to 8 KiB and writes a buffer whole, so a file may exceed maxBytes by that.
      assert.ok(text.length <= 2_000 + 8 * 1024 + 300, `${name} is bounded`);
      for (const line of text.split("\n").filter(Boolean)) {
        assert.equal(typeof JSON.parse(line).properties.i, "number");
        lines++;
      }
    }
    assert.ok(lines > 0 && lines < 400, "the oldest rotated files were dropped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configureLogging() redacts secret-named properties at any depth and credentials in any text", async () => {
  await using logs = await captureLogs();
  const secrets = {
    password: "S3cret-password-1",
    currentPassword: "S3cret-password-2",
    newPassword: "S3cret-password-3",
    token: "tok_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    accessToken: "tok_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    authorization: "Basic YWxpY2U6aHVudGVyMg==",
    pepper: "pepper-ccccccccccccccccccccccccccccccccccc",
    clientSecret: "secret-ddddddddddddddddddd",
    cookie: "session=eeeeeeeeeeeeeeee",
    password_hash: "$pbkdf2-sha256$i=600000$AAAAAAAAAAAAAAAAAAAAAA$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
  };
  const log = getLogger(["secure-api", "test"]);
  log.info("request", { ...secrets, nested: { deeper: { password: "S3cret-password-4" } }, keep: "visible-1" });
  log.info("header was {header}", { header: "Bearer tok_fffffffffffffffffffffffffffffffffffffff" });
  log.error("redis down: {error}", { error: "connect redis://user:S3cret-password-5@10.0.0.1:6379 refused" });
  log.info("stored {phc}", {
    phc: "$pbkdf2-sha256$i=1000$CCCCCCCCCCCCCCCCCCCCCC$DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD",
  });
  log.info("counts", { tokensRevoked: 3, auditHead: { seq: 1, hash: "a".repeat(64) }, username: "alice" });
  const text = logs.lines.join("");
  for (
    const value of [
      ...Object.values(secrets),
      "S3cret-password-4",
      "S3cret-password-5",
      "YWxpY2U6aHVudGVyMg",
      "tok_fffff",
      "CCCCCCCCCCCCCCCCCCCCCC",
    ]
  ) {
    assert.ok(!text.includes(value), `${value} leaked: ${text}`);
  }
  const [first, , , , last] = logs.json() as { properties: Record<string, unknown> }[];
  assert.equal(first!.properties.password, "[REDACTED]");
  assert.deepEqual(first!.properties.nested, { deeper: { password: "[REDACTED]" } });
  assert.equal(first!.properties.keep, "visible-1");
  assert.deepEqual(last!.properties, {
    tokensRevoked: 3,
    auditHead: { seq: 1, hash: "a".repeat(64) },
    username: "alice",
  });
  assert.match(text, /Bearer \[REDACTED\]/);
  assert.match(text, /redis:\/\/\[REDACTED\]@10\.0\.0\.1:6379/);
});

Deno.test("redactText() masks credentials in free text", () => {
  assert.equal(redactText("Authorization: Basic YWxpY2U6aHVudGVyMg=="), "Authorization: Basic [REDACTED]");
  assert.equal(redactText("rediss://:pw@cache:6380/0"), "rediss://[REDACTED]@cache:6380/0");
  assert.equal(redactText("no secrets here"), "no secrets here");
});

Deno.test("configureLogging() writes errors as name, message and stack, not as {}", async () => {
  await using logs = await captureLogs();
  const cause = new RangeError("inner");
  getLogger(["secure-api", "test"]).error("failed: {error}", { error: new Error("outer", { cause }) });
  const [line] = logs.json() as { message: string; properties: { error: Record<string, unknown> } }[];
  assert.equal(line!.message, 'failed: "Error: outer"');
  assert.equal(line!.properties.error.name, "Error");
  assert.equal(line!.properties.error.message, "outer");
  assert.match(String(line!.properties.error.stack), /logging_test\.ts/);
  assert.deepEqual((line!.properties.error.cause as Record<string, unknown>).message, "inner");
});

Deno.test("configureLogging() at a quiet level still writes audit records and chain heads", async () => {
  const out = textStream();
  await configureLogging({ stream: out.stream, level: "error" });
  getLogger(["secure-api", "server"]).info("listening");
  getLogger([...AUDIT_CATEGORY]).info("audit chain head {seq}", {
    auditHead: { seq: 1, hash: "a".repeat(64) },
    seq: 1,
  });
  getLogger(["secure-api", "server"]).error("broken");
  await dispose();
  const lines = out.text().trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.logger, l.message]), [
    ["secure-api.audit", "audit chain head 1"],
    ["secure-api.server", "broken"],
  ]);
});
