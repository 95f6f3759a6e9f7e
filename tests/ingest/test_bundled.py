"""Every bundled rule on a small fixture in its feed's published format."""

from __future__ import annotations

import bz2
import zipfile
from pathlib import Path

import pytest

from cif.ingest import bundled_rules, load_rule

from .conftest import FIXTURES, run_on

CASES = [
    (
        "spamhaus",
        "drop",
        "spamhaus_drop.txt",
        [
            ("1.10.16.0/20", "ipv4_cidr"),
            ("1.19.0.0/16", "ipv4_cidr"),
            ("2.56.192.0/22", "ipv4_cidr"),
        ],
    ),
    (
        "spamhaus",
        "edrop",
        "spamhaus_edrop.txt",
        [("5.134.128.0/19", "ipv4_cidr"), ("23.128.64.0/24", "ipv4_cidr")],
    ),
    (
        "spamhaus",
        "dropv6",
        "spamhaus_dropv6.txt",
        [("2001:678:738::/48", "ipv6_cidr"), ("2a06:e480::/29", "ipv6_cidr")],
    ),
    ("spamhaus", "asndrop", "spamhaus_asndrop.json", [("AS8100", "asn"), ("AS50360", "asn")]),
    (
        "abusech",
        "urlhaus",
        "urlhaus.csv",
        [
            ("http://117.215.214.38:39475/i", "url"),
            ("https://evil-cdn.example.net/payload.exe", "url"),
        ],
    ),
    (
        "abusech",
        "feodotracker",
        "feodo_ipblocklist.csv",
        [("51.161.73.194", "ipv4"), ("162.243.103.246", "ipv4")],
    ),
    (
        "abusech",
        "sslbl-ips",
        "sslipblacklist.csv",
        [("45.95.11.4", "ipv4"), ("193.42.33.14", "ipv4")],
    ),
    (
        "abusech",
        "sslbl-certs",
        "sslblacklist.csv",
        [
            ("ba9cdb9a2e6f9e7a3c3e2b7d1f1b4c3a2e6f9e7a", "sha1"),
            ("4f3e1a2b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f", "sha1"),
        ],
    ),
    (
        "abusech",
        "threatfox",
        "threatfox.csv",
        [
            ("45.137.22.107", "ipv4"),
            ("steamcommunlty-trade.example.com", "fqdn"),
            ("http://203.0.113.99:8080/gate.php", "url"),
        ],
    ),
    (
        "openphish",
        "phishing",
        "openphish.txt",
        [
            ("https://secure-login.example-bank.com.verify-account.example.org/signin", "url"),
            ("http://paypa1-support.example.net/webapps/a1b2/", "url"),
            ("https://docs.example.page/wp-admin/office365/index.html", "url"),
        ],
    ),
    (
        "blocklist_de",
        "all",
        "blocklist_de_all.txt",
        [
            ("1.0.137.143", "ipv4"),
            ("1.1.218.92", "ipv4"),
            ("2001:db8:dead::1", "ipv6"),
            ("103.145.13.20", "ipv4"),
        ],
    ),
    (
        "dshield",
        "block",
        "dshield_block.txt",
        [("45.148.10.0/24", "ipv4_cidr"), ("80.94.95.0/24", "ipv4_cidr")],
    ),
    (
        "dshield",
        "suspicious-domains-high",
        "dshield_suspiciousdomains_High.txt",
        [
            ("000007.ru", "fqdn"),
            ("0001.example-malware.com", "fqdn"),
            ("1-2-3-free-crypto.example.net", "fqdn"),
        ],
    ),
    (
        "emergingthreats",
        "compromised-ips",
        "et_compromised-ips.txt",
        [("1.13.245.223", "ipv4"), ("1.15.179.13", "ipv4"), ("101.35.47.102", "ipv4")],
    ),
    (
        "cinsarmy",
        "ci-badguys",
        "ci-badguys.txt",
        [("1.12.230.136", "ipv4"), ("1.14.30.226", "ipv4"), ("103.106.104.9", "ipv4")],
    ),
    (
        "dataplane",
        "sshpwauth",
        "dataplane_sshpwauth.txt",
        [("38.6.229.4", "ipv4"), ("103.145.13.20", "ipv4")],
    ),
    (
        "tor",
        "exit-nodes",
        "torbulkexitlist.txt",
        [("185.220.101.1", "ipv4"), ("185.220.101.2", "ipv4"), ("2a0b:f4c2::1", "ipv6")],
    ),
    (
        "cymru",
        "fullbogons-ipv4",
        "fullbogons-ipv4.txt",
        [
            ("0.0.0.0/8", "ipv4_cidr"),
            ("10.0.0.0/8", "ipv4_cidr"),
            ("100.64.0.0/10", "ipv4_cidr"),
            ("223.255.255.0/24", "ipv4_cidr"),
        ],
    ),
    (
        "cymru",
        "fullbogons-ipv6",
        "fullbogons-ipv6.txt",
        [
            ("2001:db8::/32", "ipv6_cidr"),
            ("2001:4:112::/48", "ipv6_cidr"),
            ("3ffe::/16", "ipv6_cidr"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("rule", "feed", "fixture", "expected"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_bundled_rule_on_fixture(
    rule: str, feed: str, fixture: str, expected: list, tmp_path: Path
) -> None:
    inds, rec = run_on(rule, feed, FIXTURES / fixture, tmp_path)
    assert rec["status"] == "ok", rec
    assert [(i.indicator, i.itype) for i in inds] == expected
    assert rec["counts"]["rejected"] == 0
    for i in inds:
        assert i.provider and i.tags and 0 < i.confidence <= 100 and i.tlp == "clear"


def test_every_bundled_feed_has_a_fixture_test() -> None:
    tested = {(c[0], c[1]) for c in CASES} | {
        ("phishtank", "online-valid"),
        ("topsites", "tranco"),
        ("topsites", "umbrella"),
        ("public_dns", "resolvers"),
    }
    for p in bundled_rules():
        feeds = load_rule(p)
        done = [f for f in feeds if (f.rule, f.name) in tested]
        for f in feeds:
            if (f.rule, f.name) in tested:
                continue
            # a sibling feed of the same publisher with the same layout was tested
            assert any(
                d.parser == f.parser
                and d.values == f.values
                and d.pattern == f.pattern
                and d.skip == f.skip
                for d in done
            ), f.key


def test_spamhaus_drop_fields_and_bad_line(tmp_path: Path) -> None:
    inds, rec = run_on("spamhaus", "drop", FIXTURES / "spamhaus_drop.txt", tmp_path)
    first = inds[0]
    assert first.provider == "spamhaus.org" and first.confidence == 95
    assert first.tags == {"hijacked", "drop"}
    assert first.reference == "https://check.spamhaus.org/sbl/query/SBL256894"
    assert rec["counts"]["bad"] == 1
    assert rec["samples"][0]["input"] == "this line is broken"


def test_asndrop_keeps_names(tmp_path: Path) -> None:
    inds, rec = run_on("spamhaus", "asndrop", FIXTURES / "spamhaus_asndrop.json", tmp_path)
    assert inds[0].asn_desc == "ASN-QUADRANET-GLOBAL" and inds[0].cc == "US"
    assert rec["counts"]["bad"] == 0  # the metadata line is skipped, not counted bad


def test_urlhaus_tags_and_times(tmp_path: Path) -> None:
    inds, _ = run_on("abusech", "urlhaus", FIXTURES / "urlhaus.csv", tmp_path)
    assert {"malware", "mozi", "elf"} <= inds[0].tags
    assert inds[0].reference == "https://urlhaus.abuse.ch/url/2849781/"
    assert inds[0].first_at is not None and inds[0].first_at.isoformat().startswith(
        "2024-05-01T12:19:06"
    )
    assert inds[0].description == "URLhaus: malware_download"


def test_feodo_template_and_port(tmp_path: Path) -> None:
    inds, _ = run_on("abusech", "feodotracker", FIXTURES / "feodo_ipblocklist.csv", tmp_path)
    assert inds[0].description == "QakBot botnet C2" and inds[0].portlist == "443"
    assert inds[0].reference == "https://feodotracker.abuse.ch/browse/host/51.161.73.194/"


def test_threatfox_confidence_and_port(tmp_path: Path) -> None:
    inds, _ = run_on("abusech", "threatfox", FIXTURES / "threatfox.csv", tmp_path)
    assert inds[0].portlist == "443" and inds[0].confidence == 100
    assert inds[1].confidence == 75 and "lummastealer" in inds[1].tags
    assert inds[2].description == "ThreatFox botnet_cc: SmokeLoader"


def test_dshield_block_cc_and_name(tmp_path: Path) -> None:
    inds, _ = run_on("dshield", "block", FIXTURES / "dshield_block.txt", tmp_path)
    assert inds[0].cc == "GB" and inds[0].asn_desc == "TECHOFF SRV LIMITED"


def test_cymru_private_bogon_is_flagged_not_lost(tmp_path: Path) -> None:
    inds, _ = run_on("cymru", "fullbogons-ipv4", FIXTURES / "fullbogons-ipv4.txt", tmp_path)
    ten = next(i for i in inds if i.indicator == "10.0.0.0/8")
    assert "private" in ten.flags


def test_phishtank_bz2_json(tmp_path: Path) -> None:
    body = tmp_path / "online-valid.json.bz2"
    body.write_bytes(bz2.compress((FIXTURES / "phishtank_online-valid.json").read_bytes()))
    inds, rec = run_on("phishtank", "online-valid", body, tmp_path)
    assert [i.indicator for i in inds] == [
        "https://appleid-verify.example.com/login",
        "http://netflix-billing.example.org/update",
    ]
    assert inds[0].description == "Apple" and inds[0].tags == {"phishing"}
    assert inds[0].reference == "http://www.phishtank.com/phish_detail.php?phish_id=8512345"


@pytest.mark.parametrize("feed", ["tranco", "umbrella"])
def test_top_sites_zip_are_whitelist(feed: str, tmp_path: Path) -> None:
    z = tmp_path / "top-1m.csv.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(FIXTURES / "top-1m.csv", "top-1m.csv")
    inds, _ = run_on("topsites", feed, z, tmp_path)
    assert [i.indicator for i in inds] == [
        "google.com",
        "amazonaws.com",
        "facebook.com",
        "microsoft.com",
    ]
    assert all("whitelist" in i.tags for i in inds)
    assert inds[0].description.endswith("rank 1")


def test_top_sites_limit(tmp_path: Path) -> None:
    inds, _ = run_on("topsites", "tranco", FIXTURES / "top-1m.csv", tmp_path, limit=2)
    assert len(inds) == 2


def test_public_dns_resolvers_ship_with_the_package(tmp_path: Path) -> None:
    feed = load_rule("public_dns")[0]
    from cif.ingest import Fetcher, run_feed

    from .conftest import Collect

    sink = Collect()
    rec = run_feed(feed, fetcher=Fetcher(tmp_path), submit=sink)
    assert rec["status"] == "ok"
    values = {i.indicator for i in sink.indicators}
    assert {"8.8.8.8", "1.1.1.1", "9.9.9.9", "2606:4700:4700::1111"} <= values
    assert all("whitelist" in i.tags for i in sink.indicators)
