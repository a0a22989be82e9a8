"""Running the Alembic migrations shipped inside the package."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("painpath") / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    """The schema revision this code needs (several joined by '+' while branches exist)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = sorted(script.get_heads())
    return "+".join(heads) if heads else None


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        heads = sorted(MigrationContext.configure(conn).get_current_heads())
    return "+".join(heads) if heads else None
