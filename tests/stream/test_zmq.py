"""ZeroMQ PUB and SUB over real sockets on loopback, with and without CURVE."""

from __future__ import annotations

import time

import zmq

from cif.stream.filters import StreamFilter
from cif.stream.zmq_pub import ZmqPublisher
from cif.stream.zmq_sub import ZmqSubscriber


def ind(value: str, itype: str = "ipv4", **kw) -> dict:
    return {
        "indicator": value,
        "itype": itype,
        "tags": ["scanner"],
        "confidence": 60.0,
        "provider": "p",
        "group": "everyone",
        "tlp": "green",
        **kw,
    }


def settle(pub: ZmqPublisher, subs: list[ZmqSubscriber]) -> None:
    """Publish a marker until every subscriber has joined (ZeroMQ's slow-joiner)."""
    need = set(range(len(subs)))
    end = time.monotonic() + 5
    while need and time.monotonic() < end:
        pub.on_batch([ind("0.0.0.1", tags=["marker"])])
        for k in list(need):
            if subs[k].recv(0.05) is not None:
                need.discard(k)
    assert not need, "subscribers did not join"
    for s in subs:  # drain markers
        while s.recv(0.05) is not None:
            pass


def test_prefix_subscription_filters_on_the_server_and_red_never_leaves():
    pub = ZmqPublisher("tcp://127.0.0.1:*")
    ipv4 = ZmqSubscriber(pub.endpoint, StreamFilter.build(itype="ipv4"))
    anything = ZmqSubscriber(pub.endpoint, StreamFilter.build(confidence=50))
    try:
        settle(pub, [ipv4, anything])
        pub.on_batch(
            [
                ind("198.51.100.1"),
                ind("example.com", "fqdn"),
                ind("198.51.100.2", tlp="red"),
                ind("198.51.100.3", confidence=10.0),
                ind("198.51.100.4"),
            ]
        )
        got4 = [ipv4.recv(2)["indicator"] for _ in range(3)]
        assert got4 == ["198.51.100.1", "198.51.100.3", "198.51.100.4"]
        assert ipv4.recv(0.2) is None
        got_any = [anything.recv(2)["indicator"] for _ in range(3)]
        assert got_any == ["198.51.100.1", "example.com", "198.51.100.4"]
        assert pub.stats()["skipped_by_policy"] == 1
    finally:
        ipv4.close()
        anything.close()
        pub.stop()


def test_curve_only_allowed_clients_receive():
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    pub = ZmqPublisher(
        "tcp://127.0.0.1:*", curve_secret=server_secret, curve_clients=[client_public]
    )
    good = ZmqSubscriber(pub.endpoint, server_key=server_public, client_secret=client_secret)
    stranger = ZmqSubscriber(pub.endpoint, server_key=server_public)  # a fresh, unknown key
    plain = ZmqSubscriber(pub.endpoint)  # no CURVE at all
    try:
        settle(pub, [good])
        pub.on_batch([ind("203.0.113.5")])
        assert good.recv(2)["indicator"] == "203.0.113.5"
        assert stranger.recv(0.3) is None
        assert plain.recv(0.1) is None
    finally:
        for s in (good, stranger, plain):
            s.close()
        pub.stop()


def test_binding_a_taken_endpoint_is_a_clear_error():
    a = ZmqPublisher("tcp://127.0.0.1:*")
    try:
        try:
            ZmqPublisher(a.endpoint)
        except OSError as e:
            assert a.endpoint in str(e)
        else:
            raise AssertionError("a second bind must fail")
    finally:
        a.stop()
