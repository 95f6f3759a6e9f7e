"""The enrichment pipeline stage: geo/ASN, DNS and derived indicators for a batch.

Optional per deployment (the ``enrich`` config section, or no stage at all) and per
feed rule or record: ``extra["enrich"]`` set to ``false`` skips a record, a list such
as ``["geo"]`` limits it to those steps (geo, dns, derive).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cif.indicator import Indicator

from .derive import WHITELIST_TAG, DeriveConfig, derive, is_derived
from .dns import DnsConfig, DnsResolver
from .geo import GeoLookup

STEPS = ("geo", "dns", "derive")


class InvalidEnrichConfig(ValueError):
    """An enrich config section that cannot be used; the message names the key."""


def _sub(cls: Any, data: Any, name: str) -> Any:
    if data is None or data is False:
        return None
    if data is True:
        return cls()
    if not isinstance(data, Mapping):
        raise InvalidEnrichConfig(f"enrich.{name} must be a mapping, true or false")
    known = {f.name for f in fields(cls)}
    bad = set(data) - known
    if bad:
        raise InvalidEnrichConfig(f"enrich.{name}: unknown keys {', '.join(sorted(bad))}")
    vals = dict(data)
    if "nameservers" in vals and vals["nameservers"] is not None:
        vals["nameservers"] = tuple(str(s) for s in vals["nameservers"])
    return cls(**vals)


@dataclass(frozen=True, slots=True)
class EnrichConfig:
    """``mmdb``: .mmdb paths (ASN/country/city); ``dns``/``derive``: None turns them off."""

    mmdb: tuple[str, ...] = ()
    dns: DnsConfig | None = None
    derive: DeriveConfig | None = field(default_factory=DeriveConfig)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> EnrichConfig:
        """From the YAML ``enrich:`` section (see docs/context.md)."""
        data = dict(data or {})
        bad = set(data) - {"mmdb", "dns", "derive"}
        if bad:
            raise InvalidEnrichConfig(f"enrich: unknown keys {', '.join(sorted(bad))}")
        mmdb = data.get("mmdb") or ()
        if isinstance(mmdb, (str, Path)):
            mmdb = (mmdb,)
        return cls(
            mmdb=tuple(str(p) for p in mmdb),
            dns=_sub(DnsConfig, data.get("dns"), "dns"),
            derive=_sub(DeriveConfig, data.get("derive", True), "derive"),
        )


def _steps(ind: Indicator) -> frozenset[str]:
    opt = ind.extra.get("enrich", True) if ind.extra else True
    if opt is False:
        return frozenset()
    if isinstance(opt, (list, tuple)):
        return frozenset(str(s) for s in opt) & frozenset(STEPS)
    return frozenset(STEPS)


@dataclass(slots=True)
class EnrichStats:
    batches: int = 0
    geo_filled: int = 0
    dns_names: int = 0
    dns_answered: int = 0
    derived: int = 0


class EnrichStage:
    """``Stage`` for Pipeline(stages=[...]): enriches in place, appends derived indicators."""

    def __init__(self, config: EnrichConfig | None = None) -> None:
        self.config = config or EnrichConfig()
        self.geo = GeoLookup(self.config.mmdb) if self.config.mmdb else None
        self.resolver = DnsResolver(self.config.dns) if self.config.dns else None
        self.stats = EnrichStats()

    def __call__(self, batch: list[Indicator]) -> list[Indicator]:
        self.stats.batches += 1
        steps = {id(i): _steps(i) for i in batch}
        resolved: dict[str, list[str]] = {}
        if self.resolver is not None:
            names = [
                i.indicator
                for i in batch
                if i.itype == "fqdn"
                and "dns" in steps[id(i)]
                and not is_derived(i)
                and not i.flags
                and WHITELIST_TAG not in i.tags
            ]
            self.stats.dns_names += len(names)
            answers = self.resolver.resolve_many(names)
            self.stats.dns_answered += len(answers)
            for i in batch:
                ans = answers.get(i.indicator) if i.itype == "fqdn" else None
                if ans is None or "dns" not in steps[id(i)]:
                    continue
                i.extra["dns"] = ans.to_dict() if ans.status == "ok" else {"status": ans.status}
                if ans.addresses:
                    resolved[i.indicator] = ans.addresses
                    if not i.rdata:
                        i.rdata = ans.addresses[0]
        children: list[Indicator] = []
        if self.config.derive is not None:
            parents = [i for i in batch if "derive" in steps[id(i)]]
            children = derive(parents, resolved, self.config.derive)
            self.stats.derived += len(children)
        if self.geo is not None:
            targets = [i for i in batch if "geo" in steps[id(i)]] + children
            self.stats.geo_filled += self.geo.enrich(targets)
        return batch + children if children else batch

    def close(self) -> None:
        if self.resolver is not None:
            self.resolver.close()
        if self.geo is not None:
            self.geo.close()
