"""Who may call what: PainPath's access policy as one table (the single source of truth).

Every route of the application has exactly one row here: its method and path
template, what happens for each kind of actor, and whether it reads or changes a
patient's data (``phi``: each such call writes exactly one audit event). The
services enforce the policy (``care.service.authorize_patient`` and friends); the
generated test ``tests/security/test_authz_matrix.py`` calls every route as every
kind of actor, against patient A's records and against a missing record, and fails
on any difference from this table, and on any route without a row.

Kinds of actor (patient A's records are the target):

==============================  ==========================================================
``anonymous``                   not signed in
``patient-self``                patient A
``patient-other``               patient B
``clinician-in-team``           a clinician in A's care team
``clinician-not-in-team``       a clinician in B's care team only
``clinician-removed-from-team`` a clinician taken out of A's care team (signed in before)
``admin``                       an administrator
``admin-break-glass``           an administrator with a break-glass grant for A
``disabled-user``               a clinician of A's team whose account was disabled
==============================  ==========================================================

Outcomes: ``ok`` (allowed: 2xx, or a redirect to a page other than the start page, or
a 400/409/412/422/428 about the input), ``home`` (an HTML page for another role sends
the person back to their start page), ``401``, ``403`` (visible, but this role may
not), ``404`` (someone else's record: indistinguishable from a missing one).

For a *missing* target (an unknown id in place of A's), every actor gets ``404``,
except where the row says otherwise (``missing=``), and except refusals that come
before any record is looked up (``401``, ``home``), which stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

ANON: Final = "anonymous"
SELF: Final = "patient-self"
OTHER: Final = "patient-other"
TEAM: Final = "clinician-in-team"
NOT_TEAM: Final = "clinician-not-in-team"
REMOVED: Final = "clinician-removed-from-team"
ADMIN: Final = "admin"
BREAK_GLASS: Final = "admin-break-glass"
DISABLED: Final = "disabled-user"
ACTORS: Final = (ANON, SELF, OTHER, TEAM, NOT_TEAM, REMOVED, ADMIN, BREAK_GLASS, DISABLED)
OUTCOMES: Final = frozenset({"ok", "home", "401", "403", "404"})
PATIENTS: Final = (SELF, OTHER)
CLINICIANS: Final = (TEAM, NOT_TEAM, REMOVED)
ADMINS: Final = (ADMIN, BREAK_GLASS)

Outcomes = dict[str, str]


def outcomes(default: str, **by_actor: str) -> Outcomes:
    """Signed-in actors get ``default`` unless named; anonymous and disabled get 401."""
    table = {actor: default for actor in ACTORS}
    table[ANON] = table[DISABLED] = "401"
    for name, value in by_actor.items():
        table[name.replace("_", "-")] = value
    return table


def _for(actors: tuple[str, ...], value: str) -> dict[str, str]:
    """Keyword arguments for ``outcomes``/``rule``: these actors get ``value``."""
    return {a.replace("-", "_"): value for a in actors}


def _as(actors: tuple[str, ...], value: str) -> dict[str, str]:
    """A ``missing=`` table: these actors get ``value``."""
    return dict.fromkeys(actors, value)


# ------------------------------------------------------------------ the profiles

PUBLIC = {actor: "ok" for actor in ACTORS}
SIGNED_IN = outcomes("ok")


def patients_only(deny: str = "403") -> Outcomes:
    """A page or API about the signed-in patient's own data."""
    return outcomes(deny, **_for(PATIENTS, "ok"))


def clinicians_only(deny: str = "403") -> Outcomes:
    return outcomes(deny, **_for(CLINICIANS, "ok"))


def admins_only(deny: str = "403") -> Outcomes:
    return outcomes(deny, **_for(ADMINS, "ok"))


