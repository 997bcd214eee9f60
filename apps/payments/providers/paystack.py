"""Paystack adapter: the REST API at ``BASE_URL`` (https://api.paystack.co in production).

Plain httpx rather than an SDK: Paystack publishes no official Python SDK, and the
endpoints used here (initialize, verify, refund, list refunds; for payouts, transfer
recipients and transfers) are small JSON calls.

Ids: Paystack addresses a transaction by our ``reference`` (its numeric id is not known
until the customer pays), so ``provider_payment_id`` is the reference. The checkout's
``authorization_url`` is Paystack's hosted page; ``client_secret`` carries the
``access_code`` that Paystack's inline JS resumes a transaction with.
"""

from __future__ import annotations

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
    DestinationCheck,
    EventKind,
    InvalidSignature,
    PaymentState,
    PermanentProviderError,
    RefundResult,
    TransferResult,
    TransferState,
    Verification,
    WebhookEvent,
)
from apps.payments.providers.http import AnswerReader, header, send_json, unknown_outcome

_answers = AnswerReader("Paystack")
_header = header
_text, _int, _object = _answers.text, _answers.whole, _answers.object

SIGNATURE_HEADER = "x-paystack-signature"
# Our references are at most 64 characters; a longer one (not ours) is hashed into the id.
_MAX_REFERENCE_IN_ID = 64

# Paystack answers "abandoned" for a transaction the customer has not finished yet (they
# may still pay), so only "success" and the final failures are decisive.
_STATES: dict[str, PaymentState] = {
    "success": "succeeded",
    "failed": "failed",
    "reversed": "failed",
}
_REFUND_STATES: dict[str, Literal["succeeded", "failed"]] = {
    "processed": "succeeded",
    "failed": "failed",
}
_EVENT_KINDS: dict[str, EventKind] = {
    "charge.success": "payment.succeeded",
    "refund.processed": "refund.succeeded",
    "transfer.success": "transfer.succeeded",
    "transfer.failed": "transfer.failed",
    "transfer.reversed": "transfer.reversed",
}
# A transfer is "pending", "received", "queued" or "otp" (waiting for an OTP the account
# should not ask for: automated transfers need OTP disabled) until it is decided.
_TRANSFER_STATES: dict[str, TransferState] = {
    "success": "succeeded",
    "failed": "failed",
    "abandoned": "failed",
    "rejected": "failed",
    "reversed": "reversed",
}


