"""`cif sync`: keep one defense artifact (a blocklist, an RPZ zone...) current.

It starts from the platform's current indicators, then applies live adds from the
SSE stream, and rewrites the file atomically (temp file in the same folder, then
rename) at most once per ``debounce`` seconds, running the reload command (no shell)
after each write. A full resync runs at start, every ``resync`` seconds and after the
stream reports a gap, which also brings in expirations.

Safety: when the platform cannot be reached the last good file stays as it is. The
shrink guard refuses a full resync that would cut the file by more than
``max_shrink`` (default 50%) of its entries unless ``allow_shrink`` is set, so an
outage or a broken query never turns thousands of blocks into zero.
"""

from __future__ import annotations

import logging
import os
import queue
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from cif.feeds.whitelist import WHITELIST_TAG
from cif.indicator import Indicator, InvalidIndicator

log = logging.getLogger("cif.sync")

Fetch = Callable[[], list[dict[str, Any]]]
Render = Callable[[list[Indicator]], str | bytes]


class ShrinkRefused(Exception):
    """A resync would drop more of the file than the guard allows."""


def count_entries(path: Path) -> int:
    """Entries in an existing artifact: non-blank lines that are not comments."""
    try:
        with path.open("rb") as f:
            return sum(
                1 for line in f if line.strip() and not line.lstrip().startswith((b"#", b";"))
            )
    except FileNotFoundError:
        return 0


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@dataclass
class SyncOptions:
    out: Path
    reload: str | None = None
    debounce: float = 2.0
    resync: float = 300.0
    max_shrink: float = 0.5
    allow_shrink: bool = False
    retry: float = 30.0
    confidence: float = 0.0  # the feed's floor, applied to stream adds as the feed does
    reload_timeout: float = 120.0


class Artifact:
    """The in-memory set behind the file, the shrink guard, atomic writes and reloads."""

    def __init__(self, render: Render, opts: SyncOptions) -> None:
        self.render = render
        self.opts = opts
        self.items: dict[tuple[str, str], Indicator] = {}
        self.written = count_entries(opts.out)  # entries in the last good file
        self.writes = 0
        self.reloads = 0
        self.reload_failures = 0
        self.dirty = False
        self._last_write = 0.0

    def replace_all(self, records: Iterable[dict[str, Any]]) -> None:
        """A full resync; raises ShrinkRefused and keeps the old set if it shrinks too far."""
        new: dict[tuple[str, str], Indicator] = {}
        for r in records:
            ind = _indicator(r)
            if ind is not None:
                new[(ind.itype, ind.indicator)] = ind
        floor = self.written * (1 - self.opts.max_shrink)
        if not self.opts.allow_shrink and self.written and len(new) < floor:
            raise ShrinkRefused(
                f"refusing to shrink {self.opts.out} from {self.written} to {len(new)} entries "
                f"(more than {self.opts.max_shrink:.0%}); pass --allow-shrink if that is right"
            )
        self.items = new
        self.dirty = True

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        """Stream adds that pass the built-in guards; returns how many were new or changed.

        The platform's own whitelists (warninglists, indicators tagged whitelist) are
        applied by the feed at each resync; a whitelist indicator on the stream makes
        the caller resync at once (see Syncer.step).
        """
        n = 0
        for r in records:
            ind = _indicator(r)
            if ind is None or WHITELIST_TAG in ind.tags:
                continue
            for kept in _guarded(ind, self.opts.confidence):
                self.items[(kept.itype, kept.indicator)] = kept
                n += 1
        if n:
            self.dirty = True
        return n

    def due(self, now: float) -> bool:
        return self.dirty and now - self._last_write >= self.opts.debounce

    def write(self) -> None:
        """Render, write atomically, then reload."""
        inds = sorted(self.items.values(), key=lambda i: (i.itype, i.indicator))
        data = self.render(inds)
        write_atomic(self.opts.out, data.encode() if isinstance(data, str) else data)
        self.written = len(inds)
        self.writes += 1
        self.dirty = False
        self._last_write = time.monotonic()
        self._reload()

    def _reload(self) -> None:
        if not self.opts.reload:
            return
        argv = shlex.split(self.opts.reload)
        try:
            # argv from the operator's own --reload option, run without a shell
            r = subprocess.run(  # noqa: S603
                argv, timeout=self.opts.reload_timeout, capture_output=True, check=False
            )
            ok = r.returncode == 0
            if not ok:
                log.warning(
                    "reload %s exited %d: %s",
                    argv[0],
                    r.returncode,
                    r.stderr[-500:].decode(errors="replace"),
                )
        except (OSError, subprocess.TimeoutExpired) as e:
            ok = False
            log.warning("reload %s failed: %s", argv[0], e)
        self.reloads += 1
        if not ok:
            self.reload_failures += 1


def _guarded(ind: Indicator, floor: float = 0.0) -> list[Indicator]:
    """What the feed's built-in guards and confidence floor leave of one streamed
    indicator (reserved space, public resolvers, root servers, public suffixes, top
    sites; networks split). One sighting's effective confidence can only be raised by
    others, so what passes here the feed keeps too; the rest waits for the resync."""
    from cif.feeds import FEED_ITYPES, FeedOptions, build_feed

    feed_itype = next((f for f, its in FEED_ITYPES.items() if ind.itype in its), None)
    if feed_itype is None:
        return []
    opts = FeedOptions(window=timedelta(0), confidence_min=floor)
    return build_feed(feed_itype, [ind], None, opts).indicators


def _indicator(r: dict[str, Any]) -> Indicator | None:
    try:
        return Indicator.from_dict(r)
    except InvalidIndicator:
        return None


