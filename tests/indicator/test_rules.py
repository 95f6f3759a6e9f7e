"""Declared itypes, the Public Suffix List, refanging, reserved ranges, host_of."""

from __future__ import annotations

import pytest

from cif.indicator import (
    Indicator,
    InvalidIndicator,
    host_of,
    is_public_suffix,
    normalize,
    refang,
    registered_domain,
    reserved_flags,
)
from cif.indicator.psl import public_suffix
from cif.indicator.reserved import RESERVED_V4, RESERVED_V6, v4_flags, v6_flags

# --- declared itype -----------------------------------------------------------------

DECLARED_OK = [
    ("15169", "asn", "AS15169", "asn"),
    (" 15169 ", "asn", "AS15169", "asn"),
    ("AS15169", "asn", "AS15169", "asn"),
    ("1.2.3.4", "ipv4", "1.2.3.4", "ipv4"),
    ("::ffff:1.2.3.4", "ipv4", "1.2.3.4", "ipv4"),
    ("::ffff:1.2.3.4", "ipv6", "1.2.3.4", "ipv4"),
    ("10.0.0.1/32", "ipv4_cidr", "10.0.0.1", "ipv4"),
    ("10.0.0.1", "ipv4_cidr", "10.0.0.1", "ipv4"),
    ("10.9.0.0/16", "ipv4_cidr", "10.9.0.0/16", "ipv4_cidr"),
    ("2001:db8::1/128", "ipv6_cidr", "2001:db8::1", "ipv6"),
    ("2001:db8::/32", "ipv6_cidr", "2001:db8::/32", "ipv6_cidr"),
    ("example.com", "fqdn", "example.com", "fqdn"),
    ("evil[.]com", "fqdn", "evil.com", "fqdn"),
    ("evil.com", "url", "http://evil.com/", "url"),
    ("1.2.3.4", "url", "http://1.2.3.4/", "url"),
    ("10.0.0.0/8", "url", "http://10.0.0.0/8", "url"),
    ("https://evil.com", "url", "https://evil.com/", "url"),
    ("hxxp://evil[.]com", "url", "http://evil.com/", "url"),
    ("a@b.com", "email", "a@b.com", "email"),
    ("A" * 32, "md5", "a" * 32, "md5"),
    ("b" * 40, "sha1", "b" * 40, "sha1"),
    ("c" * 64, "sha256", "c" * 64, "sha256"),
    ("d" * 128, "sha512", "d" * 128, "sha512"),
]


@pytest.mark.parametrize(("value", "itype", "canonical", "got"), DECLARED_OK)
def test_declared_itype(value: str, itype: str, canonical: str, got: str) -> None:
    n = normalize(value, itype)
    assert (n.indicator, n.itype) == (canonical, got)


DECLARED_BAD = [
    ("10.0.0.0/8", "ipv4", "it is an ipv4_cidr, not an ipv4"),
    ("1.2.3.4", "fqdn", "it is an ipv4, not an fqdn"),
    ("1.2.3.4", "ipv6", "it is an ipv4, not an ipv6"),
    ("evil.com", "email", "it is an fqdn, not an email"),
    ("a" * 40, "md5", "it is a sha1, not an md5"),
    ("a" * 32, "sha256", "it is an md5, not a sha256"),
    ("http://evil.com/", "fqdn", "it is a url, not an fqdn"),
    ("AS15169", "ipv4", "it is an asn, not an ipv4"),
    ("99999999999", "asn", "out of range"),
    ("15169", "ipv4", "bare number"),
]


@pytest.mark.parametrize(("value", "itype", "reason"), DECLARED_BAD)
def test_declared_itype_mismatch(value: str, itype: str, reason: str) -> None:
    with pytest.raises(InvalidIndicator) as exc:
        normalize(value, itype)
    assert str(exc.value).startswith(repr(value))
    assert reason in exc.value.reason


