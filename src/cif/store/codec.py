"""Backend-neutral encodings: IP ranges, reversed domains, times, merge rules, cursors.

Both backends store the same derived keys so one query planner works for both:
``ip_start``/``ip_end`` are 16-byte big-endian addresses (IPv4 mapped into
``::ffff:0:0/96``) with ``plen`` the prefix length in that 128-bit space, and
``rdomain`` is an fqdn's labels reversed with a trailing dot (``com.example.a.``)
so "a domain and its subdomains" is one index range.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from cif.indicator import Indicator, InvalidIndicator

from .query import SORT_FIELDS, InvalidQuery

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Stored in place of a missing time or probability so sorting and keyset
# pagination behave the same on every backend (no NULL ordering differences).
MIN_TIME = datetime(1, 1, 1, tzinfo=UTC)
NO_PROBABILITY = -1.0
_US = timedelta(microseconds=1)
V4_PREFIX = b"\x00" * 10 + b"\xff\xff"
IP_ITYPES = ("ipv4", "ipv6", "ipv4_cidr", "ipv6_cidr")
_ALL_ONES = (1 << 128) - 1


# -- times ---------------------------------------------------------------------------


def micros(t: datetime | None) -> int:
    """An aware time as integer microseconds since the epoch (exact, sortable)."""
    d = (t or MIN_TIME) - EPOCH
    return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds


MIN_MICROS = micros(MIN_TIME)


def from_micros(v: int) -> datetime | None:
    if v == MIN_MICROS:
        return None
    return EPOCH + timedelta(microseconds=v)


def stored_time(t: datetime | None) -> datetime:
    """A time as a backend with a real time type keeps it (missing -> MIN_TIME)."""
    return MIN_TIME if t is None else t.astimezone(UTC)


def loaded_time(t: datetime) -> datetime | None:
    t = t.astimezone(UTC)
    return None if t == MIN_TIME else t


# -- IP ranges and reversed domains ---------------------------------------------------


def ip_range(value: str, itype: str) -> tuple[bytes, bytes, int]:
    """(start, end, prefix length) of a canonical IP or CIDR in the 128-bit space."""
    try:
        if itype == "ipv4":
            b = V4_PREFIX + socket.inet_aton(value)
            return b, b, 128
        if itype == "ipv6":
            b = socket.inet_pton(socket.AF_INET6, value)
            return b, b, 128
        addr, _, bits = value.partition("/")
        if itype == "ipv4_cidr":
            raw = V4_PREFIX + socket.inet_aton(addr)
            plen = 96 + int(bits)
        else:
            raw = socket.inet_pton(socket.AF_INET6, addr)
            plen = int(bits)
    except (OSError, ValueError):
        raise InvalidIndicator(value, f"not a canonical {itype}") from None
    if not 0 <= plen <= 128:
        raise InvalidIndicator(value, f"prefix length out of range for {itype}")
    host = _ALL_ONES >> plen
    n = int.from_bytes(raw, "big") & ~host & _ALL_ONES
    return n.to_bytes(16, "big"), (n | host).to_bytes(16, "big"), plen


def containing_starts(start: bytes, plen: int, *, v4: bool) -> list[bytes]:
    """Start addresses of every network that could contain ``start/plen``.

    One candidate per shorter-or-equal prefix length: a network of length p that
    contains the range must start at the range start masked to p bits.
    """
    n = int.from_bytes(start, "big")
    lo = 96 if v4 else 0
    out: list[bytes] = []
    seen: set[int] = set()
    for p in range(lo, plen + 1):
        m = n & ~(_ALL_ONES >> p) & _ALL_ONES
        if m not in seen:
            seen.add(m)
            out.append(m.to_bytes(16, "big"))
    return out


def indicator_hash(value: str) -> int:
    """A signed 64-bit hash of an indicator value: SQLite's compact lookup key.

    Stable across processes and versions (BLAKE2b, not Python's ``hash``). Not
    unique: lookups on it always compare the value itself too.
    """
    digest = hashlib.blake2b(value.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def rdomain(fqdn: str) -> str:
    """``a.example.com`` -> ``com.example.a.``: subdomains sort right after their parent."""
    return ".".join(reversed(fqdn.rstrip(".").split("."))) + "."


def rdomain_range(fqdn: str) -> tuple[str, str]:
    """[lo, hi) of reversed names covering the domain and all its subdomains."""
    lo = rdomain(fqdn)
    return lo, lo[:-1] + "/"  # '/' sorts right after '.'


def derived_keys(ind: Indicator) -> tuple[bytes | None, bytes | None, int | None, str | None]:
    """(ip_start, ip_end, plen, rdomain) stored alongside an indicator."""
    if ind.itype in IP_ITYPES:
        s, e, p = ip_range(ind.indicator, ind.itype)
        return s, e, p, None
    if ind.itype == "fqdn":
        return None, None, None, rdomain(ind.indicator)
    return None, None, None, None


# -- what q means --------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class QPlan:
    """How to find ``q``: kind is ``ip``, ``fqdn`` or ``exact``."""

    kind: str
    value: str
    start: bytes = b""
    end: bytes = b""
    candidates: tuple[bytes, ...] = ()
    lo: str = ""
    hi: str = ""


def _detect(q: str) -> tuple[str, str]:
    """(canonical value, itype) via the normalizer, falling back to a local parse."""
    from cif.indicator.normalize import normalize

    try:
        n = normalize(q)
        return n.indicator, n.itype
    except (InvalidIndicator, ValueError):
        pass
    s = q.strip()
    try:
        if "/" in s:
            net = ipaddress.ip_network(s, strict=False)
            return str(net), f"ipv{net.version}_cidr"
        ip = ipaddress.ip_address(s)
        return str(ip), f"ipv{ip.version}"
    except ValueError:
        pass
    low = s.lower().rstrip(".")
    if "." in low and all(c.isalnum() or c in "-._" for c in low):
        return low, "fqdn"
    return s, ""


def plan_q(q: str) -> QPlan:
    value, itype = _detect(q)
    if itype in IP_ITYPES:
        start, end, plen = ip_range(value, itype)
        v4 = itype.startswith("ipv4")
        return QPlan("ip", value, start, end, tuple(containing_starts(start, plen, v4=v4)))
    if itype == "fqdn":
        lo, hi = rdomain_range(value)
        return QPlan("fqdn", value, lo=lo, hi=hi)
    return QPlan("exact", value)


# -- merge rules ---------------------------------------------------------------------

_CONTEXT = (
    "asn",
    "asn_desc",
    "cc",
    "reference",
    "rdata",
    "portlist",
    "protocol",
    "parent",
    "probability",
    "tlp",
    "itype",
)


def merge(stored: Indicator, incoming: Indicator) -> Indicator:
    """Fold a repeat sighting into the stored record (in place; returns ``stored``).

    Tags and flags union; earliest first_at, latest last_at and reported_at; counts
    add; confidence and description come from the newer sighting (later last_at,
    ties go to the incoming one); other context: incoming non-empty values win;
    extra is merged key by key with incoming keys winning.
    """
    newer = micros(incoming.last_at) >= micros(stored.last_at)
    stored.tags |= incoming.tags
    stored.flags |= incoming.flags
    stored.first_at = _pick(stored.first_at, incoming.first_at, min)
    stored.last_at = _pick(stored.last_at, incoming.last_at, max)
    stored.reported_at = _pick(stored.reported_at, incoming.reported_at, max)
    stored.count += incoming.count
    if newer:
        stored.confidence = incoming.confidence
        stored.description = incoming.description
    for name in _CONTEXT:
        v = getattr(incoming, name)
        if v is not None and v != "":
            setattr(stored, name, v)
    if incoming.extra:
        stored.extra = {**stored.extra, **incoming.extra}
    return stored


def _pick(a: datetime | None, b: datetime | None, f: Any) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return f(a, b)


def copy_of(ind: Indicator) -> Indicator:
    """A copy safe to merge into without touching the caller's object."""
    c = Indicator(**{f: getattr(ind, f) for f in _FIELDS})
    c.tags, c.flags, c.extra = set(ind.tags), set(ind.flags), dict(ind.extra)
    return c


_FIELDS = tuple(Indicator.__dataclass_fields__)


def key_of(ind: Indicator) -> tuple[str, str, str]:
    return ind.indicator, ind.provider, ind.group


Key = tuple[str, str, str]


def fold_batch(indicators: Any) -> tuple[dict[Key, Indicator], dict[Key, list[Indicator]]]:
    """Merge duplicates inside one batch: key -> merged record, key -> caller's objects."""
    merged: dict[tuple[str, str, str], Indicator] = {}
    owners: dict[tuple[str, str, str], list[Indicator]] = {}
    for ind in indicators:
        if not isinstance(ind, Indicator):
            raise TypeError(f"upsert expects Indicator objects, got {type(ind).__name__}")
        k = (ind.indicator, ind.provider, ind.group)
        cur = merged.get(k)
        if cur is None:
            merged[k] = ind
            owners[k] = [ind]
        else:
            if len(owners[k]) == 1:
                merged[k] = cur = copy_of(cur)
            merge(cur, ind)
            owners[k].append(ind)
    return merged, owners


# -- JSON columns --------------------------------------------------------------------


def dump_json(v: Any) -> str:
    return orjson.dumps(v).decode()


def dump_set(s: set[str]) -> str | None:
    return orjson.dumps(sorted(s)).decode() if s else None


def load_set(v: str | None) -> set[str]:
    return set(orjson.loads(v)) if v else set()


# -- cursors -------------------------------------------------------------------------


def sort_value(ind: Indicator, sort: str) -> int | float:
    """The neutral cursor value of a record for a sort field."""
    if sort == "id":
        return ind.id or 0
    if sort == "probability":
        return NO_PROBABILITY if ind.probability is None else ind.probability
    if sort == "confidence":
        return ind.confidence
    return micros(getattr(ind, sort))


def encode_cursor(sort: str, descending: bool, value: int | float, last_id: int) -> str:
    raw = orjson.dumps([sort, descending, value, last_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, descending: bool) -> tuple[int | float, int]:
    """(sort value, id) after which the next page starts; InvalidQuery names a bad one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        s, desc, value, last_id = orjson.loads(raw)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidQuery(f"cursor {cursor!r}: not a cursor this store issued") from None
    if s not in SORT_FIELDS or not isinstance(last_id, int) or not isinstance(value, (int, float)):
        raise InvalidQuery(f"cursor {cursor!r}: not a cursor this store issued")
    if s != sort or desc != descending:
        raise InvalidQuery(f"cursor {cursor!r}: issued for another sort order than {sort!r}")
    return value, last_id


def row_decoder(
    load_time: Callable[[Any], datetime | None],
    load_extra: Callable[[Any], dict[str, Any]],
    load_tags: Callable[[Any], set[str]],
) -> Callable[[Sequence[Any]], Indicator]:
    """An Indicator from a row in the backends' column order. The backends differ only
    in how their driver hands back times, the extra object and the tag and flag sets."""

    def decode(r: Sequence[Any]) -> Indicator:
        return Indicator(
            id=r[0],
            indicator=r[1],
            itype=r[2],
            provider=r[3],
            group=r[4],
            tlp=r[5],
            confidence=r[6],
            probability=None if r[7] == NO_PROBABILITY else r[7],
            first_at=load_time(r[8]),
            last_at=load_time(r[9]),
            reported_at=load_time(r[10]),
            count=r[11],
            description=r[12],
            reference=r[13],
            asn=r[14],
            asn_desc=r[15],
            cc=r[16],
            rdata=r[17],
            portlist=r[18],
            protocol=r[19],
            parent=r[20],
            extra=load_extra(r[21]),
            flags=load_tags(r[22]),
            tags=load_tags(r[23]),
        )

    return decode
