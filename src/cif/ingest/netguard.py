"""Refuse outbound requests to private, loopback and link-local space unless allowed.

A feed URL pointing inside the network (or redirecting there) could be used to
reach internal services; operators opt in with ``allow_private``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from .errors import FetchError


def is_internal(ip: str) -> bool:
    a = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped:
        a = a.ipv4_mapped
    return bool(
        a.is_private
        or a.is_loopback
        or a.is_link_local
        or a.is_multicast
        or a.is_reserved
        or a.is_unspecified
    )


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise FetchError when ``url``'s host resolves to internal address space."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(url, f"unsupported URL scheme {parts.scheme!r} (http, https, file)")
    host = parts.hostname
    if not host:
        raise FetchError(url, "the URL has no host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as e:
        raise FetchError(url, f"cannot resolve {host}: {e}") from None
    for info in infos:
        ip = str(info[4][0])
        if is_internal(ip):
            raise FetchError(
                url,
                f"{host} resolves to {ip}, in private/loopback/link-local space; "
                "set allow_private (CIF_FEEDS_ALLOW_PRIVATE=1) to allow it",
            )
