"""itype detection and canonical forms: the one ``normalize`` every entry point uses.

The common path is string methods and precompiled regexes; slower work (IDN,
refanging, detailed error reasons) only runs for the values that need it.
See docs/normalize.md for the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from socket import AF_INET, AF_INET6, inet_pton
from typing import NamedTuple

from . import ip
from .domain import _COMMON_TLDS, fqdn
from .domain import _PLAIN as _NAME
from .errors import Bad, InvalidIndicator, LazyBad
from .refang import refang
from .reserved import V4_HOT, v4_flags
from .url import SCHEMES, _dot_segments, _escape, url

ITYPES = (
    "ipv4",
    "ipv6",
    "ipv4_cidr",
    "ipv6_cidr",
    "fqdn",
    "url",
    "email",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "asn",
)


class Normalized(NamedTuple):
    indicator: str
    itype: str
    flags: frozenset[str]


_new = tuple.__new__
_EMPTY: frozenset[str] = frozenset()
_HASHES = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_HEX = re.compile(r"[0-9a-fA-F]+").fullmatch
_ASN = re.compile(r"[aA][sS][nN]?[ -]?([0-9]{1,10})")
_DIGITS = re.compile(r"[0-9]+")
_DIGITS_DOTS = re.compile(r"[0-9.]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_URL_PLAIN = re.compile(
    r"((?:[a-z0-9_]++(?:-++[a-z0-9_]++)*+\.)++([a-z0-9]++(?:-++[a-z0-9]++)*+))(?::([0-9]++))?"
    r"(/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)?(?:\?([A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*))?"
).fullmatch
_MAX_ASN = 4294967295
# A declared itype also accepts what the value canonicalizes to (a /32 is an ipv4,
# ::ffff:1.2.3.4 is an ipv4).
_ALSO = {
    "ipv4_cidr": ("ipv4",),
    "ipv6": ("ipv4",),
    "ipv6_cidr": ("ipv6", "ipv4", "ipv4_cidr"),
}


_BAD_CHARS = "contains a NUL or other character no indicator can hold"


def normalize(value: str, itype: str | None = None) -> Normalized:
    """Detect the itype of ``value`` (or check it against ``itype``) and canonicalize it.

    Raises :class:`InvalidIndicator` naming the value and the reason. Defanged
    input is refanged only when the value as given is not valid.
    """
    if value.__class__ is not str and not isinstance(value, str):
        raise InvalidIndicator(value, "an indicator must be a string")
    try:
        if itype is None:
            return _detect(value)
        return _declared(value, itype)
    except Bad as e:
        err = e
    except InvalidIndicator:
        raise
    except ValueError:  # the C address parsers refuse NUL bytes with a bare ValueError
        raise InvalidIndicator(value, _BAD_CHARS) from None
    r = _retry(value, itype, err)
    if isinstance(r, InvalidIndicator):
        raise r
    return r


def _retry(value: str, itype: str | None, err: Bad) -> Normalized | InvalidIndicator:
    """After ``value`` failed with ``err``: the refanged value's result, else the error."""
    plain = refang(value)
    if plain != value.strip():
        try:
            return _detect(plain) if itype is None else _declared(plain, itype)
        except Bad as e:
            err = e
    return InvalidIndicator(value, err.reason)


def normalize_many(
    values: Iterable[str], itype: str | None = None
) -> list[Normalized | InvalidIndicator]:
    """``normalize`` of each value, in order; a bad value gives its InvalidIndicator
    (returned, not raised) and the rest go on.

    The same results as ``[normalize(v, itype) for v in values]`` with each raised
    error in place of its result, for less per-value overhead: the loop calls the
    detection directly, and errors are not raised and caught.
    """
    out: list[Normalized | InvalidIndicator] = []
    append = out.append
    detect = _detect
    if itype is not None:
        for v in values:
            try:
                append(normalize(v, itype))
            except InvalidIndicator as e:
                append(e)
        return out
    for v in values:
        if v.__class__ is str:
            try:
                append(detect(v))
            except Bad as e:
                append(_retry(v, None, e))
            except InvalidIndicator as e:
                append(e)
            except ValueError:
                append(InvalidIndicator(v, _BAD_CHARS))
        else:
            try:
                append(normalize(v))
            except InvalidIndicator as e:
                append(e)
    return out


