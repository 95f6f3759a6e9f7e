"""Small helpers shared by the output formats."""

from __future__ import annotations

import hashlib
from datetime import datetime

from cif.indicator.model import Indicator

MAX_LINE = 4096


class FormatError(ValueError):
    """An indicator or option a format cannot express; the message names it."""


def iso(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else ""


def without_scheme(url: str) -> str:
    """``https://a.example/x`` -> ``a.example/x``: how proxies and Zeek want urls."""
    return url.split("://", 1)[1] if "://" in url else url


def clean(text: str | None, limit: int = 200) -> str:
    """One-line text: control characters, tabs and newlines become spaces."""
    if not text:
        return ""
    out = "".join(c if c.isprintable() else " " for c in text)
    return out[:limit]


def digest(ind: Indicator) -> str:
    """Fingerprint of the data a rule or record carries: changes when any of it does."""
    parts = [
        ind.itype,
        ind.indicator,
        f"{ind.confidence:g}",
        ",".join(sorted(ind.tags)),
        ind.description or "",
        ind.reference or "",
        ind.tlp,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
