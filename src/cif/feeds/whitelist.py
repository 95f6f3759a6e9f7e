"""Whitelists: networks, domains, urls and text patterns a feed must never carry.

IP entries live in longest-prefix trees (pytricia), domains and urls in sets, so a
lookup costs one C call or a handful of set probes whatever the list size.
Each entry remembers where it came from, so ``explain`` can name it.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytricia

from cif.indicator.model import Indicator

from .suffix import parents

WHITELIST_TAG = "whitelist"
MAX_REGEX_LEN = 256
MAX_REGEXES = 1_000
MAX_MATCH_LEN = 2_048
_PROBE = object()


class InvalidWhitelistEntry(ValueError):
    """A whitelist value that cannot be used; the message names it and why."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One whitelist entry: the value as listed and where it came from."""

    value: str
    source: str

    def __str__(self) -> str:
        return f"{self.value} ({self.source})"


def _check_prefix(value: str) -> tuple[str, bool]:
    """Cheap syntax check of an address or network; returns (value, is_ipv6)."""
    v6 = ":" in value
    if "/" in value:
        addr, _, plen = value.partition("/")
        if not plen.isdigit() or int(plen) > (128 if v6 else 32) or not addr:
            raise InvalidWhitelistEntry(f"{value!r}: not an address or network (bad prefix length)")
    return value, v6


def _host_of_url(url: str) -> str:
    """Lowercased host of a url with or without scheme, no port or credentials."""
    rest = url.split("://", 1)[1] if "://" in url else url
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1 : host.find("]")].lower() if "]" in host else host.lower()
    return host.split(":", 1)[0].lower().rstrip(".")


def _strip_scheme(url: str) -> str:
    return url.split("://", 1)[1] if "://" in url else url


# Entries per tree, by id: len() of a PyTricia walks the whole tree, and caches of
# derived arrays check the size on every build. Trees only ever grow (the probe
# that holes() inserts is removed before it returns).
_TREE_SIZES: dict[int, int] = {}


def _forget(*tree_ids: int) -> None:
    for i in tree_ids:
        _TREE_SIZES.pop(i, None)


def tree_size(tree: object) -> int:
    """How many entries a whitelist's address tree holds, without walking it."""
    size = _TREE_SIZES.get(id(tree))
    return size if size is not None else len(tree)  # type: ignore[arg-type]


