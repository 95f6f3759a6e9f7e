from datetime import UTC, datetime, timedelta

import pytest

from cif.indicator import Indicator
from cif.score import ConfidenceModel, Reliability, effective_confidence, explain_confidence
from cif.score.confidence import decay, noisy_or
from cif.score.reliability import InvalidReliability, shipped

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def sight(value="192.0.2.10", itype="ipv4", provider="x", conf=80.0, days=0.0, **kw):
    t = NOW - timedelta(days=days)
    return Indicator(
        indicator=value,
        itype=itype,
        provider=provider,
        confidence=conf,
        last_at=t,
        first_at=t,
        reported_at=t,
        **kw,
    )


FLAT = ConfidenceModel(reliability=Reliability({}, default=1.0))


def test_decay_halves_at_half_life():
    assert decay(0, 7) == 1.0
    assert decay(7 * 86400, 7) == pytest.approx(0.5)
    assert decay(14 * 86400, 7) == pytest.approx(0.25)
    assert decay(-5, 7) == 1.0


def test_noisy_or():
    assert noisy_or([]) == 0.0
    assert noisy_or([0.5, 0.5]) == pytest.approx(0.75)
    assert noisy_or([1.0, 0.1]) == pytest.approx(1.0)


def test_single_fresh_sighting_with_full_reliability_keeps_its_confidence():
    assert effective_confidence([sight(conf=80)], NOW, model=FLAT) == 80.0


def test_independent_providers_corroborate_same_provider_does_not():
    two = [sight(provider="a", conf=60), sight(provider="b", conf=60)]
    same = [sight(provider="a", conf=60), sight(provider="a", conf=60)]
    assert effective_confidence(two, NOW, model=FLAT) == pytest.approx(84.0)
    assert effective_confidence(same, NOW, model=FLAT) == pytest.approx(60.0)


def test_addresses_fade_faster_than_hashes():
    ip = effective_confidence([sight(days=14)], NOW, model=FLAT)
    h = effective_confidence(
        [sight("d41d8cd98f00b204e9800998ecf8427e", "md5", days=14)], NOW, model=FLAT
    )
    assert ip == pytest.approx(20.0)
    assert 79 < h < 80


def test_reliability_matches_provider_names():
    r = shipped()
    assert r.of("spamhaus.org") == r.providers["spamhaus"]
    assert r.of("sslbl.abuse.ch") == r.providers["abuse.ch"]
    assert r.of("unknown-feed.example") == r.default
    assert r.of("") == r.default
    assert effective_confidence([sight(provider="spamhaus.org", conf=100)], NOW) == 95.0


def test_reliability_yaml_layers_over_shipped(tmp_path):
    p = tmp_path / "rel.yaml"
    p.write_text("default: 0.3\nproviders:\n  myfeed: 0.99\n")
    r = Reliability.load(p)
    assert r.of("myfeed") == 0.99 and r.default == 0.3
    assert r.of("spamhaus") == shipped().providers["spamhaus"]
    with pytest.raises(InvalidReliability, match="myfeed"):
        Reliability.from_dict({"providers": {"myfeed": 1.5}})


def test_whitelist_and_guard_caps():
    s = [sight(conf=90)]
    assert effective_confidence(s, NOW, whitelisted=True, model=FLAT) == 0.0
    assert effective_confidence(s, NOW, flags=["private"], model=FLAT) == 25.0
    assert effective_confidence([sight(conf=90, flags={"reserved"})], NOW, model=FLAT) == 25.0


def test_explanation_matches_value_and_names_steps():
    s = [
        sight(provider="spamhaus", conf=90, days=7),
        sight(provider="dshield", conf=70),
        sight(provider="dshield", conf=40),
    ]
    ex = explain_confidence(s, NOW, whitelisted=["192.0.2.0/24 (local)"])
    assert [st["step"] for st in ex["steps"]] == ["sighting"] * 3 + [
        "corroboration",
        "whitelist cap",
    ]
    assert ex["steps"][0]["decay"] == pytest.approx(0.5)
    assert ex["steps"][-1]["hits"] == ["192.0.2.0/24 (local)"]
    assert ex["confidence"] == 0.0
    corr = ex["steps"][3]
    assert set(corr["providers"]) == {"spamhaus", "dshield"}
    assert corr["value"] == pytest.approx(effective_confidence(s, NOW), abs=0.01)


def test_aliases_of_one_provider_are_not_corroboration():
    s = [sight(provider="spamhaus.org", conf=80), sight(provider="spamhaus", conf=80)]
    assert effective_confidence(s, NOW) == pytest.approx(80 * 0.95)
    assert explain_confidence(s, NOW)["providers"] == 1
