"""`cif fm run` into a real SQLite store, `cif fm status`, and the scheduler."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from typer.testing import CliRunner

from cif.cli import app
from cif.ingest import FeedScheduler, feed_status
from cif.pipeline import Pipeline
from cif.store import open_store

from .conftest import FIXTURES


def test_dry_run_prints_json_lines(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "fm",
            "run",
            "spamhaus",
            "--feed",
            "drop",
            "--remote",
            str(FIXTURES / "spamhaus_drop.txt"),
            "--dry-run",
            "--limit",
            "2",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert [r["indicator"] for r in rows] == ["1.10.16.0/20", "1.19.0.0/16"]
    assert rows[0]["provider"] == "spamhaus.org" and rows[0]["itype"] == "ipv4_cidr"
    assert not (tmp_path / "cif.sqlite3").exists()


def test_run_stores_through_pipeline_and_status(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "fm",
            "run",
            str(FIXTURES / "smrt_sans.yml"),
            "--feed",
            "block",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    store = open_store(str(tmp_path / "cif.sqlite3"))
    assert store.count() == 2
    store.close()
    rows = feed_status(tmp_path)
    assert rows[0]["feed"] == "smrt_sans/block" and rows[0]["counts"]["accepted"] == 2
    assert rows[0]["counts"]["bad"] == 1 and rows[0]["last_success"]
    st = runner.invoke(app, ["fm", "status", "--json", "--data-dir", str(tmp_path)])
    assert json.loads(st.output)[0]["feed"] == "smrt_sans/block"


def test_run_reports_dead_feed_and_fails(tmp_path: Path) -> None:
    rule = tmp_path / "dead.yml"
    rule.write_text(f"feeds:\n  a:\n    remote: {tmp_path / 'missing.txt'}\n")
    res = CliRunner().invoke(app, ["fm", "run", str(rule), "--data-dir", str(tmp_path)])
    assert res.exit_code == 1
    assert feed_status(tmp_path)[0]["error"].startswith("fetch failed")


def test_scheduler_runs_good_feeds_despite_flaky_and_broken(tmp_path: Path, http_server) -> None:
    def get(h: BaseHTTPRequestHandler) -> None:
        h.send_response(503)
        h.end_headers()

    flaky_url = http_server(get)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "good.yml").write_text(
        f"feeds:\n  ips:\n    remote: {FIXTURES / 'ci-badguys.txt'}\n    interval: 1s\n"
        "    defaults: {provider: example.org, tags: scanner}\n"
    )
    (rules / "flaky.yml").write_text(
        f"feeds:\n  down:\n    remote: {flaky_url}/x\n    interval: 1s\n"
    )
    (rules / "broken.yml").write_text("feeds:\n  a:\n    remote: x.txt\n    parser: nope\n")
    store = open_store(str(tmp_path / "cif.sqlite3"))
    sched = FeedScheduler(
        Pipeline(store),
        sorted(rules.glob("*.yml")),
        tmp_path,
        allow_private=True,
        first_run_spread=0.0,
    )
    sched.fetcher.retries = 0
    sched.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            st = {r["feed"]: r for r in feed_status(tmp_path)}
            if "good/ips" in st and "flaky/down" in st and st["flaky/down"].get("failures", 0) >= 2:
                break
            time.sleep(0.1)
    finally:
        sched.stop()
    st = {r["feed"]: r for r in feed_status(tmp_path)}
    assert st["good/ips"]["status"] == "ok" and st["good/ips"]["next_run"]
    assert st["flaky/down"]["status"] == "error" and "503" in st["flaky/down"]["error"]
    assert st["broken/*"]["status"] == "error" and "'parser'" in st["broken/*"]["error"]
    assert store.count() == 3
    store.close()
