"""The replay buffer: the last N stream events, each with a monotonic id.

Ids start at the wall clock in microseconds when the process starts and go up by one
per event, so they keep rising across restarts (as long as the platform averages
under a million events a second), and a client's Last-Event-ID from before a
restart is simply older than the buffer: it gets a gap notice, never wrong events.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Any

DEFAULT_REPLAY = 10_000


@dataclass(slots=True, frozen=True)
class Event:
    id: int
    indicator: dict[str, Any]
    data: bytes  # the indicator as JSON, encoded once for every subscriber


class Ring:
    """Not thread-safe by itself: the hub holds one lock around numbering and fan-out."""

    def __init__(self, size: int = DEFAULT_REPLAY, first_id: int | None = None) -> None:
        self._buf: deque[Event] = deque(maxlen=max(1, size))
        self._next = first_id if first_id is not None else time.time_ns() // 1000

    def append_all(self, items: list[tuple[dict[str, Any], bytes]]) -> list[Event]:
        """Number and keep a batch."""
        events = [Event(self._next + k, ind, data) for k, (ind, data) in enumerate(items)]
        self._next += len(items)
        self._buf.extend(events)
        return events

    def since(self, last_id: int) -> tuple[list[Event], bool]:
        """Events after ``last_id`` still kept, and whether some in between were lost."""
        buf, nxt = self._buf, self._next
        if last_id >= nxt - 1:
            return [], last_id >= nxt  # an id from the future: a restart with a slower clock
        if not buf:
            return [], True
        oldest = buf[0].id
        # ids in the buffer are consecutive, so the start is found by arithmetic
        start = max(0, last_id + 1 - oldest)
        return list(islice(buf, start, None)), last_id + 1 < oldest

    @property
    def last_id(self) -> int:
        return self._next - 1

    def __len__(self) -> int:
        return len(self._buf)
