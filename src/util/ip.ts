/** Small IPv4 helpers: enough for address plans, no dependency. */

export function ipToInt(ip: string): number {
  const parts = ip.split(".").map((p) => Number.parseInt(p, 10));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`Cannot parse IPv4 address '${ip}'`);
  }
  const [a = 0, b = 0, c = 0, d = 0] = parts;
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

export function intToIp(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

export interface Cidr {
  address: string;
  prefix: number;
  /** First and last address of the range, as integers. */
  first: number;
  last: number;
}

export function parseCidr(cidr: string): Cidr {
  const [address = "", prefixText = ""] = cidr.split("/");
  const prefix = Number.parseInt(prefixText, 10);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`Cannot parse CIDR '${cidr}'`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const first = (ipToInt(address) & mask) >>> 0;
  const last = (first | (~mask >>> 0)) >>> 0;
  return { address: intToIp(first), prefix, first, last };
}

export function cidrContains(cidr: string | Cidr, ip: string): boolean {
  const range = typeof cidr === "string" ? parseCidr(cidr) : cidr;
  const value = ipToInt(ip);
  return value >= range.first && value <= range.last;
}

/** A usable host address: inside the range, not its network or broadcast address (for /30 and larger). */
export function isHostAddress(cidr: string | Cidr, ip: string): boolean {
  const range = typeof cidr === "string" ? parseCidr(cidr) : cidr;
  const value = ipToInt(ip);
  if (range.prefix >= 31) return cidrContains(range, ip);
  return value > range.first && value < range.last;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.first <= y.last && y.first <= x.last;
}
