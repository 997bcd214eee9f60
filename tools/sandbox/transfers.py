"""Payouts: the Paystack Transfers and Stripe Connect subsets the payout adapters use.

Paystack: ``POST /transferrecipient``, ``GET /transferrecipient/{code}``, ``POST
/transfer`` (from the balance, with our ``reference``; a repeated reference is refused
with "Duplicate Transfer Reference", as no second transfer may come of it), ``GET
/transfer/verify/{reference}``; ``transfer.success`` / ``transfer.failed`` /
``transfer.reversed`` webhooks. A transfer is answered ``pending`` ("queued") and settled
by its webhook a moment later.

Stripe: ``POST /v1/accounts`` (a connected account; its ``transfers`` capability is
``active`` when requested), ``GET /v1/accounts/{id}``, ``POST /v1/transfers`` (the
``Idempotency-Key`` replays the first answer), ``GET /v1/transfers/{id}``, ``GET
/v1/transfers?transfer_group=``; ``transfer.created`` and ``transfer.reversed`` events. A
Stripe transfer moves the money when it is made.

Behaviours (``/_sandbox/behaviour``, matched on the reference, the recipient or account,
or ``*``): ``transfer_failed`` refuses the next transfers (Paystack "balance not enough",
Stripe ``balance_insufficient``); ``transfer_fails_later`` (Paystack) queues them, then
sends ``transfer.failed``; ``transfer_held`` (Paystack) queues them and sends nothing
until ``POST /_sandbox/transfer`` settles them. ``timeout`` and ``error_5xx`` act on
transfer calls as on any other. ``POST /_sandbox/transfer`` (``provider``, ``id`` — the
reference or the provider's id —, ``outcome`` ``success`` | ``failed`` | ``reversed``)
settles or reverses a transfer and sends its webhook; ``GET /_sandbox/transfers`` shows
them all.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tools.sandbox.common import (
    BASE36,
    JSON,
    Reply,
    SandboxError,
    as_object,
    form_body,
    iso,
    json_body,
    json_reply,
    positive_int,
    unique_token,
)

if TYPE_CHECKING:
    from tools.sandbox.common import Route
    from tools.sandbox.core import Sandbox

TRANSFER_MODES = ("transfer_failed", "transfer_fails_later", "transfer_held")
_OUTCOMES = {"success": "success", "failed": "failed", "reversed": "reversed"}


class TransferDesk:
    """Recipients, connected accounts and transfers, on the core's lock."""

    def __init__(self, core: Sandbox) -> None:
        self.core = core
        self._recipients: dict[str, JSON] = {}  # Paystack, by recipient_code
        self._accounts: dict[str, JSON] = {}  # Stripe, by acct id
        self._transfers: list[JSON] = []

    def reset(self) -> None:
        with self.core.lock:
            self._recipients.clear()
            self._accounts.clear()
            self._transfers.clear()

    def state(self) -> JSON:
        with self.core.lock:
            return {
                "recipients": list(self._recipients.values()),
                "accounts": list(self._accounts.values()),
                "transfers": [dict(t) for t in self._transfers],
            }

    def routes(self) -> list[tuple[str, str, str, Route]]:
        """(provider, method, path pattern, handler)."""
        return [
            ("paystack", "POST", r"/transferrecipient", self.paystack_create_recipient),
            ("paystack", "GET", r"/transferrecipient/(?P<code>[^/]+)", self.paystack_recipient),
            ("paystack", "POST", r"/transfer", self.paystack_transfer),
            ("paystack", "GET", r"/transfer/verify/(?P<ref>[^/]+)", self.paystack_verify),
            ("stripe", "POST", r"/v1/accounts", self.stripe_create_account),
            ("stripe", "GET", r"/v1/accounts/(?P<id>[^/]+)", self.stripe_account),
            ("stripe", "POST", r"/v1/transfers", self.stripe_transfer),
            ("stripe", "GET", r"/v1/transfers", self.stripe_list),
            ("stripe", "GET", r"/v1/transfers/(?P<id>[^/]+)", self.stripe_get),
        ]

    # ------------------------------------------------------------------------ helpers

    def _find(self, provider: str, ident: str) -> JSON | None:
        for transfer in self._transfers:
            if transfer["provider"] == provider and ident in {
                transfer["reference"],
                transfer["id"],
                transfer.get("code"),
            }:
                return transfer
        return None

    def _mode(self, ids: set[str]) -> str | None:
        return self.core.take_mode(ids, set(TRANSFER_MODES))

    def settle(self, provider: str, ident: str, outcome: str) -> JSON:
        """Finish (``success``, ``failed``) or take back (``reversed``) a transfer and
        send the provider's webhook about it."""
        status = _OUTCOMES.get(outcome)
        if status is None:
            raise SandboxError(400, "outcome must be success, failed or reversed")
        with self.core.lock:
            transfer = self._find(provider, ident)
            if transfer is None:
                raise SandboxError(404, f"no {provider} transfer {ident!r}")
            if status == "reversed" and transfer["status"] != "success":
                raise SandboxError(409, "only a successful transfer can be reversed")
            if status != "reversed" and transfer["status"] != "pending":
                raise SandboxError(409, f"the transfer is already {transfer['status']}")
            transfer["status"] = status
            transfer["updated"] = time.time()
            payload = self._event(transfer)
        record = self.core.send(provider, payload)
        return {"transfer": dict(transfer), "webhook": {"type": record["type"]}}

    def _event(self, transfer: JSON) -> JSON:
        if transfer["provider"] == "paystack":
            return {"event": f"transfer.{transfer['status']}", "data": self._paystack(transfer)}
        kind = "transfer.reversed" if transfer["status"] == "reversed" else "transfer.created"
        return self.core.apis["stripe"].event(kind, self._stripe(transfer))  # type: ignore[attr-defined]

    # ---------------------------------------------------------------------- Paystack

    def paystack_create_recipient(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        payload = json_body(body)
        name = str(payload.get("name") or "")
        number = str(payload.get("account_number") or "")
        if not name or not number.isdigit():
            raise SandboxError(400, "Account number and name are required")
        code = f"RCP_{unique_token(15, BASE36).lower()}"
        recipient = {
            "active": True,
            "currency": str(payload.get("currency") or "NGN").upper(),
            "domain": "test",
            "id": self.core.next_number(),
            "name": name,
            "recipient_code": code,
            "type": str(payload.get("type") or "nuban"),
            "is_deleted": False,
            "details": {
                "account_number": number,
                "account_name": name,
                "bank_code": str(payload.get("bank_code") or "058"),
                "bank_name": "Sandbox Bank",
            },
            "createdAt": iso(time.time()),
        }
        with self.core.lock:
            self._recipients[code] = recipient
        return json_reply(
            201, {"status": True, "message": "Transfer recipient created", "data": recipient}
        )

    def paystack_recipient(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        if fault := self.core.guard("paystack", {params["code"]}):
            return fault
        with self.core.lock:
            recipient = self._recipients.get(params["code"])
        if recipient is None:
            raise SandboxError(404, "Recipient not found")
        message = "Recipient retrieved"
        return json_reply(200, {"status": True, "message": message, "data": recipient})

    def paystack_transfer(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        payload = json_body(body)
        reference = str(payload.get("reference") or unique_token(16, BASE36).lower())
        code = str(payload.get("recipient") or "")
        if fault := self.core.guard("paystack", {reference, code}):
            return fault
        amount = positive_int(payload.get("amount"))
        if amount is None:
            raise SandboxError(400, "Invalid amount")
        with self.core.lock:
            recipient = self._recipients.get(code)
            if recipient is None or not recipient["active"]:
                raise SandboxError(400, "Recipient specified is invalid")
            currency = str(payload.get("currency") or recipient["currency"]).upper()
            if currency != recipient["currency"]:
                raise SandboxError(400, "Currency does not match the recipient's")
            if self._find("paystack", reference) is not None:
                raise SandboxError(400, "Duplicate Transfer Reference")
            mode = self._mode({reference, code})
            if mode == "transfer_failed":
                raise SandboxError(400, "Your balance is not enough to fulfil this request")
            transfer: JSON = {
                "provider": "paystack",
                "id": str(self.core.next_number()),
                "code": f"TRF_{unique_token(15, BASE36).lower()}",
                "reference": reference,
                "amount": amount,
                "currency": currency,
                "destination": code,
                "reason": str(payload.get("reason") or ""),
                "status": "pending",
                "created": time.time(),
                "updated": time.time(),
            }
            self._transfers.append(transfer)
            answer = self._paystack(transfer)
            if mode != "transfer_held":
                transfer["status"] = "failed" if mode == "transfer_fails_later" else "success"
                self.core.send_later("paystack", self._event(transfer))
        return json_reply(
            200, {"status": True, "message": "Transfer has been queued", "data": answer}
        )

    def paystack_verify(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        if fault := self.core.guard("paystack", {params["ref"]}):
            return fault
        with self.core.lock:
            transfer = self._find("paystack", params["ref"])
            if transfer is None or transfer["reference"] != params["ref"]:
                raise SandboxError(404, "Transfer not found")
            data = self._paystack(transfer)
        return json_reply(200, {"status": True, "message": "Transfer retrieved", "data": data})

    def _paystack(self, transfer: JSON) -> JSON:
        recipient = self._recipients.get(transfer["destination"], {})
        return {
            "amount": transfer["amount"],
            "currency": transfer["currency"],
            "domain": "test",
            "failures": "Sandbox: transfer failed" if transfer["status"] == "failed" else None,
            "id": int(transfer["id"]),
            "integration": {"id": 100001, "is_live": False, "business_name": "Sandbox"},
            "reason": transfer["reason"],
            "reference": transfer["reference"],
            "source": "balance",
            "status": transfer["status"],
            "transfer_code": transfer["code"],
            "transferred_at": iso(transfer["updated"]) if transfer["status"] == "success" else None,
            "recipient": {
                "recipient_code": transfer["destination"],
                "name": recipient.get("name"),
                "details": recipient.get("details", {}),
            },
            "created_at": iso(transfer["created"]),
            "updated_at": iso(transfer["updated"]),
        }

    # ------------------------------------------------------------------------ Stripe

    def stripe_create_account(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        form = form_body(body)
        requested = as_object(as_object(form, "capabilities"), "transfers").get("requested")
        account: JSON = {
            "id": f"acct_{unique_token(16)}",
            "object": "account",
            "type": str(form.get("type") or "express"),
            "country": str(form.get("country") or "US"),
            "email": str(form.get("email") or ""),
            "default_currency": str(form.get("default_currency") or "usd"),
            "business_profile": {"name": as_object(form, "business_profile").get("name")},
            "capabilities": {"transfers": "active" if requested == "true" else "inactive"},
            "charges_enabled": False,
            "payouts_enabled": requested == "true",
            "created": int(time.time()),
        }
        with self.core.lock:
            self._accounts[account["id"]] = account
        return json_reply(200, account)

    def stripe_account(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        if fault := self.core.guard("stripe", {params["id"]}):
            return fault
        with self.core.lock:
            account = self._accounts.get(params["id"])
        if account is None:
            message = f"No such account: '{params['id']}'"
            raise SandboxError(404, message, "resource_missing")
        return json_reply(200, account)

    def stripe_transfer(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        form = form_body(body)
        group = str(form.get("transfer_group") or "")
        destination = str(form.get("destination") or "")
        if fault := self.core.guard("stripe", {group, destination} - {""}):
            return fault

        def create() -> Reply:
            amount = positive_int(form.get("amount"))
            if amount is None:
                raise SandboxError(400, "Missing required param: amount.", "parameter_missing")
            with self.core.lock:
                account = self._accounts.get(destination)
                if account is None or account["capabilities"]["transfers"] != "active":
                    message = f"No such destination: '{destination}'"
                    raise SandboxError(400, message, "resource_missing")
                if self._mode({group, destination}) == "transfer_failed":
                    message = "You have insufficient available funds in your Stripe account."
                    raise SandboxError(400, message, "balance_insufficient")
                transfer: JSON = {
                    "provider": "stripe",
                    "id": f"tr_{unique_token(24)}",
                    "reference": group,
                    "amount": amount,
                    "currency": str(form.get("currency") or "usd").upper(),
                    "destination": destination,
                    "reason": str(form.get("description") or ""),
                    "metadata": as_object(form, "metadata"),
                    "status": "success",
                    "created": time.time(),
                    "updated": time.time(),
                }
                self._transfers.append(transfer)
                answer = self._stripe(transfer)
            self.core.send_later("stripe", self._event(transfer))
            return json_reply(200, answer)

        key = headers.get("idempotency-key") or ""
        return self.core.idempotent("stripe", key, body, create)

    def stripe_list(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        group = params.get("transfer_group", "")
        if fault := self.core.guard("stripe", {group} - {""}):
            return fault
        with self.core.lock:
            found = [
                self._stripe(t)
                for t in reversed(self._transfers)
                if t["provider"] == "stripe" and (not group or t["reference"] == group)
            ]
        limit = positive_int(params.get("limit")) or 10
        return json_reply(
            200,
            {
                "object": "list",
                "data": found[:limit],
                "has_more": len(found) > limit,
                "url": "/v1/transfers",
            },
        )

    def stripe_get(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        if fault := self.core.guard("stripe", {params["id"]}):
            return fault
        with self.core.lock:
            transfer = self._find("stripe", params["id"])
            if transfer is None or transfer["id"] != params["id"]:
                raise SandboxError(404, f"No such transfer: '{params['id']}'", "resource_missing")
            return json_reply(200, self._stripe(transfer))

    @staticmethod
    def _stripe(transfer: JSON) -> JSON:
        reversed_ = transfer["status"] == "reversed"
        return {
            "id": transfer["id"],
            "object": "transfer",
            "amount": transfer["amount"],
            "amount_reversed": transfer["amount"] if reversed_ else 0,
            "created": int(transfer["created"]),
            "currency": transfer["currency"].lower(),
            "description": transfer["reason"] or None,
            "destination": transfer["destination"],
            "livemode": False,
            "metadata": transfer.get("metadata", {}),
            "reversed": reversed_,
            "transfer_group": transfer["reference"] or None,
        }
