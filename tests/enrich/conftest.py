"""A real DNS server on 127.0.0.1 and real .mmdb files for the enrichment tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from cif.enrich.mmdb_writer import write_mmdb

ZONE: dict[tuple[str, str], list[str]] = {
    ("evil.badsite.xyz.", "A"): ["45.33.1.10", "45.33.1.11"],
    ("evil.badsite.xyz.", "AAAA"): ["2a01:4f8::10"],
    ("evil.badsite.xyz.", "NS"): ["ns1.dnshost.xyz."],
    ("evil.badsite.xyz.", "MX"): ["10 mail.dnshost.xyz."],
    ("www.bad.otherbad.top.", "CNAME"): ["bad.otherbad.top."],
    ("bad.otherbad.top.", "A"): ["46.4.5.7"],
}
SLOW = "slow.badsite.xyz."  # the server never answers this one


class LoopbackDNS:
    """Answers from ZONE over UDP; NXDOMAIN for names it does not know."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.questions: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            q = dns.message.from_wire(wire)
            name = q.question[0].name.to_text().lower()
            rtype = dns.rdatatype.to_text(q.question[0].rdtype)
            self.questions.append((name, rtype))
            if name == SLOW:
                continue
            r = dns.message.make_response(q)
            r.flags |= dns.flags.AA
            known = {n for n, _ in ZONE}
            if name not in known:
                r.set_rcode(dns.rcode.NXDOMAIN)
            elif (name, rtype) in ZONE:
                r.answer.append(
                    dns.rrset.from_text_list(name, 300, "IN", rtype, ZONE[(name, rtype)])
                )
            self.sock.sendto(r.to_wire(), addr)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def dns_server() -> Iterator[LoopbackDNS]:
    srv = LoopbackDNS()
    time.sleep(0.01)
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def mmdb_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    d = tmp_path_factory.mktemp("mmdb")
    asn = write_mmdb(
        d / "asn.mmdb",
        [
            (
                "45.33.1.0/24",
                {
                    "autonomous_system_number": 64500,
                    "autonomous_system_organization": "Example Hosting",
                },
            ),
            (
                "46.4.5.0/24",
                {"autonomous_system_number": 64501, "autonomous_system_organization": "Doc Net"},
            ),
            (
                "2a01:4f8::/32",
                {"autonomous_system_number": 64502, "autonomous_system_organization": "V6 Net"},
            ),
        ],
        database_type="GeoLite2-ASN",
    )
    country = write_mmdb(
        d / "country.mmdb",
        [
            ("45.33.1.0/24", {"country": {"iso_code": "NL", "names": {"en": "Netherlands"}}}),
            ("46.4.5.0/25", {"registered_country": {"iso_code": "DE"}}),
            ("2a01:4f8::/32", {"country": {"iso_code": "US"}}),
        ],
        database_type="GeoLite2-Country",
    )
    return str(asn), str(country)
