"""Feeds, explain, tokens, stats, search log and docs over the API (both backends)."""

from __future__ import annotations

import json

import pytest

from cif.runtime import issue_token


def _seed(api):
    recs = [
        {"indicator": "93.184.216.34", "tags": "botnet", "confidence": 90, "provider": "a"},
        {"indicator": "93.184.216.34", "tags": "c2", "confidence": 60, "provider": "b"},
        {"indicator": "8.8.8.8", "tags": "scanner", "confidence": 95},  # public resolver: guarded
        {"indicator": "10.1.2.3", "tags": "scanner", "confidence": 95},  # private: guarded
        {"indicator": "45.33.32.0/24", "tags": "scanner", "confidence": 80},
        {"indicator": "45.33.32.156", "tags": "whitelist", "confidence": 100},  # splits the /24
        {"indicator": "evil-login.net", "tags": "phishing", "confidence": 85},
        {"indicator": "a.b.evil-login.net", "tags": "phishing", "confidence": 85},
        {"indicator": "netflix.com", "tags": "phishing", "confidence": 99},  # top site: guarded
        {"indicator": "paypal-secure.org", "tags": "phishing", "confidence": 30},
        {
            "indicator": "109.70.100.1",
            "tags": "tor",
            "tlp": "red",
            "group": "partners",
            "confidence": 90,
        },
    ]
    r = api.client.post("/indicators", json=recs, headers=api.h(api.admin))
    assert r.json()["rejected"] == 0, r.text


def test_ipv4_feed_subtracts_guards_and_whitelists(api):
    _seed(api)
    r = api.client.get("/feeds/ipv4", params={"format": "plain"}, headers=api.h(api.reader))
    assert r.status_code == 200, r.text
    lines = r.text.split()
    assert "93.184.216.34" in lines
    assert "8.8.8.8" not in lines and "10.1.2.3" not in lines
    assert "45.33.32.0/24" not in lines and "45.33.32.156" not in lines
    assert "45.33.32.0/25" in lines and "45.33.32.160/27" in lines  # split around the hole
    assert "109.70.100.1" not in lines  # group partners, reader is not in it
    body = json.loads(api.client.get("/feeds/ipv4", headers=api.h(api.reader)).text)
    [agg] = [i for i in body if i["indicator"] == "93.184.216.34"]
    # The effective confidence: providers a (90) and b (60), both of reliability 0.6.
    assert agg["confidence"] == pytest.approx(70.56, abs=0.01) and agg["tags"] == ["botnet", "c2"]
    assert agg["extra"]["providers"] == ["a", "b"]


def test_fqdn_floor_applies_to_the_effective_confidence(api):
    recs = [
        {"indicator": "two-sources.net", "tags": "phishing", "confidence": 40, "provider": p}
        for p in ("spamhaus", "abuse.ch")
    ] + [
        {
            "indicator": "one-source.net",
            "tags": "phishing",
            "confidence": 40,
            "provider": "spamhaus",
        }
    ]
    r = api.client.post("/indicators", json=recs, headers=api.h(api.admin))
    assert r.json()["rejected"] == 0, r.text
    h = api.h(api.reader)
    for fmt in ("plain", "json"):
        r = api.client.get("/feeds/fqdn", params={"format": fmt, "confidence": 60}, headers=h)
        assert r.status_code == 200, r.text
        assert "two-sources.net" in r.text and "one-source.net" not in r.text
    [line] = json.loads(api.client.get("/feeds/fqdn", params={"confidence": 60}, headers=h).text)
    assert line["confidence"] == pytest.approx(60.32, abs=0.01)  # 1 - (1 - .38)(1 - .36)
    r = api.client.get("/feeds/fqdn", params={"format": "csv", "confidence": 60}, headers=h)
    assert "60.3" in r.text
    body = api.client.get("/indicators/explain", params={"q": "two-sources.net"}, headers=h).json()
    assert body["feed"]["confidence"] == body["confidence"]["confidence"]
    assert body["feed"]["confidence"] == pytest.approx(line["confidence"], abs=0.01)


