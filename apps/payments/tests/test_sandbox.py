"""The provider sandbox itself: hosted page, control API, and webhook delivery to a real
HTTP receiver."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.payments.providers import registry
from apps.payments.providers.registry import get_provider
from apps.payments.tests.test_providers import AMOUNT, PROVIDERS, Started, start
from tools.sandbox import SandboxSecrets, SandboxServer

API_KEYS = {
    "paystack": SandboxSecrets.paystack_secret_key,
    "stripe": SandboxSecrets.stripe_secret_key,
    "square": SandboxSecrets.square_access_token,
}


class Receiver:
    """A tiny HTTP server standing in for the app: records every POST, answers
    ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 3.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.requests

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module: building one loads the CA bundle, which is slow."""
    with httpx.Client(timeout=5) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Receiver()
    yield app
    app.close()


@pytest.fixture
def delivering_sandbox(receiver: Receiver, settings: Any) -> Iterator[SandboxServer]:
    """A sandbox delivering its webhooks to ``receiver``, with the adapters pointed at it."""
    server = SandboxServer(deliver_to=receiver.url, refund_webhook_delay=0.05).start()
    settings.PAYMENT_PROVIDERS = {
        "paystack": {"BASE_URL": f"{server.url}/paystack", "SECRET_KEY": API_KEYS["paystack"]},
        "stripe": {
            "BASE_URL": f"{server.url}/stripe",
            "SECRET_KEY": API_KEYS["stripe"],
            "WEBHOOK_SECRET": SandboxSecrets.stripe_webhook_secret,
        },
        "square": {
            "BASE_URL": f"{server.url}/square",
            "ACCESS_TOKEN": API_KEYS["square"],
            "WEBHOOK_SIGNATURE_KEY": SandboxSecrets.square_webhook_signature_key,
            # Square signs the notification URL: by default the app's URL under deliver_to.
            "WEBHOOK_URL": f"{receiver.url}/api/v2/webhooks/square/",
            "LOCATION_ID": "sandbox-location",
        },
    }
    settings.PAYMENT_HTTP_TIMEOUT = 1.0
    yield server
    server.stop()
    registry.clear_cache()


def _page_path(started: Started) -> str:
    assert started.checkout.authorization_url
    return httpx.URL(started.checkout.authorization_url).path


# --- hosted page ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_hosted_page_is_self_contained_with_pay_and_decline(
    http: httpx.Client, payment_sandbox: SandboxServer, name: str
) -> None:
    started = start(name)
    assert started.checkout.authorization_url

    response = http.get(started.checkout.authorization_url)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert started.reference in page
    assert "50.00" in page
    assert f'action="{_page_path(started)}"' in page
    assert re.findall(r'<button[^>]*value="(\w+)"', page) == ["success", "decline"]
    for external in ("<script", "<link", "src=", "url(", "@import", "http://", "https://"):
        assert external not in page


@pytest.mark.parametrize("name", PROVIDERS)
def test_paying_on_the_hosted_page_records_the_signed_webhook(
    http: httpx.Client, payment_sandbox: SandboxServer, name: str
) -> None:
    started = start(name)
    page_url = started.checkout.authorization_url
    assert page_url

    response = http.post(page_url, data={"outcome": "success"})

    assert response.status_code == 200
    assert "Payment successful" in response.text
    assert "recorded only" in response.text  # no app to deliver to
    assert started.verify().state == "succeeded"
    [webhook] = payment_sandbox.sent_webhooks
    assert get_provider(name).parse_webhook(
        headers=webhook["headers"], body=webhook["body"]
    ).kind == ("payment.succeeded")
    paid_page = http.get(page_url).text
    assert "This payment is complete" in paid_page
    assert "<button" not in paid_page


def test_declining_on_the_hosted_page(http: httpx.Client, payment_sandbox: SandboxServer) -> None:
    started = start("stripe")
    assert started.checkout.authorization_url

    response = http.post(started.checkout.authorization_url, data={"outcome": "decline"})

    assert "Payment declined" in response.text
    assert started.verify().state == "failed"


def test_the_hosted_page_of_an_unknown_payment(
    http: httpx.Client, payment_sandbox: SandboxServer
) -> None:
    response = http.get(f"{payment_sandbox.url}/pay/stripe/pi_missing")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


# --- provider APIs --------------------------------------------------------------------------

API_CALLS = {
    "paystack": ("GET", "/paystack/transaction/verify/FSN-1"),
    "stripe": ("GET", "/stripe/v1/payment_intents/pi_1"),
    "square": ("GET", "/square/v2/orders/order-1"),
}


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic xyz"])
def test_the_apis_answer_401_without_the_right_bearer_token(
    http: httpx.Client, payment_sandbox: SandboxServer, name: str, authorization: str | None
) -> None:
    method, path = API_CALLS[name]
    headers = {"Authorization": authorization} if authorization else {}

    response = http.request(method, f"{payment_sandbox.url}{path}", headers=headers)

    assert response.status_code == 401
    body = response.json()
    if name == "paystack":
        assert body["status"] is False
    elif name == "stripe":
        assert body["error"]["type"] == "invalid_request_error"
    else:
        assert body["errors"][0]["category"] == "AUTHENTICATION_ERROR"


def test_simulated_failures_have_each_providers_error_shape(
    http: httpx.Client,
    payment_sandbox: SandboxServer,
) -> None:
    payment_sandbox.set_behaviour("*", "error_5xx", times=3, status=503)
    bodies = {}
    for name in PROVIDERS:
        method, path = API_CALLS[name]
        headers = {"Authorization": f"Bearer {API_KEYS[name]}"}
        response = http.request(method, f"{payment_sandbox.url}{path}", headers=headers)
        assert response.status_code == 503
        bodies[name] = response.json()

    assert bodies["paystack"]["status"] is False
    assert bodies["stripe"]["error"]["type"] == "api_error"
    assert bodies["square"]["errors"][0]["category"] == "API_ERROR"
    assert payment_sandbox.state()["behaviours"] == {}  # used up


def test_stripe_refuses_an_idempotency_key_reused_with_other_parameters(
    http: httpx.Client,
    payment_sandbox: SandboxServer,
) -> None:
    url = f"{payment_sandbox.url}/stripe/v1/payment_intents"
    headers = {"Authorization": f"Bearer {API_KEYS['stripe']}", "Idempotency-Key": "k1"}
    first = http.post(url, headers=headers, data={"amount": "100", "currency": "usd"})

    again = http.post(url, headers=headers, data={"amount": "100", "currency": "usd"})
    other = http.post(url, headers=headers, data={"amount": "200", "currency": "usd"})

    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"


# --- control API ----------------------------------------------------------------------------


def test_behaviour_control_validates_its_input(
    http: httpx.Client, payment_sandbox: SandboxServer
) -> None:
    url = f"{payment_sandbox.url}/_sandbox/behaviour"

    for bad in (
        {"match": "x", "mode": "explode"},
        {"mode": "decline"},
        {"match": "x", "mode": "timeout", "times": 0},
        {"match": "x", "mode": "timeout", "delay": -1},
        {"match": "x", "mode": "error_5xx", "status": 404},
    ):
        response = http.post(url, json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]


def test_behaviour_state_pay_and_reset_over_http(
    http: httpx.Client, payment_sandbox: SandboxServer
) -> None:
    started = start("paystack")
    base = payment_sandbox.url

    set_response = http.post(
        f"{base}/_sandbox/behaviour",
        json={"match": started.reference, "mode": "timeout", "times": 2, "delay": 0.1},
    )
    state = http.get(f"{base}/_sandbox/state").json()
    paid = http.post(
        f"{base}/_sandbox/pay", json={"provider": "paystack", "id": started.reference}
    ).json()
    again = http.post(
        f"{base}/_sandbox/pay", json={"provider": "paystack", "id": started.reference}
    )
    unknown = http.post(f"{base}/_sandbox/pay", json={"provider": "paystack", "id": "nope"})
    reset = http.post(f"{base}/_sandbox/reset")

    assert set_response.json() == {
        "match": started.reference,
        "mode": "timeout",
        "times": 2,
        "delay": 0.1,
        "status": 500,
    }
    assert state["behaviours"][started.reference]["mode"] == "timeout"
    [txn] = state["transactions"]
    assert (txn["reference"], txn["amount"], txn["state"]) == (started.reference, AMOUNT, "pending")
    assert paid["outcome"] == "success"
    assert paid["state"] == "succeeded"
    [webhook] = paid["webhooks"]
    assert webhook["type"] == "charge.success"
    assert json.loads(webhook["body"])["data"]["reference"] == started.reference
    assert again.status_code == 409
    assert unknown.status_code == 404
    assert reset.status_code == 200
    assert payment_sandbox.state() == {"transactions": [], "behaviours": {}, "webhooks": []}


def test_a_wildcard_behaviour_applies_to_every_payment(payment_sandbox: SandboxServer) -> None:
    first, second = start("stripe"), start("square")
    payment_sandbox.set_behaviour("*", "amount_mismatch")
    payment_sandbox.pay("stripe", first.payment_id)
    payment_sandbox.pay("square", second.payment_id)

    assert first.verify().amount_minor == second.verify().amount_minor == AMOUNT // 2

    payment_sandbox.set_behaviour("*", "normal")
    assert first.verify().amount_minor == AMOUNT


def test_the_index_lists_the_apis(http: httpx.Client, payment_sandbox: SandboxServer) -> None:
    index = http.get(payment_sandbox.url + "/").json()

    assert index["apis"]["stripe"] == f"{payment_sandbox.url}/stripe"


# --- delivery -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROVIDERS)
def test_payments_are_delivered_signed_to_the_app(
    http: httpx.Client, delivering_sandbox: SandboxServer, receiver: Receiver, name: str
) -> None:
    started = start(name)

    paid = http.post(
        f"{delivering_sandbox.url}/_sandbox/pay",
        json={"provider": name, "id": started.payment_id, "outcome": "success"},
    ).json()

    [delivery] = paid["webhooks"]
    assert delivery["delivered"] is True
    assert delivery["status"] == 200
    [request] = receiver.requests
    assert request["path"] == f"/api/v2/webhooks/{name}/"
    assert request["headers"]["Content-Type"] == "application/json"
    event = get_provider(name).parse_webhook(headers=request["headers"], body=request["body"])
    assert event.kind == "payment.succeeded"
    assert event.provider_payment_id == started.payment_id


@pytest.mark.parametrize("name", PROVIDERS)
def test_refund_webhooks_follow_the_refund(
    delivering_sandbox: SandboxServer, receiver: Receiver, name: str
) -> None:
    started = start(name)
    delivering_sandbox.pay(name, started.payment_id)

    started.refund(AMOUNT)

    _payment, refund = receiver.wait_for(2)
    event = get_provider(name).parse_webhook(headers=refund["headers"], body=refund["body"])
    assert event.kind == "refund.succeeded"
    assert event.provider_payment_id == started.payment_id


def test_a_failed_delivery_is_recorded(
    delivering_sandbox: SandboxServer, receiver: Receiver
) -> None:
    receiver.status = 500
    started = start("stripe")

    result = delivering_sandbox.pay("stripe", started.payment_id)

    assert result["state"] == "succeeded"
    [webhook] = delivering_sandbox.sent_webhooks
    assert (webhook["delivered"], webhook["status"]) == (False, 500)


def test_an_unreachable_app_is_recorded(http: httpx.Client, receiver: Receiver) -> None:
    receiver.close()  # nothing listens there any more
    with SandboxServer(deliver_to=receiver.url, delivery_timeout=1) as sandbox:
        url = f"{sandbox.url}/stripe/v1/payment_intents"
        headers = {"Authorization": f"Bearer {API_KEYS['stripe']}"}
        intent = http.post(url, headers=headers, data={"amount": "100", "currency": "usd"})

        sandbox.pay("stripe", intent.json()["id"])

        [webhook] = sandbox.sent_webhooks
        assert webhook["delivered"] is False
        assert webhook["status"] is None
        assert webhook["error"]


def test_deliver_to_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        SandboxServer(deliver_to="file:///etc/passwd")


def test_the_command_line_serves_until_stopped(http: httpx.Client) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.sandbox", "--port", "0", "--deliver-to", "none"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).resolve().parents[3],  # the project root, where tools/ lives
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line

        index = http.get(found.group(0) + "/").json()

        assert index["webhooks_to"] is None
    finally:
        process.terminate()
        process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


# --- ids across restarts --------------------------------------------------------------------


class _SandboxProcess:
    """``python -m tools.sandbox`` in its own process, with the local default secrets."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SECRET_PREFIXES)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.sandbox", "--port", "0", "--deliver-to", "none"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parents[3],
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        self.url = found.group(0)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


