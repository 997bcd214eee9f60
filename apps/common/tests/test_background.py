"""The retry policy, failure records, context propagation and commit-safety of tasks,
run in-process (the immediate backend runs each attempt at once)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client

from apps.common.background import META, RetryPolicy, requeue_failed
from apps.common.metrics_view import queue_depths
from apps.common.models import FailedTask
from apps.common.tests import sample_tasks
from conftest import JsonLogs

pytestmark = pytest.mark.django_db(transaction=True)


def attempts(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_transient_failure_is_retried_until_it_succeeds(
    tmp_path: Path, json_logs: JsonLogs
) -> None:
    log = tmp_path / "flaky.log"

    sample_tasks.flaky.enqueue(str(log), succeed_on_attempt=3)

    assert attempts(log) == 3
    assert not FailedTask.objects.exists()
    retries = [line for line in json_logs() if line["message"] == "task.retry_scheduled"]
    assert [line["next_attempt"] for line in retries] == [2, 3]
    assert all(line["level"] == "warning" for line in retries)


def test_exhausted_retries_leave_a_failed_record_and_an_error_log(
    tmp_path: Path, json_logs: JsonLogs
) -> None:
    log = tmp_path / "down.log"

    sample_tasks.always_down.enqueue(str(log))

    assert attempts(log) == 4, "one attempt plus three retries"
    failed = FailedTask.objects.get()
    assert failed.task_path.endswith("sample_tasks.always_down")
    assert (failed.attempts, failed.permanent) == (4, False)
    assert failed.error_class == "builtins.ConnectionError"
    assert "provider unavailable" in failed.traceback
    errors = [line for line in json_logs() if line["message"] == "task.failed"]
    assert len(errors) == 1
    assert errors[0]["level"] == "error"
    assert errors[0]["attempt"] == 4


def test_permanent_failure_is_not_retried(tmp_path: Path) -> None:
    log = tmp_path / "missing.log"

    sample_tasks.missing_row.enqueue(str(log))

    assert attempts(log) == 1
    failed = FailedTask.objects.get()
    assert (failed.attempts, failed.permanent) == (1, True)


def test_attempt_over_its_time_limit_is_interrupted_and_retried(tmp_path: Path) -> None:
    log = tmp_path / "slow.log"

    sample_tasks.too_slow.enqueue(str(log))

    assert attempts(log) == 2
    failed = FailedTask.objects.get()
    assert failed.error_class.endswith("TaskTimeLimitExceeded")


def test_backoff_follows_the_policy_with_bounded_jitter(settings: object) -> None:
    policy = RetryPolicy(backoff=(60, 120, 240), jitter=0.1)
    settings.TASK_RETRY_BACKOFF_SCALE = 1.0  # type: ignore[attr-defined]

    for attempt, base in ((2, 60), (3, 120), (4, 240), (5, 240)):
        delays = {policy.delay_before(attempt) for _ in range(50)}
        assert all(base * 0.9 <= delay <= base * 1.1 for delay in delays)
        assert len(delays) > 1, "jitter spreads retries out"


def test_enqueue_inside_a_transaction_waits_for_commit(tmp_path: Path) -> None:
    log = tmp_path / "order.log"

    with pytest.raises(RuntimeError), transaction.atomic():
        sample_tasks.record_order.enqueue(str(log), "rolled-back")
        raise RuntimeError("checkout failed")
    assert attempts(log) == 0

    with transaction.atomic():
        result = sample_tasks.record_order.enqueue(str(log), "committed")
        assert result is None
        assert attempts(log) == 0, "nothing runs before the commit"
    assert log.read_text().splitlines() == ["committed"]


def test_request_id_follows_the_work_into_the_task(
    client: Client, tmp_path: Path, json_logs: JsonLogs
) -> None:
    from structlog.contextvars import bound_contextvars

    with bound_contextvars(request_id="req-abc-1"):
        sample_tasks.add.enqueue(1, 2)

    started = [line for line in json_logs() if line["message"] == "task.started"]
    assert started[0]["request_id"] == "req-abc-1"
    assert started[0]["task_name"] == "add"
    assert started[0]["queue"] == "default"
    assert started[0]["attempt"] == 1
    assert started[0]["task_id"]


def test_failed_task_can_be_requeued_once(tmp_path: Path) -> None:
    log = tmp_path / "flaky.log"
    sample_tasks.missing_row.enqueue(str(log))
    failed = FailedTask.objects.get()

    requeue_failed(failed.pk)
    requeue_failed(failed.pk)

    assert attempts(log) == 2, "re-queued exactly once"
    failed.refresh_from_db()
    assert failed.requeued_at is not None


def test_task_arguments_carry_no_model_instances() -> None:
    from apps.authentication.models import User

    user = User(email="x@example.com")
    with pytest.raises(TypeError):
        sample_tasks.add.enqueue(user, 1)


def test_meta_is_not_passed_to_the_task_function() -> None:
    result = sample_tasks.add.enqueue(2, 3)

    assert result is not None
    assert result.return_value == 5
    assert META not in result.kwargs or result.kwargs[META]["attempt"] == 1


def test_metrics_count_task_outcomes_and_queue_depth(client: Client, tmp_path: Path) -> None:
    sample_tasks.flaky.enqueue(str(tmp_path / "f.log"), succeed_on_attempt=2)
    sample_tasks.record_order.using(backend="database").enqueue(str(tmp_path / "o.log"), "x")

    client.get("/health/live/")
    body = client.get("/metrics").content.decode()

    assert 'fashionistar_tasks_total{outcome="retried",queue="default",task="flaky"}' in body
    assert 'fashionistar_tasks_total{outcome="succeeded",queue="default",task="flaky"}' in body
    assert 'route="health/live/",status="200"' in body
    assert queue_depths("database") == {"critical": 0, "emails": 0, "analytics": 0, "default": 1}


def test_staff_see_failed_tasks_in_the_admin_and_requeue_them(
    client: Client, tmp_path: Path
) -> None:
    from apps.authentication.models import User

    staff = User.objects.create_superuser("ops@example.com", "a-Strong-pass-9")
    log = tmp_path / "missing.log"
    sample_tasks.missing_row.enqueue(str(log))
    failed = FailedTask.objects.get()
    client.force_login(staff)

    listing = client.get("/admin/common/failedtask/")
    assert listing.status_code == 200
    assert "missing_row" in listing.content.decode()

    response = client.post(
        "/admin/common/failedtask/",
        {"action": "requeue", "_selected_action": [failed.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert attempts(log) == 2, "the task ran again"
    failed.refresh_from_db()
    assert failed.requeued_at is not None