def test_fqdn_feed_confidence_and_formats(api):
    _seed(api)
    h = api.h(api.reader)
    r = api.client.get("/feeds/fqdn", params={"format": "plain", "confidence": 50}, headers=h)
    assert sorted(r.text.split()) == ["a.b.evil-login.net", "evil-login.net"]
    r = api.client.get("/feeds/fqdn", params={"format": "rpz", "action": "drop"}, headers=h)
    assert "evil-login.net" in r.text and "rpz-drop." in r.text and "SOA" in r.text
    r = api.client.get("/feeds/fqdn", params={"format": "nope"}, headers=h)
    assert r.status_code == 400 and "nope" in r.json()["error"]
    r = api.client.get("/feeds/ipv9", headers=h)
    assert r.status_code == 400 and "ipv9" in r.json()["error"]


def test_feed_etag_answers_304_until_the_store_changes(api):
    _seed(api)
    h = api.h(api.reader)
    r1 = api.client.get("/feeds/fqdn", params={"format": "plain"}, headers=h)
    etag = r1.headers["ETag"]
    r2 = api.client.get(
        "/feeds/fqdn", params={"format": "plain"}, headers={**h, "If-None-Match": etag}
    )
    assert r2.status_code == 304 and r2.content == b""
    api.client.post(
        "/indicators", json={"indicator": "new-bad.net", "confidence": 90}, headers=api.h(api.admin)
    )
    r3 = api.client.get(
        "/feeds/fqdn", params={"format": "plain"}, headers={**h, "If-None-Match": etag}
    )
    assert r3.status_code == 200 and "new-bad.net" in r3.text and r3.headers["ETag"] != etag


def test_explain_says_why(api):
    _seed(api)
    h = api.h(api.reader)
    r = api.client.get("/feeds/fqdn/explain", params={"q": "netflix.com"}, headers=h).json()
    assert r["in_feed"] is False and any(
        "top" in w or "guard" in w
        for w in r["whitelisted_by"] + [x["reason"] for x in r["removed"]]
    )
    r = api.client.get("/feeds/ipv4/explain", params={"q": "45.33.32.1"}, headers=h).json()
    assert r["in_feed"] is True and r["covered_by"] == ["45.33.32.0/25"]
    r = api.client.get(
        "/feeds/fqdn/explain", params={"q": "paypal-secure.org", "confidence": 50}, headers=h
    ).json()
    assert r["in_feed"] is False and r["removed"][0]["reason"] == "confidence"


def test_tlp_red_stays_in_its_group_even_for_admins(api):
    _seed(api)
    r = api.client.get("/indicators", params={"q": "109.70.100.1"}, headers=api.h(api.admin))
    assert r.json()["indicators"] == []
    partner, _ = issue_token(api.store, "p", read=True, groups=["partners"])
    r = api.client.get("/indicators", params={"q": "109.70.100.1"}, headers=api.h(partner))
    assert [i["indicator"] for i in r.json()["indicators"]] == ["109.70.100.1"]


def test_itype_allow_list(api):
    _seed(api)
    only_fqdn, _ = issue_token(api.store, "f", read=True, write=True, itypes=["fqdn"])
    h = api.h(only_fqdn)
    assert api.client.get("/feeds/ipv4", headers=h).status_code == 403
    r = api.client.get("/indicators", headers=h)
    assert {i["itype"] for i in r.json()["indicators"]} == {"fqdn"}
    assert api.client.get("/indicators", params={"itype": "ipv4"}, headers=h).status_code == 403
    r = api.client.post(
        "/indicators", json=[{"indicator": "1.1.1.1"}, {"indicator": "x-bad.net"}], headers=h
    ).json()
    assert r["accepted"] == 1 and "itype" in r["errors"][0]["error"]


