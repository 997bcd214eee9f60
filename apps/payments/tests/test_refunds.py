"""Refunds that can never pay out twice, end to end against the provider sandbox.

A refund whose provider call has no definite answer (the sandbox records the refund and
then answers too late, or drops the connection, or answers 5xx) stays ``pending`` with
its amount reserved. The reconciler and staff retries ask again with the refund's own
idempotency key (Stripe, Square) or look for it first (Paystack): the sandbox must end
up with exactly one refund. Only a provider that says the refund failed frees the
amount."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from apps.authentication.services import ClientInfo, session_start
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import make_variant, place_order
from apps.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from apps.payments.services.refunds import KEY_WINDOW, RETRY_WAIT
from apps.payments.tasks import process_order_payment, reconcile_pending_payments
from apps.vendors.tests.factories import StaffFactory, UserFactory
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

PROVIDERS = ["paystack", "stripe", "square"]
LOST_ANSWERS = ["refund_timeout", "refund_dropped"]
# Past the adapters' HTTP timeout in these tests (0.3 s).
LATE = 1.0


def bearer_client(user: Any) -> Client:
    token = session_start(user=user, client=ClientInfo()).access
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


class Shop:
    """A customer's paid order, the staff who refund it, and the sandbox behind it."""

    def __init__(self, sandbox: SandboxServer, capture: Any, provider: str) -> None:
        self.sandbox = sandbox
        self.capture = capture
        self.customer = UserFactory.create()
        self.order = place_order(
            customer=self.customer, items=[(make_variant(stock=5, price="7500.00"), 2)]
        )
        self.staff = bearer_client(StaffFactory.create())
        shopper = bearer_client(self.customer)
        with capture(execute=True):
            started = shopper.post(
                f"/api/v2/orders/{self.order.pk}/payments/",
                {"provider": provider},
                content_type="application/json",
            ).json()
        sandbox.pay(provider, started["provider_payment_id"])
        with capture(execute=True):
            process_order_payment.enqueue(payment_id=started["id"])
        self.payment = Payment.objects.get(pk=started["id"])
        assert self.payment.status == PaymentStatus.SUCCEEDED
        mail.outbox.clear()

    def refund(self, body: dict[str, Any] | None = None) -> Any:
        with self.capture(execute=True):
            return self.staff.post(
                f"/api/v1/payments/{self.payment.pk}/refunds/",
                body or {},
                content_type="application/json",
            )

    def retry(self, refund_id: int, client: Client | None = None) -> Any:
        with self.capture(execute=True):
            return (client or self.staff).post(
                f"/api/v1/payments/{self.payment.pk}/refunds/{refund_id}/retry/"
            )

    def reconcile(self) -> None:
        with self.capture(execute=True):
            reconcile_pending_payments.enqueue(scheduled_tick=0)

    def provider_refunds(self) -> list[dict[str, Any]]:
        """The refunds the sandbox recorded for this payment (failed ones included)."""
        [txn] = [
            t
            for t in self.sandbox.state()["transactions"]
            if t["provider"] == self.payment.provider and t["reference"] == self.payment.reference
        ]
        refunds: list[dict[str, Any]] = txn["refunds"]
        return refunds

    def reserved(self) -> Decimal:
        return Payment.objects.get(pk=self.payment.pk).refunded_amount

    def refund_emails(self) -> int:
        return sum("Refund" in m.subject for m in mail.outbox)


@pytest.fixture
def shop(
    payment_sandbox: SandboxServer, django_capture_on_commit_callbacks: Any, settings: Any
) -> Any:
    def make(provider: str) -> Shop:
        made = Shop(payment_sandbox, django_capture_on_commit_callbacks, provider)
        settings.PAYMENT_HTTP_TIMEOUT = 0.3
        return made

    return make


def _after_the_wait(time_machine: Any) -> None:
    """Move past the pause after an unknown outcome (the provider may still be busy)."""
    time_machine.shift(RETRY_WAIT + timedelta(seconds=1))


# --- the answer is lost after the provider refunded -------------------------------------------


