"""The Paystack API subset: initialize, verify, refund, list refunds; ``charge.success``,
``refund.processed`` and ``refund.failed`` webhooks signed with ``x-paystack-signature``.

Like Paystack, a fresh transaction verifies as ``abandoned`` and a declined charge sends
no webhook (Paystack announces successful charges only); verify then says ``failed``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tools.sandbox.common import (
    BASE36,
    JSON,
    Reply,
    Route,
    SandboxError,
    Txn,
    as_object,
    error_body,
    iso,
    json_body,
    json_reply,
    positive_int,
    unique_token,
)

if TYPE_CHECKING:
    from tools.sandbox.core import Sandbox

_STATUS = {
    "pending": ("abandoned", "The transaction was not completed"),
    "succeeded": ("success", "Successful"),
    "failed": ("failed", "Declined"),
}


class PaystackAPI:
    name = "paystack"

    def __init__(self, core: Sandbox) -> None:
        self.core = core

    def routes(self) -> list[tuple[str, str, Route]]:
        return [
            ("POST", r"/transaction/initialize", self.initialize),
            ("GET", r"/transaction/verify/(?P<ref>[^/]+)", self.verify),
            ("POST", r"/refund", self.refund),
            ("GET", r"/refund", self.list_refunds),
        ]

    def sign(self, body: bytes) -> dict[str, str]:
        key = self.core.secrets.paystack_secret_key.encode()
        return {"x-paystack-signature": hmac.new(key, body, hashlib.sha512).hexdigest()}

    def attempt_id(self, txn: Txn) -> str:
        return txn.provider_id  # Paystack's transaction id is the charge's id

    def complete(self, txn: Txn, attempt: JSON) -> list[JSON]:
        if attempt["status"] != "succeeded":
            return []
        return [{"event": "charge.success", "data": self.transaction(txn)}]

    def transaction(self, txn: Txn) -> JSON:
        amount, currency = self.core.reported(txn)
        status, gateway_response = _STATUS[txn.state]
        return {
            "id": int(txn.provider_id),
            "domain": "test",
            "status": status,
            "reference": txn.reference,
            "receipt_number": None,
            "amount": amount,
            "message": None,
            "gateway_response": gateway_response,
            "paid_at": iso(txn.paid_at),
            "created_at": iso(txn.created),
            "channel": "card",
            "currency": currency,
            "ip_address": "127.0.0.1",
            "metadata": txn.metadata,
            "fees": None,
            "customer": {"email": txn.email, "customer_code": txn.extra["customer_code"]},
            "authorization": (
                {"authorization_code": f"AUTH_{txn.pay_id}", "last4": "4081", "brand": "visa"}
                if txn.state == "succeeded"
                else {}
            ),
            "requested_amount": txn.amount,
            "transaction_date": iso(txn.created),
        }

    def initialize(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        payload = json_body(body)
        reference = str(payload.get("reference") or unique_token(16, BASE36).lower())
        if fault := self.core.guard(self.name, {reference}):
            return fault
        email = payload.get("email")
        amount = positive_int(payload.get("amount"))
        if not isinstance(email, str) or "@" not in email:
            raise SandboxError(400, "Invalid Email Address Passed")
        if amount is None:
            raise SandboxError(400, "Invalid Amount Sent")
        metadata = payload.get("metadata") or {}
        if isinstance(metadata, str):  # Paystack also takes metadata as a JSON string
            try:
                metadata = json.loads(metadata or "{}")
            except ValueError as exc:
                raise SandboxError(400, "metadata is not valid JSON") from exc
        access_code = unique_token(16, BASE36).lower()
        txn = Txn(
            provider=self.name,
            reference=reference,
            amount=amount,
            currency=str(payload.get("currency") or "NGN").upper(),
            email=email,
            metadata=metadata if isinstance(metadata, dict) else {},
            pay_id=access_code,
            provider_id=str(self.core.next_number()),
            created=time.time(),
            callback_url=str(payload.get("callback_url") or ""),
            extra={"customer_code": f"CUS_{unique_token(16, BASE36).lower()}"},
        )
        with self.core.lock:
            if self.core.lookup(self.name, reference) is not None:
                raise SandboxError(400, "Duplicate Transaction Reference")
            self.core.register(txn)
        data = {
            "authorization_url": f"{base}/pay/paystack/{access_code}",
            "access_code": access_code,
            "reference": reference,
        }
        return json_reply(
            200, {"status": True, "message": "Authorization URL created", "data": data}
        )

    def verify(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        txn, fault = self.core.guarded(self.name, params["ref"])
        if fault:
            return fault
        if txn is None or txn.reference != params["ref"]:
            message = "Transaction reference not found"
            return json_reply(400, error_body(self.name, 400, message, "transaction_not_found"))
        with self.core.lock:
            data = self.transaction(txn)
        return json_reply(200, {"status": True, "message": "Verification successful", "data": data})

    def refund(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        """Queue a refund. Like Paystack, there is no idempotency key: asking twice makes
        two refunds (the list below is how a client finds out what it already asked)."""
        payload = json_body(body)
        ident = str(payload.get("transaction") or "")
        txn, fault = self.core.guarded(self.name, ident)
        if fault:
            return fault
        if txn is None or ident not in {txn.reference, txn.provider_id}:
            raise SandboxError(404, "Transaction not found")
        with self.core.lock:
            amount = self.core.refund_amount(txn, payload.get("amount"))
            refund: JSON = {
                "id": self.core.next_number(),
                "amount": amount,
                "created": time.time(),
                "status": "failed" if self.core.refund_fails(txn) else "succeeded",
                "merchant_note": str(payload.get("merchant_note") or f"Refund for {txn.reference}"),
                "customer_note": str(payload.get("customer_note") or ""),
            }
            txn.refunds.append(refund)
            self.core.reindex(txn)
            data = self.refund_object(txn, refund, answer=True)
        failed = refund["status"] == "failed"
        event = {
            "event": "refund.failed" if failed else "refund.processed",
            "data": {
                "id": refund["id"],
                "status": "failed" if failed else "processed",
                "transaction_reference": txn.reference,
                "refund_reference": f"RFD_{refund['id']}",
                "amount": amount,
                "currency": data["currency"],
                "processor": "sandbox",
                "customer": as_object(data["transaction"], "customer"),
                "integration": 100001,
                "domain": "test",
            },
        }
        self.core.send_later(self.name, event)
        message = "Refund has been queued for processing"
        reply = json_reply(200, {"status": True, "message": message, "data": data})
        return self.core.answer_refund(txn, reply)

    def list_refunds(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        """``GET /refund?transaction=<id>``: the refunds of one transaction (its numeric
        id, as Paystack takes it; the reference works too), newest first; without
        ``transaction``, every refund."""
        ident = params.get("transaction", "")
        txn, fault = self.core.guarded(self.name, ident)
        if fault:
            return fault
        per_page = positive_int(params.get("perPage")) or 50
        with self.core.lock:
            if ident:
                txns = (
                    [txn] if txn is not None and ident in {txn.reference, txn.provider_id} else []
                )
            else:
                txns = [t for t in self.core.transactions() if t.provider == self.name]
            found = [
                self.refund_object(t, refund, answer=False) for t in txns for refund in t.refunds
            ]
        found.sort(key=lambda refund: int(refund["id"]), reverse=True)
        meta = {"total": len(found), "skipped": 0, "perPage": per_page, "page": 1}
        return json_reply(
            200,
            {
                "status": True,
                "message": "Refunds retrieved",
                "data": found[:per_page],
                "meta": {**meta, "pageCount": max(1, -(-len(found) // per_page))},
            },
        )

    def refund_object(self, txn: Txn, refund: JSON, *, answer: bool) -> JSON:
        """A refund as Paystack shows it: ``pending`` in the answer to the request (it is
        queued), ``processed`` (or ``failed``) once listed; the answer embeds the
        transaction, the list names its id."""
        created = iso(refund["created"])
        transaction = self.transaction(txn)
        status = "failed" if refund["status"] == "failed" else "processed"
        return {
            "transaction": transaction if answer else int(txn.provider_id),
            "integration": 100001,
            "deducted_amount": 0 if answer or status == "failed" else refund["amount"],
            "channel": None,
            "merchant_note": refund["merchant_note"],
            "customer_note": refund["customer_note"],
            "status": "pending" if answer and status != "failed" else status,
            "refunded_by": txn.email,
            "expected_at": created,
            "currency": transaction["currency"],
            "domain": "test",
            "amount": refund["amount"],
            "fully_deducted": status == "processed" and not answer,
            "id": refund["id"],
            "createdAt": created,
            "updatedAt": created,
        }
