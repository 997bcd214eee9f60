"""Square adapter: Checkout payment links, Orders and Refunds at ``BASE_URL``
(https://connect.squareup.com in production, https://connect.squareupsandbox.com for
Square's own sandbox).

Plain httpx rather than the official ``squareup`` package: it is not a dependency, it is
a large generated client for a handful of calls, and httpx keeps the timeout and error
policy the same as the other adapters.

Ids: a payment link creates an order, and the order id is known at once while the card
payment id exists only after the customer pays, so ``provider_payment_id`` is the
**order id**. ``verify`` reads the order (its captured tenders are the payments);
``refund`` looks the payment id up on the order first. ``authorization_url`` is the
payment link URL; there is no client secret. Square's payments do not carry our
reference, so webhooks are matched by order id (``WebhookEvent.reference`` is None).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

import httpx

from apps.payments.providers.base import (
    Checkout,
    EventKind,
    InvalidSignature,
    PaymentState,
    PermanentProviderError,
    RefundResult,
    Verification,
    WebhookEvent,
)
from apps.payments.providers.http import AnswerReader, header, send_json, unknown_outcome

_answers = AnswerReader("Square")
_header = header
_text, _int, _object = _answers.text, _answers.whole, _answers.object

API_VERSION = "2024-12-18"
SIGNATURE_HEADER = "x-square-hmacsha256-signature"

# Answers to a refund's key that say nothing of whether the first request refunded.
_KEY_CONFLICTS = {"IDEMPOTENCY_KEY_REUSED", "CONFLICT"}

_REFUND_STATES: dict[str, Literal["succeeded", "pending", "failed"]] = {
    "COMPLETED": "succeeded",
    "REJECTED": "failed",
    "FAILED": "failed",
}
_PAYMENT_KINDS: dict[str, EventKind] = {
    "COMPLETED": "payment.succeeded",
    "FAILED": "payment.failed",
    "CANCELED": "payment.failed",
}


class SquareProvider:
    name: str = "square"

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        webhook_signature_key: str,
        webhook_url: str,
        location_id: str,
        timeout: float,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        if not (access_token and webhook_signature_key and webhook_url and location_id):
            raise ValueError(
                "Square needs ACCESS_TOKEN, WEBHOOK_SIGNATURE_KEY, WEBHOOK_URL and LOCATION_ID"
            )
        self._signature_key = webhook_signature_key.encode()
        # Square signs the notification URL it was configured with, not the URL the
        # request arrived at (which a proxy may have rewritten).
        self._webhook_url = webhook_url.encode()
        self._location_id = location_id
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {access_token}",
                "Square-Version": API_VERSION,
                "Accept": "application/json",
            },
            timeout=timeout,
            verify=verify,
        )

    def close(self) -> None:
        self._client.close()

    def initialise(
        self,
        *,
        reference: str,
        amount_minor: int,
        currency: str,
        email: str,
        metadata: Mapping[str, str],
    ) -> Checkout:
        """Create a payment link for a one-line order carrying our reference. The
        idempotency key is the reference, so a retry returns the same link."""
        body = self._call(
            "POST",
            "/v2/online-checkout/payment-links",
            json={
                "idempotency_key": f"payment-link-{reference}",
                "order": {
                    "location_id": self._location_id,
                    "reference_id": reference,
                    "line_items": [
                        {
                            "name": f"Order {reference}",
                            "quantity": "1",
                            "base_price_money": {
                                "amount": amount_minor,
                                "currency": currency.upper(),
                            },
                        }
                    ],
                    "metadata": dict(metadata),
                },
                "pre_populated_data": {"buyer_email": email},
            },
        )
        link = body.get("payment_link")
        if not isinstance(link, dict):
            raise PermanentProviderError("Square answer lacks payment_link")
        return Checkout(
            provider_payment_id=_text(link, "order_id"),
            authorization_url=str(link.get("url") or link.get("long_url") or "") or None,
        )

    def verify(self, *, reference: str, provider_payment_id: str) -> Verification:
        """Paid once the order has captured tenders. A declined card leaves the order
        open and payable (no tender), so it reads ``pending``; the ``payment.updated``
        webhook with status ``FAILED`` is what tells of the decline."""
        order = self._order(reference, provider_payment_id)
        captured = _captured_tenders(order)
        total = _object(order, "total_money")
        state: PaymentState = "pending"
        reason = ""
        if captured:
            state = "succeeded"
            money = [t.get("amount_money") or {} for t in captured]
            amount = sum(_int(m, "amount") for m in money)
            currency = _text(money[0], "currency")
        else:
            if order.get("state") == "CANCELED":
                state, reason = "failed", "order canceled"
            amount, currency = _int(total, "amount"), _text(total, "currency")
        return Verification(
            state=state,
            amount_minor=amount,
            currency=currency.upper(),
            provider_payment_id=_text(order, "id"),
            failure_reason=reason,
        )

    def refund(
        self,
        *,
        reference: str,
        provider_payment_id: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        look_up_first: bool = False,
    ) -> RefundResult:
        """Refund the order's captured payment with ``idempotency_key`` as Square's
        ``idempotency_key``: Square answers a repeat with the refund the first request
        made, so ``look_up_first`` needs nothing more. Square answers ``PENDING`` and
        confirms with a ``refund.updated`` webhook. A key reused with other parameters
        (``IDEMPOTENCY_KEY_REUSED``) or still in use (409) leaves the outcome unknown."""
        order = self._order(reference, provider_payment_id)
        captured = _captured_tenders(order)
        if not captured:
            raise PermanentProviderError("Square order has no captured payment to refund")
        tender = captured[0]
        payment_id = str(tender.get("payment_id") or tender.get("id") or "")
        try:
            body = self._call(
                "POST",
                "/v2/refunds",
                # Every attempt sends the same body: Square refuses a key reused with
                # different parameters.
                json={
                    "idempotency_key": idempotency_key,
                    "payment_id": payment_id,
                    "amount_money": {"amount": amount_minor, "currency": currency.upper()},
                    "reason": f"Refund for {reference}",
                },
            )
            refund = body.get("refund")
            if not isinstance(refund, dict):
                raise PermanentProviderError("Square answer lacks refund")
            result = RefundResult(
                provider_refund_id=_text(refund, "id"),
                state=_REFUND_STATES.get(str(refund.get("status")), "pending"),
            )
        except PermanentProviderError as error:
            if _refused(error):
                raise
            raise unknown_outcome("Square", error) from error
        return result

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Check ``x-square-hmacsha256-signature`` (base64 HMAC-SHA256 of the configured
        notification URL followed by the raw body), then parse. The event id is Square's
        ``event_id``; ``provider_payment_id`` is the order id, as in ``initialise``."""
        given = _header(headers, SIGNATURE_HEADER)
        digest = hmac.new(self._signature_key, self._webhook_url + body, hashlib.sha256).digest()
        expected = base64.b64encode(digest)
        if not given or not hmac.compare_digest(expected, given.strip().encode("utf-8", "replace")):
            raise InvalidSignature("Square signature does not match")
        event = json.loads(body)
        if not isinstance(event, dict):
            raise ValueError("Square webhook body is not a JSON object")
        kind_raw = str(event.get("type") or "")
        data = _object(event, "data")
        obj = _object(data, "object")
        kind: EventKind = "other"
        item: dict[str, Any] = {}
        if kind_raw in {"payment.created", "payment.updated"}:
            item = _object(obj, "payment")
            kind = _PAYMENT_KINDS.get(str(item.get("status")), "other")
        elif kind_raw in {"refund.created", "refund.updated"}:
            item = _object(obj, "refund")
            if item.get("status") == "COMPLETED":
                kind = "refund.succeeded"
        order_id = item.get("order_id")
        reference = item.get("reference_id")
        event_id = str(event.get("event_id") or "")
        return WebhookEvent(
            event_id=event_id or f"{kind_raw}:{hashlib.sha256(body).hexdigest()}",
            kind=kind,
            reference=str(reference) if reference else None,
            provider_payment_id=str(order_id) if order_id else None,
            raw_type=kind_raw,
            payload=event,
        )

    def _order(self, reference: str, order_id: str) -> dict[str, Any]:
        if not order_id:
            raise PermanentProviderError("Square needs the order id")
        body = self._call("GET", f"/v2/orders/{quote(order_id, safe='')}")
        order = body.get("order")
        if not isinstance(order, dict):
            raise PermanentProviderError("Square answer lacks order")
        if order.get("reference_id") not in (None, "", reference):
            raise PermanentProviderError("Square order belongs to another reference")
        return order

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send one request; return the JSON object or raise the matching provider error."""
        return send_json(
            self._client,
            "Square",
            method,
            path,
            error_message=_error_message,
            error_code=_error_code,
            **kwargs,
        )


def _captured_tenders(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Tenders that moved money: card tenders once captured, other kinds as they are."""
    tenders = order.get("tenders")
    captured: list[dict[str, Any]] = []
    for tender in tenders if isinstance(tenders, list) else []:
        if not isinstance(tender, dict):
            continue
        card = tender.get("card_details")
        if isinstance(card, dict) and card.get("status") != "CAPTURED":
            continue
        captured.append(tender)
    return captured


def _refused(error: PermanentProviderError) -> bool:
    """A 4xx other than a key conflict: Square did not carry the request out."""
    status = error.status_code or 0
    return 400 <= status < 500 and status != 409 and error.code not in _KEY_CONFLICTS


def _error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    code = first.get("code") if isinstance(first, dict) else None
    return str(code) if code else None


def _error_message(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    return f"{first.get('code')}: {first.get('detail')}" if isinstance(first, dict) else None
