"""Small helpers for JSON routes: list links and the standard error responses."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Header, Query, Request

FromDate = Annotated[
    date | None, Query(alias="from", description="first date to include (YYYY-MM-DD)")
]
ToDate = Annotated[date | None, Query(alias="to", description="last date to include (YYYY-MM-DD)")]
Cursor = Annotated[str | None, Query(max_length=200, description="from the 'next' link")]
Limit = Annotated[int, Query(ge=1, le=100, description="items per page")]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Signed in, but this role may not do this"},
    404: {"description": "No such patient or record (or not yours to see)"},
    409: {"description": "Clashes with a stored record"},
    422: {"description": "The input cannot be used; each error names the field"},
}

CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    412: {"description": "Changed by someone else since you read it: reload and try again"},
    428: {"description": "Send the ETag from GET in If-Match"},
}
"""A change that needs the record's ETag in If-Match (optimistic concurrency)."""

IfMatch = Annotated[
    str | None,
    Header(description="the ETag from the record's GET; required (428 without, 412 if stale)"),
]


def next_link(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return str(request.url.include_query_params(cursor=cursor))


def whole_number(
    text: str, low: int, high: int, *, required: bool = False
) -> tuple[int | None, bool]:
    """A whole number typed into a page's form: (the number, or None when it was left
    empty or cannot be used; whether it can be used: digits only, from ``low`` to
    ``high``, and given when ``required``). The page names the field in its own words."""
    text = text.strip()
    if not text:
        return None, not required
    if not text.isdecimal():  # not isdigit: "²" is a digit that int() refuses
        return None, False
    number = int(text)
    return (number, True) if low <= number <= high else (None, False)
