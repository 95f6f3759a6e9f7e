"""The Store protocol: what every backend (SQLite, PostgreSQL) provides."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cif.indicator import Indicator

from .query import Query
from .tokens import TokenRecord


@dataclass(slots=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0


@dataclass(slots=True)
class Page:
    """One page of search results; ``cursor`` fetches the next page, None at the end."""

    items: list[Indicator] = field(default_factory=list)
    cursor: str | None = None


def upsert_in_batches(
    indicators: Sequence[Indicator],
    size: int,
    upsert_batch: Callable[[list[Indicator]], UpsertResult],
) -> UpsertResult:
    """Upsert in transactions of ``size`` records: a long feed never holds the store's
    write lock for the whole of it, and memory stays bounded per transaction."""
    result = UpsertResult()
    items = list(indicators)
    for i in range(0, len(items), size):
        r = upsert_batch(items[i : i + size])
        result.inserted += r.inserted
        result.updated += r.updated
    return result


class Store(Protocol):
    """A place indicators and tokens are kept.

    Upsert key: (indicator, provider, group). A repeat sighting unions tags, keeps
    the earliest first_at and latest last_at, adds count, and takes the newer
    confidence and description (newer = later reported_at/last_at of the sighting).
    """

    url: str

    def upsert(self, indicators: Sequence[Indicator]) -> UpsertResult: ...

    def search(self, query: Query) -> Page: ...

    def get(self, ids: Sequence[int]) -> list[Indicator]: ...

    def ping(self) -> None:
        """Raise if the store cannot answer a trivial query."""

    def schema_version(self) -> int: ...

    def changes(self) -> int:
        """Grows with every committed upsert, from any process: validates feed caches."""

    def stats(self, groups: list[str] | None = None, *, days: int = 30) -> dict[str, Any]:
        """Counts by itype, tag, provider and reported day, over ``groups`` (None: all)."""

    # the search log: who looked for what, when
    def log_searches(self, rows: Sequence[tuple[str, str, int, datetime]]) -> None:
        """Append (username, query, results, at) rows; see SearchLogWriter for batching."""

    def search_log(self, limit: int = 100) -> list[dict[str, Any]]: ...

    # tokens: stored hashed, never in clear
    def token_add(self, record: TokenRecord) -> TokenRecord: ...

    def token_by_hash(self, token_hash: str) -> TokenRecord | None: ...

    def token_list(self) -> list[TokenRecord]: ...

    def token_revoke(self, *, id: int | None = None, username: str | None = None) -> int:
        """Mark matching tokens revoked; returns how many."""

    def token_update(self, id: int, **changes: Any) -> TokenRecord | None:
        """Change read/write/admin/groups/itypes/expires_at; None if no such token."""

    def token_touch(self, token_hash: str, at: datetime | None = None) -> bool:
        """Record a token's use; backends write at most once a minute per token."""

    def count(self) -> int:
        """How many indicator records are kept."""

    def explain(self, query: Query) -> list[str]:
        """The backend's plan for ``query``, to check that it runs on indexes."""

    def close(self) -> None: ...
