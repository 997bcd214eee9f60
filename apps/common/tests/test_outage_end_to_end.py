"""Redis, the production task backend, is down while customers order and a provider's
webhook arrives; it comes back; every confirmation email and the payment confirmation
happen exactly once, with no manual step.

Real parts: a test-owned ``redis-server`` stopped and started again, the relay and a Redis
worker as separate processes (``manage.py run_relay``, ``manage.py run_worker``), the
provider sandbox over HTTP, PostgreSQL.
"""

from __future__ import annotations

import time
from collections import Counter
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from apps.authentication.services import ClientInfo, session_start
from apps.common.models import OutboxMessage
from apps.common.tests.processes import (  # noqa: F401 - fixtures
    Processes,
    RedisServer,
    child_env,
    processes_fixture,
    redis_server_fixture,
    wait_until,
)
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import make_variant
from apps.payments.models import Payment, PaymentStatus
from apps.payments.tests.conftest import payment_sandbox  # noqa: F401 - fixture
from apps.vendors.tests.factories import UserFactory
from config.env import tasks_config
from tools.sandbox import SandboxServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ORDERS = 3


def subjects(mail_dir: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in mail_dir.glob("*.log"):
        for raw in path.read_bytes().split(b"-" * 79):
            if raw.strip():
                found[
                    str(make_header(decode_header(message_from_bytes(raw.strip())["Subject"])))
                ] += 1
    return found


def test_orders_and_a_webhook_during_a_redis_outage_are_confirmed_once_it_is_back(
    redis_server: RedisServer,
    processes: Processes,
    payment_sandbox: SandboxServer,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    settings: Any,
) -> None:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    prefix = f"fx-outage-{redis_server.port}"
    backend = tasks_config("redis", redis_url=redis_server.url, queues=settings.TASK_QUEUES)
    backend["OPTIONS"].update(
        REDIS_KEY_PREFIX=prefix, REDIS_SOCKET_CONNECT_TIMEOUT=1, REDIS_CLAIM_TIMEOUT=3
    )
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(mail_dir)},
        }
    }
    customer = UserFactory.create()
    token = session_start(user=customer, client=ClientInfo()).access
    shop = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    variant = make_variant(stock=20, price="5000.00")

    redis_server.stop()
    with override_settings(TASKS={**settings.TASKS, "default": backend}):
        orders = []
        for _ in range(ORDERS):
            placed = shop.post(
                "/api/v2/orders/",
                {
                    "items": [{"variant_id": variant.pk, "quantity": 1}],
                    "delivery_address": "12 Marina Road, Lagos",
                },
                content_type="application/json",
            )
            assert placed.status_code == 201, placed.content
            orders.append(placed.json()["id"])
        started = shop.post(
            f"/api/v2/orders/{orders[0]}/payments/",
            {"provider": "paystack"},
            content_type="application/json",
        )
        assert started.status_code in (200, 201), started.content
        payment_sandbox.pay("paystack", started.json()["provider_payment_id"])
        [webhook] = payment_sandbox.sent_webhooks
        headers = {
            f"HTTP_{name.upper().replace('-', '_')}": value
            for name, value in webhook["headers"].items()
            if name.lower() != "content-type"
        }
        accepted = Client().post(
            "/api/v2/webhooks/paystack/",
            webhook["body"],
            content_type="application/json",
            **headers,
        )
        assert accepted.status_code == 200, accepted.content
    assert OutboxMessage.objects.count() >= ORDERS + 1, "the work waits in the outbox"
    assert subjects(mail_dir) == Counter()

    env = child_env(
        "outage",
        TEST_DEFAULT_TASKS_REDIS_URL=redis_server.url,
        TEST_TASKS_PREFIX=prefix,
        TEST_EMAIL_DIR=str(mail_dir),
        PAYMENT_SANDBOX_URL=payment_sandbox.url,
        OUTBOX_RELAY_DELAY="0.5",
    )
    processes.manage("relay", "run_relay", "--interval=0.2", env=env)
    processes.manage("worker", "run_worker", "--queues=*", "--claim-interval=1", env=env)
    redis_server.start()

    payment = Payment.objects.get(pk=started.json()["id"])

    expected = ORDERS + 2  # a confirmation per order, the receipt, the vendor's notice

    def settled() -> bool:
        payment.refresh_from_db()
        return (
            payment.status == PaymentStatus.SUCCEEDED
            and subjects(mail_dir).total() >= expected
            and not OutboxMessage.objects.exists()
        )

    wait_until(settled, timeout=60, what="emails and the payment", details=processes.logs)
    time.sleep(2)  # a copy sent twice would have run by now
    sent = subjects(mail_dir)
    assert sum(n for s, n in sent.items() if s.startswith("Your ")) == ORDERS, sent
    assert sum(n for s, n in sent.items() if s.startswith("Receipt for")) == 1, sent
    assert sum(n for s, n in sent.items() if s.startswith("New paid order")) == 1, sent
    assert all(n == 1 for n in sent.values()), f"an email went out twice: {sent}"
    assert Order.objects.get(pk=orders[0]).status == OrderStatus.PAID
