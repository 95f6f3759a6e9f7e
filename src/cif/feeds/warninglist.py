"""Load whitelists written in the MISP warninglist JSON format.

``{"name": ..., "type": "cidr"|"hostname"|"string"|"substring"|"regex", "list": [...]}``

How each type applies:

- ``cidr``: addresses and networks, longest-prefix matched.
- ``hostname``: domains; the name and every subdomain are whitelisted.
- ``string``: exact values; an address or network goes to the IP tree, a value with
  ``/`` or ``://`` is an exact url, anything else a domain (with its subdomains).
- ``substring``: fqdn and url values containing the text (at least 4 characters).
- ``regex``: fqdn and url values the expression finds; patterns are capped in length
  and count and run only on values up to 2048 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from .whitelist import InvalidWhitelistEntry, Whitelist

MAX_FILE_BYTES = 50_000_000
MAX_FILES = 1_000
MAX_ENTRIES = 5_000_000
TYPES = ("cidr", "hostname", "string", "substring", "regex")
_IPISH = re.compile(r"^[0-9a-fA-F:.]+(/\d{1,3})?$")


class InvalidWarninglist(ValueError):
    """A warninglist file that cannot be loaded; the message names the file and why."""


@dataclass(slots=True)
class LoadReport:
    """What a load did: lists read, entries added, entries skipped with reasons."""

    lists: int = 0
    added: int = 0
    skipped: int = 0
    errors: list[str] | None = None

    def note(self, msg: str) -> None:
        self.skipped += 1
        if self.errors is None:
            self.errors = []
        if len(self.errors) < 100:
            self.errors.append(msg)


def _is_ip(value: str) -> bool:
    if not _IPISH.match(value):
        return False
    if ":" in value:
        return True
    return value.split("/")[0].replace(".", "").isdigit() and value.count(".") == 3


def _add_string(wl: Whitelist, value: str, source: str) -> None:
    if _is_ip(value):
        wl.add_network(value, source)
    elif "://" in value or "/" in value:
        wl.add_url(value, source)
    else:
        wl.add_domain(value, source)


def load_warninglist(
    data: dict[str, object], wl: Whitelist, *, origin: str = "", report: LoadReport | None = None
) -> LoadReport:
    """Add one parsed warninglist document to ``wl``; bad entries are skipped and counted."""
    report = report or LoadReport()
    where = origin or "warninglist"
    if not isinstance(data, dict):
        raise InvalidWarninglist(f"{where}: the document must be a JSON object")
    name, kind, items = data.get("name"), data.get("type", "string"), data.get("list")
    if not isinstance(name, str) or not name:
        raise InvalidWarninglist(f"{where}: 'name' is missing")
    if kind not in TYPES:
        raise InvalidWarninglist(f"{where}: type {kind!r} is not one of {', '.join(TYPES)}")
    if not isinstance(items, list):
        raise InvalidWarninglist(f"{where}: 'list' must be an array")
    if report.added + len(items) > MAX_ENTRIES:
        raise InvalidWarninglist(f"{where}: more than {MAX_ENTRIES} entries in all")
    source = f"warninglist:{name}"
    if kind == "hostname":
        added, bad = wl.add_domains((i.strip() if isinstance(i, str) else i for i in items), source)
        report.added += added
        for msg in bad:
            report.note(f"{where}: {msg}")
        report.lists += 1
        return report
    add = {
        "cidr": wl.add_network,
        "hostname": wl.add_domain,
        "substring": wl.add_substring,
        "regex": wl.add_regex,
        "string": lambda v, s: _add_string(wl, v, s),
    }[kind]
    for item in items:
        if not isinstance(item, str) or not item.strip():
            report.note(f"{where}: {item!r}: not a non-empty string")
            continue
        try:
            add(item.strip(), source)
            report.added += 1
        except InvalidWhitelistEntry as e:
            report.note(f"{where}: {e}")
    report.lists += 1
    return report


def load_warninglist_file(
    path: Path, wl: Whitelist, report: LoadReport | None = None
) -> LoadReport:
    """Read one warninglist JSON file (at most 50 MB) into ``wl``."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InvalidWarninglist(f"{path.name}: cannot be read ({e.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise InvalidWarninglist(f"{path.name}: larger than {MAX_FILE_BYTES} bytes")
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, ValueError) as e:
        raise InvalidWarninglist(f"{path.name}: not valid JSON ({e})") from None
    return load_warninglist(data, wl, origin=path.name, report=report)


def load_warninglist_dir(folder: Path, wl: Whitelist | None = None) -> tuple[Whitelist, LoadReport]:
    """Load every ``*.json`` below ``folder`` (MISP keeps one ``list.json`` per folder).

    A bad file is reported and skipped, never fatal to the others.
    """
    wl = wl if wl is not None else Whitelist()
    report = LoadReport()
    if not folder.is_dir():
        raise InvalidWarninglist(f"{folder}: not a folder")
    files = sorted(folder.rglob("*.json"))
    if len(files) > MAX_FILES:
        raise InvalidWarninglist(f"{folder}: more than {MAX_FILES} JSON files")
    for f in files:
        try:
            load_warninglist_file(f, wl, report)
        except InvalidWarninglist as e:
            report.note(str(e))
    return wl, report
