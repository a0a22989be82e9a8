"""Questionnaire responses through the API: scored by the server exactly as the CLI
scores them, stored once, never changed, and acted on at once."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from painpath.alerts.models import Alert
from painpath.questionnaires.cli import app as instruments_cli
from tests.api.conftest import Cast, login

PHQ9_ITEM9 = [1, 2, 1, 0, 1, 0, 1, 0, 2]  # total 8, mild, item 9 = 2
CLI = CliRunner()


def url(cast: Cast, who: str = "a") -> str:
    patient = cast.patient_a if who == "a" else cast.patient_b
    return f"/api/v1/patients/{patient.patient_id}/questionnaire-responses"


def cli_score(code: str, answers: list[int]) -> dict[str, Any]:
    result = CLI.invoke(
        instruments_cli, ["score", code, "--answers", ",".join(str(a) for a in answers)]
    )
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def send(
    client: TestClient, cast: Cast, headers: dict[str, str], code: str, answers: list[Any]
) -> Any:
    body = {"id": str(uuid.uuid4()), "instrument": code, "answers": answers}
    return client.post(url(cast), json=body, headers=headers)


def alerts(factory: sessionmaker[Session], cast: Cast) -> list[Alert]:
    with factory() as db:
        return list(
            db.scalars(select(Alert).where(Alert.patient_id == cast.patient_a.patient_id)).all()
        )


@pytest.mark.parametrize(
    ("code", "answers"),
    [
        ("phq9", [3, 3, 2, 2, 1, 1, 1, 1, 0]),
        ("gad7", [3, 3, 3, 3, 3, 0, 0]),
        ("peg", [7, 5, 4]),
        ("rmdq", [1, 0] * 12),
        ("startback", [1, 0, 1, 1, 1, 1, 1, 0, 3]),
        ("pgic", [1]),
        ("nrs", [6, 8, 5]),
        ("sleep", [4]),
        ("redflags", [0] * 20),
    ],
)
def test_the_stored_score_is_the_one_the_cli_gives(
    client: TestClient, cast: Cast, code: str, answers: list[int]
) -> None:
    headers = login(client, cast.patient_a)
    created = send(client, cast, headers, code, answers)
    assert created.status_code == 201, created.text
    body = created.json()
    expected = cli_score(code, answers)
    for key in ("instrument", "total", "band", "subscales", "flags"):
        assert body[key] == expected[key], key
        assert type(body[key]) is type(expected[key]), key
    assert body["answers"] == answers
    assert body["advice"] == []
    # and it reads back the same from the list
    listed = client.get(url(cast), params={"instrument": code}, headers=headers).json()["items"]
    assert [(i["id"], i["total"], i["band"]) for i in listed] == [
        (body["id"], expected["total"], expected["band"])
    ]


def test_a_total_sent_by_the_client_is_ignored(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    body = {
        "id": str(uuid.uuid4()),
        "instrument": "phq9",
        "answers": [0, 0, 0, 0, 0, 0, 0, 0, 0],
        "total": 27,
        "band": "severe",
        "flags": ["self-harm"],
    }
    created = client.post(url(cast), json=body, headers=headers)
    assert created.status_code == 201, created.text
    stored = created.json()
    assert (stored["total"], stored["band"], stored["flags"]) == (0, "none-minimal", [])
    fetched = client.get(f"{url(cast)}/{body['id']}", headers=headers).json()
    assert fetched["total"] == 0


def test_a_retry_is_stored_once_and_another_body_with_the_same_id_is_refused(
    client: TestClient, cast: Cast
) -> None:
    headers = login(client, cast.patient_a)
    body = {"id": str(uuid.uuid4()), "instrument": "peg", "answers": [6, 5, 5]}
    first = client.post(url(cast), json=body, headers=headers)
    assert first.status_code == 201
    again = client.post(url(cast), json=body, headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["total"] == 5.3
    changed = client.post(url(cast), json={**body, "answers": [1, 1, 1]}, headers=headers)
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "id"
    items = client.get(url(cast), headers=headers).json()["items"]
    assert [(i["id"], i["answers"]) for i in items] == [(body["id"], [6, 5, 5])]


def test_responses_cannot_be_changed_or_deleted(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    created = send(client, cast, headers, "gad7", [1, 1, 1, 1, 1, 1, 1]).json()
    item = f"{url(cast)}/{created['id']}"
    for method in ("PUT", "PATCH", "DELETE"):
        response = client.request(method, item, json={"answers": [0] * 7}, headers=headers)
        assert response.status_code == 405, method
    assert client.get(item, headers=headers).json()["answers"] == [1] * 7


@pytest.mark.parametrize(
    ("answers", "field", "words"),
    [
        ([0, 1, 2, 3, 4, 0, 0, 0, 0], "answers[4]", "item 5 (Poor appetite or overeating)"),
        ([0, 1, 2, 3, "often", 0, 0, 0, 0], "answers[4]", "is not a whole number"),
        ([0, 1, 2, 3, None, 0, 0, 0, 0], "answers[4]", "has no answer"),
        ([0, 1, 2, 3, 1.5, 0, 0, 0, 0], "answers[4]", "is not a whole number"),
        ([0, 1, 2], "answers", "the first one missing is item 4"),
    ],
)
def test_invalid_answers_are_a_422_that_names_the_item(
    client: TestClient, cast: Cast, answers: list[Any], field: str, words: str
) -> None:
    headers = login(client, cast.patient_a)
    response = send(client, cast, headers, "phq9", answers)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors[0]["field"] == field
    assert words in errors[0]["message"]
    if field != "answers":
        assert "allowed values: 0 (Not at all), 1 (Several days)" in errors[0]["message"]
    assert client.get(url(cast), headers=headers).json()["items"] == []


def test_an_unknown_instrument_is_a_422_on_the_instrument(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    response = send(client, cast, headers, "bdi", [0])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "instrument"


def test_item_9_above_0_raises_one_urgent_alert_even_when_sent_twice(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    headers = login(client, cast.patient_a)
    body = {"id": str(uuid.uuid4()), "instrument": "phq9", "answers": PHQ9_ITEM9}
    first = client.post(url(cast), json=body, headers=headers)
    assert first.status_code == 201, first.text
    stored = first.json()
    assert stored["flags"] == ["self-harm"]
    advice = stored["advice"]
    assert [a["flag"] for a in advice] == ["self-harm"]
    assert "Samaritans free on 116 123" in advice[0]["text"]
    assert "999" in advice[0]["text"] and "A&E" in advice[0]["text"]
    again = client.post(url(cast), json=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["advice"] == advice
    raised = alerts(session_factory, cast)
    assert [(a.rule, a.urgency, a.cause_key, a.status) for a in raised] == [
        ("phq9-item9", "urgent", f"phq9-item9:{body['id']}", "open")
    ]
    # a second, separate PHQ-9 with item 9 above 0 is a new cause: a second alert
    assert send(client, cast, headers, "phq9", PHQ9_ITEM9).status_code == 201
    assert len(alerts(session_factory, cast)) == 2


def test_cauda_equina_signs_raise_an_emergency_and_say_go_to_a_and_e(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    headers = login(client, cast.patient_a)
    answers = [0, 0, 1] + [0] * 4 + [1] + [0] * 12  # urinary sign and a history of cancer
    response = send(client, cast, headers, "redflags", answers)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["band"] == "emergency"
    assert [a["flag"] for a in stored["advice"]] == ["cauda-equina"]
    assert "Go to A&E now, or call 999" in stored["advice"][0]["text"]
    raised = alerts(session_factory, cast)
    assert [(a.rule, a.urgency, a.cause_key) for a in raised] == [
        ("red-flag-cauda-equina", "emergency", f"red-flag-cauda-equina:{stored['id']}")
    ]
    assert "possible cauda equina syndrome" in raised[0].summary


def test_other_red_flags_raise_an_urgent_alert(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    headers = login(client, cast.patient_a)
    answers = [0] * 12 + [1] + [0] * 7  # fever
    stored = send(client, cast, headers, "redflags", answers).json()
    assert stored["band"] == "urgent"
    assert [a["flag"] for a in stored["advice"]] == ["red-flag"]
    assert "Contact your GP practice" in stored["advice"][0]["text"]
    raised = alerts(session_factory, cast)
    assert [(a.rule, a.urgency) for a in raised] == [("red-flag", "urgent")]


def test_no_alert_without_a_flag(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    headers = login(client, cast.patient_a)
    assert send(client, cast, headers, "phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0]).status_code == 201
    assert send(client, cast, headers, "redflags", [0] * 20).status_code == 201
    assert alerts(session_factory, cast) == []


def test_another_patients_responses_are_not_found(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    b_headers = login(client, cast.patient_b)
    mine = send(client, cast, b_headers, "gad7", [0] * 7)
    assert mine.status_code == 404
    headers = login(client, cast.patient_a)
    created = send(client, cast, headers, "phq9", PHQ9_ITEM9).json()
    b_headers = login(client, cast.patient_b)
    assert client.get(url(cast), headers=b_headers).status_code == 404
    assert client.get(f"{url(cast)}/{created['id']}", headers=b_headers).status_code == 404
    body = {"id": str(uuid.uuid4()), "instrument": "phq9", "answers": PHQ9_ITEM9}
    assert client.post(url(cast), json=body, headers=b_headers).status_code == 404
    # B's own list does not show A's response
    assert client.get(url(cast, "b"), headers=b_headers).json()["items"] == []
    # A's response id cannot be fetched through B's own record either
    own = f"{url(cast, 'b')}/{created['id']}"
    assert client.get(own, headers=b_headers).status_code == 404
    assert len(alerts(session_factory, cast)) == 1


def test_a_clinician_in_the_care_team_can_read_but_not_submit(
    client: TestClient, cast: Cast
) -> None:
    headers = login(client, cast.patient_a)
    created = send(client, cast, headers, "phq9", [1] * 8 + [0]).json()
    gp = login(client, cast.gp)
    listed = client.get(url(cast), headers=gp)
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()["items"]] == [created["id"]]
    assert client.get(f"{url(cast)}/{created['id']}", headers=gp).json()["total"] == 8
    refused = send(client, cast, gp, "phq9", [0] * 9)
    assert refused.status_code == 403
    other = login(client, cast.other_gp)
    assert client.get(url(cast), headers=other).status_code == 404
    assert send(client, cast, other, "phq9", [0] * 9).status_code == 404


def test_the_list_filters_by_date_and_instrument_and_pages(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    ids = [send(client, cast, headers, "peg", [i, i, i]).json()["id"] for i in range(3)]
    ids.append(send(client, cast, headers, "gad7", [0] * 7).json()["id"])
    page = client.get(url(cast), params={"limit": 2}, headers=headers).json()
    assert [i["id"] for i in page["items"]] == ids[:2]
    assert page["next"]
    rest = client.get(page["next"], headers=headers).json()
    assert [i["id"] for i in rest["items"]] == ids[2:]
    assert rest["next"] is None
    only_peg = client.get(url(cast), params={"instrument": "peg"}, headers=headers).json()
    assert [i["id"] for i in only_peg["items"]] == ids[:3]
    today = only_peg["items"][0]["completed_at"][:10]
    window = client.get(
        url(cast), params={"from": "2000-01-01", "to": "2000-12-31"}, headers=headers
    )
    assert window.json()["items"] == []
    assert client.get(url(cast), params={"from": "2000-01-01"}, headers=headers).json()["items"]
    bad = client.get(url(cast), params={"from": today, "to": "2000-01-01"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "from"
    unknown = client.get(url(cast), params={"instrument": "bdi"}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "instrument"