@pytest.mark.parametrize("lost", LOST_ANSWERS)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_refund_whose_answer_is_lost_is_settled_once_by_reconciliation(
    shop: Any, provider: str, lost: str, time_machine: Any
) -> None:
    # Given a paid order, and a provider that refunds but whose answer never arrives
    time_machine.move_to(timedelta(0), tick=False)
    given: Shop = shop(provider)
    given.sandbox.set_behaviour(given.payment.provider_payment_id, lost, times=1, delay=LATE)

    # When staff refund it
    response = given.refund({"reason": "parcel lost"})

    # Then the refund is pending, its amount still reserved, nothing announced
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    refund = Refund.objects.get(pk=response.json()["id"])
    assert refund.status == RefundStatus.PENDING and refund.attempts == 1
    assert given.reserved() == given.payment.amount
    assert Order.objects.get(pk=given.order.pk).status == OrderStatus.PAID
    assert given.refund_emails() == 0
    assert len(given.provider_refunds()) == 1

    # When the reconciler runs after the pause
    _after_the_wait(time_machine)
    given.reconcile()

    # Then it is succeeded from the provider's answer, the refund made the first time
    refund.refresh_from_db()
    [made] = given.provider_refunds()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.provider_refund_id == str(made["id"])
    assert refund.attempts == 2
    payment = Payment.objects.get(pk=given.payment.pk)
    assert (payment.status, payment.refunded_amount) == (PaymentStatus.REFUNDED, payment.amount)
    assert Order.objects.get(pk=given.order.pk).status == OrderStatus.REFUNDED
    assert given.refund_emails() == 1

    # And neither staff nor another round reach the provider again
    again = given.retry(refund.pk)
    assert again.status_code == 409 and again.json()["code"] == "refund_not_pending"
    assert given.refund({}).status_code == 409
    _after_the_wait(time_machine)
    given.reconcile()
    assert len(given.provider_refunds()) == 1
    assert given.refund_emails() == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_staff_retry_of_a_timed_out_refund_never_makes_a_second_one(
    shop: Any, provider: str, time_machine: Any
) -> None:
    time_machine.move_to(timedelta(0), tick=False)
    given: Shop = shop(provider)
    given.sandbox.set_behaviour(
        given.payment.provider_payment_id, "refund_timeout", times=1, delay=LATE
    )
    refund_id = given.refund({"amount": "5000.00"}).json()["id"]

    # At once: the provider may still be working on it, so nobody asks yet
    too_soon = given.retry(refund_id)
    assert too_soon.status_code == 409, too_soon.content
    assert too_soon.json()["code"] == "refund_in_progress"
    assert 0 < int(too_soon["Retry-After"]) <= RETRY_WAIT.total_seconds()
    assert too_soon.json()["next_attempt_at"]

    _after_the_wait(time_machine)
    retried = given.retry(refund_id)

    assert retried.status_code == 200, retried.content
    body = retried.json()
    assert (body["status"], body["payment_status"]) == ("succeeded", "partially_refunded")
    [made] = given.provider_refunds()
    assert body["provider_refund_id"] == str(made["id"])
    assert given.reserved() == Decimal("5000.00")
    assert given.retry(refund_id).status_code == 409
    assert len(given.provider_refunds()) == 1
    assert given.refund_emails() == 1


def test_the_admin_retry_reuses_the_refund_and_reports_it(
    shop: Any, time_machine: Any, django_capture_on_commit_callbacks: Any
) -> None:
    time_machine.move_to(timedelta(0), tick=False)
    given: Shop = shop("paystack")
    given.sandbox.set_behaviour(given.payment.reference, "refund_dropped", times=1)
    refund_id = given.refund().json()["id"]
    admin = Client()
    admin.force_login(StaffFactory.create(is_staff=True, is_superuser=True))
    action = {"action": "retry_with_provider", "_selected_action": [refund_id]}

    soon = admin.post("/admin/payments/refund/", action, follow=True)
    _after_the_wait(time_machine)
    with django_capture_on_commit_callbacks(execute=True):
        later = admin.post("/admin/payments/refund/", action, follow=True)

    assert "ask again later" in soon.text
    assert later.status_code == 200 and "refunded." in later.text
    assert Refund.objects.get(pk=refund_id).status == RefundStatus.SUCCEEDED
    assert len(given.provider_refunds()) == 1
    listing = admin.get("/admin/payments/refund/", {"status__exact": "succeeded"})
    assert listing.status_code == 200 and given.payment.reference in listing.text


