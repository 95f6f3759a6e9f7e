"""nftables script: interval sets ``NAME_v4`` and ``NAME_v6`` in table ``inet NAME``.

Load with ``nft -f feed.nft``; the sets are flushed and refilled in one transaction.
Use them from your own chains, e.g. ``ip saddr @cif_v4 drop``.
"""

from __future__ import annotations

from collections.abc import Iterable

from cif.indicator.model import Indicator

from .ipsets import check_set_name, split_families

CHUNK = 1000


def _set(table: str, name: str, kind: str, entries: list[str]) -> list[str]:
    lines = [
        f"add set inet {table} {name} {{ type {kind}; flags interval; auto-merge; }}",
        f"flush set inet {table} {name}",
    ]
    for i in range(0, len(entries), CHUNK):
        lines.append(f"add element inet {table} {name} {{ {', '.join(entries[i : i + CHUNK])} }}")
    return lines


def render(indicators: Iterable[Indicator], *, name: str = "cif", **_: object) -> str:
    """An ``nft -f`` script; table and sets are created when missing."""
    name = check_set_name(name).replace("-", "_")
    v4, v6 = split_families(indicators)
    lines = ["#!/usr/sbin/nft -f", f"add table inet {name}"]
    lines += _set(name, f"{name}_v4", "ipv4_addr", v4)
    lines += _set(name, f"{name}_v6", "ipv6_addr", v6)
    return "\n".join(lines) + "\n"
