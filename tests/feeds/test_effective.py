"""Feeds carry the effective confidence (docs/context.md) and apply the floor to it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from cif.feeds import FeedOptions, build_feed
from cif.feeds.explain import explain
from cif.feeds.service import FeedRequest, FeedService
from cif.feeds.values import floor_values
from cif.formats import render
from cif.score import ConfidenceModel, Reliability, effective_confidence
from cif.score.confidence import confidence_of, to_micros
from cif.store import open_store

from .helpers import NOW, ind

FLAT = ConfidenceModel(reliability=Reliability({"half": 0.5}, default=1.0))


def _feed(records, cmin=0.0, model=FLAT):
    return build_feed("fqdn", records, None, FeedOptions(now=NOW, confidence_min=cmin, model=model))


def test_two_independent_providers_pass_a_floor_neither_passes_alone():
    a = ind("evil.example", "fqdn", conf=40, days_ago=0, provider="a")
    b = ind("evil.example", "fqdn", conf=40, days_ago=0, provider="b")
    assert _feed([a], 60).values() == []
    assert _feed([b], 60).values() == []
    feed = _feed([a, b], 60)
    assert feed.values() == ["evil.example"]
    assert feed.indicators[0].confidence == 64.0  # 1 - 0.6 x 0.6
    assert feed.indicators[0].extra["providers"] == ["a", "b"]
    # The same provider twice is not corroboration.
    assert (
        _feed(
            [a, ind("evil.example", "fqdn", conf=40, days_ago=0, provider="a", group="g")], 60
        ).values()
        == []
    )


def test_decay_lowers_an_old_sighting():
    fresh = _feed([ind("x.example", "fqdn", conf=80, days_ago=0)]).indicators[0]
    old = _feed([ind("x.example", "fqdn", conf=80, days_ago=29)]).indicators[0]
    assert fresh.confidence == 80.0
    assert old.confidence == pytest.approx(80 * 0.5 ** (29 / 30), abs=0.01)
    assert _feed([ind("x.example", "fqdn", conf=80, days_ago=29)], 50).values() == []


def test_reliability_half_counts_half():
    rec = ind("y.example", "fqdn", conf=80, days_ago=0, provider="half")
    assert _feed([rec]).indicators[0].confidence == 40.0
    assert _feed([rec], 41).values() == []


def test_guard_flag_caps_and_feed_matches_the_model():
    recs = [
        ind("z.example", "fqdn", conf=90, days_ago=2, provider="spamhaus"),
        ind("z.example", "fqdn", conf=70, days_ago=5, provider="dshield"),
        ind("z.example", "fqdn", conf=95, days_ago=40, provider="abuse.ch"),  # out of window
    ]
    model = ConfidenceModel()
    [line] = _feed(recs, model=model).indicators
    assert line.confidence == effective_confidence(recs[:2], NOW, model=model)
    assert explain("z.example", "fqdn", recs, None, FeedOptions(now=NOW)).confidence == (
        line.confidence
    )
    flagged = ind("z.example", "fqdn", conf=99, days_ago=0, provider="q", flags={"private"})
    assert _feed([*recs, flagged], model=model).indicators[0].confidence == 25.0


def test_tuple_helper_equals_effective_confidence():
    rnd = random.Random(7)
    provs = ["spamhaus.org", "dshield", "x", "abuse.ch", "sslbl.abuse.ch"]
    for _ in range(200):
        recs = [
            ind(
                "192.0.2.1",
                "ipv4",
                conf=rnd.randrange(0, 101),
                days_ago=rnd.random() * 20,
                provider=rnd.choice(provs),
            )
            for _ in range(rnd.randrange(1, 6))
        ]
        rows = [(r.provider, r.confidence, to_micros(r.last_at), r.flags) for r in recs]
        got = confidence_of(rows, to_micros(NOW), ConfidenceModel().half_life("ipv4"))
        assert got == effective_confidence(recs, NOW)


def test_floor_values_counts_what_the_floor_removes():
    now = NOW
    us = to_micros(now)
    rows = [
        ("a.example", "p", 40.0, us, False),
        ("a.example", "q", 40.0, us, False),
        ("b.example", "p", 40.0, us, False),
        ("c.example", "p", 99.0, us, True),
    ]
    values, flagged, below = floor_values("fqdn", rows, 30, now, FLAT)
    assert (sorted(values), flagged, below) == (["a.example", "b.example"], set(), 1)


def test_values_path_equals_full_path_under_a_floor(tmp_path):
    rnd = random.Random(11)
    store = open_store(str(tmp_path / "s.db"))
    now = datetime.now(UTC).replace(microsecond=0)
    provs = ["spamhaus", "dshield", "p1", "p2", "openphish"]
    recs = []
    for k in range(600):
        for _ in range(rnd.randrange(1, 4)):
            r = ind(
                f"h{k % 300}.evil{k % 7}.net",
                "fqdn",
                conf=rnd.randrange(10, 100),
                provider=rnd.choice(provs),
                group=rnd.choice(["everyone", "everyone", "other"]),
            )
            r.last_at = r.reported_at = r.first_at = now - timedelta(hours=rnd.randrange(24 * 40))
            recs.append(r)
        v = f"45.{k % 5}.{k % 251}.{k % 13}"
        r = ind(v, "ipv4", conf=rnd.randrange(10, 100), provider=rnd.choice(provs))
        r.last_at = r.reported_at = r.first_at = now - timedelta(hours=rnd.randrange(24 * 9))
        recs.append(r)
    store.upsert(recs)
    svc = FeedService(store, prime_in_background=False)
    try:
        for itype in ("fqdn", "ipv4"):
            for floor in (0, 20, 45, 60, 80):
                req = FeedRequest(itype=itype, fmt="plain", confidence_min=floor)
                fast = svc.build_values(req, ["everyone"], [], now=now)
                feed = svc.build(req, ["everyone"], [], now=now)
                slow = render("plain", sorted(feed.indicators, key=lambda i: i.indicator))
                assert fast.plain() == slow
                assert (len(fast), fast.removed) == (len(feed.indicators), len(feed.removed))
                assert all(i.confidence >= floor for i in feed.indicators)
                if floor == 60:
                    assert len(feed.indicators) > 0
    finally:
        store.close()
