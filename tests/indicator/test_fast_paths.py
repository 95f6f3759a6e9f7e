"""The fast paths give what the general code gives, and normalize_many what normalize gives."""

from __future__ import annotations

import random

import pytest

from cif.indicator import InvalidIndicator, Normalized, normalize, normalize_many
from cif.indicator.refang import _TOKEN, _token, _tokens, refang
from cif.indicator.url import _ESCAPE, _PATH_OK, _QUERY_OK, _UNRESERVED, _escape

WORDS = "login secure paypal bank mail cdn api app docs pay wallet free".split()
TLDS = "com net org ru cn io de co.uk com.br xyz top notatld zzz".split()


def _name(r: random.Random) -> str:
    labels = [r.choice(WORDS) + str(r.randint(0, 999))]
    if r.random() < 0.4:
        labels.insert(0, r.choice(("www", "m", "_dmarc", "a-b", r.choice(WORDS))))
    name = ".".join(labels) + "." + r.choice(TLDS)
    return name.upper() if r.random() < 0.1 else name


def _ipv4(r: random.Random) -> str:
    octets = [r.choice((0, 1, 10, 127, 172, 192, 255, 256, r.randint(0, 300))) for _ in range(4)]
    text = ".".join(str(o) for o in octets)
    return "0" + text if r.random() < 0.05 else text


def _ipv6(r: random.Random) -> str:
    groups = [f"{r.choice((0, 0, 1, 0xDB8, 0xFFFF, r.getrandbits(16))):x}" for _ in range(8)]
    head = r.choice(("2001", "2a00", "fe80", "ff02", "0", "64:ff9b"))
    text = ":".join([head] + groups[1:]) if head != "64:ff9b" else "64:ff9b::" + groups[0]
    if r.random() < 0.3:
        text = text.replace(":0:0:", "::", 1)
    return text.upper() if r.random() < 0.1 else text


def _url(r: random.Random) -> str:
    host = r.choice((_name(r), _ipv4(r), f"[{_ipv6(r)}]", "user:pw@" + _name(r)))
    port = r.choice(("", "", "", ":80", ":443", ":8080", ":08080", ":0", ":99999", ":"))
    path = r.choice(("", "/", "/a/b.php", "/./x/../y", "/%7euser%2fx", "/a b", "/é", "\\x", "/%zz"))
    query = r.choice(("", "", "?", "?id=1&u=x", "?q=%41%2f", "?a=<b>"))
    frag = r.choice(("", "", "#top"))
    return f"{r.choice(('http', 'https', 'ftp', 'wss', 'HTTP', 'mailto', 'hxxp'))}://{host}{port}{path}{query}{frag}"


def _defang(r: random.Random, v: str) -> str:
    tok = r.choice(("[.]", "(.)", "[dot]", " [.] ", "{.}", "[DOT]", "\\."))
    v = v.replace(".", tok, r.randint(1, 3))
    return v.replace("@", r.choice(("[@]", "[at]", " [at] ", "(at)")))


def _values(seed: int, n: int) -> list[str]:
    r = random.Random(seed)
    makers = [
        _name,
        _ipv4,
        _ipv6,
        _url,
        lambda r: f"{_ipv4(r)}/{r.choice((0, 8, 9, 16, 24, 31, 32, 33, '08', '024'))}",
        lambda r: f"{_ipv6(r)}/{r.choice((0, 32, 48, 64, 96, 104, 128, 129))}",
        lambda r: f"{r.choice(WORDS)}.{r.choice(WORDS)}{r.randint(0, 99)}@{_name(r)}",
        lambda r: f"{r.getrandbits(128):032x}"[: r.choice((31, 32, 32, 33))],
        lambda r: f"{r.getrandbits(160):040X}",
        lambda r: r.choice(
            (
                "AS15169",
                "as 15169",
                "ASN-1",
                "15169",
                "",
                "  ",
                "localhost",
                "x.example.com",
                "a.home.arpa",
                "xn--bcher-kva.de",
                "xn--zz.com",
                "bücher.de",
                "::ffff:1.2.3.4",
                "fe80::1%eth0",
                "1.2.3",
                "a..com",
            )
        ),
    ]
    out = []
    for _ in range(n):
        v = r.choice(makers)(r)
        x = r.random()
        if x < 0.15:
            v = _defang(r, v)
        elif x < 0.2:
            v = f" {v}\t"
        elif x < 0.25 and v:
            i = r.randrange(len(v))
            v = v[:i] + r.choice("[]():/@%. _-xZ9é") + v[i + 1 :]
        out.append(v)
    return out


def _one(v: str, itype: str | None = None) -> Normalized | str:
    try:
        return normalize(v, itype)
    except InvalidIndicator as e:
        return str(e)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_normalize_many_equals_normalize(seed: int) -> None:
    values = _values(seed, 20_000)
    got = normalize_many(values)
    assert len(got) == len(values)
    for v, g in zip(values, got, strict=True):
        want = _one(v)
        if isinstance(want, str):
            assert isinstance(g, InvalidIndicator), (v, g)
            assert str(g) == want, v
            assert g.value == v
        else:
            assert g == want, v
            assert type(g) is Normalized


@pytest.mark.parametrize("itype", ["ipv4", "url", "fqdn", "asn", "ipv6_cidr", "nope"])
def test_normalize_many_declared_itype(itype: str) -> None:
    values = _values(7, 3_000)
    got = normalize_many(values, itype)
    for v, g in zip(values, got, strict=True):
        want = _one(v, itype)
        assert (str(g) if isinstance(g, InvalidIndicator) else g) == want, v


