"""The bus contract: every accepted indicator is published once, every subscriber hears it.

The pipeline calls :meth:`Bus.publish` from its worker threads right after a batch is
stored. Publishing must never hold ingest up for long, so every backend hands the
batch to a bounded queue and a background loop does the rest. Subscribers get
batches of plain mappings (``Indicator.to_dict()``), never live objects, so a
handler can never change what another handler sees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from cif.indicator import Indicator

# A batch of indicators as JSON-ready mappings, in the order they were published.
Batch = list[dict[str, Any]]
Handler = Callable[[Batch], None]

DEFAULT_QUEUE = 1024  # batches waiting for the background loop
DEFAULT_PUT_WAIT = 0.25  # seconds publish() may wait for room before it drops the batch


class Bus(Protocol):
    """What the pipeline publishes to and the stream outputs subscribe to."""

    def publish(self, indicators: Sequence[Indicator]) -> None: ...

    def subscribe(self, handler: Handler) -> Callable[[], None]: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def stats(self) -> dict[str, Any]: ...


class Handlers:
    """A thread-safe list of subscriber callbacks; one bad handler never stops the others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: tuple[Handler, ...] = ()
        self.errors = 0

    def add(self, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._handlers = (*self._handlers, handler)

        def remove() -> None:
            with self._lock:
                self._handlers = tuple(h for h in self._handlers if h is not handler)

        return remove

    def deliver(self, batch: Batch) -> None:
        for h in self._handlers:
            try:
                h(batch)
            except Exception:  # noqa: BLE001  a subscriber's bug must not stop delivery
                self.errors += 1
                import logging

                logging.getLogger("cif.bus").exception("bus handler failed")

    def __len__(self) -> int:
        return len(self._handlers)


def open_bus(url: str | None, **kw: Any) -> Bus:
    """``None``, ``""`` or ``memory://`` give the in-process bus; ``nats://...`` JetStream."""
    if not url or url.startswith(("memory:", "inprocess:")):
        from .inprocess import InProcessBus

        return InProcessBus(**kw)
    if url.startswith(("nats://", "tls://")):
        from .nats import NatsBus

        return NatsBus(url, **kw)
    raise ValueError(f"{url!r}: the bus must be memory:// or nats://HOST:PORT")
