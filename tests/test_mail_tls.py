"""TLS to the mail server verifies its certificate: a real aiosmtpd server speaking implicit TLS
(SMTPS) or STARTTLS, with a certificate issued here by a throwaway authority, is refused when
that authority is not trusted and accepted when ``D06_SMTP_CA_FILE`` names it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from conftest import environment
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ingest.config import SmtpSettings
from ingest.reporting import mailer
from ingest.reporting.mailer import ReportDeliveryError, TlsSettings, build_message, deliver, tls_settings
from ingest.reporting.smtp_sink import _WriteEml

TO = "stp@angiang.d06.example"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, and a certificate it issues for 127.0.0.1 and localhost (valid for a day)."""
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Thử nghiệm D06 CA"))
        .issuer_name(_name("Thử nghiệm D06 CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_context(pki: dict[str, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki["cert"], pki["key"])
    return ctx


@contextlib.contextmanager
def _serving(mode: str, pki: dict[str, Path], outbox: Path) -> Iterator[int]:
    """A real SMTP server speaking implicit TLS (``ssl``) or requiring STARTTLS; yields its port."""
    port = _free_port()
    ctx = _server_context(pki)
    options = {"ssl_context": ctx} if mode == "ssl" else {"tls_context": ctx, "require_starttls": True}
    server = Controller(_WriteEml(outbox), hostname="127.0.0.1", port=port, **options)  # type: ignore[arg-type]
    server.start()
    try:
        yield port
    finally:
        server.stop()


@pytest.fixture(params=["ssl", "starttls"])
def tls_server(request: pytest.FixtureRequest, pki: dict[str, Path], tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    """Each kind of TLS server in turn: its mode, port and outbox."""
    with _serving(request.param, pki, tmp_path) as port:
        yield request.param, port, tmp_path


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mailer, "RETRY_DELAYS", (0.01, 0.01))


def _send(port: int, tls: TlsSettings) -> None:
    settings = SmtpSettings("127.0.0.1", port, None, None, False, "bao-cao@d06.example")
    msg = build_message(subject="Thử TLS", html=None, text="Nội dung", sender=settings.sender, to=[TO], dedupe_key="k1")
    deliver(msg, settings, tls=tls)


def test_an_untrusted_certificate_is_refused(tls_server: tuple[str, int, Path]) -> None:
    mode, port, outbox = tls_server
    with pytest.raises(ReportDeliveryError, match="CERTIFICATE_VERIFY_FAILED") as caught:
        _send(port, TlsSettings(mode))
    assert "attempt 1 of 3" in str(caught.value), "a certificate that does not verify is not tried again"
    assert not list(outbox.glob("*.eml"))


def test_the_certificate_is_accepted_with_the_ca_file(tls_server: tuple[str, int, Path], pki: dict[str, Path]) -> None:
    mode, port, outbox = tls_server
    with environment(D06_SMTP_TLS=mode, D06_SMTP_CA_FILE=str(pki["ca"])):
        tls = tls_settings()
    assert tls == TlsSettings(mode, str(pki["ca"]))
    _send(port, tls)
    (eml,) = outbox.glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert str(msg["To"]) == TO and str(msg["X-D06-Dedupe-Key"]) == "k1"


def test_a_server_requiring_starttls_refuses_plain_text(pki: dict[str, Path], tmp_path: Path) -> None:
    with _serving("starttls", pki, tmp_path) as port, pytest.raises(ReportDeliveryError, match="530"):
        _send(port, TlsSettings("none"))
    assert not list(tmp_path.glob("*.eml"))


def test_tls_settings_from_the_environment(tmp_path: Path) -> None:
    with environment(D06_SMTP_TLS="", D06_SMTP_CA_FILE=""):
        assert tls_settings(SmtpSettings("h", 25, None, None, True, "a@b")) == TlsSettings("starttls", None)
        assert tls_settings(SmtpSettings("h", 25, None, None, False, "a@b")) == TlsSettings("none", None)
    with environment(D06_SMTP_TLS="tls13"), pytest.raises(Exception, match="D06_SMTP_TLS"):
        tls_settings()
    with (
        environment(D06_SMTP_TLS="ssl", D06_SMTP_CA_FILE=str(tmp_path / "absent.pem")),
        pytest.raises(Exception, match="D06_SMTP_CA_FILE"),
    ):
        tls_settings()
