// Fixture for deno-serve-without-tls (semgrep --test).
declare const handler: (r: Request) => Response, options: Deno.ServeTcpOptions, cert: string, key: string;

// ruleid: deno-serve-without-tls
Deno.serve(handler);

// ruleid: deno-serve-without-tls
Deno.serve({ hostname: "0.0.0.0", port: 8080 }, handler);

// ruleid: deno-serve-without-tls
Deno.serve({ port: 8443, cert }, handler);

// ruleid: deno-serve-without-tls
Deno.serve(options, handler);

// ruleid: deno-serve-without-tls
const listener = Deno.listen({ port: 8080 });

// ok: deno-serve-without-tls
Deno.serve({ port: 8443, cert: await Deno.readTextFile("c.pem"), key: await Deno.readTextFile("k.pem") }, handler);

// ok: deno-serve-without-tls
Deno.serve({ key, cert, port: 8443 }, handler);

// ok: deno-serve-without-tls
const tlsListener = Deno.listenTls({ port: 8443, cert, key });
