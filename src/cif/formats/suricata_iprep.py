"""Suricata IP reputation: a categories file and a reputation file.

categories: ``id,shortname,description`` (ids 1..60); reputation:
``ip-or-cidr,category-id,score`` with score 1..127 (confidence 0..100 scaled).
An address gets one line per category it is tagged with. Category ids come from
``categories`` (tag -> id) when given (keep it stable across builds), else from
the feed's tags in sorted order; untagged or surplus tags go to ``other``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cif.indicator.model import Indicator

from .common import FormatError
from .ipsets import split_families

MAX_CATEGORIES = 60
OTHER = "other"


def _short(tag: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in tag)[:32] or OTHER


def category_ids(
    indicators: list[Indicator], categories: Mapping[str, int] | None
) -> dict[str, int]:
    """tag -> category id; validated when given, derived from the tags otherwise."""
    if categories is not None:
        for tag, cid in categories.items():
            if not isinstance(cid, int) or not 1 <= cid <= MAX_CATEGORIES:
                raise FormatError(
                    f"category {tag!r}: id {cid!r} must be from 1 to {MAX_CATEGORIES}"
                )
        out = {_short(t): c for t, c in categories.items()}
    else:
        tags = sorted({_short(t) for i in indicators for t in i.tags} - {OTHER})
        out = {t: n for n, t in enumerate(tags[: MAX_CATEGORIES - 1], start=1)}
    if OTHER not in out:
        free = sorted(set(range(1, MAX_CATEGORIES + 1)) - set(out.values()))
        if not free:
            raise FormatError("no category id left for 'other'")
        out[OTHER] = free[0]
    return out


def score(confidence: float) -> int:
    return max(1, min(127, round(confidence * 127 / 100)))


def render_categories(
    indicators: Iterable[Indicator], *, categories: Mapping[str, int] | None = None, **_: object
) -> str:
    ids = category_ids(list(indicators), categories)
    return "".join(f"{cid},{tag},{tag}\n" for tag, cid in sorted(ids.items(), key=lambda x: x[1]))


def render(
    indicators: Iterable[Indicator],
    *,
    part: str = "reputation",
    categories: Mapping[str, int] | None = None,
    **_: object,
) -> str:
    """The reputation file (``part="categories"`` for the categories file)."""
    items = list(indicators)
    split_families(items)  # rejects non-IP itypes with a clear error
    if part == "categories":
        return render_categories(items, categories=categories)
    if part != "reputation":
        raise FormatError(f"part {part!r}: use 'reputation' or 'categories'")
    ids = category_ids(items, categories)
    lines: dict[str, None] = {}
    for ind in items:
        cats = sorted({ids.get(_short(t), ids[OTHER]) for t in ind.tags}) or [ids[OTHER]]
        for c in cats:
            lines.setdefault(f"{ind.indicator},{c},{score(ind.confidence)}", None)
    return "".join(line + "\n" for line in lines)
