"""The value path: feeds whose output depends on the values alone, built from values.

Formats such as ``plain``, ``ipset``, ``nftables``, ``rpz`` and ``suricata-dataset``
print only each line's value (and its itype). For them aggregation reduces to "each
value once", so the service reads just the values (:func:`cif.store.scan.scan_values`)
and this module subtracts guards and whitelists with the same rules, in the same
order, as :func:`.builder.build_feed`, without one object per record. The result
equals the full build's lines and its removal count.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress
from typing import Any

import numpy as np

from cif.score.confidence import DEFAULT_MODEL, ConfidenceModel, Scorer, Sighting, to_micros

from .builder import _split, format_blocks, guard_domain, guard_whitelist, split_blocks
from .guards import top_sites
from .suffix import is_public_suffix_fast
from .whitelist import Whitelist, tree_size

# Formats that print only ``indicator`` and ``itype`` of each line.
VALUE_FORMATS = frozenset({"plain", "ipset", "nftables", "rpz", "suricata-dataset"})
# Feeds the value path builds (urls need the full rules of the url subtraction).
VALUE_FEEDS = frozenset({"ipv4", "ipv6", "fqdn", "email", "md5", "sha1", "sha256", "sha512", "asn"})


BULK_MIN = 1000  # plain IPv4 addresses from which whole-array range checks pay off


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
    """The feed's values, sorted; :attr:`lines` makes the objects a format iterates."""

    itype: str
    values: list[str] = field(default_factory=list)
    removed: int = 0
    unique: bool = True  # False when split pieces may repeat a value

    def __len__(self) -> int:
        return len(self.values)

    @property
    def lines(self) -> list[Line]:
        if self.itype in ("ipv4", "ipv6"):
            base, cidr = self.itype, f"{self.itype}_cidr"
            return [Line(v, cidr if "/" in v else base) for v in self.values]
        return [Line(v, self.itype) for v in self.values]

    def plain(self, *, wildcard: bool = False) -> str:
        """What the ``plain`` format makes of :attr:`lines` (unique lines, in order),
        without the objects."""
        if self.unique and not (wildcard and self.itype == "fqdn"):
            return "\n".join(self.values) + "\n" if self.values else ""
        uniq = dict.fromkeys(self.values)
        if wildcard and self.itype == "fqdn":
            uniq = dict.fromkeys(x for v in uniq for x in (v, "*." + v))
        return "".join([v + "\n" for v in uniq])


def floor_values(
    itype: str,
    rows: Iterable[tuple[str, str, float, int | None, bool]],
    confidence_min: float,
    now: datetime,
    model: ConfidenceModel = DEFAULT_MODEL,
) -> tuple[list[str], set[str], int]:
    """Values whose effective confidence reaches ``confidence_min``.

    ``rows`` are (value, provider, stated confidence, last_at in microseconds or None,
    flagged) of every record in the window. Returns what :func:`build_values` takes
    (values of unflagged records, values of flagged records) and how many values the
    floor removed, as the full build counts them.
    """
    by_value: dict[str, list[Sighting]] = {}
    for v, provider, conf, seen, flagged in rows:
        s = by_value.get(v)
        if s is None:
            by_value[v] = s = []
        s.append((provider, conf, seen, flagged))
    scorer = Scorer(model)
    now_us = to_micros(now)
    half_life = model.half_life
    names = _itype_names(itype)
    values: list[str] = []
    bad: set[str] = set()
    below = 0
    for v, sightings in by_value.items():
        hl = half_life(names[1] if "/" in v else names[0])
        if scorer.confidence(sightings, now_us, hl) < confidence_min:
            below += 1
            continue
        if any(not s[3] for s in sightings):
            values.append(v)
        if any(s[3] for s in sightings):
            bad.add(v)
    return values, bad, below


def _itype_names(itype: str) -> tuple[str, str]:
    """The stored itypes of a feed's values: (plain value, network)."""
    return (itype, f"{itype}_cidr") if itype in ("ipv4", "ipv6") else (itype, itype)


