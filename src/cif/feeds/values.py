"""The value path: feeds whose output depends on the values alone, built from values.

Formats such as ``plain``, ``ipset``, ``nftables``, ``rpz`` and ``suricata-dataset``
print only each line's value (and its itype). For them aggregation reduces to "each
value once", so the service reads just the values (:func:`cif.store.scan.scan_values`)
and this module subtracts guards and whitelists with the same rules, in the same
order, as :func:`.builder.build_feed`, without one object per record. The result
equals the full build's lines and its removal count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .builder import _split, guard_domain, guard_whitelist
from .guards import top_sites
from .suffix import is_public_suffix_fast
from .whitelist import Whitelist

# Formats that print only ``indicator`` and ``itype`` of each line.
VALUE_FORMATS = frozenset({"plain", "ipset", "nftables", "rpz", "suricata-dataset"})
# Feeds the value path builds (urls need the full rules of the url subtraction).
VALUE_FEEDS = frozenset({"ipv4", "ipv6", "fqdn", "email", "md5", "sha1", "sha256", "sha512", "asn"})


class Line:
    """One feed line for a value-only format: just what such a format reads."""

    __slots__ = ("indicator", "itype")

    def __init__(self, indicator: str, itype: str) -> None:
        self.indicator = indicator
        self.itype = itype

    def __repr__(self) -> str:
        return f"Line({self.indicator!r}, {self.itype!r})"


@dataclass(slots=True)
class ValueFeed:
    itype: str
    lines: list[Line] = field(default_factory=list)
    removed: int = 0


def build_values(itype: str, values: Iterable[str], flagged: Iterable[str],
                 whitelists: Sequence[Whitelist], *, max_split: int = 64,
                 guard_top_site_subdomains: bool = True) -> ValueFeed:
    """The feed's lines (sorted by value) from the values of its records.

    ``values`` may repeat; ``flagged`` are values whose records carry reserved-range
    flags (left out as ``reserved``); records tagged ``whitelist`` must already be out
    of ``values`` and in one of ``whitelists``.
    """
    lists = [w for w in whitelists if w is not None and len(w)]
    uniq = dict.fromkeys(values)
    out = ValueFeed(itype)
    if itype in ("ipv4", "ipv6"):
        bad = set(flagged)
        for v in bad:  # flags are unioned when records merge: any flagged record drops it
            uniq.pop(v, None)
        out.removed += len(bad)
        guards = [] if any(w.guarded for w in lists) else [guard_whitelist()]
        _ips(out, uniq, [*guards, *lists], max_split)
    elif itype == "fqdn":
        _names(out, uniq, lists, guard_top_site_subdomains)
    else:
        exact = [w for w in lists if w._urls]
        keep = []
        for v in uniq:
            if any(w.match_exact(itype, v) is not None for w in exact):
                out.removed += 1
            else:
                keep.append(v)
        out.lines = [Line(v, itype) for v in sorted(keep)]
    return out


def _ips(out: ValueFeed, values: dict[str, None], lists: list[Whitelist], cap: int) -> None:
    v6 = out.itype == "ipv6"
    base, cidr = ("ipv6", "ipv6_cidr") if v6 else ("ipv4", "ipv4_cidr")
    full = "/128" if v6 else "/32"
    trees = [wl._v6 if v6 else wl._v4 for wl in lists]
    gets = [t.get for t in trees]
    keep: list[str] = []
    removed = 0
    for v in values:
        try:
            hit = False
            for get in gets:
                if get(v) is not None:
                    hit = True
                    break
        except ValueError:
            removed += 1  # not an address or network
            continue
        if hit:
            removed += 1
            continue
        if "/" not in v or v.endswith(full):
            keep.append(v)
            continue
        holes = [e for wl in lists for e in wl.holes(v)]
        if not holes:
            keep.append(v)
            continue
        removed += 1
        pieces = _split(v, [e.value for e in holes], cap)
        if pieces is not None:
            keep.extend(pieces)
    out.removed += removed
    keep.sort()
    out.lines = [Line(v, cidr if "/" in v else base) for v in keep]


def _names(out: ValueFeed, values: dict[str, None], lists: list[Whitelist], subs: bool) -> None:
    maps = [wl._domains for wl in lists if wl._domains]
    texts = [wl for wl in lists if wl._substrings or wl._regexes]
    sites = top_sites()
    keep: list[str] = []
    removed = 0
    for v in values:
        n = v
        hit = False
        site = False
        while True:
            for m in maps:
                if n in m:
                    hit = True
                    break
            if hit:
                break
            if n in sites:
                site = True
            i = n.find(".")
            if i < 0:
                break
            n = n[i + 1 :]
        if not hit and texts:
            hit = any(wl.match_text(v) is not None for wl in texts)
        if hit:
            removed += 1
            continue
        if (site or is_public_suffix_fast(v)) and guard_domain(v, subdomains=subs):
            removed += 1
            continue
        keep.append(v)
    out.removed += removed
    keep.sort()
    out.lines = [Line(v, "fqdn") for v in keep]
