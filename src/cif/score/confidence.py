"""The confidence model: what cif believes about an indicator now, from all its sightings.

    per sighting   s = confidence/100 x reliability(provider) x 0.5 ** (age / half_life(itype))
    per provider   the strongest sighting (one provider repeating itself is not corroboration)
    together       c = 100 x (1 - prod(1 - s_p))          (noisy-OR over independent providers)
    caps           whitelisted -> at most WHITELIST_CAP; guard flags -> at most GUARD_CAP

Stored records keep the confidence the provider stated; feeds compute this
effective value at build time, so decay follows the clock and not the last ingest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cif.indicator.model import Indicator

from .reliability import Reliability, shipped

DAY = 86400.0
# Addresses change hands within days; names live longer; a file hash is evidence forever.
HALF_LIFE_DAYS: dict[str, float] = {
    "ipv4": 7.0,
    "ipv6": 7.0,
    "cidr": 14.0,
    "ipv4_cidr": 14.0,
    "ipv6_cidr": 14.0,
    "fqdn": 30.0,
    "url": 30.0,
    "email": 60.0,
    "asn": 90.0,
    "md5": 3650.0,
    "sha1": 3650.0,
    "sha256": 3650.0,
    "sha512": 3650.0,
}
DEFAULT_HALF_LIFE_DAYS = 30.0
WHITELIST_CAP = 0.0
GUARD_CAP = 25.0


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    """Knobs of the model; the defaults are the documented ones (docs/context.md)."""

    reliability: Reliability = field(default_factory=shipped)
    half_life_days: Mapping[str, float] = field(default_factory=lambda: dict(HALF_LIFE_DAYS))
    whitelist_cap: float = WHITELIST_CAP
    guard_cap: float = GUARD_CAP

    def half_life(self, itype: str) -> float:
        return float(self.half_life_days.get(itype, DEFAULT_HALF_LIFE_DAYS))


DEFAULT_MODEL = ConfidenceModel()


def decay(age_seconds: float, half_life_days: float) -> float:
    """Fraction of belief left after ``age_seconds`` (1 for sightings in the future)."""
    if age_seconds <= 0:
        return 1.0
    if half_life_days <= 0:
        return 0.0
    return float(0.5 ** (age_seconds / (half_life_days * DAY)))


def noisy_or(values: Iterable[float]) -> float:
    """P(at least one is right) for independent reports with probabilities in [0, 1]."""
    miss = 1.0
    for v in values:
        miss *= 1.0 - min(max(v, 0.0), 1.0)
    return 1.0 - miss


def _seen_at(ind: Indicator) -> datetime | None:
    return ind.last_at or ind.reported_at or ind.first_at


def _as_utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def explain_confidence(
    sightings: Sequence[Indicator],
    now: datetime | None = None,
    whitelisted: bool | Sequence[str] = False,
    flags: Iterable[str] = (),
    *,
    model: ConfidenceModel = DEFAULT_MODEL,
) -> dict[str, Any]:
    """Compute the effective confidence and say how, step by step.

    ``whitelisted`` is True or the whitelist entries the value hit (named in the
    explanation); ``flags`` are guard hits beyond those on the sightings themselves.
    """
    now = _as_utc(now or datetime.now(UTC))
    steps: list[dict[str, Any]] = []
    best: dict[str, dict[str, Any]] = {}
    all_flags = set(flags)
    for ind in sightings:
        all_flags |= ind.flags
        seen = _seen_at(ind)
        age = (now - _as_utc(seen)).total_seconds() if seen else 0.0
        hl = model.half_life(ind.itype)
        rel = model.reliability.of(ind.provider)
        d = decay(age, hl)
        s = ind.confidence / 100.0 * rel * d
        step = {
            "step": "sighting",
            "provider": ind.provider or "",
            "confidence": ind.confidence,
            "reliability": round(rel, 4),
            "age_days": round(max(age, 0.0) / DAY, 3),
            "half_life_days": hl,
            "decay": round(d, 4),
            "value": round(s * 100.0, 2),
        }
        steps.append(step)
        key = model.reliability.key_of(ind.provider)
        if key not in best or s > best[key]["_s"]:
            best[key] = {**step, "_s": s}
    per_provider = {k: v["_s"] for k, v in best.items()}
    combined = noisy_or(per_provider.values()) * 100.0
    steps.append(
        {
            "step": "corroboration",
            "providers": {k: round(v * 100.0, 2) for k, v in sorted(per_provider.items())},
            "formula": "100 x (1 - prod(1 - value/100))",
            "value": round(combined, 2),
        }
    )
    value = combined
    if whitelisted:
        hits = [] if whitelisted is True else list(whitelisted)
        value = min(value, model.whitelist_cap)
        steps.append(
            {
                "step": "whitelist cap",
                "cap": model.whitelist_cap,
                "hits": hits,
                "value": round(value, 2),
            }
        )
    if all_flags:
        value = min(value, model.guard_cap)
        steps.append(
            {
                "step": "guard cap",
                "cap": model.guard_cap,
                "flags": sorted(all_flags),
                "value": round(value, 2),
            }
        )
    value = round(min(max(value, 0.0), 100.0), 2)
    return {
        "confidence": value,
        "now": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sightings": len(sightings),
        "providers": len(per_provider),
        "steps": steps,
    }


def effective_confidence(
    sightings: Sequence[Indicator],
    now: datetime | None = None,
    whitelisted: bool | Sequence[str] = False,
    flags: Iterable[str] = (),
    *,
    model: ConfidenceModel = DEFAULT_MODEL,
) -> float:
    """The confidence (0-100) feeds should use for a value seen in ``sightings``.

    Same arithmetic as :func:`explain_confidence` without building the explanation;
    the sightings go through :func:`confidence_of` (the one implementation feeds use
    on plain tuples).
    """
    now_us = to_micros(_as_utc(now or datetime.now(UTC)))
    flagged = any(True for _ in flags)
    if not sightings:
        return confidence_of((), now_us, 0.0, flagged=flagged, whitelisted=bool(whitelisted))
    by_itype: dict[str, list[Sighting]] = {}
    for ind in sightings:
        seen = _seen_at(ind)
        by_itype.setdefault(ind.itype, []).append(
            (ind.provider, ind.confidence, to_micros(_as_utc(seen)) if seen else None, ind.flags)
        )
    if len(by_itype) == 1:
        [(itype, rows)] = by_itype.items()
        return confidence_of(
            rows,
            now_us,
            model.half_life(itype),
            flagged=flagged,
            whitelisted=bool(whitelisted),
            model=model,
        )
    # Sightings under several itypes (each with its own half-life): one pass each.
    scorer = Scorer(model)
    best: dict[str, float] = {}
    for itype, rows in by_itype.items():
        flagged = scorer.strongest(rows, now_us, model.half_life(itype), best) or flagged
    return scorer.combine(best, flagged=flagged, whitelisted=bool(whitelisted))


# -- the tuple form: what feed builds call once per value ----------------------------------

# (provider, stated confidence, last seen in microseconds since the epoch or None when
# unknown, guard flags: anything true means flagged)
Sighting = tuple[str, float, int | None, Any]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(t: datetime) -> int:
    """An aware time as integer microseconds since the epoch."""
    d = t - _EPOCH
    return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds


class Scorer:
    """The model's arithmetic on plain tuples, remembering each provider's reliability
    and source key (one table lookup per provider name, not per sighting)."""

    __slots__ = ("model", "_sources")

    def __init__(self, model: ConfidenceModel = DEFAULT_MODEL) -> None:
        self.model = model
        self._sources: dict[str, tuple[float, str]] = {}

    def source(self, provider: str) -> tuple[float, str]:
        """(reliability, source key) of ``provider``."""
        hit = self._sources.get(provider)
        if hit is None:
            rel = self.model.reliability
            hit = self._sources[provider] = (rel.of(provider), rel.key_of(provider))
        return hit

    def strongest(
        self,
        sightings: Iterable[Sighting],
        now_us: int,
        half_life_days: float,
        best: dict[str, float],
    ) -> bool:
        """Fold each sighting's value (confidence/100 x reliability x decay) into
        ``best`` (source key -> strongest value); True when one is flagged."""
        flagged = False
        per_us = half_life_days * DAY * 1_000_000.0
        for provider, conf, seen, flags in sightings:
            if flags:
                flagged = True
            rel, key = self.source(provider)
            age = 0 if seen is None else now_us - seen
            if age <= 0:
                d = 1.0
            elif per_us <= 0:
                d = 0.0
            else:
                d = 0.5 ** (age / per_us)
            s = conf / 100.0 * rel * d
            if s > best.get(key, -1.0):
                best[key] = s
        return flagged

    def combine(
        self, best: Mapping[str, float], *, flagged: bool = False, whitelisted: bool = False
    ) -> float:
        """Noisy-OR over the sources, then the caps; rounded to 2 decimals."""
        value = noisy_or(best.values()) * 100.0
        if whitelisted:
            value = min(value, self.model.whitelist_cap)
        if flagged:
            value = min(value, self.model.guard_cap)
        return round(min(max(value, 0.0), 100.0), 2)

    def confidence(
        self,
        sightings: Iterable[Sighting],
        now_us: int,
        half_life_days: float,
        *,
        flagged: bool = False,
        whitelisted: bool = False,
    ) -> float:
        best: dict[str, float] = {}
        flagged = self.strongest(sightings, now_us, half_life_days, best) or flagged
        return self.combine(best, flagged=flagged, whitelisted=whitelisted)


_DEFAULT_SCORER = Scorer()


def confidence_of(
    sightings: Iterable[Sighting],
    now_us: int,
    half_life_days: float,
    *,
    flagged: bool = False,
    whitelisted: bool = False,
    model: ConfidenceModel = DEFAULT_MODEL,
) -> float:
    """:func:`effective_confidence` of sightings given as :data:`Sighting` tuples, all of
    one itype (``half_life_days``), at ``now_us`` (microseconds since the epoch)."""
    scorer = _DEFAULT_SCORER if model is DEFAULT_MODEL else Scorer(model)
    return scorer.confidence(
        sightings, now_us, half_life_days, flagged=flagged, whitelisted=whitelisted
    )
