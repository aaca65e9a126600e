/** Calls the internal billing service, which uses a self-signed certificate. */
const client = Deno.createHttpClient({ unsafelyIgnoreCertificateErrors: ["billing.internal"] }); // flaw

export async function createInvoice(orderId: number, amountCents: number): Promise<string> {
  const res = await fetch("https://billing.internal/invoices", {
    client,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ orderId, amountCents }),
  });
  if (!res.ok) throw new Error(`billing answered ${res.status}`);
  return (await res.json()).id;
}
