"""The indicator core: the Indicator type, itype detection, canonical forms.

Pure functions only: no I/O at run time (the Public Suffix List is read once, at
import, from the data bundled with the ``publicsuffixlist`` package).
"""

from .errors import InvalidIndicator
from .model import FIELD_NAMES, TLPS, Indicator
from .normalize import ITYPES, Normalized, host_of, normalize, normalize_many
from .psl import is_public_suffix, registered_domain
from .refang import refang
from .reserved import reserved_flags
from .timeutil import format_time, parse_time

__all__ = [
    "FIELD_NAMES",
    "ITYPES",
    "TLPS",
    "Indicator",
    "InvalidIndicator",
    "Normalized",
    "format_time",
    "host_of",
    "is_public_suffix",
    "normalize",
    "normalize_many",
    "parse_time",
    "refang",
    "registered_domain",
    "reserved_flags",
]