_SECRET_PREFIXES = ("PAYSTACK_", "STRIPE_", "SQUARE_")


def _issued_ids(http: httpx.Client, settings: Any) -> dict[str, set[str]]:
    """Run one payment and one refund per provider through a fresh sandbox process, then
    stop it; return every id it handed out, by kind."""
    sandbox = _SandboxProcess()
    try:
        settings.PAYMENT_PROVIDERS = {
            "paystack": {"BASE_URL": f"{sandbox.url}/paystack", "SECRET_KEY": API_KEYS["paystack"]},
            "stripe": {
                "BASE_URL": f"{sandbox.url}/stripe",
                "SECRET_KEY": API_KEYS["stripe"],
                "WEBHOOK_SECRET": SandboxSecrets.stripe_webhook_secret,
            },
            "square": {
                "BASE_URL": f"{sandbox.url}/square",
                "ACCESS_TOKEN": API_KEYS["square"],
                "WEBHOOK_SIGNATURE_KEY": SandboxSecrets.square_webhook_signature_key,
                "WEBHOOK_URL": "http://127.0.0.1:8000/api/v2/webhooks/square/",
                "LOCATION_ID": "sandbox-location",
            },
        }
        registry.clear_cache()
        for name in PROVIDERS:
            started = start(name)
            paid = http.post(
                f"{sandbox.url}/_sandbox/pay",
                json={"provider": name, "id": started.payment_id, "outcome": "success"},
            )
            assert paid.status_code == 200, paid.text
            started.refund(AMOUNT)
        state = http.get(f"{sandbox.url}/_sandbox/state").json()
    finally:
        sandbox.stop()
        registry.clear_cache()
    ids: dict[str, set[str]] = {"payments": set(), "attempts": set(), "refunds": set()}
    ids["pages"] = set()
    for txn in state["transactions"]:
        ids["payments"].add(txn["provider_id"])
        ids["pages"].add(txn["pay_id"])
        ids["attempts"].update(str(attempt["id"]) for attempt in txn["attempts"])
        ids["refunds"].update(str(refund["id"]) for refund in txn["refunds"])
    ids["events"] = {
        get_provider(hook["provider"])
        .parse_webhook(headers=hook["headers"], body=hook["body"].encode())
        .event_id
        for hook in state["webhooks"]
    }
    assert len(ids["events"]) == 2 * len(PROVIDERS)  # a payment and a refund each
    return ids


def test_a_restarted_sandbox_never_hands_out_an_id_again(http: httpx.Client, settings: Any) -> None:
    first = _issued_ids(http, settings)
    second = _issued_ids(http, settings)  # the same sandbox, started again

    for kind, ids in first.items():
        assert ids.isdisjoint(second[kind]), kind
    paystack_ids = [i for i in first["payments"] | first["refunds"] if i.isdigit()]
    assert len(paystack_ids) == 2  # Paystack's transaction and refund ids stay numeric
    assert all(int(i) < 2**63 for i in paystack_ids)
    assert {i.split("_")[0] for i in first["payments"] if "_" in i} == {"pi"}
    assert any(event.startswith("evt_") for event in first["events"])
    assert any(event.startswith("charge.success:") for event in first["events"])
    assert sum(uuid.UUID(e).version == 7 for e in first["events"] if _is_uuid(e)) == 2


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
