"""Lean feed scans return the same records as Store.search with the same filters."""

from __future__ import annotations

import random
from datetime import timedelta

from cif.store import Query
from cif.store.codec import micros
from cif.store.query import MAX_LIMIT
from cif.store.scan import (
    CONFIDENCE,
    FLAGS,
    GRP,
    ID,
    INDICATOR,
    ITYPE,
    LAST_AT,
    PROVIDER,
    TAGS,
    TLP,
    ScanFilter,
    scan,
    scan_values,
)

from .conftest import T0, ind

TAGS_ = ["c2", "scanner", "phishing", "whitelist", "botnet"]


def _seed(store, n: int = 400) -> None:
    rnd = random.Random(5)
    rows = []
    for i in range(n):
        kind = rnd.random()
        if kind < 0.4:
            v, it = f"45.{i % 7}.{i % 250}.{rnd.randrange(1, 255)}", "ipv4"
        elif kind < 0.5:
            v, it = f"45.{i % 7}.{i % 250}.0/24", "ipv4_cidr"
        elif kind < 0.8:
            v, it = f"h{i}.example{i % 9}.com", "fqdn"
        else:
            v, it = f"{rnd.getrandbits(128):032x}", "md5"
        last = T0 - timedelta(days=rnd.randrange(20), seconds=rnd.randrange(86400))
        rows.append(
            ind(
                v,
                it,
                provider=rnd.choice(["a", "b", "c"]),
                group=rnd.choice(["everyone", "partners"]),
                tlp=rnd.choice(["green", "amber", "red"]),
                confidence=float(rnd.randrange(101)),
                tags=set(rnd.sample(TAGS_, rnd.randrange(0, 3))),
                last_at=last,
                flags={"private"} if it == "ipv4" and rnd.random() < 0.05 else set(),
            )
        )
    store.upsert(rows)


def _search(store, q: Query) -> list:
    q.limit, q.sort = MAX_LIMIT, "id"
    out = []
    while True:
        page = store.search(q)
        out += page.items
        if not page.cursor:
            return out
        q.cursor = page.cursor


CASES = [
    (ScanFilter(itypes=("ipv4", "ipv4_cidr")), {}),
    (
        ScanFilter(
            itypes=("fqdn",), last_since=T0 - timedelta(days=7), exclude_tags=("whitelist",)
        ),
        {"last_since": T0 - timedelta(days=7), "exclude_tags": ["whitelist"]},
    ),
    (
        ScanFilter(
            itypes=("ipv4", "ipv4_cidr", "md5"),
            confidence_min=50,
            tags=("c2", "scanner"),
            providers=("a", "b"),
            tlps=("green", "red"),
        ),
        {
            "confidence_min": 50,
            "tags": ["c2", "scanner"],
            "providers": ["a", "b"],
            "tlps": ["green", "red"],
        },
    ),
    (
        ScanFilter(itypes=("fqdn", "md5"), allowed_groups=("everyone",), red_groups=()),
        {"allowed_groups": ["everyone"], "red_groups": []},
    ),
    (
        ScanFilter(
            itypes=("ipv4",),
            allowed_groups=("everyone", "partners"),
            red_groups=("partners",),
            groups=("partners",),
            exclude_tags=("whitelist", "botnet"),
        ),
        {
            "allowed_groups": ["everyone", "partners"],
            "red_groups": ["partners"],
            "groups": ["partners"],
            "exclude_tags": ["whitelist", "botnet"],
        },
    ),
    (ScanFilter(itypes=("ipv4",), allowed_groups=()), {"allowed_groups": []}),
]


def test_scan_matches_search(store):
    _seed(store)
    for f, kw in CASES:
        want = {i.id: i for i in _search(store, Query(itypes=list(f.itypes), **kw))}
        got = {r[ID]: r for r in scan(store, f)}
        assert set(got) == set(want), f
        for k, r in got.items():
            i = want[k]
            assert (
                r[INDICATOR],
                r[ITYPE],
                r[CONFIDENCE],
                r[LAST_AT],
                set(r[TAGS]),
                r[PROVIDER],
                r[TLP],
                r[GRP],
                set(r[FLAGS]),
            ) == (
                i.indicator,
                i.itype,
                i.confidence,
                micros(i.last_at),
                i.tags,
                i.provider,
                i.tlp,
                i.group,
                i.flags,
            )


def test_scan_values_matches_search(store):
    _seed(store)
    for f, kw in CASES:
        want = _search(store, Query(itypes=list(f.itypes), **kw))
        values, flagged = scan_values(store, f)
        assert sorted(values) == sorted(i.indicator for i in want if not i.flags), f
        assert flagged == {i.indicator for i in want if i.flags}, f


def test_no_itypes_reads_nothing(store):
    _seed(store, 20)
    assert list(scan(store, ScanFilter(itypes=()))) == []
    assert scan_values(store, ScanFilter(itypes=())) == ([], set())


def test_scan_values_with_a_line_break_in_a_value(store):
    store.upsert([ind("ab\ncd", "md5"), ind("abcd", "md5"), ind("ef", "md5", flags={"x"})])
    values, flagged = scan_values(store, ScanFilter(itypes=("md5",)))
    assert sorted(values) == ["ab\ncd", "abcd"] and flagged == {"ef"}
