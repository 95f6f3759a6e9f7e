from __future__ import annotations

import threading
import time

from cif.bus import InProcessBus, open_bus
from cif.indicator import Indicator
from cif.pipeline import Pipeline


def ind(value: str, **kw) -> Indicator:
    return Indicator.from_dict({"indicator": value, **kw})


class ListSink:
    def __init__(self) -> None:
        self.items: list[Indicator] = []

    def upsert(self, indicators):
        self.items.extend(indicators)


def wait_for(cond, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.005)


def test_pipeline_publishes_every_accepted_indicator_once_in_order():
    bus = InProcessBus()
    got: list[dict] = []
    bus.subscribe(got.extend)
    bus.start()
    try:
        pipe = Pipeline(ListSink(), bus, batch_size=7)
        res = pipe.submit(
            [{"indicator": f"198.51.100.{i}", "tags": "scanner"} for i in range(50)]
            + [{"indicator": "not an indicator !!"}]
        )
        assert res.accepted == 50 and res.rejected == 1
        wait_for(lambda: len(got) == 50)
        assert [g["indicator"] for g in got] == [f"198.51.100.{i}" for i in range(50)]
        assert got[0]["tags"] == ["scanner"] and got[0]["itype"] == "ipv4"
    finally:
        bus.stop()
    assert bus.stats()["published"] == 50 and bus.stats()["dropped"] == 0


def test_every_handler_sees_every_batch_and_a_failing_handler_hurts_no_one():
    bus = InProcessBus()
    a: list[dict] = []
    b: list[dict] = []

    def broken(batch):
        raise RuntimeError("boom")

    bus.subscribe(a.extend)
    bus.subscribe(broken)
    remove_b = bus.subscribe(b.extend)
    bus.start()
    bus.publish([ind("example.com")])
    wait_for(lambda: len(a) == 1 and len(b) == 1)
    remove_b()
    bus.publish([ind("example.org")])
    wait_for(lambda: len(a) == 2)
    bus.stop()
    assert len(b) == 1
    assert bus.stats()["handler_errors"] == 2


def test_a_stuck_handler_never_blocks_publish_for_long_and_drops_are_counted():
    bus = InProcessBus(queue_size=2, put_wait=0.01)
    release = threading.Event()
    bus.subscribe(lambda batch: release.wait(10))
    bus.start()
    one = [ind("192.0.2.1")]
    started = time.monotonic()
    for _ in range(20):
        bus.publish(one)
    elapsed = time.monotonic() - started
    release.set()
    bus.stop()
    st = bus.stats()
    # 20 publishes with at most 0.01 s wait each: bounded by the put wait, not by the handler.
    assert elapsed < 20 * 0.01 + 2
    assert st["dropped"] >= 17 and st["published"] + st["dropped"] == 20


def test_open_bus_by_url():
    assert isinstance(open_bus(None), InProcessBus)
    assert isinstance(open_bus("memory://"), InProcessBus)
    try:
        open_bus("kafka://x")
    except ValueError as e:
        assert "kafka://x" in str(e)
    else:
        raise AssertionError("a bad bus url must be refused")
