"""Errors a person can act on.

Domain code raises :class:`InvalidInput` (bad data, 422), services raise
:class:`NotFound` (404, also used for records the actor may not see),
:class:`Conflict` (409), :class:`Forbidden` (403) and the concurrency errors.
Routes turn them into responses that say what was wrong and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (``field``) and why (``message``)."""

    field: str
    message: str


class PainPathError(Exception):
    """Base class of every error PainPath reports to a person."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(PainPathError):
    """The input cannot be used; each problem names the field and the reason."""

    status = 422

    def __init__(
        self, message: str, problems: list[Problem] | None = None, *, field: str = ""
    ) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])
        if field and not self.problems:
            self.problems.append(Problem(field=field, message=message))


class NotFound(PainPathError):
    status = 404


class Forbidden(PainPathError):
    status = 403


class Conflict(PainPathError):
    status = 409


class PreconditionFailed(PainPathError):
    status = 412


class PreconditionRequired(PainPathError):
    status = 428


class Unauthorized(PainPathError):
    status = 401


@dataclass
class ConfigurationError(Exception):
    """Start-up cannot continue; ``message`` is the one line shown to the operator."""

    message: str
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message
