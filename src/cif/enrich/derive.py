"""Derived indicators: new values that follow from a reported one, each linked to it.

Rules (each optional):

- ``url_host``: a url yields its host (fqdn or address), at 0.8 x the parent's confidence;
- ``resolved``: an fqdn yields the addresses it resolves to, at 0.5 x;
- ``whitelist_net``: a whitelisted address yields its /24 (IPv6: /64) as a whitelist
  hint, tagged ``whitelist``, ``hint``, at 25 (never above the parent);
- ``registered_domain``: a subdomain (fqdn or url host) yields its registered domain
  tagged ``context`` only, at 0.3 x: context for analysts, never a block.

A derived confidence is always below its parent's (at most parent - 1). The parent's
store id is unknown until the store assigns it, so the link is by value:
``extra["parent_indicator"]`` and ``extra["parent_itype"]``; the pipeline stores parents
first and fills ``parent`` from their ids before it stores the children. Derived
indicators carry ``extra["derived"]`` (the rule) and are never derived from again,
and a batch yields at most ``max_per_batch`` of them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cif.indicator import Indicator, InvalidIndicator
from cif.indicator.normalize import normalize
from cif.indicator.psl import registered_domain

WHITELIST_TAG = "whitelist"
CONTEXT_TAG = "context"
HINT_TAG = "hint"
_URL_AUTH = re.compile(r"^[a-z][a-z0-9+.-]*://([^/?#]*)", re.I)


@dataclass(frozen=True, slots=True)
class DeriveConfig:
    """Which rules run, how much confidence a child keeps, and the per-batch cap."""

    url_host: bool = True
    resolved: bool = True
    whitelist_net: bool = True
    registered_domain: bool = True
    url_host_factor: float = 0.8
    resolved_factor: float = 0.5
    registered_domain_factor: float = 0.3
    whitelist_hint_confidence: float = 25.0
    max_per_batch: int = 10_000


def is_derived(ind: Indicator) -> bool:
    return bool(ind.extra.get("derived"))


def child_confidence(parent: float, factor: float) -> float:
    """``parent x factor``, but always strictly below the parent (floor 0)."""
    return round(max(0.0, min(parent * factor, parent - 1.0)), 2)


def url_host(url: str) -> str | None:
    """The host part of a canonical url: a name, an IPv4 or an IPv6 address."""
    m = _URL_AUTH.match(url)
    if not m:
        return None
    auth = m.group(1).rpartition("@")[2]
    if auth.startswith("["):
        return auth[1:].partition("]")[0] or None
    return auth.rpartition(":")[0] if ":" in auth else auth or None


def _network_of(address: str, itype: str) -> str | None:
    plen = 24 if itype == "ipv4" else 64
    try:
        return str(ipaddress.ip_network(f"{address}/{plen}", strict=False))
    except ValueError:
        return None


class _Batch:
    """Collects children for one batch: dedupes them and enforces the cap."""

    def __init__(self, existing: Sequence[Indicator], cap: int) -> None:
        self.seen = {(i.indicator, i.provider, i.group) for i in existing}
        self.out: list[Indicator] = []
        self.cap = cap

    @property
    def full(self) -> bool:
        return len(self.out) >= self.cap

    def add(
        self, parent: Indicator, value: str, rule: str, confidence: float, tags: set[str]
    ) -> None:
        if self.full:
            return
        try:
            norm = normalize(value)
        except InvalidIndicator:
            return
        key = (norm.indicator, parent.provider, parent.group)
        if key in self.seen or norm.indicator == parent.indicator:
            return
        self.seen.add(key)
        extra: dict[str, Any] = {
            "derived": rule,
            "parent_indicator": parent.indicator,
            "parent_itype": parent.itype,
        }
        self.out.append(
            Indicator(
                indicator=norm.indicator,
                itype=norm.itype,
                tags=tags,
                confidence=confidence,
                provider=parent.provider,
                group=parent.group,
                tlp=parent.tlp,
                first_at=parent.first_at,
                last_at=parent.last_at,
                reported_at=parent.reported_at,
                description=f"{rule} of {parent.indicator}"[:256],
                parent=parent.id,
                extra=extra,
                flags=set(norm.flags),
            )
        )


def derive(
    batch: Sequence[Indicator],
    resolved: Mapping[str, Sequence[str]] | None = None,
    config: DeriveConfig | None = None,
) -> list[Indicator]:
    """Children of the batch's (non-derived) indicators; ``resolved`` maps fqdn -> addresses."""
    cfg = config or DeriveConfig()
    acc = _Batch(batch, cfg.max_per_batch)
    for p in batch:
        if acc.full:
            break
        if is_derived(p) or p.extra.get("derive") is False:
            continue
        whitelisted = WHITELIST_TAG in p.tags
        if whitelisted:
            if cfg.whitelist_net and p.itype in ("ipv4", "ipv6"):
                net = _network_of(p.indicator, p.itype)
                if net:
                    conf = min(cfg.whitelist_hint_confidence, child_confidence(p.confidence, 1.0))
                    acc.add(p, net, "whitelist_net", conf, {WHITELIST_TAG, HINT_TAG})
            continue
        if p.flags:
            continue
        host = (
            p.indicator
            if p.itype == "fqdn"
            else url_host(p.indicator)
            if p.itype == "url"
            else None
        )
        if host is None:
            continue
        if p.itype == "url" and cfg.url_host:
            acc.add(
                p,
                host,
                "url_host",
                child_confidence(p.confidence, cfg.url_host_factor),
                set(p.tags),
            )
        if p.itype == "fqdn" and cfg.resolved and resolved:
            for addr in resolved.get(host, ()):
                acc.add(
                    p,
                    addr,
                    "resolved",
                    child_confidence(p.confidence, cfg.resolved_factor),
                    set(p.tags),
                )
        if cfg.registered_domain:
            rd = registered_domain(host) if not _is_ip(host) else None
            if rd and rd != host:
                acc.add(
                    p,
                    rd,
                    "registered_domain",
                    child_confidence(p.confidence, cfg.registered_domain_factor),
                    {CONTEXT_TAG},
                )
    return acc.out


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
