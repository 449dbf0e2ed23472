/**
 * Address counting for CIDR lists, IPv4 and IPv6, so that rules judge what a list admits rather than how it
 * is spelled: `0.0.0.0/1` and `128.0.0.0/1` together admit the whole IPv4 internet as surely as `0.0.0.0/0`.
 * Overlapping entries are counted once. Sources: RFC 4632 (CIDR notation), RFC 4291 section 2.3 (IPv6
 * prefixes), RFC 1918, RFC 6598, RFC 3927, RFC 4193 and RFC 4291 section 2.5.6 (ranges that never route on
 * the internet).
 */

/** A parsed CIDR: its family and the half-open interval [start, end) of addresses it covers. */
export interface CidrRange {
  readonly family: 4 | 6;
  readonly start: bigint;
  readonly end: bigint;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function parseIpv4(text: string): CidrRange | undefined {
  const match = IPV4_CIDR.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
  const size = 1n << BigInt(32 - prefix);
  const start = address - (address % size);
  return { family: 4, start, end: start + size };
}

/** The 128-bit value of an IPv6 address (with `::` compression and an optional dotted IPv4 tail). */
function ipv6Value(text: string): bigint | undefined {
  let body = text;
  const tail: number[] = [];
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(body);
  if (dotted !== null) {
    const octets = dotted.slice(1, 5).map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    tail.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
    body = body.slice(0, body.length - dotted[0].length) + "0";
  }
  const halves = body.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups = part.split(":");
    if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    return groups.map((g) => parseInt(g, 16));
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === undefined || rest === undefined) return undefined;
  if (dotted !== null) (halves.length === 2 ? rest : head).pop();
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const groups = [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function parseIpv6(text: string): CidrRange | undefined {
  const slash = text.lastIndexOf("/");
  if (slash < 0 || !text.includes(":")) return undefined;
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const address = ipv6Value(text.slice(0, slash));
  if (address === undefined || prefix > 128) return undefined;
  const size = 1n << BigInt(128 - prefix);
  const start = address - (address % size);
  return { family: 6, start, end: start + size };
}

/** The range a CIDR covers, or undefined when it is neither an IPv4 nor an IPv6 CIDR. */
export function parseCidr(cidr: string): CidrRange | undefined {
  const text = cidr.trim();
  return parseIpv4(text) ?? parseIpv6(text);
}

/** Ranges that never route on the internet: private, shared (CGNAT), loopback, link-local, unique local. */
const NON_INTERNET = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "::1/128",
  "fc00::/7",
  "fe80::/10",
].map((c) => parseCidr(c)!);

function merged(ranges: readonly CidrRange[]): CidrRange[] {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: CidrRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end) {
      if (r.end > last.end) out[out.length - 1] = { ...last, end: r.end };
    } else out.push(r);
  }
  return out;
}

function size(ranges: readonly CidrRange[]): bigint {
  return ranges.reduce((acc, r) => acc + (r.end - r.start), 0n);
}

/** What a CIDR list admits, per family, counting overlaps once. */
export interface Coverage {
  /** Every IPv4 / IPv6 address the list covers. */
  readonly ipv4: bigint;
  readonly ipv6: bigint;
  /** Those of them that route on the internet (the non-internet ranges above left out). */
  readonly publicIpv4: bigint;
  readonly publicIpv6: bigint;
  /** Entries that are not CIDRs at all. */
  readonly invalid: readonly string[];
}

/** Counts what `cidrs` admit (IPv4 and IPv6 separately, overlaps once). */
export function coverage(cidrs: readonly string[]): Coverage {
  const invalid: string[] = [];
  const ranges: CidrRange[] = [];
  for (const cidr of cidrs) {
    const range = parseCidr(cidr);
    if (range === undefined) invalid.push(cidr);
    else ranges.push(range);
  }
  const count = (family: 4 | 6) => {
    const mine = merged(ranges.filter((r) => r.family === family));
    const all = size(mine);
    let excluded = 0n;
    for (const r of mine)
      for (const n of NON_INTERNET.filter((x) => x.family === family)) {
        const start = r.start > n.start ? r.start : n.start;
        const end = r.end < n.end ? r.end : n.end;
        if (end > start) excluded += end - start;
      }
    return { all, publicCount: all - excluded };
  };
  const v4 = count(4);
  const v6 = count(6);
  return { ipv4: v4.all, ipv6: v6.all, publicIpv4: v4.publicCount, publicIpv6: v6.publicCount, invalid };
}

/** A /16 of IPv4 and a /48 of IPv6 (one site's allocation, RFC 6177): the most internet addresses a rule admits by default. */
export const DEFAULT_MAX_PUBLIC_IPV4 = 65_536n;
export const DEFAULT_MAX_PUBLIC_IPV6 = 1n << 80n;

/**
 * Whether `cidrs` admit more of the internet than one network: more than `maxIpv4` public IPv4 addresses
 * or `maxIpv6` public IPv6 addresses together. Returns a phrase saying how much, or undefined.
 */
export function admitsInternet(
  cidrs: readonly string[],
  maxIpv4: bigint = DEFAULT_MAX_PUBLIC_IPV4,
  maxIpv6: bigint = DEFAULT_MAX_PUBLIC_IPV6,
): string | undefined {
  const c = coverage(cidrs);
  const parts: string[] = [];
  if (c.publicIpv4 > maxIpv4) parts.push(`${c.publicIpv4} public IPv4 addresses`);
  if (c.publicIpv6 > maxIpv6) parts.push(`${share(c.publicIpv6, 1n << 128n)} of the IPv6 address space`);
  return parts.length === 0 ? undefined : parts.join(" and ");
}

function share(part: bigint, whole: bigint): string {
  const perMille = Number((part * 1000n) / whole);
  return perMille >= 1 ? `${(perMille / 10).toFixed(1)}%` : `2^${part.toString(2).length - 1} addresses`;
}
