"""IPv4/IPv6 canonical forms checked against the standard library's ipaddress module."""

from __future__ import annotations

import ipaddress
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from cif.indicator import normalize
from cif.indicator.ip import v6_int, v6_str

V4 = st.integers(min_value=0, max_value=2**32 - 1)
V6 = st.one_of(
    st.integers(min_value=0, max_value=2**128 - 1),
    # sparse values: many zero groups, to exercise '::' placement
    st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xDB8]), min_size=8, max_size=8).map(
        lambda g: int("".join(f"{x:04x}" for x in g), 16)
    ),
)


# Where the standard library's view differs on purpose (it calls parts of these global).
_DIFFER = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("192.88.99.0/24"))


def _std_flags_v4(a: ipaddress.IPv4Address) -> bool:
    return (
        a.is_private
        or a.is_reserved
        or a.is_loopback
        or a.is_multicast
        or a.is_link_local
        or a.is_unspecified
        or not a.is_global
    )


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        V4,
        st.sampled_from(
            [
                int(n.network_address) + k
                for n in (
                    ipaddress.ip_network(t)
                    for t in (
                        "10.0.0.0/8",
                        "172.16.0.0/12",
                        "100.64.0.0/10",
                        "198.18.0.0/15",
                        "169.254.0.0/16",
                        "224.0.0.0/4",
                    )
                )
                for k in (-1, 0, 1)
            ]
        ),
    )
)
def test_ipv4_matches_ipaddress(n: int) -> None:
    a = ipaddress.IPv4Address(n)
    got = normalize(str(a))
    assert got.indicator == str(a)
    assert got.itype == "ipv4"
    # Every address the standard library calls non-global is flagged, and vice versa
    # (the tables agree on IPv4 special-purpose space).
    if not any(a in net for net in _DIFFER):
        assert bool(got.flags) == _std_flags_v4(a), (str(a), got.flags)


@settings(max_examples=400, deadline=None)
@given(V4)
def test_zero_padded_ipv4_reads_decimal(n: int) -> None:
    a = ipaddress.IPv4Address(n)
    padded = ".".join(f"{int(o):03d}" for o in str(a).split("."))
    assert normalize(padded).indicator == str(a)


@settings(max_examples=400, deadline=None)
@given(V4, st.integers(min_value=1, max_value=32))
def test_ipv4_cidr_matches_ipaddress(n: int, plen: int) -> None:
    net = ipaddress.ip_network(f"{ipaddress.IPv4Address(n)}/{plen}", strict=False)
    got = normalize(f"{ipaddress.IPv4Address(n)}/{plen}")
    want = str(net.network_address) if plen == 32 else str(net)
    assert got.indicator == want


@settings(max_examples=600, deadline=None)
@given(V6)
def test_ipv6_matches_ipaddress(n: int) -> None:
    a = ipaddress.IPv6Address(n)
    assert v6_str(n) == a.compressed
    assert v6_int(a.exploded) == n
    assert v6_int(a.compressed.upper()) == n
    got = normalize(a.exploded)
    if a.ipv4_mapped is not None:
        assert (got.indicator, got.itype) == (str(a.ipv4_mapped), "ipv4")
    else:
        assert (got.indicator, got.itype) == (a.compressed, "ipv6")


@settings(max_examples=400, deadline=None)
@given(V6, st.integers(min_value=1, max_value=128))
def test_ipv6_cidr_matches_ipaddress(n: int, plen: int) -> None:
    a = ipaddress.IPv6Address(n)
    if a.ipv4_mapped is not None:
        return
    net = ipaddress.ip_network(f"{a}/{plen}", strict=False)
    if int(net.network_address) >> 32 == 0xFFFF and plen >= 96:
        return
    got = normalize(f"{a.exploded}/{plen}")
    want = str(net.network_address) if plen == 128 else net.compressed
    assert got.indicator == want


def test_ipv6_with_ipv4_tail_matches_ipaddress() -> None:
    rng = random.Random(7)
    for _ in range(500):
        head = rng.getrandbits(96)
        tail = rng.getrandbits(32)
        a = ipaddress.IPv6Address(head << 32 | tail)
        if a.ipv4_mapped is not None:
            continue
        text = ":".join(a.exploded.split(":")[:6]) + ":" + str(ipaddress.IPv4Address(tail))
        assert normalize(text).indicator == a.compressed


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789abcdefABCDEF:./%", max_size=45))
def test_junk_never_crashes_and_accepted_ips_agree(text: str) -> None:
    try:
        got = normalize(text)
    except ValueError:
        return
    if got.itype in ("ipv4", "ipv6"):
        a = ipaddress.ip_address(got.indicator)
        assert str(a) == got.indicator
