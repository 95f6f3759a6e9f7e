"""Domain-name helpers for suffix-aware matching, with no per-name object churn.

Public-suffix answers come from :mod:`cif.indicator.psl`; until that module is
present the ``publicsuffixlist`` package (a declared dependency) answers directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache


def parents(name: str) -> Iterator[str]:
    """``a.b.example.com`` -> ``a.b.example.com``, ``b.example.com``, ``example.com``, ``com``."""
    yield name
    i = name.find(".")
    while i != -1:
        name = name[i + 1 :]
        yield name
        i = name.find(".")


@lru_cache(maxsize=1)
def _psl_is_public() -> Callable[[str], bool]:
    try:
        from cif.indicator.psl import is_public_suffix

        return is_public_suffix
    except ImportError:
        from publicsuffixlist import PublicSuffixList

        psl = PublicSuffixList()
        return lambda name: bool(psl.is_public(name))


def is_public_suffix(name: str) -> bool:
    """True for ``com``, ``co.uk``, ``blogspot.com``: names anyone can register under."""
    return _psl_is_public()(name)


MAX_PSL_BYTES = 2_000_000


@lru_cache(maxsize=1)
def _rule_names() -> frozenset[str]:
    """Every name a public-suffix rule mentions (``*.`` and ``!`` stripped), ASCII form.

    Used as a pre-filter: a name can only be a public suffix when it, or its parent
    for wildcard rules, appears here, so most names never reach the full check.
    An empty set disables the pre-filter.
    """
    try:
        from importlib import resources

        data = resources.files("publicsuffixlist").joinpath("public_suffix_list.dat")
        text = data.read_text("utf-8")
    except (ImportError, OSError):
        return frozenset()
    if len(text) > MAX_PSL_BYTES:
        return frozenset()
    names: set[str] = set()
    for line in text.splitlines():
        rule = line.strip().split(" ", 1)[0]
        if not rule or rule.startswith("//"):
            continue
        rule = rule.lstrip("!")
        if rule.startswith("*."):
            rule = rule[2:]
        names.add(rule.lower())
        try:
            names.add(rule.encode("idna").decode("ascii").lower())
        except UnicodeError:
            pass
    return frozenset(names)


def is_public_suffix_fast(name: str) -> bool:
    """:func:`is_public_suffix` with a set pre-filter; the same answers, much faster."""
    if "." not in name:
        return True  # a top-level label is always a public suffix (known or not)
    rules = _rule_names()
    if rules and name not in rules and name[name.find(".") + 1 :] not in rules:
        return False
    return is_public_suffix(name)
