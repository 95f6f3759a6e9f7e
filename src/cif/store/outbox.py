"""Webhooks and their delivery outbox, in SQLite or PostgreSQL, beside the main schema.

The outbox keeps every delivery a webhook owes until it is done or dead, so a crash
or restart loses nothing: the bus handler inserts deliveries (many rows per statement)
before any POST is tried, and delivery workers in any number of processes *claim* due
rows under a lease. A claimed row whose worker died becomes claimable again when its
lease runs out. SQLite claims under ``BEGIN IMMEDIATE`` (one writer at a time, across
processes); PostgreSQL with ``SELECT ... FOR UPDATE SKIP LOCKED``.

These tables live in their own small schema (``cif_outbox_version``) and are created
with ``CREATE TABLE IF NOT EXISTS`` on open, so they never touch the indicator schema.
Each backend opens its own connections (one per thread) from the store URL.

Times are integer microseconds since the epoch (UTC) in both backends.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

VERSION = 1
STATES = ("pending", "delivering", "done", "dead")
BUSY_TIMEOUT_S = 60.0
STYLES = ("json", "slack")


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(slots=True)
class WebhookRecord:
    """A webhook as stored. ``secret`` is kept in clear: the worker needs it to sign."""

    url: str
    secret: str
    name: str = ""
    itypes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    confidence: float = 0.0
    providers: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=lambda: ["everyone"])
    style: str = "json"
    enabled: bool = True
    id: int | None = None
    created_at: int = 0
    updated_at: int = 0


@dataclass(slots=True)
class Delivery:
    """One POST a webhook owes: up to N indicators, a stable id, its retry bookkeeping."""

    id: str
    webhook_id: int
    state: str
    attempts: int
    next_at: int
    created_at: int
    updated_at: int
    count: int
    lease_until: int = 0
    last_status: int | None = None
    last_error: str | None = None
    payload: bytes | None = None

    def indicators(self) -> list[dict[str, Any]]:
        return orjson.loads(self.payload) if self.payload else []


_HOOK_COLS = (
    "id, name, url, secret, itypes, tags, confidence, providers, groups, style, enabled,"
    " created_at, updated_at"
)
_DELIV_COLS = (
    "id, webhook_id, state, attempts, next_at, created_at, updated_at, count, lease_until,"
    " last_status, last_error"
)

_SQLITE_DDL = [
    """CREATE TABLE IF NOT EXISTS cif_outbox_version (
        component TEXT PRIMARY KEY, version INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS cif_webhooks (
        id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL DEFAULT '', url TEXT NOT NULL,
        secret TEXT NOT NULL, itypes TEXT NOT NULL, tags TEXT NOT NULL,
        confidence REAL NOT NULL DEFAULT 0, providers TEXT NOT NULL, groups TEXT NOT NULL,
        style TEXT NOT NULL, enabled INTEGER NOT NULL, created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS cif_webhook_deliveries (
        id TEXT PRIMARY KEY, webhook_id INTEGER NOT NULL, state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, count INTEGER NOT NULL,
        lease_until INTEGER NOT NULL DEFAULT 0, last_status INTEGER, last_error TEXT,
        payload BLOB)""",
    """CREATE INDEX IF NOT EXISTS cif_webhook_deliveries_due
        ON cif_webhook_deliveries (state, next_at)""",
    """CREATE INDEX IF NOT EXISTS cif_webhook_deliveries_hook
        ON cif_webhook_deliveries (webhook_id, state, created_at)""",
]

_PG_DDL = [
    """CREATE TABLE IF NOT EXISTS cif_outbox_version (
        component TEXT PRIMARY KEY, version INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS cif_webhooks (
        id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL DEFAULT '', url TEXT NOT NULL,
        secret TEXT NOT NULL, itypes TEXT NOT NULL, tags TEXT NOT NULL,
        confidence DOUBLE PRECISION NOT NULL DEFAULT 0, providers TEXT NOT NULL,
        groups TEXT NOT NULL, style TEXT NOT NULL, enabled INTEGER NOT NULL,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS cif_webhook_deliveries (
        id TEXT PRIMARY KEY, webhook_id BIGINT NOT NULL, state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, count INTEGER NOT NULL,
        lease_until BIGINT NOT NULL DEFAULT 0, last_status INTEGER, last_error TEXT,
        payload BYTEA)""",
    """CREATE INDEX IF NOT EXISTS cif_webhook_deliveries_due
        ON cif_webhook_deliveries (state, next_at)""",
    """CREATE INDEX IF NOT EXISTS cif_webhook_deliveries_hook
        ON cif_webhook_deliveries (webhook_id, state, created_at)""",
]

_UPDATABLE = (
    "name",
    "url",
    "secret",
    "itypes",
    "tags",
    "confidence",
    "providers",
    "groups",
    "style",
    "enabled",
)
_LISTS = ("itypes", "tags", "providers", "groups")


def _hook_row(r: WebhookRecord) -> tuple[Any, ...]:
    return (
        r.name,
        r.url,
        r.secret,
        orjson.dumps(r.itypes).decode(),
        orjson.dumps(r.tags).decode(),
        float(r.confidence),
        orjson.dumps(r.providers).decode(),
        orjson.dumps(r.groups).decode(),
        r.style,
        int(r.enabled),
        r.created_at,
        r.updated_at,
    )


def _hook(row: Sequence[Any]) -> WebhookRecord:
    return WebhookRecord(
        id=int(row[0]),
        name=row[1],
        url=row[2],
        secret=row[3],
        itypes=orjson.loads(row[4]),
        tags=orjson.loads(row[5]),
        confidence=float(row[6]),
        providers=orjson.loads(row[7]),
        groups=orjson.loads(row[8]),
        style=row[9],
        enabled=bool(row[10]),
        created_at=int(row[11]),
        updated_at=int(row[12]),
    )


def _delivery(row: Sequence[Any], payload: bool) -> Delivery:
    return Delivery(
        id=row[0],
        webhook_id=int(row[1]),
        state=row[2],
        attempts=int(row[3]),
        next_at=int(row[4]),
        created_at=int(row[5]),
        updated_at=int(row[6]),
        count=int(row[7]),
        lease_until=int(row[8]),
        last_status=row[9],
        last_error=row[10],
        payload=bytes(row[11]) if payload and row[11] is not None else None,
    )


class _Outbox:
    """SQL shared by both backends; subclasses supply connections, placeholders, claiming."""

    ph = "?"

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[Any] = []
        self._closed = False

    # -- plumbing ------------------------------------------------------------------------

    def _connect(self) -> Any:
        raise NotImplementedError

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise RuntimeError("this outbox is closed")
        conn = self._connect()
        self._local.conn = conn
        with self._lock:
            self._conns.append(conn)
        return conn

    def _sql(self, sql: str) -> str:
        return sql if self.ph == "?" else sql.replace("?", self.ph)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        raise NotImplementedError
        yield

    def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._tx() as cur:
            cur.execute(self._sql(sql), args)
            return list(cur.fetchall())

    def close(self) -> None:
        self._closed = True
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.close()
            except Exception:  # noqa: BLE001, S110  closing is best effort
                pass

    # -- webhooks ------------------------------------------------------------------------

    def webhook_add(self, r: WebhookRecord) -> WebhookRecord:
        r.created_at = r.updated_at = now_us()
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO cif_webhooks (name, url, secret, itypes, tags, confidence,"
                    " providers, groups, style, enabled, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id"
                ),
                _hook_row(r),
            )
            r.id = int(cur.fetchone()[0])
        return r

    def webhook_get(self, webhook_id: int) -> WebhookRecord | None:
        rows = self._fetch(f"SELECT {_HOOK_COLS} FROM cif_webhooks WHERE id = ?", (webhook_id,))
        return _hook(rows[0]) if rows else None

    def webhook_list(self, *, enabled_only: bool = False) -> list[WebhookRecord]:
        where = " WHERE enabled = 1" if enabled_only else ""
        rows = self._fetch(f"SELECT {_HOOK_COLS} FROM cif_webhooks{where} ORDER BY id")
        return [_hook(r) for r in rows]

    def webhook_update(self, webhook_id: int, **changes: Any) -> WebhookRecord | None:
        bad = set(changes) - set(_UPDATABLE)
        if bad:
            raise ValueError(f"cannot change {sorted(bad)[0]!r} of a webhook")
        sets, args = ["updated_at = ?"], [now_us()]
        for k, v in changes.items():
            sets.append(f"{k} = ?")
            if k in _LISTS:
                v = orjson.dumps(list(v)).decode()
            elif k == "enabled":
                v = int(bool(v))
            args.append(v)
        with self._tx() as cur:
            cur.execute(
                self._sql(f"UPDATE cif_webhooks SET {', '.join(sets)} WHERE id = ?"),
                (*args, webhook_id),
            )
        return self.webhook_get(webhook_id)

    def webhook_delete(self, webhook_id: int) -> bool:
        """Remove the webhook and every delivery it still owed."""
        with self._tx() as cur:
            cur.execute(self._sql("DELETE FROM cif_webhooks WHERE id = ?"), (webhook_id,))
            gone = cur.rowcount > 0
            cur.execute(
                self._sql("DELETE FROM cif_webhook_deliveries WHERE webhook_id = ?"), (webhook_id,)
            )
        return gone

    # -- deliveries ----------------------------------------------------------------------

    def enqueue(self, items: Sequence[tuple[str, int, int, bytes]]) -> int:
        """Insert deliveries ``(id, webhook_id, count, payload)`` due now, in one transaction."""
        if not items:
            return 0
        t = now_us()
        rows = [(i, w, "pending", 0, t, t, t, n, p) for i, w, n, p in items]
        with self._tx() as cur:
            cur.executemany(
                self._sql(
                    "INSERT INTO cif_webhook_deliveries (id, webhook_id, state, attempts, next_at,"
                    " created_at, updated_at, count, payload) VALUES (?,?,?,?,?,?,?,?,?)"
                ),
                rows,
            )
        return len(rows)

    def claim(self, limit: int, lease_s: float) -> list[Delivery]:
        """Take up to ``limit`` due deliveries of enabled webhooks for ``lease_s`` seconds.

        A row is due when it is pending and its ``next_at`` has come, or when it was
        claimed and its lease ran out (its worker died or was stopped mid-POST). The
        attempt is counted here, so a delivery that kills its worker still ends up dead.
        """
        raise NotImplementedError

    def _claim_select(self) -> str:
        return (
            "SELECT d.id FROM cif_webhook_deliveries d JOIN cif_webhooks w ON w.id = d.webhook_id"
            " WHERE w.enabled = 1 AND ((d.state = 'pending' AND d.next_at <= ?)"
            " OR (d.state = 'delivering' AND d.lease_until <= ?))"
            " ORDER BY d.next_at LIMIT ?"
        )

    def succeed(self, delivery_id: str, status: int) -> None:
        t = now_us()
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "UPDATE cif_webhook_deliveries SET state = 'done', last_status = ?,"
                    " last_error = NULL, updated_at = ?, lease_until = 0"
                    " WHERE id = ? AND state = 'delivering'"
                ),
                (status, t, delivery_id),
            )

    def fail(
        self, delivery_id: str, *, status: int | None, error: str, next_at: int | None
    ) -> None:
        """Record a failed try: due again at ``next_at``, or ``dead`` when it is None."""
        t = now_us()
        state = "dead" if next_at is None else "pending"
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "UPDATE cif_webhook_deliveries SET state = ?, last_status = ?, last_error = ?,"
                    " next_at = ?, updated_at = ?, lease_until = 0"
                    " WHERE id = ? AND state = 'delivering'"
                ),
                (state, status, error[:1000], t if next_at is None else next_at, t, delivery_id),
            )

    def release(self, delivery_ids: Sequence[str]) -> None:
        """Give claimed deliveries back untried (a stopping worker): due now, attempt uncounted."""
        if not delivery_ids:
            return
        t = now_us()
        with self._tx() as cur:
            cur.executemany(
                self._sql(
                    "UPDATE cif_webhook_deliveries SET state = 'pending', next_at = ?,"
                    " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,"
                    " lease_until = 0, updated_at = ? WHERE id = ? AND state = 'delivering'"
                ),
                [(t, t, i) for i in delivery_ids],
            )

    def redeliver(self, webhook_id: int, delivery_id: str) -> bool:
        """Put a dead (or done) delivery back in line with a fresh count of tries."""
        t = now_us()
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "UPDATE cif_webhook_deliveries SET state = 'pending', attempts = 0,"
                    " next_at = ?, updated_at = ?, lease_until = 0"
                    " WHERE id = ? AND webhook_id = ? AND state IN ('dead', 'done')"
                ),
                (t, t, delivery_id, webhook_id),
            )
            return cur.rowcount > 0

    def deliveries(
        self,
        webhook_id: int | None = None,
        *,
        state: str | None = None,
        limit: int = 100,
        payload: bool = False,
    ) -> list[Delivery]:
        """Newest first."""
        where: list[str] = []
        args: list[Any] = []
        if webhook_id is not None:
            where.append("webhook_id = ?")
            args.append(webhook_id)
        if state is not None:
            if state not in STATES:
                raise ValueError(f"state {state!r}: not one of {', '.join(STATES)}")
            where.append("state = ?")
            args.append(state)
        w = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._fetch(
            f"SELECT {_DELIV_COLS}, {'payload' if payload else 'NULL'}"
            f" FROM cif_webhook_deliveries{w} ORDER BY created_at DESC, id LIMIT ?",
            (*args, limit),
        )
        return [_delivery(r, payload) for r in rows]

    def delivery(self, delivery_id: str) -> Delivery | None:
        rows = self._fetch(
            f"SELECT {_DELIV_COLS}, payload FROM cif_webhook_deliveries WHERE id = ?",
            (delivery_id,),
        )
        return _delivery(rows[0], True) if rows else None

    def counts(self, webhook_id: int | None = None) -> dict[str, int]:
        """Deliveries per state (all webhooks when ``webhook_id`` is None)."""
        w, args = ("WHERE webhook_id = ?", (webhook_id,)) if webhook_id is not None else ("", ())
        rows = self._fetch(
            f"SELECT state, COUNT(*) FROM cif_webhook_deliveries {w} GROUP BY state", args
        )
        out = dict.fromkeys(STATES, 0)
        out.update({s: int(n) for s, n in rows})
        return out

    def purge_done(self, older_than_s: float) -> int:
        """Forget delivered rows older than ``older_than_s``; dead ones stay until redelivered."""
        cutoff = now_us() - int(older_than_s * 1e6)
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "DELETE FROM cif_webhook_deliveries WHERE state = 'done' AND updated_at < ?"
                ),
                (cutoff,),
            )
            return int(cur.rowcount)


class SQLiteOutbox(_Outbox):
    """The outbox in the store's SQLite file (WAL), on connections of its own."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        with self._tx() as cur:
            for ddl in _SQLITE_DDL:
                cur.execute(ddl)
            cur.execute(
                "INSERT OR IGNORE INTO cif_outbox_version (component, version) VALUES (?, ?)",
                ("webhooks", VERSION),
            )

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        conn = self._conn()
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def claim(self, limit: int, lease_s: float) -> list[Delivery]:
        t = now_us()
        lease = t + int(lease_s * 1e6)
        with self._tx() as cur:
            cur.execute(self._claim_select(), (t, t, limit))
            ids = [r[0] for r in cur.fetchall()]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            cur.execute(
                "UPDATE cif_webhook_deliveries SET state = 'delivering', lease_until = ?,"
                f" attempts = attempts + 1, updated_at = ? WHERE id IN ({marks})",
                (lease, t, *ids),
            )
            cur.execute(
                f"SELECT {_DELIV_COLS}, payload FROM cif_webhook_deliveries"
                f" WHERE id IN ({marks}) ORDER BY next_at",
                ids,
            )
            return [_delivery(r, True) for r in cur.fetchall()]


class PostgresOutbox(_Outbox):
    """The outbox in the store's PostgreSQL database, on connections of its own."""

    ph = "%s"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        with self._tx() as cur:
            # Two processes creating the tables at once would collide on the catalog.
            cur.execute("SELECT pg_advisory_xact_lock(4242001)")
            for ddl in _PG_DDL:
                cur.execute(ddl)
            cur.execute(
                "INSERT INTO cif_outbox_version (component, version) VALUES (%s, %s)"
                " ON CONFLICT (component) DO NOTHING",
                ("webhooks", VERSION),
            )

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        conn = self._conn()
        if conn.closed or conn.broken:
            self._local.conn = None
            conn = self._conn()
        with conn.transaction(), conn.cursor() as cur:
            yield cur

    def claim(self, limit: int, lease_s: float) -> list[Delivery]:
        t = now_us()
        lease = t + int(lease_s * 1e6)
        sql = (
            "UPDATE cif_webhook_deliveries SET state = 'delivering', lease_until = %s,"
            " attempts = attempts + 1, updated_at = %s WHERE id IN ("
            + self._sql(self._claim_select())
            + " FOR UPDATE OF d SKIP LOCKED)"
            f" RETURNING {_DELIV_COLS}, payload"
        )
        with self._tx() as cur:
            cur.execute(sql, (lease, t, t, t, limit))
            rows = [_delivery(r, True) for r in cur.fetchall()]
        rows.sort(key=lambda d: d.next_at)
        return rows


Outbox = _Outbox


def open_outbox(store_url: str) -> _Outbox:
    """The outbox beside a store: ``postgresql://...``, ``sqlite://PATH`` or a plain path."""
    if store_url.startswith(("postgresql://", "postgres://")):
        return PostgresOutbox(store_url)
    path = store_url.removeprefix("sqlite://") if store_url.startswith("sqlite://") else store_url
    if path == ":memory:":
        raise ValueError("the webhook outbox needs a file or PostgreSQL store, not :memory:")
    return SQLiteOutbox(path)
