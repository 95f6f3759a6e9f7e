"""JSON Lines: one indicator object per line, for streaming into log pipelines."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from cif.indicator.model import Indicator


def render(indicators: Iterable[Indicator], **_: object) -> bytes:
    """Newline-terminated JSON objects (UTF-8 bytes)."""
    return b"".join(orjson.dumps(i.to_dict()) + b"\n" for i in indicators)
