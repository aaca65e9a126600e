/**
 * The development certificate: a self-signed ECDSA P-256 certificate for
 * `localhost` and `127.0.0.1`, generated on first start when no certificate
 * is configured, so `deno task start` serves HTTPS with no setup. The private
 * key is written with mode 0600 and git-ignored. Production refuses it
 * (`APP_ENV=production` requires `APP_TLS_CERT`/`APP_TLS_KEY`).
 */

/** Where the development certificate lives. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Validity of a generated certificate: 90 days, regenerated when fewer than 7 remain. */
const VALID_DAYS = 90;
const RENEW_DAYS = 7;

function pem(label: string, der: ArrayBuffer): string {
  const base64 = btoa(String.fromCharCode(...new Uint8Array(der)));
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

async function loadX509() {
  // @peculiar/x509 needs the Reflect metadata polyfill loaded first; both are
  // loaded only when a certificate is read or made, never at import.
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  x509.cryptoProvider.set(crypto);
  return x509;
}

async function stillValid(certFile: string, keyFile: string, now: number): Promise<boolean> {
  try {
    await Deno.stat(keyFile);
    const x509 = await loadX509();
    const cert = new x509.X509Certificate(await Deno.readTextFile(certFile));
    return cert.notAfter.getTime() - now > RENEW_DAYS * 86_400_000;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Generates a self-signed P-256 certificate for localhost and 127.0.0.1, valid from `now` (ms since the epoch), as PEM. */
export async function generateDevCertificate(now: number = Date.now()): Promise<{ cert: string; key: string }> {
  const x509 = await loadX509();
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0"))
      .join("").replace(/^[89a-f]/, "1"),
    name: "CN=localhost, O=secure-api development",
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + VALID_DAYS * 86_400_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
      ], false),
    ],
  });
  const key = pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { cert: cert.toString("pem") + "\n", key };
}

/**
 * Returns the development certificate in `dir`, generating it when missing
 * or about to expire. Reports whether it was created now.
 */
export async function ensureDevCertificate(
  dir: string,
  now: number = Date.now(),
): Promise<CertificateFiles & { created: boolean }> {
  const certFile = `${dir}/dev-cert.pem`;
  const keyFile = `${dir}/dev-key.pem`;
  if (await stillValid(certFile, keyFile, now)) return { certFile, keyFile, created: false };
  await Deno.mkdir(dir, { recursive: true });
  const { cert, key } = await generateDevCertificate(now);
  // Key first, private from its first byte, and swapped in by rename so a crash never leaves half a key.
  const tmp = `${keyFile}.tmp`;
  await Deno.writeTextFile(tmp, key, { mode: 0o600 });
  await Deno.chmod(tmp, 0o600);
  await Deno.rename(tmp, keyFile);
  await Deno.writeTextFile(certFile, cert, { mode: 0o644 });
  return { certFile, keyFile, created: true };
}
