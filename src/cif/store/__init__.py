"""Where indicators and tokens are kept: the Store protocol and its backends."""

from .base import Page, Store, UpsertResult
from .query import InvalidQuery, Query
from .tokens import TokenRecord, hash_token, new_token

__all__ = [
    "InvalidQuery",
    "Page",
    "Query",
    "Store",
    "TokenRecord",
    "UpsertResult",
    "hash_token",
    "new_token",
    "open_store",
]


def open_store(url: str) -> Store:
    """Open a store by URL: ``sqlite:///path``, a plain path, or ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore

        return PostgresStore(url)
    from .sqlite import SQLiteStore

    path = url.removeprefix("sqlite://") if url.startswith("sqlite://") else url
    return SQLiteStore(path)
