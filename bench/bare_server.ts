/**
 * The physical limit for `deno task bench:http`: a bare `Deno.serve` over
 * the same TLS certificate, returning the same product JSON with the same
 * content type — no framework, no database, no security layers. The real
 * server's throughput is reported as a ratio to this one, measured in the
 * same run on the same machine.
 *
 * Usage: deno run --allow-net --allow-read bench/bare_server.ts <port> <cert> <key> <json-file>
 */
const [port, certFile, keyFile, bodyFile] = Deno.args;
if (!port || !certFile || !keyFile || !bodyFile) {
  console.error("usage: bare_server.ts <port> <cert.pem> <key.pem> <body.json>");
  Deno.exit(2);
}
const body = await Deno.readTextFile(bodyFile);
Deno.serve({
  hostname: "127.0.0.1",
  port: Number(port),
  cert: await Deno.readTextFile(certFile),
  key: await Deno.readTextFile(keyFile),
  onListen: () => console.log("listening"),
}, () => new Response(body, { headers: { "Content-Type": "application/json" } }));
