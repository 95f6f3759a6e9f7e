"""`{field}` (and csirtg-smrt's `<field>`) templates in rule values, filled from a record.

Plain substitution only: no attribute access, no expressions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_BRACES = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ANGLES = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")


def has_template(value: Any) -> bool:
    return isinstance(value, str) and bool(_BRACES.search(value) or _ANGLES.search(value))


def fields_of(value: str) -> set[str]:
    """Field names a template refers to."""
    return set(_BRACES.findall(value)) | set(_ANGLES.findall(value))


def render(value: str, record: Mapping[str, Any]) -> str | None:
    """Fill ``value`` from ``record``; None when a referenced field is missing or empty."""
    missing = False

    def sub(m: re.Match[str]) -> str:
        nonlocal missing
        v = record.get(m.group(1))
        if v is None or v == "":
            missing = True
            return ""
        return str(v)

    out = _ANGLES.sub(sub, _BRACES.sub(sub, value))
    return None if missing else out
