"""Suricata and Snort rules, one per indicator, with stable sids and honest revs.

sid: ``sid_base`` plus a number derived from the itype and value (sha256, modulo
``sid_span``), probing upward on collisions in value order, so a value keeps its sid
from build to build. rev: 1 without state; pass ``state`` (a mapping of
``"itype:value"`` to ``{"sid", "rev", "digest"}`` from :func:`next_state` of the
previous build) and an indicator's rev goes up exactly when its data changes.
Hash itypes are not expressible as single rules and are skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from cif.indicator.model import Indicator

from .common import FormatError, clean, digest

DEFAULT_SID_BASE = 9_000_000
DEFAULT_SID_SPAN = 900_000
DEFAULT_MSG = "CIF"
RULE_ITYPES = ("ipv4", "ipv6", "ipv4_cidr", "ipv6_cidr", "fqdn", "url")

State = Mapping[str, Mapping[str, Any]]


def _key(ind: Indicator) -> str:
    return f"{ind.itype}:{ind.indicator}"


def next_state(
    indicators: Iterable[Indicator],
    state: State | None = None,
    *,
    sid_base: int = DEFAULT_SID_BASE,
    sid_span: int = DEFAULT_SID_SPAN,
) -> dict[str, dict[str, Any]]:
    """sid, rev and data digest for each rule-able indicator; keep it for the next build."""
    if sid_base < 1 or sid_span < 1 or sid_base + sid_span > 2**32 - 1:
        raise FormatError(f"sid_base {sid_base} / sid_span {sid_span}: sids must fit in 1..2^32-1")
    prev = dict(state or {})
    items = sorted((i for i in indicators if i.itype in RULE_ITYPES), key=_key)
    used = {int(v["sid"]) for v in prev.values()}
    out: dict[str, dict[str, Any]] = {}
    for ind in items:
        k = _key(ind)
        d = digest(ind)
        old = prev.get(k)
        if old is not None:
            rev = int(old["rev"]) + (0 if old.get("digest") == d else 1)
            out[k] = {"sid": int(old["sid"]), "rev": rev, "digest": d}
            continue
        h = int.from_bytes(hashlib.sha256(k.encode()).digest()[:8], "big") % sid_span
        for step in range(sid_span):
            sid = sid_base + (h + step) % sid_span
            if sid not in used:
                break
        else:
            raise FormatError(f"no free sid left in {sid_base}..{sid_base + sid_span - 1}")
        used.add(sid)
        out[k] = {"sid": sid, "rev": 1, "digest": d}
    return out


def _content(s: str) -> str:
    """Escape for a rule content string: ``"`` ``;`` ``\\`` ``|`` ``:`` as hex bytes."""
    bad = {'"', ";", "\\", "|", ":"}
    return "".join(f"|{ord(c):02X}|" if c in bad or not c.isprintable() else c for c in s)


def _msg(s: str) -> str:
    return "".join(c for c in clean(s, 200) if c not in '";\\|()')


def _split_url(url: str) -> tuple[str, str]:
    rest = url.split("://", 1)[1] if "://" in url else url
    slash = rest.find("/")
    host, path = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
    return host.rsplit("@", 1)[-1].split(":", 1)[0] if not host.startswith("[") else host, path


def rule(ind: Indicator, sid: int, rev: int, engine: str, msg: str) -> str | None:
    """One rule text for ``engine`` (suricata or snort), or None if the itype has none."""
    tags = ",".join(sorted(ind.tags))
    m = _msg(f"{msg} {ind.itype} {ind.indicator}" + (f" {tags}" if tags else ""))
    tail = f"classtype:trojan-activity; sid:{sid}; rev:{rev};"
    meta = f" metadata:confidence {int(ind.confidence)};"
    if ind.itype in ("ipv4", "ipv6", "ipv4_cidr", "ipv6_cidr"):
        v = ind.indicator
        return f'alert ip $HOME_NET any -> {v} any (msg:"{m}";{meta} {tail})'
    if ind.itype == "fqdn":
        v = _content(ind.indicator)
        if engine == "suricata":
            return (
                f'alert dns $HOME_NET any -> any any (msg:"{m}"; dns.query; content:"{v}"; '
                f"nocase; endswith;{meta} {tail})"
            )
        wire = "".join(f"|{len(x):02X}|{_content(x)}" for x in ind.indicator.split("."))
        return (
            f'alert udp $HOME_NET any -> any 53 (msg:"{m}"; content:"{wire}|00|"; '
            f"nocase; fast_pattern;{meta} {tail})"
        )
    if ind.itype == "url":
        host, path = _split_url(ind.indicator)
        h, p = _content(host), _content(path)
        if engine == "suricata":
            return (
                f'alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"{m}"; '
                "flow:established,to_server; "
                f'http.host; content:"{h}"; nocase; endswith; http.uri; content:"{p}"; startswith;'
                f"{meta} {tail})"
            )
        return (
            f'alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:"{m}"; '
            f'flow:established,to_server; content:"{h}"; http_header; nocase; '
            f'content:"{p}"; http_uri;{meta} {tail})'
        )
    return None


def render_rules(
    indicators: Iterable[Indicator],
    engine: str,
    *,
    sid_base: int = DEFAULT_SID_BASE,
    sid_span: int = DEFAULT_SID_SPAN,
    state: State | None = None,
    msg: str = DEFAULT_MSG,
    **_: object,
) -> str:
    items = list(indicators)
    st = next_state(items, state, sid_base=sid_base, sid_span=sid_span)
    lines = []
    for ind in items:
        s = st.get(_key(ind))
        if s is None:
            continue
        r = rule(ind, s["sid"], s["rev"], engine, msg)
        if r:
            lines.append(r)
    return "\n".join(lines) + ("\n" if lines else "")
