"""Plain-text table for terminals: aligned columns, one indicator per row."""

from __future__ import annotations

from collections.abc import Iterable

from cif.indicator.model import Indicator

from .common import clean, iso

COLUMNS = ("indicator", "itype", "confidence", "last_at", "tags", "provider")
WIDTH_CAP = 60


def render(indicators: Iterable[Indicator], **_: object) -> str:
    """A header, a rule and one aligned row per indicator; long cells are cut with ``~``."""
    rows = [list(COLUMNS)]
    for i in indicators:
        rows.append(
            [
                i.indicator,
                i.itype,
                f"{i.confidence:g}",
                iso(i.last_at),
                ",".join(sorted(i.tags)),
                i.provider,
            ]
        )
    rows = [
        [clean(c, 1000) if len(c) <= WIDTH_CAP else clean(c, WIDTH_CAP - 1) + "~" for c in r]
        for r in rows
    ]
    widths = [max(len(r[k]) for r in rows) for k in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"
