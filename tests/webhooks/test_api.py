"""/webhooks: admin only, URLs checked, the secret shown once, dead letters visible."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from cif.api.app import create_app
from cif.runtime import issue_token
from cif.store import Store, open_store
from cif.store.outbox import open_outbox
from cif.stream.webhooks import start_webhooks

from .conftest import Receiver
from .test_delivery import FAST, ind


@dataclass
class Api:
    client: TestClient
    store: Store
    admin: dict[str, str]
    reader: dict[str, str]


def _api(url: str, allow_private: bool) -> Iterator[Api]:
    store = open_store(url)
    admin, _ = issue_token(store, "root", admin=True)
    reader, _ = issue_token(store, "alice", read=True, write=True)
    app = create_app(store)
    app.state.webhooks_allow_private = allow_private
    with TestClient(app) as client:
        yield Api(
            client,
            store,
            {"Authorization": f"Bearer {admin}"},
            {"Authorization": f"Bearer {reader}"},
        )
    if getattr(app.state, "outbox", None) is not None:
        app.state.outbox.close()
    store.close()


@pytest.fixture
def api(store_url: str) -> Iterator[Api]:
    yield from _api(store_url, True)


@pytest.fixture
def strict_api(tmp_path) -> Iterator[Api]:
    yield from _api(str(tmp_path / "cif.sqlite3"), False)


def test_only_admins_manage_webhooks(api: Api) -> None:
    c = api.client
    body = {"url": "http://127.0.0.1:9/x"}
    assert c.get("/webhooks").status_code == 401
    assert c.get("/webhooks", headers=api.reader).status_code == 403
    assert c.post("/webhooks", json=body, headers=api.reader).status_code == 403
    r = c.post("/webhooks", json=body, headers=api.admin)
    assert r.status_code == 201
    wid = r.json()["id"]
    for method, path in [
        ("GET", f"/webhooks/{wid}"),
        ("PATCH", f"/webhooks/{wid}"),
        ("DELETE", f"/webhooks/{wid}"),
        ("GET", f"/webhooks/{wid}/deliveries"),
    ]:
        kw = {"json": {}} if method == "PATCH" else {}
        assert c.request(method, path, headers=api.reader, **kw).status_code == 403


def test_the_secret_is_shown_once(api: Api) -> None:
    c = api.client
    r = c.post(
        "/webhooks",
        headers=api.admin,
        json={
            "url": "http://127.0.0.1:9/x",
            "name": "soc",
            "itype": "ipv4,fqdn",
            "tags": ["Botnet"],
            "confidence": 70,
            "provider": "a.example",
            "style": "slack",
        },
    )
    assert r.status_code == 201, r.text
    made = r.json()
    secret = made["secret"]
    assert len(secret) >= 32
    assert made["itype"] == ["fqdn", "ipv4"] and made["tags"] == ["botnet"]
    assert made["confidence"] == 70 and made["style"] == "slack" and made["enabled"] is True
    wid = made["id"]
    for r in (
        c.get("/webhooks", headers=api.admin),
        c.get(f"/webhooks/{wid}", headers=api.admin),
        c.patch(f"/webhooks/{wid}", json={"enabled": False}, headers=api.admin),
    ):
        assert r.status_code == 200
        assert secret not in r.text and "secret" not in r.text
    shown = c.get(f"/webhooks/{wid}", headers=api.admin).json()
    assert shown["enabled"] is False and shown["deliveries"]["dead"] == 0
    rotated = c.patch(f"/webhooks/{wid}", json={"rotate_secret": True}, headers=api.admin).json()
    assert rotated["secret"] != secret and len(rotated["secret"]) >= 32
    assert rotated["secret"] not in c.get(f"/webhooks/{wid}", headers=api.admin).text
    mine = "0123456789abcdef0123"
    r = c.post("/webhooks", json={"url": "http://127.0.0.1:9/y", "secret": mine}, headers=api.admin)
    assert r.json()["secret"] == mine
    box = open_outbox(api.store.url)
    try:
        assert box.webhook_get(r.json()["id"]).secret == mine  # kept for signing
    finally:
        box.close()


def test_bad_input_is_refused_with_a_reason(api: Api) -> None:
    c, h = api.client, api.admin
    r = c.post("/webhooks", json={"url": "http://127.0.0.1:9/x", "itype": "ipv5"}, headers=h)
    assert r.status_code == 400 and "ipv5" in r.json()["error"]
    r = c.post("/webhooks", json={"url": "gopher://x.example/"}, headers=h)
    assert r.status_code == 400 and "scheme" in r.json()["error"]
    r = c.post("/webhooks", json={"url": "http://127.0.0.1:9/x", "style": "teams"}, headers=h)
    assert r.status_code == 400
    r = c.post("/webhooks", json={"url": "http://127.0.0.1:9/x", "secret": "short"}, headers=h)
    assert r.status_code == 400
    assert c.get("/webhooks/999", headers=h).status_code == 404
    assert c.delete("/webhooks/999", headers=h).status_code == 404
    assert c.patch("/webhooks/999", json={}, headers=h).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://10.0.0.5/x",
        "http://169.254.169.254/x",
        "http://[::1]/x",
        "http://localhost/x",
    ],
)
def test_internal_urls_are_refused_unless_allowed(strict_api: Api, url: str) -> None:
    c, h = strict_api.client, strict_api.admin
    r = c.post("/webhooks", json={"url": url}, headers=h)
    assert r.status_code == 400 and "--webhooks-allow-private" in r.json()["error"]
    ok = c.post("/webhooks", json={"url": "https://93.184.216.34/x"}, headers=h)
    assert ok.status_code == 201
    r = c.patch(f"/webhooks/{ok.json()['id']}", json={"url": url}, headers=h)
    assert r.status_code == 400


def test_dead_letters_are_listed_and_can_be_retried(api: Api, receiver: Receiver) -> None:
    c, h = api.client, api.admin
    made = c.post("/webhooks", json={"url": receiver.url}, headers=h).json()
    receiver.secret = made["secret"]
    receiver.status = 503
    w = start_webhooks(api.store.url, None, allow_private=True, **{**FAST, "max_tries": 2})
    try:
        w.on_batch([ind(1), ind(2)])
        wid = made["id"]
        counts = lambda: c.get(f"/webhooks/{wid}", headers=h).json()["deliveries"]  # noqa: E731
        receiver.wait(lambda: counts()["dead"] == 1)
        dead = c.get(f"/webhooks/{wid}/deliveries?state=dead", headers=h).json()["deliveries"]
        assert len(dead) == 1
        d = dead[0]
        assert d["attempts"] == 2 and d["last_status"] == 503 and d["state"] == "dead"
        assert d["indicators"] == ["203.0.113.1", "203.0.113.2"]
        assert c.get(f"/webhooks/{wid}/deliveries?state=done", headers=h).json()["deliveries"] == []
        assert c.get(f"/webhooks/{wid}/deliveries?state=nope", headers=h).status_code == 400
        receiver.status = None
        r = c.post(f"/webhooks/{wid}/deliveries/{d['id']}/retry", headers=h)
        assert r.status_code == 200
        w.wake()
        receiver.wait(lambda: len(receiver.ok) == 1)
        assert receiver.headers[0]["x-cif-delivery"] == d["id"]
        r = c.post(f"/webhooks/{wid}/deliveries/nope/retry", headers=h)
        assert r.status_code == 404
    finally:
        w.stop()
    assert c.delete(f"/webhooks/{wid}", headers=h).json() == {"deleted": wid}
    assert c.get("/webhooks", headers=h).json() == {"webhooks": []}
