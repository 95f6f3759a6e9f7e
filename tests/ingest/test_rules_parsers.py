"""Rules (csirtg-smrt / csirtg-fm compatibility, errors) and every parser on fixtures."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cif.cli import app
from cif.ingest import RuleError, load_rule
from cif.ingest.rules import env_secret

from .conftest import FIXTURES, run_on


def write_rule(tmp: Path, text: str, name: str = "r.yml") -> Path:
    p = tmp / name
    p.write_text(textwrap.dedent(text))
    return p


# -- old rules load unchanged ---------------------------------------------------------


def test_smrt_rule_with_settings_in_defaults(tmp_path: Path) -> None:
    inds, rec = run_on(
        FIXTURES / "smrt_sans.yml", "02_domains_low", "dshield_suspiciousdomains_High.txt", tmp_path
    )
    assert [i.indicator for i in inds][:1] == ["000007.ru"]
    assert len(inds) == 3 and rec["counts"]["bad"] == 0  # comments and 'Site' skipped
    assert inds[0].confidence == 70  # 7 on the 0-10 scale
    assert inds[0].tlp == "green" and inds[0].provider == "isc.sans.edu"


def test_smrt_pattern_with_mask(tmp_path: Path) -> None:
    inds, rec = run_on(FIXTURES / "smrt_sans.yml", "block", "dshield_block.txt", tmp_path)
    assert [i.indicator for i in inds] == ["45.148.10.0/24", "80.94.95.0/24"]
    assert inds[0].tags == {"suspicious", "scanner"} and inds[0].confidence == 80
    assert rec["counts"]["bad"] == 1  # the 'Start End ...' header does not match


def test_smrt_csv_with_legacy_names_and_angle_template(tmp_path: Path) -> None:
    inds, rec = run_on(FIXTURES / "smrt_csv.yml", "port-scanners", "smrt_feed.csv", tmp_path)
    assert [i.indicator for i in inds] == ["198.51.100.7"]
    i = inds[0]
    assert i.reference == "https://csirtg.io/search?q=198.51.100.7"
    assert i.portlist == "22" and i.protocol == "tcp" and i.confidence == 90
    assert i.description == "ssh scanner, many hosts"
    assert i.last_at is not None and i.last_at.isoformat().startswith("2024-05-01T10:00:00")
    assert i.extra["application"] == "ssh" and i.extra["altid_tlp"] == "white"
    assert rec["counts"]["rejected"] == 2  # the header row and the bad value
    assert any("not an indicator" in s["input"] for s in rec["samples"])


def test_fm_v3_scale(tmp_path: Path) -> None:
    inds, _ = run_on(FIXTURES / "fm_v3_scale4.yml", "ips", "et_compromised-ips.txt", tmp_path)
    assert inds[0].confidence == 75


def test_scale_flag_overrides(tmp_path: Path) -> None:
    feeds = load_rule(str(FIXTURES / "smrt_sans.yml"), confidence_scale=100)
    assert feeds[0].confidence_scale == 100


def test_provider_from_remote_host(tmp_path: Path) -> None:
    p = write_rule(
        tmp_path,
        """
        feeds:
          x:
            remote: https://www.feeds.example.org/list.txt
    """,
    )
    (feed,) = load_rule(p)
    assert feed.defaults["provider"] == "feeds.example.org" and feed.parser == "plain"


# -- errors name file, feed and key -----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "feed", "key"),
    [
        ("feeds:\n  a:\n    remote: x\n    pattern: '(unclosed'\n", "a", "pattern"),
        ("feeds:\n  a:\n    remote: x\n    parser: excel\n", "a", "parser"),
        ("feeds:\n  a:\n    parser: csv\n", "a", "remote"),
        ("feeds:\n  a:\n    remote: x\n    interval: soon\n", "a", "interval"),
        ("feeds:\n  a:\n    remote: x\n    limit: -3\n", "a", "limit"),
        ("feeds:\n  a:\n    remote: x\n    remtoe: y\n", "a", "remtoe"),
        ("feeds:\n  a:\n    remote: x\n    token: 'sk-live-abc def'\n", "a", "token"),
        ("confidence_scale: 7\nfeeds:\n  a:\n    remote: x\n", None, "confidence_scale"),
        ("feeds:\n  a:\n    remote: x\n    confidence: 120\n", "a", "confidence"),
        ("feeds: [1, 2]\n", None, "feeds"),
    ],
)
def test_rule_errors_name_file_feed_key(
    tmp_path: Path, body: str, feed: str | None, key: str
) -> None:
    p = write_rule(tmp_path, body, "broken.yml")
    with pytest.raises(RuleError) as e:
        load_rule(p)
    assert e.value.feed == feed and e.value.key == key
    assert "broken.yml" in str(e.value) and repr(key) in str(e.value)


def test_unknown_rule_name() -> None:
    with pytest.raises(RuleError, match="no such rule file or bundled rule"):
        load_rule("no-such-rule")


def test_token_read_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write_rule(tmp_path, "token: ${EXAMPLE_FEED_TOKEN}\nfeeds:\n  a:\n    remote: x\n")
    (feed,) = load_rule(p)
    monkeypatch.delenv("EXAMPLE_FEED_TOKEN", raising=False)
    with pytest.raises(RuleError, match="EXAMPLE_FEED_TOKEN is not set"):
        env_secret(feed, "token")
    monkeypatch.setenv("EXAMPLE_FEED_TOKEN", "s3cret")
    assert env_secret(feed, "token") == "s3cret"


def test_cli_check(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["fm", "check", "spamhaus", str(FIXTURES / "smrt_sans.yml")])
    assert ok.exit_code == 0, ok.output
    assert "ok spamhaus/drop" in ok.output and "confidence_scale=10" in ok.output
    bad = write_rule(tmp_path, "feeds:\n  a:\n    remote: x\n    skip_first: many\n", "bad.yml")
    res = runner.invoke(app, ["fm", "check", str(bad)])
    assert res.exit_code == 2 and "'skip_first'" in res.output and "feed 'a'" in res.output


# -- parsers ------------------------------------------------------------------------------


def test_csv_header_row_quotes_and_bad_rows(tmp_path: Path) -> None:
    data = tmp_path / "f.csv"
    data.write_text(
        '# exported\nip,note,seen\n"192.0.2.1","scanner, noisy",2024-05-01\n'
        '"192.0.2.2"\n198.51.100.9,"quoted ""x""",2024-05-02\n'
    )
    rule = write_rule(tmp_path, f"feeds:\n  a:\n    remote: {data}\n    parser: csv\n")
    inds, rec = run_on(rule, "a", data, tmp_path)
    assert [i.indicator for i in inds] == ["192.0.2.1", "198.51.100.9"]
    assert inds[0].extra["note"] == "scanner, noisy" and inds[1].extra["note"] == 'quoted "x"'
    assert rec["counts"]["bad"] == 1 and rec["samples"][0]["line"] == 4  # the short row


