"""Webhooks: indicators published on the bus -> outbox -> signed POSTs to a local receiver.

The receiver runs in a child process (a threading HTTP server that checks every
signature), so it does not share the worker's interpreter. Each run publishes N
indicators on the in-process bus in batches of 500 and waits until the receiver has
acknowledged them all: deliveries/s and indicators/s are end to end, outbox writes,
claims and result bookkeeping included. Scale with CIF_BENCH_WEBHOOK_N.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from common import WORK, table, write_section

N = int(os.environ.get("CIF_BENCH_WEBHOOK_N", "20000"))
PG_URL = "postgresql://127.0.0.1:5432/test"
SECRET = "bench-secret-0123456789"


def receiver(port: int, deliveries: Any, indicators: Any, bad: Any) -> None:
    import orjson

    from cif.stream.webhooks import verify

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if not verify(SECRET, body, self.headers.get("x-cif-signature", "")):
                with bad.get_lock():
                    bad.value += 1
            n = orjson.loads(body)["count"]
            with deliveries.get_lock():
                deliveries.value += 1
                indicators.value += n
            self.send_response(204)
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    srv.daemon_threads = True
    srv.serve_forever()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_schema() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=2) as c:
            c.execute('DROP SCHEMA IF EXISTS "bench_webhooks" CASCADE')
            c.execute('CREATE SCHEMA "bench_webhooks"')
        return f"{PG_URL}?options=-csearch_path%3Dbench_webhooks"
    except Exception:  # noqa: BLE001  no PostgreSQL here: the row is skipped
        return None


def one(store_url: str, n: int, max_batch: int, concurrency: int) -> list[object]:
    from cif.bus import InProcessBus
    from cif.store.outbox import WebhookRecord, open_outbox
    from cif.stream.webhooks import start_webhooks

    port = free_port()
    deliveries, indicators, bad = mp.Value("q", 0), mp.Value("q", 0), mp.Value("q", 0)
    rx = mp.Process(target=receiver, args=(port, deliveries, indicators, bad), daemon=True)
    rx.start()
    time.sleep(0.5)
    box = open_outbox(store_url)
    box.webhook_add(WebhookRecord(url=f"http://127.0.0.1:{port}/in", secret=SECRET))
    bus = InProcessBus()
    w = start_webhooks(
        store_url, bus, allow_private=True, max_batch=max_batch, concurrency=concurrency, poll=0.05
    )
    bus.start()
    batch = [
        {
            "indicator": f"198.51.{i // 256 % 256}.{i % 256}",
            "itype": "ipv4",
            "tags": ["scanner"],
            "confidence": 80.0,
            "provider": "bench",
            "group": "everyone",
            "tlp": "amber",
        }
        for i in range(n)
    ]
    t0 = time.perf_counter()
    for k in range(0, n, 500):
        bus.publish(batch[k : k + 500])  # type: ignore[arg-type]
    end = time.monotonic() + 300
    while indicators.value < n and time.monotonic() < end:
        time.sleep(0.01)
    dt = time.perf_counter() - t0
    bus.stop()
    w.stop()
    counts = box.counts()
    box.close()
    rx.terminate()
    rx.join()
    ok = indicators.value == n and bad.value == 0 and counts["done"] == deliveries.value
    backend = "postgresql" if store_url.startswith("postgresql") else "sqlite"
    return [
        backend,
        max_batch,
        concurrency,
        f"{n:,}",
        f"{deliveries.value:,}",
        f"{deliveries.value / dt:,.0f}",
        f"{indicators.value / dt:,.0f}",
        f"{dt:.2f}",
        "yes" if ok else f"NO ({indicators.value} of {n}, {bad.value} bad signatures)",
    ]


def main() -> None:
    rows = []
    for backend in ("sqlite", "postgresql"):
        for n, max_batch in ((N, 100), (max(1, N // 10), 1)):
            if backend == "sqlite":
                d = WORK / "webhooks"
                shutil.rmtree(d, ignore_errors=True)
                d.mkdir(parents=True)
                url: str | None = str(d / "cif.sqlite3")
            else:
                url = pg_schema()
                if url is None:
                    continue
            rows.append(one(url, n, max_batch, 8))
            print(rows[-1], flush=True)
    body = (
        "End to end: publish on the in-process bus, enqueue into the outbox, claim, sign, POST\n"
        "to a receiver in another process on 127.0.0.1 (which checks each signature and answers\n"
        "204), record the result. 8 POSTs in flight.\n\n"
        + table(
            [
                "store",
                "indicators/POST",
                "concurrency",
                "indicators",
                "deliveries",
                "deliveries/s",
                "indicators/s",
                "seconds",
                "all delivered, signatures ok",
            ],
            rows,
        )
    )
    write_section("webhooks", "Webhooks: delivery rate", body)


if __name__ == "__main__":
    main()
