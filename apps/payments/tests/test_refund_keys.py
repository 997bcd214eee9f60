"""Refund idempotency at the adapter level, against the sandbox over HTTP: Stripe and
Square replay a repeated key, Paystack finds a refund by the key in its merchant note,
and the sandbox's lost-answer and failed-refund modes behave like the providers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from apps.payments.providers.base import (
    PermanentProviderError,
    TransientProviderError,
)
from apps.payments.tests.test_providers import AMOUNT, PROVIDERS, Started, start
from tools.sandbox import MODES, SandboxError, SandboxServer

KEYED = ("stripe", "square")


def _paid(sandbox: SandboxServer, name: str) -> Started:
    started = start(name)
    sandbox.pay(name, started.payment_id, "success")
    return started


def _refunds(sandbox: SandboxServer, started: Started) -> list[dict[str, Any]]:
    [txn] = [t for t in sandbox.state()["transactions"] if t["reference"] == started.reference]
    refunds: list[dict[str, Any]] = txn["refunds"]
    return refunds


@pytest.mark.parametrize("name", KEYED)
def test_a_repeated_key_is_one_refund(payment_sandbox: SandboxServer, name: str) -> None:
    started = _paid(payment_sandbox, name)
    key = str(uuid.uuid4())

    first = started.refund(1500, key=key)
    again = started.refund(1500, key=key)
    other = started.refund(1500)

    assert again == first
    assert other.provider_refund_id != first.provider_refund_id
    assert [r["amount"] for r in _refunds(payment_sandbox, started)] == [1500, 1500]


@pytest.mark.parametrize("name", KEYED)
def test_a_key_reused_with_other_parameters_is_an_unknown_outcome_not_a_refusal(
    payment_sandbox: SandboxServer, name: str
) -> None:
    """Refusing a reused key says nothing of whether the first request refunded."""
    started = _paid(payment_sandbox, name)
    key = str(uuid.uuid4())
    started.refund(1500, key=key)

    with pytest.raises(TransientProviderError) as raised:
        started.refund(1000, key=key)

    assert raised.value.status_code == 400
    assert len(_refunds(payment_sandbox, started)) == 1


def test_paystack_looks_a_refund_up_by_its_key_before_asking_again(
    payment_sandbox: SandboxServer,
) -> None:
    started = _paid(payment_sandbox, "paystack")
    key = str(uuid.uuid4())
    first = started.refund(1500, key=key)

    found = started.refund(1500, key=key, look_up_first=True)
    new = started.refund(1500, look_up_first=True)

    assert found.provider_refund_id == first.provider_refund_id
    assert found.state == "succeeded"  # listed once processed
    assert new.provider_refund_id != first.provider_refund_id
    refunds = _refunds(payment_sandbox, started)
    assert len(refunds) == 2
    assert key in refunds[0]["merchant_note"]


def test_paystack_without_look_up_asks_again(payment_sandbox: SandboxServer) -> None:
    """Paystack takes no key: what keeps a retry from refunding twice is the look-up."""
    started = _paid(payment_sandbox, "paystack")
    key = str(uuid.uuid4())

    started.refund(1500, key=key)
    started.refund(1500, key=key)

    assert len(_refunds(payment_sandbox, started)) == 2


def test_the_paystack_sandbox_lists_refunds_per_transaction(
    payment_sandbox: SandboxServer,
) -> None:
    one, two = _paid(payment_sandbox, "paystack"), _paid(payment_sandbox, "paystack")
    one.refund(1000)
    one.refund(2000)
    two.refund(500)
    ids = {t["reference"]: t["provider_id"] for t in payment_sandbox.state()["transactions"]}
    headers = {"Authorization": "Bearer sk_test_sandbox_paystack"}
    url = f"{payment_sandbox.url}/paystack/refund"

    with httpx.Client(headers=headers, timeout=5) as http:
        mine = http.get(url, params={"transaction": ids[one.reference]}).json()
        theirs = http.get(url, params={"transaction": ids[two.reference]}).json()
        every = http.get(url).json()
        unknown = http.get(url, params={"transaction": "1"}).json()
        wrong_key = httpx.get(url, params={"transaction": ids[one.reference]})

    assert mine["status"] is True
    assert [r["amount"] for r in mine["data"]] == [2000, 1000]  # newest first
    assert {r["transaction"] for r in mine["data"]} == {int(ids[one.reference])}
    assert all(r["status"] == "processed" and r["merchant_note"] for r in mine["data"])
    assert [r["amount"] for r in theirs["data"]] == [500]
    assert every["meta"]["total"] == 3
    assert unknown["data"] == []
    assert wrong_key.status_code == 401


@pytest.mark.parametrize("mode", ["refund_timeout", "refund_dropped"])
@pytest.mark.parametrize("name", PROVIDERS)
def test_a_lost_refund_answer_is_transient_and_the_refund_is_made(
    payment_sandbox: SandboxServer, name: str, mode: str, settings: Any
) -> None:
    settings.PAYMENT_HTTP_TIMEOUT = 0.3
    started = _paid(payment_sandbox, name)
    payment_sandbox.set_behaviour(started.reference, mode, times=1, delay=1.0)
    key = str(uuid.uuid4())

    with pytest.raises(TransientProviderError):
        started.refund(AMOUNT, key=key)
    [made] = _refunds(payment_sandbox, started)
    retried = started.refund(AMOUNT, key=key, look_up_first=True)

    assert retried.provider_refund_id == str(made["id"])
    assert len(_refunds(payment_sandbox, started)) == 1


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_failed_refund_is_reported_and_gives_nothing_back(
    payment_sandbox: SandboxServer, name: str
) -> None:
    started = _paid(payment_sandbox, name)
    payment_sandbox.set_behaviour(started.payment_id, "refund_failed", times=1)

    failed = started.refund(AMOUNT)
    done = started.refund(AMOUNT)

    assert failed.state == "failed"
    assert done.state != "failed"
    [txn] = [
        t for t in payment_sandbox.state()["transactions"] if t["reference"] == started.reference
    ]
    assert [r["status"] for r in txn["refunds"]] == ["failed", "succeeded"]
    assert txn["refunded"] == AMOUNT
    with pytest.raises(PermanentProviderError):
        started.refund(1)


def test_the_refund_modes_are_sandbox_modes(payment_sandbox: SandboxServer) -> None:
    assert {"refund_timeout", "refund_dropped", "refund_failed"} <= set(MODES)
    with pytest.raises(SandboxError):
        payment_sandbox.set_behaviour("*", "refund_sometimes")
