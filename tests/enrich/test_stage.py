from datetime import UTC, datetime

import pytest

from cif.enrich import EnrichConfig, EnrichStage, InvalidEnrichConfig
from cif.indicator import Indicator
from cif.pipeline.core import Pipeline


class ListSink:
    def __init__(self):
        self.got = []

    def upsert(self, indicators):
        self.got.extend(indicators)


def test_stage_in_pipeline_with_dns_geo_and_derivation(dns_server, mmdb_files):
    cfg = EnrichConfig.from_dict(
        {
            "mmdb": list(mmdb_files),
            "dns": {
                "nameservers": ["127.0.0.1"],
                "port": dns_server.port,
                "timeout": 0.5,
                "budget": 2,
            },
        }
    )
    stage = EnrichStage(cfg)
    sink = ListSink()
    try:
        res = Pipeline(sink, stages=[stage]).submit(
            [
                {"indicator": "evil.badsite.xyz", "confidence": 80, "provider": "p"},
                {"indicator": "45.33.1.44", "provider": "p"},
                {"indicator": "46.4.5.1", "provider": "p", "extra": {"enrich": False}},
            ]
        )
    finally:
        stage.close()
    vals = {i.indicator: i for i in sink.got}
    fq = vals["evil.badsite.xyz"]
    assert fq.extra["dns"]["mx"] == ["mail.dnshost.xyz"] and fq.rdata == "45.33.1.10"
    a = vals["45.33.1.10"]
    assert a.extra["derived"] == "resolved" and a.extra["parent_indicator"] == "evil.badsite.xyz"
    assert (a.asn, a.asn_desc, a.cc) == (64500, "Example Hosting", "NL")
    assert a.confidence == 40.0
    assert vals["45.33.1.44"].asn == 64500
    assert vals["46.4.5.1"].asn is None
    assert vals["badsite.xyz"].tags == {"context"}
    assert res.accepted == len(sink.got) == 7
    assert stage.stats.derived == 4 and stage.stats.dns_names == 1


def test_without_dns_or_mmdb_only_derivation_runs():
    stage = EnrichStage(EnrichConfig())
    out = stage([Indicator("http://a.badsite.xyz/x", "url", last_at=datetime.now(UTC))])
    assert [i.indicator for i in out] == ["http://a.badsite.xyz/x", "a.badsite.xyz", "badsite.xyz"]
    assert EnrichStage(EnrichConfig.from_dict({"derive": False}))(out[:1]) == out[:1]


def test_per_record_step_list():
    stage = EnrichStage(EnrichConfig())
    out = stage([Indicator("http://a.badsite.xyz/x", "url", extra={"enrich": ["geo"]})])
    assert len(out) == 1


def test_bad_config_names_the_key():
    with pytest.raises(InvalidEnrichConfig, match="dns: unknown keys bogus"):
        EnrichConfig.from_dict({"dns": {"bogus": 1}})
    with pytest.raises(InvalidEnrichConfig, match="unknown keys geoip"):
        EnrichConfig.from_dict({"geoip": "x"})
