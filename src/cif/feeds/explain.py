"""Explain: is a value in a feed, and if not, which record, guard or entry says why."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cif.indicator.model import Indicator
from cif.score.confidence import Sighting, confidence_of, to_micros

from .builder import (
    DEFAULT_WINDOWS,
    FEED_ITYPES,
    FeedOptions,
    InvalidFeed,
    Removal,
    build_feed,
    guard_domain,
    guard_whitelist,
    whitelists_of,
)
from .whitelist import WHITELIST_TAG, Whitelist


@dataclass(slots=True)
class Explanation:
    """The answer for one value: in the feed or not, with the evidence."""

    value: str
    itype: str
    in_feed: bool
    covered_by: list[str] = field(default_factory=list)  # feed lines that carry the value
    records: list[dict[str, Any]] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    whitelisted_by: list[str] = field(default_factory=list)
    # The effective confidence the feed gives the value (its sightings in the window).
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "itype": self.itype,
            "in_feed": self.in_feed,
            "covered_by": self.covered_by,
            "records": self.records,
            "removed": [r.to_dict() for r in self.removed],
            "whitelisted_by": self.whitelisted_by,
            "confidence": self.confidence,
        }


def _ip_relevant(value: str) -> tuple[Any, Any]:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise InvalidFeed(f"{value!r}: not an address or network for an IP feed") from None
    return net, type(net)


def explain(
    value: str,
    itype: str,
    indicators: Iterable[Indicator],
    whitelist: Whitelist | Sequence[Whitelist] | None = None,
    options: FeedOptions | None = None,
) -> Explanation:
    """Say whether ``value`` is in the ``itype`` feed built from these records, and why.

    For IP feeds a record counts when its network holds ``value`` (or the reverse), so
    an address inside a fed network is reported as covered by that network.
    """
    if itype not in FEED_ITYPES:
        raise InvalidFeed(f"itype {itype!r}: no feed of that kind ({', '.join(FEED_ITYPES)})")
    value = value.strip()
    ip = itype in ("ipv4", "ipv6")
    wanted = FEED_ITYPES[itype]
    if ip:
        target, _ = _ip_relevant(value)

        def relevant(v: str) -> bool:
            try:
                n = ipaddress.ip_network(v, strict=False)
            except ValueError:
                return False
            return n.version == target.version and n.overlaps(target)
    else:
        low = value.lower()

        def relevant(v: str) -> bool:
            return v == value or v.lower() == low

    records = [i for i in indicators if i.itype in wanted and relevant(i.indicator)]
    # Whitelist-tagged records anywhere in the input still whitelist this build.
    feed = build_feed(itype, records, whitelist, options)
    out = Explanation(value=value, itype=itype, in_feed=False)
    out.records = [r.to_dict() for r in records]
    out.removed = list(feed.removed)
    for ind in feed.indicators:
        if ip:
            n = ipaddress.ip_network(ind.indicator, strict=False)
            if target.subnet_of(n):
                out.covered_by.append(ind.indicator)
        elif ind.indicator == value or ind.indicator.lower() == low:
            out.covered_by.append(ind.indicator)
    out.in_feed = bool(out.covered_by)
    out.whitelisted_by = _standing_entries(value, itype, records, whitelist, options)
    out.confidence = _confidence(value, itype, records, options)
    return out


def _confidence(
    value: str, itype: str, records: list[Indicator], options: FeedOptions | None
) -> float | None:
    """The effective confidence a feed line for exactly ``value`` carries (as the build
    computes it: the sightings in the window, whitelist-tagged records left out)."""
    opts = options or FeedOptions()
    now = opts.now or datetime.now(UTC)
    window = DEFAULT_WINDOWS[itype] if opts.window is None else opts.window
    since = now - window if window else None
    rows: list[Sighting] = []
    kind = ""
    for r in records:
        if r.indicator != value or WHITELIST_TAG in r.tags:
            continue
        seen = r.last_at or r.reported_at
        if since is not None and seen is not None and seen < since:
            continue
        at = seen or r.first_at
        rows.append((r.provider, r.confidence, to_micros(at) if at else None, r.flags))
        kind = kind or r.itype
    if not rows:
        return None
    return confidence_of(rows, to_micros(now), opts.model.half_life(kind), model=opts.model)


def _standing_entries(
    value: str,
    itype: str,
    records: list[Indicator],
    whitelist: Whitelist | Sequence[Whitelist] | None,
    options: FeedOptions | None,
) -> list[str]:
    """Guards and entries that would keep ``value`` out even with no record at all."""
    extra = Whitelist()
    extra.add_indicators(r for r in records if WHITELIST_TAG in r.tags)
    found: list[str] = []
    if itype in ("ipv4", "ipv6"):
        for wl in (guard_whitelist(), *whitelists_of(whitelist), extra):
            if (e := wl.match_ip(value)) is not None:
                found.append(str(e))
        return list(dict.fromkeys(found))
    for wl in (*whitelists_of(whitelist), extra):
        for e in (wl.match_url(value), wl.match_domain(value), wl.match_text(value)):
            if e is not None:
                found.append(str(e))
    if itype == "fqdn":
        subs = options.guard_top_site_subdomains if options else True
        why = guard_domain(value.lower(), subdomains=subs)
        if why:
            found.append(f"guard: {why}")
    return found
