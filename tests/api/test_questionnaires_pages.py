"""The questionnaire pages without JavaScript: one question per screen, the answers so
far carried in hidden fields, and the result with its signposting."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from tests.api.conftest import Cast, login


def hidden_answers(html: str) -> list[str]:
    return re.findall(r'name="answers" value="(\d+)"', html)


def response_id(html: str) -> str:
    found = re.search(r'name="response_id" value="([0-9a-f-]{36})"', html)
    assert found, html
    return found.group(1)


def test_phq9_one_question_per_screen_then_the_crisis_signposting(
    client: TestClient, cast: Cast
) -> None:
    headers = login(client, cast.patient_a)
    first = client.get("/questionnaires/phq9", headers=headers)
    assert first.status_code == 200
    html = first.text
    assert "Question 1 of 9" in html
    assert html.count("<fieldset") == 1 and html.count('type="radio"') == 4
    assert "<legend" in html and "Little interest or pleasure in doing things" in html
    rid = response_id(html)
    answers: list[str] = []
    for number, value in enumerate(["1", "0", "1", "0", "0", "1", "0", "0", "2"], start=1):
        form = {"response_id": rid, "answers": answers, "answer": value, "go": "next"}
        step = client.post(
            "/questionnaires/phq9", data=form, headers=headers, follow_redirects=False
        )
        answers = [*answers, value]
        if number < 9:
            assert step.status_code == 200, step.text
            assert f"Question {number + 1} of 9" in step.text
            assert hidden_answers(step.text) == answers
            assert response_id(step.text) == rid
    assert step.status_code == 303
    assert step.headers["location"] == f"/questionnaires/results/{rid}"
    result = client.get(step.headers["location"], headers=headers)
    assert result.status_code == 200
    page = result.text
    assert 'role="alert"' in page
    assert "Samaritans free on 116 123" in page and 'href="tel:116123"' in page
    assert "call 999 or go to A&amp;E now" in page
    assert "Your PHQ-9 score was 5 (mild)." in page
    # the response and the alert are stored: the API shows the stored response
    api = f"/api/v1/patients/{cast.patient_a.patient_id}/questionnaire-responses/{rid}"
    assert client.get(api, headers=headers).json()["flags"] == ["self-harm"]


def test_a_missing_answer_is_shown_on_the_same_question(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    rid = str(uuid.uuid4())
    missing = client.post(
        "/questionnaires/gad7",
        data={"response_id": rid, "answers": ["1", "2"], "go": "next"},
        headers=headers,
    )
    assert missing.status_code == 422
    assert "Question 3 of 7" in missing.text
    assert 'role="alert"' in missing.text and "Choose an answer to this question." in missing.text
    assert hidden_answers(missing.text) == ["1", "2"]
    # with htmx the step comes back as a fragment, with 200 so that it is swapped in
    fragment = client.post(
        "/questionnaires/gad7",
        data={"response_id": rid, "answers": ["1", "2"], "go": "next"},
        headers={**headers, "HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="step"')
    assert "Choose an answer to this question." in fragment.text


def test_back_shows_the_previous_question_with_its_answer(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    back = client.post(
        "/questionnaires/gad7",
        data={"response_id": str(uuid.uuid4()), "answers": ["1", "3"], "go": "back"},
        headers=headers,
    )
    assert back.status_code == 200
    assert "Question 2 of 7" in back.text
    assert hidden_answers(back.text) == ["1"]
    assert re.search(r'value="3"\s+checked', back.text)


def test_a_changed_hidden_answer_is_asked_again(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    tampered = client.post(
        "/questionnaires/phq9",
        data={"response_id": str(uuid.uuid4()), "answers": ["1", "9"], "answer": "1"},
        headers=headers,
    )
    assert tampered.status_code == 422
    assert "Question 2 of 9" in tampered.text
    assert "could not be used" in tampered.text


def test_the_last_step_with_htmx_redirects_to_the_result(client: TestClient, cast: Cast) -> None:
    headers = login(client, cast.patient_a)
    rid = str(uuid.uuid4())
    done = client.post(
        "/questionnaires/pgic",
        data={"response_id": rid, "answer": "1"},
        headers={**headers, "HX-Request": "true"},
    )
    assert done.status_code == 200
    assert done.headers["HX-Redirect"] == f"/questionnaires/results/{rid}"
    result = client.get(f"/questionnaires/results/{rid}", headers=headers).text
    assert "You said things were much improved since you started treatment." in result
    assert 'role="alert"' not in result


def test_the_questionnaires_page_shows_what_is_due_and_the_trend(
    client: TestClient, cast: Cast
) -> None:
    headers = login(client, cast.patient_a)
    api = f"/api/v1/patients/{cast.patient_a.patient_id}/questionnaire-responses"
    for answers in ([2, 2, 2, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1, 0, 0]):
        body = {"id": str(uuid.uuid4()), "instrument": "phq9", "answers": answers}
        assert client.post(api, json=body, headers=headers).status_code == 201
    page = client.get("/questionnaires", headers=headers)
    assert page.status_code == 200
    html = page.text
    assert "Due today" in html
    assert 'href="/questionnaires/peg"' in html  # PEG baseline is due
    assert "Your PHQ-9 score was 7 (mild), down from 11." in html
    assert '<svg class="q-chart"' in html and 'role="img"' in html
    assert "<caption>Your PHQ-9 scores, newest first</caption>" in html
    assert 'href="/questionnaires"' in html  # the navigation entry


def test_pages_are_for_patients(client: TestClient, cast: Cast) -> None:
    gp = login(client, cast.gp)
    for path in ("/questionnaires", "/questionnaires/phq9"):
        response = client.get(path, headers=gp, follow_redirects=False)
        assert response.status_code == 303
    headers = login(client, cast.patient_a)
    assert client.get("/questionnaires/bdi", headers=headers).status_code == 404
    assert client.get("/questionnaires/results/not-an-id", headers=headers).status_code == 404
    other = login(client, cast.patient_b)
    api = f"/api/v1/patients/{cast.patient_a.patient_id}/questionnaire-responses"
    body = {"id": str(uuid.uuid4()), "instrument": "pgic", "answers": [3]}
    assert client.post(api, json=body, headers=headers).status_code == 201
    assert client.get(f"/questionnaires/results/{body['id']}", headers=other).status_code == 404