def test_unknown_itype_names_the_itype() -> None:
    with pytest.raises(InvalidIndicator, match=r"^'ip': unknown itype; expected one of ipv4, "):
        normalize("1.2.3.4", "ip")


# --- Public Suffix List --------------------------------------------------------------

REGISTERED = [
    ("www.bbc.co.uk", "bbc.co.uk", "co.uk"),
    ("bbc.co.uk", "bbc.co.uk", "co.uk"),
    ("co.uk", None, "co.uk"),
    ("uk", None, "uk"),
    ("com", None, "com"),
    ("a.b.c.google.com", "google.com", "com"),
    ("WWW.Google.COM.", "google.com", "com"),
    # wildcard *.ck with exception !www.ck
    ("foo.bar.ck", "foo.bar.ck", "bar.ck"),
    ("bar.ck", None, "bar.ck"),
    ("www.ck", "www.ck", "ck"),
    ("a.www.ck", "www.ck", "ck"),
    # wildcard *.kobe.jp with exception !city.kobe.jp
    ("city.kobe.jp", "city.kobe.jp", "kobe.jp"),
    ("www.city.kobe.jp", "city.kobe.jp", "kobe.jp"),
    ("a.b.kobe.jp", "a.b.kobe.jp", "b.kobe.jp"),
    ("b.kobe.jp", None, "b.kobe.jp"),
    # multi-level and private-section suffixes
    ("x.y.pvt.k12.ma.us", "y.pvt.k12.ma.us", "pvt.k12.ma.us"),
    ("foo.github.io", "foo.github.io", "github.io"),
    ("a.foo.github.io", "foo.github.io", "github.io"),
    ("github.io", None, "github.io"),
    ("evil.blogspot.com", "evil.blogspot.com", "blogspot.com"),
    ("s3.amazonaws.com", None, "s3.amazonaws.com"),
    # IDN rules are kept in ASCII form; Unicode input is converted
    ("www.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn", "xn--55qx5d.cn"),
    ("www.食狮.公司.cn", "xn--85x722f.xn--55qx5d.cn", "xn--55qx5d.cn"),
    ("xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai", "xn--p1ai"),
    # names no rule covers use the default rule "*"
    ("a.b.notatld", "b.notatld", "notatld"),
    ("foo.test", "foo.test", "test"),
    ("localhost", None, "localhost"),
]


@pytest.mark.parametrize(("name", "registered", "suffix"), REGISTERED)
def test_registered_domain(name: str, registered: str | None, suffix: str) -> None:
    assert registered_domain(name) == registered
    assert public_suffix(name) == suffix
    assert is_public_suffix(name) is (registered is None)


@pytest.mark.parametrize("name", ["com", "co.uk", "github.io", "bar.ck", "notatld", "xn--p1ai"])
def test_is_public_suffix(name: str) -> None:
    assert is_public_suffix(name)


@pytest.mark.parametrize("name", ["google.com", "www.ck", "bbc.co.uk", "city.kobe.jp", ""])
def test_is_not_public_suffix(name: str) -> None:
    assert not is_public_suffix(name)


def test_indicator_registered_domain_property() -> None:
    assert (
        Indicator.from_dict({"indicator": "https://a.b.bbc.co.uk/x"}).registered_domain
        == "bbc.co.uk"
    )
    assert (
        Indicator.from_dict({"indicator": "x@mail.evil.com.au"}).registered_domain == "evil.com.au"
    )
    assert Indicator.from_dict({"indicator": "www.evil.ru"}).registered_domain == "evil.ru"
    assert Indicator.from_dict({"indicator": "1.2.3.4"}).registered_domain is None
    assert Indicator.from_dict({"indicator": "http://1.2.3.4/x"}).registered_domain is None
    assert Indicator.from_dict({"indicator": "10.0.0.1"}).flags == {"private"}


# --- host_of ---------------------------------------------------------------------------

