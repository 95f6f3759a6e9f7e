"""Build canonical Indicator records directly, without the normalizer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cif.indicator.model import Indicator

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def ind(
    value: str,
    itype: str,
    *,
    conf: float = 80,
    days_ago: float = 1,
    provider: str = "p1",
    tags: set[str] | None = None,
    **kw: object,
) -> Indicator:
    last = NOW - timedelta(days=days_ago)
    return Indicator(
        indicator=value,
        itype=itype,
        confidence=conf,
        provider=provider,
        tags=set(tags or {"scanner"}),
        first_at=last,
        last_at=last,
        reported_at=last,
        **kw,
    )  # type: ignore[arg-type]
