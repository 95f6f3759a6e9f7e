"""The HTTP API against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from cif.runtime import issue_token


def test_ping_needs_no_token(api):
    r = api.client.get("/ping")
    assert r.status_code == 200
    assert r.json()["pong"] is True


def test_health_checks_the_store(api):
    assert api.client.get("/health").status_code == 401
    r = api.client.get("/health", headers=api.h(api.reader))
    assert r.status_code == 200 and r.json()["store"] == "ok"


def test_every_other_route_needs_a_valid_token(api):
    for method, path in [("GET", "/indicators"), ("POST", "/indicators"), ("GET", "/health")]:
        assert api.client.request(method, path).status_code == 401
        r = api.client.request(method, path, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        r = api.client.request(method, path, headers={"Authorization": "Basic abc"})
        assert r.status_code == 401


def test_rights_are_checked(api):
    r = api.client.post("/indicators", json={"indicator": "1.2.3.4"}, headers=api.h(api.reader))
    assert r.status_code == 403
    r = api.client.get("/indicators", headers=api.h(api.writer))
    assert r.status_code == 403


def test_submit_one_object_then_search_it(api):
    r = api.client.post(
        "/indicators",
        json={
            "indicator": "hxxp://Evil.Example.COM[.]au/Login?a=B#frag",
            "tags": "Phishing",
            "confidence": 85,
        },
        headers=api.h(api.writer),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "rejected": 0, "errors": []}
    r = api.client.get("/indicators", params={"itype": "url"}, headers=api.h(api.reader))
    body = r.json()
    assert r.status_code == 200
    [ind] = body["indicators"]
    assert ind["indicator"] == "http://evil.example.com.au/Login?a=B"
    assert ind["tags"] == ["phishing"]
    assert ind["confidence"] == 85
    assert ind["provider"] == "bob"
    assert ind["reported_at"].endswith("Z")


def test_submit_list_with_bad_items_reports_each(api):
    items = [
        {"indicator": "192.0.2.300"},
        {"indicator": "8.8.4.4", "confidence": 30},
        {"indicator": "example.com", "confidence": 101},
        {"nothing": 1},
        {"indicator": "d41d8cd98f00b204e9800998ecf8427e"},
    ]
    r = api.client.post("/indicators", json=items, headers=api.h(api.writer))
    body = r.json()
    assert body["accepted"] == 2 and body["rejected"] == 3
    assert [e["index"] for e in body["errors"]] == [0, 2, 3]
    assert "192.0.2.300" in body["errors"][0]["error"]
    assert "confidence" in body["errors"][1]["error"]


def test_submit_json_lines_with_a_broken_line(api):
    body = b'{"indicator": "203.0.113.9"}\n{not json\n{"indicator": "evil.example.net"}\n'
    r = api.client.post("/indicators", content=body, headers=api.h(api.writer))
    res = r.json()
    assert res["accepted"] == 2 and res["rejected"] == 1
    assert res["errors"][0]["index"] == 1 and "line 2" in res["errors"][0]["error"]


def test_body_limits(api):
    big = orjson.dumps(
        [{"indicator": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"} for i in range(5000)]
    )
    r = api.client.post("/indicators", content=big, headers=api.h(api.writer))
    assert r.status_code == 413
    assert "limit" in r.json()["error"]
    r = api.client.post("/indicators", content=b"   ", headers=api.h(api.writer))
    assert r.status_code == 400


def test_writer_cannot_write_outside_its_groups(api):
    r = api.client.post(
        "/indicators",
        json=[
            {"indicator": "198.51.100.7", "group": "partners"},
            {"indicator": "198.51.100.8", "group": "secret"},
        ],
        headers=api.h(api.writer),
    )
    res = r.json()
    assert res["accepted"] == 1
    assert "secret" in res["errors"][0]["error"]


def test_reader_sees_only_its_groups(api):
    api.client.post(
        "/indicators",
        json=[
            {"indicator": "evil.example.org", "group": "partners"},
            {"indicator": "bad.example.org", "group": "everyone"},
        ],
        headers=api.h(api.admin),
    )
    r = api.client.get(
        "/indicators", params={"q": "example.org", "group": "partners"}, headers=api.h(api.reader)
    )
    assert r.json()["indicators"] == []
    r = api.client.get("/indicators", params={"q": "example.org"}, headers=api.h(api.reader))
    assert [i["indicator"] for i in r.json()["indicators"]] == ["bad.example.org"]
    r = api.client.get("/indicators", params={"q": "example.org"}, headers=api.h(api.admin))
    assert sorted(i["indicator"] for i in r.json()["indicators"]) == [
        "bad.example.org",
        "evil.example.org",
    ]


def test_search_filters_and_cidr_and_cursor(api):
    recs = [
        {
            "indicator": f"198.51.100.{i}",
            "tags": ["scanner"] if i % 2 else ["botnet"],
            "confidence": i,
        }
        for i in range(1, 21)
    ]
    recs.append({"indicator": "198.51.100.0/24", "tags": "botnet", "confidence": 90})
    recs.append({"indicator": "www.evil.example.com"})
    api.client.post("/indicators", json=recs, headers=api.h(api.admin))
    h = api.h(api.reader)
    r = api.client.get("/indicators", params={"q": "198.51.100.0/28", "limit": 1000}, headers=h)
    got = {i["indicator"] for i in r.json()["indicators"]}
    assert got == {f"198.51.100.{i}" for i in range(1, 16)} | {"198.51.100.0/24"}
    r = api.client.get(
        "/indicators", params={"q": "198.51.100.0/28", "tags": "scanner,-botnet"}, headers=h
    )
    assert {i["indicator"] for i in r.json()["indicators"]} == {
        f"198.51.100.{i}" for i in range(1, 16, 2)
    }
    r = api.client.get("/indicators", params={"itype": "ipv4", "confidence": 15}, headers=h)
    assert len(r.json()["indicators"]) == 6
    seen, cursor = [], None
    while True:
        params = {"itype": "ipv4", "limit": 7, "sort": "confidence"}
        if cursor:
            params["cursor"] = cursor
        page = api.client.get("/indicators", params=params, headers=h).json()
        seen += [i["confidence"] for i in page["indicators"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert seen == list(range(1, 21))
    r = api.client.get("/indicators", params={"q": "example.com"}, headers=h)
    assert [i["indicator"] for i in r.json()["indicators"]] == ["www.evil.example.com"]


def test_bad_search_parameters_name_the_value(api):
    r = api.client.get("/indicators", params={"itype": "ipv5"}, headers=api.h(api.reader))
    assert r.status_code == 400 and "ipv5" in r.json()["error"]
    r = api.client.get("/indicators", params={"confidence": "high"}, headers=api.h(api.reader))
    assert r.status_code == 400 and "high" in r.json()["error"]


def test_revoked_and_expired_tokens_are_refused_at_once(api):
    token, rec = issue_token(api.store, "carol", read=True)
    assert api.client.get("/indicators", headers=api.h(token)).status_code == 200
    api.store.token_revoke(id=rec.id)
    assert api.client.get("/indicators", headers=api.h(token)).status_code == 401
    soon = datetime.now(UTC) + timedelta(seconds=1)
    token2, _ = issue_token(api.store, "dave", read=True, expires_at=soon)
    assert api.client.get("/indicators", headers=api.h(token2)).status_code == 200
    import time

    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.05)
    assert api.client.get("/indicators", headers=api.h(token2)).status_code == 401


def test_tokens_are_stored_hashed(api):
    for rec in api.store.token_list():
        assert rec.token_hash not in (api.admin, api.reader, api.writer)
        assert len(rec.token_hash) == 64
