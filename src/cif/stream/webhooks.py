"""Webhooks: POST matching indicators to URLs, at least once, from an outbox in the store.

Two halves run in every `cif up` that subscribes to the bus (roles ``all`` and ``stream``):

- the **enqueuer**, a bus handler: for each enabled webhook it keeps the indicators its
  filter and groups let through, cuts them into deliveries of at most ``max_batch``
  indicators and inserts them in one transaction before anything is sent;
- the **delivery loop**, an asyncio loop in a thread: it claims due deliveries under a
  lease (safe with several workers and processes), POSTs them with bounded concurrency
  and a timeout per call, and records success, the next try (exponential backoff with
  jitter, or the receiver's Retry-After) or, after ``max_tries``, ``dead``.

A stopped or killed worker loses nothing: untried claims are given back at a graceful
stop, and a dead worker's claims become due again when their lease runs out. A receiver
may therefore see a delivery twice; ``X-Cif-Delivery`` is stable so it can de-duplicate.

Destinations in loopback, private or link-local space are refused when the webhook is
created and again before every POST, after DNS resolution; the POST then goes to the
address that was checked (no second lookup a rebinding DNS server could answer
differently). ``allow_private`` turns the rule off for labs and tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import random
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

import cif
from cif.bus import Bus
from cif.indicator import format_time
from cif.ingest.netguard import is_internal
from cif.store.outbox import Delivery, Outbox, WebhookRecord, now_us, open_outbox

from .filters import Audience, StreamFilter

log = logging.getLogger("cif.webhooks")

SIGNATURE_HEADER = "X-Cif-Signature"
DELIVERY_HEADER = "X-Cif-Delivery"
TIMESTAMP_HEADER = "X-Cif-Timestamp"
SLACK_LINES = 20  # indicators listed in one Slack message; the rest are counted
MAX_URL = 2048


class WebhookRefused(ValueError):
    """The webhook URL is not acceptable (scheme, host, or internal address space)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Delivery knobs; the defaults suit production, tests shrink the times."""

    max_tries: int = 8
    timeout: float = 10.0  # seconds per POST (connect, write, read)
    concurrency: int = 8  # POSTs in flight per worker
    max_batch: int = 100  # indicators per delivery
    backoff: float = 15.0  # seconds before the 2nd try; x3 per try, with +-25% jitter
    backoff_factor: float = 3.0
    backoff_cap: float = 6 * 3600.0
    lease: float = 120.0  # a claimed delivery is due again after this if its worker vanished
    poll: float = 1.0  # seconds between looks for due deliveries when not woken
    keep_done: float = 24 * 3600.0  # delivered rows are kept this long, for inspection
    allow_private: bool = False

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after try number ``attempts`` failed."""
        base = min(self.backoff_cap, self.backoff * self.backoff_factor ** max(0, attempts - 1))
        d = base * random.uniform(0.75, 1.25)  # noqa: S311  jitter, not crypto
        if retry_after is not None:
            d = max(d, min(retry_after, self.backoff_cap))
        return d


# -- pure helpers ------------------------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Cif-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (and the tests): compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header or "")


def _host_ips(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host.split("%", 1)[0]))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as e:
        raise WebhookRefused(f"cannot resolve {host}: {e}") from None
    return list(dict.fromkeys(str(i[4][0]) for i in infos))