class SSEFollower:
    """Reads /stream/sse in a thread into a bounded queue; reconnects with Last-Event-ID.

    Queue items are ``("add", indicator)`` or ``("gap", None)``; a full queue (the
    writer far behind) also counts as a gap, answered by a full resync.
    """

    def __init__(
        self, url: str, token: str | None, params: dict[str, Any], maxsize: int = 10_000
    ) -> None:
        self.url = url.rstrip("/") + "/stream/sse"
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.params = {k: v for k, v in params.items() if v not in (None, "")}
        self.q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=maxsize)
        self.last_id: str | None = None
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, name="cif-sync-sse", daemon=True)

    def start(self) -> None:
        self._t.start()

    def stop(self) -> None:
        self._stop.set()

    def _put(self, item: tuple[str, Any]) -> None:
        try:
            self.q.put_nowait(item)
        except queue.Full:
            with self.q.mutex:
                self.q.queue.clear()
            self.q.put_nowait(("gap", None))

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            headers = dict(self.headers)
            if self.last_id:
                headers["Last-Event-ID"] = self.last_id
            try:
                with httpx.stream(
                    "GET",
                    self.url,
                    params=self.params,
                    headers=headers,
                    timeout=httpx.Timeout(10, read=90),
                ) as r:
                    if r.status_code != 200:
                        log.warning("stream answered %d: %s", r.status_code, r.read()[:200])
                    else:
                        self.connected.set()
                        backoff = 1.0
                        self._read(r)
            except httpx.HTTPError as e:
                log.info("stream unreachable: %s", e)
            self.connected.clear()
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, 30.0)

    def _read(self, r: httpx.Response) -> None:
        event: dict[str, str] = {}
        for line in r.iter_lines():
            if self._stop.is_set():
                return
            if line == "":
                kind = event.get("event", "message")
                if kind == "indicator" and "data" in event:
                    self.last_id = event.get("id", self.last_id)
                    self._put(("add", orjson.loads(event["data"])))
                elif kind == "gap":
                    self._put(("gap", None))
                elif kind == "closed":
                    return
                event = {}
            elif not line.startswith(":"):
                k, _, v = line.partition(":")
                event[k] = v[1:] if v.startswith(" ") else v


class Syncer:
    """Drives an Artifact from a fetch function and a stream follower."""

    def __init__(
        self, artifact: Artifact, fetch: Fetch, follower: SSEFollower | None = None
    ) -> None:
        self.artifact = artifact
        self.fetch = fetch
        self.follower = follower
        self.next_resync = 0.0  # monotonic time of the next full refresh
        self.errors: list[str] = []

    def resync(self) -> bool:
        """Full refresh; on an outage or a refused shrink the last good file stays."""
        opts = self.artifact.opts
        try:
            records = self.fetch()
            self.artifact.replace_all(records)
        except ShrinkRefused as e:
            self._error(str(e))
        except Exception as e:  # noqa: BLE001  any outage keeps the last good file
            self._error(f"cannot fetch indicators: {e}")
        else:
            self.next_resync = time.monotonic() + opts.resync
            return True
        self.next_resync = time.monotonic() + opts.retry
        return False

    def _error(self, msg: str) -> None:
        log.warning("%s", msg)
        self.errors = [*self.errors[-99:], msg]

    def step(self, wait: float = 0.5) -> None:
        """One turn: take stream adds, resync when due, write when the debounce allows."""
        if time.monotonic() >= self.next_resync:
            self.resync()
        if self.follower is not None:
            adds: list[dict[str, Any]] = []
            try:
                kind, item = self.follower.q.get(timeout=wait)
                while True:
                    if kind == "gap":
                        self.next_resync = 0.0
                    elif WHITELIST_TAG in (item.get("tags") or ()):
                        self.next_resync = 0.0  # a new whitelist entry: refetch the feed
                    else:
                        adds.append(item)
                    kind, item = self.follower.q.get_nowait()
            except queue.Empty:
                pass
            self.artifact.add(adds)
        else:
            time.sleep(wait)
        if self.artifact.due(time.monotonic()):
            try:
                self.artifact.write()
            except OSError as e:
                self._error(f"cannot write {self.artifact.opts.out}: {e}")

    def once(self) -> bool:
        """Resync and write now (for cron); False when the file was left as it was."""
        if not self.resync():
            return False
        self.artifact.write()
        return True

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set."""
        if self.follower is not None:
            self.follower.start()
        try:
            while not stop.is_set():
                self.step()
        finally:
            if self.follower is not None:
                self.follower.stop()


def api_fetch(remote: str, token: str | None, params: dict[str, Any]) -> Fetch:
    """The feed itself, from GET /feeds/{itype}?format=json: aggregated, with every
    guard and whitelist of the platform applied, as plain mappings."""
    from cif.client import Client

    itype = str(params.get("itype") or "")
    if not itype:
        raise ValueError("a synced artifact needs an itype (its feed)")
    query = {k: v for k, v in params.items() if k != "itype"}
    query["format"] = "json"

    def fetch() -> list[dict[str, Any]]:
        with Client(remote, token, timeout=60) as c:
            data = orjson.loads(c.feed(itype, query))
        if not isinstance(data, list):
            raise ValueError(f"GET /feeds/{itype} did not answer a JSON list")
        return data

    return fetch


def format_renderer(name: str) -> Render:
    """A renderer from cif.formats; fails at once on an unknown format name."""
    from cif.formats import FORMATS, render

    if name not in FORMATS:
        raise ValueError(f"format {name!r}: not one of {', '.join(FORMATS)}")
    return lambda inds: render(name, inds)
