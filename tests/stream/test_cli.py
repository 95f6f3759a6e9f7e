"""`cif stream` and `cif sync --once` as a user runs them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson
from typer.testing import CliRunner

from cif.cli import app
from cif.stream.zmq_pub import ZmqPublisher

from .conftest import Live


def test_cif_stream_prints_json_lines_with_filters():
    pub = ZmqPublisher("tcp://127.0.0.1:*")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cif",
            "stream",
            "--zmq",
            pub.endpoint,
            "--itype",
            "ipv4",
            "--tags",
            "botnet",
            "--format",
            "jsonl",
            "--count",
            "2",
            "--timeout",
            "10",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base = {
            "itype": "ipv4",
            "confidence": 50.0,
            "group": "everyone",
            "tlp": "green",
            "provider": "p",
        }
        end = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < end:
            pub.on_batch(
                [
                    {**base, "indicator": "example.com", "itype": "fqdn", "tags": ["botnet"]},
                    {**base, "indicator": "192.0.2.1", "tags": ["scanner"]},
                    {**base, "indicator": "192.0.2.2", "tags": ["botnet"]},
                ]
            )
            time.sleep(0.05)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        pub.stop()
    lines = [orjson.loads(x) for x in out.splitlines()]
    assert proc.returncode == 0 and len(lines) == 2
    assert {x["indicator"] for x in lines} == {"192.0.2.2"}


def test_cif_sync_once_writes_the_artifact(live: Live, tmp_path: Path):
    live.submit(live.writer, [{"indicator": "45.33.32.5"}, {"indicator": "example.com"}])
    out = tmp_path / "ipv4.txt"
    r = CliRunner().invoke(
        app,
        [
            "sync",
            "--itype",
            "ipv4",
            "--out",
            str(out),
            "--once",
            "--remote",
            live.url,
            "--token",
            live.reader,
        ],
    )
    assert r.exit_code == 0, r.output
    assert out.read_text().split() == ["45.33.32.5"]
    bad = CliRunner().invoke(
        app,
        [
            "sync",
            "--itype",
            "ipv4",
            "--out",
            str(out),
            "--once",
            "--remote",
            "http://127.0.0.1:9",
            "--token",
            live.reader,
        ],
    )
    assert bad.exit_code == 1 and out.read_text().split() == ["45.33.32.5"]
