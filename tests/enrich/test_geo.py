import maxminddb
import pytest

from cif.enrich import GeoLookup
from cif.enrich.geo import parse_record
from cif.enrich.mmdb_writer import encode, write_mmdb
from cif.indicator import Indicator


def test_writer_output_reads_back_with_maxminddb(tmp_path):
    rec = {
        "s": "x" * 300,
        "n": 2**40,
        "neg": -7,
        "f": 0.25,
        "b": True,
        "l": list(range(40)),
        "m": {"k": "v"},
    }
    p = write_mmdb(
        tmp_path / "t.mmdb",
        [("10.0.0.0/8", rec), ("10.1.0.0/16", {"s": "inner"}), ("2a01:4f8::/32", {"s": "six"})],
    )
    with maxminddb.open_database(str(p)) as r:
        assert r.get("10.2.3.4") == rec
        assert r.get_with_prefix_len("10.1.2.3") == ({"s": "inner"}, 16)
        assert r.get("2a01:4f8::1") == {"s": "six"}
        assert r.get("11.0.0.1") is None
        assert r.metadata().ip_version == 6


def test_encode_rejects_unknown_types():
    with pytest.raises(TypeError):
        encode(object())


def test_lookup_merges_asn_and_country_databases(mmdb_files):
    g = GeoLookup(mmdb_files)
    info = g.lookup("45.33.1.55")
    assert (info.asn, info.asn_desc, info.cc) == (64500, "Example Hosting", "NL")
    assert g.lookup("46.4.5.3").cc == "DE"  # registered_country fallback
    assert g.lookup("46.4.5.200").cc is None  # outside the /25
    assert g.lookup("2a01:4f8::1").asn == 64502
    assert g.lookup("203.0.113.1").asn is None
    g.close()


def test_parse_record_flat_layout():
    info = parse_record({"asn": "AS15169", "as_name": "Google", "country_code": "us"})
    assert (info.asn, info.asn_desc, info.cc) == (15169, "Google", "US")


def test_enrich_fills_only_gaps(mmdb_files):
    g = GeoLookup(mmdb_files)
    a = Indicator("45.33.1.1", "ipv4")
    b = Indicator("45.33.1.2", "ipv4", asn=1, asn_desc="Feed Says", cc=None)
    c = Indicator("badsite.xyz", "fqdn")
    n = Indicator("45.33.1.0/28", "cidr")
    assert g.enrich([a, b, c, n]) == 3
    assert (a.asn, a.cc) == (64500, "NL")
    assert (b.asn, b.asn_desc, b.cc) == (1, "Feed Says", "NL")
    assert c.asn is None and n.asn == 64500
    g.close()
