"""/predict and /indicators/explain against a real store and the shipped models."""

from __future__ import annotations


def test_predict_scores_names_and_urls(api):
    h = api.h(api.reader)
    assert api.client.get("/predict", params={"q": "google.com"}).status_code == 401
    r = api.client.get(
        "/predict",
        params=[
            ("q", "google.com"),
            ("q", "http://paypal.com.secure-login-verify.xyz/webscr/cmd=login"),
            ("q", "1.2.3.4"),
        ],
        headers=h,
    )
    rows = r.json()["predictions"]
    assert len(rows) == 3
    assert 0 <= rows[0]["probability"] <= 100 and 0 <= rows[1]["probability"] <= 100
    assert rows[1]["probability"] > rows[0]["probability"]
    assert "error" in rows[2]


def test_explain_shows_sightings_and_the_computation(api):
    api.client.post(
        "/indicators",
        json=[
            {"indicator": "evil-login.net", "provider": "spamhaus", "confidence": 80},
            {"indicator": "evil-login.net", "provider": "openphish", "confidence": 70},
        ],
        headers=api.h(api.admin),
    )
    r = api.client.get(
        "/indicators/explain", params={"q": "EVIL-LOGIN[.]net"}, headers=api.h(api.reader)
    )
    body = r.json()
    assert r.status_code == 200, r.text
    assert body["indicator"] == "evil-login.net" and len(body["sightings"]) == 2
    conf = body["confidence"]
    assert conf is not None and conf["steps"]
    assert 0 < conf["confidence"] <= 100
    assert body["feed"]["in_feed"] in (True, False) and body["probability"] is not None
    r = api.client.get("/indicators/explain", params={"q": "300.1.1.1"}, headers=api.h(api.reader))
    assert r.status_code == 400 and "300.1.1.1" in r.json()["error"]
