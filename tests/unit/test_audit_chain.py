from hypothesis import given
from hypothesis import strategies as st

from painpath.audit.domain import GENESIS, event_hash, verify_chain


def _chain(n: int) -> list[tuple[str, str, dict[str, object]]]:
    events = []
    prev = GENESIS
    for i in range(n):
        fields = {"action": "read", "resource_id": str(i)}
        digest = event_hash(prev, fields)
        events.append((prev, digest, fields))
        prev = digest
    return events


def test_an_intact_chain_verifies() -> None:
    assert verify_chain(_chain(20)) is None


@given(st.integers(min_value=0, max_value=19), st.sampled_from(["edit", "delete"]))
def test_any_single_edit_or_deletion_is_found(index: int, kind: str) -> None:
    events = _chain(20)
    if kind == "edit":
        prev, digest, fields = events[index]
        events[index] = (prev, digest, {**fields, "action": "update"})
        assert verify_chain(events) == index
    else:
        del events[index]
        # Removing the newest event leaves a valid shorter chain: truncation needs the
        # latest hash kept elsewhere. Any other deletion breaks the next link.
        assert verify_chain(events) == (index if index < 19 else None)
