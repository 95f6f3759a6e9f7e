from datetime import timedelta

import pytest

from cif.feeds import FeedOptions, InvalidFeed, Whitelist, build_feed

from .helpers import NOW, ind

OPTS = FeedOptions(now=NOW)


def build(items, wl=None, **kw):
    return build_feed("ipv4", items, wl, FeedOptions(now=NOW, **kw))


def test_whitelisted_network_drops_addresses_inside_it():
    wl = Whitelist()
    wl.add_network("45.0.0.0/8", "test:list")
    feed = build([ind("45.1.2.3", "ipv4"), ind("46.1.2.3", "ipv4")], wl)
    assert feed.values() == ["46.1.2.3"]
    (r,) = feed.removed
    assert r.value == "45.1.2.3" and r.reason == "whitelist" and "45.0.0.0/8" in r.detail


def test_reserved_space_is_dropped_even_without_flags_and_flags_are_honoured():
    feed = build(
        [
            ind("10.1.2.3", "ipv4"),
            ind("192.168.0.0/16", "ipv4_cidr"),
            ind("100.64.1.1", "ipv4"),
            ind("45.1.2.3", "ipv4", flags={"private"}),
            ind("46.1.2.3", "ipv4"),
        ]
    )
    assert feed.values() == ["46.1.2.3"]
    reasons = {r.value: r.reason for r in feed.removed}
    assert reasons["10.1.2.3"] == "guard" and reasons["45.1.2.3"] == "reserved"


def test_public_resolvers_and_root_servers_never_fed():
    feed = build([ind("8.8.8.8", "ipv4"), ind("198.41.0.4", "ipv4"), ind("1.1.1.1", "ipv4")])
    assert feed.values() == []
    assert {r.detail.split("(")[1] for r in feed.removed} >= {
        "guard:public-resolver)",
        "guard:root-server)",
    }
    feed6 = build_feed(
        "ipv6",
        [
            ind("2001:4860:4860::8888", "ipv6"),
            ind("2001:500:2f::f", "ipv6"),
            ind("fe80::1", "ipv6"),
            ind("2a00:1450::1", "ipv6"),
        ],
        None,
        OPTS,
    )
    assert feed6.values() == ["2a00:1450::1"]


def test_network_overlapping_whitelisted_address_is_split_around_it():
    wl = Whitelist()
    wl.add_network("45.1.2.3", "test")
    feed = build([ind("45.1.2.0/24", "ipv4_cidr")], wl)
    vals = feed.values()
    assert "45.1.2.0/24" not in vals and "45.1.2.3" not in vals
    assert len(vals) == 8  # /24 minus one /32 leaves 8 prefixes
    import ipaddress

    covered = sum(ipaddress.ip_network(v).num_addresses for v in vals)
    assert covered == 255
    assert all(ipaddress.ip_address("45.1.2.3") not in ipaddress.ip_network(v) for v in vals)
    assert feed.split["45.1.2.0/24"] == vals
    assert feed.removed[0].reason == "split"
    assert all(i.extra["split_from"] == "45.1.2.0/24" for i in feed.indicators)


def test_network_split_beyond_cap_is_dropped_not_kept_whole():
    wl = Whitelist()
    wl.add_network("45.1.2.3", "test")
    wl.add_network("45.1.200.9", "test")
    feed = build([ind("45.1.0.0/16", "ipv4_cidr")], wl, max_split=10)
    assert feed.values() == []
    assert feed.removed[0].reason == "overlap"


def test_network_holding_a_resolver_is_split_around_it():
    feed = build([ind("8.8.8.0/24", "ipv4_cidr")])
    assert "8.8.8.8" not in feed.values() and feed.values()
    assert "8.8.8.0/24" in feed.split


def test_whitelist_tagged_records_whitelist_and_are_never_fed():
    feed = build([ind("45.1.2.3", "ipv4"), ind("45.1.2.0/28", "ipv4_cidr", tags={"whitelist"})])
    assert feed.values() == []
    assert "whitelist" in feed.removed[0].reason


def test_window_and_confidence_filter_after_aggregation():
    items = [
        ind("45.1.1.1", "ipv4", days_ago=30),
        ind("45.1.1.2", "ipv4", conf=20),
        ind("45.1.1.3", "ipv4", days_ago=30),
        ind("45.1.1.3", "ipv4", days_ago=2),
    ]
    # Effective confidence: 80 x 0.6 (reliability of p1) x 0.5 ** (2 / 7) = 39.4 for the
    # recent 45.1.1.3 (its 30-day-old sighting is outside the window); 20 x 0.6 = 12.
    feed = build(items, confidence_min=35)
    assert feed.values() == ["45.1.1.3"]
    assert feed.indicators[0].confidence == pytest.approx(39.4, abs=0.05)
    assert {r.reason for r in feed.removed} == {"window", "confidence"}
    assert build(items, window=timedelta(0)).values() == ["45.1.1.1", "45.1.1.2", "45.1.1.3"]


def test_other_itypes_are_ignored_and_unknown_feed_is_an_error():
    assert build([ind("example.com", "fqdn")]).values() == []
    with pytest.raises(InvalidFeed, match="'ipv5'"):
        build_feed("ipv5", [], None, OPTS)
