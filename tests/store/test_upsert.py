"""Upsert: one record per (indicator, provider, group), repeat sightings merged."""

from __future__ import annotations

from datetime import timedelta

from cif.indicator import Indicator
from cif.store import Query

from .conftest import T0, ind


def only(store, value: str) -> Indicator:  # type: ignore[no-untyped-def]
    items = store.search(Query(q=value, limit=10)).items
    assert len(items) == 1, items
    return items[0]


def test_round_trip_every_field(store) -> None:  # type: ignore[no-untyped-def]
    full = Indicator(
        indicator="198.51.100.7",
        itype="ipv4",
        tags={"scanner", "ssh"},
        confidence=87.5,
        probability=12.25,
        provider="example.org",
        group="partners",
        tlp="amber+strict",
        first_at=T0 - timedelta(days=3, microseconds=7),
        last_at=T0 + timedelta(microseconds=1),
        reported_at=T0,
        count=4,
        description="ssh brute force",
        reference="https://r.example/1",
        asn=4294967295,
        asn_desc="EXAMPLE-AS",
        cc="NL",
        rdata="r",
        portlist="22,2222",
        protocol="tcp",
        parent=77,
        extra={"a": [1, 2.5, "x"], "nested": {"b": None, "c": True}},
        flags={"documentation"},
    )
    bare = Indicator(indicator="bare.example", itype="fqdn")
    res = store.upsert([full, bare])
    assert (res.inserted, res.updated) == (2, 0)
    assert full.id is not None and bare.id is not None and full.id != bare.id
    got = {i.id: i for i in store.get([bare.id, full.id, 999999])}
    assert got[full.id] == full
    assert got[bare.id] == bare
    assert got[full.id].last_at.tzinfo is not None


def test_repeat_sighting_merges(store) -> None:  # type: ignore[no-untyped-def]
    first = ind(
        "evil.example",
        "fqdn",
        tags={"malware"},
        confidence=60,
        description="old",
        provider="p",
        asn=64500,
        cc="DE",
        reference="ref-1",
        extra={"k": 1, "keep": 2},
        first_at=T0 - timedelta(days=2),
        last_at=T0,
        count=2,
    )
    store.upsert([first])
    later = ind(
        "evil.example",
        "fqdn",
        tags={"c2"},
        confidence=90,
        description="new",
        provider="p",
        asn=None,
        cc="US",
        reference="",
        extra={"k": 9},
        first_at=T0 - timedelta(days=1),
        last_at=T0 + timedelta(hours=1),
        count=3,
    )
    res = store.upsert([later])
    assert (res.inserted, res.updated) == (0, 1)
    assert later.id == first.id
    got = only(store, "evil.example")
    assert got.tags == {"malware", "c2"}
    assert got.first_at == T0 - timedelta(days=2)
    assert got.last_at == T0 + timedelta(hours=1)
    assert got.count == 5
    assert (got.confidence, got.description) == (90, "new")
    assert got.asn == 64500 and got.cc == "US" and got.reference == "ref-1"
    assert got.extra == {"k": 9, "keep": 2}


def test_older_sighting_keeps_newer_confidence(store) -> None:  # type: ignore[no-untyped-def]
    store.upsert([ind("a.example", "fqdn", confidence=80, description="current", last_at=T0)])
    old = ind(
        "a.example",
        "fqdn",
        confidence=10,
        description="stale",
        first_at=T0 - timedelta(days=9),
        last_at=T0 - timedelta(days=5),
    )
    store.upsert([old])
    got = only(store, "a.example")
    assert (got.confidence, got.description) == (80, "current")
    assert got.first_at == T0 - timedelta(days=9) and got.last_at == T0 and got.count == 2
    # a tie on last_at goes to the incoming sighting
    store.upsert([ind("a.example", "fqdn", confidence=33, description="tie", last_at=T0)])
    got = only(store, "a.example")
    assert (got.confidence, got.description, got.count) == (33, "tie", 3)


def test_key_is_indicator_provider_group(store) -> None:  # type: ignore[no-untyped-def]
    rows = [
        ind("192.0.2.1", "ipv4", provider="a"),
        ind("192.0.2.1", "ipv4", provider="b"),
        ind("192.0.2.1", "ipv4", provider="a", group="other"),
    ]
    res = store.upsert(rows)
    assert (res.inserted, res.updated) == (3, 0)
    assert len({r.id for r in rows}) == 3
    assert len(store.search(Query(q="192.0.2.1")).items) == 3


def test_duplicates_inside_one_batch_are_merged(store) -> None:  # type: ignore[no-untyped-def]
    a = ind("dup.example", "fqdn", tags={"a"}, count=1, last_at=T0)
    b = ind(
        "dup.example", "fqdn", tags={"b"}, count=2, last_at=T0 + timedelta(seconds=1), confidence=99
    )
    res = store.upsert([a, b])
    assert (res.inserted, res.updated) == (1, 0)
    assert a.id == b.id is not None
    got = only(store, "dup.example")
    assert (got.tags, got.count, got.confidence) == ({"a", "b"}, 3, 99)
    assert a.tags == {"a"}, "the caller's objects are not modified"


def test_large_batch_spans_internal_chunks(store) -> None:  # type: ignore[no-untyped-def]
    rows = [ind(f"h{i}.bulk.example", "fqdn", tags={f"t{i % 3}"}) for i in range(12_050)]
    res = store.upsert(rows)
    assert (res.inserted, res.updated) == (12_050, 0)
    assert len({r.id for r in rows}) == 12_050
    res = store.upsert(rows[:6000])
    assert (res.inserted, res.updated) == (0, 6000)
    page = store.search(Query(q="h11.bulk.example"))
    assert [i.count for i in page.items] == [2]
    assert len(store.search(Query(tags=["t1"], limit=100_000)).items) == 4017