def _detect(s: str) -> Normalized:
    if not s or s[0] <= " " or s[-1] <= " ":
        s = s.strip()
        if not s:
            raise Bad("the value is empty")
    if "/" in s:
        i = s.find("://")
        if i > 0:
            scheme = s[:i]
            if scheme in SCHEMES:
                # Fast path: a lowercase host name (or dotted quad), a port, and a path and
                # query that need no escaping; anything else takes url() below.
                m = _URL_PLAIN(s, i + 3)
                if m is not None:
                    host, tld, port, path, query = m.groups()
                    if (
                        tld in _COMMON_TLDS
                        and len(host) <= 63
                        and "example." not in host
                        and "xn--" not in host
                    ):
                        flags = _EMPTY  # what fqdn(host) gives, without the call
                    elif "0" <= host[-1] <= "9":
                        r = ip.ipv4_plain(host)
                        if r is None:
                            m = None
                        else:
                            flags = r[2]
                    else:
                        try:
                            host, flags = fqdn(host)
                        except Bad:
                            m = None
                    if m is not None and port:
                        p = int(port) if len(port) <= 5 else 0
                        if not 0 < p < 65536:
                            m = None
                        elif p != SCHEMES[scheme]:
                            if (
                                port[0] != "0"
                                and path
                                and "/." not in path
                                and query != ""
                                and "%" not in s
                            ):
                                return _new(Normalized, (s, "url", flags))  # already canonical
                            host = f"{host}:{p}"
                    elif (
                        m is not None and path and "/." not in path and query != "" and "%" not in s
                    ):
                        return _new(Normalized, (s, "url", flags))  # already canonical
                    if m is not None:
                        if not path:
                            path = "/"
                        else:
                            if "%" in path:
                                path = _escape(path, "/")
                            if "/." in path:
                                path = _dot_segments(path)
                        if query:
                            if "%" in query:
                                query = _escape(query, "/?")
                            path = f"{path}?{query}"
                        return _new(Normalized, (f"{scheme}://{host}{path}", "url", flags))
            elif _SCHEME.fullmatch(scheme) is None:
                raise Bad(f"scheme {scheme!r} is not valid")
            else:
                scheme = scheme.lower()
                if scheme not in SCHEMES:  # hxxp://... (defanged) lands here first
                    raise LazyBad(_unsupported, scheme)
            canon, flags, _ = url(s[i + 3 :], scheme)
            return _new(Normalized, (canon, "url", flags))
        return _slash(s)
    if ":" in s:
        try:
            b = inet_pton(AF_INET6, s)
        except (OSError, ValueError):  # ValueError: an embedded NUL
            pass
        else:
            return _new(Normalized, ip.ipv6_bytes(b))
        if ip.looks_like_v6(s):
            return _new(Normalized, ip.ipv6(s))
        if "%" in s and ip.looks_like_v6(s.partition("%")[0]):
            ip.v6_int(s)  # raises the zone-index reason
        _refuse_scheme(s)
        if "@" in s:
            raise Bad("not an email address: ':' is not allowed")
        canon, flags, _ = url(s, "http")
        return _new(Normalized, (canon, "url", flags))
    if "@" in s:
        return _email(s)
    n = len(s)
    if n in _HASHES:
        if _HEX(s) is not None:
            return _new(Normalized, (s.lower(), _HASHES[n], _EMPTY))
    elif n < 16 and "0" <= s[-1] <= "9" and s[:1] != "0" and ".0" not in s:
        # Canonical dotted quad: the C parser says yes, the first octet decides most flags.
        try:
            b = inet_pton(AF_INET, s)
        except OSError:
            pass
        else:
            if b[0] in V4_HOT:
                return _new(Normalized, (s, "ipv4", v4_flags(int.from_bytes(b, "big"))))
            return _new(Normalized, (s, "ipv4", _EMPTY))
    if "0" <= s[-1] <= "9":
        m = ip.V4_RE.fullmatch(s)
        if m is not None:
            return _new(Normalized, ip.ipv4(m, s))
        return _numeric(s)
    if n <= 63 and _NAME(s) is not None:
        # A canonical name under an ordinary top-level label: what fqdn(s) gives.
        tld = s[s.rfind(".") + 1 :]
        if tld in _COMMON_TLDS and "example." not in s and "xn--" not in s:
            return _new(Normalized, (s, "fqdn", _EMPTY))
    name, flags = fqdn(s)
    return _new(Normalized, (name, "fqdn", flags))


