"""Running every feed on its interval in background threads, for `cif up`.

Feeds start at a random point of their first interval (jitter), run on a small
thread pool (bounded concurrency), and hand batches to the one pipeline under a
lock. A failing feed is recorded and retried on its next interval; it never
stops the others.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import RuleError
from .fetch import Fetcher
from .health import HealthStore, now_iso
from .rules import FeedRule, bundled_rules, load_rule
from .runner import run_feed

log = logging.getLogger("cif.ingest")


def rule_files(data_dir: str | os.PathLike[str], *, bundled: bool = True) -> list[Path]:
    """The bundled rules plus ``<data_dir>/rules/*.yml`` (a same-named file overrides)."""
    own = {p.name: p for p in sorted(Path(data_dir, "rules").glob("*.y*ml"))}
    out = [p for p in bundled_rules() if p.name not in own] if bundled else []
    return out + list(own.values())


class FeedScheduler:
    """``FeedScheduler(pipeline, rule_paths, data_dir).start()`` ... ``.stop()``."""

    def __init__(
        self,
        pipeline: Any,
        rule_paths: Sequence[str | os.PathLike[str]] | None,
        data_dir: str | os.PathLike[str],
        *,
        allow_private: bool = False,
        workers: int = 2,
        jitter: float = 0.1,
        first_run_spread: float = 60.0,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.data_dir = Path(data_dir)
        self.rule_paths = list(rule_paths) if rule_paths is not None else rule_files(data_dir)
        self.health = HealthStore(data_dir)
        self.fetcher = fetcher or Fetcher(
            self.data_dir / "feeds" / "cache", allow_private=allow_private
        )
        self.workers = max(1, workers)
        self.jitter = jitter
        self.first_run_spread = first_run_spread
        self._submit_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._running: dict[str, Future[Any]] = {}
        self.feeds: list[FeedRule] = []
        self._due: dict[str, float] = {}

    def load(self) -> list[FeedRule]:
        """Load every rule; a broken rule file is recorded in health, the rest still run."""
        feeds: list[FeedRule] = []
        for p in self.rule_paths:
            try:
                feeds.extend(load_rule(p))
            except RuleError as e:
                log.error("rule refused: %s", e)
                self.health.update(
                    f"{Path(p).stem}/*",
                    rule=Path(p).stem,
                    name="*",
                    status="error",
                    error=str(e),
                    error_at=now_iso(),
                )
        self.feeds = feeds
        now = time.monotonic()
        self._due = {
            f.key: now + random.uniform(0, min(self.first_run_spread, f.interval)) for f in feeds
        }
        return feeds

    def submit(self, batch: list[dict[str, Any]], defaults: dict[str, Any]) -> Any:
        """One batch into the pipeline; serialized because feeds run concurrently."""
        with self._submit_lock:
            return self.pipeline.submit(batch, defaults=defaults)

    def run_feed_now(self, feed: FeedRule) -> dict[str, Any]:
        nxt = datetime.now(UTC) + timedelta(seconds=feed.interval)
        return run_feed(
            feed,
            fetcher=self.fetcher,
            submit=self.submit,
            health=self.health,
            next_run=nxt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    def start(self) -> None:
        if self._thread is not None:
            return
        if not self.feeds:
            self.load()
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="cif-feed")
        self._thread = threading.Thread(target=self._loop, name="cif-feeds", daemon=True)
        self._thread.start()
        log.info("feed scheduler started: %d feeds, %d workers", len(self.feeds), self.workers)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop scheduling; running feeds finish their current batch, queued ones are dropped."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _loop(self) -> None:
        by_key = {f.key: f for f in self.feeds}
        while not self._stop.is_set():
            now = time.monotonic()
            for key, due in list(self._due.items()):
                if due > now or (key in self._running and not self._running[key].done()):
                    continue
                feed = by_key[key]
                self._due[key] = now + feed.interval * (
                    1 + random.uniform(-self.jitter, self.jitter)
                )
                assert self._pool is not None
                try:
                    self._running[key] = self._pool.submit(self._safe_run, feed)
                except RuntimeError:  # pool shut down while stopping
                    return
            wait = min(self._due.values(), default=now + 1.0) - time.monotonic()
            self._stop.wait(min(max(wait, 0.05), 1.0))

    def _safe_run(self, feed: FeedRule) -> None:
        if self._stop.is_set():
            return
        try:
            self.run_feed_now(feed)
        except Exception:  # run_feed records its own failures; this is the last guard
            log.exception("feed %s crashed", feed.key)
