"""The hub's option for a public address: it serves https with the certificate it is given.

The command refuses an address other than 127.0.0.1 without a certificate, or a certificate
without its key, before anything is made. A real hub with a throwaway self-signed certificate
for 127.0.0.1 (:func:`self_signed`, openssl) is checked by :func:`served_with_the_certificate`:
that hub is the one tests/test_hub_continuous.py starts, so the check costs no hub start of its own.
"""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from hub.command import parse_args
from tests.test_hub import Hub


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, valid for a day (openssl)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["roster.toml", "--ip", "0.0.0.0"], "a public address needs TLS"),
        (["roster.toml", "--ssl-cert", "cert.pem"], "go together"),
        (["roster.toml", "--ssl-key", "key.pem", "--ip", "0.0.0.0"], "go together"),
    ],
)
def test_a_public_address_needs_a_certificate_and_its_key(
    argv: list[str], why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert why in capsys.readouterr().err


def test_a_certificate_and_its_key_open_any_address() -> None:
    args = parse_args(["roster.toml", "--ip", "0.0.0.0", "--ssl-cert", "cert.pem", "--ssl-key", "key.pem"])
    assert (args.ip, args.ssl_cert, args.ssl_key) == ("0.0.0.0", Path("cert.pem"), Path("key.pem"))


def served_with_the_certificate(hub: Hub, trusted: ssl.SSLContext) -> None:
    """A client that trusts the hub's certificate reaches the log-in page over https; one that trusts
    only the system's certificates is refused; plain http to the same port gets no page. (The hub of
    tests/test_hub_continuous.py is started with a certificate from :func:`self_signed` and checked
    with this, so one hub start serves both.)"""
    assert hub.url.startswith("https://127.0.0.1:")
    page = httpx.get(f"{hub.url}/hub/login", verify=trusted, timeout=10)
    assert page.status_code == 200 and 'name="password"' in page.text
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{hub.url}/hub/login", timeout=10)  # the system's certificates only
    plain = hub.url.replace("https://", "http://")
    try:
        answer: httpx.Response | None = httpx.get(f"{plain}/hub/login", timeout=10)
    except httpx.TransportError:
        answer = None  # the connection was closed
    assert answer is None or (answer.status_code == 400 and 'name="password"' not in answer.text)
