"""Who may see a streamed indicator, and which ones a subscriber asked for.

Two separate questions. ``visible_to`` is access control and is never optional: a
token sees only indicators of its groups (admins see every group), and TLP red goes
only to tokens that are members of the indicator's group, admins included. A
token limited to some itypes sees only those. ``StreamFilter`` is the subscriber's
own choice (itype, tags, confidence floor, provider) taken from the query string or
CLI options.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def _split(values: Iterable[str] | str | None) -> frozenset[str]:
    if values is None:
        return frozenset()
    if isinstance(values, str):
        values = [values]
    out: set[str] = set()
    for v in values:
        out.update(p.strip().lower() for p in str(v).split(","))
    return frozenset(out - {""})


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """An indicator matches when every given condition holds; empty means anything.

    ``tags`` matches an indicator carrying any one of them; ``itypes`` and
    ``providers`` likewise match any one.
    """

    itypes: frozenset[str] = field(default_factory=frozenset)
    tags: frozenset[str] = field(default_factory=frozenset)
    confidence: float = 0.0
    providers: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls,
        itype: Iterable[str] | str | None = None,
        tags: Iterable[str] | str | None = None,
        confidence: float | str | None = None,
        provider: Iterable[str] | str | None = None,
    ) -> StreamFilter:
        """From comma-separated strings or lists; a bad confidence raises ValueError."""
        conf = 0.0
        if confidence not in (None, ""):
            try:
                conf = float(confidence)
            except (TypeError, ValueError):
                raise ValueError(
                    f"confidence {confidence!r} must be a number from 0 to 100"
                ) from None
            if not 0 <= conf <= 100:
                raise ValueError(f"confidence {confidence!r} must be from 0 to 100")
        return cls(_split(itype), _split(tags), conf, _split(provider))

    @classmethod
    def from_params(cls, params: Any) -> StreamFilter:
        """From a query string (Starlette QueryParams or a plain mapping); repeats allowed."""

        def many(name: str) -> list[str]:
            if hasattr(params, "getlist"):
                return list(params.getlist(name))
            v = params.get(name)
            return [] if v is None else [v]

        return cls.build(
            itype=many("itype"),
            tags=many("tags") + many("tag"),
            confidence=params.get("confidence"),
            provider=many("provider"),
        )

    def matches(self, ind: Mapping[str, Any]) -> bool:
        if self.itypes and ind.get("itype") not in self.itypes:
            return False
        if self.confidence and float(ind.get("confidence") or 0) < self.confidence:
            return False
        if self.providers and ind.get("provider") not in self.providers:
            return False
        if self.tags and self.tags.isdisjoint(ind.get("tags") or ()):
            return False
        return True


@dataclass(frozen=True, slots=True)
class Audience:
    """The rights of one stream subscriber, taken from its token."""

    groups: frozenset[str]
    admin: bool = False
    itypes: frozenset[str] = frozenset()  # empty: every itype

    @classmethod
    def of_token(cls, token: Any) -> Audience:
        return cls(frozenset(token.groups or ()), bool(token.admin), frozenset(token.itypes or ()))

    def may_see(self, ind: Mapping[str, Any]) -> bool:
        group = ind.get("group") or "everyone"
        member = group in self.groups
        if ind.get("tlp") == "red" and not member:
            return False
        if not (member or self.admin):
            return False
        return not self.itypes or ind.get("itype") in self.itypes
