"""Reserved address space: which IPv4/IPv6 ranges get which flag.

Values in these ranges are kept but flagged (feeds leave them out), never rejected.
The tables are public so the whitelist guard can reuse them. When ranges nest,
the most specific one decides the flag of the addresses it covers (``0.0.0.0`` is
``unspecified``, the rest of ``0.0.0.0/8`` is ``reserved``); a CIDR gets the union
of the flags of every range it overlaps.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right

EMPTY: frozenset[str] = frozenset()

# (network, flag); flag None marks space that is explicitly global inside a
# wider reserved block.
RESERVED_V4: tuple[tuple[str, str | None], ...] = (
    ("0.0.0.0/8", "reserved"),  # "this network" (RFC 791)
    ("0.0.0.0/32", "unspecified"),
    ("10.0.0.0/8", "private"),  # RFC 1918
    ("100.64.0.0/10", "cgnat"),  # RFC 6598 shared address space
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),  # IETF protocol assignments (RFC 6890)
    ("192.0.2.0/24", "documentation"),  # TEST-NET-1 (RFC 5737)
    ("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast (RFC 7526)
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),  # RFC 2544
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # class E
    ("255.255.255.255/32", "broadcast"),
)

RESERVED_V6: tuple[tuple[str, str | None], ...] = (
    # Everything outside 2000::/3 (global unicast) is not allocated: a bogon.
    ("::/3", "reserved"),
    ("4000::/2", "reserved"),
    ("8000::/1", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b::/96", None),  # NAT64 well-known prefix: global
    ("64:ff9b:1::/48", "private"),  # local-use NAT64 (RFC 8215)
    ("100::/64", "reserved"),  # discard-only (RFC 6666)
    ("2001:2::/48", "benchmarking"),  # RFC 5180
    ("2001:10::/28", "reserved"),  # deprecated ORCHID
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),  # RFC 9637
    ("5f00::/16", "reserved"),  # SRv6 SIDs (RFC 9602)
    ("fc00::/7", "private"),  # unique local
    ("fe80::/10", "link-local"),
    ("fec0::/10", "reserved"),  # deprecated site-local
    ("ff00::/8", "multicast"),
)


def _net(text: str) -> tuple[int, int, int]:
    """(first, last, prefix) of a table network; parsed once at import."""
    net = ipaddress.ip_network(text)
    return int(net.network_address), int(net.broadcast_address), net.prefixlen


def _paint(
    table: tuple[tuple[str, str | None], ...], bits: int
) -> tuple[list[int], list[int], list[frozenset[str]]]:
    """Cut the nested table into sorted disjoint intervals, most specific range winning."""
    nets = [(*_net(t), flag) for t, flag in table]
    bounds = sorted({lo for lo, _, _, _ in nets} | {hi + 1 for _, hi, _, _ in nets})
    starts: list[int] = []
    ends: list[int] = []
    flags: list[frozenset[str]] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        hi = b - 1
        best = None
        for lo_n, hi_n, p, flag in nets:
            if lo_n <= a and hi <= hi_n and (best is None or p > best[0]):
                best = (p, flag)
        if best is None or best[1] is None:
            continue
        fs = frozenset((best[1],))
        if ends and ends[-1] + 1 == a and flags[-1] == fs:
            ends[-1] = hi
        else:
            starts.append(a)
            ends.append(hi)
            flags.append(fs)
    return starts, ends, flags


_V4_STARTS, _V4_ENDS, _V4_FLAGS = _paint(RESERVED_V4, 32)
_V6_STARTS, _V6_ENDS, _V6_FLAGS = _paint(RESERVED_V6, 128)
# First octets that touch any reserved IPv4 range: a quick no for most addresses.
V4_HOT = frozenset(
    o for lo, hi in zip(_V4_STARTS, _V4_ENDS, strict=True) for o in range(lo >> 24, (hi >> 24) + 1)
)


def _lookup(
    lo: int, hi: int, starts: list[int], ends: list[int], flags: list[frozenset[str]]
) -> frozenset[str]:
    i = bisect_right(starts, lo) - 1
    if i < 0:
        i = 0
    found: frozenset[str] = EMPTY
    n = len(starts)
    while i < n and starts[i] <= hi:
        if ends[i] >= lo:
            found = flags[i] if not found else found | flags[i]
        i += 1
    return found


def v4_flags(lo: int, hi: int | None = None) -> frozenset[str]:
    """Flags of the IPv4 address ``lo`` or of the range ``lo..hi`` (as integers)."""
    if hi is None:
        if (lo >> 24) not in V4_HOT:
            return EMPTY
        hi = lo
    return _lookup(lo, hi, _V4_STARTS, _V4_ENDS, _V4_FLAGS)


def v6_flags(lo: int, hi: int | None = None) -> frozenset[str]:
    """Flags of the IPv6 address ``lo`` or of the range ``lo..hi`` (as integers)."""
    return _lookup(lo, lo if hi is None else hi, _V6_STARTS, _V6_ENDS, _V6_FLAGS)


def reserved_flags(value: str) -> frozenset[str]:
    """Flags of an IP address or CIDR given as text (any form :func:`normalize` accepts).

    Raises InvalidIndicator for anything that is not an address or a CIDR.
    """
    from .errors import InvalidIndicator
    from .normalize import normalize

    n = normalize(value)
    if n.itype not in ("ipv4", "ipv6", "ipv4_cidr", "ipv6_cidr"):
        raise InvalidIndicator(value, f"it is {n.itype}, not an IP address or CIDR")
    return n.flags
