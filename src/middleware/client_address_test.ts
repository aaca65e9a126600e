import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import { type CIDR, parseCIDR } from "../net/ip.ts";
import { clientAddress, resolveClient, UNKNOWN_CLIENT } from "./client_address.ts";

function cidrs(...texts: string[]): CIDR[] {
  return texts.map((t) => {
    const c = parseCIDR(t);
    if (!c) throw new Error(`bad test CIDR ${t}`);
    return c;
  });
}

const PROXIES = cidrs("10.0.0.0/8", "2001:db8:ffff::/48");

Deno.test("resolveClient() ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
  // The spoof: an attacker connects directly and claims to be someone else.
  assert.deepEqual(resolveClient("203.0.113.9", "198.51.100.1", PROXIES), {
    address: "203.0.113.9",
    key: "203.0.113.9",
  });
  // Without any trusted proxy configured the header is never read, whoever sends it.
  assert.equal(resolveClient("10.0.0.1", "198.51.100.1", []).address, "10.0.0.1");
});

Deno.test("resolveClient() takes the rightmost untrusted hop behind a trusted proxy", () => {
  // The client wrote "1.1.1.1" itself; the proxy appended the address it saw.
  assert.equal(resolveClient("10.0.0.1", "1.1.1.1, 198.51.100.7", PROXIES).address, "198.51.100.7");
  assert.equal(resolveClient("10.0.0.1", "198.51.100.7", PROXIES).address, "198.51.100.7");
});

Deno.test("resolveClient() walks through a chain of trusted proxies", () => {
  const xff = "1.1.1.1, 198.51.100.7, 10.2.3.4, 10.9.9.9";
  assert.equal(resolveClient("10.0.0.1", xff, PROXIES).address, "198.51.100.7");
  // Every hop trusted: the leftmost is as far as anyone can see.
  assert.equal(resolveClient("10.0.0.1", "10.5.5.5, 10.6.6.6", PROXIES).address, "10.5.5.5");
  // Repeated headers are joined with commas by the Fetch API; the walk is the same.
  assert.equal(resolveClient("10.0.0.1", "1.1.1.1,198.51.100.7 ,  10.2.3.4", PROXIES).address, "198.51.100.7");
});

Deno.test("resolveClient() stops at a garbage entry instead of trusting what lies left of it", () => {
  // The proxy is trusted but its only entry is junk: the proxy itself is the client.
  for (const junk of ["unknown", "<script>", "", "_hidden", "192.0.2.01", "1.2.3.4 5.6.7.8", "fe80::1%eth0"]) {
    assert.equal(resolveClient("10.0.0.1", junk, PROXIES).address, "10.0.0.1", JSON.stringify(junk));
  }
  // Junk left of a trusted hop ends the walk at that hop; nothing to its left is believed.
  assert.equal(resolveClient("10.0.0.1", "198.51.100.7, garbage, 10.2.3.4", PROXIES).address, "10.2.3.4");
  // Junk left of the real client does not matter.
  assert.equal(resolveClient("10.0.0.1", "garbage, 198.51.100.7", PROXIES).address, "198.51.100.7");
});

Deno.test("resolveClient() accepts hops written with a port", () => {
  assert.equal(resolveClient("10.0.0.1", "198.51.100.7:4711", PROXIES).address, "198.51.100.7");
  assert.equal(resolveClient("10.0.0.1", "[2001:db8:1:2::9]:4711", PROXIES).key, "2001:db8:1:2::/64");
  assert.equal(resolveClient("10.0.0.1", "[2001:db8:1:2::9]", PROXIES).address, "2001:db8:1:2::9");
  assert.equal(resolveClient("10.0.0.1", "198.51.100.7:", PROXIES).address, "10.0.0.1", "a bare colon is junk");
});

