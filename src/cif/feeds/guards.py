"""Built-in guard lists: values no feed may ever contain, whatever the data says.

A defender's feed that blocks a root server, a public resolver, private space or
netflix.com does more harm than the threat it answers. These lists are always
applied by the builder, on top of any whitelist.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

# Reserved, private and bogon space (IANA special-purpose registries), IPv4 and IPv6.
# Each range carries the reason shown by ``explain``.
RESERVED_RANGES: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared-cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "ietf-protocol"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4-relay"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    # IPv6: everything outside 2000::/3 is unallocated or special-purpose.
    ("::/3", "reserved"),  # holds ::, ::1, ::ffff:0:0/96, 64:ff9b::/96, 100::/64
    ("4000::/2", "reserved"),
    ("8000::/2", "reserved"),
    ("c000::/3", "reserved"),
    ("e000::/4", "reserved"),
    ("f000::/5", "reserved"),
    ("f800::/6", "reserved"),
    ("fc00::/7", "unique-local"),
    ("fe00::/9", "reserved"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("2001:2::/48", "benchmarking"),
    ("2001:10::/28", "orchid"),
    ("2001:20::/28", "orchid"),
)

# Public DNS resolvers: blocking one breaks name resolution for whoever uses it.
PUBLIC_RESOLVERS: tuple[str, ...] = (
    "8.8.8.8",
    "8.8.4.4",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",  # Google
    "1.1.1.1",
    "1.0.0.1",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",  # Cloudflare
    "1.1.1.2",
    "1.0.0.2",
    "1.1.1.3",
    "1.0.0.3",
    "2606:4700:4700::1112",
    "2606:4700:4700::1002",
    "2606:4700:4700::1113",
    "2606:4700:4700::1003",
    "9.9.9.9",
    "149.112.112.112",
    "2620:fe::fe",
    "2620:fe::9",  # Quad9
    "9.9.9.10",
    "149.112.112.10",
    "2620:fe::10",
    "2620:fe::fe:10",
    "9.9.9.11",
    "149.112.112.11",
    "2620:fe::11",
    "2620:fe::fe:11",
    "208.67.222.222",
    "208.67.220.220",
    "2620:119:35::35",
    "2620:119:53::53",  # OpenDNS
    "208.67.222.123",
    "208.67.220.123",
    "94.140.14.14",
    "94.140.15.15",
    "2a10:50c0::ad1:ff",
    "2a10:50c0::ad2:ff",  # AdGuard
    "185.228.168.9",
    "185.228.169.9",
    "2a0d:2a00:1::2",
    "2a0d:2a00:2::2",  # CleanBrowsing
    "8.26.56.26",
    "8.20.247.20",  # Comodo
    "77.88.8.8",
    "77.88.8.1",
    "2a02:6b8::feed:0ff",
    "2a02:6b8:0:1::feed:0ff",  # Yandex
    "4.2.2.1",
    "4.2.2.2",
    "4.2.2.3",
    "4.2.2.4",
    "4.2.2.5",
    "4.2.2.6",  # Level3 / Lumen
    "64.6.64.6",
    "64.6.65.6",  # Verisign (legacy)
    "76.76.2.0",
    "76.76.10.0",
    "2606:1a40::",
    "2606:1a40:1::",  # Control D
    "45.90.28.0",
    "45.90.30.0",  # NextDNS anycast
)

# The 13 DNS root server letters, IPv4 and IPv6 (b.root moved in 2023; both kept).
ROOT_SERVERS: tuple[str, ...] = (
    "198.41.0.4",
    "2001:503:ba3e::2:30",  # a
    "170.247.170.2",
    "2801:1b8:10::b",
    "199.9.14.201",
    "2001:500:200::b",  # b
    "192.33.4.12",
    "2001:500:2::c",  # c
    "199.7.91.13",
    "2001:500:2d::d",  # d
    "192.203.230.10",
    "2001:500:a8::e",  # e
    "192.5.5.241",
    "2001:500:2f::f",  # f
    "192.112.36.4",
    "2001:500:12::d0d",  # g
    "198.97.190.53",
    "2001:500:1::53",  # h
    "192.36.148.17",
    "2001:7fe::53",  # i
    "192.58.128.30",
    "2001:503:c27::2:30",  # j
    "193.0.14.129",
    "2001:7fd::1",  # k
    "199.7.83.42",
    "2001:500:9f::42",  # l
    "202.12.27.33",
    "2001:dc3::35",  # m
)

MAX_TOP_SITES_BYTES = 1_000_000


@lru_cache(maxsize=1)
def top_sites() -> frozenset[str]:
    """Registered domains of the most popular sites, shipped with the package."""
    text = resources.files("cif.feeds").joinpath("top_sites.txt").read_text("utf-8")
    if len(text) > MAX_TOP_SITES_BYTES:
        raise ValueError(f"top_sites.txt is larger than {MAX_TOP_SITES_BYTES} bytes")
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            names.add(line)
    return frozenset(names)