# --- the provider says the refund failed ----------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_refund_the_provider_fails_releases_the_amount(shop: Any, provider: str) -> None:
    given: Shop = shop(provider)
    given.sandbox.set_behaviour(given.payment.provider_payment_id, "refund_failed", times=1)

    response = given.refund()

    assert response.status_code == 502, response.content
    assert response.json()["code"] == "provider_refused"
    [refund] = Refund.objects.filter(payment=given.payment)
    assert refund.status == RefundStatus.FAILED
    assert given.reserved() == Decimal("0")
    assert Payment.objects.get(pk=given.payment.pk).status == PaymentStatus.SUCCEEDED
    assert given.refund_emails() == 0
    # The amount is free again: the next refund goes through
    assert given.refund().status_code == 201
    assert [r["status"] for r in given.provider_refunds()] == ["failed", "succeeded"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_timed_out_refund_the_provider_failed_is_released_by_reconciliation(
    shop: Any, provider: str, time_machine: Any
) -> None:
    time_machine.move_to(timedelta(0), tick=False)
    given: Shop = shop(provider)
    given.sandbox.set_behaviour(given.payment.provider_payment_id, "refund_failed", times=1)
    given.sandbox.set_behaviour("*", "refund_timeout", times=1, delay=LATE)

    response = given.refund()
    assert response.status_code == 202
    assert given.reserved() == given.payment.amount  # unknown: still reserved

    _after_the_wait(time_machine)
    given.reconcile()

    refund = Refund.objects.get(pk=response.json()["id"])
    assert refund.status == RefundStatus.FAILED
    assert given.reserved() == Decimal("0")
    assert Payment.objects.get(pk=given.payment.pk).status == PaymentStatus.SUCCEEDED
    assert Order.objects.get(pk=given.order.pk).status == OrderStatus.PAID
    assert [r["status"] for r in given.provider_refunds()] == ["failed"]
    assert given.refund_emails() == 0


# --- no answer at all ---------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_that_never_answers_keeps_the_amount_reserved(
    shop: Any, provider: str, time_machine: Any
) -> None:
    time_machine.move_to(timedelta(0), tick=False)
    given: Shop = shop(provider)
    given.sandbox.set_behaviour("*", "error_5xx")

    refund_id = given.refund().json()["id"]
    for _ in range(2):
        _after_the_wait(time_machine)
        given.reconcile()

    refund = Refund.objects.get(pk=refund_id)
    assert (refund.status, refund.attempts) == (RefundStatus.PENDING, 3)
    assert "500" in refund.last_error
    assert given.reserved() == given.payment.amount
    assert given.provider_refunds() == []

    # Once the provider is back, the next round makes the refund, once
    given.sandbox.set_behaviour("*", "normal")
    _after_the_wait(time_machine)
    given.reconcile()
    assert Refund.objects.get(pk=refund_id).status == RefundStatus.SUCCEEDED
    assert len(given.provider_refunds()) == 1


def test_a_refund_pending_past_the_key_window_is_left_for_people(
    shop: Any, time_machine: Any, json_logs: Any
) -> None:
    time_machine.move_to(timedelta(0), tick=False)
    given: Shop = shop("stripe")
    given.sandbox.set_behaviour("*", "error_5xx", times=1)
    refund_id = given.refund().json()["id"]

    time_machine.shift(KEY_WINDOW + timedelta(minutes=1))
    given.reconcile()
    retried = given.retry(refund_id, client=bearer_client(StaffFactory.create()))

    assert retried.status_code == 409 and retried.json()["code"] == "refund_needs_review"
    assert Refund.objects.get(pk=refund_id).status == RefundStatus.PENDING
    assert given.reserved() == given.payment.amount
    assert given.provider_refunds() == []
    alerts = [line for line in json_logs() if line.get("message") == "refunds.need_review"]
    assert alerts and alerts[0]["alert"] is True and alerts[0]["refund_ids"] == [refund_id]


# --- bad input --------------------------------------------------------------------------------


def test_refund_retry_refuses_bad_requests(shop: Any, time_machine: Any) -> None:
    time_machine.move_to(timedelta(0), tick=False)
    given: Shop = shop("paystack")
    given.sandbox.set_behaviour("*", "error_5xx", times=1)
    pending = given.refund({"amount": "1000.00"}).json()["id"]
    done = given.refund({"amount": "2000.00"}).json()["id"]
    other: Shop = shop("stripe")
    url = f"/api/v1/payments/{given.payment.pk}/refunds/{{}}/retry/"

    assert Client().post(url.format(pending)).status_code == 401
    assert bearer_client(given.customer).post(url.format(pending)).status_code == 403
    unknown = given.staff.post(url.format(999999))
    assert unknown.status_code == 404 and unknown.json()["code"] == "refund_not_found"
    other_payment = other.staff.post(
        f"/api/v1/payments/{other.payment.pk}/refunds/{pending}/retry/"
    )
    assert other_payment.status_code == 404
    assert given.staff.post(url.format("abc")).status_code == 404
    for huge in (2**63, 10**30):  # beyond any id: not found, not a server error
        assert given.staff.post(url.format(huge)).status_code == 404
        beyond = given.staff.post(f"/api/v1/payments/{huge}/refunds/{pending}/retry/")
        assert beyond.status_code == 404
    not_pending = given.staff.post(url.format(done))
    assert not_pending.status_code == 409 and not_pending.json()["code"] == "refund_not_pending"
    busy = given.staff.post(url.format(pending))
    assert busy.status_code == 409 and busy.json()["code"] == "refund_in_progress"
    assert busy["Content-Type"].startswith("application/problem+json")
    assert Refund.objects.get(pk=pending).attempts == 1  # none of these asked the provider


def test_refunding_what_a_pending_refund_holds_is_a_conflict(shop: Any) -> None:
    given: Shop = shop("square")
    given.sandbox.set_behaviour("*", "error_5xx", times=1)  # Square's order look-up
    assert given.refund().status_code == 202

    again = given.refund()
    part = given.refund({"amount": "1.00"})

    assert again.status_code == 409 and again.json()["code"] == "refund_pending"
    assert again.json()["pending_refund_ids"] == [Refund.objects.get().pk]
    assert part.status_code == 409
    assert Refund.objects.count() == 1
