/**
 * IP address and CIDR parsing without regular-expression guesswork.
 *
 * Addresses are parsed into bytes so that comparisons (is this peer a trusted
 * proxy? which /64 does this IPv6 client belong to?) are exact. IPv4-mapped
 * IPv6 addresses (`::ffff:192.0.2.1`) are normalised to IPv4, otherwise one
 * client could appear under two identities and get two rate-limit budgets.
 */

/** A parsed IP address: 4 bytes for IPv4, 16 for IPv6. */
export interface IPAddress {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
}

/** A parsed CIDR block such as `10.0.0.0/8` or `2001:db8::/32`. */
export interface CIDR {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    // Decimal only, no leading zeros: "010" is octal in some parsers, so refuse it.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

function parseIPv6(text: string): Uint8Array | null {
  if (text.length > 45 || text.length < 2) return null;
  let head = text;
  let tailV4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.indexOf(".", lastColon) !== -1) {
    tailV4 = parseIPv4(text.slice(lastColon + 1));
    if (!tailV4) return null;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === "") return [];
    const groups = s.split(":");
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(halves[0]!);
  const right = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!left || !right) return null;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (tailV4) bytes.set(tailV4, 12);
  return bytes;
}

function isIPv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * Parses an IPv4 or IPv6 address (brackets and zone ids are refused; callers
 * strip brackets from `[::1]` first). Returns null for anything else, so a
 * forged `X-Forwarded-For: <script>` can never be mistaken for an address.
 */
export function parseIP(text: string): IPAddress | null {
  const v4 = parseIPv4(text);
  if (v4) return { version: 4, bytes: v4 };
  const v6 = parseIPv6(text);
  if (!v6) return null;
  if (isIPv4Mapped(v6)) return { version: 4, bytes: v6.slice(12) };
  return { version: 6, bytes: v6 };
}

/**
 * Parses `addr/prefix`; a bare address is a /32 or /128 block. An
 * IPv4-mapped block (`::ffff:10.0.0.0/104`) becomes the IPv4 block it
 * covers (`10.0.0.0/8`), matching how {@link parseIP} normalises addresses.
 */
export function parseCIDR(text: string): CIDR | null {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseIP(addressText);
  if (!address) return null;
  const mapped = address.version === 4 && addressText.includes(":");
  const max = address.version === 4 && !mapped ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  if (mapped) {
    if (prefix < 96) return null;
    prefix -= 96;
  }
  return { version: address.version, bytes: address.bytes, prefix };
}

/** True when `ip` lies inside `cidr` (same family only). */
export function cidrContains(cidr: CIDR, ip: IPAddress): boolean {
  if (cidr.version !== ip.version) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) {
    if (cidr.bytes[i] !== ip.bytes[i]) return false;
  }
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((cidr.bytes[full]! ^ ip.bytes[full]!) & mask) === 0;
}

/** Formats an address canonically (RFC 5952 for IPv6: lower case, longest zero run as `::`). */
export function formatIP(ip: IPAddress): string {
  if (ip.version === 4) return Array.from(ip.bytes).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip.bytes[i]! << 8) | ip.bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLength).join(":");
  return `${left}::${right}`;
}

/**
 * The identity used for per-client limits: the address itself for IPv4, the
 * /64 network for IPv6. An IPv6 end site usually receives a whole /64, so
 * keying on single addresses would hand one attacker 2^64 fresh budgets.
 */
export function clientKeyOf(ip: IPAddress): string {
  if (ip.version === 4) return formatIP(ip);
  const network = new Uint8Array(16);
  network.set(ip.bytes.subarray(0, 8));
  return `${formatIP({ version: 6, bytes: network })}/64`;
}
