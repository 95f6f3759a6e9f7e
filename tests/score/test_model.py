import json
import random
from pathlib import Path

import numpy as np
import pytest

from cif.feeds.guards import top_sites
from cif.indicator import Indicator
from cif.score.features import (
    DENSE_NAMES,
    HOST_DENSE_NAMES,
    Encoded,
    Featurizer,
    dense_matrix,
    ngram_hashes,
    split_host,
)
from cif.score.model import LexicalModel, ModelError, load_model, shipped_path
from cif.score.predict import ProbabilityStage, classify, predict
from cif.score.train import TrainingError, read_labelled, train, train_from_files

WORDS = ["secure", "login", "verify", "account", "update", "paypal", "apple", "bank", "signin"]
TLDS = ["tk", "xyz", "top", "ml", "info", "com", "ru"]


def phishy(rng: random.Random, n: int) -> list[str]:
    out = []
    for i in range(n):
        w = rng.sample(WORDS, 3)
        out.append(
            f"{w[0]}-{w[1]}{rng.randint(1, 999)}.{w[2]}-{rng.randint(10, 99)}.{rng.choice(TLDS)}"
        )
    return out


@pytest.fixture(scope="module")
def data():
    rng = random.Random(3)
    good = sorted(top_sites())
    bad = phishy(rng, len(good))
    return bad + good, [1] * len(bad) + [0] * len(good)


@pytest.fixture(scope="module")
def trained(data):
    vals, labels = data
    return train(vals, labels, "fqdn", n_features=2**14)


def test_ngram_hashing_counts_every_ngram():
    e = Encoded.of(["abcabc", "", "ab", "abcd"])
    rows, cols = ngram_hashes(e, 2**16)
    assert np.bincount(rows, minlength=4).tolist() == [9, 0, 0, 3]  # 4 + 3 + 2 grams of 3..5
    assert len(set(cols[rows == 0])) == 8  # "abc" twice
    with pytest.raises(ValueError):
        ngram_hashes(e, 1000)


def test_dense_measures():
    d = dense_matrix(Encoded.of(["http://1.2.3.4/a/b?login=1", "aaaa", "ab"]))
    assert d.shape == (3, len(DENSE_NAMES))
    col = {n: i for i, n in enumerate(DENSE_NAMES)}
    assert d[0, col["ip_host"]] == 1 and d[0, col["path_depth"]] == 2 and d[0, col["keywords"]] == 1
    assert d[1, col["entropy"]] == 0 and d[2, col["entropy"]] == pytest.approx(1.0)


def test_direct_score_matches_matrix_product():
    f = Featurizer(2**12)
    vals = ["evil.example.tk/login.php?x=1", "google.com", "", "a"]
    f.fit_scaler(vals)
    coef = np.random.default_rng(1).normal(size=f.width).astype(np.float32)
    assert np.allclose(f.transform(vals) @ coef + 0.5, f.score(vals, coef, 0.5), atol=1e-4)


def test_host_layout_score_matches_matrix_product():
    f = Featurizer(2**12, layout="host")
    vals = ["www.paypal.com.secure-x.tk", "google.com", "", "a", "bbc.co.uk", "x.y.z.example.org"]
    f.fit_scaler(vals)
    assert f.width == 2**12 + len(DENSE_NAMES) + len(HOST_DENSE_NAMES)
    coef = np.random.default_rng(2).normal(size=f.width).astype(np.float32)
    assert np.allclose(f.transform(vals) @ coef - 1.0, f.score(vals, coef, -1.0), atol=1e-4)
    # "www." says nothing about intent: the same features with or without it
    a, b = f.transform(["www.example.com"]), f.transform(["example.com"])
    assert abs(a - b).sum() == 0


def test_split_host_and_host_measures():
    assert split_host("www.a.b.paypal.co.uk") == ("a.b", "paypal", "co.uk")
    assert split_host("example.com") == ("", "example", "com")
    assert split_host("localhost") == ("", "localhost", "")
    f = Featurizer(2**10, layout="host")
    d = f._parts(["paypal.com.verify.tk", "paypal.com", "mypaypal-login.com", "qxzvbk.com"])[4]
    col = {n: len(DENSE_NAMES) + i for i, n in enumerate(HOST_DENSE_NAMES)}
    assert d[:, col["brand_outside"]].tolist() == [1, 0, 1, 0]
    assert d[2, col["reg_hyphens"]] == 1 and d[0, col["labels"]] == 2
    plaus = d[:, col["reg_bigram_plausibility"]]
    assert plaus[1] > plaus[3] and d[3, col["reg_consonant_run"]] == 6


def test_training_reports_held_out_figures(trained):
    r = trained.report
    assert r["held_out"]["roc_auc"] > 0.95
    assert set(r["held_out"]) >= {"precision", "recall", "roc_auc", "fpr", "false_positives"}
    assert r["sites"]["train"] and r["sites"]["test"] and 50 <= r["threshold"] <= 99
    assert len(trained.test_values) == r["test"]


