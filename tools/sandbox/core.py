"""The sandbox's state, behaviours, webhooks and routing, independent of the HTTP server."""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import asdict
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from tools.sandbox import pages
from tools.sandbox.common import (
    DEFAULT_DELIVER_TO,
    JSON,
    MODES,
    PROVIDERS,
    REFUND_ANSWER_MODES,
    WEBHOOK_PATH,
    Behaviour,
    Reply,
    Route,
    SandboxError,
    SandboxSecrets,
    Txn,
    error_body,
    json_body,
    json_reply,
    positive_int,
    unique_number,
)
from tools.sandbox.paystack import PaystackAPI
from tools.sandbox.square import SquareAPI
from tools.sandbox.stripe import StripeAPI
from tools.sandbox.transfers import TransferDesk

logger = logging.getLogger("tools.sandbox")


class ProviderAPI(Protocol):
    """One provider's endpoints, payment outcome and webhook signature."""

    name: str

    def routes(self) -> list[tuple[str, str, Route]]: ...

    def attempt_id(self, txn: Txn) -> str:
        """The provider's id for a new payment attempt (charge, payment)."""
        ...

    def complete(self, txn: Txn, attempt: JSON) -> list[JSON]:
        """The webhook payloads a finished payment attempt causes."""
        ...

    def sign(self, body: bytes) -> dict[str, str]: ...


