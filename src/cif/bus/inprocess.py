"""The default bus of a single `cif up`: a bounded queue and one delivery thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from cif.indicator import Indicator

from .base import DEFAULT_PUT_WAIT, DEFAULT_QUEUE, Handler, Handlers

_STOP = object()


class InProcessBus:
    """Publish hands the batch to a queue; a daemon thread converts and fans it out.

    When the queue is full (handlers far behind) publish waits at most ``put_wait``
    seconds and then drops the batch and counts it: the store already has those
    indicators, so ingest keeps its pace and nothing accepted is lost.
    """

    def __init__(
        self, *, queue_size: int = DEFAULT_QUEUE, put_wait: float = DEFAULT_PUT_WAIT
    ) -> None:
        self._q: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._put_wait = put_wait
        self._handlers = Handlers()
        self._thread: threading.Thread | None = None
        self.published = 0
        self.delivered = 0
        self.dropped = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cif-bus", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Deliver what is queued, then end the thread."""
        if self._thread is not None:
            self._q.put(_STOP)
            self._thread.join(timeout=10)
            self._thread = None

    def publish(self, indicators: Sequence[Indicator]) -> None:
        if not indicators:
            return
        try:
            self._q.put(list(indicators), timeout=self._put_wait)
            self.published += len(indicators)
        except queue.Full:
            self.dropped += len(indicators)

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        return self._handlers.add(handler)

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is _STOP:
                return
            batch = [i.to_dict() if isinstance(i, Indicator) else i for i in item]
            self._handlers.deliver(batch)
            self.delivered += len(batch)

    def stats(self) -> dict[str, Any]:
        return {
            "backend": "memory",
            "published": self.published,
            "delivered": self.delivered,
            "dropped": self.dropped,
            "queued_batches": self._q.qsize(),
            "subscribers": len(self._handlers),
            "handler_errors": self._handlers.errors,
        }
