import json

from cif.feeds import FeedOptions, Whitelist, build_feed, explain, load_warninglist_dir

from .helpers import NOW, ind

OPTS = FeedOptions(now=NOW)


def test_domain_dropped_when_it_or_a_parent_is_whitelisted():
    wl = Whitelist()
    wl.add_domain("example.org", "test")
    items = [
        ind("a.b.example.org", "fqdn"),
        ind("example.org", "fqdn"),
        ind("notexample.org", "fqdn"),
        ind("evil-example.net", "fqdn"),
    ]
    feed = build_feed("fqdn", items, wl, OPTS)
    assert feed.values() == ["notexample.org", "evil-example.net"]


def test_top_sites_and_public_suffixes_are_guarded():
    items = [
        ind(v, "fqdn")
        for v in (
            "netflix.com",
            "www.google.com",
            "mail.google.com",
            "com",
            "co.uk",
            "blogspot.com",
            "evil.blogspot.com",
            "bad-site.example.net",
        )
    ]
    feed = build_feed("fqdn", items, None, OPTS)
    assert feed.values() == ["evil.blogspot.com", "bad-site.example.net"]
    assert all(r.reason == "guard" for r in feed.removed)


def test_top_site_subdomains_can_be_allowed_but_the_site_never():
    items = [
        ind("netflix.com", "fqdn"),
        ind("www.netflix.com", "fqdn"),
        ind("phish.sites.google.com", "fqdn"),
    ]
    feed = build_feed("fqdn", items, None, FeedOptions(now=NOW, guard_top_site_subdomains=False))
    assert feed.values() == ["phish.sites.google.com"]


def test_urls_on_whitelisted_hosts_dropped_unless_kept_by_option():
    wl = Whitelist()
    wl.add_domain("example.org", "test")
    wl.add_url("http://bad.example.net/ok.html", "test")
    items = [
        ind("http://cdn.example.org/x.exe", "url"),
        ind("https://bad.example.net/ok.html", "url"),
        ind("http://bad.example.net/evil.exe", "url"),
    ]
    assert build_feed("url", items, wl, OPTS).values() == ["http://bad.example.net/evil.exe"]
    keep = FeedOptions(now=NOW, keep_urls_on_whitelisted_hosts=True)
    assert build_feed("url", items, wl, keep).values() == [
        "http://cdn.example.org/x.exe",
        "http://bad.example.net/evil.exe",
    ]


def test_url_that_is_a_whole_top_site_is_guarded_but_a_path_on_it_is_not():
    items = [
        ind("https://netflix.com/", "url"),
        ind("https://docs.google.com/forms/d/phish", "url"),
    ]
    assert build_feed("url", items, None, OPTS).values() == [
        "https://docs.google.com/forms/d/phish"
    ]


def test_warninglists_from_a_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "list.json").write_text(
        json.dumps({"name": "Hosting", "type": "hostname", "list": ["example.org", ".example.net"]})
    )
    (tmp_path / "b.json").write_text(
        json.dumps(
            {"name": "Nets", "type": "cidr", "list": ["45.0.0.0/8", "not-a-net/99", "2a00::/16"]}
        )
    )
    (tmp_path / "c.json").write_text(
        json.dumps({"name": "Sub", "type": "substring", "list": ["tracker"]})
    )
    (tmp_path / "d.json").write_text(
        json.dumps({"name": "Rx", "type": "regex", "list": [r"^cdn\d+\.", "("]})
    )
    (tmp_path / "e.json").write_text(
        json.dumps(
            {
                "name": "Str",
                "type": "string",
                "list": ["46.1.2.3", "shop.example.com", "deadbeef.com"],
            }
        )
    )
    (tmp_path / "broken.json").write_text("{nope")
    wl, report = load_warninglist_dir(tmp_path)
    assert report.lists == 5 and report.skipped == 3
    assert any("broken.json" in e for e in report.errors)
    assert any("not-a-net/99" in e for e in report.errors)
    names = [
        ind(v, "fqdn")
        for v in (
            "x.example.org",
            "a.example.net",
            "mytracker.io",
            "cdn7.good.io",
            "shop.example.com",
            "deadbeef.com",
            "fine.io",
        )
    ]
    assert build_feed("fqdn", names, wl, OPTS).values() == ["fine.io"]
    ips = [ind("45.9.9.9", "ipv4"), ind("46.1.2.3", "ipv4"), ind("47.1.1.1", "ipv4")]
    assert build_feed("ipv4", ips, wl, OPTS).values() == ["47.1.1.1"]


def test_explain_names_the_records_and_the_entry():
    wl = Whitelist()
    wl.add_domain("example.org", "warninglist:Hosting")
    items = [
        ind("a.example.org", "fqdn", provider="p1"),
        ind("a.example.org", "fqdn", provider="p2"),
        ind("evil.example.net", "fqdn"),
    ]
    e = explain("a.example.org", "fqdn", items, wl, OPTS)
    assert not e.in_feed
    assert [r["provider"] for r in e.records] == ["p1", "p2"]
    assert e.removed[0].reason == "whitelist" and "warninglist:Hosting" in e.removed[0].detail
    assert e.whitelisted_by == ["example.org (warninglist:Hosting)"]
    ok = explain("evil.example.net", "fqdn", items, wl, OPTS)
    assert ok.in_feed and ok.covered_by == ["evil.example.net"] and ok.to_dict()["in_feed"]
    g = explain("netflix.com", "fqdn", [], None, OPTS)
    assert not g.in_feed and g.records == [] and "top site" in g.whitelisted_by[0]


def test_explain_ip_covered_by_a_fed_network_and_by_a_guard():
    items = [ind("45.1.2.0/24", "ipv4_cidr"), ind("8.8.8.8", "ipv4")]
    e = explain("45.1.2.77", "ipv4", items, None, OPTS)
    assert e.in_feed and e.covered_by == ["45.1.2.0/24"]
    g = explain("8.8.8.8", "ipv4", items, None, OPTS)
    assert not g.in_feed and any("public-resolver" in w for w in g.whitelisted_by)
