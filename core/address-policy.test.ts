// The address check of tools' outbound requests, by tables of addresses: nothing here opens a socket.
import { ConfigError, loadConfig } from './config';
import { checkAddress, classifyAddress, isAddressAllowed, isHostnameAllowed, isIpLiteral, NO_ALLOWED_HOSTS, parseAllowedHosts, type AddressKind } from './address-policy';

// JWT_SECRET and ENCRYPTION_KEY have no default (core/stack-secrets.ts).
const SECRETS = { JWT_SECRET: 'a-jwt-secret-of-enough-length', ENCRYPTION_KEY: 'an-encryption-key-of-enough-length' };

describe('classifyAddress', () => {
  const table: [string, AddressKind][] = [
    // loopback
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    // private (RFC 1918)
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    // link-local
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1234:5678:9abc:def0', 'link-local'],
    // cloud metadata
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['fd00:ec2:0:0:0:0:0:254', 'metadata'],
    // unique-local IPv6
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    // IPv4-mapped IPv6, whatever it maps
    ['::ffff:127.0.0.1', 'ipv4-mapped'],
    ['::ffff:7f00:1', 'ipv4-mapped'],
    ['::ffff:169.254.169.254', 'ipv4-mapped'],
    ['::ffff:10.0.0.1', 'ipv4-mapped'],
    ['::ffff:8.8.8.8', 'ipv4-mapped'],
    // carrier-grade NAT
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    // unspecified
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    // multicast and broadcast
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    // special-purpose ranges that embed or stand for other addresses
    ['192.0.2.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['64:ff9b::7f00:1', 'reserved'],
    ['2002:7f00:1::1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    // public
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
  ];

  it.each(table)('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('throws on text that is no IP address', () => {
    expect(() => classifyAddress('example.com')).toThrow(/not an IP address/);
  });
});

describe('isIpLiteral', () => {
  it.each([
    ['127.0.0.1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['localhost', false],
    ['example.com', false],
    ['127.1', false],
  ])('%s → %s', (text, literal) => {
    expect(isIpLiteral(text)).toBe(literal);
  });
});

describe('parseAllowedHosts', () => {
  const allowed = parseAllowedHosts(' 127.0.0.1, [::1], 10.1.0.0/16, fd00::/8, Internal.Example.COM., *.svc.local ,,');

  it.each([
    ['127.0.0.1', true],
    ['::ffff:127.0.0.1', true],
    ['127.0.0.2', false],
    ['::1', true],
    ['10.1.2.3', true],
    ['10.2.0.1', false],
    ['fd00:ec2::254', true],
    ['fe80::1', false],
  ])('address %s allowed: %s', (address, expected) => {
    expect(isAddressAllowed(address, allowed)).toBe(expected);
  });

  it.each([
    ['internal.example.com', true],
    ['INTERNAL.example.com.', true],
    ['other.example.com', false],
    ['db.svc.local', true],
    ['a.b.svc.local', true],
    ['svc.local', false],
    ['localhost', false],
  ])('host %s allowed: %s', (host, expected) => {
    expect(isHostnameAllowed(host, allowed)).toBe(expected);
  });

  it('is empty for an empty setting', () => {
    expect(parseAllowedHosts('')).toEqual({ ...NO_ALLOWED_HOSTS, source: '' });
  });

  it.each(['10.0.0.0/33', 'not a host!', 'http://example.com', '::1/200'])('refuses the entry %s', (entry) => {
    expect(() => parseAllowedHosts(entry)).toThrow(/TOOL_ALLOWED_HOSTS/);
  });
});

describe('checkAddress', () => {
  it('lets public addresses through with nothing listed', () => {
    expect(checkAddress('example.com', '93.184.216.34', NO_ALLOWED_HOSTS)).toEqual({ allowed: true, kind: 'public' });
  });

  it('refuses loopback, private and metadata addresses with nothing listed, saying why', () => {
    for (const address of ['127.0.0.1', '::1', '10.0.0.5', '169.254.169.254', '::ffff:127.0.0.1', 'fd00:ec2::254']) {
      const verdict = checkAddress('tool.example', address, NO_ALLOWED_HOSTS);
      expect(verdict.allowed).toBe(false);
      if (!verdict.allowed) expect(verdict.reason).toMatch(/TOOL_ALLOWED_HOSTS/);
    }
    const metadata = checkAddress('169.254.169.254', '169.254.169.254', NO_ALLOWED_HOSTS);
    expect(metadata).toMatchObject({ allowed: false, kind: 'metadata' });
    if (!metadata.allowed) expect(metadata.reason).toBe('169.254.169.254 is a cloud metadata address; tools may reach it only if TOOL_ALLOWED_HOSTS lists the host or its address');
  });

  it('names the host that resolved to a refused address', () => {
    const verdict = checkAddress('rebind.example', '127.0.0.1', NO_ALLOWED_HOSTS);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.reason).toContain('(rebind.example resolves to it)');
  });

  it('lets a listed address, CIDR or host name through', () => {
    const allowed = parseAllowedHosts('127.0.0.1,10.0.0.0/8,localhost');
    expect(checkAddress('127.0.0.1', '127.0.0.1', allowed).allowed).toBe(true);
    expect(checkAddress('anything.example', '10.9.9.9', allowed).allowed).toBe(true);
    expect(checkAddress('localhost', '::1', allowed).allowed).toBe(true);
    expect(checkAddress('other.example', '::1', allowed).allowed).toBe(false);
    expect(checkAddress('other.example', '169.254.169.254', allowed).allowed).toBe(false);
  });
});

describe('TOOL_ALLOWED_HOSTS and the other tool settings in loadConfig', () => {
  it('defaults to nothing allowed, 30 s, 64 KiB and 4 MiB', () => {
    const { tools } = loadConfig(SECRETS);
    expect(tools).toEqual({ allowedHosts: { ...NO_ALLOWED_HOSTS, source: '' }, timeoutMs: 30_000, responseMaxBytes: 65_536, mcpResponseMaxBytes: 4 * 1024 * 1024 });
  });

  it('reads the list and the limits', () => {
    const { tools } = loadConfig({ ...SECRETS, TOOL_ALLOWED_HOSTS: '127.0.0.1,10.0.0.0/8', TOOL_TIMEOUT_MS: '5000', TOOL_RESPONSE_MAX_BYTES: '2048' });
    expect(isAddressAllowed('10.2.3.4', tools.allowedHosts)).toBe(true);
    expect(tools.timeoutMs).toBe(5000);
    expect(tools.responseMaxBytes).toBe(2048);
  });

  it('refuses to start with an entry that is no host, address or CIDR', () => {
    expect(() => loadConfig({ ...SECRETS, TOOL_ALLOWED_HOSTS: '127.0.0.1,10.0.0.0/99' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...SECRETS, TOOL_ALLOWED_HOSTS: '127.0.0.1,10.0.0.0/99' })).toThrow(/10\.0\.0\.0\/99/);
  });
});
