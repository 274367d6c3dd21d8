// Where outbound requests of tools and MCP clients may go (DESIGN.md §8): an address is classified by its
// range, and only public unicast addresses pass unless `TOOL_ALLOWED_HOSTS` lists the host, the address or a
// CIDR holding it. Pure: parsing and matching only, no DNS, no sockets (activities/tools/outbound.ts resolves
// and connects). ipaddr.js parses; why not hand-written parsing is in docs/decisions.md.
import ipaddr from 'ipaddr.js';

/** What an address is, as far as reaching it from a worker goes. Only `public` passes by default. */
export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'unique-local'
  | 'ipv4-mapped'
  | 'cgnat'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

/**
 * Instance-metadata endpoints of the clouds (AWS, GCP, Azure, OpenStack; ECS tasks; Alibaba; Oracle), which
 * hand out credentials to whoever asks from inside. Named apart so a refusal says what it protects.
 */
export const METADATA_ADDRESSES: readonly string[] = ['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192', 'fd00:ec2::254'];

const METADATA = new Set(METADATA_ADDRESSES.map((a) => ipaddr.parse(a).toNormalizedString()));

const IPV4_KINDS: Record<string, AddressKind> = {
  unicast: 'public',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'cgnat',
  private: 'private',
};

const IPV6_KINDS: Record<string, AddressKind> = {
  unicast: 'public',
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'unique-local',
  ipv4Mapped: 'ipv4-mapped',
};

/** Whether `text` is an IPv4 or IPv6 literal (IPv6 with or without the brackets of a URL). */
export function isIpLiteral(text: string): boolean {
  return ipaddr.isValid(unbracket(text)) && isStrictIpv4OrV6(unbracket(text));
}

/**
 * The kind of an IP address. Every range that is not public unicast has a kind of its own or `reserved`
 * (documentation, benchmarking, 6to4, Teredo, NAT64 and the like: ranges that embed or stand for other
 * addresses, or that nobody should serve tools from). Throws on text that is no IP address.
 */
export function classifyAddress(address: string): AddressKind {
  const parsed = parseIp(address);
  if (METADATA.has(parsed.toNormalizedString())) return 'metadata';
  const range = parsed.range();
  const kinds = parsed.kind() === 'ipv4' ? IPV4_KINDS : IPV6_KINDS;
  return kinds[range] ?? 'reserved';
}

/** What `TOOL_ALLOWED_HOSTS` lets through: host names (`*.example.com` for subdomains), addresses, CIDRs. */
export interface AllowedHosts {
  hostnames: readonly string[];
  /** `*.example.com` entries, stored as `.example.com`. */
  suffixes: readonly string[];
  cidrs: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
  /** The setting as given, for messages. */
  source: string;
}

export const NO_ALLOWED_HOSTS: AllowedHosts = { hostnames: [], suffixes: [], cidrs: [], source: '' };

export class AllowedHostsError extends Error {
  override name = 'AllowedHostsError';
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/;

/**
 * Parses `TOOL_ALLOWED_HOSTS`: comma-separated host names, IP addresses (`::1` or `[::1]`) and CIDRs
 * (`10.0.0.0/8`, `fd00::/8`). Names compare case-insensitively and without a trailing dot. Throws
 * AllowedHostsError naming the first entry that is none of those.
 */
export function parseAllowedHosts(setting: string): AllowedHosts {
  const hostnames: string[] = [];
  const suffixes: string[] = [];
  const cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const raw of setting.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    if (entry.includes('/')) {
      try {
        cidrs.push(ipaddr.parseCIDR(unbracket(entry)));
      } catch {
        throw new AllowedHostsError(`TOOL_ALLOWED_HOSTS: "${entry}" is not a CIDR range (like 10.0.0.0/8 or fd00::/8)`);
      }
      continue;
    }
    if (isIpLiteral(entry)) {
      const address = parseIp(entry);
      cidrs.push([address, address.kind() === 'ipv4' ? 32 : 128]);
      continue;
    }
    const name = normalizeHostname(entry);
    if (name.startsWith('*.') && HOSTNAME.test(name.slice(2))) {
      suffixes.push(name.slice(1));
    } else if (HOSTNAME.test(name)) {
      hostnames.push(name);
    } else {
      throw new AllowedHostsError(`TOOL_ALLOWED_HOSTS: "${entry}" is not a host name, an IP address or a CIDR range`);
    }
  }
  return { hostnames, suffixes, cidrs, source: setting };
}

/** Whether the host name itself is listed (then every address it resolves to may be reached). */
export function isHostnameAllowed(hostname: string, allowed: AllowedHosts): boolean {
  const name = normalizeHostname(hostname);
  return allowed.hostnames.includes(name) || allowed.suffixes.some((s) => name.endsWith(s));
}

/** Whether an address is in a listed address or CIDR; an IPv4-mapped IPv6 address matches as its IPv4 address. */
export function isAddressAllowed(address: string, allowed: AllowedHosts): boolean {
  let parsed = parseIp(address);
  if (parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress()) parsed = parsed.toIPv4Address();
  const candidate = parsed;
  return allowed.cidrs.some(([range, bits]) => range.kind() === candidate.kind() && candidate.match(range, bits));
}

/** The verdict on one address a request would connect to. */
export type AddressVerdict = { allowed: true; kind: AddressKind } | { allowed: false; kind: AddressKind; reason: string };

/**
 * Decides whether a connection to `address`, reached through `hostname`, may be made: public addresses
 * always, others only when the host name or the address is listed in `allowed`.
 */
export function checkAddress(hostname: string, address: string, allowed: AllowedHosts): AddressVerdict {
  const kind = classifyAddress(address);
  if (kind === 'public' || isHostnameAllowed(hostname, allowed) || isAddressAllowed(address, allowed)) return { allowed: true, kind };
  const via = normalizeHostname(hostname) === normalizeAddress(address) ? '' : ` (${hostname} resolves to it)`;
  return {
    allowed: false,
    kind,
    reason: `${address} is a ${KIND_NAMES[kind]} address${via}; tools may reach it only if TOOL_ALLOWED_HOSTS lists the host or its address`,
  };
}

const KIND_NAMES: Record<AddressKind, string> = {
  public: 'public',
  loopback: 'loopback',
  private: 'private',
  'link-local': 'link-local',
  metadata: 'cloud metadata',
  'unique-local': 'unique-local (private IPv6)',
  'ipv4-mapped': 'IPv4-mapped IPv6',
  cgnat: 'carrier-grade NAT (shared)',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved or special-purpose',
};

function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const bare = unbracket(text);
  // ipaddr.parse also takes the old shorthands (`127.1`, `0x7f.1`, a bare 32-bit number) that inet_aton
  // accepts; they are addresses all the same, and classifying them is the safe side.
  if (!ipaddr.isValid(bare)) throw new AllowedHostsError(`"${text}" is not an IP address`);
  // A zone index (`fe80::1%eth0`) names an interface, not another address: the address part is classified.
  return ipaddr.parse(bare);
}

function isStrictIpv4OrV6(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
}

function unbracket(text: string): string {
  return text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
}

function normalizeHostname(hostname: string): string {
  return unbracket(hostname.trim().toLowerCase()).replace(/\.$/, '');
}

function normalizeAddress(address: string): string {
  return unbracket(address.toLowerCase());
}
