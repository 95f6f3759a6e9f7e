"""UTC times: parse what feeds and people send, print ISO-8601 with Z."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .errors import InvalidIndicator


def parse_time(v: Any, name: str = "time") -> datetime | None:
    """Parse ISO-8601 (with Z or an offset), a date, or epoch seconds, into aware UTC."""
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            return datetime.fromtimestamp(float(v), UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidIndicator(v, f"{name} is not a valid epoch time") from None
    s = str(v).strip()
    if s.replace(".", "", 1).isdigit():
        return parse_time(float(s), name)
    try:
        t = datetime.fromisoformat(s.replace(" UTC", "Z"))
    except ValueError:
        raise InvalidIndicator(v, f"{name} is not an ISO-8601 time") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def format_time(t: datetime) -> str:
    """ISO-8601 in UTC with a Z, to the microsecond only when there is one."""
    t = t.astimezone(UTC)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += f".{t.microsecond:06d}"
    return s + "Z"
