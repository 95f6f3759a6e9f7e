"""cif: a realtime threat-intelligence platform."""

__version__ = "0.1.0"
