"""BIND Response Policy Zone.

Domains get two triggers, ``name`` and ``*.name``; addresses and networks get
``rpz-ip`` triggers (``32.4.3.2.1.rpz-ip`` for 1.2.3.4, ``zz`` for the longest run of
zero groups in IPv6), which act on answers that resolve into them. Actions:
NXDOMAIN (``CNAME .``), NODATA (``CNAME *.``), DROP (``CNAME rpz-drop.``) and
PASSTHRU (``CNAME rpz-passthru.``).

SOA serial: pass ``serial`` to set it, or ``previous_serial`` and the result is
``max(previous_serial + 1, unix time)``; with neither it is the unix time at ``now``.
Either way it grows on every build, as secondaries require.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable

from cif.indicator.model import Indicator

from .common import FormatError

ACTIONS = {
    "nxdomain": "CNAME .",
    "nodata": "CNAME *.",
    "drop": "CNAME rpz-drop.",
    "passthru": "CNAME rpz-passthru.",
}
MAX_SERIAL = 2**32 - 1


def rpz_ip(value: str) -> str:
    """The rpz-ip owner name (without the zone) for an address or network."""
    net = ipaddress.ip_network(value, strict=False)
    if net.version == 4:
        octets = str(net.network_address).split(".")
        return f"{net.prefixlen}." + ".".join(reversed(octets)) + ".rpz-ip"
    groups = net.network_address.compressed.split(":")
    if groups[0] == "":
        groups = groups[1:]
    if groups[-1] == "":
        groups = groups[:-1]
    out = ["zz" if g == "" else g for g in groups]
    return f"{net.prefixlen}." + ".".join(reversed(out)) + ".rpz-ip"


def soa_serial(
    serial: int | None = None, previous_serial: int | None = None, now: float | None = None
) -> int:
    """The serial to write (see module doc)."""
    if serial is not None:
        s = serial
    else:
        t = int(now if now is not None else time.time())
        s = t if previous_serial is None else max(previous_serial + 1, t)
    if not 1 <= s <= MAX_SERIAL:
        raise FormatError(f"SOA serial {s}: must be from 1 to {MAX_SERIAL}")
    return s


def _check_name(name: str) -> str:
    labels = name.split(".")
    if (
        len(name) > 240
        or not all(0 < len(x) <= 63 for x in labels)
        or any(not all(c.isalnum() or c in "-_" for c in x) for x in labels)
    ):
        raise FormatError(f"{name!r}: not a DNS name an RPZ zone can hold")
    return name


def render(
    indicators: Iterable[Indicator],
    *,
    origin: str = "rpz.local",
    action: str = "nxdomain",
    serial: int | None = None,
    previous_serial: int | None = None,
    now: float | None = None,
    ttl: int = 300,
    skip_invalid: bool = True,
    **_: object,
) -> str:
    """The zone file text. Names that cannot be owner names are skipped (or raise)."""
    rdata = ACTIONS.get(action.lower())
    if rdata is None:
        raise FormatError(f"action {action!r}: use one of {', '.join(a.upper() for a in ACTIONS)}")
    origin = _check_name(origin.strip(".").lower())
    s = soa_serial(serial, previous_serial, now)
    lines = [
        f"$TTL {ttl}",
        f"@ IN SOA localhost. hostmaster.localhost. ( {s} 3600 600 86400 {ttl} )",
        "@ IN NS localhost.",
    ]
    seen: set[str] = set()
    for ind in indicators:
        try:
            if ind.itype in ("fqdn",):
                owners = [_check_name(ind.indicator), "*." + ind.indicator]
            elif ind.itype in ("ipv4", "ipv6", "ipv4_cidr", "ipv6_cidr"):
                owners = [rpz_ip(ind.indicator)]
            else:
                continue
        except (FormatError, ValueError):
            if skip_invalid:
                continue
            raise
        for o in owners:
            if o not in seen:
                seen.add(o)
                lines.append(f"{o} {rdata}")
    return "\n".join(lines) + "\n"
