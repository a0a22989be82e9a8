"""The audit hash chain (pure): each event's hash covers its fields and the previous hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

GENESIS = "0" * 64


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    payload = json.dumps(dict(fields), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def verify_chain(events: Iterable[tuple[str, str, Mapping[str, Any]]]) -> int | None:
    """Given (prev_hash, hash, fields) in order, return the index of the first broken link."""
    expected_prev = GENESIS
    for index, (prev_hash, digest, fields) in enumerate(events):
        if prev_hash != expected_prev or event_hash(prev_hash, fields) != digest:
            return index
        expected_prev = digest
    return None
