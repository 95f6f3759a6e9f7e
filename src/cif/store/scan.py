"""Lean feed scans: the few columns a feed needs, as plain tuples, in one streaming query.

``Store.search`` turns every row into a full :class:`~cif.indicator.Indicator`
(JSON ``extra``, times, every context column) and pages with keyset cursors; a feed
over a million records needs neither. :func:`scan` reads only

    (id, indicator, itype, confidence, last_at, tags, provider, tlp, grp, flags)

with ``last_at`` as integer microseconds since the epoch (``MIN_MICROS`` when
unknown), ``tags`` and ``flags`` as tuples of strings, and applies the same filters
as a :class:`Query` with the same fields would (itypes, providers, groups, TLPs, the
caller's readable and red groups, confidence, the ``last_at`` window, tags wanted and
tags excluded). The time and equality filters run in SQL; the tag filters run on the
row's own tag list (no join), exactly.

Both backends; the store's own per-thread connection is used when it has one, else a
read connection is opened from ``store.url`` for the calling thread.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

import orjson

from .codec import MIN_MICROS, micros

# Row layout of every scan.
ID, INDICATOR, ITYPE, CONFIDENCE, LAST_AT, TAGS, PROVIDER, TLP, GRP, FLAGS = range(10)
Row = tuple[int, str, str, float, int, tuple[str, ...], str, str, str, tuple[str, ...]]

FETCH = 20_000


@dataclass(frozen=True, slots=True)
class ScanFilter:
    """What a feed reads; empty sequences mean "any", ``None`` groups mean unrestricted."""

    itypes: tuple[str, ...]
    last_since: datetime | None = None
    confidence_min: float | None = None
    providers: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    tlps: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    allowed_groups: tuple[str, ...] | None = None
    red_groups: tuple[str, ...] | None = None
    changed_after: int | None = None  # only rows whose change stamp is above this


def matches(row: Row, f: ScanFilter, since_us: int | None = None) -> bool:
    """Does ``row`` pass ``f`` (the tests :func:`scan` runs in SQL, here in Python; the
    window as ``since_us``, microseconds, instead of ``f.last_since``)."""
    _, _, itype, conf, last_at, tags, provider, tlp, grp, _ = row
    if itype not in f.itypes:
        return False
    if f.providers and provider not in f.providers:
        return False
    if f.groups and grp not in f.groups:
        return False
    if f.tlps and tlp not in f.tlps:
        return False
    if f.allowed_groups is not None and grp not in f.allowed_groups:
        return False
    if f.red_groups is not None and tlp == "red" and grp not in f.red_groups:
        return False
    if f.confidence_min is not None and conf < f.confidence_min:
        return False
    if since_us is not None and last_at < since_us:
        return False
    if f.tags and not set(f.tags).intersection(tags):
        return False
    return not (f.exclude_tags and set(f.exclude_tags).intersection(tags))


def changed_marker(store: Any) -> int | None:
    """The store's change marker for incremental reads (every row stamped at or below
    it is readable), or None when the store keeps no change stamps."""
    fn = getattr(store, "changed_marker", None)
    return int(fn()) if callable(fn) else None


def _is_postgres(store: Any) -> bool:
    return str(getattr(store, "url", "")).startswith(("postgresql://", "postgres://"))


_own = threading.local()
_own_lock = threading.Lock()
_own_conns: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()


def _connection(store: Any) -> Any:
    conn_of = getattr(store, "_conn", None)
    if callable(conn_of):
        return conn_of()
    conns: dict[int, Any] = getattr(_own, "conns", None) or {}
    _own.conns = conns
    conn = conns.get(id(store))
    if conn is not None:
        return conn
    url = str(store.url)
    if _is_postgres(store):
        import psycopg

        conn = psycopg.connect(url, autocommit=True)
        conn.execute("SET TIME ZONE 'UTC'")
    else:
        path = url.removeprefix("sqlite://")
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conns[id(store)] = conn
    with _own_lock:
        _own_conns.setdefault(store, []).append(conn)
    return conn


def _where(f: ScanFilter, ph: str, time: Any) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []

    def any_of(col: str, values: Sequence[Any]) -> None:
        if values:
            where.append(f"{col} IN ({','.join([ph] * len(values))})")
            params.extend(values)

    any_of("itype", f.itypes)
    any_of("provider", f.providers)
    any_of("grp", f.groups)
    any_of("tlp", f.tlps)
    if f.allowed_groups is not None:
        if not f.allowed_groups:
            where.append("1 = 0")
        else:
            any_of("grp", f.allowed_groups)
    if f.red_groups is not None:
        if f.red_groups:
            where.append(f"(tlp <> 'red' OR grp IN ({','.join([ph] * len(f.red_groups))}))")
            params.extend(f.red_groups)
        else:
            where.append("tlp <> 'red'")
    if f.confidence_min is not None:
        where.append(f"confidence >= {ph}")
        params.append(f.confidence_min)
    if f.last_since is not None:
        where.append(f"last_at >= {ph}")
        params.append(time(f.last_since))
    if f.changed_after is not None:
        where.append(f"changed > {ph}")
        params.append(f.changed_after)
    return (" WHERE " + " AND ".join(where)) if where else "", params


_SQLITE_COLS = "id, indicator, itype, confidence, last_at, tags, provider, tlp, grp, flags"
_PG_COLS = (
    "id, indicator, itype, confidence,"
    " (extract(epoch FROM last_at) * 1000000)::bigint, tags, provider, tlp, grp, flags"
)


def scan_batches(store: Any, f: ScanFilter, *, fetch: int = FETCH) -> Iterator[list[Row]]:
    """Every matching row, in lists of up to ``fetch`` rows (no order promised)."""
    if not f.itypes:
        return
    want = frozenset(f.tags)
    drop = frozenset(f.exclude_tags)
    conn = _connection(store)
    if _is_postgres(store):
        where, params = _where(f, "%s", lambda t: t)
        cur = conn.execute(f"SELECT {_PG_COLS} FROM indicators{where}", params)
        while True:
            rows = cur.fetchmany(fetch)
            if not rows:
                return
            out = []
            for r in rows:
                tags = tuple(r[5])
                if (want and want.isdisjoint(tags)) or (drop and not drop.isdisjoint(tags)):
                    continue
                out.append((r[0], r[1], r[2], r[3], int(r[4]), tags, r[6], r[7], r[8], tuple(r[9])))
            yield out
    else:
        # '+last_at': a feed window usually holds most of the table, where a scan in
        # rowid order beats visiting the rows through the last_at index.
        where, params = _where(f, "?", micros)
        where = where.replace("last_at >=", "+last_at >=")
        cur = conn.execute(f"SELECT {_SQLITE_COLS} FROM indicators{where}", params)
        loads = orjson.loads
        none: tuple[str, ...] = ()
        while True:
            rows = cur.fetchmany(fetch)
            if not rows:
                return
            out = []
            for r in rows:
                tags = tuple(loads(r[5])) if r[5] else none
                if (want and want.isdisjoint(tags)) or (drop and not drop.isdisjoint(tags)):
                    continue
                out.append(
                    (
                        r[0],
                        r[1],
                        r[2],
                        r[3],
                        r[4],
                        tags,
                        r[6],
                        r[7],
                        r[8],
                        tuple(loads(r[9])) if r[9] else none,
                    )
                )
            yield out


def scan(store: Any, f: ScanFilter) -> Iterator[Row]:
    """Every matching row as a tuple (see the module docstring for the layout)."""
    for batch in scan_batches(store, f):
        yield from batch


def last_at_of(row: Row) -> datetime | None:
    """The row's ``last_at`` as an aware time (None when unknown)."""
    from .codec import from_micros

    v = cast(int, row[LAST_AT])
    return None if v == MIN_MICROS else from_micros(v)


