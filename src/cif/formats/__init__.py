"""Output formats: each a pure function of indicators to text or bytes.

``render(name, indicators, **options)`` picks one from :data:`FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from cif.indicator.model import Indicator

from . import (
    csv,
    ipset,
    json,
    jsonl,
    nftables,
    plain,
    rpz,
    snort,
    stix,
    suricata,
    suricata_dataset,
    suricata_iprep,
    table,
    zeek,
)
from .common import FormatError

Renderer = Callable[..., str | bytes]

FORMATS: dict[str, Renderer] = {
    "csv": csv.render,
    "json": json.render,
    "jsonl": jsonl.render,
    "table": table.render,
    "plain": plain.render,
    "ipset": ipset.render,
    "nftables": nftables.render,
    "zeek": zeek.render,
    "snort": snort.render,
    "suricata": suricata.render,
    "suricata-iprep": suricata_iprep.render,
    "suricata-iprep-categories": suricata_iprep.render_categories,
    "suricata-dataset": suricata_dataset.render,
    "rpz": rpz.render,
    "stix": stix.render,
}

MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "stix": "application/stix+json;version=2.1",
}


def render(name: str, indicators: Iterable[Indicator], /, **options: Any) -> str | bytes:
    """Render ``indicators`` in format ``name``; unknown names raise :class:`FormatError`."""
    fn = FORMATS.get(name)
    if fn is None:
        raise FormatError(f"format {name!r}: not one of {', '.join(FORMATS)}")
    return fn(indicators, **options)


def media_type(name: str) -> str:
    """HTTP content type for a format (plain text unless listed)."""
    return MEDIA_TYPES.get(name, "text/plain; charset=utf-8")


__all__ = ["FORMATS", "FormatError", "media_type", "render"]
