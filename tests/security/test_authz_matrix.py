"""A-1, A-2, A-6, A-7 and L-1: every route x every kind of actor x (A's record, a missing
one), checked against the one policy table, painpath.auth.policy.

The routes come from the running application (tests/security/routes.py says how), so
a route added without a policy row fails ``test_every_route_has_a_policy_row`` with
the line to add. Each call runs in a savepoint that is rolled back, so calls do not
change what later calls see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from painpath.auth import policy
from tests.security.driver import MISSING, OWN, call, missing_param, outcome
from tests.security.routes import RouteInfo, all_routes
from tests.security.world import ANON, DISABLED, OTHER, World

SIGNED_IN = tuple(a for a in policy.ACTORS if a not in (ANON, DISABLED))

# Differences from the policy that are known, each with the area that owns the fix.
# The matrix fails when one of them is fixed, so that the line is removed here.
KNOWN_GAPS: dict[tuple[str, str, str, str], tuple[str, str]] = {}
VOLATILE_HEADERS = {"x-request-id", "date", "set-cookie"}


@dataclass
class Observation:
    route: RouteInfo
    actor: str
    target: str
    status: int
    outcome: str
    body: bytes
    headers: dict[str, str]
    audit_events: int


@dataclass
class Observations:
    routes: list[RouteInfo]
    seen: list[Observation] = field(default_factory=list)

    def get(self, route: RouteInfo, actor: str, target: str) -> Observation | None:
        for o in self.seen:
            if o.route == route and o.actor == actor and o.target == target:
                return o
        return None


def _observe(world: World, route: RouteInfo, actor: str, target: str) -> Observation:
    with world.rolled_back():
        response = call(world, route, actor, target)
        events = world.audit_count(response.headers.get("x-request-id", "-"))
    return Observation(
        route,
        actor,
        target,
        response.status_code,
        outcome(response.status_code, response.headers.get("location")),
        response.content,
        {k.lower(): v for k, v in response.headers.items()},
        events,
    )


@pytest.fixture(scope="module")
def observations(world: World) -> Observations:
    routes = all_routes(world.client.app)  # type: ignore[arg-type]
    result = Observations(routes)
    for route in routes:
        row = policy.rule_for(route.method, route.path)
        if row is None:
            continue
        for actor in policy.ACTORS:
            result.seen.append(_observe(world, route, actor, OWN))
        if missing_param(route):
            for actor in SIGNED_IN:
                result.seen.append(_observe(world, route, actor, MISSING))
    return result


def suggested_row(route: RouteInfo) -> str:
    if "patient_id" in route.params:
        profile = "RECORD_READ" if route.method == "GET" else "RECORD_WRITE"
        return f'rule("{route.method}", "{route.path}", {profile}, phi=True),'
    return f'rule("{route.method}", "{route.path}", SIGNED_IN),'


def test_every_route_has_a_policy_row(world: World) -> None:
    routes = all_routes(world.client.app)  # type: ignore[arg-type]
    missing = [r for r in routes if policy.rule_for(r.method, r.path) is None]
    present = {r.key for r in routes}
    stale = [row for row in policy.POLICY if (row.method, row.path) not in present]
    message = ""
    if missing:
        message += (
            "These routes have no row in the access policy. Add a row for each to POLICY in "
            "src/painpath/auth/policy.py, choosing the profile that says who may call it "
            "(RECORD_READ, RECORD_WRITE, PATIENT_WRITES, CLINICIAN_WRITES, CLINICIAN_READS, "
            "CLINICIAN_PAGE, PATIENT_PAGE, patients_only(), clinicians_only(), admins_only(), "
            "SIGNED_IN, PUBLIC), and phi=True when it reads or changes a patient's data. "
            "For example:\n    " + "\n    ".join(suggested_row(r) for r in missing) + "\n"
        )
    if stale:
        message += "These policy rows match no route (remove or correct them):\n" + "\n".join(
            f"    {row.method} {row.path}" for row in stale
        )
    assert not message, message


def _expected(row: policy.Rule, actor: str, target: str) -> str:
    return row.expect[actor] if target == OWN else policy.expected_for_missing(row, actor)


def _known(obs: Observation) -> str | None:
    """Why a difference is known, or None."""
    gap = KNOWN_GAPS.get((obs.route.method, obs.route.path, obs.actor, obs.target))
    if gap and gap[0] == obs.outcome:
        return gap[1]
    return None


def test_no_unexpected_allow_or_deny(observations: Observations) -> None:
    wrong: list[str] = []
    fixed: list[str] = []
    for obs in observations.seen:
        row = policy.rule_for(obs.route.method, obs.route.path)
        assert row is not None
        expected = _expected(row, obs.actor, obs.target)
        key = (obs.route.method, obs.route.path, obs.actor, obs.target)
        if obs.outcome == expected:
            if key in KNOWN_GAPS:
                fixed.append(f"{obs.route.method} {obs.route.path} as {obs.actor} ({obs.target})")
            continue
        if _known(obs):
            continue
        kind = "ALLOWED" if obs.outcome == "ok" else "DENIED"
        wrong.append(
            f"{kind}: {obs.route.method} {obs.route.path} as {obs.actor} on "
            f"{'A' if obs.target == OWN else 'a missing'} record: got {obs.outcome} "
            f"(HTTP {obs.status}), the policy says {expected}"
        )
    assert not wrong, f"{len(wrong)} differences from the access policy:\n" + "\n".join(wrong)
    assert not fixed, "fixed: remove these from KNOWN_GAPS:\n" + "\n".join(fixed)


def test_no_server_errors(observations: Observations) -> None:
    errors = [
        f"{o.route.method} {o.route.path} as {o.actor} ({o.target}): HTTP {o.status}"
        for o in observations.seen
        if o.status >= 500
    ]
    assert not errors, "\n".join(errors)


def _comparable(obs: Observation) -> tuple[int, bytes, dict[str, Any]]:
    headers = {k: v for k, v in obs.headers.items() if k not in VOLATILE_HEADERS}
    return obs.status, obs.body, headers


def test_someone_elses_record_looks_exactly_like_a_missing_one(
    observations: Observations,
) -> None:
    """A-2: the same status, body and headers for "exists, not yours" and "no such"."""
    different: list[str] = []
    compared = 0
    for route in observations.routes:
        row = policy.rule_for(route.method, route.path)
        if row is None or not missing_param(route):
            continue
        for actor in SIGNED_IN:
            if row.expect[actor] != "404":
                continue
            theirs = observations.get(route, actor, OWN)
            nothing = observations.get(route, actor, MISSING)
            if theirs is None or nothing is None or theirs.status != 404:
                continue
            compared += 1
            if _comparable(theirs) != _comparable(nothing):
                different.append(
                    f"{route.method} {route.path} as {actor}: {_comparable(theirs)!r} vs "
                    f"{_comparable(nothing)!r}"
                )
    assert compared > 100, f"only {compared} comparisons: the matrix did not run"
    assert not different, "\n".join(different)


def test_every_phi_call_writes_exactly_one_audit_event(observations: Observations) -> None:
    """L-1: allowed and refused alike (signed-in callers; a request without a valid
    session never reaches a patient and is logged, not audited)."""
    wrong = []
    for obs in observations.seen:
        row = policy.rule_for(obs.route.method, obs.route.path)
        if row is None or not row.phi or obs.actor not in SIGNED_IN:
            continue
        if obs.outcome == "home" or obs.status in (400, 409, 412, 422, 428):
            continue  # sent away by role, or refused as input before any record was touched
        if obs.route.method == "GET" and 300 <= obs.status < 400:
            continue  # a redirect shows nothing
        if obs.audit_events != 1 and not _audit_gap(obs):
            wrong.append(
                f"{obs.route.method} {obs.route.path} as {obs.actor} ({obs.target}, HTTP "
                f"{obs.status}): {obs.audit_events} audit events"
            )
    assert not wrong, f"{len(wrong)} calls without exactly one audit event:\n" + "\n".join(wrong)


# Calls known not to write exactly one audit event: (method, path) -> owner and reason.
AUDIT_GAPS: dict[tuple[str, str], str] = {}


def _audit_gap(obs: Observation) -> bool:
    return (obs.route.method, obs.route.path) in AUDIT_GAPS


def test_patient_b_never_reaches_patient_a(observations: Observations) -> None:
    """A-7 in one line: no route answers patient B's call on A's record with A's data."""
    leaks = [
        f"{o.route.method} {o.route.path}"
        for o in observations.seen
        if o.actor == OTHER
        and o.target == OWN
        and "patient_id" in o.route.params
        and o.outcome == "ok"
        and (policy.rule_for(o.route.method, o.route.path) or policy.POLICY[0]).expect[OTHER]
        != "ok"
    ]
    assert not leaks, leaks