def _tag_sql(f: ScanFilter, postgres: bool) -> tuple[str, list[Any]]:
    """The tag filters in SQL: exact, and without a join for rows that cannot match."""
    where: list[str] = []
    params: list[Any] = []
    if postgres:
        if f.tags:
            where.append("tags && %s::text[]")
            params.append(sorted(set(f.tags)))
        if f.exclude_tags:
            where.append("NOT (tags && %s::text[])")
            params.append(sorted(set(f.exclude_tags)))
    else:
        if f.tags:
            marks = ",".join("?" * len(set(f.tags)))
            where.append(f"id IN (SELECT indicator_id FROM indicator_tags WHERE tag IN ({marks}))")
            params += sorted(set(f.tags))
        for t in sorted(set(f.exclude_tags)):
            # The JSON list holds the tag quoted; only then ask the tag index to be sure.
            where.append(
                "NOT (tags IS NOT NULL AND instr(tags, ?) > 0 AND EXISTS (SELECT 1 FROM"
                " indicator_tags WHERE tag = ? AND indicator_id = indicators.id))"
            )
            params += [orjson.dumps(t).decode(), t]
    return " AND ".join(where), params


def scan_values(store: Any, f: ScanFilter) -> tuple[list[str], set[str]]:
    """Only the values: (values of unflagged records, values of flagged records).

    Values repeat when several records hold them. For feeds whose output is the
    values alone; one column read per record.
    """
    if not f.itypes:
        return [], set()
    pg = _is_postgres(store)
    ph = "%s" if pg else "?"
    where, params = _where(f, ph, (lambda t: t) if pg else micros)
    if not pg:
        where = where.replace("last_at >=", "+last_at >=")
    tag_where, tag_params = _tag_sql(f, pg)
    if tag_where:
        where = (where + " AND " if where else " WHERE ") + tag_where
        params += tag_params
    conn = _connection(store)
    # One pass, one result row: the values joined by the database (no row objects),
    # the flag test riding along, and the counts to check the split against.
    if pg:
        sql = (
            "SELECT string_agg(indicator, E'\\n') FILTER (WHERE flags = '{}'),"
            " count(*) FILTER (WHERE flags = '{}'),"
            " string_agg(indicator, E'\\n') FILTER (WHERE flags <> '{}'),"
            f" count(*) FILTER (WHERE flags <> '{{}}') FROM indicators{where}"
        )
    else:
        sql = (
            "SELECT group_concat(CASE WHEN flags IS NULL THEN indicator END, char(10)),"
            " count(CASE WHEN flags IS NULL THEN 1 END),"
            " group_concat(CASE WHEN flags IS NOT NULL THEN indicator END, char(10)),"
            f" count(flags) FROM indicators{where}"
        )
    good, n_good, bad, n_bad = conn.execute(sql, params).fetchone()
    values = good.split("\n") if good else []
    flagged = set(bad.split("\n")) if bad else set()
    if len(values) == n_good and (not n_bad or len(bad.split("\n")) == n_bad):
        return values, flagged
    # A value holding a line break (no canonical one of a value-only feed does): by rows.
    test = "flags <> '{}'" if pg else "flags IS NOT NULL"
    rows = conn.execute(f"SELECT indicator, {test} FROM indicators{where}", params).fetchall()
    return [v for v, f in rows if not f], {v for v, f in rows if f}


