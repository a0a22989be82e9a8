"""HTML routes for joining: invitation, password and consent, red-flag screen, episode."""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from painpath.care import onboarding
from painpath.kit.email import send_email
from painpath.kit.errors import Conflict, InvalidInput, NotFound
from painpath.kit.web import (
    ANON_CSRF_COOKIE,
    app_state,
    clear_cookie,
    read_cookie,
    register_nav,
    render,
    set_session_cookie,
    transaction,
)
from painpath.questionnaires.domain import load_instruments

router = APIRouter(include_in_schema=False)

register_nav("patient", "My account", "/account", 92)

Text = Annotated[str, Form(max_length=400)]
Csrf = Annotated[str, Form(max_length=100)]


def _errors(exc: InvalidInput) -> dict[str, str]:
    return {p.field: p.message for p in exc.problems} or {"form": exc.message}


def _parse_date(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("check the date", field=field) from None


@router.get("/patients/invite")
def invite_form(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_clinician:
            return RedirectResponse("/", status_code=303)
        return render(request, "onboarding/invite.html", {"errors": {}, "form": {}}, actor=tx.actor)


@router.post("/patients/invite")
def invite_submit(
    request: Request,
    name: Text = "",
    email: Text = "",
    date_of_birth: Text = "",
    csrf_token: Csrf = "",
) -> Response:
    form = {"name": name, "email": email, "date_of_birth": date_of_birth}
    try:
        with transaction(request, csrf_token=csrf_token) as tx:
            actor = tx.actor
            invited = onboarding.invite_patient(
                tx.db,
                actor,
                tx.ctx,
                name=name,
                email=email,
                date_of_birth=_parse_date(date_of_birth, "date_of_birth"),
            )
            link = str(request.base_url).rstrip("/") + f"/join/{invited.token}"
            emailed = send_email(
                tx.settings,
                email,
                "Your invitation to PainPath",
                "Your care team has invited you to PainPath.\n\n"
                f"Open this link to set your password (it works once, for 7 days):\n{link}\n",
            )
    except (InvalidInput, Conflict) as exc:
        errors = _errors(exc) if isinstance(exc, InvalidInput) else {"email": exc.message}
        with transaction(request, csrf_token=csrf_token) as tx:
            return render(
                request,
                "onboarding/invite.html",
                {"errors": errors, "form": form},
                actor=tx.actor,
                status_code=422,
            )
    with transaction(request, csrf_token=csrf_token) as tx:
        return render(
            request,
            "onboarding/invited.html",
            {
                "link": link,
                "emailed": emailed,
                "name": name.strip(),
                "patient_id": invited.patient_id,
                "expires": invited.expires_at,
            },
            actor=tx.actor,
        )


@router.get("/join/{token}")
def join_form(token: str, request: Request) -> Response:
    try:
        with transaction(request, require_actor=False, authenticate=False) as tx:
            invitation = onboarding.open_invitation(tx.db, token, tx.now)
            email = invitation.email
    except NotFound as exc:
        return render(
            request, "onboarding/join_invalid.html", {"message": exc.message}, status_code=404
        )
    return render(
        request,
        "onboarding/join.html",
        {"email": email, "errors": {}, "consent_text": onboarding.CONSENT_TEXT, "token": token},
    )


@router.post("/join/{token}")
def join_submit(
    token: str,
    request: Request,
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
    consent: Text = "",
    csrf_token: Csrf = "",
) -> Response:

    expected = read_cookie(request, ANON_CSRF_COOKIE) or ""
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return RedirectResponse(f"/join/{token}", status_code=303)
    try:
        with transaction(request, require_actor=False, authenticate=False) as tx:
            email = onboarding.open_invitation(tx.db, token, tx.now).email
            signed_in = onboarding.accept_invitation(
                tx.db,
                tx.ctx,
                app_state(request).settings,
                token=token,
                password=password,
                password_again=password_again,
                consent=consent == "yes",
            )
    except NotFound as exc:
        return render(
            request, "onboarding/join_invalid.html", {"message": exc.message}, status_code=404
        )
    except InvalidInput as exc:
        return render(
            request,
            "onboarding/join.html",
            {
                "email": email,
                "errors": _errors(exc),
                "consent_text": onboarding.CONSENT_TEXT,
                "token": token,
            },
            status_code=422,
        )
    response = RedirectResponse("/onboarding", status_code=303)
    set_session_cookie(request, response, signed_in.token)
    clear_cookie(request, response, ANON_CSRF_COOKIE)
    return response


def _red_flag_items() -> list[dict[str, str]]:
    instrument = load_instruments()["redflags"]
    return [{"number": str(i.number), "text": i.text or i.label} for i in instrument.items]


@router.get("/onboarding")
def onboarding_start(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        return render(
            request,
            "onboarding/red_flags.html",
            {"items": _red_flag_items(), "errors": {}, "answers": {}},
            actor=tx.actor,
        )


@router.post("/onboarding")
async def onboarding_red_flags(request: Request) -> Response:
    form = await request.form()
    items = _red_flag_items()
    answers: dict[str, str] = {i["number"]: str(form.get(f"q{i['number']}", "")) for i in items}
    missing = [n for n, v in answers.items() if v not in ("0", "1")]
    csrf = str(form.get("csrf_token", ""))
    with transaction(request, csrf_token=csrf) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        if missing:
            return render(
                request,
                "onboarding/red_flags.html",
                {
                    "items": items,
                    "answers": answers,
                    "errors": {f"q{n}": "Choose yes or no" for n in missing},
                },
                actor=tx.actor,
                status_code=422,
            )
        result = onboarding.red_flag_screen(
            tx.db,
            tx.actor,
            tx.ctx,
            tx.actor.patient_id,
            [int(answers[i["number"]]) for i in items],
        )
        if result.positive:
            return render(
                request, "onboarding/red_flags_stop.html", {"advice": result.advice}, actor=tx.actor
            )
    return RedirectResponse("/onboarding/episode", status_code=303)


@router.get("/onboarding/episode")
def episode_form(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        if not onboarding.red_flag_screen_passed(tx.db, tx.actor.patient_id):
            return RedirectResponse("/onboarding", status_code=303)  # safety questions first
        return render(request, "onboarding/episode.html", _episode_context({}, {}), actor=tx.actor)


def _episode_context(form: dict[str, object], errors: dict[str, str]) -> dict[str, object]:
    return {
        "conditions": onboarding.CONDITIONS,
        "sites": onboarding.PAIN_SITES,
        "symptoms": onboarding.SYMPTOMS,
        "form": form,
        "errors": errors,
    }


@router.post("/onboarding/episode")
async def episode_submit(request: Request) -> Response:
    raw = await request.form()
    form: dict[str, object] = {
        "condition": str(raw.get("condition", "")),
        "onset_date": str(raw.get("onset_date", "")),
        "pain_sites": [str(v) for v in raw.getlist("pain_sites")],
        "symptoms": [str(v) for v in raw.getlist("symptoms")],
    }
    csrf = str(raw.get("csrf_token", ""))
    try:
        with transaction(request, csrf_token=csrf) as tx:
            if not tx.actor.is_patient:
                return RedirectResponse("/", status_code=303)
            if not onboarding.may_record_episode(tx.db, tx.actor, tx.ctx):
                return RedirectResponse("/onboarding", status_code=303)
            episode = onboarding.record_episode(
                tx.db,
                tx.actor,
                tx.ctx,
                tx.actor.patient_id,
                condition=str(form["condition"]),
                onset_date=_parse_date(str(form["onset_date"]), "onset_date"),
                pain_sites=list(form["pain_sites"]),  # type: ignore[call-overload]
                symptoms=list(form["symptoms"]),  # type: ignore[call-overload]
            )
            chronic = onboarding.is_chronic(episode.onset_date, tx.now.date())
    except InvalidInput as exc:
        with transaction(request, csrf_token=csrf) as tx:
            return render(
                request,
                "onboarding/episode.html",
                _episode_context(form, _errors(exc)),
                actor=tx.actor,
                status_code=422,
            )
    with transaction(request, csrf_token=csrf) as tx:
        return render(request, "onboarding/episode_done.html", {"chronic": chronic}, actor=tx.actor)


@router.get("/account")
def account(request: Request) -> Response:
    with transaction(request) as tx:
        if not tx.actor.is_patient:
            return RedirectResponse("/", status_code=303)
        items = onboarding.consents(tx.db, tx.actor, tx.ctx)
        return render(
            request,
            "onboarding/account.html",
            {"consents": items, "consent_text": onboarding.CONSENT_TEXT},
            actor=tx.actor,
        )


@router.post("/account/consents/{consent_id}/withdraw")
def withdraw(consent_id: uuid.UUID, request: Request, csrf_token: Csrf = "") -> Response:
    with transaction(request, csrf_token=csrf_token) as tx:
        onboarding.withdraw_consent(tx.db, tx.actor, tx.ctx, consent_id)
    return RedirectResponse("/account", status_code=303)
