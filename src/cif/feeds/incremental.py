"""Incremental value feeds: keep what a feed was built from, apply only what changed.

A :class:`ValueState` belongs to one value-feed request (itype, filters, window,
confidence floor, the caller's groups). It keeps

- every record in the window that passes the filters, by row id, as a sighting
  (value, provider, stated confidence, ``last_at``, flagged);
- per value, whether guards and whitelists keep it, split it or remove it (valid while
  the whitelists are the same objects);
- under a confidence floor, each value's effective confidence, when it was computed
  and until when it certainly stays at or above the floor;
- the output (sorted lines, removal count) and the store's change marker.

On each build it reads only the rows stamped above its marker (``changed > marker``
for the feed's itypes), tests them against the filters in Python (a record whose tags
or TLP changed may leave the feed), drops the records that slid out of the window, and
recomputes status and subtraction only for the values those touched, patching the
output. Decay moves with the clock for every value, and the floor stays exact without
recomputing all of them: a value's effective confidence never rises while its
sightings stay the same, and after the clock moved on by ``dt`` it is at least
``0.5 ** (dt / half_life)`` times what it was (every term shrinks by at least that
factor and the noisy-OR is concave in a common factor). So a value below the floor
stays below, and one above it is recomputed only once that bound could reach the
floor (a deadline in a heap). A new whitelist (folder or whitelist-tagged records) or
a clock that went backwards starts from scratch.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from cif.score.confidence import DEFAULT_MODEL, ConfidenceModel, Scorer, Sighting, to_micros
from cif.store.codec import MIN_MICROS
from cif.store.scan import (
    Row,
    ScanFilter,
    changed_marker,
    matches,
    scan_batches,
    scan_sighting_rows,
)

from .values import ValueFeed, build_values
from .whitelist import Whitelist

DAY_US = 86400.0 * 1_000_000.0
MARGIN = 0.01  # confidence points kept above the floor before a value is recomputed


class ValueState:
    """What one value feed was built from; :meth:`build` brings it up to date."""

    def __init__(
        self,
        itype: str,
        f: ScanFilter,
        window: timedelta,
        confidence_min: float = 0.0,
        model: ConfidenceModel = DEFAULT_MODEL,
    ) -> None:
        self.itype = itype
        self.filter = replace(f, last_since=None, changed_after=None, confidence_min=None)
        self.window = window
        self.floor = confidence_min
        self.model = model
        self.lock = threading.Lock()
        self.primed = False  # built once: later builds are incremental
        self.marker: int | None = None
        self.lists: tuple[Whitelist, ...] = ()
        self.now_us = 0
        self.scans = 0  # rows read from the store, all builds (for tests and stats)
        self.reset()

    def reset(self) -> None:
        self.marker = None
        self.rows: dict[int, tuple[str, Sighting]] = {}  # id -> (value, sighting)
        self.by_value: dict[str, dict[int, Sighting]] = {}
        self.expiry: list[tuple[int, int]] = []  # (last_at, id), a lazy min-heap
        self.sub: dict[str, tuple[tuple[str, ...], int]] = {}  # value -> (lines, removed)
        # value -> (confidence, computed at, recompute after): see _confidence
        self.conf: dict[str, tuple[float, int, int]] = {}
        self.due: list[tuple[int, str]] = []  # (recompute after, value), a lazy min-heap
        # value -> (its lines, removals it counts, 1 when split): the output, patched
        self.contrib: dict[str, tuple[tuple[str, ...], int, int]] = {}
        self.lines: list[str] = []
        self.removed = 0
        self.n_split = 0

    # -- rows ------------------------------------------------------------------------------

    def _put(self, row: Row, touched: set[str]) -> None:
        rid, v, _, conf, seen, _, provider, _, _, flags = row
        self._drop(rid, touched)
        s: Sighting = (provider, conf, None if seen <= MIN_MICROS else seen, bool(flags))
        self.rows[rid] = (v, s)
        self.by_value.setdefault(v, {})[rid] = s
        heapq.heappush(self.expiry, (seen, rid))
        touched.add(v)

    def _drop(self, rid: int, touched: set[str]) -> None:
        old = self.rows.pop(rid, None)
        if old is None:
            return
        v = old[0]
        per = self.by_value[v]
        del per[rid]
        if not per:
            del self.by_value[v]
        touched.add(v)

    def _expire(self, since_us: int, touched: set[str]) -> None:
        heap = self.expiry
        while heap and heap[0][0] < since_us:
            seen, rid = heapq.heappop(heap)
            row = self.rows.get(rid)
            if row is not None and (MIN_MICROS if row[1][2] is None else row[1][2]) == seen:
                self._drop(rid, touched)

    # -- building ----------------------------------------------------------------------------

    def build(self, store: object, lists: Sequence[Whitelist], now: datetime) -> ValueFeed:
        """The feed at ``now``: equal to a cold build of the same request."""
        now_us = to_micros(now)
        since_us = to_micros(now - self.window) if self.window else None
        lists_t = tuple(lists)
        marker = changed_marker(store)  # read before the rows: they hold at least this
        cold = (
            self.marker is None
            or marker is None
            or now_us < self.now_us
            or len(lists_t) != len(self.lists)
            or any(a is not b for a, b in zip(lists_t, self.lists, strict=True))
        )
        touched: set[str] = set()
        if cold:
            self.reset()
            f = replace(self.filter, last_since=now - self.window if self.window else None)
            rows = scan_sighting_rows(store, f)
            self.scans += len(rows)
            by_value, kept, expiry = self.by_value, self.rows, self.expiry
            for rid, v, provider, conf, seen, flagged in rows:
                s: Sighting = (provider, conf, seen, flagged)
                kept[rid] = (v, s)
                per = by_value.get(v)
                if per is None:
                    by_value[v] = {rid: s}
                else:
                    per[rid] = s
                expiry.append((MIN_MICROS if seen is None else seen, rid))
            touched = set(by_value)
            heapq.heapify(self.expiry)
        else:
            if marker != self.marker:
                f = ScanFilter(itypes=self.filter.itypes, changed_after=self.marker)
                for batch in scan_batches(store, f):
                    self.scans += len(batch)
                    for row in batch:
                        if matches(row, self.filter, since_us):
                            self._put(row, touched)
                        else:
                            self._drop(row[0], touched)
            if since_us is not None:
                self._expire(since_us, touched)
        self.marker, self.lists, self.now_us = marker, lists_t, now_us
        for v in touched:
            self.conf.pop(v, None)
            if v not in self.by_value:
                self.sub.pop(v, None)
        return self._feed(now_us, touched)

    def _feed(self, now_us: int, touched: set[str]) -> ValueFeed:
        """Recompute the values ``touched`` and those whose decay bound ran out, and patch
        the kept output (sorted lines, removal count) with the difference."""
        changed = set(touched)
        due = self.due
        while due and due[0][0] < now_us:
            deadline, v = heapq.heappop(due)
            hit = self.conf.get(v)
            if hit is not None and hit[2] == deadline:
                changed.add(v)
        ip = self.itype in ("ipv4", "ipv6")
        scorer = Scorer(self.model)
        status: dict[str, int] = {}  # 0: subtract, 1: counted as removed, 2: left out
        for v in changed:
            per = self.by_value.get(v)
            if per is None:
                continue
            if self.floor and self._confidence(scorer, v, per, now_us) < self.floor:
                status[v] = 1
            elif ip and any(s[3] for s in per.values()):
                status[v] = 1  # a reserved-range flag on any record
            elif not ip and all(s[3] for s in per.values()):
                status[v] = 2  # only flagged records: the value path leaves it out
            else:
                status[v] = 0
        need = [v for v, st in status.items() if st == 0 and v not in self.sub]
        if need:
            self.sub.update(_subtract(self.itype, need, list(self.lists)))
        gone: list[str] = []
        added: list[str] = []
        contrib = self.contrib
        for v in changed:
            old = contrib.pop(v, None)
            if old is not None:
                gone.extend(old[0])
                self.removed -= old[1]
                self.n_split -= old[2]
            st = status.get(v)
            if st is None:
                continue
            if st == 0:
                ls, r = self.sub[v]
                new = (ls, r, int(ip and bool(ls) and ls != (v,)))
            else:
                new = ((), int(st == 1), 0)
            contrib[v] = new
            added.extend(new[0])
            self.removed += new[1]
            self.n_split += new[2]
        if gone or added:
            lines = self.lines
            if gone:
                drop = Counter(gone)
                kept: list[str] = []
                for x in lines:
                    n = drop.get(x)
                    if n:
                        drop[x] = n - 1
                    else:
                        kept.append(x)
                lines = kept
            else:
                lines = list(lines)
            lines.extend(added)
            lines.sort()  # one sorted run and a short tail: close to linear
            self.lines = lines
        out = ValueFeed(self.itype)
        out.values = self.lines
        out.removed = self.removed
        out.unique = not self.n_split
        return out

    def _confidence(self, scorer: Scorer, v: str, per: dict[int, Sighting], now_us: int) -> float:
        """The value's effective confidence now, and until when the decay bound keeps it
        at or above the floor (pushed on :attr:`due`)."""
        hl = self.model.half_life(f"{self.itype}_cidr" if "/" in v else self.itype)
        c = scorer.confidence(per.values(), now_us, hl)
        deadline = -1
        if c >= self.floor:
            hi, lo = c - MARGIN, self.floor + MARGIN
            span = hl * DAY_US * math.log2(hi / lo) if hl > 0 and hi > lo else 0.0
            deadline = now_us + int(span) - 1
            heapq.heappush(self.due, (deadline, v))
        self.conf[v] = (c, now_us, deadline)
        return c


def _subtract(
    itype: str, values: list[str], lists: list[Whitelist]
) -> dict[str, tuple[tuple[str, ...], int]]:
    """Per value, what guards and whitelists make of it: (its lines, removals).

    Values are independent of each other here, so one batch call decides every value
    kept as it is; the others (removed or split) are asked about one by one.
    """
    out = build_values(itype, values, (), lists)
    kept = set(out.values)
    res: dict[str, tuple[tuple[str, ...], int]] = {}
    rest: list[str] = []
    nets: list[str] = []
    for v in values:
        if v in kept:
            res[v] = ((v,), 0)
        elif "/" in v:
            nets.append(v)  # removed, or split into pieces: asked one by one
        else:
            rest.append(v)
    if rest:
        # Not kept and not a network: removed (one each), which one batch confirms.
        again = build_values(itype, rest, (), lists)
        if not again.values and again.removed == len(rest):
            res.update(dict.fromkeys(rest, ((), 1)))
        else:
            nets += rest
    for v in nets:
        one = build_values(itype, [v], (), lists)
        res[v] = (tuple(one.values), one.removed)
    return res
