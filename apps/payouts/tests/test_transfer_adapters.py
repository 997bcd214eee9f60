"""The adapters' transfers against the sandbox over HTTP: a reference names one transfer
whatever is repeated (Paystack refuses it again and the adapter adopts the first, Stripe
replays its key), a lost answer is found by reference, destinations are checked, the
transfer webhooks are read and routed; Square has no payouts."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from apps.payments.providers.base import PermanentProviderError, TransfersUnsupported
from apps.payments.providers.registry import get_provider, get_transfer_provider
from apps.payouts.tests import factories as f
from tools.sandbox import SandboxError, SandboxServer

pytestmark = pytest.mark.django_db

REFERENCE = "po-" + "1" * 32


def _send(provider: str, code: str, reference: str = REFERENCE, **extra: Any) -> Any:
    return get_transfer_provider(provider).transfer(
        reference=reference,
        amount_minor=12345,
        currency="NGN",
        account_code=code,
        reason="payout",
        **extra,
    )


def test_a_repeated_paystack_reference_adopts_the_first_transfer(
    payment_sandbox: SandboxServer,
) -> None:
    code = f.recipient(payment_sandbox)

    first = _send("paystack", code)
    again = _send("paystack", code)
    looked_up = _send("paystack", code, look_up_first=True)

    assert first.state == "pending"  # queued; the webhook settles it
    assert again.transfer_id == looked_up.transfer_id == first.transfer_id
    assert again.state == "succeeded"
    assert len(payment_sandbox.transfers()["transfers"]) == 1
    status = get_transfer_provider("paystack").transfer_status(reference=REFERENCE, transfer_id="")
    assert status is not None and status.state == "succeeded"
    assert (
        get_transfer_provider("paystack").transfer_status(reference="po-x", transfer_id="") is None
    )


def test_a_repeated_stripe_key_replays_and_the_group_finds_it(
    payment_sandbox: SandboxServer,
) -> None:
    account = f.connected_account(payment_sandbox)

    first = _send("stripe", account)
    again = _send("stripe", account)
    looked_up = _send("stripe", account, look_up_first=True)

    assert first.state == "succeeded" and first.transfer_id.startswith("tr_")
    assert again.transfer_id == looked_up.transfer_id == first.transfer_id
    assert len(payment_sandbox.transfers()["transfers"]) == 1
    stripe = get_transfer_provider("stripe")
    assert stripe.transfer_status(reference="po-none", transfer_id="") is None
    assert stripe.transfer_status(reference=REFERENCE, transfer_id="tr_missing") is None


@pytest.mark.parametrize("provider", ["paystack", "stripe"])
def test_a_refused_transfer_is_permanent(payment_sandbox: SandboxServer, provider: str) -> None:
    code = (
        f.recipient(payment_sandbox)
        if provider == "paystack"
        else f.connected_account(payment_sandbox)
    )
    payment_sandbox.set_behaviour("*", "transfer_failed", times=1)

    with pytest.raises(PermanentProviderError):
        _send(provider, code)
    assert payment_sandbox.transfers()["transfers"] == []


def test_square_cannot_pay_vendors(payment_sandbox: SandboxServer) -> None:
    with pytest.raises(TransfersUnsupported):
        get_transfer_provider("square")


@pytest.mark.parametrize(
    ("provider", "event", "kind"),
    [
        ("paystack", "transfer.success", "transfer.succeeded"),
        ("paystack", "transfer.failed", "transfer.failed"),
        ("paystack", "transfer.reversed", "transfer.reversed"),
        ("stripe", "transfer.created", "transfer.succeeded"),
        ("stripe", "transfer.reversed", "transfer.reversed"),
    ],
)
def test_transfer_webhooks_are_read_with_our_reference(
    payment_sandbox: SandboxServer, provider: str, event: str, kind: str
) -> None:
    core = payment_sandbox.sandbox
    if provider == "paystack":
        body = {
            "event": event,
            "data": {"id": 77, "reference": REFERENCE, "transfer_code": "TRF_1"},
        }
    else:
        transfer = {"id": "tr_1", "object": "transfer", "metadata": {"reference": REFERENCE}}
        body = core.apis["stripe"].event(event, transfer)  # type: ignore[attr-defined]
    raw = json.dumps(body).encode()

    parsed = get_provider(provider).parse_webhook(headers=core.apis[provider].sign(raw), body=raw)

    assert (parsed.kind, parsed.reference) == (kind, REFERENCE)


def test_the_sandbox_refuses_what_cannot_be_settled(payment_sandbox: SandboxServer) -> None:
    code = f.recipient(payment_sandbox)
    payment_sandbox.set_behaviour("*", "transfer_held", times=1)
    _send("paystack", code)

    with pytest.raises(SandboxError, match="only a successful transfer"):
        payment_sandbox.settle_transfer("paystack", REFERENCE, "reversed")
    with pytest.raises(SandboxError, match="no paystack transfer"):
        payment_sandbox.settle_transfer("paystack", "po-unknown", "success")
    with pytest.raises(SandboxError, match="outcome must be"):
        payment_sandbox.settle_transfer("paystack", REFERENCE, "maybe")
    payment_sandbox.settle_transfer("paystack", REFERENCE, "success")
    with pytest.raises(SandboxError, match="already success"):
        payment_sandbox.settle_transfer("paystack", REFERENCE, "failed")
    payment_sandbox.reset()
    assert payment_sandbox.transfers() == {"recipients": [], "accounts": [], "transfers": []}


def test_the_sandbox_control_settles_a_transfer_over_http(payment_sandbox: SandboxServer) -> None:
    code = f.recipient(payment_sandbox)
    payment_sandbox.set_behaviour(code, "transfer_held", times=1)
    _send("paystack", code)

    settled = httpx.post(
        f"{payment_sandbox.url}/_sandbox/transfer",
        json={"provider": "paystack", "id": REFERENCE, "outcome": "failed"},
    )
    listed = httpx.get(f"{payment_sandbox.url}/_sandbox/transfers").json()

    assert settled.status_code == 200 and settled.json()["webhook"]["type"] == "transfer.failed"
    assert [t["status"] for t in listed["transfers"]] == ["failed"]
    assert httpx.post(f"{payment_sandbox.url}/_sandbox/transfer", json={}).status_code == 404
