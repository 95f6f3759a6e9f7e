"""SSE and WebSocket against a real uvicorn server, fed by real submits."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import orjson
import pytest
import websockets

from .conftest import Live


class SSEReader:
    """Reads an SSE response in a thread and collects parsed events."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.events: list[dict] = []
        self.comments = 0
        self.status: int | None = None
        self._ready = threading.Event()
        self._stop = False
        self._t = threading.Thread(target=self._run, args=(url, headers or {}), daemon=True)
        self._t.start()
        assert self._ready.wait(5)

    def _run(self, url: str, headers: dict[str, str]) -> None:
        with httpx.Client(timeout=10) as c, c.stream("GET", url, headers=headers) as r:
            self.status = r.status_code
            self._ready.set()
            if r.status_code != 200:
                return
            cur: dict = {}
            for line in r.iter_lines():
                if self._stop:
                    return
                if line.startswith(":"):
                    self.comments += 1
                elif line == "":
                    if "data" in cur:
                        self.events.append(cur)
                    cur = {}
                else:
                    k, _, v = line.partition(": ")
                    cur[k] = v

    def wait(self, n: int, timeout: float = 5) -> list[dict]:
        end = time.monotonic() + timeout
        while len([e for e in self.events if e.get("event") == "indicator"]) < n:
            assert time.monotonic() < end, f"only {len(self.events)} events: {self.events}"
            time.sleep(0.02)
        return [e for e in self.events if e.get("event") == "indicator"]

    def close(self) -> None:
        self._stop = True


def recs() -> list[dict]:
    return [
        {"indicator": "198.51.100.10", "tags": "scanner", "confidence": 80},
        {"indicator": "phish.example.com", "tags": "phishing", "confidence": 90},
        {"indicator": "198.51.100.11", "tags": "scanner", "confidence": 20},
        {"indicator": "198.51.100.12", "tags": "botnet", "group": "partners", "tlp": "red"},
        {"indicator": "198.51.100.13", "tags": "scanner", "confidence": 70},
    ]


def test_sse_filters_groups_tlp_heartbeats_and_replay(live: Live):
    h = {"Authorization": f"Bearer {live.reader}"}
    mine = SSEReader(f"{live.url}/stream/sse?itype=ipv4&confidence=50", h)
    partner = SSEReader(f"{live.url}/stream/sse?token={live.partner}")
    admin = SSEReader(f"{live.url}/stream/sse", {"Authorization": f"Bearer {live.admin}"})
    time.sleep(0.1)
    assert live.submit(live.writer, recs())["accepted"] == 5
    got = mine.wait(2)
    assert [orjson.loads(e["data"])["indicator"] for e in got] == ["198.51.100.10", "198.51.100.13"]
    assert [orjson.loads(e["data"])["indicator"] for e in partner.wait(1)] == ["198.51.100.12"]
    # the admin sees every group but not TLP red of a group it is not in
    assert len(admin.wait(4)) == 4
    time.sleep(0.5)
    assert mine.comments >= 1, "heartbeats while idle"
    ids = [int(e["id"]) for e in admin.events if e.get("event") == "indicator"]
    assert ids == sorted(ids) and len(set(ids)) == 4
    for r in (mine, partner, admin):
        r.close()

    # reconnect after the first event: the rest is replayed, in order, then live ones follow
    again = SSEReader(f"{live.url}/stream/sse?itype=ipv4", {**h, "Last-Event-ID": got[0]["id"]})
    replayed = again.wait(2)
    assert [orjson.loads(e["data"])["indicator"] for e in replayed] == [
        "198.51.100.11",
        "198.51.100.13",
    ]
    live.submit(live.writer, [{"indicator": "198.51.100.14"}])
    assert orjson.loads(again.wait(3)[-1]["data"])["indicator"] == "198.51.100.14"
    again.close()

    # a Last-Event-ID older than the ring gets a gap notice
    old = SSEReader(f"{live.url}/stream/sse", {**h, "Last-Event-ID": "1"})
    end = time.monotonic() + 5
    while not any(e.get("event") == "gap" for e in old.events):
        assert time.monotonic() < end
        time.sleep(0.02)
    old.close()


def test_sse_refuses_without_a_good_token_or_with_a_bad_filter(live: Live):
    assert httpx.get(f"{live.url}/stream/sse").status_code == 401
    assert httpx.get(f"{live.url}/stream/sse?token=cif_nope").status_code == 401
    r = httpx.get(
        f"{live.url}/stream/sse?confidence=high", headers={"Authorization": f"Bearer {live.reader}"}
    )
    assert r.status_code == 400 and "high" in r.text
    # a token that may only write cannot stream
    from cif.runtime import issue_token

    wo, _ = issue_token(live.store, "w", write=True)
    assert httpx.get(f"{live.url}/stream/sse?token={wo}").status_code == 401


def test_websocket_lines_heartbeats_rights_and_stats(live: Live):
    ws_url = live.url.replace("http://", "ws://") + "/stream/ws"

    async def main() -> list[dict]:
        async with websockets.connect(
            f"{ws_url}?tags=scanner,botnet",
            additional_headers={"Authorization": f"Bearer {live.reader}"},
        ) as ws:
            await asyncio.sleep(0.1)
            await asyncio.to_thread(live.submit, live.writer, recs())
            out: list[dict] = []
            end = time.monotonic() + 5
            while time.monotonic() < end and not any(m["type"] == "heartbeat" for m in out):
                msg = await asyncio.wait_for(ws.recv(), 5)
                out += [orjson.loads(line) for line in msg.splitlines()]
            return out

    msgs = asyncio.run(main())
    inds = [m["indicator"]["indicator"] for m in msgs if m["type"] == "indicator"]
    assert inds == ["198.51.100.10", "198.51.100.11", "198.51.100.13"]
    assert any(m["type"] == "heartbeat" for m in msgs)

    async def refused() -> None:
        async with websockets.connect(f"{ws_url}?token=cif_wrong") as ws:
            await ws.recv()

    with pytest.raises(websockets.exceptions.WebSocketException):
        asyncio.run(refused())

    st = httpx.get(
        f"{live.url}/stream/stats", headers={"Authorization": f"Bearer {live.admin}"}
    ).json()
    assert st["bus"]["published"] >= 5 and st["hub"]["events"] >= 5 and st["hub"]["dropped"] == 0
    assert (
        httpx.get(
            f"{live.url}/stream/stats", headers={"Authorization": f"Bearer {live.reader}"}
        ).status_code
        == 403
    )
