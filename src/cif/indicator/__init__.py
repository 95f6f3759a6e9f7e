"""The indicator core: the Indicator type, itype detection, canonical forms.

Pure functions only: no I/O at run time (the Public Suffix List is read from a
file shipped in the package).
"""

from .errors import InvalidIndicator
from .model import FIELD_NAMES, TLPS, Indicator
from .normalize import Normalized, normalize
from .timeutil import format_time, parse_time

__all__ = [
    "FIELD_NAMES",
    "TLPS",
    "Indicator",
    "InvalidIndicator",
    "Normalized",
    "format_time",
    "normalize",
    "parse_time",
]
