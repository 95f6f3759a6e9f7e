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

    Same arithmetic as :func:`explain_confidence` without building the explanation,
    because feed builds call it once per value.
    """
    now = _as_utc(now or datetime.now(UTC))
    best: dict[str, float] = {}
    flagged = any(True for _ in flags)
    for ind in sightings:
        flagged = flagged or bool(ind.flags)
        seen = _seen_at(ind)
        age = (now - _as_utc(seen)).total_seconds() if seen else 0.0
        s = (
            ind.confidence
            / 100.0
            * model.reliability.of(ind.provider)
            * decay(age, model.half_life(ind.itype))
        )
        key = model.reliability.key_of(ind.provider)
        if s > best.get(key, -1.0):
            best[key] = s
    value = noisy_or(best.values()) * 100.0
    if whitelisted:
        value = min(value, model.whitelist_cap)
    if flagged:
        value = min(value, model.guard_cap)
    return round(min(max(value, 0.0), 100.0), 2)
