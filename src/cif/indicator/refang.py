"""Undo defanging: ``hxxp://evil[.]com`` -> ``http://evil.com``."""

from __future__ import annotations

import re

# Defanged schemes at the start: hxxp, hXXps, h**p, fxp, ...
_SCHEME = re.compile(r"^(?:h(?:xx|\*\*|tt)p(s?)|fxp(s?))(?=\s*[\[\(\{]?\s*:)", re.I)
# Bracketed tokens, with any spaces around them: [.] (.) {.} [dot] [:] [://] [/] [@] [at] ...
_TOKEN = re.compile(r"\s*[\[\(\{]\s*(\.|dot|://|:/|:|/|@|at)\s*[\]\)\}]\s*|\\\.", re.I)
_REPLACE = {".": ".", "dot": ".", "@": "@", "at": "@", ":": ":", "://": "://", ":/": ":/", "/": "/"}


def _token(m: re.Match[str]) -> str:
    t = m[1]
    if t is None:  # "\." (backslash-escaped dot)
        return "."
    return _REPLACE[t.lower()]


def _scheme(m: re.Match[str]) -> str:
    if m[0][0] in "fF":
        return "ftps" if m[2] else "ftp"
    return "https" if m[1] else "http"


# The common tokens, replaced with str.replace when they are the only brackets in the
# value (see _tokens).
_PLAIN = (("[.]", "."), ("(.)", "."), ("[dot]", "."), ("[@]", "@"), ("[at]", "@"))
_SPACE = re.compile(r"\s").search


def _tokens(s: str) -> str:
    """``_TOKEN.sub(_token, s)``, without a Python call per token in the common case.

    When every opening bracket in ``s`` starts one of the _PLAIN tokens, and there
    is no whitespace (which the pattern would swallow) and no backslash, the
    pattern's matches are exactly those tokens, so plain replacement gives the same.
    """
    n = 0
    for tok, _ in _PLAIN:
        n += s.count(tok)
    if (
        n
        and n == s.count("[") + s.count("(") + s.count("{")
        and "\\" not in s
        and _SPACE(s) is None
    ):
        for tok, rep in _PLAIN:
            s = s.replace(tok, rep)
        return s
    return _TOKEN.sub(_token, s)


def refang(value: str) -> str:
    """The value with defanging undone and surrounding whitespace dropped.

    Handles hxxp/hxxps/h**p/fxp schemes and bracketed ``.``, ``dot``, ``:``,
    ``://``, ``/``, ``@`` and ``at`` in square, round or curly brackets
    (spaces inside or around them allowed), and ``\\.``. A value with none of
    these comes back only stripped.
    """
    s = value.strip()
    if "[" in s or "(" in s or "{" in s or "\\" in s:
        s = _tokens(s)
    c = s[:1]
    if c in ("h", "H", "f", "F"):
        s = _SCHEME.sub(_scheme, s, count=1)
    return s
