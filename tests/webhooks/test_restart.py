"""Nothing is lost when a worker stops or dies mid-way: a new one delivers the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from cif.store.outbox import WebhookRecord, open_outbox

from .conftest import Receiver
from .test_delivery import ind, run

N = 40


def test_a_stopped_worker_leaves_the_rest_to_the_next(store_url: str, receiver: Receiver) -> None:
    box = open_outbox(store_url)
    try:
        h = box.webhook_add(WebhookRecord(url=receiver.url, secret=receiver.secret))
        receiver.delay = 0.05
        first = run(store_url, None, max_batch=1, concurrency=2)
        first.on_batch([ind(i) for i in range(N)])  # N deliveries in the outbox
        receiver.wait(lambda: len(receiver.ok) >= 4)
        first.stop()  # graceful: in-flight ones finish or are given back
        done = len(receiver.ids())
        assert done < N
        assert box.counts(h.id)["delivering"] == 0
        second = run(store_url, None, max_batch=1, concurrency=4)
        try:
            receiver.wait(lambda: len(receiver.ids()) == N)
        finally:
            second.stop()
        assert receiver.bad_signatures == 0
        assert sorted(set(receiver.indicators())) == sorted(f"203.0.113.{i}" for i in range(N))
        assert box.counts(h.id)["done"] == N
    finally:
        box.close()


WORKER = textwrap.dedent("""
    import sys, time
    from cif.stream.webhooks import start_webhooks
    w = start_webhooks(sys.argv[1], None, allow_private=True, max_batch=1, concurrency=2,
                       poll=0.05, timeout=5, lease=1.0, backoff=0.05)
    print("up", flush=True)
    time.sleep(60)
""")


def test_a_killed_worker_loses_nothing(tmp_path, receiver: Receiver) -> None:
    url = str(tmp_path / "cif.sqlite3")
    box = open_outbox(url)
    try:
        h = box.webhook_add(WebhookRecord(url=receiver.url, secret=receiver.secret))
        receiver.delay = 0.1
        enq = run(url, None, max_batch=1, concurrency=1)
        enq.stop()  # only its outbox is needed: enqueue without delivering
        items = enq.plan([h], [ind(i) for i in range(N)])
        box.enqueue(items)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        p = subprocess.Popen([sys.executable, "-c", WORKER, url], stdout=subprocess.PIPE, env=env)
        try:
            assert p.stdout is not None and p.stdout.readline().strip() == b"up"
            receiver.wait(lambda: len(receiver.ok) >= 3, 20)
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        assert len(receiver.ids()) < N
        assert box.counts(h.id)["delivering"] > 0  # claimed by the dead worker, leased
        second = run(url, None, max_batch=1, concurrency=4)
        try:
            receiver.wait(lambda: len(receiver.ids()) == N, 15)
        finally:
            second.stop()
        assert box.counts(h.id)["done"] == N
    finally:
        box.close()
