"""Turn a Query into one indexed SELECT; the backends differ only through a Dialect.

Every shape is meant to be answered from an index: ``q`` through the indicator's key index,
the IP range index or the reversed-domain index; no ``q`` through the index of
the sort field (walked in order, so LIMIT stops early), tags through the tag index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cif.indicator import Indicator

from .base import Page
from .codec import (
    MIN_TIME,
    NO_PROBABILITY,
    QPlan,
    decode_cursor,
    encode_cursor,
    plan_q,
    sort_value,
)
from .query import SORT_FIELDS, InvalidQuery, Query


class Dialect(Protocol):
    ph: str  # parameter placeholder
    plain_order_for_q: bool  # SQLite: '+col' in ORDER BY so q's index is chosen, not the sort's
    materialize_q: bool  # PostgreSQL: q's rows in a MATERIALIZED CTE, sorted afterwards
    ip_union: bool  # SQLite: IP containment as a UNION of two index searches; else an OR

    def time(self, t: datetime) -> Any: ...

    def cursor_value(self, sort: str, v: int | float) -> Any: ...

    def tags_any(self, tags: list[str]) -> tuple[str, list[Any]]: ...

    def tags_none(self, tags: list[str]) -> tuple[str, list[Any]]: ...

    def exact(self, value: str) -> tuple[str, list[Any]]: ...  # indicator = value, on an index


@dataclass(slots=True)
class Select:
    sql: str
    params: list[Any]
    plan: QPlan | None


def _in(ph: str, values: list[Any]) -> str:
    return "(" + ",".join([ph] * len(values)) + ")"


def build(query: Query, d: Dialect, columns: str) -> Select:
    """SELECT ``columns`` for ``query``, fetching limit+1 rows to know if more follow."""
    if query.sort not in SORT_FIELDS:
        raise InvalidQuery(f"sort {query.sort!r}: not one of {', '.join(SORT_FIELDS)}")
    if query.limit < 1:
        raise InvalidQuery(f"limit {query.limit!r}: must be at least 1")
    ph = d.ph
    where: list[str] = []
    params: list[Any] = []
    plan = plan_q(query.q) if query.q else None
    if plan is not None:
        if plan.kind == "ip":
            cand = list(plan.candidates)
            inside = f"ip_start >= {ph} AND ip_start <= {ph} AND ip_end <= {ph}"
            holding = f"ip_start IN {_in(ph, cand)} AND ip_end >= {ph}"
            if d.ip_union:
                where.append(
                    f"id IN (SELECT id FROM indicators WHERE {inside}"
                    f" UNION SELECT id FROM indicators WHERE {holding})"
                )
            else:
                where.append(f"(({inside}) OR ({holding}))")
            params += [plan.start, plan.end, plan.end, *cand, plan.end]
        elif plan.kind == "fqdn":
            where.append(f"rdomain >= {ph} AND rdomain < {ph}")
            params += [plan.lo, plan.hi]
        else:
            sql, p = d.exact(plan.value)
            where.append(sql)
            params += p

    def any_of(col: str, values: list[Any]) -> None:
        if values:
            where.append(f"{col} IN {_in(ph, values)}")
            params.extend(values)

    any_of("itype", query.itypes)
    any_of("provider", query.providers)
    any_of("grp", query.groups)
    any_of("tlp", query.tlps)
    any_of("cc", query.cc)
    any_of("asn", query.asn)
    if query.allowed_groups is not None:
        if not query.allowed_groups:
            where.append("1 = 0")
        else:
            any_of("grp", list(query.allowed_groups))
    if query.red_groups is not None:
        if query.red_groups:
            where.append(f"(tlp <> 'red' OR grp IN {_in(ph, list(query.red_groups))})")
            params.extend(query.red_groups)
        else:
            where.append("tlp <> 'red'")
    if query.tags:
        sql, p = d.tags_any(sorted(set(query.tags)))
        where.append(sql)
        params += p
    if query.exclude_tags:
        sql, p = d.tags_none(sorted(set(query.exclude_tags)))
        where.append(sql)
        params += p

    def bound(col: str, op: str, v: Any) -> None:
        if v is not None:
            where.append(f"{col} {op} {ph}")
            params.append(v)

    bound("confidence", ">=", query.confidence_min)
    bound("confidence", "<=", query.confidence_max)
    if query.probability_min is not None or query.probability_max is not None:
        bound("probability", ">", NO_PROBABILITY)
    bound("probability", ">=", query.probability_min)
    bound("probability", "<=", query.probability_max)
    for col, since, until in (
        ("reported_at", query.reported_since, query.reported_until),
        ("last_at", query.last_since, query.last_until),
    ):
        if since is not None:
            bound(col, ">=", d.time(since))
        if until is not None:
            bound(col, "<=", d.time(until))
            bound(col, ">", d.time(MIN_TIME))

    sort, desc = query.sort, query.descending
    if query.cursor:
        value, last_id = decode_cursor(query.cursor, sort, desc)
        op = "<" if desc else ">"
        if sort == "id":
            where.append(f"id {op} {ph}")
            params.append(last_id)
        else:
            where.append(f"({sort}, id) {op} ({ph}, {ph})")
            params += [d.cursor_value(sort, value), last_id]
    direction = "DESC" if desc else "ASC"
    plus = "+" if (plan is not None and d.plain_order_for_q) else ""
    order = f"{plus}id {direction}"
    if sort != "id":
        order = f"{plus}{sort} {direction}, " + order
    sql = f"SELECT {columns} FROM indicators"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if plan is not None and d.materialize_q:
        # Find q's rows on its own index first, then sort the few hits: without this a
        # planner short of statistics may walk the whole sort index looking for them.
        sql = f"WITH hits AS MATERIALIZED ({sql}) SELECT * FROM hits"
    sql += f" ORDER BY {order} LIMIT {int(query.limit) + 1}"
    return Select(sql, params, plan)


def page_of(rows: list[Any], query: Query, decode: Callable[[Any], Indicator]) -> Page:
    """The page for rows fetched with :func:`build` (limit + 1 of them): the items and,
    when one more row came back, the cursor of the last item."""
    items = [decode(r) for r in rows[: query.limit]]
    cursor = None
    if len(rows) > query.limit:
        last = items[-1]
        cursor = encode_cursor(
            query.sort, query.descending, sort_value(last, query.sort), last.id or 0
        )
    return Page(items=items, cursor=cursor)
