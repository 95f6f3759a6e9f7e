"""Search semantics: q shapes, filters, groups, sorting and keyset pagination."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cif.store import InvalidQuery, Query
from cif.store.query import SORT_FIELDS

from .conftest import T0, ind


def values(store, **kw) -> set[str]:  # type: ignore[no-untyped-def]
    kw.setdefault("limit", 1000)
    return {i.indicator for i in store.search(Query(**kw)).items}


@pytest.fixture
def net(store):  # type: ignore[no-untyped-def]
    store.upsert(
        [
            ind("10.0.0.0/8", "ipv4_cidr"),
            ind("10.1.0.0/16", "ipv4_cidr"),
            ind("10.1.2.3", "ipv4"),
            ind("10.1.2.4", "ipv4"),
            ind("10.2.0.1", "ipv4"),
            ind("11.0.0.1", "ipv4"),
            ind("0.0.0.0/0", "ipv4_cidr"),
            ind("2001:db8::/32", "ipv6_cidr"),
            ind("2001:db8:1::/48", "ipv6_cidr"),
            ind("2001:db8:1::5", "ipv6"),
            ind("2001:db9::1", "ipv6"),
            ind("example.com", "fqdn"),
            ind("a.example.com", "fqdn"),
            ind("b.a.example.com", "fqdn"),
            ind("notexample.com", "fqdn"),
            ind("example.com.evil.net", "fqdn"),
            ind("http://example.com/x", "url"),
            ind("d41d8cd98f00b204e9800998ecf8427e", "md5"),
        ]
    )
    return store


def test_ipv4_inside_and_containing(net) -> None:  # type: ignore[no-untyped-def]
    assert values(net, q="10.1.2.3") == {"10.1.2.3", "10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0"}
    assert values(net, q="10.1.0.0/16") == {
        "10.1.0.0/16",
        "10.1.2.3",
        "10.1.2.4",
        "10.0.0.0/8",
        "0.0.0.0/0",
    }
    assert values(net, q="10.0.0.0/8") == {
        "10.0.0.0/8",
        "10.1.0.0/16",
        "10.1.2.3",
        "10.1.2.4",
        "10.2.0.1",
        "0.0.0.0/0",
    }
    assert values(net, q="12.0.0.1") == {"0.0.0.0/0"}


def test_ipv6_inside_and_containing(net) -> None:  # type: ignore[no-untyped-def]
    assert values(net, q="2001:db8:1::5") == {"2001:db8:1::5", "2001:db8:1::/48", "2001:db8::/32"}
    assert values(net, q="2001:db8::/32") == {"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::5"}
    assert values(net, q="2001:db9::1") == {"2001:db9::1"}


def test_fqdn_and_subdomains(net) -> None:  # type: ignore[no-untyped-def]
    assert values(net, q="example.com") == {"example.com", "a.example.com", "b.a.example.com"}
    assert values(net, q="a.example.com") == {"a.example.com", "b.a.example.com"}
    assert values(net, q="nothing.example.org") == set()


def test_q_is_canonicalized_first(net) -> None:  # type: ignore[no-untyped-def]
    assert values(net, q="A.Example.COM") == {"a.example.com", "b.a.example.com"}
    assert values(net, q="10.1.2.9/16") == values(net, q="10.1.0.0/16")
    assert values(net, q="2001:DB8:1:0::5") == values(net, q="2001:db8:1::5")


def test_exact_shapes(net) -> None:  # type: ignore[no-untyped-def]
    assert values(net, q="http://example.com/x") == {"http://example.com/x"}
    assert values(net, q="d41d8cd98f00b204e9800998ecf8427e") == {"d41d8cd98f00b204e9800998ecf8427e"}


def test_filters(store) -> None:  # type: ignore[no-untyped-def]
    store.upsert(
        [
            ind(
                "a.example",
                "fqdn",
                tags={"phishing"},
                provider="p1",
                confidence=90,
                cc="NL",
                asn=1,
                tlp="green",
                probability=70,
                reported_at=T0 - timedelta(days=1),
            ),
            ind(
                "b.example",
                "fqdn",
                tags={"malware", "c2"},
                provider="p2",
                confidence=40,
                cc="US",
                asn=2,
                tlp="amber",
                last_at=T0 - timedelta(days=3),
            ),
            ind(
                "192.0.2.9",
                "ipv4",
                tags={"scanner", "c2"},
                provider="p1",
                confidence=60,
                group="partners",
            ),
        ]
    )
    assert values(store, itypes=["ipv4"]) == {"192.0.2.9"}
    assert values(store, tags=["c2", "phishing"]) == {"a.example", "b.example", "192.0.2.9"}
    assert values(store, tags=["c2"], exclude_tags=["scanner"]) == {"b.example"}
    assert values(store, exclude_tags=["c2"]) == {"a.example"}
    assert values(store, providers=["p1"]) == {"a.example", "192.0.2.9"}
    assert values(store, groups=["partners"]) == {"192.0.2.9"}
    assert values(store, tlps=["green"]) == {"a.example"}
    assert values(store, confidence_min=50, confidence_max=80) == {"192.0.2.9"}
    assert values(store, probability_min=50) == {"a.example"}
    assert values(store, probability_max=100) == {"a.example"}
    assert values(store, cc=["US"]) == {"b.example"}
    assert values(store, asn=[1, 2]) == {"a.example", "b.example"}
    assert values(store, reported_since=T0 - timedelta(hours=1)) == {"b.example", "192.0.2.9"}
    assert values(store, reported_until=T0 - timedelta(hours=1)) == {"a.example"}
    assert values(store, last_since=T0 - timedelta(days=1)) == {"a.example", "192.0.2.9"}
    assert values(store, last_until=T0 - timedelta(days=1)) == {"b.example"}
    assert values(store, q="a.example", providers=["p2"]) == set()


def test_allowed_groups_restrict_whatever_is_asked(store) -> None:  # type: ignore[no-untyped-def]
    store.upsert(
        [ind("x.example", "fqdn", group="everyone"), ind("y.example", "fqdn", group="secret")]
    )
    assert values(store, allowed_groups=["everyone"]) == {"x.example"}
    assert values(store, groups=["secret"], allowed_groups=["everyone"]) == set()
    assert values(store, q="y.example", allowed_groups=["everyone"]) == set()
    assert values(store, allowed_groups=[]) == set()
    assert values(store, allowed_groups=["everyone", "secret"]) == {"x.example", "y.example"}


@pytest.mark.parametrize("sort", list(SORT_FIELDS))
@pytest.mark.parametrize("descending", [True, False])
def test_keyset_pagination_is_complete_and_ordered(store, sort: str, descending: bool) -> None:  # type: ignore[no-untyped-def]
    rows = [
        ind(
            f"h{i}.page.example",
            "fqdn",
            confidence=float(i % 4),
            probability=None if i % 3 == 0 else float(i % 5),
            last_at=T0 + timedelta(minutes=i % 5),
            first_at=T0 - timedelta(minutes=i % 6),
            reported_at=T0 + timedelta(seconds=i % 2),
        )
        for i in range(37)
    ]
    store.upsert(rows)
    seen, cursor, pages = [], None, 0
    while True:
        page = store.search(Query(sort=sort, descending=descending, limit=5, cursor=cursor))
        seen.extend(page.items)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    assert pages == 8
    assert len(seen) == 37 and len({i.id for i in seen}) == 37

    def key(i):  # type: ignore[no-untyped-def]
        v = getattr(i, sort)
        return ((-1 if v is None else v), i.id)

    assert [key(i) for i in seen] == sorted((key(i) for i in seen), reverse=descending)


def test_pagination_with_q(net) -> None:  # type: ignore[no-untyped-def]
    first = net.search(Query(q="10.0.0.0/8", limit=4, sort="id", descending=False))
    assert len(first.items) == 4 and first.cursor
    rest = net.search(
        Query(q="10.0.0.0/8", limit=4, sort="id", descending=False, cursor=first.cursor)
    )
    assert rest.cursor is None
    assert len({i.id for i in first.items + rest.items}) == 6


def test_bad_cursor_is_named(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidQuery, match="not-a-cursor"):
        store.search(Query(cursor="not-a-cursor"))
    store.upsert([ind("a.example", "fqdn"), ind("b.example", "fqdn")])
    cur = store.search(Query(limit=1)).cursor
    with pytest.raises(InvalidQuery, match="another sort order"):
        store.search(Query(limit=1, sort="confidence", cursor=cur))
