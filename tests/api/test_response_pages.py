"""The response pages as HTML, on both databases: what each role sees, free text escaped,
and a bad assessment window re-rendered with a message instead of a JSON error."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from painpath.care.models import OtherMedicine
from tests.api.conftest import Cast
from tests.api.test_response_api import TODAY, login, rclient, seed_course

__all__ = ["rclient"]

HTML = {"accept": "text/html"}


def test_my_result_in_plain_words_with_the_chart_and_the_evidence(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=TODAY - timedelta(days=70),
        baseline=[7, 8] * 7,
        recent=[4, 5] * 7,
    )
    headers = {**login(rclient, cast.patient_a), **HTML}
    page = rclient.get("/my-result", headers=headers)
    assert page.status_code == 200
    text = page.text
    assert "Your average pain has gone from 7.5 to 4.5, a 40% reduction." in text
    assert "A moderate improvement" in text
    assert "In the trials, about 60 in 100 people on duloxetine" in text
    assert "You did." in text
    chart = f"/api/v1/patients/{cast.patient_a.patient_id}/prescriptions/{course.prescription_id}"
    assert f'<img src="{chart}/response/chart.svg" alt="Chart of your daily pain' in text
    assert "NG59" in text and "off-label" in text
    assert '<a href="/my-result" aria-current="page">My result</a>' in text
    assert 'href="/my-data"' in text and 'href="/evidence"' in text
    # the result at each review point passed so far, in plain words (days 22-35 are 5s;
    # days 50-63 are 5s then the first eight recent scores: mean 4.71)
    words = " ".join(text.split())
    assert "your average pain over the 2 weeks before it was 5.0, 33% lower than" in words
    assert "your average pain over the 2 weeks before it was 4.7, 37% lower than" in words
    assert words.count("At the 12-week point") == 0


def test_free_text_in_a_caveat_is_escaped_on_every_page(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=TODAY - timedelta(days=40),
        baseline=[7] * 14,
        recent=[4] * 14,
    )
    assert cast.patient_a.patient_id
    with session_factory() as db:
        db.add(
            OtherMedicine(
                id=uuid.uuid4(),
                patient_id=cast.patient_a.patient_id,
                name='<script>alert("x")</script>',
                started_on=TODAY - timedelta(days=5),
                is_pain_medicine=True,
            )
        )
        db.commit()
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    patient = rclient.get("/my-result", headers={**login(rclient, cast.patient_a), **HTML})
    assert escaped in patient.text and "<script>alert" not in patient.text
    gp = rclient.get(
        f"/patients/{cast.patient_a.patient_id}/response/{course.prescription_id}",
        headers={**login(rclient, cast.gp), **HTML},
    )
    assert gp.status_code == 200
    assert escaped in gp.text and "<script>alert" not in gp.text


def test_the_clinician_sees_the_compact_summary_and_can_choose_a_window(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    start = TODAY - timedelta(days=60)
    course = seed_course(
        session_factory, cast.patient_a, cast.gp, start=start, baseline=[8] * 14, recent=[2] * 14
    )
    headers = {**login(rclient, cast.gp), **HTML}
    listing = rclient.get(f"/patients/{cast.patient_a.patient_id}/response", headers=headers)
    link = f"/patients/{cast.patient_a.patient_id}/response/{course.prescription_id}"
    assert f'href="{link}"' in listing.text and "substantial" in listing.text
    page = rclient.get(link, headers=headers)
    assert "Mean NRS 8.00 → 2.00" in page.text
    assert "IMMPACT: substantial" in page.text
    # the 4-week point (days 22-35, all 5s) has its own result; the 8-week one is ahead
    compact = " ".join(page.text.split())
    assert "Result at each review point" in compact
    assert (
        '<th scope="row">4 weeks</th><td>' + (start + timedelta(days=35)).isoformat() + "</td>"
        " <td>14</td><td>5.00</td> <td>-37.5%</td><td>moderate</td>"
    ) in compact
    assert '<th scope="row">8 weeks</th>' in compact and "not reached yet" in compact
    bad = rclient.get(link, params={"assess_from": "2025-02-30", "assess_to": ""}, headers=headers)
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text and "enter a real date" in bad.text
    assert "Mean NRS 8.00 → 2.00" in bad.text  # still shows the default result
    early = rclient.get(
        link,
        params={
            "assess_from": (start - timedelta(days=1)).isoformat(),
            "assess_to": start.isoformat(),
        },
        headers=headers,
    )
    assert early.status_code == 422
    assert "must start on or after the treatment start" in early.text
    chosen = rclient.get(
        link,
        params={
            "assess_from": (start + timedelta(days=20)).isoformat(),
            "assess_to": (start + timedelta(days=33)).isoformat(),
        },
        headers=headers,
    )
    assert chosen.status_code == 200 and "Mean NRS 8.00 → 5.00" in chosen.text


def test_pages_for_the_wrong_role_or_patient(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    course = seed_course(
        session_factory,
        cast.patient_a,
        cast.gp,
        start=TODAY - timedelta(days=40),
        baseline=[7] * 14,
        recent=[4] * 14,
    )
    other = {**login(rclient, cast.other_gp), **HTML}
    page = rclient.get(
        f"/patients/{cast.patient_a.patient_id}/response/{course.prescription_id}", headers=other
    )
    assert page.status_code == 404
    gp = {**login(rclient, cast.gp), **HTML}
    assert rclient.get("/my-result", headers=gp, follow_redirects=False).status_code == 303
    evidence = rclient.get("/evidence", headers=gp)
    assert evidence.status_code == 200
    assert '<img src="/api/v1/evidence/forest.svg?method=REML" alt="Forest plot of' in evidence.text
    admin = {**login(rclient, cast.admin), **HTML}
    assert rclient.get("/evidence", headers=admin, follow_redirects=False).status_code == 303


def test_my_data_has_the_chart_and_the_same_figures_as_tables(
    rclient: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    start = TODAY - timedelta(days=30)
    seed_course(
        session_factory, cast.patient_a, cast.gp, start=start, baseline=[7] * 14, recent=[4] * 14
    )
    page = rclient.get("/my-data", headers={**login(rclient, cast.patient_a), **HTML})
    assert page.status_code == 200
    assert f'<img src="/api/v1/patients/{cast.patient_a.patient_id}/my-data/chart.svg"' in page.text
    assert "<caption>Your medicine's daily dose, from each date</caption>" in page.text
    assert "<td>60 mg</td>" in page.text
    assert "Show all 44 pain scores" in page.text
