"""The shared store: PostgreSQL through psycopg 3.

Threads: each thread gets its own connection (autocommit for reads, an explicit
transaction for writes). Upserts COPY a batch into a temporary table and merge it
with one ``INSERT ... ON CONFLICT DO UPDATE``, so the merge happens row by row
under PostgreSQL's own locks and concurrent writers on any host lose nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import errors
from psycopg.types.json import Jsonb

from cif.indicator import Indicator

from . import postgres_schema
from .base import Page, UpsertResult, upsert_in_batches
from .codec import (
    MIN_TIME,
    NO_PROBABILITY,
    derived_keys,
    fold_batch,
    from_micros,
    loaded_time,
    row_decoder,
    stored_time,
)
from .query import Query
from .sqlbuild import build, page_of
from .tokens import TokenRecord, token_changes

BATCH = 10_000
CHANGES_LOCK = 0x63696663  # advisory lock: writers hold it shared while their stamp is open
DEADLOCK_RETRIES = 5
TOUCH_EVERY_S = 60.0

COLUMNS = (
    "id, indicator, itype, provider, grp, tlp, confidence, probability, first_at, last_at,"
    " reported_at, count, description, reference, asn, asn_desc, cc, rdata, portlist, protocol,"
    " parent, extra, flags, tags, ip_start, ip_end, plen, rdomain"
)
_DATA_COLS = COLUMNS.removeprefix("id, ")
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS cif_stage (
    indicator text, itype text, provider text, grp text, tlp text, confidence float8,
    probability float8, first_at timestamptz, last_at timestamptz, reported_at timestamptz,
    count bigint, description text, reference text, asn bigint, asn_desc text, cc text,
    rdata text, portlist text, protocol text, parent bigint, extra jsonb, flags text[],
    tags text[], ip_start bytea, ip_end bytea, plen smallint, rdomain text
) ON COMMIT DELETE ROWS
"""
_MIN = "'0001-01-01 00:00:00+00'::timestamptz"


def _newer(col: str) -> str:
    return f"CASE WHEN EXCLUDED.last_at >= i.last_at THEN EXCLUDED.{col} ELSE i.{col} END"


def _nonempty(col: str) -> str:
    return f"COALESCE(NULLIF(EXCLUDED.{col}, ''), i.{col})"


_MERGE = f"""
INSERT INTO indicators AS i ({_DATA_COLS}, changed)
SELECT {_DATA_COLS}, %(stamp)s FROM cif_stage ORDER BY indicator, provider, grp
ON CONFLICT (indicator, provider, grp) DO UPDATE SET
    changed = EXCLUDED.changed,
    itype = {_nonempty("itype")},
    tlp = {_nonempty("tlp")},
    confidence = {_newer("confidence")},
    description = {_newer("description")},
    probability = CASE WHEN EXCLUDED.probability <> {NO_PROBABILITY} THEN EXCLUDED.probability
                       ELSE i.probability END,
    first_at = CASE WHEN i.first_at = {_MIN} THEN EXCLUDED.first_at
                    WHEN EXCLUDED.first_at = {_MIN} THEN i.first_at
                    ELSE least(i.first_at, EXCLUDED.first_at) END,
    last_at = greatest(i.last_at, EXCLUDED.last_at),
    reported_at = greatest(i.reported_at, EXCLUDED.reported_at),
    count = i.count + EXCLUDED.count,
    reference = {_nonempty("reference")},
    asn = COALESCE(EXCLUDED.asn, i.asn),
    asn_desc = {_nonempty("asn_desc")},
    cc = {_nonempty("cc")},
    rdata = {_nonempty("rdata")},
    portlist = {_nonempty("portlist")},
    protocol = {_nonempty("protocol")},
    parent = COALESCE(EXCLUDED.parent, i.parent),
    extra = i.extra || EXCLUDED.extra,
    flags = ARRAY(SELECT DISTINCT f FROM unnest(i.flags || EXCLUDED.flags) AS f ORDER BY f),
    tags = ARRAY(SELECT DISTINCT t FROM unnest(i.tags || EXCLUDED.tags) AS t ORDER BY t)
RETURNING id, (xmax = 0) AS inserted, indicator, provider, grp
"""
# Column names, not a password:
_TOKEN_COLS = (
    "id, username, token_hash, can_read, can_write, is_admin, groups, itypes,"  # noqa: S105
    " expires_at, revoked, created_at, last_used_at"
)


