import assert from "node:assert/strict";
import fc from "fast-check";
import { cidrContains, clientKeyOf, formatIP, type IPAddress, parseCIDR, parseIP } from "./ip.ts";

function ip(text: string): IPAddress {
  const parsed = parseIP(text);
  if (!parsed) throw new Error(`test address ${text} did not parse`);
  return parsed;
}

function canonical(text: string): string | null {
  const parsed = parseIP(text);
  return parsed && formatIP(parsed);
}

Deno.test("parseIP() reads IPv4 dotted quads into four bytes", () => {
  assert.deepEqual(ip("192.0.2.1"), { version: 4, bytes: new Uint8Array([192, 0, 2, 1]) });
  assert.deepEqual(ip("0.0.0.0").bytes, new Uint8Array([0, 0, 0, 0]));
  assert.deepEqual(ip("255.255.255.255").bytes, new Uint8Array([255, 255, 255, 255]));
});

Deno.test("parseIP() reads full and compressed IPv6", () => {
  const full = ip("2001:0db8:0000:0000:0000:ff00:0042:8329");
  assert.equal(full.version, 6);
  assert.deepEqual(ip("2001:db8::ff00:42:8329").bytes, full.bytes);
  assert.deepEqual(ip("2001:DB8::FF00:42:8329").bytes, full.bytes, "hex digits are case-insensitive");
  assert.deepEqual(ip("::").bytes, new Uint8Array(16));
  assert.deepEqual(ip("::1").bytes, new Uint8Array([...new Array(15).fill(0), 1]));
  assert.deepEqual(ip("1::").bytes, new Uint8Array([0, 1, ...new Array(14).fill(0)]));
  assert.equal(canonical("1:2:3:4:5:6:7::"), "1:2:3:4:5:6:7:0", ":: may stand for a single group");
  assert.equal(canonical("64:ff9b::192.0.2.33"), "64:ff9b::c000:221", "embedded IPv4 tail");
});

Deno.test("parseIP() normalises IPv4-mapped IPv6 to IPv4, so one client has one identity", () => {
  assert.deepEqual(ip("::ffff:192.0.2.1"), ip("192.0.2.1"));
  assert.deepEqual(ip("::FFFF:c000:0201"), ip("192.0.2.1"));
  assert.deepEqual(ip("0:0:0:0:0:ffff:192.0.2.1"), ip("192.0.2.1"));
  // IPv4-compatible (deprecated) and NAT64 addresses are not the IPv4 address.
  assert.equal(ip("::192.0.2.1").version, 6);
});

Deno.test("parseIP() refuses everything that is not exactly an address", () => {
  const bad = [
    "",
    " ",
    "192.0.2.1 ",
    " 192.0.2.1",
    "192.0.2",
    "192.0.2.1.5",
    "192.0.2.256",
    "192.0.2.-1",
    "192.0.2.01", // leading zero: octal in some parsers
    "010.0.0.1",
    "00.0.0.1",
    "0x7f.0.0.1",
    "1e2.0.0.1",
    "+1.2.3.4",
    "2130706433", // integer form of 127.0.0.1
    "127.1",
    "1.2.3.4/32",
    "localhost",
    "unknown",
    ":",
    ":::",
    "1::2::3",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "12345::",
    "g::1",
    "::ffff:192.0.2.01",
    "::ffff:192.0.2",
    "1:2:3:4:5:6:7:1.2.3.4",
    "fe80::1%eth0",
    "[::1]",
    "::1:",
    "<script>",
    "1.2.3.4\n",
    "１.2.3.4",
  ];
  for (const text of bad) assert.equal(parseIP(text), null, JSON.stringify(text));
});

Deno.test("parseIP() never throws and only accepts what formats back to the same address (property)", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 60 }),
        // Strings over the address alphabet, so that many of them are near-misses or real addresses.
        fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.:::..0f"), maxLength: 45 }),
      ),
      (text) => {
        const parsed = parseIP(text);
        if (parsed === null) return true;
        const again = parseIP(formatIP(parsed));
        return again !== null && again.version === parsed.version && again.bytes.every((b, i) => b === parsed.bytes[i]);
      },
    ),
    { numRuns: 5_000 },
  );
});

