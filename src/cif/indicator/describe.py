"""The JSON-ready view of one normalization, as ``cif normalize`` prints it."""

from __future__ import annotations

from typing import Any

from .errors import InvalidIndicator
from .normalize import host_of, normalize
from .psl import registered_domain

_HOSTED = ("fqdn", "url", "email")


def describe(value: str, itype: str | None = None) -> dict[str, Any]:
    """``{"input", "indicator", "itype", "flags"[, "registered_domain"]}``, or
    ``{"input", "error"}``.

    Never raises for bad values: a bad value is data, and the error names it and the reason.
    """
    try:
        n = normalize(value, itype)
    except InvalidIndicator as e:
        return {"input": value, "error": str(e)}
    out: dict[str, Any] = {
        "input": value,
        "indicator": n.indicator,
        "itype": n.itype,
        "flags": sorted(n.flags),
    }
    if n.itype in _HOSTED:
        host = host_of(n.indicator, n.itype)
        rd = registered_domain(host) if host else None
        if rd:
            out["registered_domain"] = rd
    return out