def test_csv_too_few_columns_is_bad_line(tmp_path: Path) -> None:
    data = tmp_path / "f.csv"
    data.write_text("2024-05-01,192.0.2.1,22\nbroken\n2024-05-02,192.0.2.3,23\n")
    rule = write_rule(
        tmp_path, f"feeds:\n  a:\n    remote: {data}\n    values: [last_at, indicator, portlist]\n"
    )
    inds, rec = run_on(rule, "a", data, tmp_path)
    assert [i.indicator for i in inds] == ["192.0.2.1", "192.0.2.3"]
    assert rec["counts"]["bad"] == 1 and rec["samples"][0]["line"] == 2


def test_tsv_and_line_filter_and_skip_first(tmp_path: Path) -> None:
    data = tmp_path / "f.tsv"
    data.write_text("generated today\n192.0.2.1\tssh\n192.0.2.2\thttp\n192.0.2.3\tssh\n")
    rule = write_rule(
        tmp_path,
        f"""
        feeds:
          a:
            remote: {data}
            parser: tsv
            skip_first: 1
            line_filter: 'ssh$'
            values: [indicator, service]
    """,
    )
    inds, _ = run_on(rule, "a", data, tmp_path)
    assert [i.indicator for i in inds] == ["192.0.2.1", "192.0.2.3"]


