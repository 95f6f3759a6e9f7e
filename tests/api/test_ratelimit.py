from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cif.api.app import create_app
from cif.api.ratelimit import RateLimiter
from cif.runtime import issue_token
from cif.store import open_store


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_bucket_allows_burst_then_refills_at_rate():
    clock = Clock()
    rl = RateLimiter(2.0, 3, clock=clock)
    assert [rl.take("a") for _ in range(3)] == [0, 0, 0]
    wait = rl.take("a")
    assert wait == pytest.approx(0.5)
    assert rl.take("b") == 0  # buckets are per key
    clock.t += 0.5
    assert rl.take("a") == 0
    assert rl.take("a") > 0
    clock.t += 100
    assert [rl.take("a") for _ in range(3)] == [0, 0, 0]
    assert RateLimiter.retry_after(0.01) == "1" and RateLimiter.retry_after(2.2) == "3"


def test_bad_limits_are_refused():
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(0, 1)


def test_api_answers_429_with_retry_after(tmp_path):
    store = open_store(str(tmp_path / "s.db"))
    token, _ = issue_token(store, "u", read=True)
    other, _ = issue_token(store, "v", read=True)
    with TestClient(create_app(store, rate_limit=(0.5, 3))) as c:
        h = {"Authorization": f"Bearer {token}"}
        codes = [c.get("/indicators", headers=h).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/indicators", headers=h)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "rate limit" in r.json()["error"]
        assert c.get("/indicators", headers={"Authorization": f"Bearer {other}"}).status_code == 200
        assert c.get("/ping").status_code == 200
    store.close()
