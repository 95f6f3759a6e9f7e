"""cif sync's core against a real platform: resync, stream adds, reload, outage, shrink guard."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from cif.stream.sync import (
    Artifact,
    SSEFollower,
    Syncer,
    SyncOptions,
    api_fetch,
    count_entries,
    format_renderer,
)

from .conftest import Live


def wait_until(cond, timeout: float = 8) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.05)


def reload_cmd(log: Path) -> str:
    code = f"open({str(log)!r}, 'a').write('reloaded\\n')"
    return f'{sys.executable} -c "{code}"'


def test_sync_starts_from_the_platform_then_follows_the_stream(live: Live, tmp_path: Path):
    live.submit(
        live.writer,
        [{"indicator": f"45.33.32.{i}", "confidence": 95} for i in range(1, 4)]
        + [
            {"indicator": "example.com", "confidence": 90},
            {"indicator": "45.33.32.9", "confidence": 10},
        ],
    )
    out, log = tmp_path / "block.txt", tmp_path / "reloads.log"
    params = {"itype": "ipv4", "confidence": 50}
    # The floor applies to the effective confidence: 95 from one provider of default
    # reliability (0.6) is 57, above 50; 10 and 5 are far below.
    opts = SyncOptions(out=out, reload=reload_cmd(log), debounce=0.2, confidence=50)
    syncer = Syncer(
        Artifact(format_renderer("plain"), opts),
        api_fetch(live.url, live.reader, params),
        SSEFollower(live.url, live.reader, params),
    )
    stop = threading.Event()
    t = threading.Thread(target=syncer.run, args=(stop,), daemon=True)
    t.start()
    try:
        wait_until(lambda: out.exists() and syncer.follower.connected.is_set())
        assert out.read_text().split() == ["45.33.32.1", "45.33.32.2", "45.33.32.3"]
        live.submit(
            live.writer,
            [
                {"indicator": "93.184.216.7", "confidence": 95},
                {"indicator": "93.184.216.8", "confidence": 5},
                {"indicator": "8.8.8.8", "confidence": 95},
                {"indicator": "10.9.8.7", "confidence": 95},
            ],
        )
        wait_until(lambda: "93.184.216.7" in out.read_text())
        text = out.read_text()
        assert "93.184.216.8" not in text
        assert "8.8.8.8" not in text and "10.9.8.7" not in text  # guards apply to stream adds
        wait_until(lambda: log.exists() and log.read_text().count("reloaded") >= 2)
    finally:
        stop.set()
        t.join(5)
    assert not list(tmp_path.glob(".block.txt.*")), "no temp files left behind"


def test_an_outage_keeps_the_last_good_file(tmp_path: Path):
    out = tmp_path / "block.txt"
    out.write_text("45.33.32.1\n45.33.32.2\n")
    syncer = Syncer(
        Artifact(format_renderer("plain"), SyncOptions(out=out)),
        api_fetch("http://127.0.0.1:9", "cif_x", {"itype": "ipv4"}),
    )
    assert syncer.once() is False
    assert out.read_text() == "45.33.32.1\n45.33.32.2\n"
    assert "cannot fetch" in syncer.errors[-1]


def test_the_shrink_guard_refuses_a_collapse_unless_allowed(tmp_path: Path):
    out = tmp_path / "block.txt"
    out.write_text("".join(f"10.{i // 256}.{i % 256}.1\n" for i in range(1000)))
    few = [{"indicator": "45.33.32.1"}]
    guarded = Syncer(Artifact(format_renderer("plain"), SyncOptions(out=out)), lambda: few)
    assert guarded.once() is False and count_entries(out) == 1000
    assert "refusing to shrink" in guarded.errors[-1] and "1000 to 1" in guarded.errors[-1]
    # a moderate shrink (within max_shrink) is fine
    many = [{"indicator": f"198.51.{i // 256}.{i % 256}"} for i in range(600)]
    assert Syncer(Artifact(format_renderer("plain"), SyncOptions(out=out)), lambda: many).once()
    assert count_entries(out) == 600
    allowed = Syncer(
        Artifact(format_renderer("plain"), SyncOptions(out=out, allow_shrink=True)), lambda: few
    )
    assert allowed.once() and out.read_text().split() == ["45.33.32.1"]
