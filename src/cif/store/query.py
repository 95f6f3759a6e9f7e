"""A search over stored indicators, backend-neutral.

Built from API query parameters or CLI flags with :meth:`Query.from_params`; each
backend turns it into indexed SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cif.indicator import TLPS, InvalidIndicator, parse_time
from cif.indicator.model import parse_asn_number, parse_tags, parse_tlp
from cif.indicator.normalize import ITYPES

SORT_FIELDS = ("last_at", "reported_at", "first_at", "confidence", "probability", "id")
DEFAULT_LIMIT = 100
MAX_LIMIT = 100_000


class InvalidQuery(ValueError):
    """A search parameter that cannot be understood; the message names it."""


@dataclass(slots=True)
class Query:
    q: str | None = None  # indicator value: exact; IP/CIDR containment; fqdn + subdomains
    itypes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # any of
    exclude_tags: list[str] = field(default_factory=list)  # none of
    providers: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    tlps: list[str] = field(default_factory=list)
    confidence_min: float | None = None
    confidence_max: float | None = None
    probability_min: float | None = None
    probability_max: float | None = None
    reported_since: datetime | None = None
    reported_until: datetime | None = None
    last_since: datetime | None = None
    last_until: datetime | None = None
    cc: list[str] = field(default_factory=list)
    asn: list[int] = field(default_factory=list)
    sort: str = "last_at"
    descending: bool = True
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    # Set by the API from the caller's token, not by the caller: the groups it may read,
    # and the groups whose TLP red records it may see (red never leaves its group).
    allowed_groups: list[str] | None = None
    red_groups: list[str] | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, now: datetime | None = None) -> Query:
        """Parse search parameters (API query string or CLI flags).

        Lists may be given comma-separated or repeated. ``tags=a,-b`` means a and not b.
        ``days``/``hours`` set a reported_at window ending now; ``since``/``until``
        an explicit reported_at window; ``last_since``/``last_until`` a last_at window.
        """
        now = now or datetime.now(UTC)
        qy = cls()
        get = _getter(params)
        q = get("q") or get("indicator")
        qy.q = q[0] if q else None
        for it in get("itype"):
            if it not in ITYPES:
                raise InvalidQuery(f"itype {it!r}: not one of {', '.join(ITYPES)}")
            qy.itypes.append(it)
        try:
            for t in get("tags") + get("tag"):
                if t.startswith("-"):
                    qy.exclude_tags.extend(parse_tags(t[1:]))
                else:
                    qy.tags.extend(parse_tags(t))
            qy.tlps = [parse_tlp(t) for t in get("tlp")]
            qy.asn = [a for a in (parse_asn_number(x) for x in get("asn")) if a is not None]
        except InvalidIndicator as e:
            raise InvalidQuery(str(e)) from None
        qy.providers = [p.lower() for p in get("provider")]
        qy.groups = [g.lower() for g in get("group")]
        qy.cc = [c.upper() for c in get("cc")]
        qy.confidence_min = _num(get, "confidence_min" if get("confidence_min") else "confidence")
        qy.confidence_max = _num(get, "confidence_max")
        qy.probability_min = _num(
            get, "probability_min" if get("probability_min") else "probability"
        )
        qy.probability_max = _num(get, "probability_max")
        days, hours = _num(get, "days", lo=0, hi=36500), _num(get, "hours", lo=0, hi=876000)
        if days is not None or hours is not None:
            qy.reported_since = now - timedelta(days=days or 0, hours=hours or 0)
        qy.reported_since = _time(get, "since") or _time(get, "reported_since") or qy.reported_since
        qy.reported_until = _time(get, "until") or _time(get, "reported_until")
        qy.last_since = _time(get, "last_since")
        qy.last_until = _time(get, "last_until")
        sort = (get("sort") or ["-last_at"])[0]
        qy.descending = sort.startswith("-")
        qy.sort = sort.lstrip("-+")
        if qy.sort not in SORT_FIELDS:
            raise InvalidQuery(
                f"sort {sort!r}: not one of {', '.join(SORT_FIELDS)} (prefix - for descending)"
            )
        limit = _num(get, "limit", lo=1, hi=MAX_LIMIT)
        qy.limit = int(limit) if limit is not None else DEFAULT_LIMIT
        cur = get("cursor")
        qy.cursor = cur[0] if cur else None
        return qy


Getter = Callable[[str], list[str]]


def _getter(params: Mapping[str, Any]) -> Getter:
    def get(name: str) -> list[str]:
        if hasattr(params, "getlist"):
            raw = params.getlist(name)
        else:
            v = params.get(name)
            raw = [] if v is None else (list(v) if isinstance(v, (list, tuple, set)) else [v])
        out: list[str] = []
        for r in raw:
            if r is None:
                continue
            out.extend(p.strip() for p in str(r).split(",") if p.strip())
        return out

    return get


def _num(get: Getter, name: str, lo: float = 0, hi: float = 100) -> float | None:
    v = get(name)
    if not v:
        return None
    try:
        f = float(v[0])
    except ValueError:
        raise InvalidQuery(f"{name} {v[0]!r}: not a number") from None
    if not lo <= f <= hi:
        raise InvalidQuery(f"{name} {v[0]!r}: must be from {lo:g} to {hi:g}")
    return f


def _time(get: Getter, name: str) -> datetime | None:
    v = get(name)
    if not v:
        return None
    try:
        return parse_time(v[0], name)
    except InvalidIndicator as e:
        raise InvalidQuery(str(e)) from None


__all__ = ["Query", "InvalidQuery", "SORT_FIELDS", "TLPS"]
