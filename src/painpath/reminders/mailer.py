"""Reminder emails over SMTP (``PAINPATH_SMTP_*``: host, port, sender, optional
STARTTLS or TLS, optional user name and password), in steps, so the worker can record
"handing over" in the database between the envelope and the message itself.

The message carries no health details (see ``domain.email_text``) and a Message-ID made
from the outbox row's id, so the same reminder always has the same Message-ID.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from types import TracebackType
from typing import Self

from painpath.config import Settings
from painpath.db import utcnow


class MailerError(Exception):
    """The message was not sent; ``permanent`` when trying again will not help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def link_base(settings: Settings) -> str:
    """The web address of PainPath for links in emails."""
    if settings.smtp_link_base:
        return settings.smtp_link_base.rstrip("/")
    host = "localhost" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}"


def sender_address(settings: Settings) -> str:
    return parseaddr(settings.smtp_sender)[1] or "no-reply@painpath.invalid"


def message_id(settings: Settings, reminder_id: object) -> str:
    domain = sender_address(settings).rpartition("@")[2] or "painpath.invalid"
    return f"<reminder.{reminder_id}@{domain}>"


def build_message(
    settings: Settings,
    *,
    to: str,
    subject: str,
    body: str,
    msg_id: str,
    unsubscribe_url: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = msg_id
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


class SmtpSession:
    """One connection to the mail server for a batch of messages."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def _tls(self) -> ssl.SSLContext:
        """Certificates are always verified (host name too): against the system's
        authorities, or those in PAINPATH_SMTP_CA_FILE."""
        ca = self.settings.smtp_ca_file
        return ssl.create_default_context(cafile=str(ca) if ca else None)

    def __enter__(self) -> Self:
        s = self.settings
        if not s.smtp_host:
            raise MailerError("no mail server is configured (PAINPATH_SMTP_HOST)")
        try:
            if s.smtp_ssl:
                self.smtp = smtplib.SMTP_SSL(
                    s.smtp_host,
                    s.smtp_port,
                    timeout=s.smtp_timeout_seconds,
                    context=self._tls(),
                )
            else:
                self.smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            self.smtp.ehlo()
            if s.smtp_starttls and not s.smtp_ssl:
                self.smtp.starttls(context=self._tls())
                self.smtp.ehlo()
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                self.smtp.login(s.smtp_username, password)
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise MailerError(f"the mail server refused the sign-in ({exc.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailerError(f"cannot reach the mail server: {type(exc).__name__}") from None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        self.smtp = None

    @property
    def connected(self) -> bool:
        return self.smtp is not None

    def _client(self) -> smtplib.SMTP:
        if self.smtp is None:
            raise MailerError("not connected to the mail server")
        return self.smtp

    def envelope(self, to: str) -> None:
        """MAIL FROM and RCPT TO. Nothing is delivered yet; errors are safe to retry
        (``permanent`` when the server refused for good)."""
        smtp = self._client()
        try:
            code, _ = smtp.mail(sender_address(self.settings))
            if code != 250:
                raise MailerError(
                    f"the mail server refused the sender ({code})", permanent=code >= 500
                )
            code, _ = smtp.rcpt(to)
            if code not in (250, 251):
                smtp.rset()
                raise MailerError(
                    f"the mail server refused the address ({code})", permanent=code >= 500
                )
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailerError(f"the connection failed: {type(exc).__name__}") from None

    def reset(self) -> None:
        try:
            self._client().rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def hand_over(self, message: EmailMessage) -> None:
        """DATA: the moment the mail server takes the message.

        Raises :class:`Refused` when the server answered with an error (the message was
        not taken), and :class:`Ambiguous` when the connection broke (it may have been).
        """
        smtp = self._client()
        try:
            code, _ = smtp.data(message.as_bytes())
            if code != 250:
                raise smtplib.SMTPDataError(code, b"")
        except smtplib.SMTPResponseException as exc:
            raise Refused(
                f"the mail server did not take the message ({exc.smtp_code})",
                permanent=exc.smtp_code >= 500,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.smtp = None
            raise Ambiguous(
                f"the connection broke while the message was handed over: {type(exc).__name__}"
            ) from None


class Refused(MailerError):
    """The server answered the message with an error code: it was not delivered."""


class Ambiguous(MailerError):
    """The connection broke during DATA: the message may or may not have been delivered."""
