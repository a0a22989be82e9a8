"""Structured logs: one JSON object per line, with the request id, and nothing personal.

- Log lines carry what happened (event, route template, status, duration, request id),
  never names, free text, answers, email addresses, passwords or tokens. Route
  *templates* (``/api/v1/patients/{patient_id}``) are logged, not paths, so ids and
  link tokens in URLs stay out too.
- Exceptions are logged as their type and stack frames (file, line, function) only:
  exception messages can carry data (a database error quotes the values it was given).
- JSON escapes CR/LF and control characters, so input cannot forge a log line.
- SQLAlchemy's statement logging (which includes parameters) is held at WARNING.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "painpath_request_id", default=None
)

# Attributes of a LogRecord that are not "extra" fields.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
# Extra fields that may be logged (anything else passed as ``extra`` is dropped).
ALLOWED_EXTRA = frozenset(
    {"event", "method", "route", "status", "duration_ms", "error", "outcome", "count", "exception"}
)
QUIET_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.orm")


def exception_summary(exc: BaseException) -> dict[str, Any]:
    """An exception as its type and stack frames, never its message (log it as the
    ``exception`` extra field instead of ``exc_info``, so no handler can print it)."""
    return _frames((type(exc), exc, exc.__traceback__))


def _frames(exc_info: Any) -> dict[str, Any]:
    kind, _value, tb = exc_info
    frames = [
        f"{frame.filename.rsplit('/site-packages/', 1)[-1]}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(tb)
    ]
    return {"type": getattr(kind, "__name__", str(kind)), "frames": frames[-15:]}


class JsonFormatter(logging.Formatter):
    """One JSON object per record; only allow-listed extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key in ALLOWED_EXTRA and key not in _STANDARD:
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = _frames(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=True)


class RedactExceptions(logging.Filter):
    """Replace a record's exception by its type and frames (no message), so that no
    handler or formatter can print what the exception quoted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            record.__dict__["exception"] = _frames(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        return True


_REDACT = RedactExceptions()


def configure(level: str = "INFO") -> None:
    """JSON on the process's log handlers (stderr when there are none); idempotent."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    for handler in root.handlers:
        if type(handler) is logging.StreamHandler:
            handler.setFormatter(JsonFormatter())
            if _REDACT not in handler.filters:
                handler.addFilter(_REDACT)
    # The server logs an exception that reached it ("Exception in ASGI application").
    for name in ("uvicorn.error", "painpath"):
        if _REDACT not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_REDACT)
    logging.getLogger("painpath").setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # PainPath writes its own access line (painpath.access) with the route template;
    # uvicorn's would carry the full path and query, where link tokens live.
    logging.getLogger("uvicorn.access").disabled = True
