"""Aggregation: one feed line per indicator value, keeping the strongest evidence.

Many providers report the same value; a feed wants it once, with the highest
confidence, the latest sighting, every tag and every provider. TLP is the most
restrictive of the records, so merging never widens who may see the data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from cif.indicator.model import TLPS, Indicator

_TLP_RANK = {t: i for i, t in enumerate(TLPS)}


def _merge_into(acc: Indicator, ind: Indicator) -> None:
    """Fold ``ind`` into the private copy ``acc``."""
    stronger = ind.confidence > acc.confidence or (
        ind.confidence == acc.confidence
        and ind.last_at is not None
        and (acc.last_at is None or ind.last_at > acc.last_at)
    )
    if stronger:
        acc.confidence = ind.confidence
        acc.provider = ind.provider
        acc.description = ind.description or acc.description
        acc.reference = ind.reference or acc.reference
    if ind.last_at is not None and (acc.last_at is None or ind.last_at > acc.last_at):
        acc.last_at = ind.last_at
    if ind.first_at is not None and (acc.first_at is None or ind.first_at < acc.first_at):
        acc.first_at = ind.first_at
    if ind.reported_at is not None and (
        acc.reported_at is None or ind.reported_at > acc.reported_at
    ):
        acc.reported_at = ind.reported_at
    if ind.probability is not None and (
        acc.probability is None or ind.probability > acc.probability
    ):
        acc.probability = ind.probability
    if _TLP_RANK.get(ind.tlp, 0) > _TLP_RANK.get(acc.tlp, 0):
        acc.tlp = ind.tlp
    acc.tags |= ind.tags
    acc.flags |= ind.flags
    acc.count += ind.count
    providers = acc.extra["providers"]
    if ind.provider and ind.provider not in providers:
        providers.append(ind.provider)
    acc.extra["records"] += 1


def _private_copy(ind: Indicator) -> Indicator:
    acc = replace(ind, tags=set(ind.tags), flags=set(ind.flags), extra=dict(ind.extra))
    acc.extra["providers"] = [ind.provider] if ind.provider else []
    acc.extra["records"] = 1
    return acc


def aggregate(indicators: Iterable[Indicator], *, by_value: bool = False) -> list[Indicator]:
    """One record per (itype, value), in first-seen order; inputs are never modified.

    ``by_value`` keys on the value alone: faster, for inputs already limited to the
    itypes of one feed (whose values never collide across itypes).

    A value seen once is passed through as is (no copy: the hot path for big feeds);
    a value seen again gets a merged copy whose ``extra`` holds ``providers`` (all of
    them, first-seen order) and ``records`` (how many were merged).
    """
    seen: dict[object, Indicator] = {}
    merged: set[object] = set()
    for ind in indicators:
        key: object = ind.indicator if by_value else (ind.itype, ind.indicator)
        acc = seen.get(key)
        if acc is None:
            seen[key] = ind
            continue
        if key not in merged:
            acc = seen[key] = _private_copy(acc)
            merged.add(key)
        _merge_into(acc, ind)
    return list(seen.values())


def providers_of(ind: Indicator) -> list[str]:
    """Every provider behind an aggregated record."""
    p = ind.extra.get("providers") if ind.extra else None
    if isinstance(p, list):
        return list(p)
    return [ind.provider] if ind.provider else []
