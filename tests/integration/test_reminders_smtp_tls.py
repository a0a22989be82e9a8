"""Email over TLS with a sign-in, against a real local SMTP server (aiosmtpd): STARTTLS
and TLS from the start, the certificate verified against PAINPATH_SMTP_CA_FILE, the
password never sent in the clear, and a refused sign-in or an untrusted certificate
reported as a clear error (nothing is handed over)."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from painpath.config import Settings
from painpath.reminders.mailer import MailerError, SmtpSession
from tests.integration.test_reminders_worker import free_port

USER, PASSWORD = "painpath", "s3cret-relay-password"


@dataclass
class Relay:
    """What the server saw: the sign-ins (and whether TLS was on) and the messages."""

    logins: list[tuple[str, bool]] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        with self.lock:
            secure = bool(session.ssl) or server.transport.get_extra_info("ssl_object") is not None
            self.logins.append((data.login.decode(), secure))
        ok = data.login.decode() == USER and data.password.decode() == PASSWORD
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "relay.pem", folder / "relay.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture()
def starttls(certificate: tuple[Path, Path]) -> Iterator[tuple[Relay, int]]:
    relay, port = Relay(), free_port()
    controller = Controller(
        relay,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=relay.authenticate,
        auth_require_tls=True,
    )
    controller.start()
    yield relay, port
    controller.stop()


def settings(port: int, ca: Path | None, **extra: Any) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_sender="PainPath <reminders@painpath.example>",
        smtp_username=USER,
        smtp_password=SecretStr(PASSWORD),
        smtp_ca_file=ca,
        smtp_timeout_seconds=5,
        **extra,
    )


def message() -> EmailMessage:
    out = EmailMessage()
    out["From"] = "PainPath <reminders@painpath.example>"
    out["To"] = "someone@painpath.example"
    out["Subject"] = "You have something to see in PainPath"
    out.set_content("Open PainPath to see it.")
    return out


def send(config: Settings) -> None:
    with SmtpSession(config) as session:
        session.envelope("someone@painpath.example")
        session.hand_over(message())


def test_starttls_then_sign_in_then_the_message(
    starttls: tuple[Relay, int], certificate: tuple[Path, Path]
) -> None:
    relay, port = starttls
    send(settings(port, certificate[0], smtp_starttls=True))
    assert relay.logins == [(USER, True)]  # signed in only once TLS was on
    assert len(relay.messages) == 1 and b"something to see" in relay.messages[0]


def test_a_wrong_password_is_a_clear_error_and_nothing_is_sent(
    starttls: tuple[Relay, int], certificate: tuple[Path, Path]
) -> None:
    relay, port = starttls
    config = settings(port, certificate[0], smtp_starttls=True)
    config.smtp_password = SecretStr("wrong")
    with pytest.raises(MailerError, match=r"refused the sign-in \(535\)"):
        send(config)
    assert relay.messages == []


def test_without_starttls_the_password_is_never_sent_in_the_clear(
    starttls: tuple[Relay, int], certificate: tuple[Path, Path]
) -> None:
    relay, port = starttls
    with pytest.raises(MailerError):
        send(settings(port, certificate[0]))
    assert relay.logins == [] and relay.messages == []


def test_an_untrusted_certificate_is_refused(starttls: tuple[Relay, int], tmp_path: Path) -> None:
    relay, port = starttls
    with pytest.raises(MailerError, match="SSLCertVerificationError"):
        send(settings(port, None, smtp_starttls=True))  # the system's authorities only
    assert relay.logins == [] and relay.messages == []


def test_tls_from_the_start(certificate: tuple[Path, Path]) -> None:
    relay, port = Relay(), free_port()
    controller = Controller(
        relay,
        hostname="127.0.0.1",
        port=port,
        ssl_context=server_context(certificate),
        authenticator=relay.authenticate,
        auth_require_tls=False,  # the whole connection is TLS (aiosmtpd checks STARTTLS)
    )
    controller.start()
    try:
        send(settings(port, certificate[0], smtp_ssl=True))
    finally:
        controller.stop()
    assert relay.logins == [(USER, True)] and len(relay.messages) == 1