class PaystackProvider:
    name: str = "paystack"

    def __init__(
        self,
        *,
        base_url: str,
        secret_key: str,
        timeout: float,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        if not secret_key:
            raise ValueError("Paystack needs SECRET_KEY")
        self._secret_key = secret_key.encode()
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {secret_key}", "Accept": "application/json"},
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
        """Create a transaction. Paystack refuses a reference it has seen before
        (``PermanentProviderError`` "Duplicate Transaction Reference")."""
        data = self._call(
            "POST",
            "/transaction/initialize",
            json={
                "email": email,
                "amount": amount_minor,
                "currency": currency.upper(),
                "reference": reference,
                "metadata": {**metadata, "reference": reference},
            },
        )
        return Checkout(
            provider_payment_id=str(data.get("reference") or reference),
            authorization_url=_text(data, "authorization_url"),
            client_secret=str(data.get("access_code") or "") or None,
        )

    def verify(self, *, reference: str, provider_payment_id: str) -> Verification:
        data = self._call("GET", f"/transaction/verify/{quote(reference, safe='')}")
        if data.get("reference") != reference:
            raise PermanentProviderError("Paystack answered for another reference")
        state = _STATES.get(str(data.get("status")), "pending")
        return Verification(
            state=state,
            amount_minor=_int(data, "amount"),
            currency=_text(data, "currency").upper(),
            provider_payment_id=reference,
            failure_reason=str(data.get("gateway_response") or "") if state == "failed" else "",
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
        """Ask for a refund; Paystack queues it (``pending``) and confirms it later with
        a ``refund.processed`` webhook. Paystack takes no idempotency key, so the key is
        written in the refund's ``merchant_note``, and ``look_up_first`` lists the
        transaction's refunds (``GET /refund?transaction=<id>``) and returns the one
        carrying the key, if any, instead of asking for another."""
        if look_up_first:
            try:
                found = self.refund_find(reference=reference, idempotency_key=idempotency_key)
            except PermanentProviderError as error:
                # Not knowing whether the earlier attempt refunded is not a refusal.
                raise unknown_outcome("Paystack", error) from error
            if found is not None:
                return found
        try:
            data = self._call(
                "POST",
                "/refund",
                json={
                    "transaction": provider_payment_id or reference,
                    "amount": amount_minor,
                    "currency": currency.upper(),
                    "merchant_note": _refund_note(reference, idempotency_key),
                },
            )
            return _refund_result(data)
        except PermanentProviderError as error:
            if error.status_code is not None and 400 <= error.status_code < 500:
                raise
            raise unknown_outcome("Paystack", error) from error

    def refund_find(self, *, reference: str, idempotency_key: str) -> RefundResult | None:
        """The refund of ``reference``'s transaction made under ``idempotency_key``, or
        None. Paystack lists refunds by the transaction's numeric id, which verify
        tells."""
        transaction = self._call("GET", f"/transaction/verify/{quote(reference, safe='')}")
        if transaction.get("reference") != reference:
            raise PermanentProviderError("Paystack answered for another reference")
        transaction_id = _int(transaction, "id")
        body = send_json(
            self._client,
            "Paystack",
            "GET",
            "/refund",
            error_message=lambda body: body.get("message"),
            params={"transaction": transaction_id, "perPage": 100},
        )
        refunds = body.get("data")
        if body.get("status") is not True or not isinstance(refunds, list):
            raise PermanentProviderError(f"Paystack refused: {body.get('message')}")
        for refund in refunds:
            if isinstance(refund, dict) and idempotency_key in str(
                refund.get("merchant_note") or ""
            ):
                return _refund_result(refund)
        return None

    def destination_check(self, *, account_code: str) -> DestinationCheck:
        """``GET /transferrecipient/{code}``: a recipient Paystack knows and keeps active
        is verified; its currency is the only one it can be paid in."""
        try:
            data = self._call("GET", f"/transferrecipient/{quote(account_code, safe='')}")
        except PermanentProviderError as error:
            if error.status_code in (400, 404):
                return DestinationCheck(verified=False, reason="Paystack has no such recipient")
            raise
        details = _object(data, "details")
        active = data.get("active") is not False and not data.get("is_deleted")
        return DestinationCheck(
            verified=bool(active) and data.get("recipient_code") == account_code,
            account_name=str(details.get("account_name") or data.get("name") or ""),
            currency=str(data.get("currency") or "").upper(),
            reason="" if active else "the recipient is not active",
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
        """``POST /transfer`` from the balance, with our ``reference``. Paystack refuses
        a reference it has seen ("Duplicate Transfer Reference"): that answer, like
        ``look_up_first``, makes the adapter adopt the transfer ``GET
        /transfer/verify/{reference}`` reports instead of making another."""
        if look_up_first:
            found = self.transfer_status(reference=reference, transfer_id="")
            if found is not None:
                return found
        try:
            data = self._call(
                "POST",
                "/transfer",
                json={
                    "source": "balance",
                    "amount": amount_minor,
                    "currency": currency.upper(),
                    "recipient": account_code,
                    "reason": reason[:100],
                    "reference": reference,
                },
            )
        except PermanentProviderError as error:
            if "duplicate" in str(error).lower():
                found = self.transfer_status(reference=reference, transfer_id="")
                if found is not None:
                    return found
                raise unknown_outcome("Paystack", error) from error
            if error.status_code is not None and 400 <= error.status_code < 500:
                raise
            raise unknown_outcome("Paystack", error) from error
        return _transfer_result(data)

    def transfer_status(self, *, reference: str, transfer_id: str) -> TransferResult | None:
        """``GET /transfer/verify/{reference}``; None when Paystack has no such transfer."""
        try:
            data = self._call("GET", f"/transfer/verify/{quote(reference, safe='')}")
        except PermanentProviderError as error:
            if error.status_code in (400, 404):
                return None
            raise unknown_outcome("Paystack", error) from error
        if data.get("reference") != reference:
            raise unknown_outcome(
                "Paystack", PermanentProviderError("answered for another transfer")
            )
        return _transfer_result(data)

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Check ``x-paystack-signature`` (hex HMAC-SHA512 of the raw body with the secret
        key), then parse. Paystack events carry no id of their own: see
        :func:`_event_id`. ``legacy_event_id`` is the id earlier releases stored the same
        event under (``"{event}:{data.id}"``, or a digest of the body without ``data.id``)."""
        given = _header(headers, SIGNATURE_HEADER)
        expected = hmac.new(self._secret_key, body, hashlib.sha512).hexdigest()
        if not given or not hmac.compare_digest(
            expected.encode(), given.strip().encode("utf-8", "replace")
        ):
            raise InvalidSignature("Paystack signature does not match")
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("Paystack webhook body is not a JSON object")
        event = str(payload.get("event") or "")
        data = _object(payload, "data")
        object_id = data.get("id")
        suffix = str(object_id) if object_id not in (None, "") else hashlib.sha256(body).hexdigest()
        reference = data.get("reference") or data.get("transaction_reference")
        return WebhookEvent(
            event_id=_event_id(event, object_id, reference, payload),
            legacy_event_id=f"{event}:{suffix}",
            kind=_EVENT_KINDS.get(event, "other"),
            reference=str(reference) if reference else None,
            # Our provider_payment_id for Paystack is the reference itself.
            provider_payment_id=str(reference) if reference else None,
            raw_type=event,
            payload=payload,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send one request; return its ``data`` or raise the matching provider error."""
        body = send_json(
            self._client,
            "Paystack",
            method,
            path,
            error_message=lambda body: body.get("message"),
            **kwargs,
        )
        if body.get("status") is not True:
            raise PermanentProviderError(f"Paystack refused: {body.get('message')}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise PermanentProviderError("Paystack answered without data")
        return data


def _refund_note(reference: str, idempotency_key: str) -> str:
    """The merchant note that ties a Paystack refund to our refund (Paystack keeps it and
    lists it with the refund)."""
    return f"Refund {idempotency_key} of {reference}"


def _refund_result(data: Mapping[str, Any]) -> RefundResult:
    refund_id = _int(data, "id")
    return RefundResult(
        provider_refund_id=str(refund_id),
        state=_REFUND_STATES.get(str(data.get("status")), "pending"),
    )


def _transfer_result(data: Mapping[str, Any]) -> TransferResult:
    status = str(data.get("status") or "")
    state = _TRANSFER_STATES.get(status, "pending")
    return TransferResult(
        state=state,
        transfer_id=str(data.get("transfer_code") or data.get("id") or ""),
        failure_reason=str(data.get("failures") or f"transfer {status}")[:255]
        if state in {"failed", "reversed"}
        else "",
    )


def _event_id(event: str, object_id: Any, reference: Any, payload: Mapping[str, Any]) -> str:
    """``{event}:{data.id}:{reference}``. Paystack's own ids (``data.id``) start again after
    an account or sandbox reset, so they alone could make a new event look like one
    already stored; our payment references never repeat. An event that names no
    reference gets a digest of its signed payload (keys sorted, so a redelivery spaced or
    ordered differently keeps its id) instead: two different events never share an id,
    and every redelivery of one does."""
    object_part = str(object_id) if object_id not in (None, "") else "-"
    if reference:
        text = str(reference)
        if len(text) > _MAX_REFERENCE_IN_ID:
            text = "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:40]
        return f"{event}:{object_part}:{text}"
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{event}:{object_part}:sha256:{digest}"
