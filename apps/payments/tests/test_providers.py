"""The three adapters against the provider sandbox over real HTTP (nothing patched)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from apps.payments.providers.base import (
    Checkout,
    InvalidSignature,
    PaymentProvider,
    PermanentProviderError,
    RefundResult,
    TransientProviderError,
    Verification,
    WebhookEvent,
)
from apps.payments.providers.registry import UnknownProvider, get_provider
from tools.sandbox import SandboxServer

PROVIDERS = ("paystack", "stripe", "square")
CURRENCY = {"paystack": "NGN", "stripe": "USD", "square": "USD"}
AMOUNT = 5000
SIGNATURE_HEADERS = {
    "paystack": "x-paystack-signature",
    "stripe": "Stripe-Signature",
    "square": "x-square-hmacsha256-signature",
}


@dataclass
class Started:
    """A payment initialised through an adapter."""

    name: str
    provider: PaymentProvider
    reference: str
    checkout: Checkout

    @property
    def payment_id(self) -> str:
        return self.checkout.provider_payment_id

    def verify(self) -> Verification:
        return get_provider(self.name).verify(
            reference=self.reference, provider_payment_id=self.payment_id
        )

    def refund(
        self, amount: int, *, key: str | None = None, look_up_first: bool = False
    ) -> RefundResult:
        """A refund of ``amount``: a new one unless ``key`` names an earlier one."""
        return get_provider(self.name).refund(
            reference=self.reference,
            provider_payment_id=self.payment_id,
            amount_minor=amount,
            currency=CURRENCY[self.name],
            idempotency_key=key or str(uuid.uuid4()),
            look_up_first=look_up_first,
        )


def _reference() -> str:
    return f"FSN-{uuid.uuid4().hex[:8].upper()}"


def start(name: str, *, reference: str | None = None, amount: int = AMOUNT) -> Started:
    reference = reference or _reference()
    provider = get_provider(name)
    checkout = provider.initialise(
        reference=reference,
        amount_minor=amount,
        currency=CURRENCY[name],
        email="customer@example.com",
        metadata={"order_number": "FSN-000001", "reference": reference},
    )
    return Started(name, provider, reference, checkout)


def webhooks(
    sandbox: SandboxServer, name: str, raw_type: str | None = None
) -> list[dict[str, Any]]:
    return [
        w
        for w in sandbox.sent_webhooks
        if w["provider"] == name and (raw_type is None or w["type"] == raw_type)
    ]


def parse(name: str, webhook: dict[str, Any]) -> WebhookEvent:
    return get_provider(name).parse_webhook(headers=webhook["headers"], body=webhook["body"])


# --- initialise -----------------------------------------------------------------------------


def test_paystack_checkout_is_the_hosted_page_and_access_code(
    payment_sandbox: SandboxServer,
) -> None:
    started = start("paystack")

    checkout = started.checkout
    assert checkout.provider_payment_id == started.reference
    assert (
        checkout.authorization_url == f"{payment_sandbox.url}/pay/paystack/{checkout.client_secret}"
    )
    assert checkout.client_secret


def test_stripe_checkout_is_the_payment_intent_and_its_client_secret(
    payment_sandbox: SandboxServer,
) -> None:
    started = start("stripe")

    checkout = started.checkout
    assert checkout.provider_payment_id.startswith("pi_")
    assert checkout.client_secret is not None
    assert checkout.client_secret.startswith(f"{checkout.provider_payment_id}_secret_")
    assert checkout.authorization_url == (
        f"{payment_sandbox.url}/pay/stripe/{checkout.provider_payment_id}"
    )


def test_square_checkout_is_the_payment_link_of_an_order(payment_sandbox: SandboxServer) -> None:
    started = start("square")

    checkout = started.checkout
    assert checkout.provider_payment_id  # the order id
    assert checkout.authorization_url is not None
    assert checkout.authorization_url.startswith(f"{payment_sandbox.url}/pay/square/")
    assert checkout.client_secret is None
    [txn] = payment_sandbox.state()["transactions"]
    assert txn["provider_id"] == checkout.provider_payment_id
    assert txn["reference"] == started.reference


@pytest.mark.parametrize("name", ["stripe", "square"])
def test_initialise_again_returns_the_same_payment(
    payment_sandbox: SandboxServer, name: str
) -> None:
    first = start(name)

    again = start(name, reference=first.reference)

    assert again.checkout == first.checkout


def test_paystack_refuses_a_reference_twice(payment_sandbox: SandboxServer) -> None:
    first = start("paystack")

    with pytest.raises(PermanentProviderError, match="Duplicate Transaction Reference"):
        start("paystack", reference=first.reference)


# --- verify ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_verify_is_pending_until_paid_then_succeeded(
    payment_sandbox: SandboxServer, name: str
) -> None:
    started = start(name)
    assert started.verify().state == "pending"

    payment_sandbox.pay(name, started.payment_id, "success")

    verification = started.verify()
    assert verification == Verification(
        state="succeeded",
        amount_minor=AMOUNT,
        currency=CURRENCY[name],
        provider_payment_id=started.payment_id,
    )


@pytest.mark.parametrize(
    ("name", "state", "kinds"),
    [
        ("paystack", "failed", []),  # Paystack announces successful charges only
        ("stripe", "failed", ["payment.failed"]),
        ("square", "pending", ["payment.failed"]),  # the link stays payable on Square
    ],
)
def test_a_declined_payment(
    payment_sandbox: SandboxServer, name: str, state: str, kinds: list[str]
) -> None:
    started = start(name)

    result = payment_sandbox.pay(name, started.payment_id, "decline")

    assert result["outcome"] == "decline"
    verification = started.verify()
    assert verification.state == state
    if state == "failed":
        assert verification.failure_reason
    events = [parse(name, w) for w in webhooks(payment_sandbox, name)]
    assert [e.kind for e in events] == kinds
    assert all(e.provider_payment_id == started.payment_id for e in events)


@pytest.mark.parametrize("name", PROVIDERS)
def test_decline_behaviour_declines_the_next_payment(
    payment_sandbox: SandboxServer, name: str
) -> None:
    started = start(name)
    payment_sandbox.set_behaviour(started.reference, "decline", times=1)

    declined = payment_sandbox.pay(name, started.payment_id, "success")

    assert declined["outcome"] == "decline"
    assert started.verify().state != "succeeded"


@pytest.mark.parametrize("name", ["stripe", "square"])
def test_a_customer_may_pay_after_a_decline(payment_sandbox: SandboxServer, name: str) -> None:
    started = start(name)
    payment_sandbox.pay(name, started.payment_id, "decline")

    payment_sandbox.pay(name, started.payment_id, "success")

    assert started.verify().state == "succeeded"


@pytest.mark.parametrize("name", PROVIDERS)
def test_amount_and_currency_mismatches_are_reported_as_the_provider_sees_them(
    payment_sandbox: SandboxServer, name: str
) -> None:
    started = start(name)
    payment_sandbox.pay(name, started.payment_id, "success")

    payment_sandbox.set_behaviour(started.reference, "amount_mismatch")
    assert started.verify().amount_minor == AMOUNT // 2

    payment_sandbox.set_behaviour(started.reference, "currency_mismatch")
    verification = started.verify()
    assert verification.amount_minor == AMOUNT
    assert verification.currency != CURRENCY[name]


@pytest.mark.parametrize(
    ("name", "payment_id"),
    [("paystack", ""), ("stripe", "pi_unknown"), ("square", "unknown-order")],
)
def test_verifying_an_unknown_payment_is_permanent(
    payment_sandbox: SandboxServer, name: str, payment_id: str
) -> None:
    with pytest.raises(PermanentProviderError) as raised:
        get_provider(name).verify(reference="FSN-UNKNOWN", provider_payment_id=payment_id)

    assert raised.value.status_code in {400, 404}


# --- refund ---------------------------------------------------------------------------------

REFUND_STATE = {"paystack": "pending", "stripe": "succeeded", "square": "pending"}


@pytest.mark.parametrize("name", PROVIDERS)
def test_partial_refunds_up_to_the_amount_paid(payment_sandbox: SandboxServer, name: str) -> None:
    started = start(name)
    payment_sandbox.pay(name, started.payment_id, "success")

    first = started.refund(1500)
    rest = started.refund(AMOUNT - 1500)

    assert first.state == rest.state == REFUND_STATE[name]
    assert first.provider_refund_id
    assert first.provider_refund_id != rest.provider_refund_id
    [txn] = payment_sandbox.state()["transactions"]
    assert txn["refunded"] == AMOUNT
    with pytest.raises(PermanentProviderError):
        started.refund(1)


@pytest.mark.parametrize("name", PROVIDERS)
def test_full_refund_is_confirmed_by_a_webhook(payment_sandbox: SandboxServer, name: str) -> None:
    started = start(name)
    payment_sandbox.pay(name, started.payment_id, "success")

    result = started.refund(AMOUNT)

    assert result.state == REFUND_STATE[name]
    [event] = [
        e
        for e in map(lambda w: parse(name, w), webhooks(payment_sandbox, name))
        if e.kind == "refund.succeeded"
    ]
    assert event.provider_payment_id == started.payment_id


@pytest.mark.parametrize("name", PROVIDERS)
def test_refunding_an_unpaid_payment_is_permanent(
    payment_sandbox: SandboxServer, name: str
) -> None:
    started = start(name)

    with pytest.raises(PermanentProviderError):
        started.refund(AMOUNT)


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_5xx_is_transient_until_the_provider_recovers(
    payment_sandbox: SandboxServer, name: str
) -> None:
    started = start(name)
    payment_sandbox.set_behaviour(started.reference, "error_5xx", times=2)

    for _ in range(2):
        with pytest.raises(TransientProviderError) as raised:
            started.verify()
        assert raised.value.status_code == 500
        assert raised.value.transient

    assert started.verify().state == "pending"


@pytest.mark.parametrize("name", PROVIDERS)
def test_rate_limiting_is_transient(payment_sandbox: SandboxServer, name: str) -> None:
    started = start(name)
    payment_sandbox.set_behaviour(started.payment_id, "error_5xx", times=1, status=429)

    with pytest.raises(TransientProviderError) as raised:
        started.verify()

    assert raised.value.status_code == 429


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_timeout_is_transient(payment_sandbox: SandboxServer, settings: Any, name: str) -> None:
    started = start(name)
    settings.PAYMENT_HTTP_TIMEOUT = 0.2
    payment_sandbox.set_behaviour(started.reference, "timeout", times=1, delay=3)

    began = time.monotonic()
    with pytest.raises(TransientProviderError):
        started.verify()

    assert time.monotonic() - began < 2, "the client waited for the slow answer"
    assert started.verify().state == "pending"


@pytest.mark.parametrize(
    ("name", "recovers"), [("stripe", True), ("square", True), ("paystack", False)]
)
def test_retrying_initialise_after_a_timeout(
    payment_sandbox: SandboxServer, settings: Any, name: str, recovers: bool
) -> None:
    """The timed-out request still takes effect. Stripe and Square replay it through the
    idempotency key; Paystack refuses the reference it has now seen."""
    settings.PAYMENT_HTTP_TIMEOUT = 0.2
    reference = _reference()
    payment_sandbox.set_behaviour(reference, "timeout", times=1, delay=0.4)
    with pytest.raises(TransientProviderError):
        start(name, reference=reference)
    deadline = time.monotonic() + 2
    while not payment_sandbox.state()["transactions"] and time.monotonic() < deadline:
        time.sleep(0.02)

    if recovers:
        retried = start(name, reference=reference)
        [txn] = payment_sandbox.state()["transactions"]
        assert retried.payment_id == txn["provider_id"]
    else:
        with pytest.raises(PermanentProviderError, match="Duplicate"):
            start(name, reference=reference)


@pytest.mark.parametrize(
    ("name", "key"),
    [("paystack", "SECRET_KEY"), ("stripe", "SECRET_KEY"), ("square", "ACCESS_TOKEN")],
)
def test_bad_credentials_are_permanent(
    payment_sandbox: SandboxServer, settings: Any, name: str, key: str
) -> None:
    providers = {n: dict(c) for n, c in settings.PAYMENT_PROVIDERS.items()}
    providers[name][key] = "not-the-key"
    settings.PAYMENT_PROVIDERS = providers

    with pytest.raises(PermanentProviderError) as raised:
        start(name)

    assert raised.value.status_code == 401


@pytest.mark.parametrize("name", PROVIDERS)
def test_an_unreachable_provider_is_transient(
    payment_sandbox: SandboxServer, settings: Any, name: str
) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    providers = {n: dict(c) for n, c in settings.PAYMENT_PROVIDERS.items()}
    providers[name]["BASE_URL"] = f"http://127.0.0.1:{port}/{name}"
    settings.PAYMENT_PROVIDERS = providers

    with pytest.raises(TransientProviderError):
        start(name)


# --- webhooks -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_payment_webhook_parses_to_a_payment_succeeded_event(
    payment_sandbox: SandboxServer, name: str
) -> None:
    started = start(name)
    payment_sandbox.pay(name, started.payment_id, "success")
    [webhook] = webhooks(payment_sandbox, name)

    event = parse(name, webhook)
    again = parse(name, webhook)

    assert event.kind == "payment.succeeded"
    assert event.provider_payment_id == started.payment_id
    assert event.reference == (None if name == "square" else started.reference)
    assert event.raw_type == webhook["type"]
    assert event.payload["data"]
    assert again.event_id == event.event_id  # a redelivery is recognisable


def test_event_ids(payment_sandbox: SandboxServer) -> None:
    ids = {}
    for name in PROVIDERS:
        started = start(name)
        payment_sandbox.pay(name, started.payment_id, "success")
        [webhook] = webhooks(payment_sandbox, name)
        ids[name] = parse(name, webhook).event_id
        transaction_id = payment_sandbox.state()["transactions"][-1]["provider_id"]
        if name == "paystack":
            assert ids[name] == f"charge.success:{transaction_id}:{started.reference}"

    assert ids["stripe"].startswith("evt_")
    assert uuid.UUID(ids["square"])


@pytest.mark.parametrize("name", PROVIDERS)
def test_headers_are_found_whatever_their_case(payment_sandbox: SandboxServer, name: str) -> None:
    started = start(name)
    payment_sandbox.pay(name, started.payment_id, "success")
    [webhook] = webhooks(payment_sandbox, name)

    for case in (str.lower, str.upper):
        headers = {case(key): value for key, value in webhook["headers"].items()}
        event = get_provider(name).parse_webhook(headers=headers, body=webhook["body"])
        assert event.kind == "payment.succeeded"


def _sign(name: str, body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers as the provider would sign ``body`` with ``secret``."""
    if name == "paystack":
        return {"x-paystack-signature": hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()}
    if name == "stripe":
        stamp = int(time.time()) if timestamp is None else timestamp
        signed = f"{stamp}.".encode() + body
        hexdigest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return {"Stripe-Signature": f"t={stamp},v1={hexdigest}"}
    url = b"http://127.0.0.1:8000/api/v2/webhooks/square/"
    digest = hmac.new(secret.encode(), url + body, hashlib.sha256).digest()
    return {"x-square-hmacsha256-signature": base64.b64encode(digest).decode()}