def build_values(
    itype: str,
    values: Iterable[str],
    flagged: Iterable[str],
    whitelists: Sequence[Whitelist],
    *,
    max_split: int = 64,
    guard_top_site_subdomains: bool = True,
) -> ValueFeed:
    """The feed's lines (sorted by value) from the values of its records.

    ``values`` may repeat; ``flagged`` are values whose records carry reserved-range
    flags (left out as ``reserved``); records tagged ``whitelist`` must already be out
    of ``values`` and in one of ``whitelists``.
    """
    lists = [w for w in whitelists if w is not None and len(w)]
    uniq = set(values)  # order does not matter: the lines are sorted at the end
    out = ValueFeed(itype)
    if itype in ("ipv4", "ipv6"):
        bad = set(flagged)
        for v in bad:  # flags are unioned when records merge: any flagged record drops it
            uniq.discard(v)
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
        keep.sort()
        out.values = keep
    return out


def _ips(out: ValueFeed, values: set[str], lists: list[Whitelist], cap: int) -> None:
    v6 = out.itype == "ipv6"
    base, cidr = ("ipv6", "ipv6_cidr") if v6 else ("ipv4", "ipv4_cidr")
    full = "/128" if v6 else "/32"
    trees = [wl._v6 if v6 else wl._v4 for wl in lists]
    gets = [t.get for t in trees]
    keep: list[str] = []
    removed = 0
    added: list[str] = []
    todo: Iterable[str] = values
    if not v6 and len(values) >= BULK_MIN:
        addrs = [v for v in values if "/" not in v]
        kept, rest = _v4_addresses(addrs, trees)
        keep += kept
        removed += len(addrs) - len(kept) - len(rest)
        nets = [v for v in values if "/" in v]
        done = _v4_networks(nets, trees, cap)
        if done is None:
            todo = [*rest, *nets]
        else:
            clear, dropped, pieces = done
            keep += clear
            keep += pieces
            added += pieces
            removed += dropped
            todo = rest
    for v in todo:
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
        split = _split(v, [e.value for e in holes], cap)
        if split:
            keep.extend(split)
            added.extend(split)
    out.removed += removed
    if added:
        # A piece may repeat a stored value or another network's piece.
        out.unique = len(set(added)) == len(added) and not any(p in values for p in added)
    keep.sort()
    out.values = keep


def _spans(tree: Any) -> tuple[Any, Any]:
    """The IPv4 space a tree covers as sorted, merged [start, end] arrays (cached on
    the tree's size: entries are only ever added)."""
    cached: Any = _SPANS.get(id(tree))
    if cached is not None and cached[0] is tree and cached[1] == tree_size(tree):
        return cached[2]
    starts, ends = [], []
    for k in tree:
        addr, _, plen = k.partition("/")
        n = int.from_bytes(socket.inet_aton(addr), "big")
        size = 1 << (32 - int(plen or 32))
        starts.append(n & ~(size - 1))
        ends.append((n & ~(size - 1)) + size - 1)
    st = np.array(starts, dtype=np.int64)
    en = np.array(ends, dtype=np.int64)
    order = np.argsort(st, kind="stable")
    st, en = st[order], en[order]
    raw = (st, 32 - np.log2(en - st + 1).round().astype(np.int64))  # entries: start, prefix
    if len(st):
        # Merge overlapping and nested ranges: an address is covered iff it falls in one.
        run_end = np.maximum.accumulate(en)
        new = np.empty(len(st), dtype=bool)
        new[0] = True
        new[1:] = st[1:] > run_end[:-1] + 1
        idx = np.flatnonzero(new)
        st = st[idx]
        en = np.maximum.reduceat(en, idx)
    while len(_SPANS) >= 8:
        del _SPANS[next(iter(_SPANS))]
    _SPANS[id(tree)] = (tree, tree_size(tree), (st, en), raw)
    return st, en


def _entries(tree: Any) -> tuple[Any, Any]:
    """The tree's IPv4 entries as (first addresses, prefix lengths) arrays sorted by address."""
    _spans(tree)
    return _SPANS[id(tree)][3]


_SPANS: dict[int, tuple[Any, ...]] = {}


def _v4_addresses(addrs: list[str], trees: list[Any]) -> tuple[list[str], list[str]]:
    """(addresses no tree covers, values to check one by one) for plain IPv4 addresses."""
    try:
        nums = np.frombuffer(b"".join(map(socket.inet_aton, addrs)), dtype=">u4").astype(np.int64)
    except OSError:
        return [], addrs
    covered = np.zeros(len(addrs), dtype=bool)
    for tree in trees:
        st, en = _spans(tree)
        if not len(st):
            continue
        i = np.searchsorted(st, nums, side="right") - 1
        covered |= (i >= 0) & (nums <= en[np.maximum(i, 0)])
    return list(compress(addrs, (~covered).tolist())), []


