import time

from cif.enrich import DnsConfig, DnsResolver

from .conftest import SLOW


def resolver(srv, **kw):
    cfg = dict(nameservers=["127.0.0.1"], port=srv.port, timeout=0.5, budget=2.0)
    cfg.update(kw)
    return DnsResolver(DnsConfig(**cfg))


def test_resolves_all_record_types(dns_server):
    r = resolver(dns_server)
    try:
        ans = r.resolve("evil.badsite.xyz")
        assert ans is not None and ans.status == "ok"
        assert ans.records["A"] == ["45.33.1.10", "45.33.1.11"]
        assert ans.records["AAAA"] == ["2a01:4f8::10"]
        assert ans.records["NS"] == ["ns1.dnshost.xyz"]
        assert ans.records["MX"] == ["mail.dnshost.xyz"]
        assert ans.addresses == ["45.33.1.10", "45.33.1.11", "2a01:4f8::10"]
        assert r.resolve("nope.badsite.xyz").status == "nxdomain"
    finally:
        r.close()


def test_cache_avoids_second_round_of_questions(dns_server):
    r = resolver(dns_server)
    try:
        r.resolve_many(["evil.badsite.xyz", "nope.badsite.xyz"])
        asked = len(dns_server.questions)
        again = r.resolve_many(["evil.badsite.xyz", "nope.badsite.xyz"])
        assert len(dns_server.questions) == asked
        assert again["nope.badsite.xyz"].status == "nxdomain"
    finally:
        r.close()


def test_slow_names_do_not_hold_the_batch(dns_server):
    r = resolver(dns_server, timeout=1.0, budget=0.2)
    try:
        t = time.monotonic()
        got = r.resolve_many([SLOW.rstrip("."), "evil.badsite.xyz"])
        assert time.monotonic() - t < 0.9
        assert "evil.badsite.xyz" in got and SLOW.rstrip(".") not in got
    finally:
        r.close()


def test_concurrency_cap_is_respected(dns_server):
    r = resolver(dns_server, concurrency=2, rtypes=("A",))
    try:
        names = [f"n{i}.badsite.xyz" for i in range(20)] + ["evil.badsite.xyz"]
        got = r.resolve_many(names)
        assert len(got) == len(names)
        assert got["evil.badsite.xyz"].records["A"] == ["45.33.1.10", "45.33.1.11"]
        assert r.queries == len(names)
        assert r.max_in_flight == 2
    finally:
        r.close()
