"""Receiving provider webhooks: verify, store once, hand the work to a task."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from apps.common.errors import NotFound, ValidationFailed
from apps.common.events import publish
from apps.payments.events import PaymentConfirmationRequested, TransferEventReceived
from apps.payments.exceptions import InvalidWebhookSignature
from apps.payments.models import Payment, Provider, WebhookEvent
from apps.payments.providers.base import TRANSFER_KINDS, InvalidSignature
from apps.payments.providers.base import WebhookEvent as ProviderEvent
from apps.payments.providers.registry import get_provider

logger = structlog.get_logger(__name__)

CONFIRMING_KINDS = {"payment.succeeded", "payment.failed"}
EVENT_ID_MAX_LENGTH: int = WebhookEvent._meta.get_field("event_id").max_length or 255


@dataclass(frozen=True)
class WebhookReceipt:
    event_id: str
    duplicate: bool
    payment_id: int | None


def webhook_receive(*, provider: str, headers: Mapping[str, str], body: bytes) -> WebhookReceipt:
    """Verify the signature over the raw body before anything else, record the event
    once per (provider, event id) (a redelivery is a no-op; the same id from another
    provider is another event), and ask for confirmation of the payment it concerns.
    Raises ``NotFound`` (unknown provider), ``InvalidWebhookSignature`` and
    ``ValidationFailed`` (an event id longer than it can be stored); nothing is written
    for any of them."""
    if provider not in Provider.values or provider not in settings.PAYMENT_PROVIDERS:
        raise NotFound("Unknown payment provider.", code="unknown_provider")
    try:
        event = get_provider(provider).parse_webhook(headers=headers, body=body)
    except InvalidSignature as error:
        logger.warning("webhook.invalid_signature", provider=provider, error=str(error))
        raise InvalidWebhookSignature("The webhook signature does not verify.") from error
    except ValueError as error:  # signed by the provider, but not an event we can read
        logger.error("webhook.unreadable", provider=provider, error=str(error))
        raise InvalidWebhookSignature(
            "The webhook body is not a readable event.", code="malformed_webhook"
        ) from error
    if len(event.event_id) > EVENT_ID_MAX_LENGTH:
        logger.warning("webhook.event_id_too_long", provider=provider, length=len(event.event_id))
        raise ValidationFailed.for_field(
            "event_id",
            f"The event id is longer than {EVENT_ID_MAX_LENGTH} characters.",
            code="max_length",
        )
    lookup = Q()
    if event.reference:
        lookup |= Q(reference=event.reference)
    if event.provider_payment_id:
        lookup |= Q(provider_payment_id=event.provider_payment_id)
    payment = Payment.objects.filter(lookup, provider=provider).first() if lookup else None
    reference = (event.reference or event.provider_payment_id or "")[:128]
    if _stored_under_legacy_id(provider, event, reference):
        logger.info("webhook.duplicate", provider=provider, event_id=event.legacy_event_id)
        return WebhookReceipt(event.event_id, True, payment.pk if payment else None)
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                provider=provider,
                event_id=event.event_id,
                kind=event.kind,
                raw_type=event.raw_type[:64],
                reference=reference,
                payment=payment,
                payload=event.payload,
            )
            if payment is not None and event.kind in CONFIRMING_KINDS:
                publish(PaymentConfirmationRequested(payment_id=payment.pk, source="webhook"))
            if event.kind in TRANSFER_KINDS and event.reference:
                # A payout's transfer: the payouts app settles it (apps.payouts.handlers).
                publish(
                    TransferEventReceived(
                        provider=provider,
                        reference=event.reference[:64],
                        transfer_id=(event.provider_payment_id or "")[:128],
                        kind=event.kind,
                    )
                )
    except IntegrityError:
        logger.info("webhook.duplicate", provider=provider, event_id=event.event_id)
        return WebhookReceipt(event.event_id, True, payment.pk if payment else None)
    logger.info(
        "webhook.received",
        provider=provider,
        event_id=event.event_id,
        kind=event.kind,
        payment_id=payment.pk if payment else None,
    )
    return WebhookReceipt(event.event_id, False, payment.pk if payment else None)


def _stored_under_legacy_id(provider: str, event: ProviderEvent, reference: str) -> bool:
    """Whether an earlier release stored this very event under the id it used then
    (``event.legacy_event_id``): that id with the same reference — or, for an event
    without one, the same payload. The old id alone is not enough: after a provider reset
    it can name another event."""
    if not event.legacy_event_id or event.legacy_event_id == event.event_id:
        return False
    stored = (
        WebhookEvent.objects.filter(provider=provider, event_id=event.legacy_event_id)
        .values("reference", "payload")
        .first()
    )
    if stored is None:
        return False
    if reference:
        return bool(stored["reference"] == reference)
    return bool(stored["payload"] == event.payload)