_SITE: Any = object()  # marks a top site in the merged name map
_MERGED: dict[tuple[tuple[int, int], ...], tuple[list[Any], dict[str, Any]]] = {}


def _name_map(maps: list[dict[str, str]], sites: frozenset[str]) -> dict[str, Any]:
    """Whitelisted names (-> source) and top sites (-> a marker) in one dict: one probe
    per label."""
    key = (*((id(m), len(m)) for m in maps), (id(sites), len(sites)))
    hit = _MERGED.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], [*maps, sites], strict=True)):
        return hit[1]
    merged = dict.fromkeys(sites, _SITE)
    for m in maps:
        merged.update(m)  # a whitelisted name wins over a top site of the same name
    while len(_MERGED) >= 4:
        del _MERGED[next(iter(_MERGED))]
    _MERGED[key] = ([*maps, sites], merged)
    return merged


def _v4_networks(
    nets: list[str], trees: list[Any], cap: int
) -> tuple[list[str], int, list[str]] | None:
    """IPv4 networks against the trees' ranges, as arrays: (networks kept whole, how
    many were removed, the pieces of split ones); None when a value does not parse.

    A network inside whitelisted space is removed (whether one entry or several
    adjacent ones cover it, the full build leaves no line and counts one removal);
    one that merely touches entries is split around the entries inside it.
    """
    try:
        lo = np.empty(len(nets), dtype=np.int64)
        plen = np.empty(len(nets), dtype=np.int64)
        for k, v in enumerate(nets):
            addr, _, p = v.partition("/")
            lo[k] = int.from_bytes(socket.inet_aton(addr), "big")
            plen[k] = int(p)
    except (OSError, ValueError):
        return None
    if len(nets) and (plen.min() < 0 or plen.max() > 32):
        return None
    size = np.left_shift(np.int64(1), 32 - plen)
    lo &= ~(size - 1)
    hi = lo + size - 1
    touched = np.zeros(len(nets), dtype=bool)
    covered = np.zeros(len(nets), dtype=bool)
    for tree in trees:
        st, en = _spans(tree)
        if not len(st):
            continue
        i = np.searchsorted(st, hi, side="right") - 1  # the last range starting in or before
        j = np.maximum(i, 0)
        touched |= (i >= 0) & (en[j] >= lo)
        covered |= (i >= 0) & (st[j] <= lo) & (en[j] >= hi)
    keep = list(compress(nets, (~touched).tolist()))
    removed = int(covered.sum())
    near = np.flatnonzero(touched & ~covered)
    nlo, nhi, nplen = lo[near], hi[near], plen[near].tolist()
    holes: list[list[tuple[int, int]]] = [[] for _ in range(len(near))]
    for tree in trees:
        est, epl = _entries(tree)
        if not len(est):
            continue
        a = np.searchsorted(est, nlo, side="left").tolist()
        b = np.searchsorted(est, nhi, side="right").tolist()
        starts, plens = est.tolist(), epl.tolist()
        for k in range(len(near)):
            for x in range(a[k], b[k]):
                if plens[x] > nplen[k]:
                    holes[k].append((starts[x], plens[x]))
    pieces: list[str] = []
    for k, n in enumerate(nlo.tolist()):
        removed += 1  # split, or dropped when it takes more than cap pieces
        blocks = split_blocks(n, nplen[k], 32, holes[k], cap)
        if blocks:
            pieces += format_blocks(blocks, 32)
    return keep, removed, pieces


def _names(out: ValueFeed, values: set[str], lists: list[Whitelist], subs: bool) -> None:
    maps = [wl._domains for wl in lists if wl._domains]
    texts = [wl for wl in lists if wl._substrings or wl._regexes]
    sites = top_sites()
    get = _name_map(maps, sites).get
    keep: list[str] = []
    removed = 0
    for v in values:
        n = v
        hit = False
        site = False
        while True:
            src = get(n)
            if src is not None:
                if src is not _SITE:
                    hit = True
                    break
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
    out.values = keep
