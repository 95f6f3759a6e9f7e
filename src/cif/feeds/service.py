"""Feeds from the store: query, whitelist, build, render, cache.

The pure builder (:mod:`.builder`) decides what goes in; this module fetches the
records it needs from the store, assembles the whitelist (warninglist folder plus
indicators tagged ``whitelist``), and caches rendered feeds until the store changes
or the cache entry ages out (the window slides with time).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cif.formats import FormatError, media_type, render
from cif.indicator import Indicator
from cif.store import InvalidQuery, Query, Store
from cif.store.query import MAX_LIMIT
from cif.store.scan import ScanFilter, scan_sightings, scan_values

from .builder import (
    DEFAULT_WINDOWS,
    FEED_ITYPES,
    Feed,
    FeedOptions,
    InvalidFeed,
    add_guards,
    build_feed,
)
from .explain import Explanation, explain
from .incremental import ValueState
from .values import VALUE_FEEDS, VALUE_FORMATS, ValueFeed, build_values, floor_values
from .warninglist import load_warninglist_dir
from .whitelist import WHITELIST_TAG, Whitelist

CACHE_TTL = 60.0  # seconds a rendered feed may be served without asking the store
CACHE_SIZE = 64
log = logging.getLogger("cif.feeds")
STATE_SIZE = 16  # value feeds whose build state is kept for incremental rebuilds
# Options a caller may pass through to a format (everything else is a filter).
FORMAT_OPTIONS = (
    "action",
    "origin",
    "ttl",
    "sid_base",
    "msg",
    "name",
    "wildcard",
    "part",
    "strip_scheme",
)
FEED_LIMIT = 5_000_000


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """What a caller asks of one feed; hashable, so it keys the cache."""

    itype: str
    confidence_min: float = 0.0
    tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    tlps: tuple[str, ...] = ()
    window: timedelta | None = None  # None: the itype's default; 0: no window
    limit: int = 0  # 0: everything
    probability_min: float | None = None  # fqdn/url: the model's probability floor
    fmt: str = "json"
    format_options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_params(cls, itype: str, params: Mapping[str, Any]) -> FeedRequest:
        """Parse feed query parameters with the same rules as a search."""
        if itype not in FEED_ITYPES:
            raise InvalidFeed(f"itype {itype!r}: no feed of that kind ({', '.join(FEED_ITYPES)})")
        try:
            q = Query.from_params(params)
        except InvalidQuery as e:
            raise InvalidFeed(str(e)) from None
        window: timedelta | None = None
        if q.reported_since is not None:  # days= / hours= given
            window = datetime.now(UTC) - q.reported_since
        get = params.get
        fmt = str(get("format") or "json")
        opts = tuple(sorted((k, str(get(k))) for k in FORMAT_OPTIONS if get(k) not in (None, "")))
        limit = 0
        if get("limit"):
            limit = q.limit
        return cls(
            itype=itype,
            confidence_min=q.confidence_min or 0.0,
            tags=tuple(sorted(q.tags)),
            exclude_tags=tuple(sorted(q.exclude_tags)),
            providers=tuple(sorted(q.providers)),
            groups=tuple(sorted(q.groups)),
            tlps=tuple(sorted(q.tlps)),
            window=window,
            limit=limit,
            probability_min=q.probability_min,
            fmt=fmt,
            format_options=opts,
        )

    def effective_window(self) -> timedelta:
        return DEFAULT_WINDOWS[self.itype] if self.window is None else self.window


@dataclass(slots=True)
class RenderedFeed:
    body: bytes
    media_type: str
    etag: str
    count: int
    removed: int
    built_at: float = field(default_factory=time.time)


class FeedService:
    """Builds feeds for the API and the CLI; one per store, safe across threads."""

    def __init__(
        self,
        store: Store,
        warninglist_dir: Path | None = None,
        *,
        ttl: float = CACHE_TTL,
        prime_in_background: bool = True,
    ) -> None:
        """``prime_in_background``: a value feed's first request is answered by a cold
        build, and the state for incremental rebuilds is built beside it in a thread
        (it costs a few times a cold build); False builds the state in the request."""
        self.store = store
        self.prime_in_background = prime_in_background
        self.warninglist_dir = warninglist_dir
        self.ttl = ttl
        self._cache: OrderedDict[Any, tuple[int, float, RenderedFeed]] = OrderedDict()
        self._lock = threading.Lock()
        self._wl: tuple[Any, Whitelist] | None = None
        self._folder_wl: tuple[Any, Whitelist] | None = None
        self._wl_lock = threading.RLock()
        self._building: dict[Any, threading.Lock] = {}
        self._states: OrderedDict[Any, ValueState] = OrderedDict()
        self._wl_sig: Any = None

    # -- whitelist ---------------------------------------------------------------------

    def whitelist(self) -> list[Whitelist]:
        """Warninglists from the folder plus every indicator tagged whitelist, any group.

        A whitelist protects everyone, so it is not limited to the caller's groups.
        Two parts, cached apart: the folder's lists (often millions of entries) are
        reloaded only when a file in the folder changes; the indicators tagged
        whitelist are read again when the store changed.
        """
        return [self._folder_whitelist(), self._tagged_whitelist()]

    def _folder_whitelist(self) -> Whitelist:
        sig = self._folder_signature()
        with self._wl_lock:
            cached = self._folder_wl
            if cached is not None and cached[0] == sig:
                return cached[1]
            # The guards go in first: one tree lookup per address covers both.
            wl = add_guards(Whitelist())
            if self.warninglist_dir is not None and self.warninglist_dir.is_dir():
                load_warninglist_dir(self.warninglist_dir, wl)
            self._folder_wl = (sig, wl)
            return wl

    def _tagged_whitelist(self) -> Whitelist:
        marker = self.store.changes()
        with self._wl_lock:
            cached = self._wl
            if cached is not None and cached[0] == marker:
                return cached[1]
            records = list(self._records(Query(tags=[WHITELIST_TAG])))
            sig = sorted((i.itype, i.indicator, i.provider, i.id or 0) for i in records)
            if cached is not None and sig == self._wl_sig:
                # The same entries: keep the object, so incremental feeds keep their state.
                self._wl = (marker, cached[1])
                return cached[1]
            wl = Whitelist()
            wl.add_indicators(records)
            self._wl = (marker, wl)
            self._wl_sig = sig
            return wl

    def _folder_signature(self) -> tuple[tuple[str, int, int], ...]:
        d = self.warninglist_dir
        if d is None or not d.is_dir():
            return ()
        return tuple(
            (str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(d.rglob("*.json"))
        )

    # -- records -----------------------------------------------------------------------

    def _records(self, query: Query, cap: int = FEED_LIMIT) -> Iterator[Indicator]:
        """Every record matching ``query``, page by page through the store's cursor."""
        query.limit = MAX_LIMIT
        query.sort, query.descending = "id", False
        seen = 0
        while True:
            page = self.store.search(query)
            for ind in page.items:
                yield ind
                seen += 1
                if seen >= cap:
                    return
            if not page.cursor:
                return
            query.cursor = page.cursor

    def _query(
        self,
        req: FeedRequest,
        allowed_groups: list[str] | None,
        red_groups: list[str] | None,
        now: datetime | None = None,
    ) -> Query:
        window = req.effective_window()
        return Query(
            itypes=list(FEED_ITYPES[req.itype]),
            tags=list(req.tags),
            exclude_tags=sorted({*req.exclude_tags, WHITELIST_TAG}),
            providers=list(req.providers),
            groups=list(req.groups),
            tlps=list(req.tlps),
            # No confidence here: the floor applies to the effective confidence of the
            # value (every sighting in the window), after aggregation.
            last_since=(now or datetime.now(UTC)) - window if window else None,
            probability_min=req.probability_min,
            allowed_groups=allowed_groups,
            red_groups=red_groups,
        )

    # -- building ----------------------------------------------------------------------

    def build(
        self,
        req: FeedRequest,
        allowed_groups: list[str] | None = None,
        red_groups: list[str] | None = None,
        *,
        now: datetime | None = None,
    ) -> Feed:
        """The feed itself (records and removals), uncached; ``now`` (default: the clock)
        sets the window and the decay."""
        now = now or datetime.now(UTC)
        records = self._records(self._query(req, allowed_groups, red_groups, now))
        opts = FeedOptions(
            window=req.effective_window(), confidence_min=req.confidence_min, now=now
        )
        feed = build_feed(req.itype, records, self.whitelist(), opts)
        if req.limit and len(feed.indicators) > req.limit:
            feed.indicators.sort(key=lambda i: (-i.confidence, i.indicator))
            del feed.indicators[req.limit :]
        return feed

    def rendered(
        self,
        req: FeedRequest,
        allowed_groups: list[str] | None = None,
        red_groups: list[str] | None = None,
    ) -> RenderedFeed:
        """The feed rendered in ``req.fmt``, from the cache while the store is unchanged."""
        if req.fmt not in _format_names():
            raise InvalidFeed(f"format {req.fmt!r}: not one of {', '.join(_format_names())}")
        key = (
            req,
            tuple(allowed_groups) if allowed_groups is not None else None,
            tuple(red_groups) if red_groups is not None else None,
        )
        hit = self._cached(key)
        if hit is not None:
            return hit
        # One build per feed at a time: concurrent callers of a cold feed wait for it.
        with self._lock:
            gate = self._building.setdefault(key, threading.Lock())
        with gate:
            hit = self._cached(key)
            if hit is not None:
                return hit
            marker = self.store.changes()
            now = time.monotonic()
            try:
                result = self._render(req, allowed_groups, red_groups)
            finally:
                with self._lock:
                    self._building.pop(key, None)
            with self._lock:
                self._cache[key] = (marker, now, result)
                self._cache.move_to_end(key)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return result

    def _cached(self, key: Any) -> RenderedFeed | None:
        marker = self.store.changes()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == marker and now - hit[1] < self.ttl:
                self._cache.move_to_end(key)
                return hit[2]
        return None

    def _render(
        self, req: FeedRequest, allowed_groups: list[str] | None, red_groups: list[str] | None
    ) -> RenderedFeed:
        opts = _typed(dict(req.format_options))
        # A probability floor is a per-record filter the value path does not read.
        if (
            req.fmt in VALUE_FORMATS
            and req.itype in VALUE_FEEDS
            and not req.limit
            and req.probability_min is None
        ):
            vf = self.build_values(req, allowed_groups, red_groups)
            count, removed = len(vf), vf.removed
            if req.fmt == "plain" and set(opts) <= {"wildcard"}:
                out: str | bytes = vf.plain(wildcard=bool(opts.get("wildcard")))
            else:
                out = self._format(req.fmt, vf.lines, opts)
        else:
            feed = self.build(req, allowed_groups, red_groups)
            count, removed = len(feed.indicators), len(feed.removed)
            out = self._format(req.fmt, sorted(feed.indicators, key=lambda i: i.indicator), opts)
        body = out.encode() if isinstance(out, str) else out
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return RenderedFeed(body, media_type(req.fmt), etag, count, removed)

    @staticmethod
    def _format(fmt: str, lines: list[Any], opts: dict[str, Any]) -> str | bytes:
        try:
            return render(fmt, lines, **opts)
        except (FormatError, TypeError, ValueError) as e:
            raise InvalidFeed(str(e)) from None

    def build_values(
        self,
        req: FeedRequest,
        allowed_groups: list[str] | None = None,
        red_groups: list[str] | None = None,
        *,
        now: datetime | None = None,
    ) -> ValueFeed:
        """The feed's lines for a value-only format, brought up to date incrementally
        (:mod:`.incremental`) when the store keeps change stamps."""
        now = now or datetime.now(UTC)
        if not callable(getattr(self.store, "changed_marker", None)):
            return self.build_values_cold(req, allowed_groups, red_groups, now=now)
        key = (
            replace(req, fmt="", format_options=(), limit=0),
            tuple(allowed_groups) if allowed_groups is not None else None,
            tuple(red_groups) if red_groups is not None else None,
        )
        with self._lock:
            state = self._states.get(key)
            fresh = state is None
            if state is None:
                state = self._states[key] = ValueState(
                    req.itype,
                    self._scan_filter(req, allowed_groups, red_groups, now),
                    req.effective_window(),
                    req.confidence_min,
                )
            self._states.move_to_end(key)
            while len(self._states) > STATE_SIZE:
                self._states.popitem(last=False)
        if self.prime_in_background and (fresh or not state.primed):
            cold = self.build_values_cold(req, allowed_groups, red_groups, now=now)
            if fresh:  # after the answer is built, so the two do not share the CPU
                threading.Thread(
                    target=self._prime, args=(state, now), name="cif-feed-prime", daemon=True
                ).start()
            return cold
        with state.lock:
            feed = state.build(self.store, self.whitelist(), now)
            state.primed = True
            return feed

    def priming(self) -> bool:
        """Whether an incremental state is still being prepared (for tests and benchmarks)."""
        with self._lock:
            return any(not st.primed for st in self._states.values())

    def _prime(self, state: ValueState, now: datetime) -> None:
        """Build a feed's incremental state off the request path."""
        try:
            with state.lock:
                state.build(self.store, self.whitelist(), now)
                state.primed = True
        except Exception:  # the next request builds cold again and retries nothing worse
            log.exception("could not prepare the incremental state of a %s feed", state.itype)

    def _scan_filter(
        self,
        req: FeedRequest,
        allowed_groups: list[str] | None,
        red_groups: list[str] | None,
        now: datetime,
    ) -> ScanFilter:
        window = req.effective_window()
        return ScanFilter(
            itypes=FEED_ITYPES[req.itype],
            tags=req.tags,
            exclude_tags=tuple(sorted({*req.exclude_tags, WHITELIST_TAG})),
            providers=req.providers,
            groups=req.groups,
            tlps=req.tlps,
            last_since=now - window if window else None,
            allowed_groups=tuple(allowed_groups) if allowed_groups is not None else None,
            red_groups=tuple(red_groups) if red_groups is not None else None,
        )

    def build_values_cold(
        self,
        req: FeedRequest,
        allowed_groups: list[str] | None = None,
        red_groups: list[str] | None = None,
        *,
        now: datetime | None = None,
    ) -> ValueFeed:
        """:meth:`build_values` from scratch: reads only the records' values (and, under a
        confidence floor, what the effective confidence needs)."""
        now = now or datetime.now(UTC)
        f = self._scan_filter(req, allowed_groups, red_groups, now)
        if not req.confidence_min:
            values, flagged = scan_values(self.store, f)
            return build_values(req.itype, values, flagged, self.whitelist())
        values, flagged, below = floor_values(
            req.itype, scan_sightings(self.store, f), req.confidence_min, now
        )
        out = build_values(req.itype, values, flagged, self.whitelist())
        out.removed += below
        return out

    def explain(
        self,
        value: str,
        req: FeedRequest,
        allowed_groups: list[str] | None = None,
        red_groups: list[str] | None = None,
    ) -> Explanation:
        """Is ``value`` in this feed, and why (records, removals, whitelist entries)."""
        query = self._query(req, allowed_groups, red_groups)
        query.q = value
        # Fetch what the filters would drop too, so the builder can say it dropped them.
        query.exclude_tags = list(req.exclude_tags)
        query.confidence_min = None
        query.last_since = None
        records = list(self._records(query, cap=10_000))
        opts = FeedOptions(window=req.effective_window(), confidence_min=req.confidence_min)
        return explain(value, req.itype, records, self.whitelist(), opts)


def _format_names() -> tuple[str, ...]:
    from cif.formats import FORMATS

    return tuple(FORMATS)


def _typed(opts: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(opts)
    for k in ("ttl", "sid_base"):
        if k in out:
            if not out[k].isdigit():
                raise InvalidFeed(f"{k} {out[k]!r}: must be a whole number")
            out[k] = int(out[k])
    if "wildcard" in out:
        out["wildcard"] = out["wildcard"].lower() in ("1", "true", "yes")
    if "strip_scheme" in out:
        out["strip_scheme"] = out["strip_scheme"].lower() in ("1", "true", "yes")
    return out
