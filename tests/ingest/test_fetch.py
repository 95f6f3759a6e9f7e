"""Fetcher behaviour against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from cif.ingest import Fetcher, FetchError, load_rule, run_feed
from cif.ingest.content import iter_lines

from .conftest import Collect

BODY = b"# list\n192.0.2.1\n192.0.2.2\n"


def feed(tmp: Path, url: str):
    p = tmp / "r.yml"
    p.write_text(f"feeds:\n  a:\n    remote: {url}\n    parser: plain\n")
    return load_rule(p)[0]


def fetcher(tmp: Path, **kw) -> Fetcher:
    waits: list[float] = []
    f = Fetcher(tmp / "cache", allow_private=True, sleep=waits.append, **kw)
    f.waits = waits  # type: ignore[attr-defined]
    return f


def test_etag_and_last_modified_give_304(tmp_path: Path, http_server) -> None:
    seen: list[dict] = []

    def get(h: BaseHTTPRequestHandler) -> None:
        seen.append(dict(h.headers))
        if h.headers.get("If-None-Match") == '"v1"':
            h.send_response(304)
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("ETag", '"v1"')
        h.send_header("Last-Modified", "Wed, 01 May 2024 10:00:00 GMT")
        h.send_header("Content-Length", str(len(BODY)))
        h.end_headers()
        h.wfile.write(BODY)

    url = http_server(get) + "/list.txt"
    f, fe = feed(tmp_path, url), fetcher(tmp_path)
    first = fe.fetch(f)
    assert first.changed and first.path.read_bytes() == BODY
    second = fe.fetch(f)
    assert not second.changed and second.status == 304 and second.path.read_bytes() == BODY
    assert seen[1]["If-None-Match"] == '"v1"'
    assert seen[1]["If-Modified-Since"] == "Wed, 01 May 2024 10:00:00 GMT"


def test_retry_after_is_honoured_then_success(tmp_path: Path, http_server) -> None:
    calls = []

    def get(h: BaseHTTPRequestHandler) -> None:
        calls.append(1)
        if len(calls) == 1:
            h.send_response(429)
            h.send_header("Retry-After", "7")
            h.end_headers()
            return
        if len(calls) == 2:
            h.send_response(503)
            h.end_headers()
            return
        h.send_response(200)
        h.end_headers()
        h.wfile.write(BODY)

    fe = fetcher(tmp_path, backoff=0.5)
    res = fe.fetch(feed(tmp_path, http_server(get)))
    assert res.path.read_bytes() == BODY
    assert fe.waits == [7.0, 1.0]  # Retry-After, then backoff 0.5 * 2**1


def test_retries_exhausted_and_4xx_not_retried(tmp_path: Path, http_server) -> None:
    codes = {"/down": 502, "/gone": 404}
    calls: list[str] = []

    def get(h: BaseHTTPRequestHandler) -> None:
        calls.append(h.path)
        h.send_response(codes[h.path])
        h.end_headers()

    base = http_server(get)
    fe = fetcher(tmp_path, retries=2, backoff=0.01)
    with pytest.raises(FetchError, match="HTTP 502 .after 3 attempts"):
        fe.fetch(feed(tmp_path, base + "/down"))
    with pytest.raises(FetchError, match="HTTP 404"):
        fe.fetch(feed(tmp_path, base + "/gone"))
    assert calls.count("/gone") == 1


def test_size_cap(tmp_path: Path, http_server) -> None:
    def get(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.end_headers()  # no Content-Length: the cap applies while streaming
        h.wfile.write(b"1.2.3.4\n" * 1000)

    fe = fetcher(tmp_path, max_bytes=1000)
    with pytest.raises(FetchError, match="over the 1000 byte cap"):
        fe.fetch(feed(tmp_path, http_server(get)))
    assert not list((tmp_path / "cache").rglob(".part-*"))


@pytest.mark.parametrize("kind", ["gzip", "bz2", "zip", "content-encoding"])
def test_compressed_bodies(tmp_path: Path, http_server, kind: str) -> None:
    if kind in ("gzip", "content-encoding"):
        data = gzip.compress(BODY)
    elif kind == "bz2":
        data = bz2.compress(BODY)
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("list.txt", BODY)
        data = buf.getvalue()

    def get(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        if kind == "content-encoding":
            h.send_header("Content-Encoding", "gzip")
        h.end_headers()
        h.wfile.write(data)

    res = fetcher(tmp_path).fetch(feed(tmp_path, http_server(get)))
    assert list(iter_lines(res.path)) == ["# list", "192.0.2.1", "192.0.2.2"]


def test_failed_fetch_keeps_last_good_data(tmp_path: Path, http_server) -> None:
    state = {"up": True}

    def get(h: BaseHTTPRequestHandler) -> None:
        if state["up"]:
            h.send_response(200)
            h.end_headers()
            h.wfile.write(BODY)
        else:
            h.send_response(500)
            h.end_headers()

    f = feed(tmp_path, http_server(get))
    fe = fetcher(tmp_path, retries=1, backoff=0.01)
    from cif.ingest import HealthStore

    health = HealthStore(tmp_path / "data")
    ok = run_feed(f, fetcher=fe, submit=Collect(), health=health)
    assert ok["status"] == "ok" and ok["counts"]["accepted"] == 2
    state["up"] = False
    bad = run_feed(f, fetcher=fe, submit=Collect(), health=health)
    assert bad["status"] == "error" and "HTTP 500" in bad["error"]
    assert bad["last_success"] == ok["last_success"] and bad["failures"] == 1
    assert fe.cached(f).read_bytes() == BODY


def test_private_addresses_refused_unless_allowed(tmp_path: Path, http_server) -> None:
    def get(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.end_headers()
        h.wfile.write(BODY)

    url = http_server(get)
    with pytest.raises(FetchError, match="private/loopback/link-local"):
        Fetcher(tmp_path / "c", retries=0).fetch(feed(tmp_path, url))
    for bad in ("http://169.254.169.254/latest/", "http://[::1]:9/x", "http://10.1.2.3/x"):
        with pytest.raises(FetchError, match="private/loopback/link-local"):
            Fetcher(tmp_path / "c", retries=0).fetch(feed(tmp_path, bad))


def test_redirect_into_private_space_refused(tmp_path: Path, http_server) -> None:
    def get(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        h.end_headers()

    fe = Fetcher(tmp_path / "c", retries=0)
    fe.allow_private = True  # the first hop is the local test server

    url = http_server(get)
    f = feed(tmp_path, url)
    import cif.ingest.fetch as fetch_mod

    real = fetch_mod.check_url

    def strict_after_first(u: str, *, allow_private: bool) -> None:
        real(u, allow_private=u.startswith(url))

    fetch_mod.check_url = strict_after_first
    try:
        with pytest.raises(FetchError, match="169.254.169.254"):
            fe.fetch(f)
    finally:
        fetch_mod.check_url = real


def test_file_url_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "list.txt"
    p.write_bytes(BODY)
    fe = Fetcher(tmp_path / "c")
    assert fe.fetch(feed(tmp_path, p.as_uri())).path == p
    with pytest.raises(FetchError, match="no such file"):
        fe.fetch(feed(tmp_path, str(tmp_path / "nope.txt")))
    with pytest.raises(FetchError, match="unsupported URL scheme 'ftp'"):
        fe.fetch(feed(tmp_path, "ftp://example.org/x"))
