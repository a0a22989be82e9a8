"""Settings, read from ``PAINPATH_*`` environment variables (pydantic-settings).

The embedded default, SQLite under ``PAINPATH_DATA_DIR`` (``./.painpath``),
needs no configuration at all.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from painpath.kit.errors import ConfigurationError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAINPATH_", extra="ignore")

    data_dir: Path = Field(default=Path(".painpath"))
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "PainPath <no-reply@painpath.invalid>"
    # Optional: STARTTLS on a plain connection, or TLS from the start (usually port 465).
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 10.0
    # Optional: a PEM file of the certificate authorities to trust for the mail server's
    # TLS certificate (a private relay); the system's own are used when it is not set.
    smtp_ca_file: Path | None = None
    # The web address put in emails' links (default: http://PAINPATH_HOST:PAINPATH_PORT).
    smtp_link_base: str | None = None
    # Cookies carry the Secure flag everywhere except plain-HTTP local development.
    secure_cookies: bool = False
    session_idle_minutes_clinician: int = 15
    session_idle_minutes_patient: int = 30
    session_absolute_hours: int = 12
    default_timezone: str = "Europe/London"
    log_level: str = "INFO"
    # Patients erase their own account (UK GDPR Art. 17). A provider whose clinical record
    # PainPath is part of turns this off: erasure is then an operator's task after the
    # Art. 17(3) exceptions are weighed (docs/gdpr.md).
    patient_erasure: bool = True

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'painpath.db').resolve()}"

    @property
    def backend(self) -> str:
        return "postgresql" if self.resolved_database_url.startswith("postgresql") else "sqlite"


def load_settings() -> Settings:
    return Settings()


def is_production() -> bool:
    return os.environ.get("PAINPATH_ENVIRONMENT", "").strip().lower() == "production"


def check_production_config(settings: Settings) -> None:
    """Refuse to start a production deployment that is not configured safely (C-4)."""
    if not is_production():
        return
    problems = []
    if not settings.secure_cookies:
        problems.append("PAINPATH_SECURE_COOKIES must be true (serve over HTTPS)")
    if problems:
        raise ConfigurationError("unsafe production configuration", problems)
