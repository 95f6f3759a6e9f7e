"""A real platform on loopback: SQLite store, in-process bus, uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from cif.api.app import create_app
from cif.pipeline import Pipeline
from cif.runtime import issue_token
from cif.store import Store, open_store
from cif.stream import Hub, Realtime, start_realtime


@dataclass
class Live:
    url: str
    store: Store
    rt: Realtime
    admin: str
    reader: str
    partner: str
    writer: str

    def submit(self, token: str, records: list[dict]) -> dict:
        r = httpx.post(
            f"{self.url}/indicators",
            json=records,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return r.json()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(tmp_path) -> Iterator[Live]:
    store = open_store(str(tmp_path / "cif.sqlite3"))
    admin, _ = issue_token(store, "root", admin=True)
    reader, _ = issue_token(store, "alice", read=True, groups=["everyone"])
    partner, _ = issue_token(store, "pat", read=True, groups=["partners"])
    writer, _ = issue_token(store, "bob", write=True, read=True, groups=["everyone", "partners"])
    rt = start_realtime(hub=Hub(heartbeat=0.2, replay=1000))
    app = create_app(store, pipeline=Pipeline(store, rt.bus))
    rt.attach(app)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
        )
    )
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    end = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < end, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Live(f"http://127.0.0.1:{port}", store, rt, admin, reader, partner, writer)
    finally:
        server.should_exit = True
        t.join(10)
        rt.stop()
        store.close()
