"""Feed rules: YAML files in the csirtg-smrt / csirtg-fm layout, checked and flattened.

A rule file has top-level settings, ``defaults`` and ``feeds``; each feed may
override any setting. csirtg-smrt also put parser settings (``pattern``,
``values``...) inside ``defaults``: those are honoured, so old rules load unchanged.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from cif.indicator.model import FIELD_NAMES

from .errors import RuleError
from .templates import fields_of, has_template

BUNDLED_DIR = Path(__file__).resolve().parent / "rules"
MAX_RULE_BYTES = 1024 * 1024
DEFAULT_INTERVAL = 3600.0
MIN_INTERVAL = 1.0

PARSERS = {
    "csv": "csv",
    "tsv": "tsv",
    "delimited": "delimited",
    "delim": "delimited",
    "pipe": "pipe",
    "semicolon": "semicolon",
    "pattern": "pattern",
    "regex": "pattern",
    "plain": "plain",
    "txt": "plain",
    "text": "plain",
    "json": "json",
    "jsonl": "jsonl",
    "json-lines": "jsonl",
    "json_lines": "jsonl",
    "ndjson": "jsonl",
    "rss": "rss",
    "atom": "rss",
    "xml": "rss",
    "stix": "stix",
    "stix2": "stix",
    "misp": "misp",
}
RULE_KEYS = frozenset(
    {
        "remote",
        "parser",
        "pattern",
        "values",
        "map",
        "envelope",
        "itype",
        "skip",
        "skip_first",
        "line_filter",
        "limit",
        "interval",
        "token",
        "token_header",
        "username",
        "password",
        "confidence_scale",
        "delimiter",
    }
)
# Field names older feed managers used, mapped to cif's names (None: dropped).
LEGACY_FIELDS: dict[str, str | None] = {
    "firsttime": "first_at",
    "lasttime": "last_at",
    "reporttime": "reported_at",
    "altid": "reference",
    "null": None,
    "": None,
}
EXTRA_FIELDS = frozenset(
    {
        "altid_tlp",
        "reference_tlp",
        "application",
        "additional_data",
        "mask",
        "port",
        "rir",
        "malware",
        "threat",
        "status",
    }
)
FIELD_KEYS = frozenset(FIELD_NAMES) | frozenset(LEGACY_FIELDS) | EXTRA_FIELDS
SCALES = (4.0, 10.0, 100.0)
_FEED_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_ENV_NAME = re.compile(
    r"^(?:\$\{([A-Za-z_][A-Za-z0-9_]*)\}|env:([A-Za-z_][A-Za-z0-9_]*)|([A-Z_][A-Z0-9_]*))$"
)
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


@dataclass(slots=True)
class FeedRule:
    """One feed of a rule file, with every setting resolved."""

    rule: str
    name: str
    file: str
    remote: str
    parser: str
    base_dir: Path
    pattern: re.Pattern[str] | None = None
    values: list[str | None] | None = None
    map: dict[str, str] | list[str] | None = None
    envelope: list[str] | None = None
    itype: str | None = None
    skip: re.Pattern[str] | None = None
    skip_first: int = 0
    line_filter: re.Pattern[str] | None = None
    limit: int | None = None
    interval: float = DEFAULT_INTERVAL
    token: str | None = None
    token_header: str | None = None
    username: str | None = None
    password: str | None = None
    confidence_scale: float = 100.0
    delimiter: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable id used for health records and the cache: ``rule/feed``."""
        return f"{self.rule}/{self.name}"


def bundled_rules() -> list[Path]:
    """The rule files shipped with cif."""
    return sorted(BUNDLED_DIR.glob("*.yml"))


def resolve_rule(name: str | os.PathLike[str]) -> Path:
    """A path, or the name of a bundled rule (``spamhaus``)."""
    p = Path(name)
    if p.is_file():
        return p
    bundled = BUNDLED_DIR / f"{p.name}.yml"
    if not p.suffix and bundled.is_file():
        return bundled
    names = ", ".join(r.stem for r in bundled_rules())
    raise RuleError(str(name), None, None, f"no such rule file or bundled rule (bundled: {names})")


