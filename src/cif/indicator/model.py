"""The Indicator record: one observable with its context."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from .errors import InvalidIndicator
from .timeutil import format_time, parse_time

TLPS = ("clear", "green", "amber", "amber+strict", "red")
# Older names people still send, mapped to TLP 2.0.
TLP_ALIASES = {"white": "clear", "amber-strict": "amber+strict", "amber_strict": "amber+strict"}
DEFAULT_TLP = "amber"
DEFAULT_GROUP = "everyone"
DEFAULT_CONFIDENCE = 50.0


@dataclass(slots=True)
class Indicator:
    """One observable as cif keeps it.

    ``indicator`` is always in canonical form and ``itype`` is always set: build
    records from outside data with :meth:`from_dict`, which normalizes.
    ``flags`` names reserved ranges the value falls in (``private``, ``loopback``...):
    flagged values are kept, feeds leave them out.
    """

    indicator: str
    itype: str
    tags: set[str] = field(default_factory=set)
    confidence: float = DEFAULT_CONFIDENCE
    probability: float | None = None
    provider: str = ""
    group: str = DEFAULT_GROUP
    tlp: str = DEFAULT_TLP
    first_at: datetime | None = None
    last_at: datetime | None = None
    reported_at: datetime | None = None
    count: int = 1
    description: str | None = None
    reference: str | None = None
    asn: int | None = None
    asn_desc: str | None = None
    cc: str | None = None
    rdata: str | None = None
    portlist: str | None = None
    protocol: str | None = None
    parent: int | None = None
    id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    # -- conversions -----------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, now: datetime | None = None) -> Indicator:
        """Validate and normalize a plain mapping (API body, feed fields, CLI input)."""
        return from_dict(data, now=now)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping: times as ISO-8601 with Z, sets as sorted lists."""
        out: dict[str, Any] = {}
        for f in FIELD_NAMES:
            v = getattr(self, f)
            if isinstance(v, datetime):
                v = format_time(v)
            elif isinstance(v, set):
                v = sorted(v)
            out[f] = v
        return out

    @property
    def registered_domain(self) -> str | None:
        """The registrable domain (eTLD+1) of an fqdn, url or email indicator."""
        from .psl import registered_domain
        from .normalize import host_of

        host = host_of(self.indicator, self.itype)
        return registered_domain(host) if host else None


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Indicator))
_TEXT_FIELDS = ("description", "reference", "asn_desc", "rdata", "portlist", "protocol")
MAX_TEXT = 4096
MAX_TAGS = 64


def _percent(data: dict[str, Any], name: str, default: float | None) -> float | None:
    v = data.get(name)
    if v is None or v == "":
        return default
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InvalidIndicator(v, f"{name} must be a number from 0 to 100") from None
    if not 0 <= f <= 100:
        raise InvalidIndicator(v, f"{name} must be from 0 to 100")
    return f


def parse_tags(v: Any) -> set[str]:
    """Tags from a list or a comma-separated string, lowercased and stripped."""
    if v is None or v == "":
        return set()
    items = v.split(",") if isinstance(v, str) else v
    if not isinstance(items, (list, tuple, set, frozenset)):
        raise InvalidIndicator(v, "tags must be a list or a comma-separated string")
    tags = {str(t).strip().lower() for t in items} - {""}
    if len(tags) > MAX_TAGS:
        raise InvalidIndicator(v, f"more than {MAX_TAGS} tags")
    for t in tags:
        if len(t) > 64:
            raise InvalidIndicator(t, "a tag is longer than 64 characters")
    return tags


def parse_tlp(v: Any) -> str:
    if v is None or v == "":
        return DEFAULT_TLP
    s = str(v).strip().lower()
    if s.startswith("tlp:"):
        s = s[4:]
    s = TLP_ALIASES.get(s, s)
    if s not in TLPS:
        raise InvalidIndicator(v, f"tlp must be one of {', '.join(TLPS)}")
    return s


def parse_asn_number(v: Any) -> int | None:
    if v is None or v == "":
        return None
    s = str(v).strip().upper()
    if s.startswith("ASN"):
        s = s[3:]
    elif s.startswith("AS"):
        s = s[2:]
    if not s.isdigit() or int(s) > 4294967295:
        raise InvalidIndicator(v, "asn must be a number from 0 to 4294967295")
    return int(s)


def from_dict(data: dict[str, Any], *, now: datetime | None = None) -> Indicator:
    from .normalize import normalize

    if not isinstance(data, dict):
        raise InvalidIndicator(data, "an indicator must be a JSON object")
    raw = data.get("indicator")
    if raw is None or raw == "":
        raise InvalidIndicator(data.get("indicator"), "the indicator field is missing")
    norm = normalize(str(raw), data.get("itype") or None)
    now = now or datetime.now(UTC)
    conf = _percent(data, "confidence", DEFAULT_CONFIDENCE)
    assert conf is not None
    ind = Indicator(
        indicator=norm.indicator,
        itype=norm.itype,
        tags=parse_tags(data.get("tags")),
        confidence=conf,
        probability=_percent(data, "probability", None),
        provider=str(data.get("provider") or "").strip().lower()[:256],
        group=str(data.get("group") or DEFAULT_GROUP).strip().lower()[:256],
        tlp=parse_tlp(data.get("tlp")),
        first_at=parse_time(data.get("first_at"), "first_at"),
        last_at=parse_time(data.get("last_at"), "last_at"),
        reported_at=parse_time(data.get("reported_at"), "reported_at") or now,
        count=_count(data.get("count")),
        asn=parse_asn_number(data.get("asn")),
        cc=_cc(data.get("cc")),
        parent=_optional_int(data.get("parent"), "parent"),
        extra=_extra(data.get("extra")),
        flags=set(norm.flags),
    )
    for name in _TEXT_FIELDS:
        v = data.get(name)
        if v is not None and v != "":
            s = str(v)
            if len(s) > MAX_TEXT:
                raise InvalidIndicator(s[:40] + "...", f"{name} is longer than {MAX_TEXT} characters")
            setattr(ind, name, s)
    if ind.first_at and ind.last_at and ind.first_at > ind.last_at:
        raise InvalidIndicator(data.get("first_at"), "first_at is after last_at")
    if ind.last_at is None:
        ind.last_at = ind.first_at or ind.reported_at
    if ind.first_at is None:
        ind.first_at = ind.last_at
    return ind


def _count(v: Any) -> int:
    if v is None or v == "":
        return 1
    try:
        n = int(v)
    except (TypeError, ValueError):
        raise InvalidIndicator(v, "count must be a whole number") from None
    if n < 1:
        raise InvalidIndicator(v, "count must be at least 1")
    return n


def _optional_int(v: Any, name: str) -> int | None:
    if v is None or v == "":
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        raise InvalidIndicator(v, f"{name} must be a whole number") from None


def _cc(v: Any) -> str | None:
    if v is None or v == "":
        return None
    s = str(v).strip().upper()
    if len(s) != 2 or not s.isalpha():
        raise InvalidIndicator(v, "cc must be a two-letter country code")
    return s


def _extra(v: Any) -> dict[str, Any]:
    if v is None or v == "":
        return {}
    if not isinstance(v, dict):
        raise InvalidIndicator(v, "extra must be a JSON object")
    return v
