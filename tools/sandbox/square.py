"""The Square API subset: payment links (Checkout API), orders, payments and refunds;
``payment.updated`` and ``refund.updated`` webhooks signed with
``x-square-hmacsha256-signature`` over the notification URL and the body.

As on Square, a declined card does not become a tender of the order, which stays payable
(the link can be paid again); only the ``payment.updated`` webhook (status ``FAILED``)
tells of it. The order moves from ``DRAFT`` to ``OPEN`` once paid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tools.sandbox.common import (
    BASE36,
    JSON,
    Reply,
    Route,
    SandboxError,
    Txn,
    as_object,
    iso,
    json_body,
    json_reply,
    positive_int,
    unique_token,
    unique_uuid,
)

if TYPE_CHECKING:
    from tools.sandbox.core import Sandbox

_CARD = {"card_brand": "VISA", "last_4": "1111"}


class SquareAPI:
    name = "square"

    def __init__(self, core: Sandbox) -> None:
        self.core = core

    def routes(self) -> list[tuple[str, str, Route]]:
        return [
            ("POST", r"/v2/online-checkout/payment-links", self.create_link),
            ("GET", r"/v2/orders/(?P<id>[^/]+)", self.get_order),
            ("GET", r"/v2/payments/(?P<id>[^/]+)", self.get_payment),
            ("POST", r"/v2/refunds", self.create_refund),
        ]

    def sign(self, body: bytes) -> dict[str, str]:
        key = self.core.secrets.square_webhook_signature_key.encode()
        signed = self.core.square_webhook_url.encode() + body
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        return {
            "x-square-hmacsha256-signature": base64.b64encode(digest).decode(),
            "square-environment": "Sandbox",
        }

    def attempt_id(self, txn: Txn) -> str:
        return unique_token(29)

    def complete(self, txn: Txn, attempt: JSON) -> list[JSON]:
        payment = self.payment(txn, attempt)
        return [self.event("payment.updated", "payment", attempt["id"], {"payment": payment})]

    def event(self, kind: str, object_type: str, object_id: str, obj: JSON) -> JSON:
        return {
            "merchant_id": "SANDBOXMERCHANT",
            "type": kind,
            "event_id": unique_uuid(),
            "created_at": iso(time.time()),
            "data": {"type": object_type, "id": object_id, "object": obj},
        }

    def order(self, txn: Txn) -> JSON:
        amount, currency = self.core.reported(txn)
        captured = txn.captured()
        location = txn.extra["location_id"]
        tenders = []
        if captured is not None:
            tenders.append(
                {
                    "id": captured["id"],
                    "location_id": location,
                    "transaction_id": txn.provider_id,
                    "created_at": iso(captured["created"]),
                    "amount_money": {"amount": amount, "currency": currency},
                    "type": "CARD",
                    "card_details": {"status": "CAPTURED", "card": _CARD, "entry_method": "KEYED"},
                    "payment_id": captured["id"],
                }
            )
        refunds = [
            {
                "id": refund["id"],
                "location_id": location,
                "transaction_id": txn.provider_id,
                "tender_id": captured["id"] if captured else None,
                "created_at": iso(refund["created"]),
                "reason": refund.get("reason", ""),
                "amount_money": {"amount": refund["amount"], "currency": currency},
                "status": "FAILED" if refund.get("status") == "failed" else "COMPLETED",
            }
            for refund in txn.refunds
        ]
        return {
            "id": txn.provider_id,
            "location_id": location,
            "reference_id": txn.extra.get("reference_id"),
            "source": {"name": "Sandbox checkout"},
            "line_items": txn.extra["line_items"],
            "metadata": txn.metadata,
            "state": "OPEN" if captured else "DRAFT",
            "version": 2 if captured else 1,
            "created_at": iso(txn.created),
            "updated_at": iso(txn.paid_at or txn.created),
            "total_money": {"amount": amount, "currency": currency},
            "net_amount_due_money": {"amount": 0 if captured else amount, "currency": currency},
            "tenders": tenders,
            "refunds": refunds,
        }

    def payment(self, txn: Txn, attempt: JSON) -> JSON:
        amount, currency = self.core.reported(txn)
        succeeded = attempt["status"] == "succeeded"
        card: JSON = {
            "status": "CAPTURED" if succeeded else "FAILED",
            "card": _CARD,
            "entry_method": "KEYED",
        }
        if not succeeded:
            card["errors"] = [
                {
                    "category": "PAYMENT_METHOD_ERROR",
                    "code": "GENERIC_DECLINE",
                    "detail": "Declined",
                }
            ]
        payment: JSON = {
            "id": attempt["id"],
            "created_at": iso(attempt["created"]),
            "updated_at": iso(attempt["created"]),
            "amount_money": {"amount": amount, "currency": currency},
            "total_money": {"amount": amount, "currency": currency},
            "status": "COMPLETED" if succeeded else "FAILED",
            "source_type": "CARD",
            "card_details": card,
            "location_id": txn.extra["location_id"],
            "order_id": txn.provider_id,
            "buyer_email_address": txn.email or None,
            "version": 3 if succeeded else 1,
        }
        if succeeded and txn.refunds:
            payment["refund_ids"] = [refund["id"] for refund in txn.refunds]
            payment["refunded_money"] = {"amount": txn.refunded, "currency": currency}
        return payment

    def create_link(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        payload = json_body(body)
        order = as_object(payload, "order")
        quick_pay = as_object(payload, "quick_pay")
        reference = str(order.get("reference_id") or "")
        if fault := self.core.guard(self.name, {reference} if reference else set()):
            return fault

        def create() -> Reply:
            if bool(order) == bool(quick_pay):
                raise SandboxError(400, "Exactly one of order or quick_pay is required")
            if quick_pay:
                location = quick_pay.get("location_id")
                line_items = [
                    {
                        "name": str(quick_pay.get("name") or "Item"),
                        "quantity": "1",
                        "base_price_money": as_object(quick_pay, "price_money"),
                    }
                ]
            else:
                location = order.get("location_id")
                line_items = order.get("line_items") or []
            if not location:
                raise SandboxError(400, "location_id is required")
            amount, currency = _total(line_items)
            order_id = unique_token(29)
            link_id = unique_token(16, BASE36)
            options = as_object(payload, "checkout_options")
            prefill = as_object(payload, "pre_populated_data")
            txn = Txn(
                provider=self.name,
                reference=reference or order_id,
                amount=amount,
                currency=currency,
                email=str(prefill.get("buyer_email") or ""),
                metadata=as_object(order, "metadata"),
                pay_id=link_id,
                provider_id=order_id,
                created=time.time(),
                callback_url=str(options.get("redirect_url") or ""),
                extra={
                    "location_id": location,
                    "line_items": line_items,
                    "reference_id": reference or None,
                },
            )
            url = f"{base}/pay/square/{link_id}"
            link = {
                "id": link_id,
                "version": 1,
                "order_id": order_id,
                "url": url,
                "long_url": url,
                "created_at": iso(txn.created),
                **({"checkout_options": options} if options else {}),
                **({"pre_populated_data": prefill} if prefill else {}),
            }
            with self.core.lock:
                self.core.register(txn)
                related = {"orders": [self.order(txn)]}
            return json_reply(200, {"payment_link": link, "related_resources": related})

        key = str(payload.get("idempotency_key") or "")
        return self.core.idempotent(self.name, key, body, create)

    def get_order(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        txn, fault = self.core.guarded(self.name, params["id"])
        if fault:
            return fault
        if txn is None or txn.provider_id != params["id"]:
            raise SandboxError(404, f"Could not find order with id `{params['id']}`.")
        with self.core.lock:
            return json_reply(200, {"order": self.order(txn)})

    def get_payment(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        txn, fault = self.core.guarded(self.name, params["id"])
        if fault:
            return fault
        attempts = txn.attempts if txn else []
        attempt = next((a for a in attempts if a["id"] == params["id"]), None)
        if txn is None or attempt is None:
            raise SandboxError(404, f"Could not find payment with id `{params['id']}`.")
        with self.core.lock:
            return json_reply(200, {"payment": self.payment(txn, attempt)})

    def create_refund(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        payload = json_body(body)
        payment_id = str(payload.get("payment_id") or "")
        txn, fault = self.core.guarded(self.name, payment_id)
        if fault:
            return fault
        if not payload.get("idempotency_key"):
            raise SandboxError(400, "idempotency_key is required")
        captured = txn.captured() if txn else None
        if txn is None or captured is None or captured["id"] != payment_id:
            raise SandboxError(404, f"Could not find payment with id `{payment_id}`.")
        money = as_object(payload, "amount_money")

        def create() -> Reply:
            with self.core.lock:
                if str(money.get("currency") or "").upper() != txn.currency:
                    raise SandboxError(400, "amount_money.currency does not match the payment")
                amount = self.core.refund_amount(txn, money.get("amount"), required=True)
                now = time.time()
                failed = self.core.refund_fails(txn)
                refund: JSON = {
                    "id": f"{payment_id}_{unique_token(20)}",
                    "amount": amount,
                    "created": now,
                    "reason": str(payload.get("reason") or ""),
                    "status": "failed" if failed else "succeeded",
                }
                txn.refunds.append(refund)
                self.core.reindex(txn)
                refund_obj = {
                    "id": refund["id"],
                    # Square completes refunds later; a card that cannot take the money
                    # back makes it FAILED.
                    "status": "FAILED" if failed else "PENDING",
                    "location_id": txn.extra["location_id"],
                    "amount_money": {"amount": amount, "currency": txn.currency},
                    "payment_id": payment_id,
                    "order_id": txn.provider_id,
                    "reason": refund["reason"],
                    "created_at": iso(now),
                    "updated_at": iso(now),
                }
            final = {"refund": dict(refund_obj, status="FAILED" if failed else "COMPLETED")}
            event = self.event("refund.updated", "refund", refund["id"], final)
            self.core.send_later(self.name, event)
            return json_reply(200, {"refund": refund_obj})

        # Like Square, a repeated idempotency_key replays the first answer (no refund).
        key = str(payload["idempotency_key"])
        return self.core.answer_refund(txn, self.core.idempotent(self.name, key, body, create))


def _total(line_items: Any) -> tuple[int, str]:
    """The order total of Square line items (quantity x base price), in one currency."""
    if not isinstance(line_items, list) or not line_items:
        raise SandboxError(400, "order.line_items must not be empty")
    total, currencies = 0, set()
    for item in line_items:
        money = as_object(item, "base_price_money") if isinstance(item, dict) else {}
        amount = positive_int(money.get("amount"))
        quantity = positive_int(str(item.get("quantity", "1"))) if isinstance(item, dict) else None
        if amount is None or quantity is None or not money.get("currency"):
            raise SandboxError(400, "each line item needs a quantity and base_price_money")
        total += amount * quantity
        currencies.add(str(money["currency"]).upper())
    if len(currencies) != 1:
        raise SandboxError(400, "line items must share one currency")
    return total, currencies.pop()
