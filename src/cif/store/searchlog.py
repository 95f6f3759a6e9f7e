"""The search log, written in batches off the request path.

Every search is recorded (who looked up what, when), but a write transaction per
search would make each search wait for the store's write lock behind a feed's bulk
upsert. Searches are queued here and a background thread writes them every
``interval`` seconds or ``batch`` entries; ``close`` writes what is left.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import UTC, datetime

from .base import Store

log = logging.getLogger("cif.store")
MAX_QUEUED = 100_000  # beyond this a search is still answered; its log entry is counted as dropped


class SearchLogWriter:
    def __init__(self, store: Store, *, interval: float = 0.5, batch: int = 1000) -> None:
        self.store = store
        self.interval = interval
        self.batch = batch
        self.dropped = 0
        self._q: queue.Queue[tuple[str, str, int, datetime]] = queue.Queue(MAX_QUEUED)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cif-search-log", daemon=True)
        self._thread.start()

    def add(self, username: str, query: str, results: int) -> None:
        try:
            self._q.put_nowait((username, query, int(results), datetime.now(UTC)))
        except queue.Full:
            self.dropped += 1

    def flush(self) -> None:
        """Write everything queued so far (also used by tests and at shutdown)."""
        rows: list[tuple[str, str, int, datetime]] = []
        while True:
            try:
                rows.append(self._q.get_nowait())
            except queue.Empty:
                break
            if len(rows) >= self.batch:
                self._write(rows)
                rows = []
        if rows:
            self._write(rows)

    def _write(self, rows: list[tuple[str, str, int, datetime]]) -> None:
        try:
            self.store.log_searches(rows)
        except Exception:  # the log must never take searches down; say so loudly
            log.exception("could not write %d search log entries", len(rows))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()
