"""The Learn pages say what the evidence says, with their sources (hazard H-10)."""

from __future__ import annotations

import re

from painpath.learn.domain import TOPICS, topic


def _text(slug: str) -> str:
    found = topic(slug)
    assert found is not None, slug
    return " ".join(p for s in found.sections for p in s.paragraphs)


def test_duloxetine_is_off_label_for_back_pain_and_nice_advises_against_it() -> None:
    text = _text("duloxetine")
    assert "'off-label'" in text
    assert "NICE, which writes guidance for the NHS, advises against" in text
    assert "licensed for nerve pain caused by diabetes, but not for back pain" in text
    sources = " ".join(t for t in (topic("duloxetine") or TOPICS[0]).sources)
    assert "NICE NG59" in sources and "off-label" in sources


def test_no_page_presents_duloxetine_as_recommended_and_every_page_has_sources() -> None:
    for t in TOPICS:
        text = " ".join(p for s in t.sections for p in s.paragraphs)
        assert not re.search(r"NICE[- ]recommended|NICE recommends duloxetine", text), t.slug
        assert t.sources, f"{t.slug} names no source"
