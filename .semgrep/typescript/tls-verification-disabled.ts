import postgres from "postgres";
import https from "node:https";

// ruleid: tls-verification-disabled
const client = Deno.createHttpClient({ unsafelyIgnoreCertificateErrors: [] });
await fetch("https://billing.internal.example/invoices", { client });

// ruleid: tls-verification-disabled
https.get("https://billing.internal.example/", { rejectUnauthorized: false });

// ruleid: tls-verification-disabled
Deno.env.set("NODE_TLS_REJECT_UNAUTHORIZED", "0");

// ruleid: tls-verification-disabled
const sql = postgres(Deno.env.get("APP_DATABASE_URL"), { ssl: "require", max: 10 });

// ruleid: tls-verification-disabled
const sql2 = postgres("postgres://api@db.internal.example/app?sslmode=require");

await new Deno.Command("deno", {
  // ruleid: tls-verification-disabled
  args: ["run", "--unsafely-ignore-certificate-errors", "worker.ts"],
}).output();

// ruleid: tls-verification-disabled
const agent = new https.Agent({ keepAlive: true, checkServerIdentity: () => undefined });

// --- correct code ---

const ca = await Deno.readTextFile("./certs/internal-ca.pem");
// ok: tls-verification-disabled
const trusted = Deno.createHttpClient({ caCerts: [ca] });
// ok: tls-verification-disabled
const verified = postgres(Deno.env.get("APP_DATABASE_URL"), { ssl: "verify-full" });
// ok: tls-verification-disabled
const strict = postgres("postgres://api@db.internal.example/app?sslmode=verify-full", { ssl: { ca } });
// ok: tls-verification-disabled
https.get("https://billing.internal.example/", { rejectUnauthorized: true, ca });
