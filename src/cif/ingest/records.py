"""Turning a parser's raw fields into an indicator record: names, defaults, templates.

Old field names (``lasttime``, ``altid``...) get cif's names, ``mask`` joins the
indicator as a CIDR, fields cif has no column for go to ``extra``, the rule's
defaults fill what the line left empty (``{field}`` templates filled from the
line), and the rule's confidence is mapped from its scale to 0-100.
"""

from __future__ import annotations

from typing import Any

from cif.indicator.model import FIELD_NAMES

from .rules import LEGACY_FIELDS, FeedRule
from .templates import has_template, render

_FIELDS = frozenset(FIELD_NAMES) - {"extra", "flags", "id"}
MAX_EXTRA = 32


class Shaper:
    """Prepared once per feed, applied to every raw record."""

    def __init__(self, rule: FeedRule) -> None:
        self.static: dict[str, Any] = {}
        self.templated: dict[str, str] = {}
        self.extra_defaults: dict[str, Any] = {}
        self.tags: list[str] = []
        for k, v in rule.defaults.items():
            k = LEGACY_FIELDS.get(k, k) or ""
            if not k or v is None:
                continue
            if k == "tags":
                self.tags = (
                    [t.strip() for t in v.split(",")] if isinstance(v, str) else [str(t) for t in v]
                )
            elif k == "confidence" and v != "":
                self.static[k] = round(float(v) * 100.0 / rule.confidence_scale, 2)
            elif has_template(v):
                self.templated[k] = str(v)
            elif k in _FIELDS:
                self.static[k] = v
            else:
                self.extra_defaults[k] = v
        if rule.itype:
            self.static["itype"] = rule.itype

    def __call__(self, raw: dict[str, Any]) -> dict[str, Any]:
        rec: dict[str, Any] = {}
        extra: dict[str, Any] = dict(self.extra_defaults)
        for k, v in raw.items():
            if v is None or v == "":
                continue
            k = LEGACY_FIELDS.get(k, k) or ""
            if not k:
                continue
            if k in _FIELDS:
                rec[k] = v
            elif len(extra) < MAX_EXTRA:
                extra[k] = v if isinstance(v, (int, float, bool, list)) else str(v)[:1024]
        mask = extra.pop("mask", None)
        ind = rec.get("indicator")
        if isinstance(ind, str):
            ind = ind.strip()
            if mask and "/" not in ind:
                ind = f"{ind}/{mask}"
            rec["indicator"] = ind
        for k, v in self.static.items():
            rec.setdefault(k, v)
        if self.templated:
            ctx = {**extra, **rec}
            for k, t in self.templated.items():
                if k not in rec:
                    filled = render(t, ctx)
                    if filled is not None:
                        if k in _FIELDS:
                            rec[k] = filled
                        else:
                            extra[k] = filled
        if self.tags:
            own = rec.get("tags")
            if own:
                own = [t.strip() for t in own.split(",")] if isinstance(own, str) else list(own)
                rec["tags"] = self.tags + own
            else:
                rec["tags"] = self.tags
        if extra:
            rec["extra"] = extra
        return rec
