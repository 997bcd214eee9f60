"""``generate_sales_report`` end to end: asked for over HTTP, run on the ``analytics``
queue — inline (the immediate backend, the test default), by a real database-backed
worker process, and by a Redis worker — and read back over HTTP. Running it again changes
nothing; a failure is recorded on the report. The scheduler's daily job asks for
yesterday's report once. Computing a report costs the same number of queries at two
sizes of history."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.analytics.models import ReportStatus, SalesReport
from apps.analytics.services import sales_report_generate
from apps.analytics.tasks import daily_sales_report, generate_sales_report
from apps.analytics.tests.conftest import History, at, build_history
from apps.analytics.tests.factories import refund, sold
from apps.common import scheduler
from apps.common.models import FailedTask
from apps.common.tests.test_workers import wait_for, worker_env
from apps.orders.models import OrderStatus
from apps.vendors.tests.factories import StaffFactory

URL = "/api/v1/reports/sales/"
BODY = {"start_date": "2026-01-05", "end_date": "2026-01-18", "group_by": "week"}
# The project's worker command, as `make run` and the deployments start it.
WORKERS = {
    "database": ["run_worker", "--backend=default", "--queues=analytics", "--interval=0.05"],
    "redis": ["run_worker", "--backend=default", "--queues=analytics", "--claim-interval=1"],
}

Capture = Callable[..., Any]


def test_the_task_is_on_the_analytics_queue() -> None:
    assert generate_sales_report.queue_name == "analytics"
    assert daily_sales_report.queue_name == "analytics"
    job = next(job for job in scheduler.registered_jobs() if job.name == "daily_sales_report")
    assert (job.interval, job.task) == (86400, daily_sales_report)


@pytest.mark.django_db
def test_asked_over_http_run_inline_and_read_over_http(
    history: History, django_capture_on_commit_callbacks: Capture
) -> None:
    client = APIClient()
    client.force_authenticate(StaffFactory.create())

    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(URL, BODY, format="json")
    report = client.get(asked["Location"]).json()

    assert asked.status_code == 202
    assert report["status"] == "done"
    assert [point["net_revenue"] for point in report["result"]["sales"][0]["series"]] == [
        "395.00",
        "90.00",
    ]


@pytest.fixture
def worker_on(tmp_path: Path, settings: Any) -> Iterator[Callable[[str], None]]:
    """Makes ``backend`` the default task backend here and starts a worker process of the
    ``analytics`` queue on it."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(backend: str) -> None:
        settings.TASKS = {**settings.TASKS, "default": settings.TASKS[backend]}
        log = (tmp_path / f"worker-{backend}.log").open("wb")
        env = {
            **worker_env(),
            "DJANGO_SETTINGS_MODULE": "apps.analytics.tests.worker_settings",
            "TEST_WORKER_TASK_BACKEND": backend,
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, "manage.py", *WORKERS[backend]],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    yield start
    for process in processes:
        process.terminate()  # stops after the running task
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "backend",
    [pytest.param("database", id="database"), pytest.param("redis", marks=pytest.mark.redis)],
)
def test_a_worker_process_computes_the_report(
    backend: str, worker_on: Callable[[str], None]
) -> None:
    history = build_history()
    worker_on(backend)
    client = APIClient()
    client.force_authenticate(StaffFactory.create())

    asked = client.post(URL, {**BODY, "store_id": history.store_b.pk}, format="json")
    assert asked.status_code == 202

    def done() -> bool:
        return bool(client.get(asked["Location"]).json()["status"] == "done")

    wait_for(done, timeout=90, what="the worker to compute the report")
    result = client.get(asked["Location"]).json()["result"]
    assert result["sales"][0]["totals"]["gross_revenue"] == "200.00"
    assert result["parameters"]["time_zone"] == "Africa/Lagos"
    csv = client.get(f"{asked['Location']}csv/")
    assert csv.status_code == 200
    assert csv.content.decode().splitlines()[1] == (
        "2026-01-05,2026-01-11,NGN,3,4,200.00,5.00,195.00,19.50,175.50"
    )


