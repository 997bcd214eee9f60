"""Where a verified webhook leads: it names only a payment of its own provider (found by
our reference or by the provider's id), a payment event asks for that payment to be
confirmed and nothing else does, a transfer event hands the payout its reference, and a
redelivery — under today's id or an earlier release's — answers with the same payment."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.conf import settings

from apps.common.events import Event, subscribe
from apps.orders.tests.factories import place_order
from apps.payments.events import PaymentConfirmationRequested, TransferEventReceived
from apps.payments.models import Payment, WebhookEvent
from apps.payments.services import webhook_receive
from apps.payments.services.webhooks import EVENT_ID_MAX_LENGTH, WebhookReceipt

pytestmark = pytest.mark.django_db

CaptureCallbacks = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def published(clean_event_handlers: None) -> Iterator[list[Event]]:
    seen: list[Event] = []
    for event_type in (PaymentConfirmationRequested, TransferEventReceived):
        subscribe(event_type)(seen.append)
    yield seen


def _deliver(
    event: dict[str, Any], capture: CaptureCallbacks, *, indent: int | None = None
) -> WebhookReceipt:
    body = json.dumps(event, indent=indent).encode()
    secret = settings.PAYMENT_PROVIDERS["paystack"]["SECRET_KEY"].encode()
    signature = hmac.new(secret, body, hashlib.sha512).hexdigest()
    with capture(execute=True):
        return webhook_receive(
            provider="paystack", headers={"x-paystack-signature": signature}, body=body
        )


def _payment(reference: str, *, provider: str = "paystack", provider_id: str = "") -> Payment:
    order = place_order()
    return Payment.objects.create(
        order=order,
        provider=provider,
        reference=reference,
        provider_payment_id=provider_id,
        amount=order.total_amount,
        currency=order.currency,
    )


def _event(name: str, reference: str | None, object_id: int = 7) -> dict[str, Any]:
    data: dict[str, Any] = {"id": object_id, "status": "success", "amount": 500_000}
    if reference is not None:
        data["reference"] = reference
    return {"event": name, "data": data}


def test_a_charge_is_stored_once_and_asks_for_its_payment_to_be_confirmed(
    published: list[Event], django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    payment = _payment("FS-ours-1")

    first = _deliver(
        _event("charge.success", payment.reference), django_capture_on_commit_callbacks
    )
    again = _deliver(
        _event("charge.success", payment.reference), django_capture_on_commit_callbacks, indent=2
    )

    assert (first.duplicate, first.payment_id) == (False, payment.pk)
    assert (again.duplicate, again.payment_id, again.event_id) == (True, payment.pk, first.event_id)
    stored = WebhookEvent.objects.get()
    assert (stored.provider, stored.kind, stored.reference, stored.payment_id) == (
        "paystack",
        "payment.succeeded",
        payment.reference,
        payment.pk,
    )
    assert published == [PaymentConfirmationRequested(payment_id=payment.pk, source="webhook")]


def test_a_payment_not_yet_given_the_providers_id_is_found_by_our_reference(
    published: list[Event], django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    payment = _payment("FS-ours-2", provider_id="")

    receipt = _deliver(
        _event("charge.success", payment.reference), django_capture_on_commit_callbacks
    )

    assert receipt.payment_id == payment.pk


def test_a_webhook_never_names_another_providers_payment(
    published: list[Event], django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    elsewhere = _payment("FS-shared-ref", provider="stripe", provider_id="FS-shared-ref")

    receipt = _deliver(
        _event("charge.success", elsewhere.reference), django_capture_on_commit_callbacks
    )

    assert (receipt.duplicate, receipt.payment_id) == (False, None)
    assert WebhookEvent.objects.get().payment_id is None
    assert published == []


def test_a_charge_for_no_known_payment_is_stored_and_confirms_nothing(
    published: list[Event], django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    receipt = _deliver(_event("charge.success", "FS-unknown"), django_capture_on_commit_callbacks)

    assert (receipt.duplicate, receipt.payment_id) == (False, None)
    assert published == []


def test_a_refund_event_names_its_payment_but_asks_for_no_confirmation(
    published: list[Event], django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    payment = _payment("FS-ours-3")

    receipt = _deliver(
        _event("refund.processed", payment.reference), django_capture_on_commit_callbacks
    )

    assert receipt.payment_id == payment.pk
    assert published == []


def test_a_transfer_event_hands_the_payout_its_reference(
    published: list[Event], django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    _deliver(_event("transfer.success", "PO-2026-0001"), django_capture_on_commit_callbacks)
    _deliver(_event("transfer.failed", None), django_capture_on_commit_callbacks)

    assert published == [
        TransferEventReceived(
            provider="paystack",
            reference="PO-2026-0001",
            transfer_id="PO-2026-0001",
            kind="transfer.succeeded",
        )
    ]


def test_an_event_id_of_exactly_the_storable_length_is_stored(
    published: list[Event], django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    reference = "FS-edge"
    # paystack event ids are "{event}:{data.id}:{reference}"
    name = "x" * (EVENT_ID_MAX_LENGTH - len(f"::7:{reference}") + 1)
    event = _event(name, reference)

    receipt = _deliver(event, django_capture_on_commit_callbacks)

    assert len(receipt.event_id) == EVENT_ID_MAX_LENGTH
    assert not receipt.duplicate
    assert WebhookEvent.objects.get().event_id == receipt.event_id


def test_an_event_an_earlier_release_stored_answers_with_its_payment(
    published: list[Event], django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    payment = _payment("FS-ours-4", provider_id="FS-ours-4")
    event = _event("charge.success", payment.reference, object_id=99)
    # stored under the old id, with the payload as that release saw it (spaced apart)
    WebhookEvent.objects.create(
        provider="paystack",
        event_id="charge.success:99",
        kind="payment.succeeded",
        raw_type="charge.success",
        reference=payment.reference,
        payload={**event, "received_by": "an earlier release"},
    )

    receipt = _deliver(event, django_capture_on_commit_callbacks)

    assert (receipt.duplicate, receipt.payment_id) == (True, payment.pk)
    assert receipt.event_id == f"charge.success:99:{payment.reference}"
    assert WebhookEvent.objects.count() == 1
    assert published == []


def test_another_providers_event_under_the_old_id_is_no_duplicate(
    published: list[Event], django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    payment = _payment("FS-ours-5", provider_id="FS-ours-5")
    event = _event("charge.success", payment.reference, object_id=100)
    WebhookEvent.objects.create(
        provider="stripe",
        event_id="charge.success:100",
        kind="payment.succeeded",
        raw_type="charge.success",
        reference=payment.reference,
        payload=event,
    )

    receipt = _deliver(event, django_capture_on_commit_callbacks)

    assert (receipt.duplicate, receipt.payment_id) == (False, payment.pk)
    assert WebhookEvent.objects.filter(provider="paystack").count() == 1