class Sandbox:
    """Provider-side state, behaviour and webhooks; ``handle`` answers HTTP requests."""

    def __init__(
        self,
        *,
        secrets: SandboxSecrets | None = None,
        deliver_to: str | None = None,
        public_url: str | None = None,
        delivery_timeout: float = 10.0,
        refund_webhook_delay: float = 0.5,
    ) -> None:
        if deliver_to is not None and urlsplit(deliver_to).scheme not in {"http", "https"}:
            raise ValueError(f"deliver_to must be an http(s) URL, not {deliver_to!r}")
        self.secrets = secrets or SandboxSecrets()
        self.deliver_to = deliver_to.rstrip("/") if deliver_to else None
        self.public_url = public_url.rstrip("/") if public_url else None
        self.delivery_timeout = delivery_timeout
        self.refund_webhook_delay = refund_webhook_delay
        self.square_webhook_url = self.secrets.square_webhook_url or (
            (self.deliver_to or DEFAULT_DELIVER_TO) + WEBHOOK_PATH.format(provider="square")
        )
        # One lock over all state. Webhooks are delivered outside it: the app usually
        # calls back (verify) while the delivery still waits for its answer.
        self.lock = threading.RLock()
        self._txns: list[Txn] = []
        self._index: dict[tuple[str, str], Txn] = {}
        self._behaviours: dict[str, Behaviour] = {}
        self._idempotency: dict[tuple[str, str], tuple[str, Reply]] = {}
        self._webhooks: list[JSON] = []

        self.apis: dict[str, ProviderAPI] = {
            "paystack": PaystackAPI(self),
            "stripe": StripeAPI(self),
            "square": SquareAPI(self),
        }
        self.transfers = TransferDesk(self)
        self._routes = self._build_routes()

    # ---------------------------------------------------------------- control surface

    def reset(self) -> None:
        with self.lock:
            self._txns.clear()
            self._index.clear()
            self._behaviours.clear()
            self._idempotency.clear()
            self._webhooks.clear()
        self.transfers.reset()

    def set_behaviour(
        self,
        match: str,
        mode: str,
        *,
        times: int | None = None,
        delay: float | None = None,
        status: int | None = None,
    ) -> JSON:
        """Make calls concerning ``match`` (a reference, a provider id, or ``*``) misbehave.

        ``timeout`` / ``error_5xx`` hit the next ``times`` API calls (every one when
        ``times`` is None); ``decline`` the next ``times`` payment attempts;
        ``amount_mismatch`` / ``currency_mismatch`` every report until ``normal``.
        The refund modes hit the next ``times`` refund requests: ``refund_timeout``
        records the refund, then answers only after ``delay`` seconds (past the client's
        timeout); ``refund_dropped`` records it, then closes the connection without an
        answer; ``refund_failed`` records it as failed (nothing is given back) and says so.
        A repeated idempotency key (Stripe, Square) replays the first answer either way.
        """
        if not isinstance(match, str) or not match:
            raise SandboxError(400, "match must be a non-empty string")
        if mode not in MODES:
            raise SandboxError(400, f"mode must be one of {', '.join(MODES)}")
        if times is not None and (positive_int(times) is None or not isinstance(times, int)):
            raise SandboxError(400, "times must be a positive integer")
        if delay is not None and (
            isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 120
        ):
            raise SandboxError(400, "delay must be between 0 and 120 seconds")
        if status is not None and (
            not isinstance(status, int) or not (status == 429 or 500 <= status <= 599)
        ):
            raise SandboxError(400, "status must be 429 or 5xx")
        with self.lock:
            if mode == "normal":
                self._behaviours.pop(match, None)
                return {"match": match, "mode": "normal"}
            behaviour = Behaviour(mode=mode, times=times)
            if delay is not None:
                behaviour.delay = float(delay)
            if status is not None:
                behaviour.status = status
            self._behaviours[match] = behaviour
            return {"match": match, **asdict(behaviour)}

    @property
    def sent_webhooks(self) -> list[JSON]:
        with self.lock:
            return [dict(record, headers=dict(record["headers"])) for record in self._webhooks]

    def state(self) -> JSON:
        with self.lock:
            return {
                "transactions": [self.describe(txn) for txn in self._txns],
                "behaviours": {match: asdict(b) for match, b in self._behaviours.items()},
                "webhooks": [_summary(record) for record in self._webhooks],
            }

    def pay(self, provider: str, ident: str, outcome: str = "success") -> JSON:
        """Finish a payment as the customer would on the hosted page, then send the
        provider's signed webhook(s). Returns what happened and what was delivered."""
        if outcome not in {"success", "decline"}:
            raise SandboxError(400, "outcome must be 'success' or 'decline'")
        with self.lock:
            txn = self.find(provider, ident)
            if txn.state == "succeeded":
                raise SandboxError(409, f"{provider} payment {ident} is already paid")
            if txn.state == "failed" and provider == "paystack":
                # A Paystack reference is spent once it fails; the shop starts a new one.
                raise SandboxError(409, f"paystack transaction {ident} has already failed")
            if outcome == "success" and self._take(txn.ids(), {"decline"}) is not None:
                outcome = "decline"
            now = time.time()
            attempt: JSON = {
                "id": self.apis[provider].attempt_id(txn),
                "status": "succeeded" if outcome == "success" else "failed",
                "created": now,
            }
            txn.attempts.append(attempt)
            txn.state = attempt["status"]
            txn.paid_at = now if outcome == "success" else None
            self.reindex(txn)
            events = self.apis[provider].complete(txn, attempt)
            result: JSON = {
                "provider": provider,
                "reference": txn.reference,
                "provider_id": txn.provider_id,
                "outcome": outcome,
                "state": txn.state,
            }
        records = [self.send(provider, payload) for payload in events]
        result["webhooks"] = [_summary(record) for record in records]
        return result

    # ------------------------------------------------- helpers for the provider APIs

    def register(self, txn: Txn) -> None:
        self._txns.append(txn)
        self.reindex(txn)

    def reindex(self, txn: Txn) -> None:
        for ident in txn.ids():
            self._index[(txn.provider, ident)] = txn

    def transactions(self) -> list[Txn]:
        """Every payment so far, oldest first (call with the lock held)."""
        return list(self._txns)

    def lookup(self, provider: str, ident: str) -> Txn | None:
        return self._index.get((provider, str(ident)))

    def find(self, provider: str, ident: str) -> Txn:
        if provider not in PROVIDERS:
            raise SandboxError(404, f"unknown provider {provider!r}")
        txn = self.lookup(provider, ident)
        if txn is None:
            raise SandboxError(404, f"no {provider} payment {ident!r}")
        return txn

    def next_number(self) -> int:
        """A numeric provider id (Paystack transactions and refunds), never handed out
        before, by this sandbox or an earlier run of it."""
        return unique_number()

    def guarded(self, provider: str, ident: str) -> tuple[Txn | None, Reply | None]:
        """Look ``ident`` up and apply any timeout / 5xx behaviour to this API call."""
        with self.lock:
            txn = self.lookup(provider, ident) if ident else None
        ids = txn.ids() if txn else ({ident} if ident else set())
        return txn, self.guard(provider, ids)

    def guard(self, provider: str, ids: Iterable[str]) -> Reply | None:
        """Apply a timeout / 5xx behaviour to an API call concerning ``ids``."""
        with self.lock:
            behaviour = self._take(ids, {"timeout", "error_5xx"})
        if behaviour is None:
            return None
        if behaviour.mode == "timeout":
            # Answer late but normally: the client has given up, the effect happens all
            # the same, which is the case a retry with an idempotency key must handle.
            time.sleep(behaviour.delay)
            return None
        message = "Sandbox: simulated provider failure"
        return json_reply(behaviour.status, error_body(provider, behaviour.status, message))

    def refund_fails(self, txn: Txn) -> bool:
        """Whether the refund being recorded for ``txn`` fails (``refund_failed``)."""
        with self.lock:
            return self._take(txn.ids(), {"refund_failed"}) is not None

    def answer_refund(self, txn: Txn, reply: Reply) -> Reply:
        """Deliver the answer to a refund request that has been carried out, or lose it
        (``refund_timeout``, ``refund_dropped``): the refund stays recorded, and the
        client cannot tell whether it happened."""
        with self.lock:
            behaviour = self._take(txn.ids(), REFUND_ANSWER_MODES)
        if behaviour is None:
            return reply
        if behaviour.mode == "refund_dropped":
            return Reply(status=reply.status, body=b"", drop=True)
        time.sleep(behaviour.delay)  # outside the lock: a retry may arrive meanwhile
        return reply

    def idempotent(
        self, provider: str, key: str, body: bytes, create: Callable[[], Reply]
    ) -> Reply:
        """Replay the first answer for a repeated idempotency key, as Stripe and Square do;
        the same key with other parameters is refused."""
        if not key:
            return create()
        fingerprint = hashlib.sha256(body).hexdigest()
        with self.lock:
            seen = self._idempotency.get((provider, key))
            if seen is not None:
                if seen[0] != fingerprint:
                    raise SandboxError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters",
                        "IDEMPOTENCY_KEY_REUSED" if provider == "square" else "idempotency_error",
                    )
                return seen[1]
            reply = create()
            self._idempotency[(provider, key)] = (fingerprint, reply)
            return reply

    def take_mode(self, ids: Iterable[str], modes: AbstractSet[str]) -> str | None:
        """Use up one behaviour in ``modes`` matching ``ids`` (or ``*``); its mode."""
        with self.lock:
            behaviour = self._take(ids, modes)
        return behaviour.mode if behaviour is not None else None

    def reported(self, txn: Txn) -> tuple[int, str]:
        """The amount and currency the provider reports, after any mismatch behaviour."""
        amount, currency = txn.amount, txn.currency
        ids = txn.ids()
        modes = {b.mode for m, b in self._behaviours.items() if m == "*" or m in ids}
        if "amount_mismatch" in modes:
            amount = amount // 2 if amount > 1 else amount + 1
        if "currency_mismatch" in modes:
            currency = "USD" if currency != "USD" else "EUR"
        return amount, currency

    @staticmethod
    def refund_amount(txn: Txn, requested: object, *, required: bool = False) -> int:
        """The amount to refund, or the provider-style refusal."""
        if txn.state != "succeeded":
            raise SandboxError(400, "Transaction has not been paid, so it cannot be refunded")
        remaining = txn.amount - txn.refunded
        if remaining <= 0:
            raise SandboxError(400, "Transaction has been fully reversed")
        if requested is None or requested == "":
            if required:
                raise SandboxError(400, "amount is required")
            return remaining
        amount = positive_int(requested)
        if amount is None:
            raise SandboxError(400, "Refund amount must be a positive integer")
        if amount > remaining:
            raise SandboxError(400, f"Refund amount {amount} exceeds the {remaining} left")
        return amount

    def describe(self, txn: Txn) -> JSON:
        return {
            "provider": txn.provider,
            "reference": txn.reference,
            "pay_id": txn.pay_id,
            "provider_id": txn.provider_id,
            "amount": txn.amount,
            "currency": txn.currency,
            "state": txn.state,
            "attempts": txn.attempts,
            "refunds": txn.refunds,
            "refunded": txn.refunded,
        }

    def _take(self, ids: Iterable[str], modes: AbstractSet[str]) -> Behaviour | None:
        """The first behaviour in ``modes`` matching ``ids`` (a specific match before
        ``*``), counting one use of it."""
        ids = set(ids)
        for match in [m for m in self._behaviours if m in ids] + ["*"]:
            behaviour = self._behaviours.get(match)
            if behaviour is None or behaviour.mode not in modes:
                continue
            if behaviour.times is not None:
                behaviour.times -= 1
                if behaviour.times <= 0:
                    del self._behaviours[match]
            return copy.copy(behaviour)
        return None

    # ---------------------------------------------------------------------- webhooks

    def _record(self, provider: str, payload: JSON) -> JSON:
        body = json.dumps(payload, indent=2).encode()
        base = self.deliver_to or DEFAULT_DELIVER_TO
        record: JSON = {
            "provider": provider,
            "type": str(payload.get("event") or payload.get("type") or ""),
            "url": base + WEBHOOK_PATH.format(provider=provider),
            "headers": {"Content-Type": "application/json", **self.apis[provider].sign(body)},
            "body": body,
            "delivered": False,
            "status": None,
            "error": None,
        }
        with self.lock:
            self._webhooks.append(record)
        return record

    def send(self, provider: str, payload: JSON) -> JSON:
        """Sign and record one webhook, and deliver it now when there is an app to tell."""
        record = self._record(provider, payload)
        if self.deliver_to:
            self._deliver(record)
        return record

    def send_later(self, provider: str, payload: JSON) -> None:
        """Record now; deliver after a short pause, as the providers do, so the app has
        stored the API answer before the webhook about the same thing arrives."""
        record = self._record(provider, payload)
        if not self.deliver_to:
            return

        def deliver() -> None:
            time.sleep(self.refund_webhook_delay)
            self._deliver(record)

        threading.Thread(target=deliver, name="sandbox-webhook", daemon=True).start()

    def _deliver(self, record: JSON) -> None:
        request = urllib.request.Request(  # noqa: S310 - deliver_to is checked to be http(s)
            record["url"], data=record["body"], headers=record["headers"], method="POST"
        )
        status: int | None = None
        error: str | None = None
        try:
            with _opener().open(request, timeout=self.delivery_timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (urllib.error.URLError, OSError) as exc:
            error = str(getattr(exc, "reason", exc))
        delivered = status is not None and 200 <= status < 300
        with self.lock:
            record.update(delivered=delivered, status=status, error=error)
        log = logger.info if delivered else logger.warning
        log(
            "webhook.delivery provider=%s type=%s url=%s status=%s error=%s",
            record["provider"],
            record["type"],
            record["url"],
            status,
            error,
        )

    # ------------------------------------------------------------------ HTTP routing

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, host: str
    ) -> Reply:
        """Answer one HTTP request (``headers`` with lower-case names)."""
        parts = urlsplit(target)
        path = parts.path
        base = self.public_url or (f"http://{host}" if host else "")
        for route_method, pattern, provider, handler in self._routes:
            found = pattern.fullmatch(path)
            if found is None or route_method != method:
                continue
            # Query parameters too (list filters), under the path's own.
            params = dict(parse_qsl(parts.query))
            params.update({key: unquote(value) for key, value in found.groupdict().items()})
            if provider is not None and not self._authorised(provider, headers):
                message = "Invalid key" if provider == "paystack" else "Unauthorized"
                return json_reply(401, error_body(provider, 401, message))
            try:
                return handler(params, headers, body, base)
            except SandboxError as exc:
                if provider is None:
                    return json_reply(exc.status, {"error": exc.message})
                payload = error_body(provider, exc.status, exc.message, exc.code)
                return json_reply(exc.status, payload)
        for provider in PROVIDERS:
            if path.startswith(f"/{provider}/"):
                return json_reply(404, error_body(provider, 404, f"No route {method} {path}"))
        return json_reply(404, {"error": f"no route {method} {path}"})

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], str | None, Route]]:
        table: list[tuple[str, str, str | None, Route]] = [
            (method, f"/{name}{pattern}", name, handler)
            for name, api in self.apis.items()
            for method, pattern, handler in api.routes()
        ]
        table += [
            (method, f"/{name}{pattern}", name, handler)
            for name, method, pattern, handler in self.transfers.routes()
        ]
        table += [
            ("GET", r"/pay/(?P<provider>[a-z]+)/(?P<id>[^/]+)", None, self._page),
            ("POST", r"/pay/(?P<provider>[a-z]+)/(?P<id>[^/]+)", None, self._page_submit),
            ("POST", r"/_sandbox/pay", None, self._control_pay),
            ("POST", r"/_sandbox/behaviour", None, self._control_behaviour),
            ("POST", r"/_sandbox/transfer", None, self._control_transfer),
            ("GET", r"/_sandbox/transfers", None, self._control_transfers),
            ("GET", r"/_sandbox/state", None, lambda *_: json_reply(200, self.state())),
            ("POST", r"/_sandbox/reset", None, self._control_reset),
            ("GET", r"/", None, self._index_page),
        ]
        return [(method, re.compile(p), name, h) for method, p, name, h in table]

    def _authorised(self, provider: str, headers: Mapping[str, str]) -> bool:
        expected = f"Bearer {self.secrets.api_key(provider)}".encode()
        given = (headers.get("authorization") or "").encode("utf-8", "replace")
        return hmac.compare_digest(expected, given)

    def _page(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        try:
            with self.lock:
                view = self.describe(self.find(params["provider"], params["id"]))
        except SandboxError as exc:
            return pages.html_reply(exc.status, pages.message_page("Unknown payment", exc.message))
        return pages.html_reply(200, pages.pay_page(view, params["provider"], params["id"]))

    def _page_submit(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        outcome = dict(parse_qsl(body.decode())).get("outcome", "")
        try:
            result = self.pay(params["provider"], params["id"], outcome)
            with self.lock:
                back = pages.return_url(self.find(params["provider"], params["id"]))
        except SandboxError as exc:
            page = pages.message_page("Payment not completed", exc.message)
            return pages.html_reply(exc.status, page)
        return pages.html_reply(200, pages.result_page(result, back))

    def _control_pay(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        payload = json_body(body)
        result = self.pay(
            str(payload.get("provider") or ""),
            str(payload.get("id") or ""),
            str(payload.get("outcome") or "success"),
        )
        return json_reply(200, result)

    def _control_behaviour(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        payload = json_body(body)
        result = self.set_behaviour(
            payload.get("match"),  # type: ignore[arg-type]  # validated by set_behaviour
            str(payload.get("mode") or ""),
            times=payload.get("times"),
            delay=payload.get("delay"),
            status=payload.get("status"),
        )
        return json_reply(200, result)

    def _control_transfer(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        payload = json_body(body)
        result = self.transfers.settle(
            str(payload.get("provider") or ""),
            str(payload.get("id") or ""),
            str(payload.get("outcome") or "success"),
        )
        return json_reply(200, result)

    def _control_transfers(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        return json_reply(200, self.transfers.state())

    def _control_reset(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        self.reset()
        return json_reply(200, {"reset": True})

    def _index_page(
        self, params: dict[str, str], headers: Mapping[str, str], body: bytes, base: str
    ) -> Reply:
        return json_reply(
            200,
            {
                "sandbox": "payment providers",
                "apis": {name: f"{base}/{name}" for name in PROVIDERS},
                "webhooks_to": self.deliver_to,
                "control": {
                    "POST /_sandbox/pay": {"provider": "", "id": "", "outcome": "success|decline"},
                    "POST /_sandbox/behaviour": {
                        "match": "reference | provider id | *",
                        "mode": " | ".join(MODES),
                        "times": "N (optional)",
                        "delay": "seconds (timeout, refund_timeout)",
                        "status": "5xx or 429 (error_5xx)",
                    },
                    "POST /_sandbox/transfer": {
                        "provider": "paystack|stripe",
                        "id": "reference | provider id",
                        "outcome": "success|failed|reversed",
                    },
                    "GET /_sandbox/transfers": {},
                    "GET /_sandbox/state": {},
                    "POST /_sandbox/reset": {},
                },
            },
        )


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    # Without an empty ProxyHandler urllib would send a delivery to a local app through
    # HTTP(S)_PROXY. Built once: it loads the CA bundle, which takes tens of milliseconds.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _summary(record: JSON) -> JSON:
    """A webhook record as JSON (the body as text)."""
    return dict(record, headers=dict(record["headers"]), body=record["body"].decode())