def check_url(url: str, *, allow_private: bool, resolve: bool = True) -> list[str]:
    """Refuse a bad or internal webhook URL; return the addresses it resolves to.

    Every address must be public: one internal answer is enough to refuse, since
    the client could connect to any of them.
    """
    if len(url) > MAX_URL:
        raise WebhookRefused(f"the URL is longer than {MAX_URL} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise WebhookRefused(f"{url!r}: the scheme must be http or https")
    host = parts.hostname
    if not host:
        raise WebhookRefused(f"{url!r}: the URL has no host")
    if parts.username or parts.password:
        raise WebhookRefused(f"{url!r}: credentials in the URL are not allowed")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused(f"{url!r}: bad port") from None
    if allow_private and not resolve:
        return []
    ips = _host_ips(host, port)
    if not allow_private:
        for ip in ips:
            if is_internal(ip):
                raise WebhookRefused(
                    f"{host} resolves to {ip}, in loopback/private/link-local space; "
                    "start the platform with --webhooks-allow-private to allow it"
                )
    return ips


def pinned(url: str, ip: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL rewritten to the checked address, plus the Host header and TLS server name."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{ip}]" if ":" in ip else ip
    netloc = literal + (f":{parts.port}" if parts.port else "")
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    ext = {"sni_hostname": host} if parts.scheme == "https" else {}
    return target, {"Host": host_header}, ext


def _slack_line(i: Mapping[str, Any]) -> str:
    tags = ", ".join(i.get("tags") or ())
    bits = [f"`{i.get('indicator')}` ({i.get('itype')})"]
    if tags:
        bits.append(tags)
    bits.append(f"confidence {i.get('confidence', 0):g}")
    if i.get("provider"):
        bits.append(f"from {i['provider']}")
    return "• " + " · ".join(bits)


def render(hook: WebhookRecord, d: Delivery, sent_at: datetime) -> bytes:
    """The POST body: the generic JSON envelope, or ``{"text": ...}`` for Slack."""
    inds = d.indicators()
    if hook.style == "slack":
        name = f" {hook.name}" if hook.name else ""
        head = f"cif{name}: {len(inds)} new indicator{'s' if len(inds) != 1 else ''}"
        lines = [head, *(_slack_line(i) for i in inds[:SLACK_LINES])]
        if len(inds) > SLACK_LINES:
            lines.append(f"… and {len(inds) - SLACK_LINES} more")
        return orjson.dumps({"text": "\n".join(lines)})
    return orjson.dumps(
        {
            "webhook": hook.id,
            "delivery": d.id,
            "attempt": d.attempts,
            "sent_at": format_time(sent_at),
            "count": len(inds),
            "indicators": inds,
        }
    )


def selector(hook: WebhookRecord) -> Callable[[Mapping[str, Any]], bool]:
    """Which bus indicators a webhook gets: its groups' rights, then its own filter.

    A webhook is not an admin: it gets only indicators of its groups, and TLP red only
    when it is a member of the indicator's group.
    """
    aud = Audience(frozenset(hook.groups))
    flt = StreamFilter.build(hook.itypes, hook.tags, hook.confidence, hook.providers)
    return lambda i: aud.may_see(i) and flt.matches(i)


# -- the worker --------------------------------------------------------------------------


class Webhooks:
    """The running enqueuer and delivery loop; ``stop()`` is graceful."""

    def __init__(self, outbox: Outbox, settings: Settings, *, owns_outbox: bool = True) -> None:
        self.outbox = outbox
        self.settings = settings
        self._owns = owns_outbox
        self._unsubscribe: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._db = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cif-webhooks-db")
        self._clients: dict[tuple[int, str], httpx.AsyncClient] = {}
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._ready = threading.Event()
        self.enqueued = 0
        self.enqueue_failed = 0
        self.delivered = 0
        self.failed = 0
        self.dead = 0
        self.released = 0

    # -- enqueue (bus thread) --------------------------------------------------------------

    def attach(self, bus: Bus) -> None:
        self._unsubscribe = bus.subscribe(self.on_batch)

    def on_batch(self, batch: list[dict[str, Any]]) -> None:
        """Write every delivery this batch owes to the outbox, then wake the loop."""
        for attempt in range(3):
            try:
                hooks = self.outbox.webhook_list(enabled_only=True)
                items = self.plan(hooks, batch)
                self.enqueued += self.outbox.enqueue(items)
                break
            except Exception:  # noqa: BLE001  the store may be busy or restarting
                if attempt == 2:
                    self.enqueue_failed += len(batch)
                    log.exception("webhooks: %d indicators not written to the outbox", len(batch))
                    return
                time.sleep(0.5 * (attempt + 1))
        self.wake()

    def plan(
        self, hooks: Sequence[WebhookRecord], batch: Sequence[Mapping[str, Any]]
    ) -> list[tuple[str, int, int, bytes]]:
        """Deliveries ``(id, webhook_id, count, payload)`` for one bus batch."""
        items: list[tuple[str, int, int, bytes]] = []
        n = max(1, self.settings.max_batch)
        for hook in hooks:
            assert hook.id is not None
            keep = selector(hook)
            matched = [i for i in batch if keep(i)]
            for k in range(0, len(matched), n):
                chunk = matched[k : k + n]
                items.append((uuid.uuid4().hex, hook.id, len(chunk), orjson.dumps(chunk)))
        return items

    def _delivered(self, delivery_id: str, _task: asyncio.Task[None]) -> None:
        """A delivery finished: free its slot and look for more work."""
        self._inflight.pop(delivery_id, None)
        self.wake()

    def wake(self) -> None:
        loop, ev = self._loop, self._wake
        if loop is not None and ev is not None:
            try:
                loop.call_soon_threadsafe(ev.set)
            except RuntimeError:  # loop already closed
                pass

    # -- delivery loop -----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cif-webhooks", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _db_call(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, lambda: fn(*args, **kw))

    async def _main(self) -> None:
        self._wake = asyncio.Event()
        self._ready.set()
        s = self.settings
        next_purge = 0.0
        while not self._stopping:
            self._wake.clear()
            free = s.concurrency - len(self._inflight)
            claimed: list[Delivery] = []
            if free > 0:
                try:
                    claimed = await self._db_call(self.outbox.claim, free, s.lease)
                    if claimed:
                        hooks = {h.id: h for h in await self._db_call(self.outbox.webhook_list)}
                        for d in claimed:
                            hook = hooks.get(d.webhook_id)
                            if hook is None:  # deleted meanwhile: its rows went with it
                                continue
                            task = asyncio.get_running_loop().create_task(self._deliver(hook, d))
                            self._inflight[d.id] = task
                            task.add_done_callback(partial(self._delivered, d.id))
                    if time.monotonic() >= next_purge:
                        next_purge = time.monotonic() + 60
                        await self._db_call(self.outbox.purge_done, s.keep_done)
                except Exception:  # noqa: BLE001  the store may be restarting: try again later
                    log.exception("webhooks: claiming deliveries failed")
            # A finished POST, an enqueue or stop() wakes the loop; else look again after poll.
            try:
                await asyncio.wait_for(self._wake.wait(), s.poll)
            except TimeoutError:
                pass
        await self._drain()

    async def _drain(self) -> None:
        """Let in-flight POSTs finish for one timeout; give the rest back untried."""
        tasks = list(self._inflight.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self.settings.timeout + 1)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for c in self._clients.values():
            await c.aclose()
        self._clients.clear()

    def _client(self, hook: WebhookRecord) -> httpx.AsyncClient:
        # One client (connection pool) per webhook and host: a pooled connection pinned
        # to an address never carries another host's requests.
        key = (hook.id or 0, urlsplit(hook.url).hostname or "")
        c = self._clients.get(key)
        if c is None:
            t = self.settings.timeout
            c = httpx.AsyncClient(
                timeout=httpx.Timeout(t),
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_connections=self.settings.concurrency),
            )
            self._clients[key] = c
        return c

    async def _deliver(self, hook: WebhookRecord, d: Delivery) -> None:
        s = self.settings
        status: int | None = None
        retry_after: float | None = None
        try:
            sent = datetime.now(UTC)
            body = render(hook, d, sent)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": f"cif-webhooks/{cif.__version__}",
                DELIVERY_HEADER: d.id,
                TIMESTAMP_HEADER: str(int(sent.timestamp())),
                SIGNATURE_HEADER: sign(hook.secret, body),
                "X-Cif-Webhook": str(hook.id),
                "X-Cif-Attempt": str(d.attempts),
            }
            url, ext = hook.url, cast(dict[str, Any], {})
            if not s.allow_private:
                loop = asyncio.get_running_loop()
                ips = await loop.run_in_executor(
                    None, lambda: check_url(hook.url, allow_private=False)
                )
                url, host, ext = pinned(hook.url, ips[0])
                headers.update(host)
            r = await asyncio.wait_for(
                self._client(hook).post(url, content=body, headers=headers, extensions=ext),
                s.timeout + 1,
            )
            status = r.status_code
            if 200 <= status < 300:
                await self._db_call(self.outbox.succeed, d.id, status)
                self.delivered += 1
                return
            retry_after = _retry_after(r.headers.get("retry-after"))
            error = f"answered {status}"
            if 300 <= status < 400:
                error += " (redirects are not followed)"
        except asyncio.CancelledError:
            await asyncio.shield(self._db_call(self.outbox.release, [d.id]))
            self.released += 1
            raise
        except WebhookRefused as e:
            error = f"refused: {e}"
        except (httpx.TimeoutException, TimeoutError):
            error = f"timed out after {s.timeout:g}s"
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        self.failed += 1
        if d.attempts >= s.max_tries:
            next_at = None
            self.dead += 1
            log.warning(
                "webhook %s: delivery %s is dead after %d tries: %s",
                hook.id,
                d.id,
                d.attempts,
                error,
            )
        else:
            next_at = now_us() + int(s.delay(d.attempts, retry_after) * 1e6)
        try:
            await self._db_call(self.outbox.fail, d.id, status=status, error=error, next_at=next_at)
        except Exception:  # noqa: BLE001  the lease will make it due again
            log.exception("webhooks: could not record a failed delivery")

    # -- lifecycle ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Unhook from the bus, let in-flight POSTs finish (or give them back), close."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stopping = True
        self.wake()
        if self._thread is not None:
            self._thread.join(self.settings.timeout + 15)
            self._thread = None
        self._db.shutdown(wait=True)
        if self._owns:
            self.outbox.close()

    def stats(self) -> dict[str, Any]:
        return {
            "enqueued": self.enqueued,
            "enqueue_failed": self.enqueue_failed,
            "delivered": self.delivered,
            "failed": self.failed,
            "dead": self.dead,
            "released": self.released,
            "inflight": len(self._inflight),
        }


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def start_webhooks(
    store_url: str,
    bus: Bus | None,
    allow_private: bool = False,
    *,
    outbox: Outbox | None = None,
    **settings: Any,
) -> Webhooks:
    """Open the outbox beside the store, subscribe to ``bus`` (None: deliver only), start.

    Keyword ``settings`` are the fields of :class:`Settings` (max_tries, timeout, ...).
    """
    box = outbox or open_outbox(store_url)
    w = Webhooks(box, Settings(allow_private=allow_private, **settings), owns_outbox=outbox is None)
    try:
        w.start()
        if bus is not None:
            w.attach(bus)
    except BaseException:
        w.stop()
        raise
    return w
