"""The `cif normalize` contract: one JSON object per value, errors as data, exit 0."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from cif.cli.app import app
from cif.indicator.describe import describe

runner = CliRunner()


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_values_as_arguments() -> None:
    r = runner.invoke(app, ["normalize", "1.2.3.4", "hxxp://Evil[.]co.uk/x", "foo.notatld"])
    assert r.exit_code == 0, r.output
    assert _lines(r.output) == [
        {"input": "1.2.3.4", "indicator": "1.2.3.4", "itype": "ipv4", "flags": []},
        {
            "input": "hxxp://Evil[.]co.uk/x",
            "indicator": "http://evil.co.uk/x",
            "itype": "url",
            "flags": [],
            "registered_domain": "evil.co.uk",
        },
        {"input": "foo.notatld", "error": "'foo.notatld': 'notatld' is not a public suffix"},
    ]


def test_stdin_lines_skip_blanks() -> None:
    r = runner.invoke(app, ["normalize"], input="10.0.0.1\n\n   \nUser@Mail.Example.com\r\n")
    assert r.exit_code == 0, r.output
    assert _lines(r.output) == [
        {"input": "10.0.0.1", "indicator": "10.0.0.1", "itype": "ipv4", "flags": ["private"]},
        {
            "input": "User@Mail.Example.com",
            "indicator": "user@mail.example.com",
            "itype": "email",
            "flags": ["documentation"],
            "registered_domain": "example.com",
        },
    ]


def test_itype_option() -> None:
    r = runner.invoke(app, ["normalize", "--itype", "asn", "15169", "AS1"])
    assert r.exit_code == 0
    assert [d["indicator"] for d in _lines(r.output)] == ["AS15169", "AS1"]
    r = runner.invoke(app, ["normalize", "--itype", "ipv4", "10.0.0.0/8"])
    assert r.exit_code == 0
    assert _lines(r.output) == [
        {"input": "10.0.0.0/8", "error": "'10.0.0.0/8': it is an ipv4_cidr, not an ipv4"}
    ]


def test_unknown_itype_is_a_usage_error() -> None:
    r = runner.invoke(app, ["normalize", "--itype", "ip", "1.2.3.4"])
    assert r.exit_code == 2
    assert "ip" in r.output


def test_fqdn_without_registered_domain_has_no_key() -> None:
    assert describe("co.uk") == {
        "input": "co.uk",
        "indicator": "co.uk",
        "itype": "fqdn",
        "flags": [],
    }
    assert "registered_domain" not in describe("http://1.2.3.4/")


def test_subprocess_with_stdin() -> None:
    code = "import sys; from cif.cli import main; sys.argv = ['cif', 'normalize']; main()"
    p = subprocess.run(
        [sys.executable, "-c", code],
        input="hxxps://bücher[.]de/a b\n\n2001:DB8::1\n300.1.1.1\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert _lines(p.stdout) == [
        {
            "input": "hxxps://bücher[.]de/a b",
            "indicator": "https://xn--bcher-kva.de/a%20b",
            "itype": "url",
            "flags": [],
            "registered_domain": "xn--bcher-kva.de",
        },
        {
            "input": "2001:DB8::1",
            "indicator": "2001:db8::1",
            "itype": "ipv6",
            "flags": ["documentation"],
        },
        {"input": "300.1.1.1", "error": "'300.1.1.1': octet 300 is out of range"},
    ]
