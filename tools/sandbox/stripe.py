"""The Stripe API subset: PaymentIntents (create, retrieve) and Refunds, form-encoded;
``payment_intent.succeeded`` / ``payment_intent.payment_failed`` / ``charge.refunded``
events signed with ``Stripe-Signature``.

One addition to Stripe's shapes: an intent carries ``sandbox_pay_url``, the hosted page,
because a real PaymentIntent is confirmed by Stripe.js in the browser instead.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tools.sandbox.common import (
    JSON,
    Reply,
    Route,
    SandboxError,
    Txn,
    as_object,
    error_body,
    form_body,
    json_reply,
    positive_int,
    token,
    unique_token,
)

if TYPE_CHECKING:
    from tools.sandbox.core import Sandbox

API_VERSION = "2024-06-20"


class StripeAPI:
    name = "stripe"

    def __init__(self, core: Sandbox) -> None:
        self.core = core

    def routes(self) -> list[tuple[str, str, Route]]:
        return [
            ("POST", r"/v1/payment_intents", self.create_intent),
            ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", self.retrieve_intent),
            ("POST", r"/v1/refunds", self.create_refund),
        ]

    def sign(self, body: bytes) -> dict[str, str]:
        stamp = int(time.time())
        key = self.core.secrets.stripe_webhook_secret.encode()
        digest = hmac.new(key, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        return {"Stripe-Signature": f"t={stamp},v1={digest}"}

    def attempt_id(self, txn: Txn) -> str:
        return f"ch_{unique_token(24)}"

    def complete(self, txn: Txn, attempt: JSON) -> list[JSON]:
        succeeded = attempt["status"] == "succeeded"
        kind = "payment_intent.succeeded" if succeeded else "payment_intent.payment_failed"
        return [self.event(kind, self.intent(txn))]

    def event(self, kind: str, obj: JSON) -> JSON:
        return {
            "id": f"evt_{unique_token(24)}",
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }

    def intent(self, txn: Txn) -> JSON:
        amount, currency = self.core.reported(txn)
        last_charge = txn.attempts[-1]["id"] if txn.attempts else None
        error = None
        if txn.state == "failed":
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "charge": last_charge,
            }
        return {
            "id": txn.provider_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": amount if txn.state == "succeeded" else 0,
            "automatic_payment_methods": {"enabled": True},
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": txn.secret,
            "confirmation_method": "automatic",
            "created": int(txn.created),
            "currency": currency.lower(),
            "description": None,
            "last_payment_error": error,
            "latest_charge": last_charge,
            "livemode": False,
            "metadata": txn.metadata,
            "payment_method": None,
            "payment_method_types": ["card"],
            # After a decline the customer may try again, as on Stripe.
            "status": "succeeded" if txn.state == "succeeded" else "requires_payment_method",
            "sandbox_pay_url": txn.extra["pay_url"],
        }

    def create_intent(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        form = form_body(body)
        metadata = as_object(form, "metadata")
        reference = str(metadata.get("reference") or "")
        if fault := self.core.guard(self.name, {reference} if reference else set()):
            return fault

        def create() -> Reply:
            amount = positive_int(form.get("amount"))
            currency = str(form.get("currency") or "")
            if amount is None:
                raise SandboxError(400, "Missing required param: amount.", "parameter_missing")
            if not re.fullmatch(r"[a-z]{3}", currency):
                raise SandboxError(400, "Invalid currency: must be lowercase ISO code.")
            intent_id = f"pi_{unique_token(24)}"
            txn = Txn(
                provider=self.name,
                reference=reference or intent_id,
                amount=amount,
                currency=currency.upper(),
                email=str(form.get("receipt_email") or ""),
                metadata=metadata,
                pay_id=intent_id,
                provider_id=intent_id,
                created=time.time(),
                secret=f"{intent_id}_secret_{token(25)}",
                extra={"pay_url": f"{base}/pay/stripe/{intent_id}"},
            )
            with self.core.lock:
                self.core.register(txn)
                return json_reply(200, self.intent(txn))

        key = headers.get("idempotency-key") or ""
        return self.core.idempotent(self.name, key, body, create)

    def retrieve_intent(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        txn, fault = self.core.guarded(self.name, params["id"])
        if fault:
            return fault
        if txn is None or txn.provider_id != params["id"]:
            message = f"No such payment_intent: '{params['id']}'"
            return json_reply(404, error_body(self.name, 404, message, "resource_missing"))
        with self.core.lock:
            return json_reply(200, self.intent(txn))

    def create_refund(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        form = form_body(body)
        ident = str(form.get("payment_intent") or form.get("charge") or "")
        txn, fault = self.core.guarded(self.name, ident)
        if fault:
            return fault
        if txn is None:
            message = f"No such payment_intent: '{ident}'"
            return json_reply(404, error_body(self.name, 404, message, "resource_missing"))

        def create() -> Reply:
            with self.core.lock:
                amount = self.core.refund_amount(txn, form.get("amount"))
                refund = {
                    "id": f"re_{unique_token(24)}",
                    "amount": amount,
                    "created": time.time(),
                    "status": "failed" if self.core.refund_fails(txn) else "succeeded",
                    "metadata": as_object(form, "metadata"),
                }
                txn.refunds.append(refund)
                self.core.reindex(txn)
                refund_obj, charge_obj = self._refund_objects(txn, refund, form)
            if refund["status"] == "failed":
                self.core.send_later(self.name, self.event("refund.updated", refund_obj))
            else:
                self.core.send_later(self.name, self.event("charge.refunded", charge_obj))
            return json_reply(200, refund_obj)

        # Like Stripe, a repeated Idempotency-Key replays the first answer (no refund).
        key = headers.get("idempotency-key") or ""
        return self.core.answer_refund(txn, self.core.idempotent(self.name, key, body, create))

    def _refund_objects(self, txn: Txn, refund: JSON, form: JSON) -> tuple[JSON, JSON]:
        amount, currency = self.core.reported(txn)
        charge = txn.captured() or {}
        refund_obj = {
            "id": refund["id"],
            "object": "refund",
            "amount": refund["amount"],
            "charge": charge.get("id"),
            "created": int(refund["created"]),
            "currency": currency.lower(),
            "metadata": as_object(form, "metadata"),
            "payment_intent": txn.provider_id,
            "reason": form.get("reason"),
            "status": refund["status"],
            **(
                {"failure_reason": "expired_or_canceled_card"}
                if refund["status"] == "failed"
                else {}
            ),
        }
        charge_obj = {
            "id": charge.get("id"),
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": txn.refunded,
            "currency": currency.lower(),
            "metadata": txn.metadata,
            "paid": True,
            "payment_intent": txn.provider_id,
            "refunded": txn.refunded >= txn.amount,
            "status": "succeeded",
            "refunds": {"object": "list", "data": [refund_obj]},
        }
        return refund_obj, charge_obj
