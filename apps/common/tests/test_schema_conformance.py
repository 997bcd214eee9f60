"""Both OpenAPI documents against the app that serves them, by schemathesis.

For every operation of ``/api/v1/schema/`` and ``/api/v2/openapi.json``, schemathesis
generates requests — valid ones and invalid ones — and sends them as an anonymous
visitor, a customer, a vendor and a member of staff, over a small world (the demo
accounts, a demo catalogue, one order of the customer's from the vendor's store, the
payment providers' sandbox). Every answer must be:

- not a 5xx;
- a status code the operation documents;
- in a content type documented for that status;
- shaped as the schema documented for that status and content type.

``FUZZ_EXAMPLES`` sets how many requests schemathesis generates per operation and
principal (default 8, deterministic: derandomized, no example database); ``make fuzz``
runs the same checks with many more. The app is called in-process (WSGI) inside each
test's transaction, so nothing a generated request writes outlives its test; the
generated-client journeys (``test_generated_clients``) go over real HTTP.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.payments.tests.conftest import payment_sandbox  # noqa: F401 - a fixture
from config.wsgi import application
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

DEFAULT_EXAMPLES = 8
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
#: ``make fuzz``: more generated requests, and schemathesis's coverage phase too (the
#: boundary and just-out-of-bounds value of every parameter and field, a fixed set).
FUZZ = EXAMPLES > DEFAULT_EXAMPLES
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PRINCIPALS = ["anonymous", "customer", "vendor", "staff"]


def _load(path: str) -> Any:
    # Generated requests (the "fuzzing" phase), bounded by max_examples. The coverage
    # phase adds a fixed number of cases per operation (over a minute for both
    # documents and the four principals): make fuzz only. The documents declare no
    # examples and no links, so the examples and stateful phases have nothing to run.
    config = schemathesis.Config.from_dict(
        {
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": FUZZ},
                "stateful": {"enabled": False},
            }
        }
    )
    return schemathesis.openapi.from_wsgi(path, application, config=config)


v1 = _load("/api/v1/schema/?format=json")
v2 = _load("/api/v2/openapi.json")

HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same requests on every run
    database=None,  # nothing written into the repository (.hypothesis/)
    deadline=None,  # a loaded machine is not a failure
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, unshrunk
    # The world fixture is function-scoped on purpose: every example sees the same
    # world, and what one writes is rolled back with its test.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@contextmanager
def _in_process_requests() -> Iterator[None]:
    # The start and the end of an in-process request must not close the connection
    # that holds the test's transaction (Django's test client does the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(params=PRINCIPALS)
def principal(
    request: pytest.FixtureRequest,
    settings: Any,
    payment_sandbox: SandboxServer,  # noqa: F811 - the fixture imported above
) -> Iterator[dict[str, str]]:
    """The headers of one principal, in a world with something to find and the payment
    providers' sandbox to pay in (without it, starting a payment is a 503)."""
    from apps.authentication.models import Role
    from apps.authentication.services import ClientInfo, session_start
    from apps.authentication.services.demo import demo_accounts_ensure
    from apps.catalog.demo import catalog_seed_demo
    from apps.catalog.models import Variant
    from apps.orders.tests.factories import place_order

    # Many requests per principal: the limits are the rate-limit tests' subject, not ours.
    settings.RATE_LIMITS = {name: "1000000/hour" for name in django_settings.RATE_LIMITS}
    users = {user.role: user for user in demo_accounts_ensure()}
    catalog_seed_demo(
        vendor=users[Role.VENDOR], stores=2, products=4, variants_per_product=2, progress=False
    )
    variant = Variant.objects.filter(product__store__owner=users[Role.VENDOR]).first()
    assert variant is not None
    place_order(customer=users[Role.CUSTOMER], items=[(variant, 1)])
    headers = {}
    if request.param != "anonymous":
        access = session_start(user=users[Role(request.param)], client=ClientInfo()).access
        headers = {"Authorization": f"Bearer {access}"}
        # Signed in for real: a refused token would make every answer a documented 401.
        assert Client().get("/api/v2/auth/me/", headers=headers).status_code == 200
    with _in_process_requests():
        yield headers


@v1.parametrize()
@HYPOTHESIS
def test_v1_answers_as_documented(case: schemathesis.Case, principal: dict[str, str]) -> None:
    case.call_and_validate(headers=principal, checks=CHECKS)


@v2.parametrize()
@HYPOTHESIS
def test_v2_answers_as_documented(case: schemathesis.Case, principal: dict[str, str]) -> None:
    case.call_and_validate(headers=principal, checks=CHECKS)