def _slash(s: str) -> Normalized:
    """A value with '/' and no scheme: a CIDR, else a scheme-less http URL."""
    head, _, plen = s.partition("/")
    if plen and "/" not in plen and "0" <= plen[0] <= "9":
        if "0" <= head[-1:] <= "9":
            r = ip.cidr4_plain(head, plen)
            if r is not None:
                return _new(Normalized, r)
        if "0" <= head[-1:] <= "9" and _DIGITS_DOTS.fullmatch(head) is not None:
            return _new(Normalized, ip.ipv4_cidr(head, plen))
        if ":" in head and ip.looks_like_v6(head):
            return _new(Normalized, ip.ipv6_cidr(head, plen))
    if _DIGITS_DOTS.fullmatch(head) and not ip.V4_RE.fullmatch(head):
        ip.v4_int(head)  # raises the reason an IPv4-looking head is wrong
    if ":" in head:
        _refuse_scheme(head)
    canon, flags, _ = url(s, "http")
    return _new(Normalized, (canon, "url", flags))


def _refuse_scheme(s: str) -> None:
    """Raise for ``mailto:...``, ``data:...``: a scheme, not a ``host:port``."""
    head, _, after = s.partition(":")
    if "." not in head and not after[:1].isdigit() and _SCHEME.fullmatch(head):
        raise Bad(f"scheme {head.lower()!r} is not supported (use one of {', '.join(SCHEMES)})")


def _unsupported(scheme: str) -> str:
    return f"scheme {scheme!r} is not supported (use one of {', '.join(SCHEMES)})"


def _numeric(s: str) -> Normalized:
    """A value ending in a digit that is not a dotted quad or a hash."""
    if s[0] in "aA":
        m = _ASN.fullmatch(s)
        if m is not None:
            return _new(Normalized, (_asn(m[1]), "asn", _EMPTY))
    if _DIGITS.fullmatch(s) is not None:
        raise Bad("a bare number is not an indicator (declare itype 'asn' for an AS number)")
    if _DIGITS_DOTS.fullmatch(s) is not None:
        ip.v4_int(s)
    if _HEX(s) is not None:
        raise Bad(f"a hex string of {len(s)} characters is not an md5, sha1, sha256 or sha512")
    name, flags = fqdn(s)
    return _new(Normalized, (name, "fqdn", flags))


def _asn(digits: str) -> str:
    n = int(digits)
    if n > _MAX_ASN:
        raise Bad(f"AS number {n} is out of range (0-{_MAX_ASN})")
    return f"AS{n}"


def _email(s: str) -> Normalized:
    local, _, domain = s.rpartition("@")
    if not local:
        raise Bad("the email address has no local part")
    if "@" in local:
        raise Bad("an email address has one '@'")
    if not domain:
        raise Bad("the email address has no domain")
    local = local.lower()
    if len(local) > 64:
        raise Bad(f"the local part is {len(local)} characters long, more than 64")
    if _LOCAL.fullmatch(local) is None:
        raise Bad(f"local part {local!r} is not a valid dot-atom")
    try:
        name, flags = fqdn(domain)
    except Bad as e:
        raise Bad(f"domain {domain!r}: {e.reason}") from None
    return _new(Normalized, (f"{local}@{name}", "email", flags))


def _declared(s: str, itype: str) -> Normalized:
    if itype not in ITYPES:
        raise InvalidIndicator(itype, f"unknown itype; expected one of {', '.join(ITYPES)}")
    s = s.strip()
    if itype == "asn" and _DIGITS.fullmatch(s) is not None:
        return _new(Normalized, (_asn(s), "asn", _EMPTY))
    if itype == "url" and "://" not in s and s:
        canon, flags, _ = url(s, "http")
        return _new(Normalized, (canon, "url", flags))
    r = _detect(s)
    if r.itype == itype:
        return r
    if r.itype in _ALSO.get(itype, ()) and (itype[:4] == "ipv4" or ":" in s):
        return r
    raise Bad(f"it is {_article(r.itype)} {r.itype}, not {_article(itype)} {itype}")


def _article(itype: str) -> str:
    return "an" if itype[0] in "aeio" or itype in ("md5", "fqdn") else "a"


def host_of(value: str, itype: str) -> str | None:
    """The fqdn inside an fqdn, url or email indicator (canonical form), else None."""
    if itype == "fqdn":
        return value
    if itype == "email":
        return value.rpartition("@")[2] or None
    if itype == "url":
        rest = value.partition("://")[2]
        auth = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
        if auth.startswith("["):
            return None
        host = auth.rpartition(":")[0] if ":" in auth else auth
        if not host or ip.V4_RE.fullmatch(host):
            return None
        return host
    return None
