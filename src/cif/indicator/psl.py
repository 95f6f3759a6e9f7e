"""Public Suffix List: which names are public suffixes, and the registered domain (eTLD+1).

The list is the one bundled with the ``publicsuffixlist`` package (ICANN and
private sections both, as browsers use it), read once at import; nothing is
fetched at run time. Unicode rules are stored in their ASCII (xn--) form, so
lookups take canonical names as :func:`cif.indicator.normalize.normalize` makes them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

_RULES: set[str] = set()
_WILDCARDS: set[str] = set()  # "ck" for the rule "*.ck"
_EXCEPTIONS: set[str] = set()  # "www.ck" for the rule "!www.ck"
TLDS: frozenset[str]


def _ascii(rule: str) -> str:
    if rule.isascii():
        return rule
    return ".".join(
        lab if lab.isascii() else "xn--" + lab.encode("punycode").decode("ascii")
        for lab in rule.split(".")
    )


def _load() -> frozenset[str]:
    text = (resources.files("publicsuffixlist") / "public_suffix_list.dat").read_text("utf-8")
    tlds: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("//"):
            continue
        rule = _ascii(line.split()[0].lower())
        if rule.startswith("!"):
            _EXCEPTIONS.add(rule[1:])
        elif rule.startswith("*."):
            _WILDCARDS.add(rule[2:])
        else:
            _RULES.add(rule)
        tlds.add(rule.rpartition(".")[2].lstrip("!*"))
    return frozenset(tlds)


TLDS = _load()


def is_tld(label: str) -> bool:
    """True if ``label`` is a top-level domain the list knows."""
    return label in TLDS


@lru_cache(maxsize=65536)
def suffix_labels(name: str) -> int:
    """How many trailing labels of ``name`` form its public suffix (at least 1).

    The longest matching rule wins, an exception rule beats its wildcard, and a
    name no rule covers falls back to the default rule ``*`` (its last label).
    """
    n = name.count(".") + 1
    start = 0
    for i in range(n):
        cand = name[start:]
        if cand in _EXCEPTIONS:
            return n - i - 1
        if cand in _RULES:
            return n - i
        dot = name.find(".", start)
        if dot < 0:
            break
        if name[dot + 1 :] in _WILDCARDS:
            return n - i
        start = dot + 1
    return 1


def _clean(name: str) -> str:
    name = name.strip().lower()
    if name.endswith("."):
        name = name[:-1]
    if not name.isascii():
        from .domain import fqdn

        name = fqdn(name)[0]
    return name


def public_suffix(name: str) -> str:
    """The public suffix of ``name``: ``co.uk`` for ``www.bbc.co.uk``."""
    name = _clean(name)
    k = suffix_labels(name)
    parts = name.split(".")
    return ".".join(parts[-k:])


def is_public_suffix(name: str) -> bool:
    """True if ``name`` is itself a public suffix (``com``, ``co.uk``, ``github.io``).

    A single label is always one (the default rule), so a whitelist cannot hold
    a bare ``foo`` either.
    """
    name = _clean(name)
    if not name:
        return False
    return suffix_labels(name) >= name.count(".") + 1


def registered_domain(name: str) -> str | None:
    """The registrable domain (eTLD+1): ``bbc.co.uk`` for ``www.bbc.co.uk``.

    None when ``name`` is itself a public suffix or a single label.
    """
    name = _clean(name)
    if not name:
        return None
    k = suffix_labels(name)
    n = name.count(".") + 1
    if k >= n:
        return None
    parts = name.split(".")
    return ".".join(parts[-(k + 1) :])