# Patient A's record: A and A's care team; the break-glass administrator reads it.
RECORD_READ = outcomes("404", patient_self="ok", clinician_in_team="ok", admin_break_glass="ok")
# ...exported whole (report, calendar, FHIR): A and A's care team only. Break-glass opens
# the record to read in an emergency, not to take a copy of it.
RECORD_EXPORT = outcomes("404", patient_self="ok", clinician_in_team="ok", admin_break_glass="403")
# ...changed by A or by A's care team (never by an administrator).
RECORD_WRITE = outcomes("404", patient_self="ok", clinician_in_team="ok", admin_break_glass="403")
# ...changed only by A (the care team may read it, not write it).
PATIENT_WRITES = outcomes(
    "404", patient_self="ok", clinician_in_team="403", admin_break_glass="403"
)
# ...changed only by A's care team's clinicians (prescriptions, tapers, reviews...).
CLINICIAN_WRITES = outcomes(
    "404", patient_self="403", clinician_in_team="ok", admin_break_glass="403"
)
# ...records for the care team's clinicians only (clinical notes, reviews, alerts).
CLINICIAN_READS = outcomes(
    "404", patient_self="403", clinician_in_team="ok", admin_break_glass="403"
)
# Care-team membership: administrators manage it.
TEAM_MANAGE = outcomes(
    "404", patient_self="403", clinician_in_team="403", admin="ok", admin_break_glass="ok"
)
# HTML pages about a patient for the care team: other roles are sent home.
CLINICIAN_PAGE = outcomes(
    "404",
    clinician_in_team="ok",
    **_for(PATIENTS, "home"),
    **_for(ADMINS, "home"),
)
# The patient's own HTML pages: clinicians and administrators are sent home.
PATIENT_PAGE = patients_only("home")


@dataclass(frozen=True)
class Rule:
    method: str
    path: str
    expect: Outcomes
    phi: bool = False
    missing: Outcomes = field(default_factory=dict)
    note: str = ""


def rule(
    method: str,
    path: str,
    expect: Outcomes,
    *,
    phi: bool = False,
    missing: Outcomes | None = None,
    note: str = "",
    **changes: str,
) -> Rule:
    table = dict(expect)
    for name, value in changes.items():
        table[name.replace("_", "-")] = value
    return Rule(method, path, table, phi, dict(missing or {}), note)


P = "/api/v1/patients/{patient_id}"
H = "/patients/{patient_id}"