@pytest.mark.django_db
def test_running_it_again_changes_nothing(
    history: History, django_capture_on_commit_callbacks: Capture
) -> None:
    report = SalesReport.objects.create(
        start_date=date(2026, 1, 5), end_date=date(2026, 1, 18), time_zone="Africa/Lagos"
    )
    first = sales_report_generate(report_id=report.pk)
    sold([(history.dress, 1)], paid_at=at(6, 12))

    with django_capture_on_commit_callbacks(execute=True) as sent:
        generate_sales_report.enqueue(report_id=report.pk)

    again = SalesReport.objects.get(pk=report.pk)
    assert again.status == ReportStatus.DONE
    assert (again.result, again.finished_at) == (first.result, first.finished_at)
    assert len(sent) == 1


@pytest.mark.django_db
def test_a_failure_is_recorded_on_the_report(django_capture_on_commit_callbacks: Capture) -> None:
    report = SalesReport.objects.create(
        start_date=date(2026, 1, 5), end_date=date(2026, 1, 18), time_zone="Nowhere/Atlantis"
    )

    with django_capture_on_commit_callbacks(execute=True):
        generate_sales_report.enqueue(report_id=report.pk)

    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "Nowhere/Atlantis" in report.error
    assert report.finished_at is not None
    failed = FailedTask.objects.get()
    assert failed.task_path.endswith("generate_sales_report")
    assert (failed.attempts, failed.permanent) == (1, True)


@pytest.fixture
def only_the_daily_report() -> Iterator[None]:
    saved = dict(scheduler._jobs)
    scheduler._jobs.clear()
    scheduler._jobs["daily_sales_report"] = saved["daily_sales_report"]
    yield
    scheduler._jobs.clear()
    scheduler._jobs.update(saved)


@pytest.mark.django_db
@pytest.mark.usefixtures("only_the_daily_report")
def test_the_scheduler_asks_for_yesterdays_report_once(
    history: History, django_capture_on_commit_callbacks: Capture
) -> None:
    """The tick of 13 January 2026, 00:00 UTC is 01:00 in Lagos: yesterday is the 12th."""
    tick = datetime(2026, 1, 13, tzinfo=UTC).timestamp()

    with django_capture_on_commit_callbacks(execute=True):
        started = scheduler.run_due_jobs(now=tick + 5)
        again = scheduler.run_due_jobs(now=tick + 600)
    with django_capture_on_commit_callbacks(execute=True):
        daily_sales_report.enqueue(scheduled_tick=int(tick))  # a redelivery

    assert (started, again) == (["daily_sales_report"], [])
    report = SalesReport.objects.get()
    assert (report.start_date, report.end_date, report.group_by) == (
        date(2026, 1, 12),
        date(2026, 1, 12),
        "day",
    )
    assert (report.requested_by, report.store, report.status) == (None, None, "done")
    assert report.result is not None
    assert report.result["sales"][0]["totals"]["net_revenue"] == "90.00"  # o5


@pytest.mark.django_db
def test_staff_read_the_scheduled_reports_and_vendors_do_not(history: History) -> None:
    report = SalesReport.objects.create(
        start_date=date(2026, 1, 12),
        end_date=date(2026, 1, 12),
        time_zone="Africa/Lagos",
        schedule_key="daily:2026-01-12",
    )
    staff, vendor = APIClient(), APIClient()
    staff.force_authenticate(StaffFactory.create())
    vendor.force_authenticate(history.store_a.owner)

    assert staff.get(f"{URL}{report.pk}/").status_code == 200
    assert vendor.get(f"{URL}{report.pk}/").status_code == 404


def _report_queries() -> int:
    report = SalesReport.objects.create(
        start_date=date(2026, 1, 5), end_date=date(2026, 1, 18), time_zone="Africa/Lagos"
    )
    with CaptureQueriesContext(connection) as queries:
        sales_report_generate(report_id=report.pk)
    return len(queries)


@pytest.mark.django_db
def test_a_report_costs_the_same_queries_for_ten_or_sixty_orders(history: History) -> None:
    """Load, mark running, four sales queries and three of returns, the scorecards (five
    on PostgreSQL, six elsewhere, two of them returns), save, reload."""
    few = _report_queries()
    for index in range(50):
        paid = at(5 + index % 14, index % 24)
        order = sold(
            [(history.dress, 1 + index % 3), (history.shoes, 1)],
            paid_at=paid,
            status=OrderStatus.FULFILLED,
            shipped={history.store_a.pk: paid + timedelta(hours=index)},
        )
        if index % 7 == 0:
            refund(order, "10.00")

    many = _report_queries()

    assert many == few == (16 if connection.vendor == "postgresql" else 17)
