"""Paying an order end to end against the provider sandbox (real adapters over HTTP):
start, pay, signed webhook, confirmation once, receipts; forged webhooks; retries;
declines; mismatches; money for a cancelled order; refunds; reconciliation."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from apps.authentication.services import ClientInfo, session_start
from apps.common.models import FailedTask
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_cancel, order_line_fulfil
from apps.orders.tests.factories import make_variant, place_order
from apps.payments.models import Payment, PaymentStatus, WebhookEvent
from apps.payments.services import payment_confirm
from apps.payments.tasks import process_order_payment, reconcile_pending_payments
from apps.vendors.tests.factories import StaffFactory, UserFactory
from tools.sandbox import SandboxServer


def bearer_client(user: Any) -> Client:
    """A client signed in the way API callers are: a bearer access token."""
    token = session_start(user=user, client=ClientInfo()).access
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


pytestmark = pytest.mark.django_db

PROVIDERS = ["paystack", "stripe", "square"]


class Shopper:
    def __init__(self, capture: Any) -> None:
        self.user = UserFactory.create()
        self.token = session_start(user=self.user, client=ClientInfo()).access
        self.client = Client()
        self.capture = capture

    def get(self, path: str) -> Any:
        return self.client.get(path, HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def post(self, path: str, body: Any = None) -> Any:
        with self.capture(execute=True):
            return self.client.post(
                path,
                body or {},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {self.token}",
            )


@pytest.fixture
def shopper(django_capture_on_commit_callbacks: Any) -> Shopper:
    return Shopper(django_capture_on_commit_callbacks)


@pytest.fixture
def order(shopper: Shopper) -> Order:
    return place_order(customer=shopper.user, items=[(make_variant(stock=5, price="7500.00"), 2)])


def start(shopper: Shopper, order: Order, provider: str) -> dict[str, Any]:
    response = shopper.post(f"/api/v2/orders/{order.pk}/payments/", {"provider": provider})
    assert response.status_code in (200, 201), response.content
    body: dict[str, Any] = response.json()
    return body


def deliver(
    client: Client, capture: Any, webhook: dict[str, Any], body: bytes | None = None
) -> Any:
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in webhook["headers"].items()
        if k.lower() != "content-type"
    }
    with capture(execute=True):
        return client.post(
            f"/api/v2/webhooks/{webhook['provider']}/",
            body if body is not None else webhook["body"],
            content_type="application/json",
            **headers,
        )


def payment_webhook(sandbox: SandboxServer) -> dict[str, Any]:
    hooks = [w for w in sandbox.sent_webhooks if "refund" not in str(w.get("type", ""))]
    return hooks[-1]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_start_pay_webhook_marks_the_order_paid_once_with_receipts(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    provider: str,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    started = start(shopper, order, provider)
    assert started["status"] == "pending"
    assert started["authorization_url"] or started["client_secret"]
    assert start(shopper, order, provider)["id"] == started["id"]  # reused
    mail.outbox.clear()

    payment_sandbox.pay(provider, started["provider_payment_id"])
    response = deliver(client, django_capture_on_commit_callbacks, payment_webhook(payment_sandbox))

    assert response.status_code == 200, response.content
    assert response.json()["duplicate"] is False
    order.refresh_from_db()
    payment = Payment.objects.get(pk=started["id"])
    assert (order.status, payment.status) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED)
    stock = Stock.objects.get(variant=order.lines.get().variant)
    assert (stock.on_hand, stock.reserved) == (3, 0)
    subjects = [m.subject for m in mail.outbox]
    assert sum("Receipt" in s for s in subjects) == 1
    assert sum("New paid order" in s for s in subjects) == 1
    detail = shopper.client.get(
        f"/api/v2/orders/{order.pk}/", HTTP_AUTHORIZATION=f"Bearer {shopper.token}"
    ).json()
    assert detail["status"] == "paid" and detail["payments"][0]["status"] == "succeeded"


def test_the_same_webhook_ten_times_pays_once(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    started = start(shopper, order, "paystack")
    payment_sandbox.pay("paystack", started["reference"])
    webhook = payment_webhook(payment_sandbox)
    mail.outbox.clear()

    answers = [deliver(client, django_capture_on_commit_callbacks, webhook) for _ in range(10)]

    assert [a.json()["duplicate"] for a in answers] == [False] + [True] * 9
    assert WebhookEvent.objects.count() == 1
    assert StockMovement.objects.filter(order_id=order.pk, reason="sold").count() == 1
    assert sum("Receipt" in m.subject for m in mail.outbox) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("forgery", ["wrong_secret", "tampered", "unsigned"])
def test_forged_webhooks_are_refused_without_side_effects(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    client: Client,
    django_capture_on_commit_callbacks: Any,
    provider: str,
    forgery: str,
) -> None:
    started = start(shopper, order, provider)
    payment_sandbox.pay(provider, started["provider_payment_id"])
    webhook = payment_webhook(payment_sandbox)
    body: bytes = webhook["body"]
    if forgery == "tampered":
        body = body.replace(b'"', b' "', 1)
    elif forgery == "unsigned":
        webhook = {**webhook, "headers": {"content-type": "application/json"}}
    else:
        signature = next(k for k in webhook["headers"] if "signature" in k.lower())
        webhook = {
            **webhook,
            "headers": {signature: "0" * 64 if provider != "stripe" else "t=1,v1=" + "0" * 64},
        }

    response = deliver(client, django_capture_on_commit_callbacks, webhook, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_unknown_provider_webhook_is_404(client: Client) -> None:
    assert (
        client.post("/api/v2/webhooks/paypal/", b"{}", content_type="application/json").status_code
        == 404
    )


@pytest.mark.parametrize(
    ("provider", "body", "status", "field"),
    [
        ("paystack", {"provider": "paypal"}, 422, "provider"),
        ("paystack", {}, 422, "provider"),
    ],
)
def test_start_bad_input(
    shopper: Shopper, order: Order, provider: str, body: dict[str, Any], status: int, field: str
) -> None:
    response = shopper.post(f"/api/v2/orders/{order.pk}/payments/", body)

    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == field


def test_only_the_owner_pays_and_only_unpaid_orders(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    django_capture_on_commit_callbacks: Any,
) -> None:
    stranger = Shopper(django_capture_on_commit_callbacks)
    assert (
        stranger.post(f"/api/v2/orders/{order.pk}/payments/", {"provider": "stripe"}).status_code
        == 404
    )
    order_cancel(order_id=order.pk, reason="customer")
    response = shopper.post(f"/api/v2/orders/{order.pk}/payments/", {"provider": "stripe"})
    assert response.status_code == 409 and response.json()["code"] == "order_not_payable"
    assert not Payment.objects.exists()


def test_provider_5xx_is_retried_with_backoff_then_succeeds(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    json_logs: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    started = start(shopper, order, "stripe")
    payment_sandbox.pay("stripe", started["provider_payment_id"])
    payment_sandbox.set_behaviour(started["provider_payment_id"], "error_5xx", times=2)

    with django_capture_on_commit_callbacks(execute=True):
        process_order_payment.enqueue(payment_id=started["id"])

    retries = [line for line in json_logs() if line["message"] == "task.retry_scheduled"]
    assert [r["next_attempt"] for r in retries] == [2, 3]
    assert retries[1]["delay_seconds"] > retries[0]["delay_seconds"]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert not FailedTask.objects.exists()


def test_a_timeout_is_retried(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.PAYMENT_HTTP_TIMEOUT = 0.3
    started = start(shopper, order, "paystack")
    payment_sandbox.pay("paystack", started["reference"])
    payment_sandbox.set_behaviour(started["reference"], "timeout", times=1, delay=1.0)

    with django_capture_on_commit_callbacks(execute=True):
        process_order_payment.enqueue(payment_id=started["id"])

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_a_decline_fails_the_payment_and_the_order_waits(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    started = start(shopper, order, "stripe")
    payment_sandbox.pay("stripe", started["provider_payment_id"], outcome="decline")
    deliver(client, django_capture_on_commit_callbacks, payment_webhook(payment_sandbox))

    assert Payment.objects.get(pk=started["id"]).status == PaymentStatus.FAILED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    # The customer can try again with a new payment.
    assert start(shopper, order, "stripe")["id"] != started["id"]


@pytest.mark.parametrize("mode", ["amount_mismatch", "currency_mismatch"])
def test_a_mismatched_amount_is_not_marked_paid_and_alerts(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    json_logs: Any,
    django_capture_on_commit_callbacks: Any,
    mode: str,
) -> None:
    started = start(shopper, order, "paystack")
    payment_sandbox.pay("paystack", started["reference"])
    payment_sandbox.set_behaviour(started["reference"], mode)

    with django_capture_on_commit_callbacks(execute=True):
        process_order_payment.enqueue(payment_id=started["id"])

    assert Payment.objects.get(pk=started["id"]).status == PaymentStatus.MISMATCH
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    alert = next(line for line in json_logs() if line["message"] == "payment.amount_mismatch")
    assert alert["level"] == "error" and alert["alert"] is True


def test_money_for_a_cancelled_order_is_flagged_for_refund(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    django_capture_on_commit_callbacks: Any,
) -> None:
    started = start(shopper, order, "paystack")
    payment_sandbox.pay("paystack", started["reference"])
    order_cancel(order_id=order.pk, reason="expired")

    with django_capture_on_commit_callbacks(execute=True):
        process_order_payment.enqueue(payment_id=started["id"])

    payment = Payment.objects.get(pk=started["id"])
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.needs_refund and payment.needs_refund_reason == "order_expired"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    # The customer sees it: verify and the order say the money is being refunded.
    check = shopper.post(f"/api/v2/orders/{order.pk}/payments/{started['id']}/verify/")
    assert check.status_code == 200, check.content
    assert check.json()["outcome"] == "flagged for refund"
    assert check.json()["payment"]["needs_refund"] is True
    detail = shopper.get(f"/api/v2/orders/{order.pk}/").json()
    assert detail["status"] == "cancelled" and detail["needs_refund"] is True
    assert detail["payments"][0]["needs_refund"] is True
    listed = shopper.get("/api/v2/orders/").json()["items"][0]
    assert listed["id"] == order.pk and listed["needs_refund"] is True


def test_client_verify_then_webhook_pays_once(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    started = start(shopper, order, "stripe")
    payment_sandbox.pay("stripe", started["provider_payment_id"])

    check = shopper.post(f"/api/v2/orders/{order.pk}/payments/{started['id']}/verify/")
    deliver(client, django_capture_on_commit_callbacks, payment_webhook(payment_sandbox))

    assert check.status_code == 200 and check.json()["outcome"] == "paid"
    assert StockMovement.objects.filter(order_id=order.pk, reason="sold").count() == 1
    assert payment_confirm(payment_id=started["id"]) == "already paid"


def test_reconciliation_settles_payments_whose_webhook_was_lost(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    time_machine: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    started = start(shopper, order, "paystack")
    payment_sandbox.pay("paystack", started["reference"])  # webhook never delivered
    time_machine.move_to(Payment.objects.get(pk=started["id"]).created_at, tick=False)
    time_machine.shift(16 * 60)

    with django_capture_on_commit_callbacks(execute=True):
        reconcile_pending_payments.enqueue(scheduled_tick=0)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def _pay(payment_sandbox: SandboxServer, shopper: Shopper, order: Order, provider: str) -> int:
    started = start(shopper, order, provider)
    payment_sandbox.pay(provider, started["provider_payment_id"])
    with shopper.capture(execute=True):
        process_order_payment.enqueue(payment_id=started["id"])
    return int(started["id"])


def test_a_full_refund_of_a_fulfilled_order_makes_it_refunded(
    payment_sandbox: SandboxServer, shopper: Shopper, order: Order
) -> None:
    payment_id = _pay(payment_sandbox, shopper, order, "stripe")
    for line in order.lines.all():
        order_line_fulfil(line_id=line.pk, store=None)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.FULFILLED
    staff = bearer_client(StaffFactory.create())

    with shopper.capture(execute=True):
        refund = staff.post(
            f"/api/v1/payments/{payment_id}/refunds/", {}, content_type="application/json"
        )

    assert refund.status_code == 201, refund.content
    assert refund.json()["order_status"] == "refunded"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED


@pytest.mark.parametrize("provider", PROVIDERS)
def test_staff_refund_in_part_then_in_full(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    provider: str,
) -> None:
    payment_id = _pay(payment_sandbox, shopper, order, provider)
    staff = bearer_client(StaffFactory.create())
    url = f"/api/v1/payments/{payment_id}/refunds/"
    mail.outbox.clear()

    with shopper.capture(execute=True):
        part = staff.post(
            url,
            {"amount": "5000.00", "reason": "one shirt returned"},
            content_type="application/json",
        )
    assert part.status_code == 201, part.content
    assert part.json()["payment_status"] == "partially_refunded"
    assert part.json()["order_status"] == "paid"
    too_much = staff.post(url, {"amount": "10000.01"}, content_type="application/json")
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "amount"
    with shopper.capture(execute=True):
        rest = staff.post(url, {}, content_type="application/json")

    assert rest.status_code == 201
    assert Decimal(rest.json()["amount"]) == Decimal("10000.00")
    assert rest.json()["payment_status"] == "refunded"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED
    assert sum("Refund" in m.subject for m in mail.outbox) == 2
    again = staff.post(url, {}, content_type="application/json")
    assert again.status_code == 409


def test_refunds_are_staff_only_and_validate_input(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
) -> None:
    payment_id = _pay(payment_sandbox, shopper, order, "paystack")
    url = f"/api/v1/payments/{payment_id}/refunds/"
    customer = bearer_client(shopper.user)
    staff = bearer_client(StaffFactory.create())

    assert customer.post(url, {}, content_type="application/json").status_code == 403
    assert Client().post(url, {}, content_type="application/json").status_code == 401
    bad = staff.post(url, {"amount": "-1"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "amount"
    assert (
        staff.post(
            "/api/v1/payments/999999/refunds/", {}, content_type="application/json"
        ).status_code
        == 404
    )


def test_a_provider_outage_during_refund_leaves_it_pending_and_reserved(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
) -> None:
    """A 5xx tells nothing of whether the refund happened: it stays pending, its amount
    reserved (see test_refunds.py for how it is settled)."""
    payment_id = _pay(payment_sandbox, shopper, order, "stripe")
    payment = Payment.objects.get(pk=payment_id)
    payment_sandbox.set_behaviour(payment.provider_payment_id, "error_5xx")
    staff = bearer_client(StaffFactory.create())

    response = staff.post(
        f"/api/v1/payments/{payment_id}/refunds/", {}, content_type="application/json"
    )

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == (PaymentStatus.SUCCEEDED, payment.amount)


def test_a_stale_stripe_webhook_is_refused(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    client: Client,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    """Correctly signed, but with a timestamp six minutes old: a replay, refused."""
    started = start(shopper, order, "stripe")
    payment_sandbox.pay("stripe", started["provider_payment_id"])
    webhook = payment_webhook(payment_sandbox)
    stamp = int(time.time()) - 360
    secret = settings.PAYMENT_PROVIDERS["stripe"]["WEBHOOK_SECRET"].encode()
    signature = hmac.new(secret, f"{stamp}.".encode() + webhook["body"], hashlib.sha256)
    header = {"Stripe-Signature": f"t={stamp},v1={signature.hexdigest()}"}

    response = deliver(client, django_capture_on_commit_callbacks, {**webhook, "headers": header})

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_staff_see_payments_webhooks_and_flags_in_the_admin(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
) -> None:
    payment_id = _pay(payment_sandbox, shopper, order, "paystack")
    staff = Client()
    staff.force_login(StaffFactory.create(is_staff=True, is_superuser=True))

    listing = staff.get("/admin/payments/payment/", {"needs_refund__exact": "0"})
    detail = staff.get(f"/admin/payments/payment/{payment_id}/change/")
    order_page = staff.get(f"/admin/orders/order/{order.pk}/change/")

    assert listing.status_code == detail.status_code == order_page.status_code == 200
    reference = Payment.objects.get(pk=payment_id).reference
    assert reference in listing.text and reference in order_page.text
    assert staff.get("/admin/payments/webhookevent/").status_code == 200


def test_paystack_start_after_a_timeout_succeeds_with_a_fresh_reference(
    payment_sandbox: SandboxServer, shopper: Shopper, order: Order, settings: Any
) -> None:
    settings.PAYMENT_HTTP_TIMEOUT = 0.3
    payment_sandbox.set_behaviour("*", "timeout", times=1, delay=1.0)

    first = shopper.post(f"/api/v2/orders/{order.pk}/payments/", {"provider": "paystack"})
    second = shopper.post(f"/api/v2/orders/{order.pk}/payments/", {"provider": "paystack"})

    assert first.status_code == 503 and first.json()["code"] == "provider_unavailable"
    assert second.status_code == 200, second.content
    assert second.json()["authorization_url"]
    assert Payment.objects.count() == 1


def test_a_signed_but_unreadable_webhook_is_a_client_error(client: Client, settings: Any) -> None:
    body = b"not json"
    secret = settings.PAYMENT_PROVIDERS["paystack"]["SECRET_KEY"].encode()
    signature = hmac.new(secret, body, hashlib.sha512).hexdigest()

    response = client.post(
        "/api/v2/webhooks/paystack/",
        body,
        content_type="application/json",
        HTTP_X_PAYSTACK_SIGNATURE=signature,
    )

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_verify_during_a_provider_outage_is_503_not_500(
    payment_sandbox: SandboxServer, shopper: Shopper, order: Order
) -> None:
    started = start(shopper, order, "stripe")
    payment_sandbox.set_behaviour(started["provider_payment_id"], "error_5xx")

    response = shopper.post(f"/api/v2/orders/{order.pk}/payments/{started['id']}/verify/")

    assert response.status_code == 503
    assert response.json()["code"] == "provider_unavailable"
    assert Payment.objects.get(pk=started["id"]).status == PaymentStatus.PENDING


def test_a_provider_that_is_not_enabled_is_refused(
    shopper: Shopper, order: Order, client: Client, settings: Any
) -> None:
    settings.PAYMENT_PROVIDERS = {"paystack": settings.PAYMENT_PROVIDERS["paystack"]}

    start_square = shopper.post(f"/api/v2/orders/{order.pk}/payments/", {"provider": "square"})
    webhook = client.post("/api/v2/webhooks/square/", b"{}", content_type="application/json")

    assert start_square.status_code == 422
    assert start_square.json()["errors"][0]["field"] == "provider"
    assert webhook.status_code == 404


def _signed(sandbox: SandboxServer, provider: str, event: dict[str, Any]) -> dict[str, Any]:
    """A webhook as the sandbox would send it: ``event`` signed with the provider's key."""
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", **sandbox.sandbox.apis[provider].sign(body)}
    return {"provider": provider, "headers": headers, "body": body}


