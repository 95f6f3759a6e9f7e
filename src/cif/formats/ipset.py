"""``ipset restore`` script: separate hash:net sets for IPv4 and IPv6, swapped in atomically.

Load with ``ipset restore -exist < feed.ipset``, then match in iptables with
``-m set --match-set cif-v4 src`` (and ``cif-v6`` in ip6tables).
"""

from __future__ import annotations

from collections.abc import Iterable

from cif.indicator.model import Indicator

from .ipsets import check_set_name, split_families


def _block(name: str, family: str, entries: list[str]) -> list[str]:
    tmp = f"{name}-tmp"
    maxelem = max(65536, len(entries))
    lines = [
        f"create {name} hash:net family {family} maxelem {maxelem} -exist",
        f"create {tmp} hash:net family {family} maxelem {maxelem} -exist",
        f"flush {tmp}",
    ]
    lines += [f"add {tmp} {e} -exist" for e in entries]
    lines += [f"swap {tmp} {name}", f"destroy {tmp}"]
    return lines


def render(indicators: Iterable[Indicator], *, name: str = "cif", **_: object) -> str:
    """Script for ``ipset restore`` with sets ``NAME-v4`` and ``NAME-v6``."""
    check_set_name(name)
    v4, v6 = split_families(indicators)
    lines = _block(f"{name}-v4", "inet", v4) + _block(f"{name}-v6", "inet6", v6)
    return "\n".join(lines) + "\n"
