"""Fit answers under concurrency on PostgreSQL, each on its own thread and connection:
answers to one product at once are all counted, the first answers to one line at once
leave one answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.fit.models import FitFeedback, ProductFit
from apps.fit.services import fit_feedback_record
from apps.fit.tests.factories import sized_product
from apps.returns.tests.factories import delivered_order
from apps.vendors.tests.factories import StoreFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # the test inspects what was raised
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an answer hung (deadlock?)"
    return results


def test_answers_to_one_product_at_once_are_all_counted() -> None:
    product = sized_product(store=StoreFactory.create())
    orders = [delivered_order([(product.variants.get(size="M"), 1)]) for _ in range(6)]
    fits = ["runs_small", "runs_small", "runs_small", "true_to_size", "runs_large", "runs_large"]

    lines = [(order.customer_id, order.lines.get().pk) for order in orders]

    def answer(index: int) -> Callable[[], FitFeedback]:
        customer_id, line_id = lines[index]
        return lambda: fit_feedback_record(
            customer_id=customer_id, order_line_id=line_id, fit=fits[index]
        )

    results = _race([answer(index) for index in range(len(fits))])

    assert all(isinstance(result, FitFeedback) for result in results), results
    assert ProductFit.objects.get(pk=product.pk).counts() == {
        "runs_small": 3,
        "true_to_size": 1,
        "runs_large": 2,
    }


def test_first_answers_to_one_line_at_once_leave_one_answer() -> None:
    product = sized_product(store=StoreFactory.create())
    order = delivered_order([(product.variants.get(size="M"), 1)])
    line_id = order.lines.get().pk

    def answer(fit: str) -> Callable[[], FitFeedback]:
        return lambda: fit_feedback_record(
            customer_id=order.customer_id, order_line_id=line_id, fit=fit
        )

    results = _race(
        [answer(fit) for fit in ("runs_small", "runs_large", "true_to_size", "runs_small")]
    )

    assert all(isinstance(result, FitFeedback) for result in results), results
    assert FitFeedback.objects.filter(order_line_id=line_id).count() == 1
    assert ProductFit.objects.get(pk=product.pk).answers == 1
