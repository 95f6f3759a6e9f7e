"""Fan-out of bus batches to SSE and WebSocket subscribers, with bounded queues.

The hub runs in the bus's delivery thread and never waits on a subscriber: each one
has its own queue of at most ``queue_size`` events. Policy when a subscriber falls
behind: the oldest queued event is dropped and counted; once it has dropped more
than ``max_drops`` events since it last read anything, it is disconnected (a
dead or stalled client costs nothing after that). Ingest and the other subscribers
never notice.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from typing import Any

import orjson

from .filters import Audience, StreamFilter
from .ring import DEFAULT_REPLAY, Event, Ring

DEFAULT_QUEUE = 1000
DEFAULT_MAX_DROPS = 10_000
DEFAULT_HEARTBEAT = 15.0


class Subscriber:
    """One SSE or WebSocket client: its rights, its filter and its bounded queue."""

    def __init__(
        self,
        sid: int,
        kind: str,
        audience: Audience,
        filt: StreamFilter,
        loop: asyncio.AbstractEventLoop,
        queue_size: int,
        max_drops: int,
    ) -> None:
        self.id = sid
        self.kind = kind
        self.audience = audience
        self.filter = filt
        self._loop = loop
        self._q: deque[Event] = deque()
        self._size = queue_size
        self._max_drops = max_drops
        self._lock = threading.Lock()
        self._wake = asyncio.Event()
        self._wake_pending = False
        self.sent = 0
        self.dropped = 0
        self.drops_since_read = 0
        self.closed: str | None = None  # why the hub cut it off

    def wants(self, ev: Event) -> bool:
        return self.audience.may_see(ev.indicator) and self.filter.matches(ev.indicator)

    def offer(self, events: list[Event]) -> None:
        """Queue what this subscriber may see and asked for; called in the bus thread."""
        mine = [e for e in events if self.wants(e)]
        if not mine or self.closed:
            return
        with self._lock:
            self._q.extend(mine)
            over = len(self._q) - self._size
            if over > 0:
                for _ in range(over):
                    self._q.popleft()
                self.dropped += over
                self.drops_since_read += over
                if self.drops_since_read > self._max_drops:
                    self.closed = (
                        f"too slow: dropped {self.drops_since_read} events without reading"
                    )
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:  # the client's loop is gone
            self.closed = "event loop closed"

    async def next(self, timeout: float) -> list[Event]:
        """Everything queued, waiting up to ``timeout`` (empty list: time for a heartbeat)."""
        if not self._q:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
        with self._lock:
            self._wake.clear()
            self._wake_pending = False
            out = list(self._q)
            self._q.clear()
            if out:
                self.drops_since_read = 0
        self.sent += len(out)
        return out

    def stats(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "queued": len(self._q),
            "sent": self.sent,
            "dropped": self.dropped,
            "closed": self.closed,
        }


class Hub:
    """Numbers every event, keeps the replay ring, and feeds every subscriber's queue."""

    def __init__(
        self,
        *,
        replay: int = DEFAULT_REPLAY,
        queue_size: int = DEFAULT_QUEUE,
        max_drops: int = DEFAULT_MAX_DROPS,
        heartbeat: float = DEFAULT_HEARTBEAT,
    ) -> None:
        self.ring = Ring(replay)
        self.queue_size = queue_size
        self.max_drops = max_drops
        self.heartbeat = heartbeat
        self._subs: dict[int, Subscriber] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.events = 0
        self.gone_dropped = 0  # drops of subscribers that have since left
        self.disconnected_slow = 0

    def on_batch(self, batch: list[dict[str, Any]]) -> None:
        """Bus handler: encode each indicator once, number, keep, and fan out."""
        items = [(ind, orjson.dumps(ind)) for ind in batch]
        with self._lock:
            events = self.ring.append_all(items)
            self.events += len(events)
            subs = list(self._subs.values())
            for s in subs:
                s.offer(events)

    def subscribe(
        self, kind: str, audience: Audience, filt: StreamFilter, last_id: int | None = None
    ) -> tuple[Subscriber, list[Event], bool]:
        """Register a subscriber; with ``last_id``, also the kept events after it and
        whether some were lost. Both happen under one lock: no gap, no duplicate."""
        loop = asyncio.get_running_loop()
        sub = Subscriber(
            next(self._ids), kind, audience, filt, loop, self.queue_size, self.max_drops
        )
        with self._lock:
            replay: list[Event] = []
            gap = False
            if last_id is not None:
                kept, gap = self.ring.since(last_id)
                replay = [e for e in kept if sub.wants(e)]
            self._subs[sub.id] = sub
        return sub, replay, gap

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            if self._subs.pop(sub.id, None) is not None:
                self.gone_dropped += sub.dropped
                if sub.closed and sub.closed.startswith("too slow"):
                    self.disconnected_slow += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            subs = [s.stats() for s in self._subs.values()]
            gone = self.gone_dropped
        return {
            "events": self.events,
            "last_id": self.ring.last_id,
            "replay_kept": len(self.ring),
            "subscribers": len(subs),
            "dropped": gone + sum(s["dropped"] for s in subs),
            "disconnected_slow": self.disconnected_slow,
            "per_subscriber": subs,
        }
