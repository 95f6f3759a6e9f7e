import base64
import csv as pycsv
import io
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from cif.formats import FORMATS, FormatError, render
from cif.formats.rpz import rpz_ip, soa_serial
from cif.formats.rules import next_state
from cif.indicator.model import Indicator

T = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def mk(value, itype, **kw):
    kw.setdefault("first_at", T)
    kw.setdefault("last_at", T)
    kw.setdefault("tags", {"phishing"})
    kw.setdefault("provider", "example-feed")
    return Indicator(indicator=value, itype=itype, **kw)


MIXED = [
    mk("bad.example.com", "fqdn", description="phish kit"),
    mk("45.1.2.3", "ipv4", confidence=90, tags={"scanner", "ssh"}),
    mk("45.1.3.0/24", "ipv4_cidr"),
    mk("2a00:1450:4001::1", "ipv6"),
    mk("2a00:1450:4002::/48", "ipv6_cidr"),
    mk('http://x.example.net:8080/a;b"c/login.php?u=1', "url", tlp="red"),
    mk("someone@example.org", "email", tlp="clear"),
    mk("d41d8cd98f00b204e9800998ecf8427e", "md5"),
    mk("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256", tlp="green"),
]
IPS = [i for i in MIXED if i.itype.startswith("ipv")]


