from cif.enrich import DeriveConfig, derive
from cif.enrich.derive import child_confidence, url_host
from cif.indicator import Indicator


def ind(value, itype, conf=80.0, **kw):
    return Indicator(value, itype, confidence=conf, provider="p", **kw)


def by_value(children):
    return {c.indicator: c for c in children}


def test_url_yields_host_and_registered_domain_context():
    out = by_value(derive([ind("http://login.evil.example.com/x?y=1", "url", tags={"phishing"})]))
    host = out["login.evil.example.com"]
    assert host.itype == "fqdn" and host.confidence == 64.0 and host.tags == {"phishing"}
    assert host.extra == {
        "derived": "url_host",
        "parent_indicator": "http://login.evil.example.com/x?y=1",
        "parent_itype": "url",
    }
    ctx = out["example.com"]
    assert ctx.tags == {"context"} and ctx.confidence < 80


def test_url_with_address_host():
    out = by_value(derive([ind("http://192.0.2.9:8080/a", "url")]))
    assert out["192.0.2.9"].itype == "ipv4"
    assert url_host("http://[2001:db8::1]/x") == "2001:db8::1"


def test_fqdn_yields_resolved_addresses_below_parent():
    out = by_value(
        derive(
            [ind("bad.example.org", "fqdn", conf=90)],
            {"bad.example.org": ["198.51.100.7", "2001:db8::7"]},
        )
    )
    assert out["198.51.100.7"].confidence == 45.0 and out["2001:db8::7"].itype == "ipv6"
    assert "example.org" not in out or out["example.org"].tags == {"context"}


def test_whitelisted_address_gives_low_confidence_hint():
    out = derive(
        [
            ind("192.0.2.77", "ipv4", conf=95, tags={"whitelist"}),
            ind("2001:db8::5", "ipv6", conf=10, tags={"whitelist"}),
        ]
    )
    nets = by_value(out)
    assert nets["192.0.2.0/24"].tags == {"whitelist", "hint"}
    assert nets["192.0.2.0/24"].confidence == 25.0
    assert nets["2001:db8::/64"].confidence == 9.0


def test_derived_are_never_derived_again_and_cap_holds():
    first = derive([ind("http://a.b.example.com/", "url")])
    assert derive(first) == []
    many = [ind(f"http://h{i}.example.net/", "url") for i in range(50)]
    assert len(derive(many, config=DeriveConfig(max_per_batch=7))) == 7


def test_confidence_always_below_parent():
    for parent in (0.0, 0.5, 1.0, 3.0, 50.0, 100.0):
        for f in (0.3, 0.8, 1.0):
            c = child_confidence(parent, f)
            assert c == 0.0 if parent < 1 else c < parent


def test_rules_can_be_switched_off_and_flagged_parents_skipped():
    cfg = DeriveConfig(url_host=False, registered_domain=False)
    assert derive([ind("http://x.example.com/", "url")], config=cfg) == []
    assert derive([ind("10.1.2.3", "ipv4", flags={"private"})]) == []
