"""A saved lexical model: coefficients in .npz, settings in the same file, no pickle.

Loading uses ``numpy.load(allow_pickle=False)``, so opening a model file can never
run code; the model is a logistic regression over :class:`Featurizer` output,
so predicting is a sparse dot product and a sigmoid.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .features import FEATURE_VERSION, Featurizer

ITYPES = ("url", "fqdn")
DEFAULT_THRESHOLD = 50.0


class ModelError(ValueError):
    """A model file that cannot be used; the message says why."""


@dataclass(slots=True)
class LexicalModel:
    """Logistic regression over hashed character n-grams and dense lexical measures."""

    itype: str
    featurizer: Featurizer
    coef: np.ndarray
    intercept: float
    threshold: float = DEFAULT_THRESHOLD
    card: dict[str, Any] = field(default_factory=dict)

    def predict(self, values: Sequence[str]) -> np.ndarray:
        """Probability of being malicious, 0-100, one per value."""
        if not len(values):
            return np.zeros(0, dtype=np.float64)
        z = self.featurizer.score(values, self.coef, self.intercept)
        return 100.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def save(self, path: str | Path) -> Path:
        """Write the model as a compressed .npz (float16 weights keep it small)."""
        p = Path(path)
        meta = {
            "itype": self.itype,
            "feature_version": FEATURE_VERSION,
            "n_features": self.featurizer.n_features,
            "layout": self.featurizer.layout,
            "threshold": self.threshold,
            "intercept": self.intercept,
            "card": self.card,
        }
        with p.open("wb") as fh:
            np.savez_compressed(
                fh,
                coef=self.coef.astype(np.float16),
                mean=self.featurizer.mean,
                scale=self.featurizer.scale,
                meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
            )
        return p

    @classmethod
    def load(cls, path: str | Path) -> LexicalModel:
        try:
            with np.load(str(path), allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                coef, mean, scale = z["coef"].astype(np.float32), z["mean"], z["scale"]
        except (OSError, KeyError, ValueError) as e:
            raise ModelError(f"{path}: not a cif model file ({e})") from None
        if meta.get("feature_version") != FEATURE_VERSION:
            raise ModelError(
                f"{path}: made for feature version {meta.get('feature_version')}, "
                f"this cif uses {FEATURE_VERSION}; retrain it"
            )
        try:
            fz = Featurizer(int(meta["n_features"]), mean, scale, meta.get("layout", "v1"))
        except ValueError as e:
            raise ModelError(f"{path}: {e}; retrain it with this cif") from None
        if coef.shape != (fz.width,):
            raise ModelError(f"{path}: {coef.shape[0]} weights, expected {fz.width}")
        return cls(
            meta["itype"],
            fz,
            coef,
            float(meta["intercept"]),
            float(meta["threshold"]),
            meta.get("card", {}),
        )


def shipped_path(itype: str) -> Path:
    return Path(str(resources.files("cif.score") / "models" / f"{itype}.npz"))


@lru_cache(maxsize=8)
def load_model(itype: str, path: str | None = None) -> LexicalModel:
    """The model for ``itype``: the file at ``path``, else the one shipped with cif."""
    if itype not in ITYPES:
        raise ModelError(f"no probability model for itype {itype!r} (only {', '.join(ITYPES)})")
    m = LexicalModel.load(path or shipped_path(itype))
    if m.itype != itype:
        raise ModelError(f"{path}: a {m.itype} model, not {itype}")
    return m
