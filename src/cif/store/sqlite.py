"""The embedded store: one SQLite file in WAL mode.

Threads: each thread gets its own connection (SQLite connections must not be
shared across threads); WAL lets readers run while one writer writes. Writers
take ``BEGIN IMMEDIATE`` with a long busy timeout, so concurrent threads and
processes queue for the write lock instead of failing, and the read-merge-write
of an upsert happens under that lock (no lost updates).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import compress
from operator import is_not
from pathlib import Path
from typing import Any

import orjson

from cif.indicator import Indicator

from . import sqlite_schema
from .base import Page, UpsertResult, upsert_in_batches
from .codec import (
    MIN_TIME,
    NO_PROBABILITY,
    derived_keys,
    dump_json,
    dump_set,
    fold_batch,
    from_micros,
    indicator_hash,
    load_set,
    merge,
    micros,
    row_decoder,
)
from .query import Query
from .sqlbuild import build, page_of
from .tokens import TokenRecord, token_changes

BATCH = 5000
BUSY_TIMEOUT_S = 120.0
TOUCH_EVERY_S = 60.0
PAGE_SIZE = 16384
WAL_CHECKPOINT_BYTES = 256 << 20

COLUMNS = (
    "id, indicator, itype, provider, grp, tlp, confidence, probability, first_at, last_at,"
    " reported_at, count, description, reference, asn, asn_desc, cc, rdata, portlist, protocol,"
    " parent, extra, flags, tags, ip_start, ip_end, plen, rdomain"
)
# Written on insert: columns every record has, then columns often NULL, which an
# INSERT leaves out when they are (binding None costs an adapter lookup per parameter
# in the sqlite3 module; an omitted column is NULL for free).
_FIXED_COLS = (
    "id",
    "indicator",
    "itype",
    "provider",
    "grp",
    "tlp",
    "confidence",
    "probability",
    "first_at",
    "last_at",
    "reported_at",
    "count",
    "ihash",
    "changed",
)
_OPT_COLS = (
    "description",
    "reference",
    "asn",
    "asn_desc",
    "cc",
    "rdata",
    "portlist",
    "protocol",
    "parent",
    "extra",
    "flags",
    "tags",
    "ip_start",
    "ip_end",
    "plen",
    "rdomain",
)
_OPT_NONES = (None,) * len(_OPT_COLS)
_INSERTS: dict[tuple[bool, ...], str] = {}
_UPDATE = (
    "UPDATE indicators SET itype=?, tlp=?, confidence=?, probability=?, first_at=?, last_at=?,"
    " reported_at=?, count=?, description=?, reference=?, asn=?, asn_desc=?, cc=?, rdata=?,"
    " portlist=?, protocol=?, parent=?, extra=?, flags=?, tags=?, changed=? WHERE id=?"
)
# Column names, not a password:
_TOKEN_COLS = (
    "id, username, token_hash, can_read, can_write, is_admin, groups, itypes,"  # noqa: S105
    " expires_at, revoked, created_at, last_used_at"
)


def _insert_row(
    ind: Indicator, id_: int, ihash: int, changed: int = 0
) -> tuple[tuple[bool, ...], tuple[Any, ...]]:
    """(which optional columns are set, the values of :func:`_insert_cols`) for a new record."""
    s, e, p, rd = derived_keys(ind)
    prob = ind.probability
    last = micros(ind.last_at)
    reported = last if ind.reported_at is ind.last_at else micros(ind.reported_at)
    opt = (
        ind.description,
        ind.reference,
        ind.asn,
        ind.asn_desc,
        ind.cc,
        ind.rdata,
        ind.portlist,
        ind.protocol,
        ind.parent,
        dump_json(ind.extra) if ind.extra else None,
        dump_set(ind.flags),
        dump_set(ind.tags),
        # bytearray, not bytes: bound directly, without an adapter lookup.
        None if s is None else bytearray(s),
        None if e is None else bytearray(e),
        p,
        rd,
    )
    mask = tuple(map(is_not, opt, _OPT_NONES))
    return mask, (
        id_,
        ind.indicator,
        ind.itype,
        ind.provider,
        ind.group,
        ind.tlp,
        float(ind.confidence),
        NO_PROBABILITY if prob is None else float(prob),
        micros(ind.first_at),
        last,
        reported,
        ind.count,
        ihash,
        changed,
        *compress(opt, mask),
    )


def _insert_cols(mask: tuple[bool, ...]) -> list[str]:
    return [*_FIXED_COLS, *compress(_OPT_COLS, mask)]


def _insert_sql(mask: tuple[bool, ...]) -> str:
    """INSERT naming only the columns ``mask`` marks as set (the others stay NULL)."""
    sql = _INSERTS.get(mask)
    if sql is None:
        cols = _insert_cols(mask)
        sql = f"INSERT INTO indicators ({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})"
        _INSERTS[mask] = sql
    return sql


def _update_row(ind: Indicator, changed: int = 0) -> tuple[Any, ...]:
    prob = ind.probability
    return (
        ind.itype,
        ind.tlp,
        float(ind.confidence),
        NO_PROBABILITY if prob is None else float(prob),
        micros(ind.first_at),
        micros(ind.last_at),
        micros(ind.reported_at),
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
        dump_json(ind.extra) if ind.extra else None,
        dump_set(ind.flags),
        dump_set(ind.tags),
        changed,
        ind.id,
    )


def _load_extra(v: Any) -> dict[str, Any]:
    return orjson.loads(v) if v else {}


_indicator = row_decoder(from_micros, _load_extra, load_set)


class _Dialect:
    ph = "?"
    plain_order_for_q = True
    materialize_q = False
    ip_union = True

    def time(self, t: datetime) -> int:
        return micros(t)

    def cursor_value(self, sort: str, v: int | float) -> int | float:
        return v

    def tags_any(self, tags: list[str]) -> tuple[str, list[Any]]:
        marks = ",".join("?" * len(tags))
        return f"id IN (SELECT indicator_id FROM indicator_tags WHERE tag IN ({marks}))", list(tags)

    def tags_none(self, tags: list[str]) -> tuple[str, list[Any]]:
        marks = ",".join("?" * len(tags))
        return (
            f"NOT EXISTS (SELECT 1 FROM indicator_tags WHERE tag IN ({marks})"
            " AND indicator_id = indicators.id)",
            list(tags),
        )

    def exact(self, value: str) -> tuple[str, list[Any]]:
        return "ihash = ? AND indicator = ?", [indicator_hash(value), value]


_DIALECT = _Dialect()


class SQLiteStore:
    """Indicators and tokens in one SQLite file (created and migrated on open)."""

    def __init__(self, path: str | Path, *, migrate_to: int | None = None) -> None:
        self.path = str(path)
        self.url = f"sqlite://{self.path}"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []
        self._touched: dict[str, float] = {}
        self._closed = False
        sqlite_schema.migrate(self._conn(), migrate_to or sqlite_schema.CURRENT)

    # -- connections ----------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise RuntimeError(f"store {self.url} is closed")
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        # Takes effect only while the file is still empty (a new store), so it comes
        # first. Every commit rewrites each page it touched, and a bulk upsert touches
        # pages all over the key, IP, domain and time indexes: 16 KiB pages mean
        # fewer, larger WAL writes than the 4 KiB default (see docs/store.md).
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        # Checkpoint every 256 MiB of WAL rather than every 1,000 pages: a page that
        # several batches change is copied into the database once, not once a batch
        # (at a million records one batch alone writes tens of MiB of index pages).
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_BYTES // PAGE_SIZE}")
        conn.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_BYTES}")
        conn.execute("PRAGMA cache_size=-131072")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA foreign_keys=OFF")
        self._local.conn = conn
        with self._lock:
            self._conns.append(conn)
        return conn

    def _write(self) -> _WriteTxn:
        return _WriteTxn(self._conn())

    # -- indicators -----------------------------------------------------------------

    def upsert(self, indicators: Sequence[Indicator]) -> UpsertResult:
        return upsert_in_batches(indicators, BATCH, self._upsert_batch)

    def _upsert_batch(self, batch: list[Indicator]) -> UpsertResult:
        merged, owners = fold_batch(batch)
        if not merged:
            return UpsertResult()
        hashes: dict[str, int] = {}
        for k in merged:
            if k[0] not in hashes:
                hashes[k[0]] = indicator_hash(k[0])
        wanted = list(set(hashes.values()))
        # Hash order: the new entries of the key index go in in index order.
        keys = sorted(merged, key=lambda k: hashes[k[0]])
        with self._write() as conn:
            # The change counter is bumped first, in the same transaction, and its new
            # value stamps every row written: a reader that sees the counter at N can
            # read every row stamped N or below (both commit at once).
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'changes'")
            stamp = int(conn.execute("SELECT value FROM meta WHERE key = 'changes'").fetchone()[0])
            existing: dict[tuple[str, str, str], tuple[Any, ...]] = {}
            marks = ",".join("?" * len(wanted))
            for r in conn.execute(
                f"SELECT {COLUMNS} FROM indicators WHERE ihash IN ({marks})", wanted
            ):
                k = (r[1], r[3], r[4])
                if k in merged:  # the same hash, but is it the same key?
                    existing[k] = r
            next_id = (conn.execute("SELECT max(id) FROM indicators").fetchone()[0] or 0) + 1
            # New rows grouped by which columns they set: NULLs are left out of the
            # INSERT rather than bound one by one (binding None is slow in sqlite3).
            inserts: dict[tuple[bool, ...], list[tuple[Any, ...]]] = {}
            n_new = 0
            updates: list[tuple[Any, ...]] = []
            tag_rows: list[tuple[str, int]] = []
            ids: dict[tuple[str, str, str], int] = {}
            for k in keys:
                ind = merged[k]
                row = existing.get(k)
                if row is None:
                    rid = next_id
                    next_id += 1
                    mask, new = _insert_row(ind, rid, hashes[k[0]], stamp)
                    group = inserts.get(mask)
                    if group is None:
                        inserts[mask] = group = []
                    group.append(new)
                    n_new += 1
                    for t in ind.tags:
                        tag_rows.append((t, rid))
                else:
                    stored = _indicator(row)
                    rid = row[0]
                    new_tags = ind.tags - stored.tags
                    updates.append(_update_row(merge(stored, ind), stamp))
                    tag_rows.extend((t, rid) for t in new_tags)
                ids[k] = rid
            for mask, rows in inserts.items():
                conn.executemany(_insert_sql(mask), rows)
            if updates:
                conn.executemany(_UPDATE, updates)
            if tag_rows:
                conn.executemany(
                    "INSERT OR IGNORE INTO indicator_tags (tag, indicator_id) VALUES (?, ?)",
                    tag_rows,
                )
        for k, objs in owners.items():
            for o in objs:
                o.id = ids[k]
        return UpsertResult(inserted=n_new, updated=len(updates))

    def search(self, query: Query) -> Page:
        sel = build(query, _DIALECT, COLUMNS)
        rows = self._conn().execute(sel.sql, sel.params).fetchall()
        return page_of(rows, query, _indicator)

    def explain(self, query: Query) -> list[str]:
        """The plan SQLite chooses for ``query`` (one line per step), to check index use."""
        sel = build(query, _DIALECT, COLUMNS)
        return [r[3] for r in self._conn().execute("EXPLAIN QUERY PLAN " + sel.sql, sel.params)]

    def get(self, ids: Sequence[int]) -> list[Indicator]:
        wanted = [int(i) for i in ids]
        found: dict[int, Indicator] = {}
        conn = self._conn()
        for i in range(0, len(wanted), BATCH):
            chunk = wanted[i : i + BATCH]
            marks = ",".join("?" * len(chunk))
            for r in conn.execute(f"SELECT {COLUMNS} FROM indicators WHERE id IN ({marks})", chunk):
                found[r[0]] = _indicator(r)
        return [found[i] for i in wanted if i in found]

    def count(self) -> int:
        """How many indicator records are kept."""
        return int(self._conn().execute("SELECT count(*) FROM indicators").fetchone()[0])

    def ping(self) -> None:
        self._conn().execute("SELECT 1").fetchone()

    def changes(self) -> int:
        """A number that grows with every committed upsert (any process): cache validators."""
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'changes'").fetchone()
        return int(row[0])

    def changed_marker(self) -> int:
        """The highest row stamp such that every row stamped at or below it is committed:
        the counter itself (bumped in the transaction that writes the stamps)."""
        return self.changes()

    def stats(self, groups: list[str] | None = None, *, days: int = 30) -> dict[str, Any]:
        """Counts by itype, tag, provider and reported day (the last ``days``)."""
        conn = self._conn()
        cond, params = "", []
        if groups is not None:
            cond = f" WHERE grp IN ({','.join('?' * len(groups))})" if groups else " WHERE 1 = 0"
            params = list(groups)
        since = micros(datetime.now(UTC)) - days * 86_400_000_000
        tag_cond = " JOIN indicators i ON i.id = t.indicator_id" + cond.replace("grp", "i.grp")
        day_cond = (cond + " AND" if cond else " WHERE") + " reported_at >= ?"

        def counts(sql: str, args: list[Any]) -> dict[Any, int]:
            return dict(conn.execute(sql, args).fetchall())

        return {
            "total": conn.execute(f"SELECT count(*) FROM indicators{cond}", params).fetchone()[0],
            "itype": counts(f"SELECT itype, count(*) FROM indicators{cond} GROUP BY itype", params),
            "provider": counts(
                f"SELECT provider, count(*) FROM indicators{cond} GROUP BY provider", params
            ),
            "tag": counts(
                f"SELECT t.tag, count(*) FROM indicator_tags t{tag_cond} GROUP BY t.tag", params
            ),
            "day": dict(
                conn.execute(
                    "SELECT strftime('%Y-%m-%d', reported_at / 1000000, 'unixepoch') AS d, count(*)"
                    f" FROM indicators{day_cond} GROUP BY d ORDER BY d",
                    [*params, since],
                ).fetchall()
            ),
        }

    def log_searches(self, rows: Sequence[tuple[str, str, int, datetime]]) -> None:
        """Append (username, query, results, at) rows to the search log in one transaction."""
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO search_log (username, query, results, at) VALUES (?, ?, ?, ?)",
                [(u, q, int(n), micros(at)) for u, q, n, at in rows],
            )

    def search_log(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = (
            self._conn()
            .execute(
                "SELECT username, query, results, at FROM search_log"
                " ORDER BY at DESC, id DESC LIMIT ?",
                (int(limit),),
            )
            .fetchall()
        )
        return [
            {"username": u, "query": q, "results": n, "at": from_micros(a)} for u, q, n, a in rows
        ]

    def schema_version(self) -> int:
        return sqlite_schema.version(self._conn())

    # -- tokens ---------------------------------------------------------------------

    def token_add(self, record: TokenRecord) -> TokenRecord:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO tokens (username, token_hash, can_read, can_write, is_admin, groups,"
                " itypes, expires_at, revoked, created_at, last_used_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.username,
                    record.token_hash,
                    int(record.read),
                    int(record.write),
                    int(record.admin),
                    dump_json(list(record.groups)),
                    dump_json(list(record.itypes)),
                    _opt_micros(record.expires_at),
                    int(record.revoked),
                    micros(record.created_at),
                    _opt_micros(record.last_used_at),
                ),
            )
            record.id = cur.lastrowid
        return record

    def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        r = (
            self._conn()
            .execute(f"SELECT {_TOKEN_COLS} FROM tokens WHERE token_hash = ?", (token_hash,))
            .fetchone()
        )
        return _token(r) if r else None

    def token_list(self) -> list[TokenRecord]:
        rows = self._conn().execute(f"SELECT {_TOKEN_COLS} FROM tokens ORDER BY id")
        return [_token(r) for r in rows]

    def token_revoke(self, *, id: int | None = None, username: str | None = None) -> int:
        if id is None and username is None:
            raise ValueError("token_revoke needs an id or a username")
        cond, params = _token_match(id, username)
        with self._write() as conn:
            return conn.execute(
                f"UPDATE tokens SET revoked = 1 WHERE revoked = 0 AND {cond}", params
            ).rowcount

    def token_update(self, id: int, **changes: Any) -> TokenRecord | None:
        """Change rights, groups, itypes or expiry of one token; None if there is no such token."""
        sets: list[str] = []
        params: list[Any] = []
        for k, col, v in token_changes(changes):
            sets.append(f"{col} = ?")
            if k in ("groups", "itypes"):
                params.append(orjson.dumps(list(v)).decode())
            elif k == "expires_at":
                params.append(micros(v) if v is not None else None)
            else:
                params.append(int(bool(v)))
        with self._write() as conn:
            if sets:
                conn.execute(
                    f"UPDATE tokens SET {', '.join(sets)} WHERE id = ?", [*params, int(id)]
                )
            r = conn.execute(
                f"SELECT {_TOKEN_COLS} FROM tokens WHERE id = ?", (int(id),)
            ).fetchone()
        return _token(r) if r else None

    def token_touch(self, token_hash: str, at: datetime | None = None) -> bool:
        """Record a token's use; writes at most once a minute per token (cheap on every call)."""
        now = time.monotonic()
        with self._lock:
            last = self._touched.get(token_hash)
            if last is not None and now - last < TOUCH_EVERY_S:
                return False
            self._touched[token_hash] = now
        with self._write() as conn:
            conn.execute(
                "UPDATE tokens SET last_used_at = ? WHERE token_hash = ?",
                (micros(at or datetime.now(UTC)), token_hash),
            )
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.close()
            except sqlite3.ProgrammingError:
                pass  # made in a thread that has finished; nothing left to release
        self._local = threading.local()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _WriteTxn:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _opt_micros(t: datetime | None) -> int | None:
    return None if t is None else micros(t)


def _opt_time(v: int | None) -> datetime | None:
    return None if v is None else from_micros(v) or MIN_TIME


def _token(r: Sequence[Any]) -> TokenRecord:
    created = from_micros(r[10]) or MIN_TIME
    return TokenRecord(
        id=r[0],
        username=r[1],
        token_hash=r[2],
        read=bool(r[3]),
        write=bool(r[4]),
        admin=bool(r[5]),
        groups=list(orjson.loads(r[6])),
        itypes=list(orjson.loads(r[7])),
        expires_at=_opt_time(r[8]),
        revoked=bool(r[9]),
        created_at=created,
        last_used_at=_opt_time(r[11]),
    )


def _token_match(id: int | None, username: str | None) -> tuple[str, list[Any]]:
    conds: list[str] = []
    params: list[Any] = []
    if id is not None:
        conds.append("id = ?")
        params.append(int(id))
    if username is not None:
        conds.append("username = ?")
        params.append(username)
    return " AND ".join(conds), params
