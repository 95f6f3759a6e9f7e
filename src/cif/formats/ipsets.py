"""Address sets split by family: shared by the ipset and nftables formats."""

from __future__ import annotations

from collections.abc import Iterable

from cif.indicator.model import Indicator

from .common import FormatError

IP_ITYPES = ("ipv4", "ipv4_cidr", "ipv6", "ipv6_cidr")


def split_families(indicators: Iterable[Indicator]) -> tuple[list[str], list[str]]:
    """Unique IPv4 and IPv6 entries in input order; non-IP itypes are an error."""
    v4: dict[str, None] = {}
    v6: dict[str, None] = {}
    for ind in indicators:
        if ind.itype not in IP_ITYPES:
            raise FormatError(f"{ind.indicator!r}: itype {ind.itype} cannot go into an address set")
        (v6 if ind.itype.startswith("ipv6") else v4).setdefault(ind.indicator, None)
    return list(v4), list(v6)


def check_set_name(name: str) -> str:
    """Set names go into shell-run scripts: letters, digits, ``-`` and ``_`` only."""
    if not name or len(name) > 28 or not all(c.isalnum() or c in "-_" for c in name):
        raise FormatError(f"set name {name!r}: use up to 28 letters, digits, - or _")
    return name
