"""IPv4/IPv6 addresses and CIDRs with plain integer math (no ipaddress objects).

The parsers raise :class:`Bad` with the reason only; the caller names the value.
"""

from __future__ import annotations

import re
from socket import AF_INET, AF_INET6, inet_ntop, inet_pton

from .errors import Bad
from .reserved import EMPTY, V4_HOT, v4_flags, v6_flags

V4_RE = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})")
V6_CHARS = re.compile(r"[0-9a-fA-F:.]+")
_ALL32 = 0xFFFFFFFF
_ALL128 = (1 << 128) - 1
_MAPPED = 0xFFFF00000000


def v4_int(s: str) -> int:
    """Dotted-quad text to an integer; zero-padded octets are read as decimal."""
    m = V4_RE.fullmatch(s)
    if m is None:
        raise Bad(_v4_reason(s))
    return v4_from_match(m)


def v4_fast(s: str) -> int:
    """Like :func:`v4_int`, with the C parser for the common (no leading zero) case."""
    if s[:1] != "0" and ".0" not in s:
        try:
            return int.from_bytes(inet_pton(AF_INET, s), "big")
        except OSError:
            pass
    return v4_int(s)


def ipv4_plain(s: str) -> tuple[str, str, frozenset[str]] | None:
    """(s, "ipv4", flags) if ``s`` is already a canonical dotted quad, else None (no raise)."""
    if s[:1] == "0" or ".0" in s:
        return None
    try:
        b = inet_pton(AF_INET, s)
    except OSError:
        return None
    if b[0] not in V4_HOT:
        return s, "ipv4", EMPTY
    return s, "ipv4", v4_flags(int.from_bytes(b, "big"))


def v4_from_match(m: re.Match[str]) -> int:
    a, b, c, d = int(m[1]), int(m[2]), int(m[3]), int(m[4])
    if a > 255 or b > 255 or c > 255 or d > 255:
        for o in (a, b, c, d):
            if o > 255:
                raise Bad(f"octet {o} is out of range")
    return a << 24 | b << 16 | c << 8 | d


def _v4_reason(s: str) -> str:
    parts = s.split(".")
    if len(parts) != 4:
        return f"not a dotted-quad IPv4 address ({len(parts)} parts)"
    for p in parts:
        if not p:
            return "an IPv4 octet is empty"
        if not (p.isascii() and p.isdigit()):
            return f"octet {p!r} is not a decimal number"
        if int(p) > 255:
            return f"octet {int(p)} is out of range"
        if len(p) > 3:
            return f"octet {p!r} has too many digits"
    return "not a dotted-quad IPv4 address"


def v4_str(n: int) -> str:
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def v6_int(s: str) -> int:
    """IPv6 text (any valid form, an IPv4 tail allowed) to an integer."""
    if "%" in s:
        raise Bad("a zone index (%...) is local to one host and not accepted")
    if V6_CHARS.fullmatch(s) is None:
        raise Bad("not an IPv6 address")
    if "." in s:
        k = s.rfind(":")
        tail = v4_int(s[k + 1 :])
        s = f"{s[: k + 1]}{tail >> 16:x}:{tail & 0xFFFF:x}"
    if "::" in s:
        head, tail_s = s.split("::", 1)
        if "::" in tail_s:
            raise Bad("more than one '::' in an IPv6 address")
        hs = head.split(":") if head else []
        ts = tail_s.split(":") if tail_s else []
        fill = 8 - len(hs) - len(ts)
        if fill < 1:
            raise Bad("too many groups in an IPv6 address")
        parts = hs + ["0"] * fill + ts
    else:
        parts = s.split(":")
        if len(parts) != 8:
            raise Bad(f"an IPv6 address has 8 groups, not {len(parts)}")
    n = 0
    for p in parts:
        if not p or len(p) > 4 or "." in p:
            raise Bad(f"IPv6 group {p!r} is not 1 to 4 hex digits")
        n = n << 16 | int(p, 16)
    return n


def v6_str(n: int) -> str:
    """RFC 5952 text: lowercase, no leading zeros, the longest run of 2+ zero groups as '::'."""
    h = f"{n:032x}"
    groups = [h[i : i + 4].lstrip("0") or "0" for i in range(0, 32, 4)]
    best = cur = 0
    best_at = cur_at = -1
    for i, g in enumerate(groups):
        if g == "0":
            if cur == 0:
                cur_at = i
            cur += 1
            if cur > best:
                best, best_at = cur, cur_at
        else:
            cur = 0
    if best < 2:
        return ":".join(groups)
    return ":".join(groups[:best_at]) + "::" + ":".join(groups[best_at + best :])


def _prefix(p: str, bits: int) -> int:
    if not (p.isascii() and p.isdigit()) or len(p) > 3:
        raise Bad(f"prefix length {p!r} is not a number")
    n = int(p)
    if n > bits:
        raise Bad(f"prefix length {n} is out of range (0-{bits})")
    if n == 0:
        raise Bad("a /0 prefix covers every address and is not an indicator")
    return n


