"""Per-token rate limiting: a token bucket per token id, in this process's memory.

Each API process keeps its own buckets; behind N processes a token gets at most N
times the rate. That is deliberate: no shared state on the request path.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``rate`` requests per second sustained, bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: int, *, clock=time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate {rate!r} and burst {burst!r} must be positive")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[object, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: object) -> float:
        """Spend one request for ``key``; 0 if allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = _Bucket(float(self.burst), now)
            b.tokens = min(self.burst, b.tokens + (now - b.updated) * self.rate)
            b.updated = now
            if b.tokens >= 1:
                b.tokens -= 1
                return 0.0
            return (1 - b.tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        """Retry-After is whole seconds, rounded up so a client that obeys it succeeds."""
        return str(max(1, math.ceil(wait)))
