"""JSON: an array of indicator objects, the API's own field names."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from cif.indicator.model import Indicator


def render(indicators: Iterable[Indicator], **_: object) -> bytes:
    """A JSON array (UTF-8 bytes)."""
    return orjson.dumps([i.to_dict() for i in indicators])
