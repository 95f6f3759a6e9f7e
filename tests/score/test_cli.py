import json
import random

from typer.testing import CliRunner

from cif.cli import app
from cif.feeds.guards import top_sites

runner = CliRunner()


def test_predict_prints_one_object_per_value():
    r = runner.invoke(app, ["predict", "netflix.com", "http://login-verify.secure-paypal.tk/x.php"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert [x["itype"] for x in rows] == ["fqdn", "url"]
    assert all(0 <= x["probability"] <= 100 for x in rows)


def test_predict_bad_value_exits_nonzero():
    r = runner.invoke(app, ["predict", "192.0.2.1"])
    assert r.exit_code == 1 and "error" in r.output


def test_model_train_then_predict_with_it(tmp_path):
    rng = random.Random(9)
    bad = [
        f"{rng.choice(['secure', 'verify', 'login'])}-{rng.randint(1, 10**6)}"
        f".account-{rng.randint(1, 99)}.tk"
        for _ in range(300)
    ]
    (tmp_path / "bad.txt").write_text("\n".join(bad))
    (tmp_path / "good.txt").write_text("\n".join(sorted(top_sites())))
    out = tmp_path / "m.npz"
    r = runner.invoke(
        app,
        [
            "model",
            "train",
            "--itype",
            "fqdn",
            "--malicious",
            str(tmp_path / "bad.txt"),
            "--benign",
            str(tmp_path / "good.txt"),
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["held_out"]["roc_auc"] > 0.9 and out.exists()
    r = runner.invoke(
        app, ["predict", "--itype", "fqdn", "--model", str(out), "verify-77.account-3.tk"]
    )
    assert json.loads(r.output)["probability"] > 50
    r = runner.invoke(app, ["model", "info", "--itype", "fqdn", "--model", str(out)])
    assert json.loads(r.output)["threshold"] == rep["threshold"]


def test_model_train_bad_itype():
    r = runner.invoke(app, ["model", "train", "--itype", "ipv4"])
    assert r.exit_code != 0
