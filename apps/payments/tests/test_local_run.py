"""The local run end to end, every hop over real HTTP: a customer orders on the API
server, starts a payment, pays on the sandbox's hosted page, the sandbox sends the
signed webhook to the API server, the order is paid and the receipt is written to the
mail directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import ADDRESS, make_variant
from apps.payments.providers import registry
from apps.vendors.tests.factories import UserFactory
from tools.sandbox import SandboxSecrets, SandboxServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("provider", ["paystack", "square"])
def test_order_pay_on_the_hosted_page_webhook_receipt(
    live_server: Any, settings: Any, tmp_path: Path, provider: str
) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    webhook_url = f"{live_server.url}/api/v2/webhooks/square/"
    sandbox = SandboxServer(
        port=0,
        deliver_to=live_server.url,
        secrets=SandboxSecrets(square_webhook_url=webhook_url),
    ).start()
    providers = {name: dict(config) for name, config in settings.PAYMENT_PROVIDERS.items()}
    for name, config in providers.items():
        config["BASE_URL"] = f"{sandbox.url}/{name}"
    providers["square"]["WEBHOOK_URL"] = webhook_url
    settings.PAYMENT_PROVIDERS = providers
    registry.clear_cache()
    variant = make_variant(stock=3, price="8000.00")
    UserFactory.create(email="ada@example.com")  # password: a-Strong-pass-9
    try:
        with httpx.Client(base_url=live_server.url, timeout=20) as api:
            tokens = api.post(
                "/api/v2/auth/login/",
                json={"email": "ada@example.com", "password": "a-Strong-pass-9"},
            ).json()
            auth = {"Authorization": f"Bearer {tokens['access']}"}
            order = api.post(
                "/api/v2/orders/",
                json={
                    "items": [{"variant_id": variant.pk, "quantity": 1}],
                    "delivery_address": ADDRESS,
                },
                headers=auth,
            ).json()
            payment = api.post(
                f"/api/v2/orders/{order['id']}/payments/",
                json={"provider": provider},
                headers=auth,
            ).json()

            page = httpx.get(payment["authorization_url"], timeout=10)
            assert page.status_code == 200 and "Pay" in page.text
            paid = httpx.post(payment["authorization_url"], data={"outcome": "success"}, timeout=20)
            assert paid.status_code == 200

            detail = api.get(f"/api/v2/orders/{order['id']}/", headers=auth).json()
    finally:
        sandbox.stop()
        registry.clear_cache()

    assert [w["status"] for w in sandbox.sent_webhooks if w["delivered"]][:1] == [200]
    assert detail["status"] == "paid"
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.PAID
    receipts = [
        path
        for path in tmp_path.iterdir()
        if "Receipt for your FASHIONISTAR order" in path.read_text()
    ]
    assert len(receipts) == 1
