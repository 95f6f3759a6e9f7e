"""A real HTTP receiver on 127.0.0.1 that checks signatures and can be told to misbehave."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from cif.stream.webhooks import verify


@dataclass
class Receiver:
    """Counts deliveries; ``fail`` answers 500 that many times, ``status`` overrides the answer."""

    secret: str = "s3cret"
    fail: int = 0
    status: int | None = None
    retry_after: str | None = None
    fail_status: int = 500
    hang: float = 0.0  # seconds the next ``hangs`` requests sleep before answering
    hangs: int = 0
    delay: float = 0.0
    calls: int = 0
    bad_signatures: int = 0
    ok: list[dict[str, Any]] = field(default_factory=list)
    seen: list[tuple[float, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def ids(self) -> set[str]:
        """Delivery ids answered 200."""
        with self.lock:
            return {h["x-cif-delivery"] for h in self.headers}

    def indicators(self) -> list[str]:
        with self.lock:
            return [i["indicator"] for b in self.ok for i in b.get("indicators", [])]

    def wait(self, cond: Any, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < end, "timed out waiting for deliveries"
            time.sleep(0.02)


def _handler(rx: Receiver) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with rx.lock:
                rx.calls += 1
                rx.seen.append((time.monotonic(), self.headers.get("x-cif-delivery", "")))
                failing = rx.fail > 0
                if failing:
                    rx.fail -= 1
                hang = rx.hangs > 0
                if hang:
                    rx.hangs -= 1
            if hang:
                time.sleep(rx.hang)
            if rx.delay:
                time.sleep(rx.delay)
            if not verify(rx.secret, body, self.headers.get("x-cif-signature", "")):
                with rx.lock:
                    rx.bad_signatures += 1
                self.send_response(401)
                self.end_headers()
                return
            status = rx.status or (rx.fail_status if failing else 200)
            if status == 200:
                with rx.lock:
                    rx.ok.append(orjson.loads(body))
                    rx.headers.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            if rx.retry_after and status != 200:
                self.send_header("Retry-After", rx.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return H


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rx))
    srv.daemon_threads = True
    rx.url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
    t = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    t.start()
    yield rx
    srv.shutdown()
    srv.server_close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "cif.sqlite3")
    return str(request.getfixturevalue("pg_url"))
