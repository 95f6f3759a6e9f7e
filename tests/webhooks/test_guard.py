"""Webhook URLs into loopback, private or link-local space are refused unless allowed."""

from __future__ import annotations

import pytest

from cif.stream.webhooks import WebhookRefused, check_url, pinned, sign, verify


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9000/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost:5000/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_internal_destinations_are_refused(url: str) -> None:
    with pytest.raises(WebhookRefused, match="loopback/private/link-local"):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "http:///nohost", "https://user:pw@example.com/", "file:///etc"]
)
def test_bad_urls_are_refused_even_when_private_is_allowed(url: str) -> None:
    with pytest.raises(WebhookRefused):
        check_url(url, allow_private=True)


def test_public_address_literals_pass_without_a_lookup() -> None:
    assert check_url("https://93.184.216.34:8443/in", allow_private=False) == ["93.184.216.34"]


def test_pinning_keeps_the_host_name_for_http_and_tls() -> None:
    url, headers, ext = pinned("https://hooks.example.com:8443/a/b?x=1", "198.51.100.7")
    assert url == "https://198.51.100.7:8443/a/b?x=1"
    assert headers == {"Host": "hooks.example.com:8443"}
    assert ext == {"sni_hostname": "hooks.example.com"}
    url, headers, ext = pinned("http://hooks.example.com", "2001:db8::1")
    assert url == "http://[2001:db8::1]/" and headers == {"Host": "hooks.example.com"} and ext == {}


def test_signature_round_trip() -> None:
    sig = sign("k", b'{"a":1}')
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify("k", b'{"a":1}', sig)
    assert not verify("k", b'{"a":2}', sig) and not verify("other", b'{"a":1}', sig)