HOSTS = [
    ("evil.com", "fqdn", "evil.com"),
    ("a@mail.evil.com", "email", "mail.evil.com"),
    ("http://evil.com/", "url", "evil.com"),
    ("http://evil.com:8080/a?b", "url", "evil.com"),
    ("https://sub.evil.co.uk?x", "url", "sub.evil.co.uk"),
    ("http://1.2.3.4:8080/", "url", None),
    ("http://[2001:db8::1]:8080/", "url", None),
    ("1.2.3.4", "ipv4", None),
    ("AS15169", "asn", None),
    ("a" * 32, "md5", None),
]


@pytest.mark.parametrize(("value", "itype", "host"), HOSTS)
def test_host_of(value: str, itype: str, host: str | None) -> None:
    assert host_of(value, itype) == host


# --- refang ------------------------------------------------------------------------------

REFANG = [
    ("hxxp://evil[.]com", "http://evil.com"),
    ("hxxps://evil[.]com", "https://evil.com"),
    ("HXXP://EVIL[.]COM", "http://EVIL.COM"),
    ("hXXps://x", "https://x"),
    ("h**p://x", "http://x"),
    ("fxp://x", "ftp://x"),
    ("evil[.]com", "evil.com"),
    ("evil(.)com", "evil.com"),
    ("evil{.}com", "evil.com"),
    ("evil[dot]com", "evil.com"),
    ("evil(dot)com", "evil.com"),
    ("evil{dot}com", "evil.com"),
    ("evil [ . ] com", "evil.com"),
    ("evil\\.com", "evil.com"),
    ("http[:]//x", "http://x"),
    ("http[://]x", "http://x"),
    ("hxxp(://)x", "http://x"),
    ("a[/]b", "a/b"),
    ("user[@]x", "user@x"),
    ("user[at]x", "user@x"),
    ("user(at)x", "user@x"),
    ("user{AT}x", "user@x"),
    ("  1.2.3.4\t", "1.2.3.4"),
    ("plain.com", "plain.com"),
    ("http://[2001:db8::1]/", "http://[2001:db8::1]/"),
    ("hxxpx://a", "hxxpx://a"),
]


@pytest.mark.parametrize(("value", "plain"), REFANG)
def test_refang(value: str, plain: str) -> None:
    assert refang(value) == plain


def test_valid_values_are_not_refanged() -> None:
    # A URL whose path holds brackets is valid as it is: left alone, brackets escaped.
    assert normalize("http://evil.com/a[.]b").indicator == "http://evil.com/a%5B.%5Db"


# --- reserved ranges ----------------------------------------------------------------------


def test_reserved_tables_are_exposed() -> None:
    assert ("10.0.0.0/8", "private") in RESERVED_V4
    assert ("2001:db8::/32", "documentation") in RESERVED_V6


@pytest.mark.parametrize(
    ("value", "flags"),
    [
        ("10.0.0.1", {"private"}),
        ("10.0.0.0/8", {"private"}),
        ("8.8.8.8", set()),
        ("::1", {"loopback"}),
        ("fc00::/7", {"private"}),
        ("fc00::/6", {"private", "reserved", "link-local", "multicast"}),
        ("2001:db8::/31", {"documentation"}),
        ("192.168.0.0/15", {"private"}),
        ("100.64.0.0/9", {"cgnat"}),
    ],
)
def test_reserved_flags(value: str, flags: set[str]) -> None:
    assert reserved_flags(value) == flags


def test_reserved_flags_refuses_non_ip() -> None:
    with pytest.raises(InvalidIndicator, match="not an IP address or CIDR"):
        reserved_flags("evil.com")


def test_every_table_network_is_flagged_at_both_ends() -> None:
    import ipaddress

    for table, lookup in ((RESERVED_V4, v4_flags), (RESERVED_V6, v6_flags)):
        for text, flag in table:
            net = ipaddress.ip_network(text)
            lo, hi = int(net.network_address), int(net.broadcast_address)
            if flag is None:
                continue
            whole = lookup(lo, hi)
            assert flag in whole, text
            for addr in (lo, hi):
                assert lookup(addr), (text, addr)