def _stage_row(ind: Indicator) -> tuple[Any, ...]:
    s, e, p, rd = derived_keys(ind)
    prob = ind.probability
    return (
        ind.indicator,
        ind.itype,
        ind.provider,
        ind.group,
        ind.tlp,
        float(ind.confidence),
        NO_PROBABILITY if prob is None else float(prob),
        stored_time(ind.first_at),
        stored_time(ind.last_at),
        stored_time(ind.reported_at),
        ind.count,
        ind.description,
        ind.reference,
        ind.asn,
        ind.asn_desc,
        ind.cc,
        ind.rdata,
        ind.portlist,
        ind.protocol,
        ind.parent,
        Jsonb(ind.extra),
        sorted(ind.flags),
        sorted(ind.tags),
        s,
        e,
        p,
        rd,
    )


_indicator = row_decoder(loaded_time, dict, set)


class _Dialect:
    ph = "%s"
    plain_order_for_q = False
    materialize_q = True
    ip_union = False

    def time(self, t: datetime) -> datetime:
        return t

    def cursor_value(self, sort: str, v: int | float) -> Any:
        if sort in ("last_at", "reported_at", "first_at"):
            return from_micros(int(v)) or MIN_TIME
        return v

    def tags_any(self, tags: list[str]) -> tuple[str, list[Any]]:
        return "tags && %s::text[]", [tags]

    def tags_none(self, tags: list[str]) -> tuple[str, list[Any]]:
        return "NOT (tags && %s::text[])", [tags]

    def exact(self, value: str) -> tuple[str, list[Any]]:
        return "indicator = %s", [value]


_DIALECT = _Dialect()


