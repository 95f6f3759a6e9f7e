"""CSV: one row per indicator, spreadsheet-safe."""

from __future__ import annotations

import csv as _csv
import io
from collections.abc import Iterable, Sequence

from cif.indicator.model import Indicator

from .common import FormatError, iso

DEFAULT_COLUMNS = (
    "indicator",
    "itype",
    "confidence",
    "probability",
    "tags",
    "provider",
    "tlp",
    "first_at",
    "last_at",
    "count",
    "asn",
    "cc",
    "description",
    "reference",
)


def _cell(ind: Indicator, col: str) -> str:
    v = getattr(ind, col)
    if v is None:
        return ""
    if isinstance(v, set):
        return ",".join(sorted(v))
    if col.endswith("_at"):
        return iso(v)
    s = f"{v:g}" if isinstance(v, float) else str(v)
    # A leading = + - @ makes spreadsheets run the cell as a formula.
    return "'" + s if s[:1] in ("=", "+", "-", "@") else s


def render(
    indicators: Iterable[Indicator],
    *,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    header: bool = True,
    **_: object,
) -> str:
    """CSV text (RFC 4180 quoting, ``\\n`` line ends)."""
    bad = [c for c in columns if c not in Indicator.__slots__]
    if bad:
        raise FormatError(f"column {bad[0]!r}: not an indicator field")
    buf = io.StringIO()
    w = _csv.writer(buf, lineterminator="\n")
    if header:
        w.writerow(columns)
    for ind in indicators:
        w.writerow([_cell(ind, c) for c in columns])
    return buf.getvalue()
