"""The Indicator record: one observable with its context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
        from .normalize import host_of
        from .psl import registered_domain

        host = host_of(self.indicator, self.itype)
        return registered_domain(host) if host else None


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Indicator))
_TEXT_FIELDS = ("description", "reference", "asn_desc", "rdata", "portlist", "protocol")
MAX_TEXT = 4096
MAX_TAGS = 64


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
    return IndicatorFactory(now=now)(data)


def _text(name: str) -> Callable[[Any], str]:
    def parse(v: Any) -> str:
        s = str(v)
        if len(s) > MAX_TEXT:
            raise InvalidIndicator(s[:40] + "...", f"{name} is longer than {MAX_TEXT} characters")
        return s

    return parse


def _name(v: Any) -> str:
    return str(v).strip().lower()[:256]


# How each field is read from outside data; the indicator and itype go through normalize.
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "tags": parse_tags,
    "confidence": lambda v: _percent_value(v, "confidence"),
    "probability": lambda v: _percent_value(v, "probability"),
    "provider": _name,
    "group": _name,
    "tlp": parse_tlp,
    "first_at": lambda v: parse_time(v, "first_at"),
    "last_at": lambda v: parse_time(v, "last_at"),
    "reported_at": lambda v: parse_time(v, "reported_at"),
    "count": lambda v: _count(v),
    "asn": parse_asn_number,
    "cc": lambda v: _cc(v),
    "parent": lambda v: _optional_int(v, "parent"),
    "extra": lambda v: _extra(v),
    **{name: _text(name) for name in _TEXT_FIELDS},
}


def _percent_value(v: Any, name: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InvalidIndicator(v, f"{name} must be a number from 0 to 100") from None
    if not 0 <= f <= 100:
        raise InvalidIndicator(v, f"{name} must be from 0 to 100")
    return f


class IndicatorFactory:
    """Builds Indicators from outside records, with defaults validated once.

    A feed or a submission applies the same defaults (provider, tags, confidence...)
    to every record: parsing them once per batch instead of once per record is most
    of the cost of building an Indicator. A record's own non-empty values win; tags
    are the union of the defaults' and the record's.
    """

    def __init__(
        self, defaults: Mapping[str, Any] | None = None, *, now: datetime | None = None
    ) -> None:
        self.now = now or datetime.now(UTC)
        self.base: dict[str, Any] = {}
        self.raw: dict[str, Any] = {}
        for k, v in (defaults or {}).items():
            if v is None or v == "":
                continue
            parse = _PARSERS.get(k)
            if parse is not None:
                self.base[k] = parse(v)
            elif k in ("indicator", "itype"):
                self.raw[k] = v

    def __call__(self, data: Mapping[str, Any]) -> Indicator:
        from .normalize import normalize

        if not isinstance(data, Mapping):
            raise InvalidIndicator(data, "an indicator must be a JSON object")
        raw = data.get("indicator")
        if raw is None or raw == "":
            raw = self.raw.get("indicator")
            if raw is None:
                raise InvalidIndicator(data.get("indicator"), "the indicator field is missing")
        norm = normalize(str(raw), data.get("itype") or self.raw.get("itype") or None)
        f = self.base.copy()
        for k, v in data.items():
            if v is None or v == "":
                continue
            parse = _PARSERS.get(k)
            if parse is None:
                continue
            val = parse(v)
            if k == "tags" and "tags" in f:
                val = f["tags"] | val
            f[k] = val
        get = f.get
        first_at, last_at = get("first_at"), get("last_at")
        if first_at and last_at and first_at > last_at:
            raise InvalidIndicator(data.get("first_at", first_at), "first_at is after last_at")
        reported_at = get("reported_at") or self.now
        last_at = last_at or first_at or reported_at
        tags = get("tags")
        extra = get("extra")
        return Indicator(
            indicator=norm.indicator,
            itype=norm.itype,
            tags=set(tags) if tags else set(),
            confidence=get("confidence", DEFAULT_CONFIDENCE),
            probability=get("probability"),
            provider=get("provider", ""),
            group=get("group") or DEFAULT_GROUP,
            tlp=get("tlp", DEFAULT_TLP),
            first_at=first_at or last_at,
            last_at=last_at,
            reported_at=reported_at,
            count=get("count", 1),
            description=get("description"),
            reference=get("reference"),
            asn=get("asn"),
            asn_desc=get("asn_desc"),
            cc=get("cc"),
            rdata=get("rdata"),
            portlist=get("portlist"),
            protocol=get("protocol"),
            parent=get("parent"),
            extra=dict(extra) if extra else {},
            flags=set(norm.flags),
        )


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
