"""V-1: Schemathesis against the OpenAPI document, as a patient, a clinician and an
administrator, on both databases.

Every JSON operation gets a bounded number of generated requests (``EXAMPLES`` per
operation in the PR suite, taking turns at the three roles; raise it with
PAINPATH_SCHEMATHESIS_EXAMPLES for a nightly run). Path parameters are real ids of
patient A's records, so requests reach real records; each request runs in a savepoint
that is rolled back. Checks: no server error (5xx) and every response conforms to its
documented schema.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from painpath.app import create_app
from painpath.config import Settings
from tests.security.world import ADMIN, SELF, TEAM, World

EXAMPLES = int(os.environ.get("PAINPATH_SCHEMATHESIS_EXAMPLES", "20"))
ROLES = (SELF, TEAM, ADMIN)


# The schema is read from an application that is never called (its database is never
# opened): the requests go to the seeded world's application. (schemathesis.pytest.
# from_fixture would be neater, but fails under pytest 9.2: Function has no _nodeid.)
_SCHEMA_APP = create_app(
    Settings(database_url=f"sqlite:///{tempfile.gettempdir()}/painpath-schema-only.db")
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _SCHEMA_APP)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_as_each_role(case: Any, world: World) -> None:
    """The examples of each operation take turns at the three roles."""
    for name in list(case.path_parameters or {}):
        if name in world.a:
            case.path_parameters[name] = world.a[name]
    role = ROLES[next(_TURN) % len(ROLES)]
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=world.headers(role))
    kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    with world.rolled_back():
        world.client.cookies.clear()
        response = world.client.request(**kwargs)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


_TURN = itertools.count()