class PostgresStore:
    """Indicators and tokens in PostgreSQL (tables created and migrated on open)."""

    def __init__(self, url: str, *, migrate_to: int | None = None) -> None:
        self.url = url
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[psycopg.Connection] = []
        self._touched: dict[str, float] = {}
        self._closed = False
        postgres_schema.migrate(self._conn(), migrate_to or postgres_schema.CURRENT)

    def _conn(self) -> psycopg.Connection:
        conn: psycopg.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            return conn
        if self._closed:
            raise RuntimeError("this PostgreSQL store is closed")
        conn = psycopg.connect(self.url, autocommit=True)
        conn.execute("SET TIME ZONE 'UTC'")
        self._local.conn = conn
        self._local.staged = False
        with self._lock:
            self._conns.append(conn)
        return conn

    # -- indicators -----------------------------------------------------------------

    def upsert(self, indicators: Sequence[Indicator]) -> UpsertResult:
        return upsert_in_batches(indicators, BATCH, self._upsert_batch)

    def _upsert_batch(self, batch: list[Indicator]) -> UpsertResult:
        merged, owners = fold_batch(batch)
        if not merged:
            return UpsertResult()
        rows = [_stage_row(ind) for ind in merged.values()]
        conn = self._conn()
        if not self._local.staged:
            conn.execute(_STAGE)
            self._local.staged = True
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                with conn.transaction(), conn.cursor() as cur:
                    # The stamp of this upsert, taken under a shared lock that readers
                    # wanting "every row stamped up to N" wait on (see changed_marker).
                    cur.execute("SELECT pg_advisory_xact_lock_shared(%s)", (CHANGES_LOCK,))
                    cur.execute("SELECT nextval('cif_changes')")
                    row = cur.fetchone()
                    stamp = int(row[0]) if row else 0
                    with cur.copy(f"COPY cif_stage ({_DATA_COLS}) FROM STDIN") as cp:
                        for row in rows:
                            cp.write_row(row)
                    cur.execute(_MERGE, {"stamp": stamp})
                    out = cur.fetchall()
                break
            except (errors.DeadlockDetected, errors.SerializationFailure):
                if attempt == DEADLOCK_RETRIES:
                    raise
                time.sleep(0.01 * (attempt + 1))
        # Bumped again after the commit: a reader that sees the new number also sees the
        # data (the number published to caches; the stamp above may be read before commit).
        conn.execute("SELECT nextval('cif_changes')")
        result = UpsertResult()
        for id_, inserted, ind, prov, grp in out:
            if inserted:
                result.inserted += 1
            else:
                result.updated += 1
            for o in owners[(ind, prov, grp)]:
                o.id = id_
        return result

    def search(self, query: Query) -> Page:
        sel = build(query, _DIALECT, COLUMNS)
        rows = self._conn().execute(sel.sql, sel.params).fetchall()
        return page_of(rows, query, _indicator)

    def explain(self, query: Query) -> list[str]:
        """The plan PostgreSQL chooses with sequential scans disabled, to check index use."""
        sel = build(query, _DIALECT, COLUMNS)
        conn = self._conn()
        with conn.transaction():
            conn.execute("SET LOCAL enable_seqscan = off")
            rows = conn.execute("EXPLAIN " + sel.sql, sel.params).fetchall()
        return [r[0] for r in rows]

    def get(self, ids: Sequence[int]) -> list[Indicator]:
        wanted = [int(i) for i in ids]
        rows = (
            self._conn()
            .execute(f"SELECT {COLUMNS} FROM indicators WHERE id = ANY(%s)", (wanted,))
            .fetchall()
        )
        found = {r[0]: _indicator(r) for r in rows}
        return [found[i] for i in wanted if i in found]

    def count(self) -> int:
        """How many indicator records are kept."""
        row = self._conn().execute("SELECT count(*) FROM indicators").fetchone()
        return int(row[0]) if row else 0

    def ping(self) -> None:
        self._conn().execute("SELECT 1").fetchone()

    def schema_version(self) -> int:
        return postgres_schema.version(self._conn())

    def changes(self) -> int:
        """A number that grows with every committed upsert (any process): cache validators."""
        row = (
            self._conn()
            .execute("SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM cif_changes")
            .fetchone()
        )
        return int(row[0]) if row else 0

    def changed_marker(self) -> int:
        """The highest row stamp such that every row stamped at or below it is committed
        (or rolled back): the last stamp handed out, after waiting for the writers that
        hold one to finish. Rows stamped above it may be visible too."""
        conn = self._conn()
        row = conn.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM cif_changes"
        ).fetchone()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHANGES_LOCK,))
        return int(row[0]) if row else 0

    def stats(self, groups: list[str] | None = None, *, days: int = 30) -> dict[str, Any]:
        """Counts by itype, tag, provider and reported day (the last ``days``)."""
        conn = self._conn()
        cond, params = "", []
        if groups is not None:
            cond, params = " WHERE grp = ANY(%s)", [list(groups)]
        day_cond = (
            cond + " AND" if cond else " WHERE"
        ) + " reported_at >= now() - make_interval(days => %s)"
        total = conn.execute(f"SELECT count(*) FROM indicators{cond}", params).fetchone()

        def counts(sql: str, args: list[Any]) -> dict[Any, int]:
            return dict(conn.execute(sql, args).fetchall())

        return {
            "total": total[0] if total else 0,
            "itype": counts(f"SELECT itype, count(*) FROM indicators{cond} GROUP BY itype", params),
            "provider": counts(
                f"SELECT provider, count(*) FROM indicators{cond} GROUP BY provider", params
            ),
            "tag": counts(
                f"SELECT t, count(*) FROM indicators, unnest(tags) AS t{cond} GROUP BY t", params
            ),
            "day": counts(
                "SELECT to_char(reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d, count(*)"
                f" FROM indicators{day_cond} GROUP BY d ORDER BY d",
                [*params, int(days)],
            ),
        }

    def log_searches(self, rows: Sequence[tuple[str, str, int, datetime]]) -> None:
        """Append (username, query, results, at) rows to the search log in one transaction."""
        conn = self._conn()
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO search_log (username, query, results, at) VALUES (%s, %s, %s, %s)",
                [(u, q, int(n), at) for u, q, n, at in rows],
            )

    def search_log(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = (
            self._conn()
            .execute(
                "SELECT username, query, results, at FROM search_log"
                " ORDER BY at DESC, id DESC LIMIT %s",
                (int(limit),),
            )
            .fetchall()
        )
        return [{"username": u, "query": q, "results": n, "at": _utc(a)} for u, q, n, a in rows]

    def token_update(self, id: int, **changes: Any) -> TokenRecord | None:
        """Change rights, groups, itypes or expiry of one token; None if there is no such token."""
        sets: list[str] = []
        params: list[Any] = []
        for k, col, v in token_changes(changes):
            sets.append(f"{col} = %s")
            params.append(list(v) if k in ("groups", "itypes") else v)
        conn = self._conn()
        if sets:
            conn.execute(f"UPDATE tokens SET {', '.join(sets)} WHERE id = %s", [*params, int(id)])
        r = conn.execute(f"SELECT {_TOKEN_COLS} FROM tokens WHERE id = %s", (int(id),)).fetchone()
        return _token(r) if r else None

    # -- tokens ---------------------------------------------------------------------

    def token_add(self, record: TokenRecord) -> TokenRecord:
        row = (
            self._conn()
            .execute(
                "INSERT INTO tokens (username, token_hash, can_read, can_write, is_admin, groups,"
                " itypes, expires_at, revoked, created_at, last_used_at)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
                (
                    record.username,
                    record.token_hash,
                    record.read,
                    record.write,
                    record.admin,
                    list(record.groups),
                    list(record.itypes),
                    record.expires_at,
                    record.revoked,
                    record.created_at,
                    record.last_used_at,
                ),
            )
            .fetchone()
        )
        record.id = row[0] if row else None
        return record

    def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        r = (
            self._conn()
            .execute(f"SELECT {_TOKEN_COLS} FROM tokens WHERE token_hash = %s", (token_hash,))
            .fetchone()
        )
        return _token(r) if r else None

    def token_list(self) -> list[TokenRecord]:
        rows = self._conn().execute(f"SELECT {_TOKEN_COLS} FROM tokens ORDER BY id").fetchall()
        return [_token(r) for r in rows]

    def token_revoke(self, *, id: int | None = None, username: str | None = None) -> int:
        if id is None and username is None:
            raise ValueError("token_revoke needs an id or a username")
        conds: list[str] = []
        params: list[Any] = []
        if id is not None:
            conds.append("id = %s")
            params.append(int(id))
        if username is not None:
            conds.append("username = %s")
            params.append(username)
        cur = self._conn().execute(
            "UPDATE tokens SET revoked = true WHERE NOT revoked AND " + " AND ".join(conds), params
        )
        return cur.rowcount

    def token_touch(self, token_hash: str, at: datetime | None = None) -> bool:
        """Record a token's use; writes at most once a minute per token (cheap on every call)."""
        now = time.monotonic()
        with self._lock:
            last = self._touched.get(token_hash)
            if last is not None and now - last < TOUCH_EVERY_S:
                return False
            self._touched[token_hash] = now
        self._conn().execute(
            "UPDATE tokens SET last_used_at = %s WHERE token_hash = %s",
            (at or datetime.now(UTC), token_hash),
        )
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._conns = self._conns, []
        for c in conns:
            c.close()
        self._local = threading.local()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _token(r: Sequence[Any]) -> TokenRecord:
    return TokenRecord(
        id=r[0],
        username=r[1],
        token_hash=r[2],
        read=r[3],
        write=r[4],
        admin=r[5],
        groups=list(r[6]),
        itypes=list(r[7]),
        expires_at=_utc(r[8]),
        revoked=r[9],
        created_at=_utc(r[10]) or MIN_TIME,
        last_used_at=_utc(r[11]),
    )


def _utc(t: datetime | None) -> datetime | None:
    return None if t is None else t.astimezone(UTC)