def test_save_load_roundtrip_without_pickle(trained, tmp_path):
    p = trained.model.save(tmp_path / "m.npz")
    with np.load(p, allow_pickle=False) as z:
        assert json.loads(bytes(z["meta"]))["itype"] == "fqdn"
    m = LexicalModel.load(p)
    vals = ["secure-login1.bank-12.tk", "wikipedia.org"]
    assert np.allclose(m.predict(vals), trained.model.predict(vals), atol=0.5)
    assert m.threshold == trained.model.threshold
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    with pytest.raises(ModelError):
        LexicalModel.load(tmp_path / "bad.npz")
    with pytest.raises(ModelError, match="not url"):
        load_model("url", str(p))


def test_training_needs_both_classes():
    with pytest.raises(TrainingError, match="at least 10"):
        train(["a.com", "b.com"], [1, 0], "fqdn")


def test_train_from_labelled_files(tmp_path):
    rng = random.Random(5)
    lines = [f"http://{v}/wp-admin/{rng.randint(1, 9)}.php,malicious" for v in phishy(rng, 200)]
    lines += [f"https://www.{s}/,0" for s in sorted(top_sites())[:200]]
    (tmp_path / "l.csv").write_text("# value,label\n" + "\n".join(lines) + "\n")
    assert read_labelled(tmp_path / "l.csv")[0][1] == 1
    res = train_from_files("url", [tmp_path / "l.csv"], n_features=2**12)
    assert res.report["held_out"]["n"] > 0 and res.model.itype == "url"
    (tmp_path / "x.csv").write_text("a.com,maybe\n")
    with pytest.raises(TrainingError, match="x.csv:1"):
        read_labelled(tmp_path / "x.csv")


def test_shipped_models_separate_obvious_cases():
    url = load_model("url")
    fq = load_model("fqdn")
    phish = "http://paypal.com.secure-login-verify.account-update.tk/webscr.php?cmd=_login"
    assert predict([phish], "url")[0] >= url.threshold
    assert predict(["https://www.wikipedia.org/"], "url")[0] < url.threshold
    assert (
        predict(["paypal-secure-login-verify-account.tk"], "fqdn")[0]
        > predict(["netflix.com"], "fqdn")[0]
    )
    sites = sorted(top_sites())
    flagged = sum(p >= fq.threshold for p in predict(sites, "fqdn"))
    assert flagged / len(sites) < 0.01


HELD_OUT = Path(__file__).parent / "data" / "fqdn_held_out.tsv"
# Documented bound (docs/context.md): at most 0.5 % of the shipped top-sites list flagged.
TOP_SITES_FLAG_BOUND = 0.005


def test_shipped_models_load_small_without_pickle():
    for itype in ("url", "fqdn"):
        p = shipped_path(itype)
        assert p.stat().st_size < 2 * 1024 * 1024
        with np.load(p, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]))
        assert meta["itype"] == itype
        m = load_model(itype)
        assert 50 <= m.threshold <= 99 and m.card["held_out"]["roc_auc"] > 0.85
    assert load_model("fqdn").featurizer.layout == "host"


def test_shipped_fqdn_model_ranks_held_out_names():
    rows = [
        line.split("\t")
        for line in HELD_OUT.read_text().splitlines()
        if line and not line.startswith("#")
    ]
    bad = [v for v, y in rows if y == "1"]
    good = [v for v, y in rows if y == "0"]
    assert len(bad) >= 100 and len(good) >= 100
    pb, pg = np.asarray(predict(bad, "fqdn")), np.asarray(predict(good, "fqdn"))
    assert pb.mean() > pg.mean() + 20
    # ranking: a random bad name beats a random good one most of the time (ROC AUC)
    auc = (pb[:, None] > pg[None, :]).mean() + 0.5 * (pb[:, None] == pg[None, :]).mean()
    assert auc > 0.85
    fq = load_model("fqdn")
    assert (pg >= fq.threshold).mean() < 0.02


def test_shipped_fqdn_model_top_sites_flag_rate():
    fq = load_model("fqdn")
    sites = sorted(top_sites())
    assert len(sites) > 500
    flagged = sum(p >= fq.threshold for p in predict(sites, "fqdn"))
    assert flagged / len(sites) <= TOP_SITES_FLAG_BOUND


def test_probability_stage_fills_only_missing():
    a = Indicator("paypal-secure-login-verify-account.tk", "fqdn")
    b = Indicator("http://netflix.com/", "url", probability=12.0)
    c = Indicator("192.0.2.1", "ipv4")
    out = ProbabilityStage()([a, b, c])
    assert out == [a, b, c]
    assert a.probability is not None and 0 <= a.probability <= 100
    assert b.probability == 12.0 and c.probability is None


def test_classify_reports_errors_per_value():
    rows = classify(["netflix.com", "192.0.2.1", "not a value at all"])
    assert rows[0]["itype"] == "fqdn" and "probability" in rows[0] and "flagged" in rows[0]
    assert "no probability model" in rows[1]["error"]
    assert "error" in rows[2]
