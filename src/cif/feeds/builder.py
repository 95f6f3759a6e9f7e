"""The feed builder: window, aggregate, then subtract guards and whitelists.

Pure: it takes records and a :class:`Whitelist` and returns a :class:`Feed`; the
caller queries the store. Every record left out is accounted for in
``Feed.removed`` with the entry or guard that removed it, so ``explain`` and feed
health can say why.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cif.indicator.model import Indicator
from cif.score.confidence import DEFAULT_MODEL, ConfidenceModel, Scorer, Sighting, to_micros

from .aggregate import aggregate
from .guards import PUBLIC_RESOLVERS, RESERVED_RANGES, ROOT_SERVERS, top_sites
from .suffix import is_public_suffix, is_public_suffix_fast, parents
from .whitelist import WHITELIST_TAG, Entry, Whitelist, host_of_url

# Which stored itypes make up each feed.
FEED_ITYPES: dict[str, tuple[str, ...]] = {
    "ipv4": ("ipv4", "ipv4_cidr"),
    "ipv6": ("ipv6", "ipv6_cidr"),
    "fqdn": ("fqdn",),
    "url": ("url",),
    "email": ("email",),
    "md5": ("md5",),
    "sha1": ("sha1",),
    "sha256": ("sha256",),
    "sha512": ("sha512",),
    "asn": ("asn",),
}

# How far back (by last_at) a feed looks unless told otherwise; see docs/feeds-builder.md.
DEFAULT_WINDOWS: dict[str, timedelta] = {
    "ipv4": timedelta(days=7),
    "ipv6": timedelta(days=7),
    "fqdn": timedelta(days=30),
    "url": timedelta(days=30),
    "email": timedelta(days=90),
    "md5": timedelta(days=180),
    "sha1": timedelta(days=180),
    "sha256": timedelta(days=180),
    "sha512": timedelta(days=180),
    "asn": timedelta(days=90),
}

DEFAULT_MAX_SPLIT = 64
_IP_FEEDS = ("ipv4", "ipv6")


class InvalidFeed(ValueError):
    """A feed request that cannot be built; the message names the value and why."""


@dataclass(slots=True)
class FeedOptions:
    """Knobs for one build. ``window=None`` means the itype's default window;
    ``timedelta(0)`` means no window at all."""

    window: timedelta | None = None
    now: datetime | None = None
    confidence_min: float = 0.0
    max_split: int = DEFAULT_MAX_SPLIT
    keep_urls_on_whitelisted_hosts: bool = False
    guard_top_site_subdomains: bool = True
    # Reliability table and half-lives of the effective confidence (docs/context.md).
    model: ConfidenceModel = DEFAULT_MODEL


@dataclass(frozen=True, slots=True)
class Removal:
    """Why one value is not (wholly) in the feed."""

    value: str
    reason: str  # window, confidence, reserved, guard, whitelist, overlap, split
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"value": self.value, "reason": self.reason, "detail": self.detail}


@dataclass(slots=True)
class Feed:
    """A built feed: its records, what was removed and which networks were split."""

    itype: str
    indicators: list[Indicator]
    removed: list[Removal] = field(default_factory=list)
    split: dict[str, list[str]] = field(default_factory=dict)
    considered: int = 0

    def values(self) -> list[str]:
        return [i.indicator for i in self.indicators]


# -- built-in guards ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def guard_whitelist() -> Whitelist:
    """Reserved ranges, public resolvers and root servers as one always-on whitelist."""
    return add_guards(Whitelist())


def add_guards(wl: Whitelist) -> Whitelist:
    """Add the built-in guard entries to ``wl`` (marked ``guarded``, so a build that
    gets ``wl`` needs no separate lookup in :func:`guard_whitelist`)."""
    for net, why in RESERVED_RANGES:
        wl.add_network(net, f"guard:reserved:{why}")
    for ip in PUBLIC_RESOLVERS:
        wl.add_network(ip, "guard:public-resolver")
    for ip in ROOT_SERVERS:
        wl.add_network(ip, "guard:root-server")
    wl.guarded = True
    return wl


def _reserved_flags(ind: Indicator) -> str | None:
    return ",".join(sorted(ind.flags)) if ind.flags else None


def guard_domain(name: str, *, subdomains: bool = True) -> str | None:
    """Why a domain may never be fed, or None. Top sites are registered domains."""
    if is_public_suffix_fast(name):
        return f"{name} is a public suffix"
    sites = top_sites()
    labels = name.split(".")
    if name in sites:
        return f"{name} is a top site"
    if len(labels) == 3 and labels[0] == "www" and name[4:] in sites:
        return f"{name} is the web host of top site {name[4:]}"
    if not subdomains:
        return None
    for p in parents(name):
        if p != name and p in sites:
            # Only when the top site is the registered domain: a public suffix between
            # the two (customer.platform.example) makes the name someone else's.
            below = name[: -len(p) - 1]
            mids = [f"{below.split('.', i)[-1]}.{p}" for i in range(1, below.count(".") + 1)]
            if any(is_public_suffix(m) for m in mids):
                return None
            return f"{name} is below top site {p}"
    return None


# -- IP subtraction ----------------------------------------------------------------------


def _prefix(value: str) -> tuple[int, int, int]:
    """(first address as an integer, prefix length, address bits) of an address or network."""
    addr, _, plen = value.partition("/")
    if ":" in addr:
        n, bits = int.from_bytes(socket.inet_pton(socket.AF_INET6, addr), "big"), 128
    else:
        n, bits = int.from_bytes(socket.inet_aton(addr), "big"), 32
    p = int(plen) if plen else bits
    return n & ~((1 << (bits - p)) - 1), p, bits


def _split(network: str, holes: list[str], cap: int) -> list[str] | None:
    """``network`` minus ``holes`` as few CIDRs, or None when more than ``cap`` pieces.

    Integer arithmetic; the same answer as :func:`_split_slow` (the canonical aligned
    blocks, ascending; None as soon as subtracting the collapsed holes one at a time,
    lowest first, passes ``cap`` pieces).
    """
    try:
        start, plen, bits = _prefix(network)
        hs = [_prefix(h) for h in holes]
    except (OSError, ValueError):
        return _split_slow(network, holes, cap)
    if any(b != bits for _, _, b in hs):
        return _split_slow(network, holes, cap)
    out = split_blocks(start, plen, bits, [(h, p) for h, p, _ in hs], cap)
    return None if out is None else format_blocks(out, bits)


def split_blocks(
    start: int, plen: int, bits: int, hs: list[tuple[int, int]], cap: int
) -> list[tuple[int, int]] | None:
    """:func:`_split` on integers: (first address, prefix length) of network and holes."""
    end = start + (1 << (bits - plen)) - 1
    # The holes as collapse_addresses gives them: nested ones dropped, buddies merged.
    blocks: list[tuple[int, int]] = []  # (first address, prefix length)
    for h, p in sorted((h, p) for h, p in hs if start <= h <= end and p >= plen):
        if blocks and h <= blocks[-1][0] + (1 << (bits - blocks[-1][1])) - 1:
            continue  # inside the previous block
        blocks.append((h, p))
        while len(blocks) > 1:
            (h1, p1), (h2, p2) = blocks[-2], blocks[-1]
            size = 1 << (bits - p1)
            if p1 != p2 or h2 != h1 + size or h1 & (2 * size - 1):
                break
            blocks[-2:] = [(h1, p1 - 1)]
    out: list[tuple[int, int]] = []
    at = start  # first address not yet covered by a piece or a hole
    for lo, p in blocks:
        # The gap [at, lo - 1] as the fewest aligned blocks, lowest first.
        while at < lo:
            size = at & -at if at else 1 << bits
            while at + size - 1 > lo - 1:
                size >>= 1
            out.append((at, bits - size.bit_length() + 1))
            at += size
        at = lo + (1 << (bits - p))
        # Where the one-hole-at-a-time subtraction stands now: these pieces plus the
        # rest of the network as aligned blocks (one per set bit of its size).
        if len(out) + (end + 1 - at).bit_count() > cap:
            return None
    while at <= end:
        size = at & -at if at else 1 << bits
        while at + size - 1 > end:
            size >>= 1
        out.append((at, bits - size.bit_length() + 1))
        at += size
    if len(out) > cap:
        return None
    return out


def format_blocks(out: list[tuple[int, int]], bits: int) -> list[str]:
    """Blocks as feed values: a whole-length block as a bare address."""
    if bits == 32:
        return [
            socket.inet_ntoa(n.to_bytes(4, "big")) + ("" if p == 32 else f"/{p}") for n, p in out
        ]
    return [str(ipaddress.IPv6Address(n)) + ("" if p == 128 else f"/{p}") for n, p in out]


def _split_slow(network: str, holes: list[str], cap: int) -> list[str] | None:
    """:func:`_split` with :mod:`ipaddress`, checking ``cap`` after every hole."""
    net = ipaddress.ip_network(network, strict=False)
    hole_nets = sorted(
        ipaddress.collapse_addresses(ipaddress.ip_network(h, strict=False) for h in holes)  # type: ignore[type-var]
    )
    pieces = [net]
    for h in hole_nets:
        out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for p in pieces:
            if h.subnet_of(p):  # type: ignore[arg-type]
                out.extend(p.address_exclude(h))  # type: ignore[arg-type]
            elif not p.subnet_of(h):  # type: ignore[arg-type]
                out.append(p)
        pieces = out
        if len(pieces) > cap:
            return None
    return [
        str(p) if p.prefixlen != p.max_prefixlen else str(p.network_address) for p in sorted(pieces)
    ]


def _subtract_ip(feed: Feed, items: list[Indicator], lists: list[Whitelist], cap: int) -> None:
    out = feed.indicators
    removed = feed.removed
    v6 = feed.itype == "ipv6"
    trees = [wl._v6 if v6 else wl._v4 for wl in lists]
    for ind in items:
        v = ind.indicator
        if ind.flags:
            removed.append(Removal(v, "reserved", f"flagged {_reserved_flags(ind)}"))
            continue
        hit: Entry | None = None
        try:
            for tree in trees:
                hit = tree.get(v)
                if hit is not None:
                    break
        except ValueError:
            removed.append(Removal(v, "invalid", f"{v!r} is not an address or network"))
            continue
        if hit is not None:
            kind = "guard" if hit.source.startswith("guard:") else "whitelist"
            removed.append(Removal(v, kind, str(hit)))
            continue
        if "/" not in v or v.endswith(("/32", "/128")):
            out.append(ind)
            continue
        holes = [e for wl in lists for e in wl.holes(v)]
        if not holes:
            out.append(ind)
            continue
        pieces = _split(v, [e.value for e in holes], cap)
        names = "; ".join(str(e) for e in holes[:5]) + (" ..." if len(holes) > 5 else "")
        if pieces is None:
            removed.append(Removal(v, "overlap", f"more than {cap} pieces around {names}"))
            continue
        removed.append(Removal(v, "split", f"split into {len(pieces)} around {names}"))
        feed.split[v] = pieces
        base = ind.itype.split("_")[0]
        for p in pieces:
            it = f"{base}_cidr" if "/" in p else base
            out.append(replace(ind, indicator=p, itype=it, extra={**ind.extra, "split_from": v}))


# -- name subtraction --------------------------------------------------------------------


def _subtract_names(
    feed: Feed, items: list[Indicator], lists: list[Whitelist], opts: FeedOptions
) -> None:
    if feed.itype == "fqdn":
        _subtract_fqdns(feed, items, lists, opts)
        return
    out, removed = feed.indicators, feed.removed
    for ind in items:
        v = ind.indicator
        host = host_of_url(v)
        hit: Entry | None = None
        for wl in lists:
            hit = wl.match_url(v)
            if hit is None and not opts.keep_urls_on_whitelisted_hosts:
                hit = wl.match_ip(host) if _is_ip_literal(host) else wl.match_domain(host)
            if hit is None:
                hit = wl.match_text(v)
            if hit is not None:
                break
        if hit is not None:
            removed.append(Removal(v, "whitelist", str(hit)))
            continue
        if _is_ip_literal(host):
            g = guard_whitelist().match_ip(host)
            if g is not None:
                removed.append(Removal(v, "guard", str(g)))
                continue
        elif _is_site_root(v):
            # A url that is a whole site (no path) blocks the host on most proxies.
            why = guard_domain(host, subdomains=opts.guard_top_site_subdomains)
            if why:
                removed.append(Removal(v, "guard", why))
                continue
        out.append(ind)


def _subtract_fqdns(
    feed: Feed, items: list[Indicator], lists: list[Whitelist], opts: FeedOptions
) -> None:
    """The hot path: one walk up the labels checks every whitelist and the top sites."""
    out, removed = feed.indicators, feed.removed
    maps = [wl._domains for wl in lists if wl._domains]
    texts = [wl for wl in lists if wl._substrings or wl._regexes]
    sites = top_sites()
    subs = opts.guard_top_site_subdomains
    for ind in items:
        v = ind.indicator
        n = v
        hit: Entry | None = None
        site = False
        while True:
            for m in maps:
                src = m.get(n)
                if src is not None:
                    hit = Entry(n, src)
                    break
            if hit is not None:
                break
            if n in sites:
                site = True
            i = n.find(".")
            if i < 0:
                break
            n = n[i + 1 :]
        if hit is None:
            for wl in texts:
                hit = wl.match_text(v)
                if hit is not None:
                    break
        if hit is not None:
            removed.append(Removal(v, "whitelist", str(hit)))
            continue
        if site or is_public_suffix_fast(v):
            why = guard_domain(v, subdomains=subs)
            if why:
                removed.append(Removal(v, "guard", why))
                continue
        out.append(ind)


def _is_ip_literal(host: str) -> bool:
    return ":" in host or (host[-1:].isdigit() and host.replace(".", "").isdigit())


def _is_site_root(url: str) -> bool:
    rest = url.split("://", 1)[1] if "://" in url else url
    slash = rest.find("/")
    return slash == -1 or rest[slash:] in ("/", "")


def _subtract_exact(feed: Feed, items: list[Indicator], lists: list[Whitelist]) -> None:
    for ind in items:
        hit = None
        for wl in lists:
            hit = wl.match_exact(ind.itype, ind.indicator)
            if hit is not None:
                break
        if hit is not None:
            feed.removed.append(Removal(ind.indicator, "whitelist", str(hit)))
        else:
            feed.indicators.append(ind)


# -- entry point ---------------------------------------------------------------------------


def whitelists_of(whitelist: Whitelist | Sequence[Whitelist] | None) -> list[Whitelist]:
    """A whitelist argument (one, several or none) as a list."""
    if whitelist is None:
        return []
    if isinstance(whitelist, Whitelist):
        return [whitelist]
    return [w for w in whitelist if w is not None]


def build_feed(
    itype: str,
    indicators: Iterable[Indicator],
    whitelist: Whitelist | Sequence[Whitelist] | None = None,
    options: FeedOptions | None = None,
) -> Feed:
    """Build the ``itype`` feed from ``indicators`` minus guards and ``whitelist``
    (one :class:`Whitelist` or several).

    Records of other itypes are ignored; records tagged ``whitelist`` are never fed
    and whitelist their value for this build.
    """
    if itype not in FEED_ITYPES:
        raise InvalidFeed(f"itype {itype!r}: no feed of that kind ({', '.join(FEED_ITYPES)})")
    opts = options or FeedOptions()
    if opts.max_split < 1:
        raise InvalidFeed(f"max_split {opts.max_split}: must be at least 1")
    window = DEFAULT_WINDOWS[itype] if opts.window is None else opts.window
    now = opts.now or datetime.now(UTC)
    since = now - window if window else None
    wanted = FEED_ITYPES[itype]
    feed = Feed(itype=itype, indicators=[])
    extra = Whitelist()
    kept: list[Indicator] = []
    cmin = opts.confidence_min
    # Every sighting in the window, per value: the effective confidence comes from them.
    sightings: dict[str, list[Sighting]] = {}
    n = 0
    for ind in indicators:
        if ind.itype not in wanted:
            continue
        n += 1
        if WHITELIST_TAG in ind.tags:
            extra.add_indicator(ind)
            continue
        kept.append(ind)
        seen = ind.last_at or ind.reported_at
        if since is None or seen is None or seen >= since:
            at = seen or ind.first_at
            sightings.setdefault(ind.indicator, []).append(
                (ind.provider, ind.confidence, to_micros(at) if at else None, ind.flags)
            )
    feed.considered = n
    fresh: list[Indicator] = []
    scorer = Scorer(opts.model)
    now_us = to_micros(now)
    half_life = opts.model.half_life
    for ind in aggregate(kept, by_value=True):
        seen = ind.last_at or ind.reported_at
        conf = scorer.confidence(sightings.get(ind.indicator, ()), now_us, half_life(ind.itype))
        if since is not None and seen is not None and seen < since:
            feed.removed.append(
                Removal(
                    ind.indicator,
                    "window",
                    f"last seen {seen:%Y-%m-%dT%H:%M:%SZ}, before the {window.days}-day window",
                )
            )
        elif conf < cmin:
            feed.removed.append(
                Removal(ind.indicator, "confidence", f"confidence {conf:g} is below {cmin:g}")
            )
        else:
            fresh.append(ind if ind.confidence == conf else replace(ind, confidence=conf))
    lists = [w for w in (*whitelists_of(whitelist), extra) if len(w)]
    if itype in _IP_FEEDS:
        _subtract_ip(feed, fresh, [guard_whitelist(), *lists], opts.max_split)
    elif itype in ("fqdn", "url"):
        _subtract_names(feed, fresh, lists, opts)
    else:
        _subtract_exact(feed, fresh, lists)
    return feed
