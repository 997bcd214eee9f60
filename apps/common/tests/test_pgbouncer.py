"""PgBouncer in transaction mode (``DATABASE_PGBOUNCER=true``): the order and payment paths
run through a real PgBouncer configured from ``deploy/pgbouncer/pgbouncer.ini``, and the
settings that mode changes are the ones that keep it working.

Real parts: ``pgbouncer`` on a free port in front of the test's PostgreSQL database, with
two server connections for every client; the API under granian, the relay and a Redis
worker as separate processes whose ``DATABASE_URL`` names PgBouncer; a test-owned
``redis-server``; the provider sandbox over HTTP.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import ConnectionHandler

from apps.authentication.services import ClientInfo, session_start
from apps.common.models import OutboxMessage
from apps.common.tests.processes import (  # noqa: F401 - fixtures
    PgBouncer,
    Processes,
    RedisServer,
    child_env,
    mail_subjects,
    pgbouncer_binary,
    pgbouncer_fixture,
    pgbouncer_version,
    processes_fixture,
    redis_server_fixture,
    start_pgbouncer,
    wait_until,
)
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import make_variant
from apps.payments.models import Payment, PaymentStatus
from apps.payments.tests.conftest import payment_sandbox  # noqa: F401 - fixture
from apps.vendors.tests.factories import UserFactory
from config.env import database_from_url
from tools.sandbox import SandboxServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ORDERS = 3


def test_orders_and_a_payment_confirmation_run_through_pgbouncer_in_transaction_mode(
    pgbouncer: PgBouncer,
    redis_server: RedisServer,
    processes: Processes,
    payment_sandbox: SandboxServer,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    prefix = f"fx-pgbouncer-{uuid.uuid4().hex[:8]}"

    def env(name: str) -> dict[str, str]:
        return child_env(
            name,
            DATABASE_URL=pgbouncer.url(name),
            DATABASE_PGBOUNCER="true",
            REDIS_URL=redis_server.url,
            TEST_DEFAULT_TASKS_REDIS_URL=redis_server.url,
            TEST_TASKS_PREFIX=prefix,
            TEST_EMAIL_DIR=str(mail_dir),
            PAYMENT_SANDBOX_URL=payment_sandbox.url,
            OUTBOX_RELAY_DELAY="0.5",
        )

    api_process, api = processes.serve("api", env=env("api"))
    processes.manage("relay", "run_relay", "--interval=0.2", env=env("relay"))
    processes.manage("worker", "run_worker", "--queues=*", "--claim-interval=1", env=env("worker"))
    token = session_start(user=UserFactory.create(), client=ClientInfo()).access
    variant = make_variant(stock=20, price="5000.00")
    before = transactions(pgbouncer)

    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}) as shop:
        orders = []
        for _ in range(ORDERS):
            placed = shop.post(
                "/api/v2/orders/",
                json={
                    "items": [{"variant_id": variant.pk, "quantity": 1}],
                    "delivery_address": "12 Marina Road, Lagos",
                },
                timeout=15,
            )
            assert placed.status_code == 201, placed.text
            orders.append(placed.json()["id"])
        started = shop.post(
            f"/api/v2/orders/{orders[0]}/payments/", json={"provider": "paystack"}, timeout=15
        )
        assert started.status_code in (200, 201), started.text
    payment_sandbox.pay("paystack", started.json()["provider_payment_id"])
    [webhook] = payment_sandbox.sent_webhooks
    accepted = httpx.post(
        f"{api}/api/v2/webhooks/paystack/",
        content=webhook["body"],
        headers=webhook["headers"],
        timeout=15,
    )
    assert accepted.status_code == 200, accepted.text

    payment = Payment.objects.get(pk=started.json()["id"])
    expected = ORDERS + 2  # a confirmation per order, the receipt, the vendor's notice

    def settled() -> bool:
        payment.refresh_from_db()
        return (
            payment.status == PaymentStatus.SUCCEEDED
            and mail_subjects(mail_dir).total() >= expected
            and not OutboxMessage.objects.exists()
        )

    wait_until(settled, timeout=30, what="emails and the payment", details=processes.logs)
    time.sleep(1)  # a copy sent twice would have run by now
    sent = mail_subjects(mail_dir)
    assert sum(n for s, n in sent.items() if s.startswith("Your ")) == ORDERS, sent
    assert sum(n for s, n in sent.items() if s.startswith("Receipt for")) == 1, sent
    assert sum(n for s, n in sent.items() if s.startswith("New paid order")) == 1, sent
    assert all(n == 1 for n in sent.values()), f"an email went out twice: {sent}"
    assert Order.objects.get(pk=orders[0]).status == OrderStatus.PAID
    # Every process's queries went through PgBouncer's two server connections.
    assert transactions(pgbouncer) - before > 20
    servers = pgbouncer.admin("SHOW SERVERS")
    assert 0 < len(servers) <= 2, servers
    logs = processes.logs().lower()
    assert "prepared statement" not in logs and "cursor" not in logs, api_process.tail()


def transactions(pgbouncer: PgBouncer) -> int:
    """Transactions PgBouncer has passed to the test database so far."""
    [row] = [r for r in pgbouncer.admin("SHOW STATS") if r["database"] == pgbouncer.database]
    return int(str(row["total_xact_count"]))


# --- what the PgBouncer mode is for ---------------------------------------------------------


def app_connection(url: str, **options: object) -> BaseDatabaseWrapper:
    """A Django connection with the settings ``DATABASE_URL`` + ``DATABASE_PGBOUNCER=true``
    make (and ``options`` on top), standing for one app process."""
    config = database_from_url(url, pool_min=1, pool_max=1, pool_timeout=5, pgbouncer=True)
    config["OPTIONS"].update(options)
    connection: BaseDatabaseWrapper = ConnectionHandler({"default": config})["default"]
    return connection


def run_the_same_query(connection: BaseDatabaseWrapper, times: int) -> None:
    for _ in range(times):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_order WHERE id > %s", [0])
            cursor.fetchone()


def test_processes_share_a_server_connection_because_pgbouncer_mode_prepares_nothing(
    tmp_path: Path,
) -> None:
    # Given a PgBouncer that does not track prepared statements (older than 1.21, or
    # max_prepared_statements = 0) with one server connection for every client,
    overrides = {"max_prepared_statements": "0"} if pgbouncer_supports_tracking() else {}
    bouncer = start_pgbouncer(tmp_path / "pgbouncer", pool_size=1, **overrides)
    first, second = (app_connection(bouncer.url()) for _ in range(2))
    # and the same two processes had they prepared statements (parameters bound by the
    # server, and psycopg preparing a query the sixth time a connection runs it, naming it
    # _pg3_0, _pg3_1 … per connection):
    preparing = [
        app_connection(bouncer.url(), server_side_binding=True, prepare_threshold=5)
        for _ in range(2)
    ]
    try:
        # When both run the same query over and over, taking turns on the one server
        # connection, then in PgBouncer mode nothing collides,
        for _ in range(2):
            run_the_same_query(first, 6)
            run_the_same_query(second, 6)
        assert first.connection is not None and first.connection.prepare_threshold is None
        # while preparing processes collide on the statement name.
        run_the_same_query(preparing[0], 6)
        with pytest.raises(DatabaseError, match=r'prepared statement "_pg3_0" already exists'):
            run_the_same_query(preparing[1], 6)
    finally:
        for connection in (first, second, *preparing):
            connection.close()
        bouncer.stop()


def pgbouncer_supports_tracking() -> bool:
    binary = pgbouncer_binary()
    return binary is not None and pgbouncer_version(binary) >= (1, 21)
