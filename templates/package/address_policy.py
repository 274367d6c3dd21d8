"""Where the package's http tools may connect (the platform's core/address-policy.ts, over `ipaddress`): an
address is classified by its range, and only public unicast addresses pass unless TOOL_ALLOWED_HOSTS lists
the host, the address or a CIDR holding it. Pure: parsing and matching only, no DNS, no sockets
(http_tool.py resolves, checks every address, then connects to a checked one)."""
import ipaddress

# Instance-metadata endpoints of the clouds, named apart so a refusal says what it protects.
METADATA_ADDRESSES = ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
_METADATA = {ipaddress.ip_address(a) for a in METADATA_ADDRESSES}

_V4_PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
_V4_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_V4_BROADCAST = ipaddress.ip_address("255.255.255.255")
_V6_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")

KIND_NAMES = {
    "public": "public",
    "loopback": "loopback",
    "private": "private",
    "link-local": "link-local",
    "metadata": "cloud metadata",
    "unique-local": "unique-local (private IPv6)",
    "ipv4-mapped": "IPv4-mapped IPv6",
    "cgnat": "carrier-grade NAT (shared)",
    "unspecified": "unspecified",
    "multicast": "multicast",
    "broadcast": "broadcast",
    "reserved": "reserved or special-purpose",
}


class AllowedHostsError(ValueError):
    pass


def parse_ip(text):
    """An IP address from text, with or without the brackets of a URL, and without an IPv6 zone index."""
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    return ipaddress.ip_address(bare.split("%", 1)[0])


def is_ip_literal(text):
    try:
        parse_ip(text)
        return True
    except ValueError:
        return False


def classify_address(address):
    """The kind of an address; only `public` passes by default. Ranges that are not public unicast and have no
    kind of their own are `reserved` (documentation, benchmarking, 6to4, Teredo, NAT64 and the like)."""
    ip = parse_ip(address) if isinstance(address, str) else address
    if ip in _METADATA:
        return "metadata"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return "ipv4-mapped"
        if ip.is_unspecified:
            return "unspecified"
        if ip.is_loopback:
            return "loopback"
        if ip.is_link_local:
            return "link-local"
        if ip.is_multicast:
            return "multicast"
        if ip in _V6_UNIQUE_LOCAL:
            return "unique-local"
    else:
        if ip.is_unspecified:
            return "unspecified"
        if ip == _V4_BROADCAST:
            return "broadcast"
        if ip.is_multicast:
            return "multicast"
        if ip.is_link_local:
            return "link-local"
        if ip.is_loopback:
            return "loopback"
        if ip in _V4_CGNAT:
            return "cgnat"
        if any(ip in n for n in _V4_PRIVATE):
            return "private"
    return "public" if ip.is_global else "reserved"


class AllowedHosts:
    """TOOL_ALLOWED_HOSTS: comma-separated host names (`*.example.com` for subdomains), addresses and CIDRs."""

    def __init__(self, setting=""):
        self.source = setting
        self.hostnames, self.suffixes, self.networks = [], [], []
        for raw in setting.split(","):
            item = raw.strip()
            if not item:
                continue
            if "/" in item:
                try:
                    self.networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
                except ValueError:
                    raise AllowedHostsError('TOOL_ALLOWED_HOSTS: "%s" is not a CIDR range (like 10.0.0.0/8 or fd00::/8)' % item)
                continue
            if is_ip_literal(item):
                self.networks.append(ipaddress.ip_network(parse_ip(item)))
                continue
            name = _normalize_hostname(item)
            if name.startswith("*.") and name[2:]:
                self.suffixes.append(name[1:])
            elif name and all(part for part in name.split(".")):
                self.hostnames.append(name)
            else:
                raise AllowedHostsError('TOOL_ALLOWED_HOSTS: "%s" is not a host name, an IP address or a CIDR range' % item)

    def host_allowed(self, hostname):
        name = _normalize_hostname(hostname)
        return name in self.hostnames or any(name.endswith(s) for s in self.suffixes)

    def address_allowed(self, address):
        ip = parse_ip(address) if isinstance(address, str) else address
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == n.version and ip in n for n in self.networks)


def check_address(hostname, address, allowed):
    """None when a connection to `address`, reached through `hostname`, may be made; else why not."""
    kind = classify_address(address)
    if kind == "public" or allowed.host_allowed(hostname) or allowed.address_allowed(address):
        return None
    via = "" if _normalize_hostname(hostname) == _normalize_hostname(str(address)) else " (%s resolves to it)" % hostname
    return "%s is a %s address%s; tools may reach it only if TOOL_ALLOWED_HOSTS lists the host or its address" % (address, KIND_NAMES[kind], via)


def _normalize_hostname(hostname):
    name = hostname.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name[:-1] if name.endswith(".") else name
