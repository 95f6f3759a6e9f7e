"""Domain names: canonical fqdn form, DNS rules, IDN, and flags for special-use names."""

from __future__ import annotations

import re
from functools import lru_cache

import idna

from .errors import Bad, LazyBad
from .psl import TLDS

# Labels are LDH plus underscore (seen in real DNS and in feeds: _dmarc, my_host),
# 1-63 characters, no leading or trailing hyphen; the TLD is letters, digits, hyphens.
_FQDN = re.compile(
    r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
)

# Special-use names (RFC 6761, 6762, 8375, 9476 and the ICANN .internal): not in the
# Public Suffix List, yet accepted and flagged like reserved addresses.
SPECIAL_TLDS: dict[str, frozenset[str]] = {
    "localhost": frozenset({"loopback"}),
    "local": frozenset({"private"}),
    "internal": frozenset({"private"}),
    "test": frozenset({"reserved"}),
    "example": frozenset({"reserved"}),
    "invalid": frozenset({"reserved"}),
    "alt": frozenset({"reserved"}),
}
_DOCUMENTATION = frozenset({"documentation"})
_PRIVATE = frozenset({"private"})
_EMPTY: frozenset[str] = frozenset()
_EXAMPLE_SLDS = ("example.com", "example.net", "example.org")


# Possessive quantifiers: no backtracking, so a long name that fails is refused quickly.
_PLAIN = re.compile(
    r"[a-z0-9_]++(?:-++[a-z0-9_]++)*+(?:\.[a-z0-9_]++(?:-++[a-z0-9_]++)*+)++"
).fullmatch


def fqdn(s: str) -> tuple[str, frozenset[str]]:
    """(canonical name, flags) of a domain name, or :class:`Bad` with the reason."""
    if s.isascii():
        s = s.lower()
    else:
        s = to_ascii(s)
    if s[-1:] == ".":
        s = s[:-1]
    # Fast path: two or more labels of LDH and underscore, none empty, none starting or
    # ending with a hyphen; anything unusual takes the full pattern below.
    if len(s) <= 63 and _PLAIN(s) is not None:
        tld = s[s.rfind(".") + 1 :]
    else:
        m = _FQDN.fullmatch(s)
        if m is None:
            if s == "localhost":
                return s, SPECIAL_TLDS["localhost"]
            raise LazyBad(_reason, s)
        if len(s) > 253:
            raise Bad(f"the name is {len(s)} characters long, more than 253")
        tld = m[1]
    if tld in _COMMON_TLDS and "example." not in s and "xn--" not in s:
        return s, _EMPTY
    if "xn--" in s:
        _check_punycode(s)
    if tld in TLDS:
        if tld == "arpa" and (s == "home.arpa" or s.endswith(".home.arpa")):
            return s, _PRIVATE
        if (
            (tld == "com" or tld == "net" or tld == "org")
            and "example." in s
            and (s in _EXAMPLE_SLDS or s.endswith(_dotted_examples))
        ):
            return s, _DOCUMENTATION
        return s, _EMPTY
    special = SPECIAL_TLDS.get(tld)
    if special is not None:
        return s, special
    if _FQDN.fullmatch(s) is None:
        raise LazyBad(_reason, s)
    raise Bad(f"{tld!r} is not a public suffix")


_dotted_examples = tuple("." + e for e in _EXAMPLE_SLDS)
# Top-level labels with no special-use names under them: only the list decides.
_COMMON_TLDS = TLDS - {"arpa"}


_NOT_LDH = re.compile(r"[^a-z0-9_-]").search


def _reason(s: str) -> str:
    """Why ``s`` (lowercase ASCII) failed the fqdn pattern, for the error message."""
    if not s:
        return "the name is empty"
    if "." not in s:
        return "a single label is not a fully qualified domain name"
    for label in s.split("."):
        if not label:
            return "the name has an empty label"
        if len(label) > 63:
            return f"label {label[:20]!r}... is {len(label)} characters long, more than 63"
        bad = _NOT_LDH(label)
        if bad:
            return f"character {bad[0]!r} is not allowed in a domain name"
        if label[0] == "-" or label[-1] == "-":
            return f"label {label!r} starts or ends with a hyphen"
    tld = s.rpartition(".")[2]
    if "_" in tld:
        return f"top-level label {tld!r} has an underscore"
    return "not a valid domain name"


def _check_punycode(s: str) -> None:
    for label in s.split("."):
        if label.startswith("xn--"):
            try:
                label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                raise Bad(f"label {label!r} is not valid punycode") from None


@lru_cache(maxsize=4096)
def to_ascii(s: str) -> str:
    """The ASCII (xn--) form of a name with non-ASCII labels, by UTS46 (non-transitional)."""
    try:
        mapped = idna.uts46_remap(s, std3_rules=False, transitional=False)
    except idna.IDNAError as e:
        raise Bad(f"not a valid internationalized domain name ({e})") from None
    out = []
    for label in mapped.split("."):
        if label.isascii():
            out.append(label)
            continue
        try:
            out.append(idna.alabel(label).decode("ascii"))
        except idna.IDNAError as e:
            raise Bad(f"label {label!r} is not a valid internationalized label ({e})") from None
    return ".".join(out)
