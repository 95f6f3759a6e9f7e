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


_SPACE = re.compile(r"\s").search


def _tokens(s: str) -> str:
    """``_TOKEN.sub(_token, s)``, without a Python call per token in the common case.

    When every opening bracket in ``s`` starts one of ``[.] (.) [dot] [@] [at]``, and there
    is no whitespace (which the pattern would swallow) and no backslash, the
    pattern's matches are exactly those tokens, so plain replacement gives the same.
    """
    dots = s.count("[.]")
    rounds = s.count("(.)")
    words = s.count("[dot]")
    ats = s.count("[@]")
    at_words = s.count("[at]")
    if (
        dots + rounds + words + ats + at_words == s.count("[") + s.count("(") + s.count("{")
        and "\\" not in s
        and _SPACE(s) is None
    ):
        if dots:
            s = s.replace("[.]", ".")
        if rounds:
            s = s.replace("(.)", ".")
        if words:
            s = s.replace("[dot]", ".")
        if ats:
            s = s.replace("[@]", "@")
        if at_words:
            s = s.replace("[at]", "@")
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
    if c == "h" and s[1:7] == "xxp://":
        return "http" + s[4:]
    if c == "h" and s[1:8] == "xxps://":
        return "https" + s[5:]
    if c in ("h", "H", "f", "F"):
        s = _SCHEME.sub(_scheme, s, count=1)
    return s
