"""One store suite, run against every backend: SQLite in a temp file and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from cif.indicator import Indicator
from cif.store import Store, open_store

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A URL for an empty store of each backend."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'cif.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()


def ind(value: str, itype: str, **kw) -> Indicator:  # type: ignore[no-untyped-def]
    """An Indicator built directly with a canonical value and fixed times."""
    kw.setdefault("first_at", T0)
    kw.setdefault("last_at", T0)
    kw.setdefault("reported_at", T0)
    return Indicator(indicator=value, itype=itype, **kw)


Factory = Callable[..., Indicator]
