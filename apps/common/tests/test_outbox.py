"""The transactional outbox: work recorded with its transaction is sent once the task
backend can take it, and runs once even when it is sent twice.

"The broker is down" is a Redis task backend pointed at a port nothing listens on (a real
client getting a real refused connection); "it is back" is the test settings' in-process
backend again. Real processes and a real Redis outage: ``test_outage_end_to_end``.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from apps.common import outbox
from apps.common.events import Event, subscribe, unsubscribe
from apps.common.models import OutboxMessage, TaskReceipt
from apps.common.tests import sample_tasks
from config.env import tasks_config
from conftest import JsonLogs

pytestmark = pytest.mark.django_db(transaction=True)

BROKER_DOWN = {
    "default": tasks_config("redis", redis_url="redis://127.0.0.1:1/0", queues=["default"])
}


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def make_due() -> None:
    OutboxMessage.objects.update(available_at=timezone.now() - timedelta(seconds=1))


class ParcelLabelled(Event):
    name = "test.parcel_labelled"
    parcel_id: int
    log_path: str


def test_a_task_enqueued_while_the_broker_is_down_is_sent_by_the_relay_once(
    tmp_path: Path,
) -> None:
    log = tmp_path / "orders.log"
    with override_settings(TASKS=BROKER_DOWN):
        with transaction.atomic():
            sample_tasks.record_order.enqueue(str(log), "order-1")
        # committed, the broker refused it: it waits
        [waiting] = OutboxMessage.objects.all()
        make_due()
        assert outbox.relay_pending() == 0, "the broker is still down"
        waiting.refresh_from_db()
        assert waiting.attempts == 1
        assert "ConnectionError" in waiting.last_error
        assert waiting.available_at > timezone.now(), "backed off"
    assert lines(log) == []

    make_due()
    assert outbox.relay_pending() == 1
    assert lines(log) == ["order-1"]
    assert not OutboxMessage.objects.exists()
    assert outbox.relay_pending() == 0
    assert lines(log) == ["order-1"]


def test_a_rolled_back_transaction_leaves_nothing_to_send(tmp_path: Path) -> None:
    log = tmp_path / "orders.log"
    with pytest.raises(RuntimeError), transaction.atomic():
        sample_tasks.record_order.enqueue(str(log), "never")
        raise RuntimeError("checkout failed")

    assert not OutboxMessage.objects.exists()
    make_due()
    assert outbox.relay_pending() == 0
    assert lines(log) == []


def test_a_message_sent_twice_runs_once(tmp_path: Path, json_logs: JsonLogs) -> None:
    """The relay sent a message and died before deleting it: the next relay sends it again."""
    log = tmp_path / "orders.log"
    with override_settings(TASKS=BROKER_DOWN):
        sample_tasks.record_order.enqueue(str(log), "order-2")
    [message] = OutboxMessage.objects.values()
    make_due()
    assert outbox.relay_pending() == 1

    OutboxMessage.objects.create(**{**message, "available_at": timezone.now()})  # not deleted
    assert outbox.relay_pending() == 1

    assert lines(log) == ["order-2"]
    skipped = [line for line in json_logs() if line["message"] == "task.duplicate_skipped"]
    assert [line["key"] for line in skipped] == [f"outbox:{message['id']}"]


def test_a_retry_keeps_its_key_and_runs(tmp_path: Path) -> None:
    log = tmp_path / "flaky.log"
    with override_settings(TASKS=BROKER_DOWN):
        sample_tasks.flaky.enqueue(str(log), succeed_on_attempt=2)
    make_due()

    outbox.relay_pending()

    assert lines(log) == ["attempt", "attempt"], "the retry was not mistaken for a duplicate"
    [receipt] = TaskReceipt.objects.all()
    assert receipt.attempt == 2
    assert receipt.finished_at is not None


def test_receipts_let_retries_redeliveries_and_expired_claims_through() -> None:
    def claim(key: str, attempt: int, claimant: str) -> outbox.Claim:
        return outbox.claim_receipt(key, attempt, lease_seconds=60, claimant=claimant)

    assert claim("k", 1, "task-a").run
    busy = claim("k", 1, "task-b")
    assert not busy.run and not busy.done, "a second copy while the first runs"
    assert busy.busy_until is not None
    assert busy.busy_until > timezone.now() + timedelta(seconds=55), "it comes back later"
    assert claim("k", 1, "task-a").run, "the backend redelivering the claiming message"
    assert claim("k", 2, "task-c").run, "a retry"
    outbox.finish_receipt("k")
    assert claim("k", 3, "task-d").done, "done is done"

    assert claim("dead", 1, "task-e").run
    TaskReceipt.objects.filter(key="dead").update(claimed_at=timezone.now() - timedelta(seconds=61))
    assert claim("dead", 1, "task-f").run, "its worker died long ago: run again"


def test_an_event_the_process_never_delivered_is_delivered_by_the_relay(tmp_path: Path) -> None:
    log = tmp_path / "labels.log"
    delivered: list[int] = []

    @subscribe(ParcelLabelled)
    def print_label(event: ParcelLabelled) -> None:
        delivered.append(event.parcel_id)
        sample_tasks.record_order.enqueue(event.log_path, f"label-{event.parcel_id}")

    try:
        with transaction.atomic():
            from apps.common.events import publish

            publish(ParcelLabelled(parcel_id=7, log_path=str(log)))
            connection.run_on_commit.clear()  # the process dies right after the commit
        assert delivered == []
        [message] = OutboxMessage.objects.all()
        assert message.kind == OutboxMessage.Kind.EVENT

        make_due()
        assert outbox.relay_pending() == 1
        assert outbox.relay_pending() == 0
    finally:
        unsubscribe(ParcelLabelled, print_label)

    assert delivered == [7]
    assert lines(log) == ["label-7"], "the handler's task was sent after the relay committed"
    assert not OutboxMessage.objects.exists()


def test_a_failing_handler_is_rolled_back_alone(tmp_path: Path) -> None:
    from apps.common.events import publish

    log = tmp_path / "labels.log"

    @subscribe(ParcelLabelled)
    def broken(event: ParcelLabelled) -> None:
        sample_tasks.record_order.enqueue(event.log_path, "from-broken")
        raise RuntimeError("printer on fire")

    @subscribe(ParcelLabelled)
    def working(event: ParcelLabelled) -> None:
        sample_tasks.record_order.enqueue(event.log_path, "from-working")

    try:
        with transaction.atomic():
            publish(ParcelLabelled(parcel_id=8, log_path=str(log)))
    finally:
        unsubscribe(ParcelLabelled, broken)
        unsubscribe(ParcelLabelled, working)

    assert lines(log) == ["from-working"]
    assert not OutboxMessage.objects.exists()


def test_backlog_is_on_metrics_and_readiness_without_failing_it(
    client: Client, tmp_path: Path
) -> None:
    with override_settings(TASKS=BROKER_DOWN):
        sample_tasks.record_order.enqueue(str(tmp_path / "x.log"), "waiting")
        sample_tasks.record_order.enqueue(str(tmp_path / "x.log"), "waiting")
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(seconds=90))

    metrics = client.get("/metrics").content.decode()
    ready = client.get("/health/ready/")

    assert "fashionistar_outbox_depth 2.0" in metrics
    age = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("fashionistar_outbox_oldest_age_seconds ")
    )
    assert 90 <= age < 120
    assert ready.status_code == 200
    assert ready.json()["outbox"]["depth"] == 2
    assert ready.json()["outbox"]["oldest_age_seconds"] >= 90


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL row locks")
def test_relays_side_by_side_send_each_message_once(tmp_path: Path) -> None:
    from django.db import connections

    log = tmp_path / "orders.log"
    count = 120
    with override_settings(TASKS=BROKER_DOWN):
        for number in range(count):
            sample_tasks.record_order.enqueue(str(log), f"order-{number}")
    make_due()
    sent: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def relay() -> None:
        try:
            start.wait()
            while (batch := outbox.relay_pending(limit=7)) > 0:
                sent.append(batch)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(sent) == count, "no message was sent by two relays"
    assert sorted(lines(log)) == sorted(f"order-{number}" for number in range(count))
    assert not OutboxMessage.objects.exists()
