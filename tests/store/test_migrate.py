"""Opening a database made by an older version migrates it and keeps its data."""

from __future__ import annotations

import sqlite3

import psycopg

from cif.store import Query, open_store
from cif.store.postgres import PostgresStore
from cif.store.postgres_schema import CURRENT as PG_CURRENT
from cif.store.sqlite import SQLiteStore
from cif.store.sqlite_schema import CURRENT

from .conftest import T0, ind


def test_both_backends_keep_the_same_schema_version() -> None:
    assert CURRENT == PG_CURRENT


OLD_ROWS = [
    ind("old.example", "fqdn", tags={"legacy"}),
    ind("a.old.example", "fqdn"),
    ind("203.0.113.0/24", "ipv4_cidr"),
    ind("http://old.example/x", "url"),
]


def _fill_v1(store) -> None:  # type: ignore[no-untyped-def]
    """Write rows through the v1 tables (no rdomain column yet), as the old code did."""
    from cif.store import postgres, sqlite

    if isinstance(store, SQLiteStore):
        conn = sqlite3.connect(store.path)
        cols = sqlite.COLUMNS.removesuffix(", rdomain")
        rows = []
        for i, r in enumerate(OLD_ROWS):
            mask, values = sqlite._insert_row(r, i + 1, 0)
            named = dict(zip(sqlite._insert_cols(mask), values))
            rows.append(tuple(named.get(c) for c in cols.split(", ")))
        conn.executemany(
            f"INSERT INTO indicators ({cols}) VALUES ({','.join('?' * len(rows[0]))})", rows
        )
        conn.execute("INSERT INTO indicator_tags VALUES ('legacy', 1)")
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(store.url, autocommit=True) as conn:
            cols = postgres._DATA_COLS.removesuffix(", rdomain")
            rows = [postgres._stage_row(r)[:-1] for r in OLD_ROWS]
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO indicators ({cols}) VALUES ({','.join(['%s'] * len(rows[0]))})",
                    rows,
                )


def test_old_database_is_migrated(store_url: str) -> None:
    old = (
        SQLiteStore(store_url.removeprefix("sqlite://"), migrate_to=1)
        if store_url.startswith("sqlite")
        else PostgresStore(store_url, migrate_to=1)
    )
    assert old.schema_version() == 1
    _fill_v1(old)
    old.close()

    store = open_store(store_url)
    try:
        assert store.schema_version() == CURRENT
        assert store.changes() >= 0 and store.search_log() == []
        assert {i.indicator for i in store.search(Query(q="old.example")).items} == {
            "old.example",
            "a.old.example",
        }
        assert [i.indicator for i in store.search(Query(q="203.0.113.9")).items] == [
            "203.0.113.0/24"
        ]
        assert {i.indicator for i in store.search(Query(tags=["legacy"])).items} == {"old.example"}
        assert store.search(Query(q="old.example", limit=10)).items[-1].first_at == T0
        assert [i.indicator for i in store.search(Query(q="http://old.example/x")).items] == [
            "http://old.example/x"
        ]
        again_old = store.upsert([ind("old.example", "fqdn"), ind("http://old.example/x", "url")])
        assert (again_old.inserted, again_old.updated) == (0, 2)
        store.upsert([ind("new.old.example", "fqdn")])
        assert len(store.search(Query(q="old.example")).items) == 3
    finally:
        store.close()
    again = open_store(store_url)
    assert again.schema_version() == CURRENT
    again.close()


def _fill_v4(store) -> None:  # type: ignore[no-untyped-def]
    """Write rows through the v4 tables (no change stamp yet), as the v4 code did."""
    from cif.store import postgres, sqlite
    from cif.store.codec import indicator_hash

    if isinstance(store, SQLiteStore):
        conn = sqlite3.connect(store.path)
        for i, r in enumerate(OLD_ROWS):
            mask, values = sqlite._insert_row(r, i + 1, indicator_hash(r.indicator))
            named = dict(zip(sqlite._insert_cols(mask), values, strict=True))
            del named["changed"]
            conn.execute(
                f"INSERT INTO indicators ({', '.join(named)}) VALUES"
                f" ({','.join('?' * len(named))})",
                list(named.values()),
            )
        conn.execute("INSERT INTO indicator_tags VALUES ('legacy', 1)")
        conn.execute("UPDATE meta SET value = 7 WHERE key = 'changes'")
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(store.url, autocommit=True) as conn:
            rows = [postgres._stage_row(r) for r in OLD_ROWS]
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO indicators ({postgres._DATA_COLS}) VALUES"
                    f" ({','.join(['%s'] * len(rows[0]))})",
                    rows,
                )
            conn.execute("SELECT setval('cif_changes', 7)")


def test_v4_database_gets_change_stamps_and_keeps_its_data(store_url: str) -> None:
    from cif.store.scan import ScanFilter, changed_marker, scan

    old = (
        SQLiteStore(store_url.removeprefix("sqlite://"), migrate_to=4)
        if store_url.startswith("sqlite")
        else PostgresStore(store_url, migrate_to=4)
    )
    assert old.schema_version() == 4
    _fill_v4(old)
    old.close()

    store = open_store(store_url)
    try:
        assert store.schema_version() == CURRENT == 5
        marker = changed_marker(store)
        assert marker is not None and marker >= 7
        everything = ("fqdn", "ipv4_cidr", "url")
        rows = {r[1]: r for r in scan(store, ScanFilter(itypes=everything))}
        assert set(rows) == {r.indicator for r in OLD_ROWS}
        assert rows["old.example"][5] == ("legacy",)
        assert {i.indicator for i in store.search(Query(tags=["legacy"])).items} == {"old.example"}
        assert store.search(Query(q="old.example", limit=10)).items[-1].first_at == T0
        # Old rows carry stamp 0: they are older than any marker a feed could hold.
        assert list(scan(store, ScanFilter(itypes=everything, changed_after=0))) == []
        store.upsert([ind("old.example", "fqdn", confidence=90.0), ind("v5.example", "fqdn")])
        changed = {r[1] for r in scan(store, ScanFilter(itypes=everything, changed_after=marker))}
        assert changed == {"old.example", "v5.example"}
        assert store.changes() > marker
    finally:
        store.close()
