"""Starting a payment at the service level, against the provider sandbox: one pending
payment per order and provider, the amount and customer the provider is told, and what a
provider that fails or refuses leaves behind."""

from __future__ import annotations

import re
from typing import Any

import pytest

from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import make_variant, place_order
from apps.payments.exceptions import ProviderRefused, ProviderUnavailable
from apps.payments.models import Payment, PaymentStatus
from apps.payments.services import checkout, payment_start
from apps.vendors.tests.factories import UserFactory
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db


def _order(price: str = "2500.00", quantity: int = 2) -> Order:
    return place_order(customer=UserFactory.create(), items=[(make_variant(price=price), quantity)])


def _start(order: Order, provider: str = "paystack") -> tuple[Payment, bool]:
    return payment_start(customer_id=order.customer_id, order_id=order.pk, provider=provider)


def test_the_provider_is_told_the_order_total_in_minor_units_and_the_customers_email(
    payment_sandbox: SandboxServer,
) -> None:
    order = _order(price="2500.50", quantity=2)
    payment, created = _start(order)

    assert created
    assert (payment.amount, payment.currency) == (order.total_amount, order.currency)
    assert re.fullmatch(rf"{order.order_number}-[0-9A-F]{{8}}", payment.reference)
    txn = payment_sandbox.sandbox.find("paystack", payment.reference)
    assert txn.amount == int(order.total_amount * 100)
    assert txn.currency == order.currency
    assert txn.email == order.customer.email
    assert txn.metadata["order_number"] == order.order_number
    assert txn.metadata["reference"] == payment.reference
    assert payment.provider_payment_id in txn.ids()
    assert payment.authorization_url.startswith(payment_sandbox.url)
    assert payment.status == PaymentStatus.PENDING


def test_stripe_hands_back_a_client_secret_for_the_card_form(
    payment_sandbox: SandboxServer,
) -> None:
    payment, _ = _start(_order(), "stripe")
    assert payment.provider_payment_id.startswith("pi_")
    assert payment.client_secret.startswith(f"{payment.provider_payment_id}_secret")


def test_starting_again_resumes_the_pending_payment_without_asking_the_provider(
    payment_sandbox: SandboxServer,
) -> None:
    order = _order()
    first, _ = _start(order)
    again, created = _start(order)
    assert not created
    assert again.pk == first.pk and again.reference == first.reference
    assert len(payment_sandbox.state()["transactions"]) == 1
    other, created = _start(order, "stripe")
    assert created and other.pk != first.pk
    assert Payment.objects.filter(order=order).count() == 2


@pytest.mark.parametrize("provider", ["paypal", "", "PAYSTACK"])
def test_an_unknown_provider_is_refused_on_the_provider_field(
    payment_sandbox: SandboxServer, provider: str
) -> None:
    order = _order()
    with pytest.raises(ValidationFailed) as raised:
        _start(order, provider)
    [error] = raised.value.field_errors
    assert (error.field, error.code) == ("provider", "invalid_choice")
    assert not Payment.objects.exists()


def test_a_provider_that_is_not_configured_is_refused_and_the_message_lists_the_others(
    payment_sandbox: SandboxServer, settings: Any
) -> None:
    settings.PAYMENT_PROVIDERS = {
        name: config for name, config in settings.PAYMENT_PROVIDERS.items() if name != "square"
    }
    with pytest.raises(ValidationFailed) as raised:
        _start(_order(), "square")
    assert raised.value.field_errors[0].message == "One of: paystack, stripe."


def test_another_customers_order_is_not_found(payment_sandbox: SandboxServer) -> None:
    order = _order()
    with pytest.raises(NotFound) as raised:
        payment_start(customer_id=UserFactory.create().pk, order_id=order.pk, provider="paystack")
    assert raised.value.code == "order_not_found"
    assert not Payment.objects.exists()


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.CANCELLED])
def test_only_an_order_awaiting_payment_can_be_paid(
    payment_sandbox: SandboxServer, status: str
) -> None:
    order = _order()
    Order.objects.filter(pk=order.pk).update(status=status)
    with pytest.raises(Conflict) as raised:
        _start(order)
    assert raised.value.code == "order_not_payable"
    assert raised.value.details == {"order_status": status}
    assert not Payment.objects.exists()


@pytest.mark.parametrize(("provider", "fresh_reference"), [("paystack", True), ("stripe", False)])
def test_a_provider_that_does_not_answer_leaves_the_payment_to_start_again(
    payment_sandbox: SandboxServer, provider: str, fresh_reference: bool, monkeypatch: Any
) -> None:
    drawn = iter(["0000000a", "0000000b"])
    monkeypatch.setattr(checkout.secrets, "token_hex", lambda _: next(drawn))
    order = _order()
    payment_sandbox.set_behaviour("*", "error_5xx", times=10)
    with pytest.raises(ProviderUnavailable):
        _start(order, provider)
    [payment] = Payment.objects.filter(order=order)
    assert payment.provider_payment_id == ""

    payment_sandbox.set_behaviour("*", "normal")
    started, created = _start(order, provider)
    assert not created and started.pk == payment.pk
    assert started.provider_payment_id
    # Paystack refuses a reference twice and a timed-out call may have used it.
    suffix = "0000000B" if fresh_reference else "0000000A"
    assert started.reference == f"{order.order_number}-{suffix}"
    assert len(payment_sandbox.state()["transactions"]) == 1


def test_a_provider_that_refuses_leaves_no_provider_id(payment_sandbox: SandboxServer) -> None:
    order = _order()
    type(order.customer).objects.filter(pk=order.customer_id).update(email="no-at-sign")
    with pytest.raises(ProviderRefused):
        _start(order)
    [payment] = Payment.objects.filter(order=order)
    assert payment.provider_payment_id == ""
    assert payment.status == PaymentStatus.PENDING