def load_rule(
    path: str | os.PathLike[str], *, confidence_scale: float | None = None
) -> list[FeedRule]:
    """Read and check one rule file; refuses it whole on the first error."""
    p = resolve_rule(path)
    file = str(path)
    if p.stat().st_size > MAX_RULE_BYTES:
        raise RuleError(file, None, None, f"file is larger than {MAX_RULE_BYTES} bytes")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise RuleError(file, None, None, f"not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise RuleError(file, None, None, "a rule must be a YAML mapping with a 'feeds' key")
    feeds = doc.get("feeds")
    if not isinstance(feeds, dict) or not feeds:
        raise RuleError(file, None, "feeds", "must be a mapping of feed names to feed settings")
    top = {k: v for k, v in doc.items() if k not in ("feeds", "defaults")}
    _check_keys(file, None, top)
    top_defaults = _mapping(file, None, "defaults", doc.get("defaults"))
    scale = confidence_scale or _scale(file, doc, feeds)
    out = []
    for name, body in feeds.items():
        fname = str(name)
        if not _FEED_NAME.match(fname):
            raise RuleError(file, fname, None, "feed names use letters, digits, '.', '_', '-'")
        body = _mapping(file, fname, "feeds", body)
        _check_keys(file, fname, {k: v for k, v in body.items() if k != "defaults"})
        feed_defaults = _mapping(file, fname, "defaults", body.get("defaults"))
        settings: dict[str, Any] = {}
        defaults: dict[str, Any] = {}
        for layer in (
            top,
            top_defaults,
            {k: v for k, v in body.items() if k != "defaults"},
            feed_defaults,
        ):
            for k, v in layer.items():
                if k in RULE_KEYS:
                    settings[k] = v
                elif k == "tags" and "tags" in defaults:
                    defaults["tags"] = _tags(defaults["tags"]) + _tags(v)
                else:
                    defaults[k] = v
        out.append(_build(file, p, fname, settings, defaults, scale))
    return out


def _build(
    file: str, path: Path, name: str, s: dict[str, Any], defaults: dict[str, Any], scale: float
) -> FeedRule:
    remote = s.get("remote")
    if not isinstance(remote, str) or not remote.strip():
        raise RuleError(file, name, "remote", "every feed needs a remote (URL or path)")
    values = _values(file, name, s.get("values"))
    pattern = _regex(file, name, "pattern", s.get("pattern"))
    parser = s.get("parser")
    if parser is None:
        parser = _guess_parser(remote, pattern, values)
    elif str(parser).lower() not in PARSERS:
        raise RuleError(
            file,
            name,
            "parser",
            f"unknown parser {parser!r} (known: {', '.join(sorted(set(PARSERS.values())))})",
        )
    parser = PARSERS[str(parser).lower()]
    if parser == "pattern" and pattern is None:
        raise RuleError(file, name, "pattern", "the pattern parser needs a pattern")
    if pattern is not None and values and pattern.groups and len(values) > pattern.groups:
        raise RuleError(
            file, name, "values", f"{len(values)} values for {pattern.groups} pattern groups"
        )
    mp = s.get("map")
    if mp is not None and not (isinstance(mp, dict) or isinstance(mp, list)):
        raise RuleError(
            file, name, "map", "must be a mapping (source key: field) or a list paired with values"
        )
    if isinstance(mp, list) and (values is None or len(values) != len(mp)):
        raise RuleError(file, name, "map", "a map list needs a values list of the same length")
    env = s.get("envelope")
    if env is not None and not isinstance(env, (str, list)):
        raise RuleError(
            file, name, "envelope", "must be a key path like 'data.items' or a list of keys"
        )
    envelope = env.split(".") if isinstance(env, str) else [str(x) for x in env] if env else None
    defaults = {k: v for k, v in defaults.items()}
    if not defaults.get("provider"):
        host = urlsplit(remote).hostname if "://" in remote else None
        if host and not remote.startswith("file:"):
            defaults["provider"] = host.removeprefix("www.")
    _check_defaults(file, name, defaults, scale)
    delim = s.get("delimiter")
    if delim is not None and (not isinstance(delim, str) or len(delim) != 1):
        raise RuleError(file, name, "delimiter", "must be a single character")
    return FeedRule(
        rule=path.stem,
        name=name,
        file=file,
        remote=remote.strip(),
        parser=parser,
        base_dir=path.resolve().parent,
        pattern=pattern,
        values=values,
        map=({str(k): str(v) for k, v in mp.items()} if isinstance(mp, dict) else mp),
        envelope=envelope,
        itype=_itype(file, name, s.get("itype")),
        skip=_regex(file, name, "skip", s.get("skip")),
        skip_first=_int(file, name, "skip_first", s.get("skip_first"), 0) or 0,
        line_filter=_regex(file, name, "line_filter", s.get("line_filter")),
        limit=_int(file, name, "limit", s.get("limit"), None),
        interval=_interval(file, name, s.get("interval")),
        token=_env(file, name, "token", s.get("token")),
        token_header=_str(file, name, "token_header", s.get("token_header")),
        username=_env(file, name, "username", s.get("username")),
        password=_env(file, name, "password", s.get("password")),
        confidence_scale=scale,
        delimiter=delim,
        defaults=defaults,
    )


def _guess_parser(
    remote: str, pattern: re.Pattern[str] | None, values: list[str | None] | None
) -> str:
    if pattern is not None:
        return "pattern"
    low = urlsplit(remote).path.lower() if "://" in remote else remote.lower()
    for ext in (".gz", ".bz2", ".zip"):
        low = low.removesuffix(ext)
    for ext, parser in (
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "json"),
        (".csv", "csv"),
        (".tsv", "tsv"),
        (".rss", "rss"),
        (".xml", "rss"),
        (".atom", "rss"),
    ):
        if low.endswith(ext):
            return parser
    return "csv" if values and len(values) > 1 else "plain"


def _check_keys(file: str, feed: str | None, body: dict[str, Any]) -> None:
    for k in body:
        if k not in RULE_KEYS and k not in FIELD_KEYS:
            raise RuleError(
                file, feed, str(k), "unknown setting (put custom fields under 'defaults')"
            )


