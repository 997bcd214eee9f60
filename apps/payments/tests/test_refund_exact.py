"""Refunds at the service level with exact figures: which amounts are accepted, what is
reserved and released, when a refund may be asked about again, and what each outcome
writes on the refund, the payment and the order."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import make_variant, place_order
from apps.payments.exceptions import ProviderRefused, RefundInProgress
from apps.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from apps.payments.services import (
    payment_confirm,
    payment_refund,
    payment_start,
    refund_record,
    refund_retry,
    refund_settle,
)
from apps.payments.services.refunds import KEY_WINDOW, RETRY_WAIT
from apps.vendors.tests.factories import UserFactory
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

PAID = Decimal("10000.00")  # two at 5000.00, free standard delivery


def _paid(sandbox: SandboxServer, provider: str = "stripe") -> Payment:
    customer = UserFactory.create()
    order = place_order(customer=customer, items=[(make_variant(stock=5), 2)])
    payment, _ = payment_start(customer_id=customer.pk, order_id=order.pk, provider=provider)
    sandbox.pay(provider, payment.provider_payment_id or payment.reference)
    assert payment_confirm(payment_id=payment.pk) == "paid"
    payment.refresh_from_db()
    assert payment.amount == PAID
    return payment


def _reserved(payment: Payment) -> Decimal:
    return Payment.objects.get(pk=payment.pk).refunded_amount


@pytest.fixture
def frozen(time_machine: Any) -> Any:
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-1.00"), PAID + Decimal("0.01")])
def test_an_amount_outside_what_is_left_is_refused_on_amount_and_reserves_nothing(
    payment_sandbox: SandboxServer, amount: Decimal
) -> None:
    payment = _paid(payment_sandbox)
    with pytest.raises(ValidationFailed) as raised:
        payment_refund(payment_id=payment.pk, amount=amount, actor=None)
    [error] = raised.value.field_errors
    assert (error.field, error.code) == ("amount", "out_of_range")
    assert _reserved(payment) == 0
    assert not Refund.objects.exists()


def test_exactly_what_is_left_can_be_refunded_and_no_amount_means_all_of_it(
    payment_sandbox: SandboxServer,
) -> None:
    payment = _paid(payment_sandbox)
    first = payment_refund(payment_id=payment.pk, amount=Decimal("0.01"), actor=None)
    rest = payment_refund(payment_id=payment.pk, amount=None, actor=None)
    assert rest.amount == PAID - Decimal("0.01")
    assert (first.status, rest.status) == (RefundStatus.SUCCEEDED, RefundStatus.SUCCEEDED)
    assert _reserved(payment) == PAID

    other = _paid(payment_sandbox)
    whole = payment_refund(payment_id=other.pk, amount=PAID, actor=None)
    assert whole.status == RefundStatus.SUCCEEDED
    assert Payment.objects.get(pk=other.pk).status == PaymentStatus.REFUNDED


def test_an_unknown_payment_is_not_found(payment_sandbox: SandboxServer) -> None:
    with pytest.raises(NotFound) as raised:
        payment_refund(payment_id=987654, amount=None, actor=None)
    assert raised.value.code == "payment_not_found"


@pytest.mark.parametrize("status", [PaymentStatus.PENDING, PaymentStatus.REFUNDED])
def test_only_a_succeeded_or_partly_refunded_payment_can_be_refunded(
    payment_sandbox: SandboxServer, status: str
) -> None:
    payment = _paid(payment_sandbox)
    Payment.objects.filter(pk=payment.pk).update(status=status)
    with pytest.raises(Conflict) as raised:
        payment_refund(payment_id=payment.pk, amount=Decimal("1.00"), actor=None)
    assert raised.value.code == "payment_not_refundable"
    assert raised.value.details == {"payment_status": status}
    assert _reserved(payment) == 0


def test_a_partly_refunded_payment_can_be_refunded_again(payment_sandbox: SandboxServer) -> None:
    payment = _paid(payment_sandbox)
    payment_refund(payment_id=payment.pk, amount=Decimal("1.00"), actor=None)
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PARTIALLY_REFUNDED
    again = payment_refund(payment_id=payment.pk, amount=Decimal("2.00"), actor=None)
    assert again.status == RefundStatus.SUCCEEDED
    assert _reserved(payment) == Decimal("3.00")


def test_when_pending_refunds_hold_the_rest_the_conflict_names_them_in_order(
    payment_sandbox: SandboxServer,
) -> None:
    payment = _paid(payment_sandbox)
    first = refund_record(payment_id=payment.pk, amount=Decimal("4000.00"), reason="a")
    second = refund_record(payment_id=payment.pk, amount=Decimal("6000.00"), reason="b")
    with pytest.raises(Conflict) as raised:
        payment_refund(payment_id=payment.pk, amount=None, actor=None)
    assert raised.value.code == "refund_pending"
    assert raised.value.details == {"pending_refund_ids": [first.pk, second.pk]}


def test_a_recorded_refund_reserves_its_amount_and_calls_nobody_yet(
    payment_sandbox: SandboxServer,
) -> None:
    payment = _paid(payment_sandbox)
    store = payment.order.lines.get().store
    refund = refund_record(
        payment_id=payment.pk, amount=Decimal("2500.00"), reason="return", store_id=store.pk
    )
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.next_attempt_at) == (
        RefundStatus.PENDING,
        0,
        None,
    )
    assert (refund.store_id, refund.reason, refund.amount) == (
        store.pk,
        "return",
        Decimal("2500.00"),
    )
    assert _reserved(payment) == Decimal("2500.00")
    [txn] = payment_sandbox.state()["transactions"]
    assert txn["refunds"] == []

    sent = refund_retry(refund_id=refund.pk, actor=None)
    assert (sent.status, sent.attempts) == (RefundStatus.SUCCEEDED, 1)
    assert sent.provider_refund_id and sent.next_attempt_at is None and sent.last_error == ""


def test_a_refund_with_no_definite_answer_waits_exactly_the_retry_wait(
    payment_sandbox: SandboxServer, frozen: Any
) -> None:
    payment = _paid(payment_sandbox)
    payment_sandbox.set_behaviour("*", "error_5xx", times=1)
    refund = payment_refund(payment_id=payment.pk, amount=Decimal("100.00"), actor=None)
    assert refund.status == RefundStatus.PENDING
    assert refund.attempts == 1
    assert refund.next_attempt_at == timezone.now() + RETRY_WAIT
    assert refund.last_error
    assert _reserved(payment) == Decimal("100.00")

    # One second before the wait is over: still in progress, and told how long to wait.
    frozen.shift(RETRY_WAIT - timedelta(seconds=1.5))
    with pytest.raises(RefundInProgress) as raised:
        refund_retry(refund_id=refund.pk, actor=None)
    assert raised.value.retry_after == 2
    assert raised.value.details == {"next_attempt_at": refund.next_attempt_at}
    assert refund_settle(refund_id=refund.pk) == "in progress"

    # At the exact moment the wait ends, it may be asked about again.
    frozen.shift(timedelta(seconds=1.5))
    done = refund_retry(refund_id=refund.pk, actor=None)
    assert (done.status, done.attempts) == (RefundStatus.SUCCEEDED, 2)
    assert done.last_error == ""


def test_while_a_call_is_out_a_retry_is_told_the_seconds_until_its_lease_ends(
    payment_sandbox: SandboxServer, frozen: Any
) -> None:
    payment = _paid(payment_sandbox)
    refund = refund_record(payment_id=payment.pk, amount=Decimal("1.00"), reason="")
    Refund.objects.filter(pk=refund.pk).update(
        next_attempt_at=timezone.now() + timedelta(hours=2.4)
    )
    with pytest.raises(RefundInProgress) as raised:
        refund_retry(refund_id=refund.pk, actor=None)
    assert raised.value.retry_after == 8640


def test_retry_refuses_another_payments_refund_and_finished_refunds(
    payment_sandbox: SandboxServer,
) -> None:
    payment, other = _paid(payment_sandbox), _paid(payment_sandbox)
    refund = payment_refund(payment_id=payment.pk, amount=Decimal("1.00"), actor=None)
    with pytest.raises(NotFound) as missing:
        refund_retry(refund_id=refund.pk, payment_id=other.pk, actor=None)
    assert missing.value.code == "refund_not_found"
    with pytest.raises(NotFound):
        refund_retry(refund_id=refund.pk + 1000, actor=None)
    with pytest.raises(Conflict) as done:
        refund_retry(refund_id=refund.pk, payment_id=payment.pk, actor=None)
    assert done.value.code == "refund_not_pending"
    assert done.value.details == {"refund_status": RefundStatus.SUCCEEDED}
    assert refund_settle(refund_id=refund.pk) == "not pending"


def test_the_key_window_ends_exactly_24_hours_after_the_refund_was_recorded(
    payment_sandbox: SandboxServer, frozen: Any
) -> None:
    payment = _paid(payment_sandbox)
    kept = refund_record(payment_id=payment.pk, amount=Decimal("1.00"), reason="")
    late = refund_record(payment_id=payment.pk, amount=Decimal("2.00"), reason="")
    Refund.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(seconds=1))
    frozen.shift(KEY_WINDOW)
    with pytest.raises(Conflict) as raised:
        refund_retry(refund_id=late.pk, actor=None)
    assert raised.value.code == "refund_needs_review"
    assert refund_settle(refund_id=late.pk) == "review"
    assert Refund.objects.get(pk=late.pk).attempts == 0
    assert refund_settle(refund_id=kept.pk) == "succeeded"


def test_a_refused_refund_fails_releases_its_amount_once_and_says_why(
    payment_sandbox: SandboxServer,
) -> None:
    payment = _paid(payment_sandbox)
    payment_sandbox.set_behaviour("*", "refund_failed", times=1)
    with pytest.raises(ProviderRefused) as raised:
        payment_refund(payment_id=payment.pk, amount=Decimal("300.00"), actor=None)
    refund = Refund.objects.get()
    assert raised.value.details == {"refund_id": refund.pk, "reason": refund.failure_reason}
    assert refund.failure_reason
    assert (refund.status, refund.next_attempt_at) == (RefundStatus.FAILED, None)
    assert _reserved(payment) == 0
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCEEDED
    # Settling a failed refund again changes nothing.
    assert refund_settle(refund_id=refund.pk) == "not pending"
    assert _reserved(payment) == 0


def test_the_settler_reports_each_outcome(payment_sandbox: SandboxServer, frozen: Any) -> None:
    payment = _paid(payment_sandbox)
    unknown = refund_record(payment_id=payment.pk, amount=Decimal("1.00"), reason="")
    payment_sandbox.set_behaviour("*", "error_5xx", times=1)
    assert refund_settle(refund_id=unknown.pk) == "pending"
    assert Refund.objects.get(pk=unknown.pk).next_attempt_at == timezone.now() + RETRY_WAIT

    refused = refund_record(payment_id=payment.pk, amount=Decimal("2.00"), reason="")
    payment_sandbox.set_behaviour("*", "refund_failed", times=1)
    assert refund_settle(refund_id=refused.pk) == "failed"
    assert _reserved(payment) == Decimal("1.00")


@pytest.mark.parametrize(
    ("order_status", "ends_refunded"),
    [(OrderStatus.PAID, True), (OrderStatus.DELIVERED, True), (OrderStatus.CANCELLED, False)],
)
def test_the_refund_that_completes_the_amount_ends_the_payment_and_a_refundable_order(
    payment_sandbox: SandboxServer, order_status: str, ends_refunded: bool
) -> None:
    payment = _paid(payment_sandbox)
    Order.objects.filter(pk=payment.order_id).update(status=order_status)
    Payment.objects.filter(pk=payment.pk).update(needs_refund=True)
    payment_refund(payment_id=payment.pk, amount=PAID - Decimal("0.01"), actor=None)
    assert Payment.objects.get(pk=payment.pk).needs_refund
    assert Order.objects.get(pk=payment.order_id).status == order_status

    payment_refund(payment_id=payment.pk, amount=Decimal("0.01"), actor=None)
    after = Payment.objects.get(pk=payment.pk)
    assert (after.status, after.needs_refund) == (PaymentStatus.REFUNDED, False)
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == (OrderStatus.REFUNDED if ends_refunded else order_status)
    assert (order.refunded_at is not None) is ends_refunded
