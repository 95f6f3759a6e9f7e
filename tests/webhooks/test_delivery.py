"""Delivery end to end: bus -> outbox -> signed POSTs to a real receiver, on both backends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from cif.bus import InProcessBus
from cif.store.outbox import Outbox, WebhookRecord, open_outbox
from cif.stream.webhooks import Webhooks, start_webhooks

from .conftest import Receiver

FAST: dict[str, Any] = dict(
    backoff=0.05, backoff_factor=2.0, backoff_cap=0.3, poll=0.05, timeout=1.0, lease=1.0
)


def ind(n: int, **kw: Any) -> dict[str, Any]:
    base = {
        "indicator": f"203.0.113.{n}",
        "itype": "ipv4",
        "tags": ["scanner"],
        "confidence": 80.0,
        "provider": "example.org",
        "group": "everyone",
        "tlp": "amber",
    }
    return {**base, **kw}


@pytest.fixture
def box(store_url: str) -> Iterator[Outbox]:
    ob = open_outbox(store_url)
    yield ob
    ob.close()


def hook(box: Outbox, rx: Receiver, **kw: Any) -> WebhookRecord:
    return box.webhook_add(WebhookRecord(url=rx.url, secret=rx.secret, **kw))


def run(store_url: str, bus: InProcessBus | None, **kw: Any) -> Webhooks:
    opts = {**FAST, **kw}
    return start_webhooks(store_url, bus, allow_private=opts.pop("allow_private", True), **opts)


def test_batches_are_signed_and_delivered(store_url: str, box: Outbox, receiver: Receiver) -> None:
    h = hook(box, receiver)
    bus = InProcessBus()
    w = run(store_url, bus, max_batch=10)
    bus.start()
    try:
        bus.publish([ind(i) for i in range(25)])  # type: ignore[list-item]
        receiver.wait(lambda: len(receiver.indicators()) == 25)
    finally:
        bus.stop()
        w.stop()
    assert receiver.bad_signatures == 0
    assert sorted(len(b["indicators"]) for b in receiver.ok) == [5, 10, 10]
    assert sorted(receiver.indicators()) == sorted(f"203.0.113.{i}" for i in range(25))
    for body, hdr in zip(receiver.ok, receiver.headers, strict=True):
        assert hdr["x-cif-delivery"] == body["delivery"]
        assert abs(int(hdr["x-cif-timestamp"]) - time.time()) < 30
        assert body["webhook"] == h.id and body["count"] == len(body["indicators"])
        assert hdr["content-type"] == "application/json"
    assert box.counts(h.id)["done"] == 3


def test_filters_and_groups_choose_what_is_sent(
    store_url: str, box: Outbox, receiver: Receiver
) -> None:
    hook(
        box,
        receiver,
        itypes=["ipv4"],
        tags=["botnet", "c2"],
        confidence=60,
        providers=["a.example"],
        groups=["everyone"],
    )
    bus = InProcessBus()
    w = run(store_url, bus)
    bus.start()
    try:
        bus.publish(
            [  # type: ignore[list-item]
                ind(1, tags=["botnet"], provider="a.example"),  # yes
                ind(
                    2, tags=["c2", "x"], provider="a.example", tlp="red"
                ),  # yes: member of everyone
                ind(3, tags=["scanner"], provider="a.example"),  # tag
                ind(4, tags=["botnet"], provider="b.example"),  # provider
                ind(5, tags=["botnet"], provider="a.example", confidence=50),  # confidence
                ind(6, tags=["botnet"], provider="a.example", group="partners"),  # group
                {**ind(7, tags=["botnet"], provider="a.example"), "itype": "fqdn"},  # itype
            ]
        )
        receiver.wait(lambda: len(receiver.ok) >= 1)
        time.sleep(0.2)
    finally:
        bus.stop()
        w.stop()
    assert sorted(receiver.indicators()) == ["203.0.113.1", "203.0.113.2"]


def test_failures_are_retried_with_the_same_delivery_id(
    store_url: str, box: Outbox, receiver: Receiver
) -> None:
    h = hook(box, receiver)
    receiver.fail = 2
    bus = InProcessBus()
    w = run(store_url, bus)
    bus.start()
    try:
        bus.publish([ind(1)])  # type: ignore[list-item]
        receiver.wait(lambda: len(receiver.ok) == 1)
    finally:
        bus.stop()
        w.stop()
    assert receiver.calls == 3
    assert len({d for _, d in receiver.seen}) == 1
    (d,) = box.deliveries(h.id)
    assert d.state == "done" and d.attempts == 3 and d.last_status == 200


def test_dead_letters_are_kept_and_can_be_redelivered(
    store_url: str, box: Outbox, receiver: Receiver
) -> None:
    h = hook(box, receiver)
    receiver.status = 500
    bus = InProcessBus()
    w = run(store_url, bus, max_tries=3)
    bus.start()
    try:
        bus.publish([ind(1), ind(2)])  # type: ignore[list-item]
        receiver.wait(lambda: box.counts(h.id)["dead"] == 1)
        assert receiver.calls == 3
        (dead,) = box.deliveries(h.id, state="dead")
        assert dead.attempts == 3 and dead.last_status == 500 and "500" in (dead.last_error or "")
        receiver.status = None
        assert box.redeliver(h.id, dead.id)
        w.wake()
        receiver.wait(lambda: len(receiver.ok) == 1)
    finally:
        bus.stop()
        w.stop()
    assert receiver.headers[0]["x-cif-delivery"] == dead.id
    assert box.counts(h.id) == {"pending": 0, "delivering": 0, "done": 1, "dead": 0}


def test_429_retry_after_is_honoured(store_url: str, box: Outbox, receiver: Receiver) -> None:
    hook(box, receiver)
    receiver.fail, receiver.fail_status, receiver.retry_after = 1, 429, "1"
    w = run(store_url, None, backoff_cap=2.0)
    try:
        w.on_batch([ind(1)])
        receiver.wait(lambda: len(receiver.ok) == 1)
    finally:
        w.stop()
    (first, _), (second, _) = receiver.seen
    assert second - first >= 0.9


def test_a_hanging_receiver_times_out_and_is_retried(
    store_url: str, box: Outbox, receiver: Receiver
) -> None:
    h = hook(box, receiver)
    receiver.hang, receiver.hangs = 1.5, 1
    w = run(store_url, None, timeout=0.3)
    try:
        w.on_batch([ind(1)])
        receiver.wait(lambda: receiver.calls == 1)
        receiver.wait(lambda: box.deliveries(h.id)[0].last_error is not None, 3)
        assert "timed out" in (box.deliveries(h.id)[0].last_error or "")
        receiver.wait(lambda: len(receiver.ok) == 1)
    finally:
        w.stop()


def test_slack_style_posts_text_only(store_url: str, box: Outbox, receiver: Receiver) -> None:
    hook(box, receiver, style="slack", name="soc")
    w = run(store_url, None, max_batch=100)
    try:
        w.on_batch([ind(i, tags=["botnet", "c2"]) for i in range(25)])
        receiver.wait(lambda: len(receiver.ok) == 1)
    finally:
        w.stop()
    (body,) = receiver.ok
    assert list(body) == ["text"]
    lines = body["text"].splitlines()
    assert lines[0] == "cif soc: 25 new indicators"
    assert "`203.0.113.0` (ipv4)" in lines[1] and "botnet, c2" in lines[1]
    assert lines[-1] == "… and 5 more"


def test_internal_destinations_are_refused_at_delivery(
    store_url: str, box: Outbox, receiver: Receiver
) -> None:
    h = hook(box, receiver)  # stored directly: the API would have refused it already
    w = run(store_url, None, allow_private=False, max_tries=2)
    try:
        w.on_batch([ind(1)])
        receiver.wait(lambda: box.counts(h.id)["dead"] == 1)
    finally:
        w.stop()
    assert receiver.calls == 0
    (d,) = box.deliveries(h.id, state="dead")
    assert (d.last_error or "").startswith("refused: 127.0.0.1 resolves to 127.0.0.1")


def test_disabled_webhooks_get_nothing(store_url: str, box: Outbox, receiver: Receiver) -> None:
    h = hook(box, receiver, enabled=False)
    w = run(store_url, None)
    try:
        w.on_batch([ind(1)])
        time.sleep(0.2)
    finally:
        w.stop()
    assert receiver.calls == 0 and box.counts(h.id)["pending"] == 0
