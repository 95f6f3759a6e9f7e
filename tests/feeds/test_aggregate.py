from datetime import timedelta

from cif.feeds import aggregate, providers_of

from .helpers import NOW, ind


def test_merges_strongest_evidence_and_keeps_inputs_untouched():
    a = ind("192.0.2.1", "ipv4", conf=60, days_ago=3, provider="a", tags={"scanner"}, tlp="green")
    b = ind("192.0.2.1", "ipv4", conf=90, days_ago=5, provider="b", tags={"botnet"}, tlp="red")
    c = ind("192.0.2.1", "ipv4", conf=70, days_ago=1, provider="c", tags={"ssh"})
    other = ind("198.51.100.7", "ipv4")
    out = aggregate([a, b, other, c])
    assert [i.indicator for i in out] == ["192.0.2.1", "198.51.100.7"]
    m = out[0]
    assert m.confidence == 90
    assert m.provider == "b"
    assert m.last_at == NOW - timedelta(days=1)
    assert m.first_at == NOW - timedelta(days=5)
    assert m.tags == {"scanner", "botnet", "ssh"}
    assert providers_of(m) == ["a", "b", "c"]
    assert m.tlp == "red"  # most restrictive wins
    assert m.count == 3 and m.extra["records"] == 3
    assert a.tags == {"scanner"} and a.confidence == 60 and "providers" not in a.extra
    assert out[1] is other  # single records pass through uncopied


def test_same_value_of_different_itypes_stays_apart():
    out = aggregate([ind("abc", "md5"), ind("abc", "sha1")])
    assert len(out) == 2
