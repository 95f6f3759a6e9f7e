"""ZeroMQ PUB output: one two-frame message per indicator, ``[topic, JSON]``.

The bus handler only appends to a bounded queue (oldest batches dropped and counted
when the sender thread is behind); the sender thread owns the socket. PUB itself
never blocks: each SUB peer has a high-water mark and ZeroMQ drops for a peer that
is over it, so one slow subscriber never slows the others or ingest.

ZeroMQ has no per-subscriber identity for groups, so only indicators whose TLP is in
``tlps`` (default clear, green, amber) and, if given, whose group is in ``groups``
are published; TLP red is never allowed here. With ``curve_secret`` the socket is a
CURVE server (authenticated and encrypted); with ``curve_clients`` too, only those
client public keys may connect.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

import orjson
import zmq

from .topic import topic_of

log = logging.getLogger("cif.stream.zmq")

DEFAULT_TLPS = frozenset({"clear", "green", "amber"})
DEFAULT_QUEUE = 1024  # batches
DEFAULT_HWM = 100_000  # messages queued per SUB peer before ZeroMQ drops for it


class _AllowList:
    def __init__(self, keys: Iterable[bytes | str]) -> None:
        self.keys = {k.encode() if isinstance(k, str) else k for k in keys}

    def callback(self, domain: str, key: bytes) -> bool:
        return key in self.keys


class ZmqPublisher:
    def __init__(
        self,
        url: str,
        *,
        curve_secret: bytes | str | None = None,
        curve_clients: Iterable[bytes | str] | None = None,
        tlps: Iterable[str] = DEFAULT_TLPS,
        groups: Iterable[str] | None = None,
        queue_size: int = DEFAULT_QUEUE,
        hwm: int = DEFAULT_HWM,
    ) -> None:
        self.tlps = frozenset(tlps) - {"red"}
        self.groups = frozenset(groups) if groups else None
        self.url = url
        self._ctx = zmq.Context()
        self._auth: Any = None
        sock = self._ctx.socket(zmq.PUB)
        sock.setsockopt(zmq.SNDHWM, hwm)
        sock.setsockopt(zmq.LINGER, 0)
        if curve_secret:
            secret = curve_secret.encode() if isinstance(curve_secret, str) else curve_secret
            if curve_clients is not None:
                from zmq.auth.thread import ThreadAuthenticator

                self._auth = ThreadAuthenticator(self._ctx)
                self._auth.start()
                self._auth.configure_curve_callback("*", _AllowList(curve_clients))
            sock.curve_secretkey = secret
            sock.curve_publickey = zmq.curve_public(secret)
            sock.curve_server = True
        try:
            sock.bind(url)
        except zmq.ZMQError as e:
            sock.close()
            self._stop_auth()
            self._ctx.term()
            raise OSError(f"cannot bind ZeroMQ PUB on {url}: {e}") from None
        self.endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._sock = sock
        self._q: deque[list[dict[str, Any]]] = deque()
        self._size = queue_size
        self._cond = threading.Condition()
        self._stopping = False
        self.sent = 0
        self.skipped = 0  # not allowed on ZeroMQ by TLP or group
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="cif-zmq-pub", daemon=True)
        self._thread.start()

    def on_batch(self, batch: list[dict[str, Any]]) -> None:
        """Bus handler: queue and return at once."""
        with self._cond:
            self._q.append(batch)
            while len(self._q) > self._size:
                self.dropped += len(self._q.popleft())
            self._cond.notify()

    def allowed(self, ind: dict[str, Any]) -> bool:
        if ind.get("tlp") not in self.tlps:
            return False
        return self.groups is None or ind.get("group") in self.groups

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._q and not self._stopping:
                    self._cond.wait()
                if not self._q:
                    break
                batch = self._q.popleft()
            for ind in batch:
                if not self.allowed(ind):
                    self.skipped += 1
                    continue
                try:
                    self._sock.send_multipart([topic_of(ind), orjson.dumps(ind)], flags=zmq.NOBLOCK)
                    self.sent += 1
                except zmq.Again:
                    self.dropped += 1
                except zmq.ZMQError:
                    log.exception("ZeroMQ send failed")
                    self.dropped += 1
        self._sock.close(linger=0)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout=10)
        self._stop_auth()
        self._ctx.term()

    def _stop_auth(self) -> None:
        if self._auth is not None:
            self._auth.stop()
            self._auth = None

    def stats(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "sent": self.sent,
            "skipped_by_policy": self.skipped,
            "dropped": self.dropped,
            "queued_batches": len(self._q),
        }
