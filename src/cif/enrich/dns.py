"""DNS context for names: A, AAAA, NS, MX and CNAME, resolved concurrently with a cache.

The pipeline must never wait on a slow resolver, so lookups run on a private
event loop in a background thread with a concurrency cap and per-query timeouts,
and a batch waits at most ``budget`` seconds: names not answered by then go on
resolving in the background and are served from the cache next time.
Answers are cached for their TTL (clamped), failures and NXDOMAIN for ``negative_ttl``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

RTYPES = ("A", "AAAA", "NS", "MX", "CNAME")


@dataclass(frozen=True, slots=True)
class DnsConfig:
    """Resolver settings; ``nameservers=None`` uses the system's resolv.conf."""

    nameservers: Sequence[str] | None = None
    port: int = 53
    timeout: float = 2.0  # one query
    concurrency: int = 64  # queries in flight at once
    budget: float = 3.0  # how long one batch may wait for answers
    rtypes: Sequence[str] = RTYPES
    min_ttl: int = 60
    max_ttl: int = 86400
    negative_ttl: int = 300
    cache_size: int = 100_000


@dataclass(slots=True)
class DnsAnswer:
    """What one name resolved to; ``status`` is ok, nxdomain or error."""

    status: str = "ok"
    records: dict[str, list[str]] = field(default_factory=dict)
    ttl: int = 0

    @property
    def addresses(self) -> list[str]:
        return self.records.get("A", []) + self.records.get("AAAA", [])

    def to_dict(self) -> dict[str, list[str]]:
        return {k.lower(): v for k, v in self.records.items() if v}


class DnsResolver:
    """Concurrent, cached, time-boxed lookups usable from synchronous code."""

    def __init__(self, config: DnsConfig | None = None) -> None:
        self.config = config or DnsConfig()
        self._cache: dict[str, tuple[float, DnsAnswer]] = {}
        self._lock = threading.Lock()
        self._pending: dict[str, concurrent.futures.Future[DnsAnswer]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cif-dns", daemon=True)
        self._thread.start()
        self._sem: asyncio.Semaphore | None = None
        self._resolver = self._make_resolver()
        self.queries = 0  # DNS questions actually sent (for tests and benchmarks)
        self.in_flight = 0
        self.max_in_flight = 0

    def _make_resolver(self) -> dns.asyncresolver.Resolver:
        c = self.config
        r = dns.asyncresolver.Resolver(configure=c.nameservers is None)
        if c.nameservers is not None:
            r.nameservers = list(c.nameservers)
        r.port = c.port
        r.timeout = c.timeout
        r.lifetime = c.timeout
        return r

    # -- cache -------------------------------------------------------------------

    def cached(self, name: str) -> DnsAnswer | None:
        with self._lock:
            hit = self._cache.get(name)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._cache[name]
                return None
            return hit[1]

    def _store(self, name: str, ans: DnsAnswer) -> None:
        c = self.config
        ttl = c.negative_ttl if ans.status != "ok" else min(max(ans.ttl, c.min_ttl), c.max_ttl)
        with self._lock:
            if len(self._cache) >= c.cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[name] = (time.monotonic() + ttl, ans)

    # -- lookups -----------------------------------------------------------------

    async def _query(self, name: str, rtype: str) -> tuple[str, list[str], int]:
        assert self._sem is not None
        async with self._sem:
            self.queries += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                ans = await self._resolver.resolve(
                    name, rtype, raise_on_no_answer=False, search=False
                )
            finally:
                self.in_flight -= 1
        if ans.rrset is None:
            return rtype, [], self.config.negative_ttl
        vals = [_text(rd) for rd in ans.rrset]
        return rtype, sorted(set(vals)), ans.rrset.ttl

    async def _resolve(self, name: str) -> DnsAnswer:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.config.concurrency)
        results = await asyncio.gather(
            *(self._query(name, t) for t in self.config.rtypes), return_exceptions=True
        )
        out = DnsAnswer()
        ttls: list[int] = []
        for res in results:
            if isinstance(res, dns.resolver.NXDOMAIN):
                out = DnsAnswer(status="nxdomain")
                break
            if isinstance(res, BaseException):
                out.status = "error" if not out.records else out.status
                continue
            rtype, vals, ttl = res
            if vals:
                out.records[rtype] = vals
                ttls.append(ttl)
        if out.records:
            out.status = "ok"
        out.ttl = min(ttls) if ttls else 0
        self._store(name, out)
        with self._lock:
            self._pending.pop(name, None)
        return out

    def resolve_many(
        self, names: Iterable[str], budget: float | None = None
    ) -> dict[str, DnsAnswer]:
        """Answers for ``names`` known within ``budget`` seconds (cache first)."""
        budget = self.config.budget if budget is None else budget
        out: dict[str, DnsAnswer] = {}
        waiting: dict[str, concurrent.futures.Future[DnsAnswer]] = {}
        for name in dict.fromkeys(names):
            hit = self.cached(name)
            if hit is not None:
                out[name] = hit
                continue
            with self._lock:
                fut = self._pending.get(name)
                if fut is None:
                    fut = asyncio.run_coroutine_threadsafe(self._resolve(name), self._loop)
                    self._pending[name] = fut
            waiting[name] = fut
        if waiting:
            done, _ = concurrent.futures.wait(waiting.values(), timeout=budget)
            for name, fut in waiting.items():
                if fut in done and fut.exception() is None:
                    out[name] = fut.result()
        return out

    def resolve(self, name: str, budget: float | None = None) -> DnsAnswer | None:
        return self.resolve_many([name], budget).get(name)

    async def _shutdown(self) -> None:
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        """Cancel lookups still in flight and stop the background loop."""
        if self._loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=2)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2)
        if not self._thread.is_alive():
            self._loop.close()


def _text(rd: object) -> str:
    """Record data as text; names without the trailing dot, MX without the preference."""
    exchange = getattr(rd, "exchange", None)
    target = getattr(rd, "target", None)
    if exchange is not None:
        return str(exchange).rstrip(".").lower()
    if target is not None:
        return str(target).rstrip(".").lower()
    return str(rd).rstrip(".").lower()
