const PRICES = "http://prices.partner.example/v1/";

export async function latestPrices(): Promise<unknown> {
  // ruleid: cleartext-outbound-url
  return await (await fetch("http://prices.partner.example/v1/latest")).json();
}

export async function pricesFor(sku: string): Promise<unknown> {
  // ruleid: cleartext-outbound-url
  return await (await fetch(PRICES + "items?sku=" + encodeURIComponent(sku))).json();
}

// ruleid: cleartext-outbound-url
export const feed = new WebSocket("ws://events.partner.example/stream");

// ok: cleartext-outbound-url
export const local = await fetch("http://127.0.0.1:9000/health");
// ok: cleartext-outbound-url
export const secure = await fetch("https://prices.partner.example/v1/latest");