def _paid_webhook(
    payment_sandbox: SandboxServer, shopper: Shopper, order: Order, provider: str
) -> dict[str, Any]:
    started = start(shopper, order, provider)
    payment_sandbox.pay(provider, started["provider_payment_id"])
    return payment_webhook(payment_sandbox)


def test_the_same_event_id_from_two_providers_is_two_events(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    stripe_hook = _paid_webhook(payment_sandbox, shopper, order, "stripe")
    event_id = json.loads(stripe_hook["body"])["id"]
    square_event = json.loads(_paid_webhook(payment_sandbox, shopper, order, "square")["body"])
    square_hook = _signed(payment_sandbox, "square", {**square_event, "event_id": event_id})

    answers = [
        deliver(client, django_capture_on_commit_callbacks, hook).json()
        for hook in (stripe_hook, square_hook, stripe_hook, square_hook)
    ]

    assert [a["event_id"] for a in answers] == [event_id] * 4
    assert [a["duplicate"] for a in answers] == [False, False, True, True]
    stored = WebhookEvent.objects.filter(event_id=event_id)
    assert sorted(stored.values_list("provider", flat=True)) == ["square", "stripe"]


def test_a_signed_webhook_with_an_overlong_event_id_is_refused_and_not_stored(
    payment_sandbox: SandboxServer,
    shopper: Shopper,
    order: Order,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    event = json.loads(_paid_webhook(payment_sandbox, shopper, order, "stripe")["body"])
    hook = _signed(payment_sandbox, "stripe", {**event, "id": "evt_" + "x" * 300})

    response = deliver(client, django_capture_on_commit_callbacks, hook)

    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert "event_id" in json.dumps(problem)
    assert not WebhookEvent.objects.exists()
    assert Payment.objects.get().status == PaymentStatus.PENDING
