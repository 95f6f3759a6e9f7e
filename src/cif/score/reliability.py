"""Per-provider reliability: how much of a provider's stated confidence cif believes.

Feeds state their own confidence; a careful curator's 85 is worth more than a
honeypot's 85. The table is YAML (or a dict), shipped with defaults for the
bundled feeds and overridable per deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

DEFAULT_RELIABILITY = 0.6


class InvalidReliability(ValueError):
    """A reliability table that cannot be used; the message names the entry."""


def _check(name: str, v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InvalidReliability(f"reliability of {name!r} must be a number from 0 to 1") from None
    if not 0.0 <= f <= 1.0:
        raise InvalidReliability(f"reliability of {name!r} must be from 0 to 1, got {f}")
    return f


@dataclass(frozen=True, slots=True)
class Reliability:
    """Provider -> factor in [0, 1]; unknown providers get ``default``."""

    providers: Mapping[str, float] = field(default_factory=dict)
    default: float = DEFAULT_RELIABILITY

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: Reliability | None = None) -> Reliability:
        """Build from ``{"default": x, "providers": {name: x}}``, layered over ``base``."""
        if not isinstance(data, Mapping):
            raise InvalidReliability("a reliability table must be a mapping")
        provs = dict(base.providers) if base else {}
        raw = data.get("providers") or {}
        if not isinstance(raw, Mapping):
            raise InvalidReliability("'providers' must be a mapping of name to number")
        for k, v in raw.items():
            provs[str(k).strip().lower()] = _check(str(k), v)
        default = base.default if base else DEFAULT_RELIABILITY
        if data.get("default") is not None:
            default = _check("default", data["default"])
        return cls(providers=provs, default=default)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Reliability:
        """The shipped defaults, with the YAML file at ``path`` (if any) layered on top."""
        base = shipped()
        if path is None:
            return base
        data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
        return cls.from_dict(data, base)

    def of(self, provider: str) -> float:
        """Reliability of ``provider`` (exact name, a parent name, or name + '.tld')."""
        p = (provider or "").strip().lower()
        key = _match(self.providers_key(), p) if p else ""
        return self.providers[key] if key else self.default

    def key_of(self, provider: str) -> str:
        """The table key ``provider`` matches (so spamhaus.org and spamhaus are one source)."""
        p = (provider or "").strip().lower()
        return _match(self.providers_key(), p) or p

    def providers_key(self) -> tuple[tuple[str, float], ...]:
        return tuple(sorted(self.providers.items()))


@lru_cache(maxsize=4096)
def _match(table: tuple[tuple[str, float], ...], provider: str) -> str:
    """The longest key that ``provider`` equals, ends with (.key) or starts with (key.)."""
    best = ""
    for key, _ in table:
        if provider == key or provider.endswith("." + key) or provider.startswith(key + "."):
            if len(key) > len(best):
                best = key
    return best


@lru_cache(maxsize=1)
def shipped() -> Reliability:
    """The defaults shipped with cif (reliability.yaml beside this module)."""
    text = (resources.files("cif.score") / "reliability.yaml").read_text("utf-8")
    return Reliability.from_dict(yaml.safe_load(text) or {})