def _mapping(file: str, feed: str | None, key: str, v: Any) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise RuleError(file, feed, key, "must be a mapping")
    return {str(k): x for k, x in v.items()}


def _tags(v: Any) -> list[str]:
    if v is None:
        return []
    return [t.strip() for t in v.split(",")] if isinstance(v, str) else [str(t) for t in v]


def _values(file: str, feed: str, v: Any) -> list[str | None] | None:
    if v is None:
        return None
    items = v.split(",") if isinstance(v, str) else v
    if not isinstance(items, list) or not items:
        raise RuleError(
            file, feed, "values", "must be a list of field names (null to drop a column)"
        )
    out: list[str | None] = []
    for x in items:
        name = None if x is None else str(x).strip()
        if name is not None and name in LEGACY_FIELDS:
            name = LEGACY_FIELDS[name]
        out.append(name or None)
    return out


def _regex(file: str, feed: str, key: str, v: Any) -> re.Pattern[str] | None:
    if v is None or v == "":
        return None
    if not isinstance(v, str) or len(v) > 4096:
        raise RuleError(file, feed, key, "must be a regular expression of at most 4096 characters")
    try:
        return re.compile(v)
    except re.error as e:
        raise RuleError(file, feed, key, f"invalid regular expression {v!r}: {e}") from None


def _int(file: str, feed: str, key: str, v: Any, default: int | None) -> int | None:
    if v is None or v == "":
        return default
    if isinstance(v, bool) or not isinstance(v, (int, str)) or not str(v).strip().isdigit():
        raise RuleError(file, feed, key, f"must be a whole number >= 0, not {v!r}")
    return int(v)


def _interval(file: str, feed: str, v: Any) -> float:
    if v is None or v == "":
        return DEFAULT_INTERVAL
    m = _INTERVAL.match(str(v)) if not isinstance(v, bool) else None
    if not m:
        raise RuleError(
            file, feed, "interval", f"must be seconds or a number with s/m/h/d, not {v!r}"
        )
    secs = float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if secs < MIN_INTERVAL:
        raise RuleError(file, feed, "interval", f"must be at least {MIN_INTERVAL:g} second")
    return secs


def _itype(file: str, feed: str, v: Any) -> str | None:
    from cif.indicator.normalize import ITYPES

    if v is None or v == "":
        return None
    if str(v) not in ITYPES:
        raise RuleError(file, feed, "itype", f"unknown itype {v!r} (known: {', '.join(ITYPES)})")
    return str(v)


def _str(file: str, feed: str, key: str, v: Any) -> str | None:
    if v is None or v == "":
        return None
    if not isinstance(v, str):
        raise RuleError(file, feed, key, "must be a string")
    return v


def _env(file: str, feed: str, key: str, v: Any) -> str | None:
    """The name of the environment variable holding a secret (never the secret itself)."""
    if v is None or v == "":
        return None
    m = _ENV_NAME.match(str(v))
    if not m:
        raise RuleError(
            file,
            feed,
            key,
            "must name an environment variable, e.g. PHISHTANK_TOKEN "
            "or ${PHISHTANK_TOKEN}; secrets are not written in rule files",
        )
    return next(g for g in m.groups() if g)


def env_secret(rule: FeedRule, key: str) -> str | None:
    """Read a secret the rule names from the environment; a clear error when unset."""
    name = getattr(rule, key)
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise RuleError(rule.file, rule.name, key, f"environment variable {name} is not set")
    return value


def _scale(file: str, doc: dict[str, Any], feeds: dict[str, Any]) -> float:
    """The rule's confidence scale: declared, else 10 when every confidence is <= 10."""
    v = doc.get("confidence_scale")
    if v is not None:
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = 0.0
        if f not in SCALES:
            raise RuleError(file, None, "confidence_scale", f"must be 4, 10 or 100, not {v!r}")
        return f
    seen = []
    for layer in [doc, doc.get("defaults") or {}] + [
        x for b in feeds.values() if isinstance(b, dict) for x in (b, b.get("defaults") or {})
    ]:
        if isinstance(layer, dict) and layer.get("confidence") not in (None, ""):
            try:
                seen.append(float(layer["confidence"]))
            except (TypeError, ValueError):
                pass
    return 10.0 if seen and max(seen) <= 10 else 100.0


def _check_defaults(file: str, feed: str, d: dict[str, Any], scale: float) -> None:
    c = d.get("confidence")
    if c not in (None, ""):
        try:
            f = float(c)
        except (TypeError, ValueError):
            raise RuleError(file, feed, "confidence", f"must be a number, not {c!r}") from None
        if not 0 <= f <= scale:
            raise RuleError(
                file, feed, "confidence", f"{c!r} is outside the rule's 0-{scale:g} scale"
            )
    for k, v in d.items():
        if isinstance(v, (dict,)) and k != "extra":
            raise RuleError(file, feed, k, "default values are strings, numbers or lists")
        if has_template(v):
            bad = {f for f in fields_of(v) if not re.match(r"^\w+$", f)}
            if bad:
                raise RuleError(file, feed, k, f"bad template fields {sorted(bad)}")