Deno.test("formatIP() writes IPv6 in RFC 5952 canonical form", () => {
  const cases: Record<string, string> = {
    "2001:0DB8:0000:0000:0000:0000:0000:0001": "2001:db8::1",
    "2001:db8:0:0:1:0:0:1": "2001:db8::1:0:0:1", // equal runs: the first is compressed
    "2001:db8:0:1:0:0:0:1": "2001:db8:0:1::1", // the longest run is compressed
    "2001:db8:0:1:1:1:1:1": "2001:db8:0:1:1:1:1:1", // a single zero group is not compressed
    "0:0:0:0:0:0:0:0": "::",
    "0:0:0:0:0:0:0:1": "::1",
    "1:0:0:0:0:0:0:0": "1::",
    "fe80:0:0:0:0:0:0:0001": "fe80::1",
    "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff": "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff",
    "::ffff:192.0.2.1": "192.0.2.1",
  };
  for (const [input, expected] of Object.entries(cases)) assert.equal(canonical(input), expected, input);
});

Deno.test("formatIP() round-trips any 16 bytes (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = formatIP({ version: 6, bytes });
      const parsed = parseIP(text);
      if (!parsed) return false;
      // Mapped addresses come back as IPv4; everything else byte for byte.
      const expected = parsed.version === 4 ? bytes.slice(12) : bytes;
      return text === text.toLowerCase() && parsed.bytes.every((b, i) => b === expected[i]);
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("parseCIDR() reads blocks and bare addresses, and refuses bad prefixes", () => {
  assert.deepEqual(parseCIDR("10.0.0.0/8"), { version: 4, bytes: ip("10.0.0.0").bytes, prefix: 8 });
  assert.equal(parseCIDR("192.0.2.7")?.prefix, 32);
  assert.equal(parseCIDR("2001:db8::1")?.prefix, 128);
  assert.equal(parseCIDR("2001:db8::/32")?.prefix, 32);
  assert.equal(parseCIDR("0.0.0.0/0")?.prefix, 0);
  assert.deepEqual(parseCIDR("::ffff:10.0.0.0/104"), parseCIDR("10.0.0.0/8"), "a mapped block is the IPv4 block");
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/-1", "10.0.0.0/8/8", "/8", "x/8"]) {
    assert.equal(parseCIDR(bad), null, bad);
  }
  assert.equal(parseCIDR("::ffff:0.0.0.0/95"), null, "a mapped block may not reach outside the mapped range");
});

Deno.test("cidrContains() matches on the prefix bits, within one address family", () => {
  const block = parseCIDR("10.1.0.0/16")!;
  assert.equal(cidrContains(block, ip("10.1.255.255")), true);
  assert.equal(cidrContains(block, ip("10.2.0.0")), false);
  const odd = parseCIDR("192.0.2.128/25")!;
  assert.equal(cidrContains(odd, ip("192.0.2.128")), true);
  assert.equal(cidrContains(odd, ip("192.0.2.127")), false);
  assert.equal(cidrContains(parseCIDR("192.0.2.1")!, ip("192.0.2.1")), true);
  assert.equal(cidrContains(parseCIDR("192.0.2.1")!, ip("192.0.2.2")), false);
  assert.equal(cidrContains(parseCIDR("0.0.0.0/0")!, ip("203.0.113.9")), true);
  assert.equal(cidrContains(parseCIDR("0.0.0.0/0")!, ip("2001:db8::1")), false, "families never mix");
  assert.equal(cidrContains(parseCIDR("::/0")!, ip("192.0.2.1")), false);
  const v6 = parseCIDR("2001:db8:abcd:12::/63")!;
  assert.equal(cidrContains(v6, ip("2001:db8:abcd:13:ffff::1")), true);
  assert.equal(cidrContains(v6, ip("2001:db8:abcd:14::1")), false);
  assert.equal(cidrContains(parseCIDR("10.0.0.0/8")!, ip("::ffff:10.9.8.7")), true, "mapped peers match IPv4 blocks");
});

Deno.test("clientKeyOf() keys IPv4 by address and IPv6 by its /64", () => {
  assert.equal(clientKeyOf(ip("192.0.2.1")), "192.0.2.1");
  assert.equal(clientKeyOf(ip("::ffff:192.0.2.1")), "192.0.2.1");
  const a = clientKeyOf(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
  const b = clientKeyOf(ip("2001:0DB8:0001:0002::1"));
  assert.equal(a, "2001:db8:1:2::/64");
  assert.equal(a, b, "the same /64 is one client");
  assert.notEqual(clientKeyOf(ip("2001:db8:1:3::1")), a, "the next /64 is another client");
});
