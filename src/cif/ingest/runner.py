"""Running one feed: fetch, parse, shape, hand batches to the pipeline, record health.

Nothing here writes to the store: ``submit`` is the pipeline (or a dry-run printer).
Any failure is caught, recorded in the feed's health and returned, so one feed
can never break another.
"""

from __future__ import annotations

import gzip
import logging
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from .content import DEFAULT_MAX_DECOMPRESSED, TooLarge
from .errors import FetchError
from .fetch import Fetcher
from .health import HealthStore, RunStats, now_iso
from .parsers import Bad, get_parser
from .records import Shaper
from .rules import FeedRule

log = logging.getLogger("cif.ingest")
DEFAULT_BATCH = 5000
# submit(batch, defaults) -> an object with accepted, rejected and errors (cif.pipeline.Result);
# defaults are the rule's values for fields a record leaves empty.
Submit = Callable[[list[dict[str, Any]], dict[str, Any]], Any]
Progress = Callable[[str, int], None]
_PARSE_ERRORS = (
    TooLarge,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    ValueError,
    gzip.BadGzipFile,
    UnicodeError,
)


def iter_records(
    rule: FeedRule,
    path: Path,
    stats: RunStats,
    *,
    limit: int | None = None,
    max_bytes: int = DEFAULT_MAX_DECOMPRESSED,
    shape: Shaper | None = None,
) -> Iterator[dict[str, Any]]:
    """Shaped records of a body file; bad lines are counted and sampled into ``stats``.

    The records hold only what each line says; the rule's defaults are
    ``Shaper(rule).defaults``, which go with every batch to the pipeline.
    """
    shape = shape or Shaper(rule)
    limit = limit if limit is not None else rule.limit
    for item in get_parser(rule.parser)(path, rule, max_bytes):
        if isinstance(item, Bad):
            stats.bad += 1
            stats.sample(item.line, item.text, item.reason)
            continue
        stats.parsed += 1
        yield shape(item)
        if limit is not None and stats.parsed >= limit:
            return


def run_feed(
    rule: FeedRule,
    *,
    fetcher: Fetcher,
    submit: Submit,
    health: HealthStore | None = None,
    remote: str | None = None,
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    force: bool = False,
    progress: Progress | None = None,
    next_run: str | None = None,
) -> dict[str, Any]:
    """Run one feed once; returns its health record (also saved when ``health`` is given)."""
    stats = RunStats()
    started = now_iso()
    t0 = time.monotonic()
    rec: dict[str, Any] = {
        "rule": rule.rule,
        "name": rule.name,
        "remote": remote or rule.remote,
        "interval": rule.interval,
        "last_run": started,
    }
    if next_run:
        rec["next_run"] = next_run
    try:
        got = fetcher.fetch(rule, remote)
        stats.fetched_bytes = got.size
        if not got.changed and not force:
            rec.update(status="not_modified", last_success=now_iso(), error=None)
        else:
            shape = Shaper(rule)
            records = iter_records(rule, got.path, stats, limit=limit, shape=shape)
            while True:
                batch = list(islice(records, batch_size))
                if not batch:
                    break
                res = submit(batch, shape.defaults)
                stats.accepted += res.accepted
                stats.rejected += res.rejected
                for e in res.errors[: max(0, 10 - len(stats.samples))]:
                    stats.sample(None, e.input, e.error)
                if progress is not None:
                    progress(rule.key, stats.parsed)
            rec.update(status="ok", last_success=now_iso(), error=None)
    except FetchError as e:
        rec.update(status="error", error=f"fetch failed: {e}", error_at=now_iso())
    except _PARSE_ERRORS as e:
        rec.update(
            status="error",
            error=f"read failed after {stats.parsed} records: {e}",
            error_at=now_iso(),
        )
    except Exception as e:  # a broken feed or store must not stop the other feeds
        log.exception("feed %s failed", rule.key)
        rec.update(status="error", error=f"{type(e).__name__}: {e}", error_at=now_iso())
    rec["seconds"] = round(time.monotonic() - t0, 3)
    rec["counts"] = {k: v for k, v in stats.to_dict().items() if k != "samples"}
    rec["samples"] = stats.samples
    if rec["status"] == "error":
        log.warning("feed=%s status=error error=%r", rule.key, rec["error"])
    else:
        log.info(
            "feed=%s status=%s parsed=%d accepted=%d rejected=%d bad=%d",
            rule.key,
            rec["status"],
            stats.parsed,
            stats.accepted,
            stats.rejected,
            stats.bad,
        )
    if health is not None:
        if rec["status"] == "error":
            prev = health.load().get(rule.key, {})
            rec["failures"] = int(prev.get("failures", 0)) + 1
        else:
            rec["failures"] = 0
        return health.update(rule.key, **rec)
    return rec