Deno.test("resolveClient() handles IPv6 peers and proxies, bracketed or not, grouped by /64", () => {
  assert.deepEqual(resolveClient("[2001:db8:1:2::1]", undefined, PROXIES), {
    address: "2001:db8:1:2::1",
    key: "2001:db8:1:2::/64",
  });
  assert.equal(resolveClient("2001:DB8:1:2:0:0:0:FFFF", undefined, []).address, "2001:db8:1:2::ffff");
  assert.equal(resolveClient("[2001:db8:ffff:1::2]", "2001:db8:7::1", PROXIES).key, "2001:db8:7::/64");
  assert.equal(resolveClient("fe80::1%eth0", undefined, []).address, "fe80::1", "the kernel's zone id is dropped");
});

Deno.test("resolveClient() normalises IPv4-mapped peers and hops to IPv4", () => {
  assert.deepEqual(resolveClient("::ffff:203.0.113.9", undefined, []), { address: "203.0.113.9", key: "203.0.113.9" });
  assert.equal(resolveClient("::ffff:10.0.0.1", "::ffff:198.51.100.7", PROXIES).address, "198.51.100.7");
});

Deno.test("resolveClient() answers the unknown client when the peer is missing or unparseable", () => {
  assert.equal(resolveClient(undefined, "198.51.100.7", PROXIES), UNKNOWN_CLIENT);
  assert.equal(resolveClient("not-an-ip", "198.51.100.7", PROXIES), UNKNOWN_CLIENT);
});

Deno.test("clientAddress() sets c.var.client from the connection and the header", async () => {
  const app = new Hono<AppEnv>();
  app.use(clientAddress({ trustedProxies: PROXIES }));
  app.get("/", (c) => c.json(c.var.client));
  const send = (hostname: string, xff?: string) =>
    app.request("/", { headers: xff === undefined ? {} : { "X-Forwarded-For": xff } }, {
      remoteAddr: { transport: "tcp", hostname, port: 1234 },
    });
  assert.deepEqual(await (await send("203.0.113.9", "198.51.100.1")).json(), {
    address: "203.0.113.9",
    key: "203.0.113.9",
  });
  assert.deepEqual(await (await send("10.0.0.1", "1.2.3.4, 198.51.100.1")).json(), {
    address: "198.51.100.1",
    key: "198.51.100.1",
  });
  assert.deepEqual(await (await send("[2001:db8:5::1]")).json(), {
    address: "2001:db8:5::1",
    key: "2001:db8:5::/64",
  });
  const noPeer = await app.request("/");
  assert.deepEqual(await noPeer.json(), UNKNOWN_CLIENT);
});

Deno.test("clientAddress() memoises without mixing identities: same peer, different X-Forwarded-For", async () => {
  const app = new Hono<AppEnv>();
  app.use(clientAddress({ trustedProxies: [parseCIDR("10.0.0.0/8")!], memoSize: 4 }));
  app.get("/", (c) => c.text(`${c.var.client.address} ${c.var.client.key}`));
  const as = async (peer: string, forwarded?: string) => {
    const info = { remoteAddr: { transport: "tcp" as const, hostname: peer, port: 1 }, completed: Promise.resolve() };
    const headers: Record<string, string> = forwarded === undefined ? {} : { "X-Forwarded-For": forwarded };
    return await (await app.request("/", { headers }, info)).text();
  };
  for (let round = 0; round < 2; round++) { // the second round is served from the memo
    assert.equal(await as("10.0.0.1", "203.0.113.5"), "203.0.113.5 203.0.113.5");
    assert.equal(await as("10.0.0.1", "198.51.100.7"), "198.51.100.7 198.51.100.7");
    assert.equal(await as("10.0.0.1"), "10.0.0.1 10.0.0.1");
    assert.equal(await as("192.0.2.9", "203.0.113.5"), "192.0.2.9 192.0.2.9"); // untrusted peer: header ignored
  }
  const long = `${"198.51.100.1, ".repeat(40)}203.0.113.77`; // too long to become a memo key
  assert.ok(long.length > 256);
  assert.equal(await as("10.0.0.1", long), "203.0.113.77 203.0.113.77");
  for (let i = 0; i < 20; i++) await as(`192.0.2.${i}`); // evictions keep the memo bounded and correct
  assert.equal(await as("10.0.0.1", "203.0.113.5"), "203.0.113.5 203.0.113.5");
});
