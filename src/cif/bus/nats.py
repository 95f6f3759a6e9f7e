"""NATS JetStream bus: several `cif up` processes, on one host or many, share one stream.

Every process that subscribes gets its own ordered, ephemeral consumer starting at
the newest message, so each subscriber sees every message once and in order. The
JetStream stream keeps a bounded history (age and bytes) for consumers that briefly
lag. nats-py is asyncio-only, so the bus runs its own event loop in a daemon thread;
publish() from the pipeline's threads only counts and hands over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from cif.indicator import Indicator

from .base import DEFAULT_QUEUE, Handler, Handlers
from .frames import decode_frame, encode_frames

log = logging.getLogger("cif.bus.nats")

DEFAULT_STREAM = "CIF"
DEFAULT_SUBJECT = "cif.indicators"
DEFAULT_MAX_AGE = 24 * 3600.0
DEFAULT_MAX_BYTES = 1 << 30


class NatsBus:
    """Publish batches to a JetStream subject; deliver every message to local handlers."""

    def __init__(
        self,
        url: str,
        *,
        stream: str = DEFAULT_STREAM,
        subject: str = DEFAULT_SUBJECT,
        queue_size: int = DEFAULT_QUEUE,
        max_age: float = DEFAULT_MAX_AGE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        connect_timeout: float = 5.0,
        put_wait: float = 0.0,
    ) -> None:
        self.url = url
        self.stream = stream
        self.subject = subject
        self.max_age = max_age
        self.max_bytes = max_bytes
        self.connect_timeout = connect_timeout
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._queue_size = queue_size
        self._handlers = Handlers()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._aq: asyncio.Queue[Any] | None = None
        self._pending = 0
        self._lock = threading.Lock()
        self._nc: Any = None
        self._js: Any = None
        self._sub: Any = None
        self._sender: asyncio.Task[None] | None = None
        self.published = 0
        self.sent_frames = 0
        self.received = 0
        self.dropped = 0
        self.failed = 0
        self.bad_frames = 0

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Connect, make sure the stream exists, and subscribe if anyone listens."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="cif-bus-nats", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.connect_timeout + 5) or self._error is not None:
            err = self._error
            self.stop()
            raise ConnectionError(f"cannot use the NATS bus at {self.url}: {err or 'timed out'}")

    def stop(self, timeout: float = 10.0) -> None:
        """Send what is queued (up to ``timeout``), then close the connection."""
        loop, thread = self._loop, self._thread
        if thread is None:
            return
        if loop is not None and loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._shutdown(timeout), loop)
            try:
                fut.result(timeout + 5)
            except Exception:  # noqa: BLE001
                log.exception("NATS bus shutdown")
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._connect())
        except BaseException as e:  # noqa: BLE001  reported by start()
            self._error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _connect(self) -> None:
        import nats

        self._aq = asyncio.Queue()
        await self._probe()

        async def quiet(e: Exception) -> None:  # reconnects are logged briefly, not as tracebacks
            log.warning("NATS bus: %s", e)

        self._nc = await nats.connect(
            self.url,
            connect_timeout=self.connect_timeout,
            max_reconnect_attempts=-1,
            allow_reconnect=True,
            name=f"cif {self.origin}",
            error_cb=quiet,
        )
        self._js = self._nc.jetstream()
        await self._ensure_stream()
        if len(self._handlers):
            await self._subscribe()
        self._sender = asyncio.get_running_loop().create_task(self._send_loop())

    async def _probe(self) -> None:
        """Fail fast on a server that is down: nats-py would retry the first connect forever."""
        from urllib.parse import urlsplit

        u = urlsplit(self.url)
        _r, w = await asyncio.wait_for(
            asyncio.open_connection(u.hostname or "127.0.0.1", u.port or 4222), self.connect_timeout
        )
        w.close()

    async def _ensure_stream(self) -> None:
        from nats.js.api import DiscardPolicy, StreamConfig
        from nats.js.errors import NotFoundError

        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(
                StreamConfig(
                    name=self.stream,
                    subjects=[self.subject],
                    max_age=self.max_age,
                    max_bytes=self.max_bytes,
                    discard=DiscardPolicy.OLD,
                )
            )

    async def _subscribe(self) -> None:
        from nats.js.api import DeliverPolicy

        if self._sub is None:
            self._sub = await self._js.subscribe(
                self.subject,
                stream=self.stream,
                cb=self._on_msg,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.NEW,
            )

    async def _shutdown(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._sender is not None:
            self._sender.cancel()
        if self._sub is not None:
            await self._sub.unsubscribe()
        if self._nc is not None:
            await self._nc.close()

    # -- publishing -----------------------------------------------------------------------

    def publish(self, indicators: Sequence[Indicator]) -> None:
        """Count and hand over; when ``queue_size`` batches already wait, drop and count."""
        if not indicators:
            return
        loop, aq = self._loop, self._aq
        if loop is None or aq is None or not self._ready.is_set():
            self.dropped += len(indicators)
            return
        with self._lock:
            if self._pending >= self._queue_size:
                self.dropped += len(indicators)
                return
            self._pending += 1
        self.published += len(indicators)
        try:
            loop.call_soon_threadsafe(aq.put_nowait, list(indicators))
        except RuntimeError:  # loop closed during shutdown
            with self._lock:
                self._pending -= 1
            self.dropped += len(indicators)

    async def _send_loop(self) -> None:
        assert self._aq is not None
        while True:
            batch = await self._aq.get()
            try:
                dicts = [i.to_dict() if isinstance(i, Indicator) else i for i in batch]
                limit = int(self._nc.max_payload * 0.9) if self._nc.max_payload else 900_000
                for frame in encode_frames(dicts, self.origin, limit):
                    await self._publish_frame(frame, len(dicts))
            finally:
                with self._lock:
                    self._pending -= 1

    async def _publish_frame(self, frame: bytes, n: int) -> None:
        for attempt in range(20):  # ~10 s of retries while the server reconnects
            try:
                await self._js.publish(self.subject, frame, stream=self.stream, timeout=5)
                self.sent_frames += 1
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001  counted, retried, then given up
                if attempt == 19:
                    self.failed += n
                    log.warning("NATS bus: gave up on a frame: %s", e)
                    return
                await asyncio.sleep(0.5)

    # -- subscribing ----------------------------------------------------------------------

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Add a handler; called in the bus thread with each batch, it must return quickly."""
        remove = self._handlers.add(handler)
        loop = self._loop
        if loop is not None and self._ready.is_set() and self._error is None:
            asyncio.run_coroutine_threadsafe(self._subscribe(), loop).result(
                self.connect_timeout + 5
            )
        return remove

    async def _on_msg(self, msg: Any) -> None:
        try:
            _origin, batch = decode_frame(msg.data)
        except ValueError:
            self.bad_frames += 1
            return
        self.received += len(batch)
        self._handlers.deliver(batch)

    def stats(self) -> dict[str, Any]:
        return {
            "backend": "nats",
            "stream": self.stream,
            "subject": self.subject,
            "published": self.published,
            "frames_sent": self.sent_frames,
            "received": self.received,
            "dropped": self.dropped,
            "failed": self.failed,
            "bad_frames": self.bad_frames,
            "queued_batches": self._pending,
            "subscribers": len(self._handlers),
            "handler_errors": self._handlers.errors,
        }


async def delete_stream(url: str, stream: str) -> None:
    """Remove a JetStream stream (tests and benchmarks clean up after themselves)."""
    import nats

    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()
