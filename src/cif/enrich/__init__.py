"""Enrichment: ASN/geo from .mmdb files, DNS context, derived indicators; one pipeline stage."""

from .derive import DeriveConfig, derive
from .dns import DnsAnswer, DnsConfig, DnsResolver
from .geo import GeoInfo, GeoLookup
from .stage import EnrichConfig, EnrichStage, InvalidEnrichConfig

__all__ = [
    "DeriveConfig",
    "DnsAnswer",
    "DnsConfig",
    "DnsResolver",
    "EnrichConfig",
    "EnrichStage",
    "GeoInfo",
    "GeoLookup",
    "InvalidEnrichConfig",
    "derive",
]
