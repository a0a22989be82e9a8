"""Keyset pagination: an opaque cursor and the ``{"items", "next"}`` page shape."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from painpath.kit.errors import InvalidInput, Problem

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def decode_cursor(cursor: str | None) -> str | None:
    """The text of a cursor made by :func:`encode_cursor`; anything else is an
    InvalidInput (never a server error), including text outside the base64url alphabet,
    which the decoder would otherwise skip silently."""
    if not cursor:
        return None
    invalid = InvalidInput(
        "the cursor is not valid", [Problem("cursor", "use the 'next' link as given")]
    )
    if not CURSOR_TEXT.fullmatch(cursor):
        raise invalid
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    if not text:
        raise invalid
    return text


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}",
            [Problem("limit", f"use a number from 1 to {MAX_LIMIT}")],
        )
    return limit


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
