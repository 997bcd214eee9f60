"""Paystack event ids: de-duplication never mistakes a new event for a stored one.

Paystack events carry no id of their own, and the ids inside them (``data.id``) start
again after an account or sandbox reset, so ``{event}:{data.id}`` alone could make a new
payment's webhook look like an old one — and it would never confirm the payment. The id
also names our payment reference (or, without one, a digest of the payload). Rows that
an earlier release stored under ``{event}:{data.id}`` still recognise their redeliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.conf import settings

from apps.orders.tests.factories import place_order
from apps.payments.models import Payment, WebhookEvent
from apps.payments.services import webhook_receive

pytestmark = pytest.mark.django_db


def _deliver(event: dict[str, Any], *, indent: int | None = None) -> Any:
    body = json.dumps(event, indent=indent).encode()
    secret = settings.PAYMENT_PROVIDERS["paystack"]["SECRET_KEY"].encode()
    signature = hmac.new(secret, body, hashlib.sha512).hexdigest()
    return webhook_receive(
        provider="paystack", headers={"x-paystack-signature": signature}, body=body
    )


def _payment(reference: str) -> Payment:
    order = place_order()
    return Payment.objects.create(
        order=order,
        provider="paystack",
        reference=reference,
        provider_payment_id=reference,
        amount=order.total_amount,
        currency=order.currency,
    )


def _charge(transaction_id: int, reference: str) -> dict[str, Any]:
    return {
        "event": "charge.success",
        "data": {
            "id": transaction_id,
            "reference": reference,
            "status": "success",
            "amount": 500_000,
            "currency": "NGN",
        },
    }


def test_the_same_transaction_id_after_a_provider_reset_is_another_event() -> None:
    before, after = _payment("FS-before-reset"), _payment("FS-after-reset")

    first = _deliver(_charge(1001, before.reference))
    second = _deliver(_charge(1001, after.reference))  # Paystack's ids started again

    assert (first.duplicate, second.duplicate) == (False, False)
    assert first.event_id != second.event_id
    assert (first.payment_id, second.payment_id) == (before.pk, after.pk)
    assert WebhookEvent.objects.count() == 2


def test_a_redelivery_is_recognised_however_it_is_spaced() -> None:
    payment = _payment("FS-redelivered")

    first = _deliver(_charge(77, payment.reference))
    again = _deliver(_charge(77, payment.reference), indent=2)

    assert first.event_id == again.event_id == f"charge.success:77:{payment.reference}"
    assert (first.duplicate, again.duplicate) == (False, True)
    assert WebhookEvent.objects.count() == 1


def test_a_refund_event_names_the_payment_it_refunds() -> None:
    event = {
        "event": "refund.processed",
        "data": {"id": 5, "transaction_reference": "FS-refunded", "amount": 1000},
    }

    receipt = _deliver(event)

    assert receipt.event_id == "refund.processed:5:FS-refunded"


def test_events_without_a_reference_are_told_apart_by_their_payload() -> None:
    one = {"event": "transfer.success", "data": {"id": 9, "amount": 100}}
    other = {"event": "transfer.success", "data": {"id": 9, "amount": 200}}

    receipts = [_deliver(one), _deliver(other), _deliver(one, indent=1)]

    assert [r.duplicate for r in receipts] == [False, False, True]
    assert receipts[0].event_id != receipts[1].event_id
    assert WebhookEvent.objects.count() == 2


def _stored_by_an_earlier_release(event_id: str, reference: str, payload: Any) -> None:
    WebhookEvent.objects.create(
        provider="paystack",
        event_id=event_id,
        kind="payment.succeeded",
        raw_type="charge.success",
        reference=reference,
        payload=payload,
    )


def test_an_event_stored_under_its_old_id_is_still_a_duplicate() -> None:
    payment = _payment("FS-stored-earlier")
    event = _charge(314, payment.reference)
    _stored_by_an_earlier_release("charge.success:314", payment.reference, event)

    receipt = _deliver(event)

    assert receipt.duplicate
    assert WebhookEvent.objects.count() == 1


def test_an_old_id_with_another_reference_does_not_hide_a_new_event() -> None:
    old, new = _payment("FS-old-epoch"), _payment("FS-new-epoch")
    _stored_by_an_earlier_release("charge.success:42", old.reference, _charge(42, old.reference))

    receipt = _deliver(_charge(42, new.reference))

    assert not receipt.duplicate
    assert receipt.payment_id == new.pk
    assert WebhookEvent.objects.filter(payment=new).count() == 1


def test_an_old_id_without_a_reference_is_matched_on_the_payload() -> None:
    event = {"event": "transfer.success", "data": {"id": 8, "amount": "1"}}
    _stored_by_an_earlier_release("transfer.success:8", "", event)

    same = _deliver(event)
    other = _deliver({**event, "data": {"id": 8, "amount": "2"}})

    assert (same.duplicate, other.duplicate) == (True, False)
