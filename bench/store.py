"""Store benchmark: bulk upsert of 1,000,000 indicators, re-upsert, and lookup latency.

Indicators are built directly with canonical values, so this measures the store
alone. Both backends: SQLite in a file under bench/.work, PostgreSQL in a fresh
schema of database ``test`` on the local server (dropped afterwards; skipped with
a note when the server is not reachable). ``CIF_BENCH_STORE_N`` shrinks the run.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import WORK, table, write_section

from cif.indicator import Indicator
from cif.store import Query, Store
from cif.store.postgres import PostgresStore
from cif.store.sqlite import SQLiteStore

N = int(os.environ.get("CIF_BENCH_STORE_N", "1000000"))
BATCH = 5000
REUPSERT = min(200_000, N // 5)
LOOKUPS = 2000
UPSERT_TARGET = 50_000
P99_TARGET_MS = 2.0
PG = ("127.0.0.1", 5432, "test")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TAGS = ["malware", "c2", "phishing", "scanner", "botnet", "spam", "bruteforce", "exploit"]
TLDS = ["com", "net", "org", "io", "ru", "cn", "info", "xyz"]


def generate(n: int, seed: int = 42) -> tuple[list[Indicator], dict[str, list[str]]]:
    """n deterministic indicators and sample lookup values for each query shape."""
    rnd = random.Random(seed)
    out: list[Indicator] = []
    probes: dict[str, list[str]] = {"exact": [], "cidr": [], "subdomain": []}
    domains = [f"d{i}.{TLDS[i % len(TLDS)]}" for i in range(max(1, n // 20))]
    seen: set[str] = set()
    i = 0
    while len(out) < n:
        i += 1
        r = rnd.random()
        if r < 0.35:
            v, it = _ipv4(rnd), "ipv4"
        elif r < 0.42:
            plen = rnd.choice((8, 12, 16, 20, 24, 24, 24, 28))
            n32 = rnd.getrandbits(32) & ~((1 << (32 - plen)) - 1) & 0xFFFFFFFF
            v = f"{n32 >> 24}.{(n32 >> 16) & 255}.{(n32 >> 8) & 255}.{n32 & 255}/{plen}"
            it = "ipv4_cidr"
        elif r < 0.52:
            v, it = "2001:db8:" + ":".join(f"{rnd.getrandbits(16):x}" for _ in range(6)), "ipv6"
        elif r < 0.80:
            d = rnd.choice(domains)
            v = d if rnd.random() < 0.3 else f"h{rnd.getrandbits(24):x}.{d}"
            it = "fqdn"
        elif r < 0.90:
            v, it = f"http://{rnd.choice(domains)}/p/{rnd.getrandbits(40):x}", "url"
        else:
            v, it = f"{rnd.getrandbits(256):064x}", "sha256"
        if v in seen:
            continue
        seen.add(v)
        last = T0 + timedelta(seconds=rnd.randrange(86400 * 90))
        out.append(
            Indicator(
                indicator=v,
                itype=it,
                tags={rnd.choice(TAGS)},
                confidence=float(rnd.randrange(101)),
                provider=f"feed{rnd.randrange(20)}",
                first_at=last - timedelta(days=rnd.randrange(30)),
                last_at=last,
                reported_at=last,
                asn=rnd.randrange(1, 65000) if it == "ipv4" else None,
            )
        )
        if it in ("url", "sha256") and len(probes["exact"]) < LOOKUPS:
            probes["exact"].append(v)
    probes["cidr"] = [_ipv4(rnd) for _ in range(LOOKUPS)]
    probes["subdomain"] = [rnd.choice(domains) for _ in range(LOOKUPS)]
    return out, probes


def _ipv4(rnd: random.Random) -> str:
    return f"{rnd.randrange(1, 224)}.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}"


def fresh(rows: list[Indicator]) -> list[Indicator]:
    """Copies without ids, so every backend starts from the same input."""
    return [
        Indicator(
            indicator=r.indicator,
            itype=r.itype,
            tags=set(r.tags),
            confidence=r.confidence,
            provider=r.provider,
            first_at=r.first_at,
            last_at=r.last_at,
            reported_at=r.reported_at,
            asn=r.asn,
        )
        for r in rows
    ]


def timed_upsert(store: Store, rows: list[Indicator]) -> tuple[float, float]:
    """(rows per wall-clock second, rows per second of this process's CPU time)."""
    t, c = time.perf_counter(), time.process_time()
    for i in range(0, len(rows), BATCH):
        store.upsert(rows[i : i + BATCH])
    return len(rows) / (time.perf_counter() - t), len(rows) / (time.process_time() - c)


def latencies(store: Store, values: list[str]) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, mean rows) of store.search(q=value) over values (after a warm-up)."""
    for v in values[:50]:
        store.search(Query(q=v, limit=100))
    ms: list[float] = []
    hits = 0
    for v in values:
        t = time.perf_counter()
        page = store.search(Query(q=v, limit=100))
        ms.append((time.perf_counter() - t) * 1000)
        hits += len(page.items)
    ms.sort()
    return statistics.median(ms), ms[int(len(ms) * 0.99) - 1], hits / len(values)


def measure(
    name: str, open_: Callable[[], Store], rows: list[Indicator], probes: dict[str, list[str]]
) -> list[list[object]]:
    store = open_()
    try:
        print(f"{name}: upserting {len(rows):,}", flush=True)
        rate, cpu_rate = timed_upsert(store, fresh(rows))
        total = store.count()
        again = fresh(rows[:REUPSERT])
        for r in again:
            r.last_at = (r.last_at or T0) + timedelta(hours=1)
            r.tags.add("seen-again")
        rerate, re_cpu = timed_upsert(store, again)
        # In-process CPU time covers all of SQLite's work but none of the PostgreSQL server's.
        cpu = (lambda r: f" ({r:,.0f} /s of CPU time)") if name == "SQLite" else (lambda r: "")
        target = f">= {UPSERT_TARGET:,}/s"
        out: list[list[object]] = [
            [
                name,
                "bulk upsert (new)",
                f"{rate:,.0f} /s{cpu(cpu_rate)}",
                f"{total:,} records",
                _verdict(rate >= UPSERT_TARGET, target) if name == "SQLite" else "-",
            ],
            [
                name,
                "re-upsert (update path)",
                f"{rerate:,.0f} /s{cpu(re_cpu)}",
                f"{REUPSERT:,} records",
                "-",
            ],
        ]
        for shape in ("exact", "cidr", "subdomain"):
            p50, p99, hits = latencies(store, probes[shape])
            out.append(
                [
                    name,
                    f"lookup {shape}",
                    f"p50 {p50:.3f} ms, p99 {p99:.3f} ms",
                    f"{hits:.1f} rows/lookup",
                    _verdict(p99 < P99_TARGET_MS, f"p99 < {P99_TARGET_MS} ms"),
                ]
            )
        return out
    finally:
        store.close()


def _verdict(ok: bool, target: str) -> str:
    return f"met ({target})" if ok else f"NOT met ({target})"


def main() -> None:
    t = time.perf_counter()
    rows, probes = generate(N)
    print(f"generated {len(rows):,} indicators in {time.perf_counter() - t:.1f}s", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / "store-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    results = measure("SQLite", lambda: SQLiteStore(db), rows, probes)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    notes = []
    try:
        socket.create_connection(PG[:2], timeout=1).close()
        pg_ok = True
    except OSError:
        pg_ok = False
        notes.append("PostgreSQL was not reachable on 127.0.0.1:5432: its rows are missing.")
    if pg_ok:
        import psycopg

        base = f"postgresql://{PG[0]}:{PG[1]}/{PG[2]}"
        schema = "bench_" + uuid.uuid4().hex[:10]
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = f"{base}?options=-csearch_path%3D{schema}"
            results += measure("PostgreSQL", lambda: PostgresStore(url), rows, probes)
        finally:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    body = (
        f"{len(rows):,} indicators (35% ipv4, 7% ipv4 CIDRs, 10% ipv6, 28% fqdns mostly "
        f"subdomains, 10% urls, 10% sha256; one tag each, 20 providers), upserted through "
        f"`Store.upsert` in batches of {BATCH:,}. Re-upsert: the first {REUPSERT:,} again with a "
        f"later last_at and a new tag (read, merge, write). Lookups: {LOOKUPS:,} in-process "
        "`Store.search(Query(q=...))` calls per shape at full size: exact (urls and hashes), "
        "CIDR containment (a random IPv4 address: the address and every stored network holding "
        "it) and subdomain (a domain and all its subdomains, up to 100 rows).\n\n"
        + table(["backend", "operation", "measured", "size", "target"], results)
    )
    if notes:
        body += "\n\n" + "\n".join(notes)
    write_section("store", "Store: bulk upsert and lookups", body)


if __name__ == "__main__":
    main()
