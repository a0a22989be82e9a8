"""Helpers shared by the ``painpath`` sub-commands: JSON out, clear errors, exit 2."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from pydantic import ValidationError

from painpath.config import Settings, load_settings
from painpath.kit.errors import InvalidInput, PainPathError


def emit(payload: Any) -> None:
    """Print a result as JSON on stdout (dates and decimals as strings)."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str, ensure_ascii=False) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    """Say what was wrong on stderr and exit with ``code`` (2 for bad input)."""
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)


def fail_from(error: PainPathError) -> NoReturn:
    """Report a PainPath error, naming each problem's field."""
    if isinstance(error, InvalidInput) and error.problems:
        details = "; ".join(f"{p.field}: {p.message}" for p in error.problems)
        if details != error.message and error.message not in details:
            fail(f"{error.message} ({details})")
        fail(details)
    fail(error.message)


def settings_or_fail() -> Settings:
    """The settings, or exit 2 naming each bad ``PAINPATH_`` variable and what it needs."""
    try:
        return load_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"PAINPATH_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        fail(f"bad configuration: {problems}")
