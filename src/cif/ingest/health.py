"""Per-feed health: last run, last success, counts, sampled errors, next run.

Kept in ``<data_dir>/feeds/health.json``, written atomically (temp file + rename)
so a reader never sees half a file and a crash never loses the previous record.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MAX_SAMPLES = 10


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def health_path(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / "feeds" / "health.json"


@dataclass(slots=True)
class RunStats:
    """Counts of one run of one feed."""

    fetched_bytes: int = 0
    parsed: int = 0
    bad: int = 0
    accepted: int = 0
    rejected: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)

    def sample(self, line: int | None, text: Any, reason: str) -> None:
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append({"line": line, "input": str(text)[:200], "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class HealthStore:
    """Thread-safe read-modify-write of the health file."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = health_path(data_dir)
        self._lock = threading.Lock()

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def update(self, key: str, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into the feed's record and save; returns the record."""
        with self._lock:
            data = self.load()
            rec = data.get(key) or {"feed": key}
            rec.update(fields)
            data[key] = rec
            self._save(data)
            return rec

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".health-")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def feed_status(data_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every feed's health record, sorted by ``rule/feed`` (for `cif fm status` and the API)."""
    data = HealthStore(data_dir).load()
    return [data[k] for k in sorted(data) if isinstance(data[k], dict)]
