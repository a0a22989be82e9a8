"""The whole numbers typed into the pages' forms (clinical facts, blood pressure, the
questionnaire schedule): one rule for what can be used."""

from __future__ import annotations

import pytest

from painpath.kit.routes import whole_number


@pytest.mark.parametrize(
    ("text", "required", "expected"),
    [
        ("", False, (None, True)),  # left empty: nothing to store
        ("  ", False, (None, True)),
        ("", True, (None, False)),  # but a required one must be given
        ("1", False, (1, True)),
        (" 365 ", False, (365, True)),
        ("0", False, (None, False)),  # below the range
        ("366", False, (None, False)),  # above it
        ("12.5", False, (None, False)),
        ("-3", False, (None, False)),
        ("twelve", False, (None, False)),
        ("١٢", False, (12, True)),  # the digits of another script are a number too
        ("²", False, (None, False)),  # a superscript is not (it used to fail as a 500)
    ],
)
def test_whole_number(text: str, required: bool, expected: tuple[int | None, bool]) -> None:
    assert whole_number(text, 1, 365, required=required) == expected
