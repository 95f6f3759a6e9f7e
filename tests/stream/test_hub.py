from __future__ import annotations

import asyncio

from cif.stream.filters import Audience, StreamFilter
from cif.stream.hub import Hub
from cif.stream.ring import Ring

EVERYONE = Audience(frozenset({"everyone"}))


def ind(i: int, **kw) -> dict:
    return {
        "indicator": f"192.0.2.{i % 250}",
        "itype": "ipv4",
        "tags": [],
        "confidence": 50,
        "group": "everyone",
        "tlp": "amber",
        "provider": "p",
        "n": i,
        **kw,
    }


def test_ring_ids_are_monotonic_and_replay_reports_gaps():
    r = Ring(5, first_id=100)
    evs = r.append_all([(ind(i), b"x") for i in range(8)])
    assert [e.id for e in evs] == list(range(100, 108)) and r.last_id == 107
    kept, gap = r.since(104)
    assert [e.id for e in kept] == [105, 106, 107] and not gap
    kept, gap = r.since(101)  # 102 was pushed out
    assert [e.id for e in kept] == [103, 104, 105, 106, 107] and gap
    assert r.since(107) == ([], False)
    assert r.since(500) == ([], True)  # an id this process never gave out


def test_default_ids_start_from_the_clock_so_they_rise_across_restarts():
    a = Ring(10)
    a.append_all([(ind(1), b"x")])
    b = Ring(10)
    assert b.last_id + 1 > a.last_id


def test_stalled_subscriber_drops_oldest_then_is_cut_off_and_others_get_everything():
    async def main() -> None:
        hub = Hub(queue_size=10, max_drops=25)
        live, _, _ = hub.subscribe("ws", EVERYONE, StreamFilter())
        stalled, _, _ = hub.subscribe("sse", EVERYONE, StreamFilter())
        got: list[int] = []
        for start in range(0, 40, 5):
            hub.on_batch([ind(i) for i in range(start, start + 5)])
            got += [e.indicator["n"] for e in await live.next(1)]
        assert got == list(range(40)), "the live subscriber loses nothing"
        assert stalled.dropped == 30 and stalled.closed and "too slow" in stalled.closed
        hub.unsubscribe(stalled)
        st = hub.stats()
        assert st["dropped"] == 30 and st["disconnected_slow"] == 1 and st["subscribers"] == 1

    asyncio.run(main())


def test_replay_and_live_join_without_gap_or_duplicate_and_respect_rights():
    async def main() -> None:
        hub = Hub(replay=100)
        hub.on_batch([ind(i) for i in range(5)] + [ind(99, group="partners")])
        first = hub.ring.last_id - 5
        sub, replay, gap = hub.subscribe("sse", EVERYONE, StreamFilter(), last_id=first + 1)
        assert not gap and [e.indicator["n"] for e in replay] == [2, 3, 4]
        hub.on_batch([ind(5), ind(6, tlp="red", group="partners")])
        assert [e.indicator["n"] for e in await sub.next(1)] == [5]
        assert await sub.next(0.01) == []  # a heartbeat's worth of nothing

    asyncio.run(main())
