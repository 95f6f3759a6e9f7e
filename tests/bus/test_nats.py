"""The NATS bus against the real server: two publisher and two subscriber processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest

from cif.bus.nats import NatsBus, delete_stream
from cif.indicator import Indicator

pytestmark = pytest.mark.nats
WORKER = str(Path(__file__).with_name("nats_worker.py"))


@pytest.fixture
def stream(nats_url: str):
    name = "CIFTEST_" + uuid.uuid4().hex[:10].upper()
    yield name
    try:
        asyncio.run(delete_stream(nats_url, name))
    except Exception:
        pass


def test_two_publishers_two_subscribers_every_message_exactly_once(stream: str):
    per = 400
    subs = [
        subprocess.Popen(
            [sys.executable, WORKER, "sub", stream, str(2 * per)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        # The stream must exist before a subscriber binds; the first one creates it.
        for p in subs:
            assert p.stdout.readline().strip() == "READY"
        pubs = [
            subprocess.Popen(
                [sys.executable, WORKER, "pub", stream, name, str(per)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for name in ("a", "b")
        ]
        for p in pubs:
            out, _ = p.communicate(timeout=60)
            stats = orjson.loads(out.strip().splitlines()[-1])
            assert stats["published"] == per and stats["dropped"] == 0 and stats["failed"] == 0
        expected = {f"{n}-{i}.example.com" for n in ("a", "b") for i in range(per)}
        for p in subs:
            out, _ = p.communicate(timeout=60)
            got = orjson.loads(out.strip().splitlines()[-1])
            assert len(got) == len(expected), "every subscriber sees every message once"
            assert set(got) == expected
            # each publisher's indicators arrive in the order it published them
            for n in ("a", "b"):
                mine = [g for g in got if g.startswith(n + "-")]
                assert mine == [f"{n}-{i}.example.com" for i in range(per)]
    finally:
        for p in subs:
            if p.poll() is None:
                p.kill()


def test_in_one_process_a_subscriber_hears_its_own_publishes(nats_url: str, stream: str):
    bus = NatsBus(nats_url, stream=stream, subject=f"{stream}.ind")
    got: list[dict] = []
    bus.start()
    try:
        bus.subscribe(got.extend)  # subscribing after start works too
        bus.publish([Indicator.from_dict({"indicator": "192.0.2.9", "tlp": "green"})])
        end = time.monotonic() + 10
        while not got and time.monotonic() < end:
            time.sleep(0.01)
    finally:
        bus.stop()
    assert [g["indicator"] for g in got] == ["192.0.2.9"] and got[0]["tlp"] == "green"
    assert bus.stats()["received"] == 1


def test_an_unreachable_server_is_a_clear_error():
    bus = NatsBus("nats://127.0.0.1:1", connect_timeout=0.5)
    with pytest.raises(ConnectionError, match="127.0.0.1:1"):
        bus.start()
