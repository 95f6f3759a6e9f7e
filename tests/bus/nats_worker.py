"""A separate process for the NATS bus test: `sub STREAM N` or `pub STREAM NAME N`.

A subscriber prints READY, then one JSON line with the indicators it received once it
has N of them (or its time is up). A publisher publishes N indicators in small batches
through the pipeline, then stops the bus, which sends everything queued.
"""

from __future__ import annotations

import sys
import threading
import time

import orjson

from cif.bus.nats import NatsBus
from cif.pipeline import Pipeline

URL = "nats://127.0.0.1:4222"


class NullSink:
    def upsert(self, indicators):
        return None


def sub(stream: str, n: int) -> None:
    bus = NatsBus(URL, stream=stream, subject=f"{stream}.ind")
    got: list[str] = []
    done = threading.Event()

    def handler(batch):
        got.extend(i["indicator"] for i in batch)
        if len(got) >= n:
            done.set()

    bus.subscribe(handler)
    bus.start()
    print("READY", flush=True)
    done.wait(30)
    time.sleep(0.3)  # a duplicate would arrive here
    bus.stop()
    print(orjson.dumps(got).decode(), flush=True)


def pub(stream: str, name: str, n: int) -> None:
    bus = NatsBus(URL, stream=stream, subject=f"{stream}.ind")
    bus.start()
    pipe = Pipeline(NullSink(), bus, batch_size=37)
    pipe.submit({"indicator": f"{name}-{i}.example.com", "tags": "test"} for i in range(n))
    bus.stop()
    print(orjson.dumps(bus.stats()).decode(), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "sub":
        sub(sys.argv[2], int(sys.argv[3]))
    else:
        pub(sys.argv[2], sys.argv[3], int(sys.argv[4]))