def _paid_webhook(sandbox: SandboxServer, name: str) -> dict[str, Any]:
    started = start(name)
    sandbox.pay(name, started.payment_id, "success")
    [webhook] = webhooks(sandbox, name)
    return webhook


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_webhook_signed_with_another_secret_is_rejected(
    payment_sandbox: SandboxServer, name: str
) -> None:
    body = _paid_webhook(payment_sandbox, name)["body"]

    with pytest.raises(InvalidSignature):
        get_provider(name).parse_webhook(headers=_sign(name, body, "forged-secret"), body=body)


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_tampered_body_is_rejected(payment_sandbox: SandboxServer, name: str) -> None:
    webhook = _paid_webhook(payment_sandbox, name)
    tampered = webhook["body"].replace(str(AMOUNT).encode(), str(AMOUNT + 4000).encode(), 1)
    assert len(tampered) == len(webhook["body"]) and tampered != webhook["body"]

    with pytest.raises(InvalidSignature):
        get_provider(name).parse_webhook(headers=webhook["headers"], body=tampered)


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_webhook_without_signature_is_rejected(payment_sandbox: SandboxServer, name: str) -> None:
    webhook = _paid_webhook(payment_sandbox, name)
    headers = {k: v for k, v in webhook["headers"].items() if k != SIGNATURE_HEADERS[name]}

    with pytest.raises(InvalidSignature):
        get_provider(name).parse_webhook(headers=headers, body=webhook["body"])
    with pytest.raises(InvalidSignature):
        get_provider(name).parse_webhook(
            headers={SIGNATURE_HEADERS[name]: ""}, body=webhook["body"]
        )


