"""Feeds benchmark: cold builds, cached 304 answers and search latency under load.

A store of 1,000,000 indicators (``CIF_BENCH_FEEDS_N`` shrinks it) with a realistic
mix: ~35% ipv4 + ~5% ipv4_cidr, ~5% ipv6, ~30% fqdn, ~15% url, ~10% hashes, every
one seen in the last five days (inside every feed window), one in ten values reported
by a second provider (so aggregation merges). Indicators are built directly with
canonical values and stored with ``Store.upsert``.

Whitelists take the path a user takes: MISP warninglist files in a folder passed to
the server (``warninglist_dir``): one ``cidr`` list of 100,000 networks and one
``hostname`` list of 1,000,000 domains (a top-sites list of that size is the usual
source), plus a few indicators tagged ``whitelist``. Part of both lists overlaps the
stored values, so subtraction and splitting really happen.

Measured: the cold build of the ipv4 and fqdn feeds through ``FeedService.rendered``
(format plain; the first build includes loading the warninglists), the same over HTTP
through a real uvicorn server, the cached answer to ``If-None-Match`` (304), and
search p50/p99 with 50 concurrent HTTP clients (exact, CIDR and domain queries).
SQLite always; PostgreSQL (database ``test`` on the local server, a fresh schema
dropped afterwards) when it is reachable and ``CIF_BENCH_FEEDS_PG`` is not ``0``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import WORK, table, write_section

from cif.indicator import Indicator
from cif.store import Store

N = int(os.environ.get("CIF_BENCH_FEEDS_N", "1000000"))
WL_NETS = int(os.environ.get("CIF_BENCH_FEEDS_WL_NETS", "100000"))
WL_DOMAINS = int(os.environ.get("CIF_BENCH_FEEDS_WL_DOMAINS", "1000000"))
CLIENTS = 50
SEARCHES = int(os.environ.get("CIF_BENCH_FEEDS_SEARCHES", "6000"))
PG = ("127.0.0.1", 5432, "test")
TARGETS = {"ipv4": 1.0, "fqdn": 2.0, "304": 0.020, "search_p99": 0.020}
TAGS = ["malware", "c2", "phishing", "scanner", "botnet", "spam", "bruteforce", "exploit"]
TLDS = ["com", "net", "org", "io", "ru", "cn", "info", "xyz", "top", "biz"]
SEED = 7
NOTE = (
    "\n\nThe feeds are built by the value path (format plain: only the values are read and"
    " whitelist-subtracted; see docs/feeds-builder.md). Search under 50 concurrent clients is"
    " bound by throughput, not by the query: one server process answers ~250-400 searches/s"
    " (2-3 ms each from a single client), so 50 requests in flight wait ~50/300 s ≈ 150 ms in"
    " line. A p99 under 20 ms at 50 clients needs several thousand searches/s: more API"
    " processes (`cif up --role api` behind a balancer) and cores, not a faster query."
)


def _ip(n: int) -> str:
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _public(rnd: random.Random) -> int:
    while True:
        n = rnd.getrandbits(32)
        a = n >> 24
        if a not in (0, 10, 100, 127, 169, 172, 192, 198, 203) and a < 224:
            return n


def generate(n: int) -> tuple[list[Indicator], dict[str, list[str]]]:
    """n stored records and sample values for the search mix."""
    rnd = random.Random(SEED)
    now = datetime.now(UTC)
    out: list[Indicator] = []
    seen: set[str] = set()
    probes: dict[str, list[str]] = {"exact": [], "cidr": [], "domain": []}
    bases = [f"b{i}x{rnd.getrandbits(20):x}.{TLDS[i % len(TLDS)]}" for i in range(max(10, n // 15))]
    hashes = (("md5", 32), ("sha1", 40), ("sha256", 64))
    while len(out) < n:
        r = rnd.random()
        if r < 0.35:
            v, it = _ip(_public(rnd)), "ipv4"
        elif r < 0.40:
            plen = rnd.choice((16, 20, 22, 24, 24, 24, 26, 28))
            v, it = (
                f"{_ip(_public(rnd) & ~((1 << (32 - plen)) - 1) & 0xFFFFFFFF)}/{plen}",
                "ipv4_cidr",
            )
        elif r < 0.45:
            v, it = "2a01:" + ":".join(f"{rnd.getrandbits(16):x}" for _ in range(7)), "ipv6"
        elif r < 0.75:
            b = rnd.choice(bases)
            v, it = (b if rnd.random() < 0.2 else f"h{rnd.getrandbits(28):x}.{b}"), "fqdn"
        elif r < 0.90:
            v, it = f"http://{rnd.choice(bases)}/p/{rnd.getrandbits(40):x}", "url"
        else:
            name, length = rnd.choice(hashes)
            v, it = f"{rnd.getrandbits(length * 4):0{length}x}", name
        if v in seen:
            continue
        seen.add(v)
        last = now - timedelta(seconds=rnd.randrange(5 * 86400))
        for k in range(2 if rnd.random() < 0.1 else 1):
            out.append(
                Indicator(
                    indicator=v,
                    itype=it,
                    tags={rnd.choice(TAGS)},
                    confidence=float(rnd.randrange(40, 101)),
                    provider=f"feed{rnd.randrange(20) + k * 20}",
                    first_at=last - timedelta(days=rnd.randrange(30)),
                    last_at=last - timedelta(hours=k),
                    reported_at=last,
                )
            )
        if it in ("url", "sha256", "md5") and len(probes["exact"]) < 3000:
            probes["exact"].append(v)
    for v in rnd.sample(sorted(seen), min(5, len(seen))):
        out.append(
            Indicator(
                indicator=v,
                itype=_itype_of(v),
                tags={"whitelist"},
                provider="local",
                last_at=now,
                reported_at=now,
            )
        )
    probes["cidr"] = [f"{_ip(_public(rnd) & 0xFFFFFF00)}/24" for _ in range(3000)]
    probes["domain"] = [rnd.choice(bases) for _ in range(3000)]
    return out[:n], probes


def _itype_of(v: str) -> str:
    if v.startswith("http://"):
        return "url"
    if "/" in v:
        return "ipv4_cidr"
    if ":" in v:
        return "ipv6"
    if v.replace(".", "").isdigit():
        return "ipv4"
    if "." in v:
        return "fqdn"
    return {32: "md5", 40: "sha1", 64: "sha256"}[len(v)]


def write_warninglists(folder: Path, rows: list[Indicator]) -> None:
    """One cidr list (WL_NETS entries) and one hostname list (WL_DOMAINS entries)."""
    rnd = random.Random(SEED + 1)
    folder.mkdir(parents=True, exist_ok=True)
    ips = [r.indicator for r in rows if r.itype == "ipv4"]
    names = [r.indicator for r in rows if r.itype == "fqdn"]
    nets: set[str] = set()
    for v in rnd.sample(ips, min(len(ips), WL_NETS // 5)):  # 20% hit stored addresses
        nets.add(v)
    while len(nets) < WL_NETS:
        plen = rnd.choice((32, 32, 24, 24, 24, 20, 16, 28, 30))
        n = _public(rnd) & ~((1 << (32 - plen)) - 1) & 0xFFFFFFFF
        nets.add(_ip(n) if plen == 32 else f"{_ip(n)}/{plen}")
    domains: set[str] = set()
    for v in rnd.sample(names, min(len(names), WL_DOMAINS // 50)):
        domains.add(v.split(".", 1)[1] if v.count(".") > 1 and rnd.random() < 0.5 else v)
    while len(domains) < WL_DOMAINS:
        domains.add(f"site{rnd.getrandbits(32):x}.{TLDS[rnd.randrange(len(TLDS))]}")
    (folder / "nets").mkdir(exist_ok=True)
    (folder / "sites").mkdir(exist_ok=True)
    (folder / "nets" / "list.json").write_text(
        json.dumps({"name": "bench networks", "type": "cidr", "list": sorted(nets)})
    )
    (folder / "sites" / "list.json").write_text(
        json.dumps({"name": "bench top sites", "type": "hostname", "list": sorted(domains)})
    )


def populate(store: Store, rows: list[Indicator]) -> float:
    t = time.perf_counter()
    for i in range(0, len(rows), 20_000):
        store.upsert(rows[i : i + 20_000])
    return time.perf_counter() - t


def sqlite_store(n: int) -> tuple[Store, Path, dict[str, list[str]]]:
    """The SQLite store and warninglist folder for n records, reused between runs."""
    from cif.store.sqlite import SQLiteStore

    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"feeds-{n}.sqlite3"
    wl = WORK / f"feeds-wl-{n}-{WL_NETS}-{WL_DOMAINS}"
    done = WORK / f"feeds-{n}.done"
    rows, probes = generate(n)
    if not done.exists():
        for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            p.unlink(missing_ok=True)
        store = SQLiteStore(db)
        took = populate(store, rows)
        print(f"stored {len(rows)} in {took:.1f} s", flush=True)
        store.close()
        done.write_text("ok")
    if not wl.exists():
        write_warninglists(wl, rows)
    return SQLiteStore(db), wl, probes


# -- measurements ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cold_builds(store: Store, wl: Path) -> dict[str, Any]:
    """FeedService.rendered on a fresh service: first ipv4 (loads the warninglists), then
    ipv4 again cold with the whitelist cached, then fqdn cold."""
    import resource

    from cif.feeds.service import FeedRequest, FeedService

    out: dict[str, Any] = {}
    svc = FeedService(store, wl)
    for label, itype, fresh in (
        ("ipv4 first", "ipv4", True),
        ("ipv4", "ipv4", False),
        ("fqdn", "fqdn", False),
    ):
        if not fresh:
            # A new service (no cached feed, no incremental state) with the warninglists
            # already loaded: a cold build as a restarted platform's second request makes.
            svc = FeedService(store, wl)
            svc.whitelist()
        c0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        r = svc.rendered(FeedRequest(itype=itype, fmt="plain"))
        wall = time.perf_counter() - t
        c1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
        out[label] = (wall, cpu, r.count, r.removed, len(r.body))
        while svc.priming():  # let the background incremental state finish first
            time.sleep(0.05)
        print(
            f"{label}: {wall:.2f} s wall, {cpu:.2f} s cpu, {r.count} lines, {r.removed} removed",
            flush=True,
        )
    return out


class Server:
    """The API on a real uvicorn server in a thread (like ``cif up``)."""

    def __init__(self, store: Store, wl: Path) -> None:
        import uvicorn

        from cif.api.app import create_app

        self.port = _free_port()
        self.app = create_app(store, warninglist_dir=wl, rate_limit=None)
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                timeout_graceful_shutdown=1,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def http_feeds(server: Server, token: str) -> dict[str, Any]:
    import httpx

    h = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {}
    with httpx.Client(base_url=server.base, headers=h, timeout=120) as c:
        server.app.state.feeds.whitelist()  # the warninglists are loaded: measured above
        for itype in ("ipv4", "fqdn"):
            server.app.state.feeds._cache.clear()
            t = time.perf_counter()
            r = c.get(f"/feeds/{itype}", params={"format": "plain"})
            out[itype] = time.perf_counter() - t
            r.raise_for_status()
            etag = r.headers["etag"]
            # The first build of a feed also prepares its incremental state in a thread
            # (a one-off, several times a cold build); measure the 304s after it, and
            # report how long it took.
            t = time.perf_counter()
            while server.app.state.feeds.priming():
                time.sleep(0.05)
            out[f"prime {itype}"] = time.perf_counter() - t
            lat = []
            for _ in range(200):
                t = time.perf_counter()
                r2 = c.get(
                    f"/feeds/{itype}", params={"format": "plain"}, headers={"If-None-Match": etag}
                )
                lat.append(time.perf_counter() - t)
                assert r2.status_code == 304, r2.status_code
            lat.sort()
            out[f"304 {itype}"] = (statistics.median(lat), lat[int(len(lat) * 0.99) - 1])
            print(
                f"http {itype}: {out[itype]:.2f} s; 304 p50 {out[f'304 {itype}'][0] * 1000:.1f} ms;"
                f" incremental state ready {out[f'prime {itype}']:.2f} s later",
                flush=True,
            )
    return out


def search_load(
    server: Server,
    token: str,
    probes: dict[str, list[str]],
    clients: int = CLIENTS,
    count: int = SEARCHES,
) -> dict[str, Any]:
    import httpx

    rnd = random.Random(SEED + 2)
    kinds = ["exact", "cidr", "domain"]
    work = [(k, rnd.choice(probes[k])) for k in (rnd.choice(kinds) for _ in range(count))]
    lat: dict[str, list[float]] = {k: [] for k in kinds}
    errors = 0

    async def client(items: list[tuple[str, str]]) -> None:
        nonlocal errors
        async with httpx.AsyncClient(
            base_url=server.base, timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as c:
            for kind, q in items:
                t = time.perf_counter()
                r = await c.get("/indicators", params={"q": q, "limit": 100})
                lat[kind].append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors += 1

    async def run() -> float:
        chunks = [work[i::clients] for i in range(clients)]
        t = time.perf_counter()
        await asyncio.gather(*(client(c) for c in chunks))
        return time.perf_counter() - t

    took = asyncio.run(run())
    every = sorted(x for v in lat.values() for x in v)

    def pct(xs: list[float], p: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(len(xs) * p))]

    out = {
        "p50": pct(every, 0.5),
        "p99": pct(every, 0.99),
        "rps": len(every) / took,
        "errors": errors,
    }
    for k in kinds:
        out[k] = (pct(lat[k], 0.5), pct(lat[k], 0.99))
    print(
        f"search ({clients} clients): p50 {out['p50'] * 1000:.1f} ms, p99 {out['p99'] * 1000:.1f} ms, "
        f"{out['rps']:.0f}/s, errors {errors}",
        flush=True,
    )
    return out


def measure(name: str, store: Store, wl: Path, probes: dict[str, list[str]]) -> dict[str, Any]:
    from cif.runtime import issue_token

    res: dict[str, Any] = {"name": name, "cold": cold_builds(store, wl)}
    token, _ = issue_token(store, f"bench-{uuid.uuid4().hex[:6]}", read=True, groups=["everyone"])
    with Server(store, wl) as server:
        res["http"] = http_feeds(server, token)
        res["search1"] = search_load(server, token, probes, 1, 600)
        res["search"] = search_load(server, token, probes)
    return res


# -- report ------------------------------------------------------------------------------


def _v(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(results: list[dict[str, Any]]) -> str:
    rows: list[list[object]] = []
    for r in results:
        c, h, s = r["cold"], r["http"], r["search"]
        n = r["name"]
        first = c["ipv4 first"]
        rows.append(
            [
                n,
                "ipv4 feed, first build (loads both warninglists)",
                f"{first[0]:.2f} s",
                f"{first[1]:.2f} s",
                f"{first[2]:,} lines",
                "-",
            ]
        )
        for feed, tgt in (("ipv4", TARGETS["ipv4"]), ("fqdn", TARGETS["fqdn"])):
            wall, cpu, cnt, rem, size = c[feed]
            rows.append(
                [
                    n,
                    f"{feed} feed, cold (FeedService.rendered, plain)",
                    f"{wall:.2f} s",
                    f"{cpu:.2f} s",
                    f"{cnt:,} lines, {rem:,} removed, {size / 1e6:.1f} MB",
                    f"< {tgt:g} s: {_v(wall < tgt)}",
                ]
            )
            rows.append(
                [
                    n,
                    f"{feed} feed, cold over HTTP",
                    f"{h[feed]:.2f} s",
                    "-",
                    "",
                    f"< {tgt:g} s: {_v(h[feed] < tgt)}",
                ]
            )
            rows.append(
                [
                    n,
                    f"{feed} feed, incremental state ready after the first build (background)",
                    f"{h[f'prime {feed}']:.2f} s",
                    "-",
                    "one-off per feed shape",
                    "-",
                ]
            )
            p50, p99 = h[f"304 {feed}"]
            rows.append(
                [
                    n,
                    f"{feed} feed, 304 (If-None-Match) p50 / p99",
                    f"{p50 * 1000:.1f} / {p99 * 1000:.1f} ms",
                    "-",
                    "200 requests",
                    f"< 20 ms: {_v(p99 < TARGETS['304'])}",
                ]
            )
        rows.append(
            [
                n,
                f"search p50 / p99, {CLIENTS} clients",
                f"{s['p50'] * 1000:.1f} / {s['p99'] * 1000:.1f} ms",
                "-",
                f"{s['rps']:.0f} req/s, {s['errors']} errors; exact {s['exact'][1] * 1000:.0f}, "
                f"cidr {s['cidr'][1] * 1000:.0f}, domain {s['domain'][1] * 1000:.0f} ms p99",
                f"p99 < 20 ms: {_v(s['p99'] < TARGETS['search_p99'])}",
            ]
        )
        s1 = r["search1"]
        rows.append(
            [
                n,
                "search p50 / p99, 1 client (service time)",
                f"{s1['p50'] * 1000:.1f} / {s1['p99'] * 1000:.1f} ms",
                "-",
                f"{s1['rps']:.0f} req/s",
                "-",
            ]
        )
    return table(["store", "what", "wall", "cpu", "size", "target"], rows)


def pg_reachable() -> bool:
    try:
        with socket.create_connection(PG[:2], timeout=1):
            return True
    except OSError:
        return False


def run_pg(probes: dict[str, list[str]], wl: Path) -> dict[str, Any] | None:
    import psycopg

    from cif.store.postgres import PostgresStore

    base = f"postgresql://{PG[0]}:{PG[1]}/{PG[2]}"
    schema = "bench_feeds_" + uuid.uuid4().hex[:8]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        store = PostgresStore(f"{base}?options=-csearch_path%3D{schema}")
        rows, _ = generate(N)
        took = populate(store, rows)
        print(f"postgres: stored {len(rows)} in {took:.1f} s", flush=True)
        del rows
        store._conn().execute("ANALYZE indicators")
        res = measure("PostgreSQL", store, wl, probes)
        store.close()
        return res
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    store, wl, probes = sqlite_store(N)
    results = [measure("SQLite", store, wl, probes)]
    store.close()
    note = ""
    if os.environ.get("CIF_BENCH_FEEDS_PG", "1") != "0":
        if pg_reachable():
            pg = run_pg(probes, wl)
            if pg:
                results.append(pg)
        else:
            note = "\n\nPostgreSQL was not reachable on 127.0.0.1:5432; its rows are missing."
    body = (
        f"{N:,} stored indicators (~35% ipv4, 5% ipv4_cidr, 5% ipv6, 30% fqdn, 15% url, 10% hashes;"
        f" all seen in the last 5 days; one value in ten from two providers), whitelists as MISP"
        f" warninglist files in the server's warninglist folder: {WL_NETS:,} networks (cidr) and"
        f" {WL_DOMAINS:,} domains (hostname). Cold = nothing cached for that feed; the"
        f" warninglists are loaded by the first build and kept until a file changes.\n"
        f" Search: {SEARCHES:,} requests of `GET /indicators?q=` (exact url/hash, /24 CIDR,"
        f" domain with subdomains; equal thirds) from {CLIENTS} concurrent httpx clients on a"
        f" uvicorn server in the same process (rate limiting off).\n\n"
        + report(results)
        + note
        + NOTE
    )
    write_section("feeds", "Feeds: build, cache, search under load", body)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
