"""Scoring: the confidence model (reliability, decay, corroboration, caps) and ML probability."""

from .confidence import (
    DEFAULT_MODEL,
    ConfidenceModel,
    decay,
    effective_confidence,
    explain_confidence,
    noisy_or,
)
from .reliability import Reliability

__all__ = [
    "DEFAULT_MODEL",
    "ConfidenceModel",
    "Reliability",
    "decay",
    "effective_confidence",
    "explain_confidence",
    "noisy_or",
]
