from __future__ import annotations

import pytest

from cif.stream.filters import Audience, StreamFilter
from cif.stream.topic import prefixes, topic_of

IND = {
    "indicator": "198.51.100.7",
    "itype": "ipv4",
    "tags": ["scanner", "botnet"],
    "confidence": 75.0,
    "provider": "spamhaus",
    "group": "everyone",
    "tlp": "amber",
}


def test_filter_conditions_all_must_hold():
    assert StreamFilter().matches(IND)
    assert StreamFilter.build(
        itype="ipv4,fqdn", tags="phishing,botnet", confidence="70", provider="spamhaus"
    ).matches(IND)
    assert not StreamFilter.build(itype="fqdn").matches(IND)
    assert not StreamFilter.build(tags="phishing").matches(IND)
    assert not StreamFilter.build(confidence=80).matches(IND)
    assert not StreamFilter.build(provider="other").matches(IND)


def test_filter_from_query_params_and_bad_confidence():
    from starlette.datastructures import QueryParams

    f = StreamFilter.from_params(QueryParams("itype=ipv4&itype=url&tags=Botnet&confidence=50"))
    assert f.itypes == {"ipv4", "url"} and f.tags == {"botnet"} and f.confidence == 50
    with pytest.raises(ValueError, match="abc"):
        StreamFilter.build(confidence="abc")
    with pytest.raises(ValueError, match="101"):
        StreamFilter.build(confidence=101)


def test_groups_and_tlp_red():
    reader = Audience(frozenset({"everyone"}))
    partner = Audience(frozenset({"partners"}))
    admin = Audience(frozenset({"admins"}), admin=True)
    red = {**IND, "tlp": "red"}
    red_partners = {**IND, "tlp": "red", "group": "partners"}
    assert reader.may_see(IND) and not partner.may_see(IND) and admin.may_see(IND)
    assert reader.may_see(red)
    assert not admin.may_see(red), "TLP red only to members of the indicator's group"
    assert partner.may_see(red_partners) and not reader.may_see(red_partners)
    assert not Audience(frozenset({"everyone"}), itypes=frozenset({"fqdn"})).may_see(IND)


def test_topic_layout_and_prefixes():
    assert topic_of(IND) == b"ipv4.botnet.scanner."
    assert topic_of({"itype": "fqdn", "tags": ["a.b c"]}) == b"fqdn.a_b_c."
    assert topic_of({"itype": "sha1", "tags": []}) == b"sha1."
    assert not topic_of({"itype": "sha256"}).startswith(b"sha1.")
    assert prefixes([]) == [b""] and prefixes(["url", "ipv4"]) == [b"ipv4.", b"url."]
