"""URLs: canonical form for matching (scheme and host lowercased, default port,
fragment and userinfo dropped, percent-encoding normalized, empty path -> ``/``)."""

from __future__ import annotations

import re

from .domain import fqdn
from .errors import Bad, LazyBad
from .ip import V4_RE, ipv4, v4_flags, v4_str, v6_flags, v6_int, v6_str

# Scheme -> default port. Other schemes (mailto, file, data, javascript...) are refused.
SCHEMES: dict[str, int] = {
    "http": 80,
    "https": 443,
    "ftp": 21,
    "ftps": 990,
    "sftp": 22,
    "ws": 80,
    "wss": 443,
}

# Characters left as they are in a path / query (RFC 3986 pchar, '/' and '?').
_PATH_OK = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_QUERY_OK = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_AUTH_END = re.compile(r"[/?#\\]")
# Two hex digits after '%' -> what the escape becomes: the character if unreserved,
# else the escape with uppercase hex.
_HEX2 = {
    a + b: chr(int(a + b, 16)) if int(a + b, 16) in _UNRESERVED else "%" + (a + b).upper()
    for a in "0123456789abcdefABCDEF"
    for b in "0123456789abcdefABCDEF"
}


def url(rest: str, scheme: str) -> tuple[str, frozenset[str], str | None]:
    """(canonical url, flags, host name or None for an IP host) of ``scheme://rest``."""
    default = SCHEMES.get(scheme)
    if default is None:
        raise Bad(f"scheme {scheme!r} is not supported (use one of {', '.join(SCHEMES)})")
    m = _AUTH_END.search(rest)
    if m is None:
        auth, tail = rest, ""
    else:
        auth, tail = rest[: m.start()], rest[m.start() :]
    if "@" in auth:  # userinfo (user:password@) is dropped: never kept, never matched on
        auth = auth.rpartition("@")[2]
    host, port = _split_port(auth)
    name: str | None
    if not host:
        raise Bad("the url has no host")
    if host[0] == "[":
        if host[-1] != "]":
            raise Bad("an IPv6 host must be in brackets")
        n = v6_int(host[1:-1])
        if n >> 32 == 0xFFFF:
            n &= 0xFFFFFFFF
            host, flags, name = v4_str(n), v4_flags(n), None
        else:
            host, flags, name = f"[{v6_str(n)}]", v6_flags(n), None
    else:
        hm = V4_RE.fullmatch(host)
        if hm is not None:
            host, _, flags = ipv4(hm, host)
            name = None
        else:
            try:
                host, flags = fqdn(host)
            except Bad as e:
                raise LazyBad(_host_reason, (host, e)) from None
            name = host
    if port:
        if not (port.isascii() and port.isdigit()) or len(port) > 5 or not 0 < int(port) < 65536:
            raise Bad(f"port {port!r} is not a number from 1 to 65535")
        p = int(port)
        if p != default:
            host = f"{host}:{p}"
    if not tail or tail[0] == "#":
        return f"{scheme}://{host}/", flags, name
    return f"{scheme}://{host}{_path_query(tail)}", flags, name


def _host_reason(host_error: tuple[str, Bad]) -> str:
    host, e = host_error
    return f"host {host!r}: {e.reason}"


def _split_port(auth: str) -> tuple[str, str]:
    if auth[:1] == "[":
        end = auth.find("]")
        if end < 0:
            return auth, ""
        after = auth[end + 1 :]
        if after and after[0] != ":":
            raise Bad(f"unexpected {after!r} after the IPv6 host")
        return auth[: end + 1], after[1:]
    host, sep, port = auth.rpartition(":")
    if not sep:
        return auth, ""
    if not port:
        return host, ""
    return host, port


def _path_query(tail: str) -> str:
    if tail[0] == "\\":
        tail = "/" + tail[1:]
    h = tail.find("#")
    if h >= 0:
        tail = tail[:h]
    path, q, query = tail.partition("?")
    if not path:
        path = "/"
    elif "%" in path or not _PATH_OK.fullmatch(path):
        path = _escape(path, "/")
    if "/." in path:
        path = _dot_segments(path)
    if not query:
        return path
    if "%" in query or not _QUERY_OK.fullmatch(query):
        query = _escape(query, "/?")
    return f"{path}?{query}"


def _escape(s: str, extra: str) -> str:
    """Uppercase hex in escapes, decode escaped unreserved characters, escape the rest (UTF-8)."""
    ok = _QUERY_OK if "?" in extra else _PATH_OK
    if ok.fullmatch(s.replace("%", "")) is not None:
        # Only '%' needs work: each piece after a '%' starts with an escape or not.
        pieces = s.split("%")
        out = [pieces[0]]
        for piece in pieces[1:]:
            rep = _HEX2.get(piece[:2])
            if rep is None:
                out.append("%25")
                out.append(piece)
            else:
                out.append(rep)
                out.append(piece[2:])
        return "".join(out)
    out = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "%":
            m = _ESCAPE.match(s, i)
            if m is not None:
                b = int(m[1], 16)
                out.append(chr(b) if b in _UNRESERVED else "%" + m[1].upper())
                i += 3
                continue
            out.append("%25")
        elif ok.fullmatch(c):
            out.append(c)
        else:
            out.append("".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass")))
        i += 1
    return "".join(out)


def _dot_segments(path: str) -> str:
    """Remove ``.`` and ``..`` segments (RFC 3986 section 5.2.4)."""
    segs = path.split("/")
    out: list[str] = []
    for seg in segs[1:]:
        if seg == ".":
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    if segs[-1] in (".", ".."):
        out.append("")
    return "/" + "/".join(out)
