"""Incremental value feeds equal cold builds, round after round of random upserts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cif.feeds.service import FeedRequest, FeedService
from cif.indicator.model import Indicator
from cif.store import Store, open_store

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
PROVIDERS = ["spamhaus", "dshield", "abuse.ch", "p1", "p2", "half"]
GROUPS = ["everyone", "everyone", "partners"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:  # type: ignore[no-untyped-def]
    url = str(tmp_path / "s.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = open_store(url)
    try:
        yield s
    finally:
        s.close()


def _record(rnd: random.Random, now: datetime, *, whitelist_ok: bool) -> Indicator:
    kind = rnd.random()
    if kind < 0.45:
        itype = "ipv4"
        value = f"45.{rnd.randrange(4)}.{rnd.randrange(20)}.{rnd.randrange(40)}"
        if rnd.random() < 0.1:
            itype, value = "ipv4_cidr", f"45.{rnd.randrange(4)}.{rnd.randrange(20)}.0/24"
        if rnd.random() < 0.05:
            itype, value = "ipv4", f"10.0.{rnd.randrange(4)}.{rnd.randrange(9)}"  # guarded
    else:
        itype = "fqdn"
        value = f"h{rnd.randrange(60)}.evil{rnd.randrange(6)}.net"
        if rnd.random() < 0.05:
            value = rnd.choice(["netflix.com", "com", "mail.google.com"])
    tags = {rnd.choice(["scanner", "phishing", "botnet", "context"])}
    if whitelist_ok and rnd.random() < 0.03:
        tags = {"whitelist"}
    last = now - timedelta(hours=rnd.uniform(-2, 24 * 12))
    return Indicator(
        indicator=value,
        itype=itype,
        provider=rnd.choice(PROVIDERS),
        group=rnd.choice(GROUPS),
        tlp=rnd.choice(["green", "green", "amber", "red"]),
        confidence=float(rnd.randrange(5, 100)),
        tags=tags,
        flags={"private"} if value.startswith("10.") else set(),
        first_at=last,
        last_at=last,
        reported_at=last,
    )


REQUESTS = [
    FeedRequest(itype="ipv4", fmt="plain"),
    FeedRequest(itype="ipv4", fmt="plain", confidence_min=45),
    FeedRequest(itype="fqdn", fmt="plain"),
    FeedRequest(itype="fqdn", fmt="rpz", confidence_min=30, exclude_tags=("context",)),
    FeedRequest(itype="fqdn", fmt="plain", tags=("phishing",), window=timedelta(days=5)),
    FeedRequest(itype="ipv4", fmt="plain", tlps=("green",), confidence_min=20),
]
CALLERS = [(["everyone"], []), (["everyone", "partners"], ["partners"]), (None, None)]


def test_incremental_equals_cold_each_round(store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import cif.feeds.service as service

    monkeypatch.setattr(service, "STATE_SIZE", 64)  # every request below keeps its state
    rnd = random.Random(20240601)
    now = T0
    store.upsert([_record(rnd, now, whitelist_ok=False) for _ in range(900)])
    svc = FeedService(store, prime_in_background=False)
    warm_rounds = 0
    for rnd_no in range(8):
        for req in REQUESTS:
            for allowed, red in CALLERS:
                warm = svc.build_values(req, allowed, red, now=now)
                cold = svc.build_values_cold(req, allowed, red, now=now)
                assert warm.values == cold.values, (rnd_no, req, allowed)
                assert warm.removed == cold.removed, (rnd_no, req, allowed)
                assert warm.plain() == cold.plain()
        # Some rounds touch the whitelist (a full rebuild), the others must not rescan.
        wl_round = rnd_no % 3 == 2
        batch = [_record(rnd, now, whitelist_ok=wl_round) for _ in range(rnd.randrange(20, 200))]
        # Updates of existing keys: new tags, another TLP, a newer or older sighting.
        batch += [
            Indicator(
                indicator=f"h{rnd.randrange(60)}.evil{rnd.randrange(6)}.net",
                itype="fqdn",
                provider=rnd.choice(PROVIDERS),
                group="everyone",
                tlp=rnd.choice(["green", "red"]),
                confidence=float(rnd.randrange(5, 100)),
                tags={rnd.choice(["context", "phishing"])},
                last_at=now - timedelta(hours=rnd.uniform(0, 24 * 40)),
            )
            for _ in range(30)
        ]
        base = replace(REQUESTS[0], fmt="")
        key = next(k for k in svc._states if k[0] == base and k[1] == ("everyone",))
        state = svc._states[key]
        before = state.scans
        store.upsert(batch)
        now += timedelta(hours=rnd.choice([0, 1, 7, 30]))
        svc.build_values(REQUESTS[0], *CALLERS[0], now=now)
        if not wl_round:
            assert state.scans - before <= len(batch)  # only the changed rows were read
            warm_rounds += 1
    assert warm_rounds >= 5


def test_incremental_reads_only_changed_rows(store: Store) -> None:
    rnd = random.Random(5)
    store.upsert([_record(rnd, T0, whitelist_ok=False) for _ in range(2000)])
    svc = FeedService(store, prime_in_background=False)
    req = FeedRequest(itype="fqdn", fmt="plain", confidence_min=30)
    first = svc.build_values(req, ["everyone"], [], now=T0)
    [state] = svc._states.values()
    cold_scans = state.scans
    assert cold_scans > 200
    batch = [_record(rnd, T0, whitelist_ok=False) for _ in range(50)]
    store.upsert(batch)
    now = T0 + timedelta(minutes=5)
    warm = svc.build_values(req, ["everyone"], [], now=now)
    assert state.scans - cold_scans <= len(batch)
    cold = svc.build_values_cold(req, ["everyone"], [], now=now)
    assert (warm.values, warm.removed) == (cold.values, cold.removed)
    assert first.values != [] and warm.values != []
    # A new whitelist entry rebuilds from scratch, and takes effect.
    victim = warm.values[0]
    store.upsert(
        [
            Indicator(
                indicator=victim, itype="fqdn", provider="local", tags={"whitelist"}, last_at=now
            )
        ]
    )
    again = svc.build_values(req, ["everyone"], [], now=now)
    assert victim not in again.values
    assert state.scans - cold_scans > len(batch)
    cold = svc.build_values_cold(req, ["everyone"], [], now=now)
    assert (again.values, again.removed) == (cold.values, cold.removed)


def test_change_stamps(store: Store) -> None:
    from cif.store.scan import ScanFilter, changed_marker, scan

    a = Indicator(indicator="a.example", itype="fqdn", provider="p", last_at=T0)
    store.upsert([a])
    m1 = changed_marker(store)
    assert m1 is not None and m1 > 0
    assert [r[1] for r in scan(store, ScanFilter(itypes=("fqdn",), changed_after=m1))] == []
    assert [r[1] for r in scan(store, ScanFilter(itypes=("fqdn",), changed_after=0))] == [
        "a.example"
    ]
    b = Indicator(indicator="b.example", itype="fqdn", provider="p", last_at=T0)
    a2 = Indicator(indicator="a.example", itype="fqdn", provider="p", last_at=T0, tags={"x"})
    store.upsert([b, a2])  # an insert and an update, one stamp
    m2 = changed_marker(store)
    assert m2 is not None and m2 > m1 and store.changes() >= m2
    got = sorted(r[1] for r in scan(store, ScanFilter(itypes=("fqdn",), changed_after=m1)))
    assert got == ["a.example", "b.example"]
    assert [r[1] for r in scan(store, ScanFilter(itypes=("fqdn",), changed_after=m2))] == []


def test_postgres_marker_waits_for_writers_holding_a_stamp(pg_url: str) -> None:
    """A stamp taken by a writer that has not committed yet is never skipped."""
    import threading

    import psycopg

    from cif.store.postgres import CHANGES_LOCK
    from cif.store.scan import ScanFilter, changed_marker, scan

    store = open_store(pg_url)
    try:
        store.upsert([Indicator(indicator="a.example", itype="fqdn", provider="p", last_at=T0)])
        before = changed_marker(store)
        assert before is not None
        with psycopg.connect(pg_url) as slow:  # a writer in the middle of its upsert
            slow.execute("SELECT pg_advisory_xact_lock_shared(%s)", (CHANGES_LOCK,))
            row = slow.execute("SELECT nextval('cif_changes')").fetchone()
            assert row is not None
            stamp = row[0]
            slow.execute(
                "INSERT INTO indicators (indicator, itype, provider, grp, tlp, confidence,"
                " probability, first_at, last_at, reported_at, count, changed) VALUES"
                " ('late.example', 'fqdn', 'p', 'everyone', 'green', 50, -1, now(), now(),"
                " now(), 1, %s)",
                (stamp,),
            )
            # A faster writer commits a later stamp meanwhile.
            store.upsert([Indicator(indicator="b.example", itype="fqdn", provider="p", last_at=T0)])
            got: list[int | None] = []
            t = threading.Thread(target=lambda: got.append(changed_marker(store)))
            t.start()
            t.join(0.5)
            assert t.is_alive() and got == []  # waits for the slow writer
            slow.commit()
        t.join(10)
        assert got and got[0] is not None and got[0] >= stamp
        seen = {r[1] for r in scan(store, ScanFilter(itypes=("fqdn",), changed_after=before))}
        assert seen == {"late.example", "b.example"}
    finally:
        store.close()


def test_first_request_is_cold_and_the_state_is_primed_beside_it(tmp_path):
    import time as _time

    from cif.feeds.service import FeedRequest, FeedService
    from cif.indicator import Indicator
    from cif.store import open_store

    store = open_store(str(tmp_path / "p.db"))
    now = datetime.now(UTC)
    store.upsert(
        [
            Indicator(
                indicator=f"93.184.{i // 256}.{i % 256}",
                itype="ipv4",
                provider="p",
                confidence=80,
                first_at=now,
                last_at=now,
                reported_at=now,
            )
            for i in range(2000)
        ]
    )
    svc = FeedService(store)
    req = FeedRequest(itype="ipv4", fmt="plain")
    first = svc.build_values(req)
    [state] = svc._states.values()
    deadline = _time.monotonic() + 30
    while not state.primed and _time.monotonic() < deadline:
        _time.sleep(0.02)
    assert state.primed
    scans = state.scans
    assert sorted(svc.build_values(req).values) == sorted(first.values)
    assert state.scans == scans  # nothing changed: no row read again
    store.close()
