"""ASN, AS name and country for addresses, from MaxMind-format .mmdb files.

Works with MaxMind's GeoLite2/GeoIP2 ASN, Country and City layouts and with
databases that keep ``asn``/``as_name``/``country_code`` flat (ipinfo-style), so a
deployment can point cif at whichever files it is licensed to use.
Lookups are memory-mapped reads: no network, microseconds each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import maxminddb

from cif.indicator.model import Indicator

ADDRESS_TYPES = frozenset({"ipv4", "ipv6", "cidr"})


@dataclass(frozen=True, slots=True)
class GeoInfo:
    asn: int | None = None
    asn_desc: str | None = None
    cc: str | None = None


def _asn_number(v: Any) -> int | None:
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        s = v.upper().removeprefix("AS")
        return int(s) if s.isdigit() else None
    return None


def _country(rec: dict[str, Any]) -> str | None:
    for key in ("country", "registered_country"):
        c = rec.get(key)
        if isinstance(c, dict) and isinstance(c.get("iso_code"), str):
            return c["iso_code"].upper()
    for key in ("country_code", "country_iso_code"):
        if isinstance(rec.get(key), str) and len(rec[key]) == 2:
            return rec[key].upper()
    return None


def parse_record(rec: Any) -> GeoInfo:
    """Pick ASN, AS name and country out of one database record, whatever its layout."""
    if not isinstance(rec, dict):
        return GeoInfo()
    asn = _asn_number(rec.get("autonomous_system_number", rec.get("asn")))
    name = rec.get("autonomous_system_organization", rec.get("as_name"))
    return GeoInfo(asn, name if isinstance(name, str) else None, _country(rec))


class GeoLookup:
    """Open .mmdb files (any mix of ASN, country, city); a later file fills only gaps."""

    def __init__(self, paths: Sequence[str | Path]) -> None:
        self.paths = [Path(p) for p in paths]
        self._readers = [maxminddb.open_database(str(p)) for p in self.paths]

    def lookup(self, address: str) -> GeoInfo:
        """What the databases say about one address (or a network's first address)."""
        addr = address.partition("/")[0]
        asn = name = cc = None
        for r in self._readers:
            try:
                info = parse_record(r.get(addr))
            except ValueError:
                return GeoInfo()
            asn = asn if asn is not None else info.asn
            name = name or info.asn_desc
            cc = cc or info.cc
        return GeoInfo(asn, name, cc)

    def enrich(self, indicators: Sequence[Indicator]) -> int:
        """Fill asn/asn_desc/cc where a feed left them empty; returns how many changed."""
        changed = 0
        for ind in indicators:
            if ind.itype not in ADDRESS_TYPES or (ind.asn is not None and ind.cc):
                continue
            info = self.lookup(ind.indicator)
            touched = False
            if ind.asn is None and info.asn is not None:
                ind.asn, touched = info.asn, True
            if not ind.asn_desc and info.asn_desc:
                ind.asn_desc, touched = info.asn_desc, True
            if not ind.cc and info.cc:
                ind.cc, touched = info.cc, True
            changed += touched
        return changed

    def close(self) -> None:
        for r in self._readers:
            r.close()