def test_square_signs_the_configured_notification_url(
    payment_sandbox: SandboxServer, settings: Any
) -> None:
    webhook = _paid_webhook(payment_sandbox, "square")
    providers = {n: dict(c) for n, c in settings.PAYMENT_PROVIDERS.items()}
    providers["square"]["WEBHOOK_URL"] = "https://shop.example.com/api/v2/webhooks/square/"
    settings.PAYMENT_PROVIDERS = providers

    with pytest.raises(InvalidSignature):
        parse("square", webhook)


@pytest.mark.parametrize("age", [-301, 301, 3600])
def test_stripe_rejects_a_timestamp_outside_five_minutes(
    payment_sandbox: SandboxServer, age: int
) -> None:
    body = _paid_webhook(payment_sandbox, "stripe")["body"]
    headers = _sign("stripe", body, "whsec_sandbox_stripe", timestamp=int(time.time()) - age)

    with pytest.raises(InvalidSignature, match="tolerance"):
        get_provider("stripe").parse_webhook(headers=headers, body=body)


def test_stripe_accepts_a_timestamp_within_five_minutes(payment_sandbox: SandboxServer) -> None:
    body = _paid_webhook(payment_sandbox, "stripe")["body"]
    headers = _sign("stripe", body, "whsec_sandbox_stripe", timestamp=int(time.time()) - 290)

    assert get_provider("stripe").parse_webhook(headers=headers, body=body).kind == (
        "payment.succeeded"
    )


