"""The one path every indicator takes: normalize, guard, enrich, score, store, publish.

Feeds, the API and the CLI all call :class:`Pipeline`; there is no second path that
skips normalization or the guard.
"""

from .core import ItemError, Pipeline, Publisher, Result, Sink, normalize_records

__all__ = ["ItemError", "Pipeline", "Publisher", "Result", "Sink", "normalize_records"]