POLICY: Final[tuple[Rule, ...]] = (
    # ---------------------------------------------------------------- public
    rule("GET", "/", PUBLIC, note="the sign-in page, or a redirect to the home page"),
    rule("GET", "/healthz", PUBLIC),
    rule("GET", "/openapi.json", PUBLIC, note="turned off in production (docs/security.md)"),
    rule("GET", "/api/docs", PUBLIC, note="turned off in production"),
    rule("GET", "/docs/oauth2-redirect", PUBLIC),
    rule("GET", "/static/{path}", PUBLIC),
    rule("GET", "/learn", PUBLIC),
    rule("GET", "/learn/{slug}", PUBLIC),
    rule("POST", "/login", {a: "401" for a in ACTORS}, note="wrong password for everyone"),
    rule("POST", "/api/v1/auth/login", {a: "401" for a in ACTORS}),
    rule("GET", "/reset", PUBLIC),
    rule("POST", "/reset", PUBLIC),
    rule("GET", "/reset/{token}", {a: "404" for a in ACTORS}, note="an unknown link"),
    rule("POST", "/reset/{token}", {a: "404" for a in ACTORS}),
    rule("POST", "/api/v1/auth/password-reset", PUBLIC),
    rule("POST", "/api/v1/auth/password-reset/confirm", PUBLIC, note="422: unknown token"),
    rule("GET", "/join/{token}", {a: "404" for a in ACTORS}),
    rule("POST", "/join/{token}", {a: "404" for a in ACTORS}),
    rule("GET", "/unsubscribe/{token}", {a: "404" for a in ACTORS}),
    rule("POST", "/unsubscribe/{token}", {a: "404" for a in ACTORS}),
    # --------------------------------------------------- any signed-in account
    rule("POST", "/logout", outcomes("home")),
    rule("POST", "/api/v1/auth/logout", SIGNED_IN),
    rule("GET", "/api/v1/me", SIGNED_IN),
    rule("POST", "/api/v1/auth/step-up", SIGNED_IN),
    rule("GET", "/step-up", SIGNED_IN),
    rule("POST", "/step-up", SIGNED_IN),
    rule("POST", "/api/v1/auth/password", SIGNED_IN),
    rule("GET", "/account/password", SIGNED_IN),
    rule("POST", "/account/password", outcomes("home"), note="signed out: sent to sign in"),
    rule("GET", "/api/v1/me/reminder-preferences", SIGNED_IN),
    rule("PUT", "/api/v1/me/reminder-preferences", SIGNED_IN),
    rule("GET", "/settings/reminders", SIGNED_IN),
    rule("POST", "/settings/reminders", SIGNED_IN),
    rule("GET", "/api/v1/instruments", SIGNED_IN),
    rule("GET", "/api/v1/instruments/{code}", SIGNED_IN),
    rule("GET", "/api/v1/evidence", SIGNED_IN),
    rule("GET", "/api/v1/evidence/forest.svg", SIGNED_IN),
    rule("GET", "/evidence", {**SIGNED_IN, **_as(ADMINS, "home")}),
    rule("GET", "/api/v1/patients", {**SIGNED_IN, **_as(ADMINS, "403")}, phi=True),
    # ----------------------------------------------------- the patient's own
    rule("GET", "/api/v1/me/access-log", patients_only(), phi=True),
    rule("GET", "/my-record-access", patients_only(), phi=True),
    rule("GET", "/api/v1/me/export", patients_only(), phi=True),
    rule("POST", "/api/v1/me/erase", patients_only(), phi=True),
    rule("GET", "/account", PATIENT_PAGE, phi=True),
    rule(
        "POST",
        "/account/consents/{consent_id}/withdraw",
        outcomes("404", patient_self="ok"),
        phi=True,
    ),
    rule("GET", "/today", PATIENT_PAGE, phi=True),
    rule("POST", "/today/dose", PATIENT_PAGE, phi=True),
    rule(
        "POST",
        "/today/advice/{notification_id}/read",
        outcomes("404", patient_self="ok"),
        phi=True,
    ),
    rule("GET", "/diary", PATIENT_PAGE, phi=True),
    rule("POST", "/diary", PATIENT_PAGE, phi=True),
    rule("POST", "/diary/today", PATIENT_PAGE, phi=True),
    rule("GET", "/therapies", PATIENT_PAGE, phi=True),
    rule("POST", "/therapies", patients_only("404"), phi=True),
    rule("GET", "/medicine", PATIENT_PAGE, phi=True),
    rule("POST", "/medicine/blood-pressure", PATIENT_PAGE, phi=True),
    rule("POST", "/medicine/doses", PATIENT_PAGE, phi=True),
    rule("POST", "/medicine/requests", PATIENT_PAGE, phi=True),
    rule("POST", "/medicine/side-effects", PATIENT_PAGE, phi=True),
    rule("POST", "/medicine/stopped", PATIENT_PAGE, phi=True),
    rule("GET", "/my-data", PATIENT_PAGE, phi=True),
    rule("GET", "/my-result", PATIENT_PAGE, phi=True),
    rule("GET", "/me/report", PATIENT_PAGE, phi=True),
    rule("GET", "/onboarding", PATIENT_PAGE, note="a blank form: shows no patient data"),
    rule("POST", "/onboarding", PATIENT_PAGE, phi=True),
    rule(
        "GET",
        "/onboarding/episode",
        PATIENT_PAGE,
        note="a blank form (after the safety questions): shows no patient data",
    ),
    rule("POST", "/onboarding/episode", PATIENT_PAGE, phi=True),
    rule("GET", "/questionnaires", PATIENT_PAGE, phi=True),
    rule("GET", "/questionnaires/{code}", PATIENT_PAGE, note="an empty form"),
    rule("POST", "/questionnaires/{code}", PATIENT_PAGE, phi=True),
    rule(
        "GET",
        "/questionnaires/results/{response_id}",
        outcomes("home", patient_self="ok", patient_other="404"),
        phi=True,
    ),
    # ------------------------------------------------------ clinicians' own
    rule("GET", "/caseload", clinicians_only("home"), phi=True),
    rule("GET", "/alerts", clinicians_only("home"), phi=True),
    rule("GET", "/referrals", clinicians_only("home"), phi=True),
    rule("GET", "/api/v1/alerts", clinicians_only(), phi=True),
    rule("GET", "/api/v1/referrals", clinicians_only(), phi=True),
    rule("GET", "/api/v1/caseload/outcomes.csv", clinicians_only(), phi=True),
    rule("GET", "/api/v1/clinicians", {**clinicians_only(), **_as(ADMINS, "ok")}),
    rule("GET", "/patients/invite", clinicians_only("home")),
    rule("POST", "/patients/invite", clinicians_only()),
    # ------------------------------------------------------ administrators
    rule("GET", "/admin", admins_only()),
    rule("GET", "/api/v1/care-teams", admins_only()),
    rule("GET", "/care-teams", admins_only("home")),
    rule("POST", "/care-teams/{patient_id}/members", admins_only("home"), phi=True),
    rule(
        "POST",
        "/care-teams/{patient_id}/members/{clinician_id}/remove",
        admins_only("home"),
        phi=True,
    ),
    rule(
        "POST",
        P + "/break-glass",
        admins_only(),
        phi=True,
        missing={**_as(PATIENTS + CLINICIANS, "403"), **_as(ADMINS, "404")},
        note="refused to everyone but administrators before any record is looked up",
    ),
    # ------------------------------------------------- patient A's record (API)
    rule("GET", P, RECORD_READ, phi=True),
    rule("GET", P + "/care-team", RECORD_READ, phi=True, admin="ok"),
    rule("POST", P + "/care-team", TEAM_MANAGE, phi=True),
    rule("DELETE", P + "/care-team/{clinician_id}", TEAM_MANAGE, phi=True),
    rule("GET", P + "/diary-entries", RECORD_READ, phi=True),
    rule("POST", P + "/diary-entries", PATIENT_WRITES, phi=True),
    rule("PATCH", P + "/diary-entries/{entry_id}", PATIENT_WRITES, phi=True),
    rule("GET", P + "/therapy-sessions", RECORD_READ, phi=True),
    rule("POST", P + "/therapy-sessions", PATIENT_WRITES, phi=True),
    rule("GET", P + "/dose-events", RECORD_READ, phi=True),
    rule("POST", P + "/dose-events", PATIENT_WRITES, phi=True),
    rule("GET", P + "/adherence", RECORD_READ, phi=True),
    rule("GET", P + "/side-effect-reports", RECORD_READ, phi=True),
    rule("POST", P + "/side-effect-reports", PATIENT_WRITES, phi=True),
    rule("GET", P + "/side-effect-reports/{report_id}/yellow-card", RECORD_READ, phi=True),
    rule("GET", P + "/dose-change-requests", RECORD_READ, phi=True),
    rule("POST", P + "/dose-change-requests", PATIENT_WRITES, phi=True),
    rule("PATCH", P + "/dose-change-requests/{request_id}", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/blood-pressure-readings", RECORD_READ, phi=True),
    rule("POST", P + "/blood-pressure-readings", RECORD_WRITE, phi=True),
    rule("GET", P + "/other-medicines", RECORD_READ, phi=True),
    rule("POST", P + "/other-medicines", RECORD_WRITE, phi=True),
    rule("GET", P + "/prescriptions", RECORD_READ, phi=True),
    rule("POST", P + "/prescriptions", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/prescriptions/{prescription_id}", RECORD_READ, phi=True),
    rule("PATCH", P + "/prescriptions/{prescription_id}", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/prescriptions/{prescription_id}/response", RECORD_READ, phi=True),
    rule("GET", P + "/prescriptions/{prescription_id}/response/chart.svg", RECORD_READ, phi=True),
    rule("GET", P + "/taper-plans", RECORD_READ, phi=True),
    rule("POST", P + "/taper-plans", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/taper-plans/{plan_id}", RECORD_READ, phi=True),
    rule("PATCH", P + "/taper-plans/{plan_id}", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/questionnaire-responses", RECORD_READ, phi=True),
    rule("POST", P + "/questionnaire-responses", PATIENT_WRITES, phi=True),
    rule("GET", P + "/questionnaire-responses/{response_id}", RECORD_READ, phi=True),
    rule("GET", P + "/questionnaires-due", RECORD_READ, phi=True),
    rule("GET", P + "/questionnaire-completion", RECORD_READ, phi=True),
    rule("GET", P + "/clinical-facts", RECORD_READ, phi=True),
    rule("PUT", P + "/clinical-facts", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/questionnaire-schedule", RECORD_READ, phi=True),
    rule("PUT", P + "/questionnaire-schedule", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/follow-ups", RECORD_READ, phi=True),
    rule("POST", P + "/follow-ups", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/follow-ups/{follow_up_id}", RECORD_READ, phi=True),
    rule("PATCH", P + "/follow-ups/{follow_up_id}", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/referrals", RECORD_READ, phi=True),
    rule("POST", P + "/referrals", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/reviews", CLINICIAN_READS, phi=True),
    rule("POST", P + "/reviews", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/notes", CLINICIAN_READS, phi=True),
    rule("POST", P + "/notes", CLINICIAN_WRITES, phi=True),
    rule("GET", P + "/alerts", CLINICIAN_READS, phi=True),
    rule("GET", P + "/my-data", RECORD_READ, phi=True),
    rule("GET", P + "/my-data/chart.svg", RECORD_READ, phi=True),
    rule("GET", P + "/calendar.ics", RECORD_EXPORT, phi=True),
    rule("GET", P + "/report.pdf", RECORD_EXPORT, phi=True),
    rule("GET", "/fhir/Patient/{patient_id}/$everything", RECORD_EXPORT, phi=True),
    rule(
        "GET",
        "/api/v1/alerts/{alert_id}",
        CLINICIAN_READS,
        phi=True,
        patient_self="404",
        admin_break_glass="404",
        note="patients do not see alerts; an alert id alone does not reveal the patient "
        "(alerts are found through a clinician's caseload, which an administrator has not)",
    ),
    rule(
        "PATCH",
        "/api/v1/alerts/{alert_id}",
        CLINICIAN_WRITES,
        phi=True,
        patient_self="404",
        admin_break_glass="404",
    ),
    rule(
        "PATCH",
        "/api/v1/referrals/{referral_id}",
        outcomes("404"),
        phi=True,
        note="only the clinician the referral is addressed to decides (not in this cast)",
    ),
    # ------------------------------------------------ patient A's record (pages)
    rule("GET", H, CLINICIAN_PAGE, phi=True),
    rule("GET", H + "/follow-ups", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/follow-ups", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/follow-ups/defaults", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/follow-ups/{follow_up_id}", CLINICIAN_PAGE, phi=True),
    rule("GET", H + "/medicine", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/medicine/other", CLINICIAN_PAGE, phi=True),
    rule(
        "POST",
        H + "/medicine/prescriptions/{prescription_id}/change",
        CLINICIAN_WRITES,
        phi=True,
    ),
    rule("POST", H + "/medicine/requests/{request_id}", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/medicine/taper", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/medicine/taper/{plan_id}", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/notes", CLINICIAN_PAGE, phi=True),
    rule("GET", H + "/clinical-facts", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/clinical-facts", CLINICIAN_PAGE, phi=True),
    rule("GET", H + "/questionnaire-schedule", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/questionnaire-schedule", CLINICIAN_PAGE, phi=True),
    rule("GET", H + "/prescribe", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/prescribe", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/referrals", CLINICIAN_PAGE, phi=True),
    rule("GET", H + "/review", CLINICIAN_PAGE, phi=True),
    rule("POST", H + "/review", CLINICIAN_PAGE, phi=True),
    rule("GET", H + "/report", RECORD_READ, phi=True),
    rule("GET", H + "/side-effect-reports/{report_id}/yellow-card", RECORD_READ, phi=True),
    rule(
        "GET",
        H + "/response",
        RECORD_READ,
        phi=True,
        patient_other="ok",
        missing=_as(PATIENTS, "ok"),
        note="patients are sent to their own result page (/my-result), whatever the id",
    ),
    rule(
        "GET",
        H + "/response/{prescription_id}",
        RECORD_READ,
        phi=True,
        patient_other="ok",
        missing=_as(PATIENTS, "ok"),
        note="patients are sent to their own result page (/my-result), whatever the id",
    ),
    rule("POST", "/alerts/{alert_id}", CLINICIAN_PAGE, phi=True),
    rule(
        "POST",
        "/referrals/{referral_id}",
        outcomes("404", **_for(PATIENTS, "home"), **_for(ADMINS, "home")),
        phi=True,
        note="only the clinician the referral is addressed to decides (not in this cast)",
    ),
)


def _index() -> dict[tuple[str, str], Rule]:
    table: dict[tuple[str, str], Rule] = {}
    for row in POLICY:
        key = (row.method, row.path)
        if key in table:
            raise ValueError(f"two policy rows for {row.method} {row.path}")
        unknown = set(row.expect.values()) - OUTCOMES
        if unknown or set(row.expect) != set(ACTORS):
            raise ValueError(f"policy row {row.method} {row.path} is malformed")
        table[key] = row
    return table


def rule_for(method: str, path: str) -> Rule | None:
    return _INDEX.get((method, path))


def expected_for_missing(row: Rule, actor: str) -> str:
    """The outcome for an unknown id in place of A's record (see the module docstring)."""
    if actor in row.missing:
        return row.missing[actor]
    own = row.expect[actor]
    return own if own in ("401", "home") else "404"


_INDEX: Final = _index()
