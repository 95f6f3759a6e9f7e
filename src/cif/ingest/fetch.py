"""Fetching a feed's body: http(s) with a per-feed cache, or a local file.

Downloads go to a temporary file and replace the cached copy only when complete,
so a failed fetch never loses the last good data.
"""

from __future__ import annotations

import email.utils
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import httpx

from .errors import FetchError, RuleError
from .netguard import check_url
from .rules import FeedRule, env_secret

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
USER_AGENT = "cif-feeds/0.1"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(slots=True)
class FetchResult:
    """Where the body is and whether it changed since the last fetch."""

    path: Path
    source: str
    changed: bool = True
    status: int | None = None
    size: int = 0


def allow_private_from_env() -> bool:
    """Operators allow internal feed hosts with CIF_FEEDS_ALLOW_PRIVATE=1."""
    return os.environ.get("CIF_FEEDS_ALLOW_PRIVATE", "").lower() in ("1", "true", "yes")


class Fetcher:
    """Fetches feeds into ``cache_dir/<rule>/<feed>.body`` with ETag/Last-Modified."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        allow_private: bool = False,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 2.0,
        max_wait: float = 300.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.allow_private = allow_private
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.max_bytes = max_bytes
        self.sleep = sleep

    # -- public ---------------------------------------------------------------------

    def fetch(self, rule: FeedRule, remote: str | None = None) -> FetchResult:
        """Fetch ``remote`` (default: the rule's) and return where its body is."""
        remote = remote or rule.remote
        if "{token}" in remote or "<token>" in remote:
            try:
                token = env_secret(rule, "token") if rule.token else None
            except RuleError as e:
                raise FetchError(rule.remote, e.reason) from None
            if not token:
                raise FetchError(remote, "the remote needs a token but the rule names none")
            remote = remote.replace("{token}", quote(token, safe="")).replace(
                "<token>", quote(token, safe="")
            )
        scheme = urlsplit(remote).scheme.lower() if "://" in remote else ""
        if scheme in ("http", "https"):
            return self._http(rule, remote)
        if scheme == "file":
            return self._file(Path(unquote(urlsplit(remote).path)), remote)
        if scheme:
            raise FetchError(
                remote, f"unsupported URL scheme {scheme!r} (http, https, file or a path)"
            )
        p = Path(remote).expanduser()
        if not p.is_absolute() and not p.exists():
            p = rule.base_dir / p
        return self._file(p, remote)

    def cached(self, rule: FeedRule) -> Path | None:
        """The last good body of a feed, if any."""
        p = self._paths(rule)[0]
        return p if p.exists() else None

    # -- local ----------------------------------------------------------------------

    def _file(self, p: Path, remote: str) -> FetchResult:
        if not p.is_file():
            raise FetchError(remote, "no such file")
        size = p.stat().st_size
        if size > self.max_bytes:
            raise FetchError(remote, f"file is {size} bytes, over the {self.max_bytes} byte cap")
        return FetchResult(path=p, source=remote, size=size)

    # -- http -----------------------------------------------------------------------

    def _paths(self, rule: FeedRule) -> tuple[Path, Path]:
        d = self.cache_dir / _safe(rule.rule)
        return d / f"{_safe(rule.name)}.body", d / f"{_safe(rule.name)}.meta.json"

    def _http(self, rule: FeedRule, url: str) -> FetchResult:
        body, meta_path = self._paths(rule)
        meta = _read_meta(meta_path)
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
        if body.exists() and meta.get("url") == url:
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]
        auth = None
        try:
            if rule.token and rule.token_header:
                headers[rule.token_header] = env_secret(rule, "token") or ""
            if rule.username:
                auth = (env_secret(rule, "username") or "", env_secret(rule, "password") or "")
        except RuleError as e:
            raise FetchError(rule.remote, e.reason) from None

        def guard(request: httpx.Request) -> None:
            check_url(str(request.url), allow_private=self.allow_private)

        with httpx.Client(
            timeout=self.timeout,
            follow_redirects=True,
            max_redirects=5,
            event_hooks={"request": [guard]},
            auth=auth,
        ) as client:
            attempt = 0
            while True:
                try:
                    result = self._once(client, url, headers, body, meta_path)
                except _Retry as r:
                    if attempt >= self.retries:
                        raise FetchError(
                            url, r.reason + f" (after {attempt + 1} attempts)"
                        ) from None
                    wait = r.retry_after if r.retry_after is not None else self.backoff * 2**attempt
                    self.sleep(min(max(wait, 0.0), self.max_wait))
                    attempt += 1
                    continue
                return result

    def _once(
        self, client: httpx.Client, url: str, headers: dict[str, str], body: Path, meta_path: Path
    ) -> FetchResult:
        try:
            with client.stream("GET", url, headers=headers) as resp:
                if resp.status_code == 304 and body.exists():
                    return FetchResult(
                        path=body, source=url, changed=False, status=304, size=body.stat().st_size
                    )
                if resp.status_code in RETRY_STATUS:
                    raise _Retry(f"HTTP {resp.status_code}", _retry_after(resp))
                if resp.status_code != 200:
                    raise FetchError(url, f"HTTP {resp.status_code}")
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(
                        url, f"body is {declared} bytes, over the {self.max_bytes} byte cap"
                    )
                body.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=body.parent, prefix=".part-")
                size = 0
                try:
                    with os.fdopen(fd, "wb") as out:
                        # raw bytes: gzip/bz2/zip bodies are decoded when read, not here
                        for chunk in resp.iter_raw(1024 * 1024):
                            size += len(chunk)
                            if size > self.max_bytes:
                                raise FetchError(url, f"body is over the {self.max_bytes} byte cap")
                            out.write(chunk)
                    os.replace(tmp, body)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
                _write_meta(
                    meta_path,
                    {
                        "url": url,
                        "etag": resp.headers.get("ETag"),
                        "last_modified": resp.headers.get("Last-Modified"),
                        "fetched_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                        "size": size,
                    },
                )
                return FetchResult(path=body, source=url, changed=True, status=200, size=size)
        except httpx.TransportError as e:
            raise _Retry(f"{type(e).__name__}: {e}", None) from None


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


def _retry_after(resp: httpx.Response) -> float | None:
    v = resp.headers.get("Retry-After")
    if not v:
        return None
    v = v.strip()
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:128] or "_"


def _read_meta(p: Path) -> dict[str, str]:
    try:
        data = json.loads(p.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_meta(p: Path, data: dict[str, object]) -> None:
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, p)
