"""Batching pipeline from raw records to stored, published indicators."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Protocol

from cif.indicator import Indicator, InvalidIndicator
from cif.indicator.model import IndicatorFactory

DEFAULT_BATCH = 5000
MAX_ERRORS_KEPT = 1000
PARENT_KEY = "parent_indicator"  # set in extra by enrichment on derived indicators


class Sink(Protocol):
    """Where accepted indicators go (a Store)."""

    def upsert(self, indicators: Sequence[Indicator]) -> Any: ...


class Publisher(Protocol):
    """Who hears about accepted indicators (the bus)."""

    def publish(self, indicators: Sequence[Indicator]) -> None: ...


# A stage takes a batch of indicators and returns the batch to pass on (enrich, score).
Stage = Callable[[list[Indicator]], list[Indicator]]


def link_parents(parents: Sequence[Indicator], children: Sequence[Indicator]) -> None:
    """Set ``parent`` on derived indicators from their stored parents' ids.

    Enrichment links a child to its parent by value (``extra["parent_indicator"]``)
    because the id is known only once the parent is stored; the pipeline stores
    parents first, then fills the ids in, so each record is written once.
    """
    ids = {(p.indicator, p.provider, p.group): p.id for p in parents if p.id is not None}
    for c in children:
        if c.parent is None:
            c.parent = ids.get((str(c.extra[PARENT_KEY]), c.provider, c.group))


@dataclass(slots=True)
class ItemError:
    index: int
    input: Any
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "input": self.input, "error": self.error}


@dataclass(slots=True)
class Result:
    accepted: int = 0
    rejected: int = 0
    errors: list[ItemError] = field(default_factory=list)

    def add(self, other: Result) -> None:
        self.accepted += other.accepted
        self.rejected += other.rejected
        room = MAX_ERRORS_KEPT - len(self.errors)
        if room > 0:
            self.errors.extend(other.errors[:room])


def normalize_records(
    records: Iterable[Mapping[str, Any] | Indicator],
    *,
    defaults: Mapping[str, Any] | None = None,
    start: int = 0,
    now: datetime | None = None,
    check: Callable[[Indicator], None] | None = None,
) -> tuple[list[Indicator], list[ItemError]]:
    """Turn raw records into Indicators; bad ones become errors naming value and reason.

    ``defaults`` fill fields a record leaves empty. ``check`` may raise
    InvalidIndicator to refuse a record (e.g. a group the caller may not write).
    """
    out: list[Indicator] = []
    errors: list[ItemError] = []
    try:
        make = IndicatorFactory(defaults, now=now or datetime.now(UTC))
    except InvalidIndicator as e:  # bad defaults: every record fails the same way, reported
        return [], [ItemError(i, _short(rec), str(e)) for i, rec in enumerate(records, start)]
    for i, rec in enumerate(records, start):
        try:
            if isinstance(rec, Indicator):
                ind = rec
            elif isinstance(rec, InvalidIndicator):  # refused upstream, e.g. a line not JSON
                raise rec
            else:
                ind = make(rec)
            if check is not None:
                check(ind)
            out.append(ind)
        except InvalidIndicator as e:
            errors.append(ItemError(i, _short(rec), str(e)))
    return out, errors


def _short(rec: Any) -> Any:
    if isinstance(rec, InvalidIndicator):
        return rec.value
    if isinstance(rec, Mapping):
        v = rec.get("indicator")
        return v if isinstance(v, str) and len(v) <= 256 else str(v)[:256]
    return str(rec)[:256]


class Pipeline:
    """normalize -> guard -> enrich -> score -> store -> publish, a batch at a time."""

    def __init__(
        self,
        sink: Sink,
        publisher: Publisher | None = None,
        *,
        stages: Sequence[Stage] = (),
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.sink = sink
        self.publisher = publisher
        self.stages = list(stages)
        self.batch_size = batch_size

    def submit(
        self,
        records: Iterable[Mapping[str, Any] | Indicator],
        defaults: Mapping[str, Any] | None = None,
        *,
        check: Callable[[Indicator], None] | None = None,
    ) -> Result:
        """Process records in batches; returns counts and per-item errors."""
        total = Result()
        it = iter(records)
        start = 0
        while True:
            chunk = list(islice(it, self.batch_size))
            if not chunk:
                break
            inds, errors = normalize_records(chunk, defaults=defaults, start=start, check=check)
            start += len(chunk)
            total.add(self.process(inds, errors))
        return total

    def process(self, indicators: list[Indicator], errors: list[ItemError] | None = None) -> Result:
        """Run already-normalized indicators through the remaining stages."""
        for stage in self.stages:
            indicators = stage(indicators)
        if indicators:
            parents = [i for i in indicators if PARENT_KEY not in i.extra]
            children = [i for i in indicators if PARENT_KEY in i.extra]
            if parents:
                self.sink.upsert(parents)
            if children:
                link_parents(parents, children)
                self.sink.upsert(children)
            if self.publisher is not None:
                self.publisher.publish(indicators)
        errs = errors or []
        return Result(accepted=len(indicators), rejected=len(errs), errors=errs[:MAX_ERRORS_KEPT])
