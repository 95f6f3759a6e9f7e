"""Zeek intel framework file (``Intel::read_files``).

Tab-separated with a ``#fields`` header; empty fields are ``-``. Besides the
standard ``meta.source``, ``meta.desc`` and ``meta.url`` it writes
``meta.cif_tags`` and ``meta.cif_confidence``, which Zeek reads once a policy adds them:

    redef record Intel::MetaData += {
        cif_tags: string &optional;
        cif_confidence: double &optional;
    };

Pass ``extra_meta=False`` for a file that needs no such redef.
"""

from __future__ import annotations

from collections.abc import Iterable

from cif.indicator.model import Indicator

from .common import clean, without_scheme

TYPES = {
    "ipv4": "Intel::ADDR",
    "ipv6": "Intel::ADDR",
    "ipv4_cidr": "Intel::SUBNET",
    "ipv6_cidr": "Intel::SUBNET",
    "fqdn": "Intel::DOMAIN",
    "url": "Intel::URL",
    "email": "Intel::EMAIL",
    "md5": "Intel::FILE_HASH",
    "sha1": "Intel::FILE_HASH",
    "sha256": "Intel::FILE_HASH",
    "sha512": "Intel::FILE_HASH",
}


def _f(s: str | None) -> str:
    s = clean(s, 500).replace("\t", " ")
    return s if s else "-"


def render(
    indicators: Iterable[Indicator], *, extra_meta: bool = True, source: str = "cif", **_: object
) -> str:
    """The intel file; itypes Zeek has no intel type for (asn) are skipped."""
    cols = ["indicator", "indicator_type", "meta.source", "meta.desc", "meta.url"]
    if extra_meta:
        cols += ["meta.cif_tags", "meta.cif_confidence"]
    lines = ["#fields\t" + "\t".join(cols)]
    for ind in indicators:
        t = TYPES.get(ind.itype)
        if t is None:
            continue
        value = without_scheme(ind.indicator) if ind.itype == "url" else ind.indicator
        src = f"{source}:{ind.provider}" if ind.provider else source
        desc = ind.description or ",".join(sorted(ind.tags))
        row = [value, t, _f(src), _f(desc), _f(ind.reference)]
        if extra_meta:
            row += [_f(",".join(sorted(ind.tags))), f"{ind.confidence:g}"]
        lines.append("\t".join(row))
    return "\n".join(lines) + "\n"
