"""The value path (value-only formats) gives the same lines and removal counts as the full build."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from cif.feeds import FeedOptions, Whitelist, build_feed, values
from cif.feeds.builder import _split, _split_slow
from cif.feeds.service import FeedRequest, FeedService
from cif.feeds.values import VALUE_FORMATS, build_values
from cif.formats import render
from cif.store import open_store

from .helpers import NOW, ind


def _records(rnd: random.Random, n: int = 600) -> list:
    out = []
    for i in range(n):
        r = rnd.random()
        if r < 0.35:
            v, it = f"45.{rnd.randrange(4)}.{rnd.randrange(8)}.{rnd.randrange(256)}", "ipv4"
        elif r < 0.45:
            p = rnd.choice((16, 22, 24, 28))
            n32 = (45 << 24 | rnd.getrandbits(24)) & ~((1 << (32 - p)) - 1)
            v, it = (
                f"{n32 >> 24}.{(n32 >> 16) & 255}.{(n32 >> 8) & 255}.{n32 & 255}/{p}",
                "ipv4_cidr",
            )
        elif r < 0.5:
            v = rnd.choice(["8.8.8.8", "10.0.0.1", "1.1.1.0/24", "9.9.9.9"])
            it = "ipv4_cidr" if "/" in v else "ipv4"
        elif r < 0.85:
            v, it = (
                rnd.choice(
                    [
                        f"h{i}.site{rnd.randrange(30)}.com",
                        "netflix.com",
                        "mail.google.com",
                        f"x{i}.blogspot.com",
                        "co.uk",
                        f"a.b{i % 5}.evil.net",
                    ]
                ),
                "fqdn",
            )
        else:
            v, it = f"{rnd.getrandbits(128):032x}", "md5"
        tags = {"whitelist"} if rnd.random() < 0.03 else {"scanner"}
        flags = {"private"} if v.startswith("10.") else set()
        out.append(
            ind(v, it, tags=tags, flags=flags, provider=rnd.choice("ab"), days_ago=rnd.random() * 3)
        )
    return out


def _whitelist(rnd: random.Random) -> Whitelist:
    wl = Whitelist()
    for _ in range(60):
        wl.add_network(f"45.{rnd.randrange(4)}.{rnd.randrange(8)}.{rnd.randrange(256)}", "wl")
    wl.add_network("45.1.0.0/24", "wl")
    wl.add_network("45.2.3.128/25", "wl")
    for k in range(0, 30, 3):
        wl.add_domain(f"site{k}.com", "wl")
    wl.add_domain("b1.evil.net", "wl")
    wl.add_substring("site29", "wl")
    return wl


@pytest.mark.parametrize("bulk", [0, 10**9])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("itype", ["ipv4", "fqdn", "md5"])
def test_value_path_equals_full_build(seed, itype, bulk, monkeypatch):
    monkeypatch.setattr(values, "BULK_MIN", bulk)  # addresses as arrays, and one by one
    rnd = random.Random(seed)
    recs = _records(rnd)
    wl = _whitelist(rnd)
    if itype == "md5":
        wl._urls[f"md5:{recs[-1].indicator}"] = wl._urls.get("x") or __import__(
            "cif.feeds.whitelist", fromlist=["Entry"]
        ).Entry(recs[-1].indicator, "wl")
    opts = FeedOptions(window=timedelta(days=7), now=NOW)
    full = build_feed(itype, recs, wl, opts)
    tagged = Whitelist()
    tagged.add_indicators(r for r in recs if "whitelist" in r.tags)
    wanted = {"ipv4": ("ipv4", "ipv4_cidr"), "fqdn": ("fqdn",), "md5": ("md5",)}[itype]
    mine = [r for r in recs if r.itype in wanted and "whitelist" not in r.tags]
    vf = build_values(
        itype,
        [r.indicator for r in mine if not r.flags],
        {r.indicator for r in mine if r.flags},
        [wl, tagged],
    )
    assert [(x.indicator, x.itype) for x in vf.lines] == [
        (i.indicator, i.itype) for i in sorted(full.indicators, key=lambda i: i.indicator)
    ]
    assert vf.removed == len(full.removed)
    for wildcard in (False, True):
        assert vf.plain(wildcard=wildcard) == render("plain", vf.lines, wildcard=wildcard)
    if itype != "md5":
        for fmt in VALUE_FORMATS - ({"ipset", "nftables"} if itype == "fqdn" else set()):
            if fmt == "suricata-dataset" and itype == "ipv4":
                continue  # one itype per dataset
            a = render(fmt, vf.lines)
            b = render(fmt, sorted(full.indicators, key=lambda i: i.indicator))
            assert a == b, fmt


def test_fast_split_equals_slow():
    rnd = random.Random(9)

    def ip(n: int) -> str:
        return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    for _ in range(3000):
        p = rnd.choice((8, 16, 22, 24, 28))
        n = rnd.getrandbits(32) & ~((1 << (32 - p)) - 1)
        holes = []
        for _ in range(rnd.randrange(1, 40)):
            q = rnd.randrange(p + 1, min(33, p + rnd.choice((2, 4, 9, 20))))
            h = (n | rnd.getrandbits(32 - p)) & ~((1 << (32 - q)) - 1) & 0xFFFFFFFF
            holes.append(ip(h) + ("" if q == 32 else f"/{q}"))
        cap = rnd.choice((1, 2, 8, 16, 64))
        assert _split(f"{ip(n)}/{p}", holes, cap) == _split_slow(f"{ip(n)}/{p}", holes, cap)
    assert _split("2001:db8::/32", ["2001:db8:0:1::/64", "2001:db8::1"], 64) == _split_slow(
        "2001:db8::/32", ["2001:db8:0:1::/64", "2001:db8::1"], 64
    )


def test_service_value_path_equals_full_path(tmp_path):
    rnd = random.Random(4)
    store = open_store(str(tmp_path / "s.db"))
    recs = _records(rnd)
    now = __import__("datetime").datetime.now(__import__("datetime").UTC)
    for r in recs:
        r.last_at = r.reported_at = now - timedelta(hours=rnd.randrange(48))
    store.upsert(recs)
    folder = tmp_path / "wl"
    (folder / "n").mkdir(parents=True)
    (folder / "n" / "list.json").write_text(
        json.dumps(
            {"name": "nets", "type": "cidr", "list": ["45.1.0.0/24", "45.2.3.128/25", "45.0.1.7"]}
        )
    )
    (folder / "h").mkdir()
    (folder / "h" / "list.json").write_text(
        json.dumps(
            {
                "name": "hosts",
                "type": "hostname",
                "list": ["site3.com", "Site6.com.", "*.b1.evil.net", ""],
            }
        )
    )
    svc = FeedService(store, folder)
    try:
        for itype in ("ipv4", "fqdn", "md5"):
            req = FeedRequest(itype=itype, fmt="plain")
            fast = svc.rendered(req, ["everyone"], [])
            feed = svc.build(req, ["everyone"], [])
            slow = render("plain", sorted(feed.indicators, key=lambda i: i.indicator))
            assert fast.body == slow.encode()
            assert (fast.count, fast.removed) == (len(feed.indicators), len(feed.removed))
    finally:
        store.close()


def test_folder_whitelist_survives_store_changes(tmp_path, monkeypatch):
    import cif.feeds.service as service

    store = open_store(str(tmp_path / "s.db"))
    folder = tmp_path / "wl"
    folder.mkdir()
    (folder / "list.json").write_text(
        json.dumps({"name": "n", "type": "cidr", "list": ["45.1.0.0/24"]})
    )
    loads = []
    real = service.load_warninglist_dir
    monkeypatch.setattr(
        service, "load_warninglist_dir", lambda d, wl: loads.append(d) or real(d, wl)
    )
    svc = FeedService(store, folder)
    try:
        store.upsert([ind("45.1.0.9", "ipv4", days_ago=0)])
        svc.whitelist()
        store.upsert([ind("45.1.0.10", "ipv4", days_ago=0, tags={"whitelist"})])
        wls = svc.whitelist()
        assert len(loads) == 1
        assert any(w.match_ip("45.1.0.10") for w in wls)
    finally:
        store.close()


def test_split_piece_equal_to_a_stored_value_is_printed_once():
    wl = Whitelist()
    wl.add_network("45.9.9.128/25", "wl")
    recs = [
        ind("45.9.9.0/24", "ipv4_cidr"),
        ind("45.9.9.0/25", "ipv4_cidr"),
        ind("45.9.8.1", "ipv4"),
    ]
    vf = build_values("ipv4", [r.indicator for r in recs], set(), [wl])
    full = build_feed("ipv4", recs, wl, FeedOptions(now=NOW))
    assert [x.indicator for x in vf.lines] == sorted(i.indicator for i in full.indicators)
    assert not vf.unique
    assert vf.plain() == render("plain", vf.lines) == "45.9.8.1\n45.9.9.0/25\n"


def test_concurrent_cold_requests_build_once(tmp_path, monkeypatch):
    import threading

    store = open_store(str(tmp_path / "s.db"))
    store.upsert([ind("45.1.0.9", "ipv4", days_ago=0)])
    svc = FeedService(store)
    builds = []
    real = svc.build_values
    monkeypatch.setattr(svc, "build_values", lambda *a: builds.append(1) or real(*a))
    req = FeedRequest(itype="ipv4", fmt="plain")
    out: list = []
    threads = [
        threading.Thread(target=lambda: out.append(svc.rendered(req, ["everyone"], [])))
        for _ in range(8)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(builds) == 1 and len({r.etag for r in out}) == 1 and len(out) == 8
    finally:
        store.close()