def ipv4(m: re.Match[str], s: str) -> tuple[str, str, frozenset[str]]:
    """(canonical, itype, flags) of a dotted quad that matched V4_RE."""
    n = v4_from_match(m)
    return (v4_str(n) if "0" in s else s), "ipv4", v4_flags(n)


def cidr4_plain(addr: str, plen: str) -> tuple[str, str, frozenset[str]] | None:
    """:func:`ipv4_cidr` of a canonical address and a plain prefix of 8 to 31 bits,
    else None (no raise). The network stays inside one first octet, so one V4_HOT
    test decides most flags."""
    k = len(plen)
    if (
        not (
            (k == 2 and "1" <= plen[0] <= "3" and "0" <= plen[1] <= "9")
            or (k == 1 and "8" <= plen <= "9")
        )
        or addr[:1] == "0"
        or ".0" in addr
    ):
        return None
    p = int(plen)
    if p < 8 or p > 31:
        return None
    try:
        b = inet_pton(AF_INET, addr)
    except OSError:
        return None
    n = int.from_bytes(b, "big")
    net = n & (_ALL32 << (32 - p)) & _ALL32
    if b[0] in V4_HOT:
        flags = v4_flags(net, net | (_ALL32 >> p))
    else:
        flags = EMPTY
    if net == n:
        return f"{addr}/{p}", "ipv4_cidr", flags
    return f"{inet_ntop(AF_INET, net.to_bytes(4, 'big'))}/{p}", "ipv4_cidr", flags


def ipv4_cidr(addr: str, plen: str) -> tuple[str, str, frozenset[str]]:
    r = cidr4_plain(addr, plen)
    if r is not None:
        return r
    n = v4_fast(addr)
    p = _prefix(plen, 32)
    if p == 32:
        return v4_str(n), "ipv4", v4_flags(n)
    size = 1 << (32 - p)
    net = n & ~(size - 1) & _ALL32
    return f"{v4_str(net)}/{p}", "ipv4_cidr", v4_flags(net, net + size - 1)


def ipv6(s: str) -> tuple[str, str, frozenset[str]]:
    """(canonical, itype, flags); an IPv4-mapped address comes back as ipv4."""
    try:
        b = inet_pton(AF_INET6, s)
    except OSError:
        n = v6_int(s)  # raises the reason
    else:
        return ipv6_bytes(b)
    if n >> 32 == 0xFFFF:
        n &= _ALL32
        return v4_str(n), "ipv4", v4_flags(n)
    return v6_str(n), "ipv6", v6_flags(n)


def ipv6_bytes(b: bytes) -> tuple[str, str, frozenset[str]]:
    """:func:`ipv6` of an address the C parser already read."""
    h = b[0] << 8 | b[1]
    # Global unicast space with no reserved range in it: no flags, C formatting.
    if 0x2000 <= h < 0x3FFF and (h != 0x2001 or _global_2001(b[2] << 8 | b[3])):
        text = inet_ntop(AF_INET6, b)
        if "." not in text:
            return text, "ipv6", EMPTY
    n = int.from_bytes(b, "big")
    if n >> 32 == 0xFFFF:
        n &= _ALL32
        return v4_str(n), "ipv4", v4_flags(n)
    return v6_str(n), "ipv6", v6_flags(n)


def _global_2001(h2: int) -> bool:
    """2001:h2::/32 holds no reserved range (those are in 2001::/23 and 2001:db8::/32)."""
    return h2 >= 0x200 and h2 != 0xDB8


def ipv6_cidr(addr: str, plen: str) -> tuple[str, str, frozenset[str]]:
    try:
        n = int.from_bytes(inet_pton(AF_INET6, addr), "big")
    except OSError:
        n = v6_int(addr)  # raises the reason
    p = _prefix(plen, 128)
    if n >> 32 == 0xFFFF and p >= 96:
        return ipv4_cidr(v4_str(n & _ALL32), str(p - 96))
    if p == 128:
        return v6_str(n), "ipv6", v6_flags(n)
    size = 1 << (128 - p)
    net = n & ~(size - 1) & _ALL128
    return f"{v6_text(net)}/{p}", "ipv6_cidr", v6_flags(net, net + size - 1)


def v6_text(n: int) -> str:
    """:func:`v6_str` by the C formatter, which agrees except for an IPv4-style tail."""
    text = inet_ntop(AF_INET6, n.to_bytes(16, "big"))
    if "." in text:
        return v6_str(n)
    return text


def looks_like_v6(s: str) -> bool:
    """True if ``s`` could only be an IPv6 address (not ``1.2.3.4:8080``)."""
    if V6_CHARS.fullmatch(s) is None:
        return False
    dot = s.find(".")
    return dot < 0 or dot > s.rfind(":")
