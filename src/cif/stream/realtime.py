"""Wiring the realtime half into `cif up`: the bus, the ZeroMQ PUB and the stream hub.

Roles (``cif up --role``), each a process that may run on any host:

- ``all`` (default): everything in one process.
- ``api``: the HTTP API; publishes what it accepts and serves /stream/sse and /stream/ws.
- ``ingest``: pulls feeds and publishes; subscribes to nothing.
- ``stream``: subscribes to the bus and serves the ZeroMQ PUB (and the stream routes
  if it also serves HTTP).

Several processes share one stream only through NATS (``--bus nats://...``); with the
in-process bus each process hears only itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cif.bus import Bus, open_bus

from .hub import Hub
from .zmq_pub import DEFAULT_TLPS, ZmqPublisher

log = logging.getLogger("cif.stream")

ROLES = ("all", "api", "ingest", "stream")


@dataclass
class Realtime:
    """What start_realtime started; ``bus`` is the pipeline's Publisher."""

    bus: Bus
    role: str
    hub: Hub | None = None
    zmq: ZmqPublisher | None = None
    _unsubscribe: list[Callable[[], None]] = field(default_factory=list)

    def attach(self, app: Any) -> None:
        """Serve /stream/sse, /stream/ws and /stream/stats on this FastAPI app."""
        from .routes import router

        app.state.stream_hub = self.hub
        app.state.realtime = self
        app.include_router(router)

    def stats(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "bus": self.bus.stats(),
            "zmq": self.zmq.stats() if self.zmq else None,
            "hub": self.hub.stats() if self.hub else None,
        }

    def stop(self) -> None:
        """Stop in order: flush the bus to its handlers, unhook them, close the PUB socket."""
        self.bus.stop()
        for u in self._unsubscribe:
            u()
        self._unsubscribe.clear()
        if self.zmq is not None:
            self.zmq.stop()
            self.zmq = None


def start_realtime(
    *,
    bus_url: str | None = None,
    zmq_url: str | None = None,
    role: str = "all",
    curve_secret: bytes | str | None = None,
    curve_clients: Iterable[bytes | str] | None = None,
    zmq_tlps: Iterable[str] = DEFAULT_TLPS,
    hub: Hub | None = None,
    bus_options: dict[str, Any] | None = None,
) -> Realtime:
    """Start the bus, and per role the hub (SSE/WS) and the ZeroMQ PUB. Raises on a bad
    URL, an unreachable NATS server or a ZeroMQ endpoint that cannot be bound."""
    if role not in ROLES:
        raise ValueError(f"{role!r}: the role must be one of {', '.join(ROLES)}")
    bus = open_bus(bus_url, **(bus_options or {}))
    rt = Realtime(bus=bus, role=role)
    try:
        if role in ("all", "api", "stream"):
            rt.hub = hub or Hub()
            rt._unsubscribe.append(bus.subscribe(rt.hub.on_batch))
        if zmq_url and role in ("all", "stream"):
            rt.zmq = ZmqPublisher(
                zmq_url, curve_secret=curve_secret, curve_clients=curve_clients, tlps=zmq_tlps
            )
            rt._unsubscribe.append(bus.subscribe(rt.zmq.on_batch))
        elif zmq_url:
            log.warning(
                "--zmq is ignored for role %s (only all and stream publish on ZeroMQ)", role
            )
        bus.start()
    except BaseException:
        rt.stop()
        raise
    return rt
