"""Address books under concurrency on PostgreSQL, each write on its own thread and
connection: one default, never more than the limit, never a 5xx."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.addresses.models import Address
from apps.addresses.services import MAX_ADDRESSES, address_create
from apps.addresses.tests.factories import LAGOS, make_address
from apps.common.errors import ApplicationError
from apps.vendors.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _race(count: int, call: Callable[[], Any]) -> list[Any]:
    """``call()`` on ``count`` threads at once: each result or the error it raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # the test inspects what was raised
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a write hung (deadlock?)"
    return results


def test_first_addresses_added_at_once_leave_exactly_one_default() -> None:
    customer = UserFactory.create()

    results = _race(8, lambda: address_create(customer=customer, data=LAGOS))

    assert all(isinstance(result, Address) for result in results), results
    assert Address.objects.filter(customer=customer, is_default=True).count() == 1


def test_the_limit_holds_when_the_last_places_are_raced_for() -> None:
    customer = UserFactory.create()
    for _ in range(MAX_ADDRESSES - 2):
        make_address(customer=customer)

    results = _race(6, lambda: address_create(customer=customer, data=LAGOS))

    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(refused) == 4 and {r.code for r in refused} == {"address_limit_reached"}
    assert Address.objects.filter(customer=customer).count() == MAX_ADDRESSES