def test_json_envelope_and_map(tmp_path: Path) -> None:
    data = tmp_path / "f.json"
    data.write_text(
        json.dumps(
            {
                "data": {
                    "items": [
                        {
                            "ioc": {"value": "evil.example.com"},
                            "kind": "c2",
                            "seen": "2024-05-01T00:00:00Z",
                        },
                        {"ioc": {}, "kind": "c2"},
                        {"ioc": {"value": "198.51.100.3"}, "kind": "scanner"},
                    ]
                }
            }
        )
    )
    rule = write_rule(
        tmp_path,
        f"""
        feeds:
          a:
            remote: {data}
            envelope: data.items
            map: {{ioc.value: indicator, kind: description, seen: last_at}}
    """,
    )
    inds, rec = run_on(rule, "a", data, tmp_path)
    assert [(i.indicator, i.description) for i in inds] == [
        ("evil.example.com", "c2"),
        ("198.51.100.3", "scanner"),
    ]
    assert rec["counts"]["bad"] == 1


def test_json_lines_with_bad_line(tmp_path: Path) -> None:
    data = tmp_path / "f.jsonl"
    data.write_text(
        '{"url": "http://a.example.com/x", "tags": ["malware"]}\n'
        '{oops\n{"domain": "b.example.com"}\n'
    )
    rule = write_rule(tmp_path, f"feeds:\n  a:\n    remote: {data}\n")
    inds, rec = run_on(rule, "a", data, tmp_path)
    assert [i.indicator for i in inds] == ["http://a.example.com/x", "b.example.com"]
    assert inds[0].tags == {"malware"}
    assert rec["counts"]["bad"] == 1 and rec["samples"][0]["line"] == 2


def test_rss_with_map_and_pattern(tmp_path: Path) -> None:
    rule = write_rule(
        tmp_path,
        f"""
        feeds:
          a:
            remote: {FIXTURES / "feed.rss"}
            parser: rss
            map: {{title: indicator}}
            pattern: '^(\\S+://\\S+)'
    """,
    )
    inds, rec = run_on(rule, "a", FIXTURES / "feed.rss", tmp_path)
    assert [i.indicator for i in inds] == ["http://malware.example.com/a.exe"]
    assert inds[0].reference == "https://feeds.example.org/url/1"
    assert inds[0].last_at is not None and inds[0].last_at.hour == 10
    assert rec["counts"]["bad"] == 1


def test_atom_links(tmp_path: Path) -> None:
    rule = write_rule(
        tmp_path, f"feeds:\n  a:\n    remote: {FIXTURES / 'feed.atom'}\n    parser: atom\n"
    )
    inds, _ = run_on(rule, "a", FIXTURES / "feed.atom", tmp_path)
    assert [i.indicator for i in inds] == ["https://login.example-bank.example.net/verify"]
    assert inds[0].description == "credential phishing page"


def test_xml_entities_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        "<rss><channel><item><link>&b;</link></item></channel></rss>"
    )
    rule = write_rule(tmp_path, f"feeds:\n  a:\n    remote: {bomb}\n    parser: rss\n")
    inds, rec = run_on(rule, "a", bomb, tmp_path)
    assert inds == [] and rec["counts"]["bad"] == 1


def test_stix_bundle(tmp_path: Path) -> None:
    rule = write_rule(tmp_path, "feeds:\n  a:\n    remote: x\n    parser: stix\n")
    inds, rec = run_on(rule, "a", FIXTURES / "bundle.stix.json", tmp_path)
    assert [(i.indicator, i.itype) for i in inds] == [
        ("198.51.100.23", "ipv4"),
        ("aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", "sha256"),
        ("c2.example.com", "fqdn"),
    ]
    assert (
        inds[0].tlp == "green" and inds[0].confidence == 80 and "malicious-activity" in inds[0].tags
    )
    assert inds[2].reference == "https://reports.example.org/1"
    assert rec["counts"]["bad"] == 1 and "simple" in rec["samples"][0]["reason"]


def test_misp_event(tmp_path: Path) -> None:
    rule = write_rule(tmp_path, "feeds:\n  a:\n    remote: x\n    parser: misp\n")
    inds, _ = run_on(rule, "a", FIXTURES / "misp_event.json", tmp_path)
    assert [(i.indicator, i.itype) for i in inds] == [
        ("203.0.113.45", "ipv4"),
        ("http://dl.example.net/doc.zip", "url"),
        ("aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", "sha256"),
    ]
    assert inds[0].tlp == "green" and "emotet" in inds[0].tags
    assert inds[0].description == "Emotet epoch 5 distribution"