def test_tokens_api_is_admin_only_and_works(api):
    assert api.client.get("/tokens", headers=api.h(api.reader)).status_code == 403
    r = api.client.post(
        "/tokens",
        json={"username": "zed", "write": True, "groups": ["a"]},
        headers=api.h(api.admin),
    )
    assert r.status_code == 201
    new = r.json()
    assert new["token"].startswith("cif_") and new["groups"] == ["a"] and new["write"] is True
    listed = api.client.get("/tokens", headers=api.h(api.admin)).json()["tokens"]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    r = api.client.patch(
        f"/tokens/{new['id']}", json={"read": True, "groups": ["a", "B"]}, headers=api.h(api.admin)
    )
    assert r.json()["groups"] == ["a", "b"] and r.json()["read"] is True
    assert api.client.get("/indicators", headers=api.h(new["token"])).status_code == 200
    assert api.client.delete(f"/tokens/{new['id']}", headers=api.h(api.admin)).status_code == 200
    assert api.client.get("/indicators", headers=api.h(new["token"])).status_code == 401
    assert api.client.delete("/tokens/99999", headers=api.h(api.admin)).status_code == 404
    r = api.client.post(
        "/tokens", json={"username": "y", "itypes": ["ipv5"]}, headers=api.h(api.admin)
    )
    assert r.status_code == 400 and "ipv5" in r.json()["error"]


def test_search_log_and_stats(api):
    _seed(api)
    api.client.get("/indicators", params={"q": "evil-login.net"}, headers=api.h(api.reader))
    api.client.get(
        "/indicators", params={"q": "secret-lookup.net", "nolog": "1"}, headers=api.h(api.reader)
    )
    assert api.client.get("/searches", headers=api.h(api.reader)).status_code == 403
    log = api.client.get("/searches", headers=api.h(api.admin)).json()["searches"]
    assert any(s["username"] == "alice" and "evil-login.net" in s["query"] for s in log)
    assert not any("secret-lookup" in s["query"] for s in log)
    stats = api.client.get("/stats", headers=api.h(api.reader)).json()
    assert stats["itype"]["fqdn"] == 4 and stats["tag"]["phishing"] == 4
    assert "partners" not in json.dumps(stats) and stats["total"] == 10
    assert sum(stats["day"].values()) == 10


def test_search_formats_and_docs(api):
    _seed(api)
    r = api.client.get(
        "/indicators", params={"itype": "fqdn", "format": "csv"}, headers=api.h(api.reader)
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "evil-login.net" in r.text
    assert api.client.get("/openapi.json").status_code == 401
    spec = api.client.get("/openapi.json", headers=api.h(api.reader)).json()
    assert "/feeds/{itype}" in spec["paths"] and "/indicators" in spec["paths"]
    page = api.client.get("/docs")
    assert (
        page.status_code == 200 and "openapi.json" in page.text and "cdn" not in page.text.lower()
    )


def test_probability_is_a_feed_filter(api):
    recs = [
        {"indicator": "likely-bad.net", "probability": 92, "confidence": 80},
        {"indicator": "probably-fine.net", "probability": 8, "confidence": 80},
        {"indicator": "unscored.net", "confidence": 80},
    ]
    api.client.post("/indicators", json=recs, headers=api.h(api.admin))
    h = api.h(api.reader)
    r = api.client.get("/feeds/fqdn", params={"format": "plain", "probability": 50}, headers=h)
    assert r.text.split() == ["likely-bad.net"]
    r = api.client.get("/feeds/fqdn", params={"format": "plain"}, headers=h)
    assert sorted(r.text.split()) == ["likely-bad.net", "probably-fine.net", "unscored.net"]
    r = api.client.get("/feeds/fqdn", params={"format": "json", "probability": 50}, headers=h)
    assert [i["indicator"] for i in r.json()] == ["likely-bad.net"]