# (indicator, provider, confidence, last_at in microseconds or None when unknown, flagged)
SightingRow = tuple[str, str, float, int | None, bool]
# The same with the row id first.
IdSightingRow = tuple[int, str, str, float, int | None, bool]


def scan_sightings(store: Any, f: ScanFilter) -> list[SightingRow]:
    """See :func:`scan_sighting_rows`; without the row ids."""
    return [(v, p, c, t, fl) for _, v, p, c, t, fl in scan_sighting_rows(store, f)]


def scan_sighting_rows(store: Any, f: ScanFilter) -> list[IdSightingRow]:
    """What the effective confidence needs of every matching record, tags filtered in SQL.

    For value feeds with a confidence floor: the floor applies to the value's
    effective confidence (all its sightings), so ``f.confidence_min`` is ignored here.
    """
    if not f.itypes:
        return []
    pg = _is_postgres(store)
    ph = "%s" if pg else "?"
    f = replace(f, confidence_min=None)
    where, params = _where(f, ph, (lambda t: t) if pg else micros)
    if not pg:
        where = where.replace("last_at >=", "+last_at >=")
    tag_where, tag_params = _tag_sql(f, pg)
    if tag_where:
        where = (where + " AND " if where else " WHERE ") + tag_where
        params += tag_params
    conn = _connection(store)
    if pg:
        sql = (
            "SELECT id, indicator, provider, confidence,"
            " (extract(epoch FROM last_at) * 1000000)::bigint, flags <> '{}'"
            f" FROM indicators{where}"
        )
    else:
        sql = (
            "SELECT id, indicator, provider, confidence, last_at, flags IS NOT NULL"
            f" FROM indicators{where}"
        )
    rows = conn.execute(sql, params).fetchall()
    unknown = MIN_MICROS
    return [
        (i, v, p, c, None if t is None or t <= unknown else int(t), bool(fl))
        for i, v, p, c, t, fl in rows
    ]
