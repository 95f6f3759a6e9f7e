"""Plain lists for firewalls and proxies (Palo Alto EDL style): one entry per line.

IPs and CIDRs as they are; domains as they are (``wildcard=True`` adds ``*.name``);
urls without their scheme, as vendor url lists expect (``a.example/path``).
Lines are unique, in input order.
"""

from __future__ import annotations

from collections.abc import Iterable

from cif.indicator.model import Indicator

from .common import without_scheme


def render(indicators: Iterable[Indicator], *, wildcard: bool = False, **_: object) -> str:
    """Newline-terminated list of values."""
    seen: dict[str, None] = {}
    for ind in indicators:
        if ind.itype == "url":
            seen.setdefault(without_scheme(ind.indicator), None)
        elif ind.itype == "fqdn":
            seen.setdefault(ind.indicator, None)
            if wildcard:
                seen.setdefault("*." + ind.indicator, None)
        else:
            seen.setdefault(ind.indicator, None)
    return "".join(v + "\n" for v in seen)
