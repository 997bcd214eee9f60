"""Stripe adapter: PaymentIntents and Refunds at ``BASE_URL`` (https://api.stripe.com).

Plain httpx rather than the official ``stripe`` package: that package would fit, but it
is not a dependency, it brings its own HTTP stack, retry and error classes that would
have to be mapped anyway, and the three form-encoded calls plus the signature check
used here are short. Every adapter thus shares one timeout and error policy.

Ids: ``provider_payment_id`` is the PaymentIntent id (``pi_…``); ``client_secret`` is
the intent's client secret, which Stripe.js confirms the payment with in the browser.
Stripe has no hosted page for a bare PaymentIntent, so ``authorization_url`` is None,
except against the local sandbox, whose intents carry a ``sandbox_pay_url``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

import httpx

from apps.payments.providers.base import (
    Checkout,
    DestinationCheck,
    EventKind,
    InvalidSignature,
    PaymentState,
    PermanentProviderError,
    RefundResult,
    TransferResult,
    Verification,
    WebhookEvent,
)
from apps.payments.providers.http import AnswerReader, header, send_json, unknown_outcome

_answers = AnswerReader("Stripe")
_header = header
_text, _int, _object = _answers.text, _answers.whole, _answers.object

API_VERSION = "2024-06-20"
SIGNATURE_HEADER = "Stripe-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300

# Answers to a refund's key that say nothing of whether the first request refunded.
_KEY_CONFLICTS = {"idempotency_error", "idempotency_key_in_use"}

_REFUND_STATES: dict[str, Literal["succeeded", "pending", "failed"]] = {
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}


class StripeProvider:
    name: str = "stripe"

    def __init__(
        self,
        *,
        base_url: str,
        secret_key: str,
        webhook_secret: str,
        timeout: float,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        if not secret_key or not webhook_secret:
            raise ValueError("Stripe needs SECRET_KEY and WEBHOOK_SECRET")
        self._webhook_secret = webhook_secret.encode()
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            # Pinning the version keeps the shapes below stable whatever the account's
            # default version becomes.
            headers={"Authorization": f"Bearer {secret_key}", "Stripe-Version": API_VERSION},
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
        """Create a PaymentIntent. The idempotency key is the reference, so a retry after
        a timeout returns the intent the first attempt created instead of a second one."""
        form = {f"metadata[{key}]": str(value) for key, value in metadata.items()}
        form.update(
            {
                "amount": str(amount_minor),
                "currency": currency.lower(),
                "automatic_payment_methods[enabled]": "true",
                "metadata[reference]": reference,
            }
        )
        intent = self._call(
            "POST",
            "/v1/payment_intents",
            data=form,
            headers={"Idempotency-Key": f"payment-intent-{reference}"},
        )
        return Checkout(
            provider_payment_id=_text(intent, "id"),
            authorization_url=str(intent.get("sandbox_pay_url") or "") or None,
            client_secret=_text(intent, "client_secret"),
        )

    def verify(self, *, reference: str, provider_payment_id: str) -> Verification:
        """A declined card leaves the intent in ``requires_payment_method`` with a
        ``last_payment_error``: reported as ``failed`` (Stripe lets the customer try
        again, after which a new verify may say ``succeeded``)."""
        if not provider_payment_id:
            raise PermanentProviderError("Stripe needs the PaymentIntent id to verify")
        intent = self._call("GET", f"/v1/payment_intents/{quote(provider_payment_id, safe='')}")
        metadata = _object(intent, "metadata")
        if metadata.get("reference") not in (None, reference):
            raise PermanentProviderError("Stripe PaymentIntent belongs to another reference")
        status = str(intent.get("status"))
        error = intent.get("last_payment_error") or {}
        state: PaymentState = "pending"
        reason = ""
        if status == "succeeded":
            state = "succeeded"
        elif status == "canceled":
            state, reason = "failed", str(intent.get("cancellation_reason") or "canceled")
        elif status == "requires_payment_method" and error:
            state, reason = "failed", str(error.get("message") or error.get("code") or "declined")
        amount_key = "amount_received" if state == "succeeded" else "amount"
        return Verification(
            state=state,
            amount_minor=_int(intent, amount_key),
            currency=_text(intent, "currency").upper(),
            provider_payment_id=_text(intent, "id"),
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
        """Create a Refund under ``Idempotency-Key: refund-{key}``: Stripe answers a repeat
        with the refund the first request made (for at least 24 hours), so
        ``look_up_first`` needs nothing more. A key still in use by a request Stripe is
        working on (409), or reused with other parameters, leaves the outcome unknown."""
        try:
            refund = self._call(
                "POST",
                "/v1/refunds",
                # Every attempt sends the same parameters: Stripe refuses a key reused
                # with different ones.
                data={
                    "payment_intent": provider_payment_id,
                    "amount": str(amount_minor),
                    "metadata[reference]": reference,
                    "metadata[refund_key]": idempotency_key,
                },
                headers={"Idempotency-Key": f"refund-{idempotency_key}"},
            )
            result = RefundResult(
                provider_refund_id=_text(refund, "id"),
                state=_REFUND_STATES.get(str(refund.get("status")), "pending"),
            )
        except PermanentProviderError as error:
            if _refused(error):
                raise
            raise unknown_outcome("Stripe", error) from error
        return result

    def destination_check(self, *, account_code: str) -> DestinationCheck:
        """``GET /v1/accounts/{id}`` (Connect): verified once the connected account's
        ``transfers`` capability is ``active``. A transfer may be in any currency the
        platform holds, so no currency is fixed."""
        try:
            account = self._call("GET", f"/v1/accounts/{quote(account_code, safe='')}")
        except PermanentProviderError as error:
            if error.status_code in (400, 403, 404):
                return DestinationCheck(verified=False, reason="Stripe has no such account")
            raise
        capability = _object(account, "capabilities").get("transfers")
        profile = _object(account, "business_profile")
        return DestinationCheck(
            verified=account.get("id") == account_code and capability == "active",
            account_name=str(profile.get("name") or account.get("email") or ""),
            reason="" if capability == "active" else f"transfers capability is {capability}",
        )

    def transfer(
        self,
        *,
        reference: str,
        amount_minor: int,
        currency: str,
        account_code: str,
        reason: str,
        look_up_first: bool = False,
    ) -> TransferResult:
        """``POST /v1/transfers`` to the connected account under ``Idempotency-Key:
        transfer-{reference}`` and ``transfer_group`` = our reference: Stripe replays a
        repeat for at least 24 hours, and ``look_up_first`` finds the transfer by its
        group after that. A transfer Stripe made has moved the money (``succeeded``)."""
        if look_up_first:
            found = self.transfer_status(reference=reference, transfer_id="")
            if found is not None:
                return found
        try:
            transfer = self._call(
                "POST",
                "/v1/transfers",
                data={
                    "amount": str(amount_minor),
                    "currency": currency.lower(),
                    "destination": account_code,
                    "transfer_group": reference,
                    "description": reason[:100],
                    "metadata[reference]": reference,
                },
                headers={"Idempotency-Key": f"transfer-{reference}"},
            )
        except PermanentProviderError as error:
            if _refused(error):
                raise
            raise unknown_outcome("Stripe", error) from error
        return _transfer_result(transfer)

    def transfer_status(self, *, reference: str, transfer_id: str) -> TransferResult | None:
        """The transfer by id (``GET /v1/transfers/{id}``), or by its group (``GET
        /v1/transfers?transfer_group=``) when the id is not known; None when none."""
        try:
            if transfer_id:
                found = self._call("GET", f"/v1/transfers/{quote(transfer_id, safe='')}")
            else:
                listing = self._call(
                    "GET", "/v1/transfers", params={"transfer_group": reference, "limit": 10}
                )
                items = listing.get("data")
                matches = [
                    item
                    for item in (items if isinstance(items, list) else [])
                    if isinstance(item, dict) and item.get("transfer_group") == reference
                ]
                if not matches:
                    return None
                found = matches[0]
        except PermanentProviderError as error:
            if error.status_code == 404:
                return None
            raise unknown_outcome("Stripe", error) from error
        if _object(found, "metadata").get("reference") not in (None, reference):
            raise unknown_outcome("Stripe", PermanentProviderError("transfer of another payout"))
        return _transfer_result(found)

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Check ``Stripe-Signature`` (``t=…,v1=…``; any of several ``v1`` may match, the
        HMAC-SHA256 of ``"{t}.{body}"``) and that ``t`` is within 300 s of now either way,
        then parse. The event id is Stripe's ``evt_…``."""
        self._check_signature(_header(headers, SIGNATURE_HEADER), body)
        event = json.loads(body)
        if not isinstance(event, dict):
            raise ValueError("Stripe webhook body is not a JSON object")
        kind_raw = str(event.get("type") or "")
        data = _object(event, "data")
        obj = _object(data, "object")
        metadata = _object(obj, "metadata")
        kind: EventKind = "other"
        payment_id = obj.get("id")
        if kind_raw == "payment_intent.succeeded":
            kind = "payment.succeeded"
        elif kind_raw == "payment_intent.payment_failed":
            kind = "payment.failed"
        elif kind_raw == "charge.refunded" or (
            kind_raw in {"refund.created", "refund.updated"} and obj.get("status") == "succeeded"
        ):
            kind = "refund.succeeded"
        elif kind_raw == "transfer.created":
            kind = "transfer.succeeded"
        elif kind_raw == "transfer.reversed" or (
            kind_raw == "transfer.updated" and obj.get("reversed") is True
        ):
            kind = "transfer.reversed"
        if obj.get("object") in {"charge", "refund"}:
            payment_id = obj.get("payment_intent")
        reference = metadata.get("reference")
        return WebhookEvent(
            event_id=str(event.get("id") or "") or f"{kind_raw}:{hashlib.sha256(body).hexdigest()}",
            kind=kind,
            reference=str(reference) if reference else None,
            provider_payment_id=str(payment_id) if payment_id else None,
            raw_type=kind_raw,
            payload=event,
        )

    def _check_signature(self, header: str, body: bytes) -> None:
        timestamp = ""
        candidates: list[str] = []
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            if key == "t":
                timestamp = value
            elif key == "v1":
                candidates.append(value)
        if not timestamp.isdigit() or not candidates:
            raise InvalidSignature("Stripe signature header is missing or malformed")
        signed = timestamp.encode() + b"." + body
        expected = hmac.new(self._webhook_secret, signed, hashlib.sha256).hexdigest().encode()
        # Check every candidate so the time taken does not depend on which one matched.
        matches = [hmac.compare_digest(expected, c.encode("utf-8", "replace")) for c in candidates]
        if not any(matches):
            raise InvalidSignature("Stripe signature does not match")
        if abs(time.time() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
            raise InvalidSignature("Stripe signature timestamp is outside the tolerance")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send one request; return the JSON object or raise the matching provider error."""
        return send_json(
            self._client,
            "Stripe",
            method,
            path,
            error_message=_error_message,
            error_code=_error_code,
            **kwargs,
        )


def _transfer_result(transfer: dict[str, Any]) -> TransferResult:
    """A Stripe transfer has moved the money once it exists; ``reversed`` is set once all
    of it was taken back (a part reversal leaves it ``succeeded``)."""
    reversed_ = transfer.get("reversed") is True
    return TransferResult(
        state="reversed" if reversed_ else "succeeded",
        transfer_id=_text(transfer, "id"),
        failure_reason="reversed" if reversed_ else "",
    )


def _error_message(body: dict[str, Any]) -> str | None:
    error = body.get("error")
    return error.get("message") if isinstance(error, dict) else None


def _refused(error: PermanentProviderError) -> bool:
    """A 4xx other than a key conflict: Stripe did not carry the request out."""
    status = error.status_code or 0
    return 400 <= status < 500 and status != 409 and error.code not in _KEY_CONFLICTS


def _error_code(body: dict[str, Any]) -> str | None:
    """The error's ``code``, or its ``type`` for idempotency errors (which carry none)."""
    error = body.get("error")
    if not isinstance(error, dict):
        return None
    if error.get("type") == "idempotency_error":
        return "idempotency_error"
    code = error.get("code")
    return str(code) if code else None
