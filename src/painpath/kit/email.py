"""Sending email over SMTP (``PAINPATH_SMTP_*``). Bodies never carry health details."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from painpath.config import Settings

log = logging.getLogger("painpath.email")


def send_email(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send one message; False when no SMTP server is configured."""
    if not settings.smtp_host:
        return False
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)
    log.info("email sent")
    return True
