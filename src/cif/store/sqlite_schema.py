"""SQLite schema versions and the migrations between them.

The version lives in ``PRAGMA user_version``. Opening a database runs every
migration above its version inside one ``BEGIN IMMEDIATE`` transaction, so two
processes opening the same old file migrate it once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from .codec import indicator_hash, rdomain

V1 = """
CREATE TABLE indicators (
    id          INTEGER PRIMARY KEY,
    indicator   TEXT NOT NULL,
    itype       TEXT NOT NULL,
    provider    TEXT NOT NULL,
    grp         TEXT NOT NULL,
    tlp         TEXT NOT NULL,
    confidence  REAL NOT NULL,
    probability REAL NOT NULL,          -- -1 when unknown
    first_at    INTEGER NOT NULL,       -- microseconds since the epoch, UTC
    last_at     INTEGER NOT NULL,
    reported_at INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    description TEXT,
    reference   TEXT,
    asn         INTEGER,
    asn_desc    TEXT,
    cc          TEXT,
    rdata       TEXT,
    portlist    TEXT,
    protocol    TEXT,
    parent      INTEGER,
    extra       TEXT,                   -- JSON object, NULL when empty
    flags       TEXT,                   -- JSON sorted list, NULL when empty
    tags        TEXT,                   -- JSON sorted list, NULL when empty
    ip_start    BLOB,                   -- 16 bytes, IPv4 mapped
    ip_end      BLOB,
    plen        INTEGER
);
CREATE UNIQUE INDEX indicators_key ON indicators (indicator, provider, grp);
CREATE INDEX indicators_ip ON indicators (ip_start, ip_end) WHERE ip_start IS NOT NULL;
CREATE INDEX indicators_last_at ON indicators (last_at);
CREATE INDEX indicators_reported_at ON indicators (reported_at);
CREATE INDEX indicators_first_at ON indicators (first_at);
CREATE INDEX indicators_confidence ON indicators (confidence);
CREATE INDEX indicators_probability ON indicators (probability);
CREATE TABLE indicator_tags (
    tag          TEXT NOT NULL,
    indicator_id INTEGER NOT NULL,
    PRIMARY KEY (tag, indicator_id)
) WITHOUT ROWID;
CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    username     TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    can_read     INTEGER NOT NULL,
    can_write    INTEGER NOT NULL,
    is_admin     INTEGER NOT NULL,
    groups       TEXT NOT NULL,         -- JSON list
    itypes       TEXT NOT NULL,         -- JSON list, empty = every itype
    expires_at   INTEGER,
    revoked      INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX tokens_username ON tokens (username);
"""


def _v1(conn: sqlite3.Connection) -> None:
    for stmt in V1.split(";"):
        if stmt.strip():
            conn.execute(stmt)


def _v2(conn: sqlite3.Connection) -> None:
    """Subdomain search: the reversed name of every fqdn, on an index."""
    conn.execute("ALTER TABLE indicators ADD COLUMN rdomain TEXT")
    rows = conn.execute("SELECT id, indicator FROM indicators WHERE itype = 'fqdn'").fetchall()
    conn.executemany(
        "UPDATE indicators SET rdomain = ? WHERE id = ?", [(rdomain(v), i) for i, v in rows]
    )
    conn.execute(
        "CREATE INDEX indicators_rdomain ON indicators (rdomain) WHERE rdomain IS NOT NULL"
    )


def _v3(conn: sqlite3.Connection) -> None:
    """The search log (searches are intelligence too) and a change counter for feed caches."""
    conn.execute(
        "CREATE TABLE search_log (id INTEGER PRIMARY KEY, username TEXT NOT NULL,"
        " query TEXT NOT NULL, results INTEGER NOT NULL, at INTEGER NOT NULL)"
    )
    conn.execute("CREATE INDEX search_log_at ON search_log (at)")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    conn.execute("INSERT INTO meta (key, value) VALUES ('changes', 0)")


def _v4(conn: sqlite3.Connection) -> None:
    """A compact lookup key: a 64-bit hash of the indicator value on an integer index.

    It replaces the unique text index on (indicator, provider, grp), the widest and
    slowest index to insert into. The key stays unique because every writer looks
    the batch's keys up and inserts under the same write lock (``BEGIN IMMEDIATE``).
    """
    conn.execute("ALTER TABLE indicators ADD COLUMN ihash INTEGER")
    rows = conn.execute("SELECT id, indicator FROM indicators").fetchall()
    conn.executemany(
        "UPDATE indicators SET ihash = ? WHERE id = ?", [(indicator_hash(v), i) for i, v in rows]
    )
    conn.execute("CREATE INDEX indicators_ihash ON indicators (ihash)")
    conn.execute("DROP INDEX indicators_key")


def _v5(conn: sqlite3.Connection) -> None:
    """A change stamp per row: the change counter's value of the upsert that last wrote
    it (0 for rows written before), so feeds can read only what changed since."""
    conn.execute("ALTER TABLE indicators ADD COLUMN changed INTEGER NOT NULL DEFAULT 0")
    conn.execute("CREATE INDEX indicators_changed ON indicators (itype, changed)")


MIGRATIONS: list[tuple[int, Callable[[sqlite3.Connection], None]]] = [
    (1, _v1),
    (2, _v2),
    (3, _v3),
    (4, _v4),
    (5, _v5),
]
CURRENT = MIGRATIONS[-1][0]


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = CURRENT) -> int:
    """Bring the database up to ``target``; returns the version it is at."""
    if version(conn) == target:
        return target
    conn.execute("BEGIN IMMEDIATE")
    try:
        have = version(conn)
        if have > CURRENT:
            raise RuntimeError(
                f"store schema version {have} is newer than this code understands ({CURRENT})"
            )
        for v, step in MIGRATIONS:
            if have < v <= target:
                step(conn)
                conn.execute(f"PRAGMA user_version = {int(v)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version(conn)
