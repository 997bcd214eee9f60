"""Single use under concurrency: racing refreshes, racing correct codes and a flood of
wrong codes, each thread on its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.authentication.models import AuthSession, OneTimeCode
from apps.authentication.services import (
    ClientInfo,
    email_verify,
    session_start,
    tokens_refresh,
    user_register,
)
from apps.authentication.tests.conftest import last_code, other_code
from apps.common.errors import ApplicationError
from apps.vendors.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

THREADS = 12


@pytest.fixture(autouse=True)
def _generous_account_limit(settings: Any) -> None:
    # The per-account request limit would otherwise answer some racers 429 first.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth_account": "1000/hour"}


def _race(action: Callable[[], Any], threads: int = THREADS) -> tuple[list[Any], list[str]]:
    """Run ``action`` in ``threads`` threads released at once; return results and the
    codes of the domain errors raised."""
    barrier = threading.Barrier(threads)
    results: list[Any] = []
    errors: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            result = action()
            with lock:
                results.append(result)
        except ApplicationError as error:
            with lock:
                errors.append(error.code)
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results, errors


def test_racing_refreshes_with_one_token_succeed_once() -> None:
    user = UserFactory.create()
    pair = session_start(user=user, client=ClientInfo())

    results, errors = _race(lambda: tokens_refresh(refresh=pair.refresh))

    assert len(results) == 1
    assert len(errors) == THREADS - 1 and set(errors) <= {"refresh_reused", "refresh_invalid"}
    # A reused token ends the session, including the winner's new refresh token.
    assert AuthSession.objects.get(user=user).revoked_at is not None


def test_racing_submissions_of_the_right_code_verify_once() -> None:
    user_register(email="ada@example.com", password="a-Strong-pass-9", full_name="Ada")
    code = last_code("ada@example.com")

    results, errors = _race(
        lambda: email_verify(email="ada@example.com", code=code, client=ClientInfo())
    )

    assert len(results) == 1
    assert set(errors) == {"validation_failed"} and len(errors) == THREADS - 1
    assert AuthSession.objects.count() == 1


def test_a_flood_of_wrong_codes_counts_at_most_five_attempts() -> None:
    user_register(email="ada@example.com", password="a-Strong-pass-9", full_name="Ada")
    code = last_code("ada@example.com")

    results, errors = _race(
        lambda: email_verify(email="ada@example.com", code=other_code(code), client=ClientInfo()),
        threads=20,
    )

    assert results == [] and len(errors) == 20
    assert OneTimeCode.objects.get(email="ada@example.com").failed_attempts == 5
    with pytest.raises(ApplicationError):
        email_verify(email="ada@example.com", code=code, client=ClientInfo())
