"""The password-reset email (no health details), sent after the answer."""

from __future__ import annotations

import logging

from painpath.auth import service
from painpath.config import Settings
from painpath.kit.email import send_email

log = logging.getLogger("painpath.auth")

RESET_SENT = (
    "If an account uses this email address, we have sent it a link to reset the password. "
    "The link works once, for 30 minutes."
)


def link_base(settings: Settings) -> str:
    if settings.smtp_link_base:
        return settings.smtp_link_base.rstrip("/")
    host = "localhost" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}"


def send_reset_email(settings: Settings, mail: service.ResetMail | None) -> None:
    """Sent after the answer, so its timing does not tell whether the account exists."""
    if mail is None:
        return
    link = f"{link_base(settings)}/reset/{mail.token}"
    try:
        if not send_email(settings, mail.to, service.RESET_SUBJECT, service.reset_email_body(link)):
            log.warning("password reset email not sent: no SMTP server is configured")
    except Exception as exc:
        log.warning("password reset email not sent (%s)", type(exc).__name__)
