/**
 * The development certificate uses approved algorithms at ≥ 128-bit security
 * (ASVS 5.0 11.6.1, 11.2.3): an ECDSA P-256 key, signed with ECDSA over
 * SHA-256, for server authentication only.
 */
import assert from "node:assert/strict";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { generateDevCertificate } from "../src/tls/dev_cert.ts";

Deno.test("the development certificate is ECDSA P-256 signed with SHA-256, its key importable only as P-256", async () => {
  const { cert, key } = await generateDevCertificate(Date.parse("2026-01-01T00:00:00Z"));
  x509.cryptoProvider.set(crypto);
  const certificate = new x509.X509Certificate(cert);
  assert.deepEqual(certificate.signatureAlgorithm, { name: "ECDSA", hash: { name: "SHA-256" } });
  const publicKey = await certificate.publicKey.export(crypto);
  assert.deepEqual(publicKey.algorithm, { name: "ECDSA", namedCurve: "P-256" });
  assert.ok(await certificate.verify({ signatureOnly: true }), "self-signature verifies");
  const der = Uint8Array.from(atob(key.replace(/-----[A-Z ]+-----|\s/g, "")), (c) => c.charCodeAt(0));
  const privateKey = await crypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
  ]);
  assert.equal((privateKey.algorithm as EcKeyAlgorithm).namedCurve, "P-256");
  const usage = certificate.getExtension(x509.ExtendedKeyUsageExtension);
  assert.deepEqual([...(usage?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth]);
});