def test_stripe_webhook_goes_stale_after_five_minutes(payment_sandbox: SandboxServer) -> None:
    webhook = _paid_webhook(payment_sandbox, "stripe")

    with time_machine.travel(time.time() + 301), pytest.raises(InvalidSignature):
        parse("stripe", webhook)
    with time_machine.travel(time.time() + 250):
        assert parse("stripe", webhook).kind == "payment.succeeded"


def test_stripe_accepts_any_of_several_v1_signatures(payment_sandbox: SandboxServer) -> None:
    webhook = _paid_webhook(payment_sandbox, "stripe")
    header = webhook["headers"]["Stripe-Signature"]
    stamp, good = header.split(",")
    rotated = f"{stamp},v1={'0' * 64},{good},v0=legacy"

    event = get_provider("stripe").parse_webhook(
        headers={"Stripe-Signature": rotated}, body=webhook["body"]
    )

    assert event.kind == "payment.succeeded"
    with pytest.raises(InvalidSignature):
        get_provider("stripe").parse_webhook(
            headers={"Stripe-Signature": f"{stamp},v1={'0' * 64}"}, body=webhook["body"]
        )


# --- registry -------------------------------------------------------------------------------


def test_unknown_provider_name(payment_sandbox: SandboxServer) -> None:
    with pytest.raises(UnknownProvider):
        get_provider("paypal")
    assert issubclass(UnknownProvider, ValueError)


def test_a_provider_missing_from_the_settings_is_unknown(
    payment_sandbox: SandboxServer, settings: Any
) -> None:
    settings.PAYMENT_PROVIDERS = {"stripe": settings.PAYMENT_PROVIDERS["stripe"]}

    with pytest.raises(UnknownProvider):
        get_provider("paystack")


def test_incomplete_settings_are_improperly_configured(
    payment_sandbox: SandboxServer, settings: Any
) -> None:
    providers = {n: dict(c) for n, c in settings.PAYMENT_PROVIDERS.items()}
    del providers["square"]["LOCATION_ID"]
    settings.PAYMENT_PROVIDERS = providers

    with pytest.raises(ImproperlyConfigured, match="LOCATION_ID"):
        get_provider("square")


def test_adapters_are_reused_for_the_same_settings(payment_sandbox: SandboxServer) -> None:
    assert get_provider("stripe") is get_provider("stripe")
    assert {get_provider(name).name for name in PROVIDERS} == set(PROVIDERS)