def need_tool(name):
    if shutil.which(name):
        return
    if os.environ.get("CIF_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is not installed and CIF_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(f"{name} is not installed (Debian package bind9-utils)")


def test_unknown_format_names_the_value():
    with pytest.raises(FormatError, match="'nope'"):
        render("nope", MIXED)


def test_csv_round_trips_and_defuses_formulas():
    text = render("csv", MIXED + [mk("=cmd.example", "fqdn", description="=HYPERLINK()")])
    rows = list(pycsv.DictReader(io.StringIO(text)))
    assert rows[5]["indicator"] == MIXED[5].indicator
    assert rows[1]["tags"] == "scanner,ssh" and rows[1]["last_at"] == "2024-05-01T10:00:00Z"
    assert rows[-1]["description"] == "'=HYPERLINK()"


def test_json_and_jsonl_carry_every_field():
    arr = json.loads(render("json", MIXED))
    assert [o["indicator"] for o in arr] == [i.indicator for i in MIXED]
    lines = render("jsonl", MIXED).splitlines()
    assert len(lines) == len(MIXED) and json.loads(lines[1])["confidence"] == 90


def test_table_aligns_columns():
    lines = render("table", MIXED).splitlines()
    assert lines[0].split()[0] == "indicator" and set(lines[1]) <= {"-", " "}
    col = lines[0].index("itype")
    assert all(line[col:].startswith(i.itype) for line, i in zip(lines[2:], MIXED))


def test_plain_list_drops_url_scheme_and_dedups():
    out = render("plain", MIXED + [MIXED[0]], wildcard=True).splitlines()
    assert out[:2] == ["bad.example.com", "*.bad.example.com"]
    assert 'x.example.net:8080/a;b"c/login.php?u=1' in out and len(out) == len(set(out))


def test_ipset_script_has_family_sets_and_atomic_swap():
    text = render("ipset", IPS, name="blk")
    assert "create blk-v4 hash:net family inet " in text
    assert "add blk-v4-tmp 45.1.3.0/24 -exist" in text
    assert "add blk-v6-tmp 2a00:1450:4002::/48 -exist" in text
    assert text.index("swap blk-v4-tmp blk-v4") > text.index("add blk-v4-tmp 45.1.2.3")
    with pytest.raises(FormatError, match="bad.example.com"):
        render("ipset", MIXED)
    with pytest.raises(FormatError, match="set name"):
        render("ipset", IPS, name="x; rm -rf /")


def test_nftables_script_sets():
    text = render("nftables", IPS)
    assert "add set inet cif cif_v4 { type ipv4_addr; flags interval; auto-merge; }" in text
    assert "add element inet cif cif_v4 { 45.1.2.3, 45.1.3.0/24 }" in text
    assert "add element inet cif cif_v6 { 2a00:1450:4001::1, 2a00:1450:4002::/48 }" in text


def test_zeek_intel_layout():
    lines = render("zeek", MIXED).splitlines()
    header = lines[0].split("\t")
    assert header[:5] == ["#fields", "indicator", "indicator_type", "meta.source", "meta.desc"]
    rows = {r.split("\t")[0]: r.split("\t") for r in lines[1:]}
    assert all(len(r) == len(header) - 1 for r in rows.values())
    assert rows["45.1.2.3"][1] == "Intel::ADDR" and rows["45.1.3.0/24"][1] == "Intel::SUBNET"
    assert rows["bad.example.com"][1:4] == ["Intel::DOMAIN", "cif:example-feed", "phish kit"]
    assert rows['x.example.net:8080/a;b"c/login.php?u=1'][1] == "Intel::URL"
    assert rows["someone@example.org"][1] == "Intel::EMAIL"
    assert rows[MIXED[7].indicator][1] == "Intel::FILE_HASH" and rows[MIXED[7].indicator][4] == "-"
    plain = render("zeek", MIXED, extra_meta=False).splitlines()
    assert plain[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"


def test_rpz_triggers_and_named_checkzone(tmp_path):
    assert rpz_ip("1.2.3.4") == "32.4.3.2.1.rpz-ip"
    assert rpz_ip("2001:db8::/32") == "32.zz.db8.2001.rpz-ip"
    assert rpz_ip("2001:db8::1") == "128.1.zz.db8.2001.rpz-ip"
    assert soa_serial(previous_serial=2_000_000_000, now=1_700_000_000) == 2_000_000_001
    assert soa_serial(previous_serial=5, now=1_700_000_000) == 1_700_000_000
    text = render("rpz", MIXED, origin="rpz.example", action="NODATA", now=1_700_000_000)
    assert "*.bad.example.com CNAME *." in text and "32.3.2.1.45.rpz-ip CNAME *." in text
    assert "48.zz.4002.1450.2a00.rpz-ip CNAME *." in text
    with pytest.raises(FormatError, match="'BLOCK'"):
        render("rpz", MIXED, action="BLOCK")
    need_tool("named-checkzone")
    for action in ("nxdomain", "nodata", "drop", "passthru"):
        zone = tmp_path / f"{action}.zone"
        zone.write_text(render("rpz", MIXED, origin="rpz.example", action=action))
        res = subprocess.run(
            ["named-checkzone", "rpz.example", str(zone)], capture_output=True, text=True
        )
        assert res.returncode == 0, res.stdout + res.stderr


def test_stix_bundle_validates_and_ids_are_stable():
    from stix2validator import ValidationOptions, validate_string

    data = render("stix", MIXED, now=T)
    res = validate_string(data.decode(), ValidationOptions(version="2.1"))
    assert res.is_valid, [str(e) for e in res.errors]
    bundle = json.loads(data)
    inds = [o for o in bundle["objects"] if o["type"] == "indicator"]
    marks = {o["name"] for o in bundle["objects"] if o["type"] == "marking-definition"}
    assert marks == {"TLP:AMBER", "TLP:RED", "TLP:CLEAR", "TLP:GREEN"}
    pats = {o["pattern"] for o in inds}
    assert "[ipv4-addr:value = '45.1.3.0/24']" in pats
    assert "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']" in pats
    assert any(p.startswith("[url:value = 'http://x.example.net") for p in pats)
    assert inds[1]["confidence"] == 90 and inds[1]["valid_from"] == "2024-05-01T10:00:00.000Z"
    assert json.loads(render("stix", MIXED, now=T)) == bundle


def test_rules_parse_and_sids_stable_revs_bump():
    from suricataparser import parse_rule

    items = [i for i in MIXED if i.itype in ("ipv4", "ipv6", "ipv4_cidr", "fqdn", "url")]
    for engine in ("suricata", "snort"):
        text = render(engine, items, sid_base=2_000_000)
        rules = [parse_rule(line) for line in text.splitlines()]
        assert len(rules) == len(items) and all(r is not None for r in rules)
        assert all(2_000_000 <= r.sid < 2_900_000 for r in rules)
    st1 = next_state(items)
    assert next_state(list(reversed(items))) == st1
    changed = [items[0], mk("45.1.2.3", "ipv4", confidence=40, tags={"scanner", "ssh"})]
    st2 = next_state(changed, st1)
    assert (
        st2["ipv4:45.1.2.3"]["rev"] == 2
        and st2["ipv4:45.1.2.3"]["sid"] == st1["ipv4:45.1.2.3"]["sid"]
    )
    assert st2["fqdn:bad.example.com"]["rev"] == 1
    text = render("suricata", changed, state=st1)
    assert f"sid:{st1['ipv4:45.1.2.3']['sid']}; rev:2;" in text
    assert 'content:"/a|3B|b|22|c/login.php?u=1"' in render("suricata", items)


def test_suricata_iprep_files():
    cats = render("suricata-iprep-categories", IPS).splitlines()
    assert cats == ["1,phishing,phishing", "2,scanner,scanner", "3,ssh,ssh", "4,other,other"]
    rep = render("suricata-iprep", IPS).splitlines()
    assert "45.1.2.3,2,114" in rep and "45.1.2.3,3,114" in rep and "45.1.3.0/24,1,64" in rep
    with pytest.raises(FormatError, match="id 99"):
        render("suricata-iprep", IPS, categories={"x": 99})


def test_suricata_datasets_per_itype():
    s = render("suricata-dataset", [MIXED[0]]).splitlines()
    assert base64.b64decode(s[0]) == b"bad.example.com"
    assert render("suricata-dataset", [MIXED[8]]) == MIXED[8].indicator + "\n"
    assert render("suricata-dataset", [MIXED[1]]) == "45.1.2.3\n"
    with pytest.raises(FormatError, match="one itype"):
        render("suricata-dataset", MIXED[:2])
    with pytest.raises(FormatError, match="ipv4_cidr"):
        render("suricata-dataset", [MIXED[2]])


def test_every_format_renders_an_empty_feed():
    for name in FORMATS:
        assert isinstance(render(name, []), (str, bytes))