def test_normalize_many_takes_any_iterable_and_non_strings() -> None:
    got = normalize_many(iter(["1.2.3.4", 42, "nope nope"]))  # type: ignore[list-item]
    assert got[0] == ("1.2.3.4", "ipv4", frozenset())
    assert isinstance(got[1], InvalidIndicator) and "must be a string" in str(got[1])
    assert isinstance(got[2], InvalidIndicator)
    assert normalize_many([]) == []


def test_normalize_still_raises() -> None:
    with pytest.raises(InvalidIndicator, match="octet 300 is out of range"):
        normalize("300.1.1.1")
    with pytest.raises(InvalidIndicator, match="'notatld' is not a public suffix"):
        normalize("foo[.]notatld")


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("http://evil.com/a/b.php?id=1", "http://evil.com/a/b.php?id=1"),
        ("http://evil.com", "http://evil.com/"),
        ("http://evil.com?", "http://evil.com/"),
        ("http://evil.com/x?", "http://evil.com/x"),
        ("http://evil.com:80/x", "http://evil.com/x"),
        ("http://evil.com:080/x", "http://evil.com/x"),
        ("http://evil.com:08080/x", "http://evil.com:8080/x"),
        ("https://evil.com:8443", "https://evil.com:8443/"),
        ("http://evil.com/a/./b/../c", "http://evil.com/a/c"),
        ("http://1.2.3.4:8080/x", "http://1.2.3.4:8080/x"),
        ("http://01.2.3.4/", "http://1.2.3.4/"),
        ("http://www.example.com/", "http://www.example.com/"),
        ("http://a.home.arpa/x", "http://a.home.arpa/x"),
        ("http://evil.com/%7ex%2f%zz", "http://evil.com/~x%2F%25zz"),
        ("hxxp://evil[.]com/x", "http://evil.com/x"),
        ("hxxps://evil.com", "https://evil.com/"),
    ],
)
def test_url_fast_path_forms(value: str, want: str) -> None:
    assert normalize(value).indicator == want


def test_url_fast_path_flags() -> None:
    assert normalize("http://www.example.com/").flags == {"documentation"}
    assert normalize("http://10.1.2.3:8080/x").flags == {"private"}
    assert normalize("http://a.home.arpa/").flags == {"private"}


def test_cidr_fast_path() -> None:
    assert normalize("10.1.2.3/8") == ("10.0.0.0/8", "ipv4_cidr", frozenset({"private"}))
    assert normalize("8.8.8.8/24") == ("8.8.8.0/24", "ipv4_cidr", frozenset())
    assert normalize("8.8.8.0/24").indicator == "8.8.8.0/24"
    assert normalize("100.64.1.1/9").flags == {"cgnat"}
    assert normalize("2001:db8:1:2::1/48") == (
        "2001:db8:1::/48",
        "ipv6_cidr",
        frozenset({"documentation"}),
    )
    assert normalize("::ffff:10.0.0.0/104").indicator == "10.0.0.0/8"
    assert normalize("2a00:1:2:3:4:5:6:7/64").indicator == "2a00:1:2:3::/64"


def _tokens_reference(s: str) -> str:
    return _TOKEN.sub(_token, s)


def test_refang_tokens_match_the_pattern() -> None:
    r = random.Random(11)
    parts = [
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        ".",
        "dot",
        "DOT",
        "at",
        "@",
        ":",
        "/",
        "a",
        "1",
        " ",
        "\t",
        "\\",
        "[.]",
        "(.)",
        "[dot]",
        "[@]",
        "[at]",
        "[:]",
        "{.}",
    ]
    for _ in range(50_000):
        s = "".join(r.choice(parts) for _ in range(r.randint(1, 10)))
        assert _tokens(s) == _tokens_reference(s), s


def test_refang_schemes() -> None:
    assert refang("hxxp://a.com") == "http://a.com"
    assert refang("hxxps://a[.]com") == "https://a.com"
    assert refang("HXXP://a.com") == "http://a.com"
    assert refang("hxxp[:]//a.com") == "http://a.com"
    assert refang("  fxp://a.com ") == "ftp://a.com"


def _escape_reference(s: str, extra: str) -> str:
    out = []
    ok = _QUERY_OK if "?" in extra else _PATH_OK
    i = 0
    while i < len(s):
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


def test_escape_matches_the_character_loop() -> None:
    r = random.Random(12)
    parts = [
        "%",
        "%7e",
        "%7E",
        "%2f",
        "%zz",
        "%4",
        "a",
        "Z",
        "/",
        "?",
        " ",
        "é",
        "~",
        "%25",
        "%%",
        "<",
        "1",
        "f",
        "%41",
        "%c3%a9",
        "%e",
    ]
    for _ in range(50_000):
        s = "".join(r.choice(parts) for _ in range(r.randint(1, 8)))
        for extra in ("/", "/?"):
            assert _escape(s, extra) == _escape_reference(s, extra), s


def test_url_port_out_of_range_on_the_fast_path() -> None:
    for port in ("0", "00000", "000080", "65536", "9" * 5000):
        with pytest.raises(InvalidIndicator, match="is not a number from 1 to 65535"):
            normalize(f"http://evil.com:{port}/x")
    assert normalize("http://evil.com:65535/x").indicator == "http://evil.com:65535/x"


@pytest.mark.parametrize(
    "value", ["1.2\x003.4", "1.2.3.4\x00", "::1\x00", "10.0.0.0/8\x00", "\x001.2.3.4"]
)
def test_nul_bytes_are_invalid_indicators_not_crashes(value):
    with pytest.raises(InvalidIndicator) as e:
        normalize(value)
    assert repr(value) in str(e.value)
    [res] = normalize_many([value])
    assert isinstance(res, InvalidIndicator)
