"""Every query shape is answered from an index, never a full scan of the indicators."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cif.store import Query

from .conftest import T0, ind

SHAPES = {
    "exact": Query(q="http://example.com/x"),
    "ipv4": Query(q="10.1.2.3"),
    "ipv4_cidr": Query(q="10.0.0.0/8"),
    "ipv6": Query(q="2001:db8::1"),
    "ipv6_cidr": Query(q="2001:db8::/32"),
    "fqdn": Query(q="example.com"),
    "default": Query(),
    "itype": Query(itypes=["ipv4"]),
    "tags": Query(tags=["c2", "malware"]),
    "exclude_tags": Query(exclude_tags=["c2"]),
    "provider_group": Query(providers=["p"], groups=["g"], allowed_groups=["g"]),
    "tlp_cc_asn": Query(tlps=["green"], cc=["NL"], asn=[64500]),
    "confidence": Query(confidence_min=50, confidence_max=90),
    "probability": Query(probability_min=10),
    "reported_window": Query(reported_since=T0 - timedelta(days=1), reported_until=T0),
    "last_window": Query(last_since=T0 - timedelta(days=1), last_until=T0),
    "sort_confidence": Query(sort="confidence", descending=False),
    "sort_probability": Query(sort="probability"),
    "sort_first_at": Query(sort="first_at"),
    "sort_reported_at": Query(sort="reported_at"),
    "sort_id": Query(sort="id"),
    "q_with_filters": Query(q="example.com", tags=["c2"], allowed_groups=["everyone"]),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_no_full_scan(store, shape: str) -> None:  # type: ignore[no-untyped-def]
    store.upsert(
        [ind(f"h{i}.example.com", "fqdn", tags={"c2"}) for i in range(50)]
        + [ind(f"10.0.{i}.1", "ipv4") for i in range(50)]
    )
    plan = store.explain(SHAPES[shape])
    text = "\n".join(plan)
    if "sqlite" in store.url:
        bad = [p for p in plan if p.startswith("SCAN indicators") and "USING" not in p]
        if SHAPES[shape].sort == "id" and "USE TEMP B-TREE FOR ORDER BY" not in text:
            bad = []  # a walk of the rowid primary key in order, stopping at LIMIT
    else:
        bad = [p for p in plan if "Seq Scan on indicators" in p]
    assert not bad, text
