"""A ZeroMQ SUB client for the platform's PUB output (what `cif stream` runs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import zmq

from .filters import StreamFilter
from .topic import prefixes


class ZmqSubscriber:
    """Subscribes by itype prefix on the server side, applies the rest of the filter here.

    With ``server_key`` (the server's CURVE public key) the connection is encrypted;
    ``client_secret`` is this client's CURVE secret key (a fresh one is made if absent).
    """

    def __init__(
        self,
        url: str,
        filt: StreamFilter | None = None,
        *,
        server_key: bytes | str | None = None,
        client_secret: bytes | str | None = None,
        hwm: int = 100_000,
    ) -> None:
        self.filter = filt or StreamFilter()
        self._ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
        sock = self._ctx.socket(zmq.SUB)
        sock.setsockopt(zmq.RCVHWM, hwm)
        sock.setsockopt(zmq.LINGER, 0)
        if server_key:
            if client_secret:
                secret = client_secret.encode() if isinstance(client_secret, str) else client_secret
                public = zmq.curve_public(secret)
            else:
                public, secret = zmq.curve_keypair()
            sock.curve_secretkey = secret
            sock.curve_publickey = public
            sock.curve_serverkey = (
                server_key.encode() if isinstance(server_key, str) else server_key
            )
        for p in prefixes(self.filter.itypes):
            sock.setsockopt(zmq.SUBSCRIBE, p)
        sock.connect(url)
        self._sock = sock

    def recv(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next matching indicator, or None when ``timeout`` seconds pass without one."""
        ms = None if timeout is None else int(timeout * 1000)
        while True:
            if not self._sock.poll(ms):
                return None
            _topic, data = self._sock.recv_multipart()
            ind = orjson.loads(data)
            if self.filter.matches(ind):
                return ind

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            ind = self.recv()
            if ind is not None:
                yield ind

    def close(self) -> None:
        self._sock.close(linger=0)