class Whitelist:
    """Everything to subtract from a feed. Not itself a feed: entries are never output."""

    def __init__(self) -> None:
        self._v4 = pytricia.PyTricia(32)
        self._v6 = pytricia.PyTricia(128)
        # name -> source: no object per entry, so a million-name list loads fast;
        # the Entry is made when a lookup hits.
        self._domains: dict[str, str] = {}
        self._urls: dict[str, Entry] = {}
        self._substrings: list[Entry] = []
        self._regexes: list[tuple[re.Pattern[str], Entry]] = []
        self._lock = threading.Lock()
        self._networks = 0  # len() of a PyTricia walks the whole tree: count inserts instead
        _TREE_SIZES[id(self._v4)] = _TREE_SIZES[id(self._v6)] = 0
        weakref.finalize(self, _forget, id(self._v4), id(self._v6))
        self.guarded = False  # holds the built-in guard entries too (see builder.add_guards)

    def __len__(self) -> int:
        return (
            self._networks
            + len(self._domains)
            + len(self._urls)
            + len(self._substrings)
            + len(self._regexes)
        )

    # -- adding ------------------------------------------------------------------------

    def add_network(self, value: str, source: str) -> None:
        """Whitelist an address or CIDR network (IPv4 or IPv6)."""
        value = value.strip().lower()
        _, v6 = _check_prefix(value)
        tree = self._v6 if v6 else self._v4
        try:
            if not tree.has_key(value):
                tree.insert(value, Entry(value, source))
                self._networks += 1
                _TREE_SIZES[id(tree)] = _TREE_SIZES.get(id(tree), 0) + 1
        except (ValueError, KeyError, SystemError):
            raise InvalidWhitelistEntry(f"{value!r}: not an address or network") from None

    def add_domain(self, name: str, source: str) -> None:
        """Whitelist a domain and, by suffix, every name below it."""
        name = name.strip().lower().rstrip(".")
        if name.startswith("*."):
            name = name[2:]
        if name.startswith("."):
            name = name[1:]
        if not name or " " in name or "/" in name:
            raise InvalidWhitelistEntry(f"{name!r}: not a domain name")
        self._domains.setdefault(name, source)

    def add_domains(self, names: Iterable[object], source: str) -> tuple[int, list[str]]:
        """:meth:`add_domain` for many names at once; returns (added, bad entries' messages).

        Names already in canonical form (lowercase, no trailing dot, no wildcard) take
        one set probe each; the rest go through :meth:`add_domain`.
        """
        domains = self._domains
        added = 0
        bad: list[str] = []
        for name in names:
            if (
                isinstance(name, str)
                and name
                and name.islower()
                and name[0].isalnum()
                and name[-1].isalnum()
                and " " not in name
                and "/" not in name
            ):
                if name not in domains:
                    domains[name] = source
                added += 1
                continue
            if not isinstance(name, str) or not name.strip():
                bad.append(f"{name!r}: not a non-empty string")
                continue
            try:
                self.add_domain(name, source)
                added += 1
            except InvalidWhitelistEntry as e:
                bad.append(str(e))
        return added, bad

    def add_url(self, url: str, source: str) -> None:
        """Whitelist one url exactly (compared without its scheme)."""
        url = url.strip()
        if not url:
            raise InvalidWhitelistEntry("an empty url cannot be whitelisted")
        key = _strip_scheme(url)
        self._urls.setdefault(key, Entry(url, source))

    def add_substring(self, text: str, source: str) -> None:
        """Whitelist every fqdn or url containing ``text`` (case-insensitive)."""
        text = text.strip().lower()
        if len(text) < 4:
            raise InvalidWhitelistEntry(f"{text!r}: a substring entry needs at least 4 characters")
        self._substrings.append(Entry(text, source))

    def add_regex(self, pattern: str, source: str) -> None:
        """Whitelist every fqdn or url a (short, compiled-once) regular expression finds."""
        if len(pattern) > MAX_REGEX_LEN:
            raise InvalidWhitelistEntry(
                f"{pattern[:40]!r}...: longer than {MAX_REGEX_LEN} characters"
            )
        if len(self._regexes) >= MAX_REGEXES:
            raise InvalidWhitelistEntry(f"{pattern!r}: more than {MAX_REGEXES} regex entries")
        try:
            rx = re.compile(pattern, re.IGNORECASE)
        except re.error as e:
            raise InvalidWhitelistEntry(f"{pattern!r}: not a regular expression ({e})") from None
        self._regexes.append((rx, Entry(pattern, source)))

    def add_indicator(self, ind: Indicator) -> None:
        """Whitelist an indicator's value according to its itype."""
        src = f"indicator:{ind.provider or 'unknown'}" + (
            f"#{ind.id}" if ind.id is not None else ""
        )
        it = ind.itype
        if it in ("ipv4", "ipv6", "ipv4_cidr", "ipv6_cidr"):
            self.add_network(ind.indicator, src)
        elif it == "fqdn":
            self.add_domain(ind.indicator, src)
        elif it == "url":
            self.add_url(ind.indicator, src)
        # Other itypes (hashes, emails, asn) are matched exactly by the builder.
        else:
            self._urls.setdefault(f"{it}:{ind.indicator}", Entry(ind.indicator, src))

    def add_indicators(self, indicators: Iterable[Indicator]) -> int:
        """Whitelist every indicator given; returns how many were added."""
        n = 0
        for ind in indicators:
            self.add_indicator(ind)
            n += 1
        return n

    # -- matching ----------------------------------------------------------------------

    def _tree(self, value: str) -> pytricia.PyTricia:
        return self._v6 if ":" in value else self._v4

    def match_ip(self, value: str) -> Entry | None:
        """The entry covering the whole address or network ``value``, if any."""
        tree = self._v6 if ":" in value else self._v4
        try:
            return tree.get(value)
        except ValueError:
            return None

    def holes(self, network: str) -> list[Entry]:
        """Whitelisted entries strictly inside ``network`` (for splitting around them)."""
        tree = self._tree(network)
        with self._lock:
            if tree.has_key(network):
                return []
            tree.insert(network, _PROBE)
            try:
                return [tree.get(k) for k in tree.children(network)]
            finally:
                tree.delete(network)

    def match_domain(self, name: str) -> Entry | None:
        """The entry for ``name`` or its closest whitelisted parent domain."""
        domains = self._domains
        if not domains:
            return None
        for p in parents(name):
            src = domains.get(p)
            if src is not None:
                return Entry(p, src)
        return None

    def match_url(self, url: str) -> Entry | None:
        """The entry for this exact url (scheme ignored)."""
        return self._urls.get(_strip_scheme(url)) if self._urls else None

    def match_exact(self, itype: str, value: str) -> Entry | None:
        """Entry for an indicator of another itype (hash, email, asn) listed exactly."""
        return self._urls.get(f"{itype}:{value}") if self._urls else None

    def match_text(self, value: str) -> Entry | None:
        """Substring or regex entry that finds ``value`` (fqdn and url feeds only)."""
        if not (self._substrings or self._regexes) or len(value) > MAX_MATCH_LEN:
            return None
        low = value.lower()
        for e in self._substrings:
            if e.value in low:
                return e
        for rx, e in self._regexes:
            if rx.search(value):
                return e
        return None

    def entries(self) -> Iterator[Entry]:
        """Every entry, for listing and debugging."""
        for tree in (self._v4, self._v6):
            for k in tree:
                yield tree.get(k)
        for name, src in self._domains.items():
            yield Entry(name, src)
        yield from self._urls.values()
        yield from self._substrings
        for _, e in self._regexes:
            yield e


def host_of_url(url: str) -> str:
    """Public form of the url host parser used by the builder."""
    return _host_of_url(url)
