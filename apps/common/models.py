"""Abstract models every domain builds on."""

from django.db import models
from django.utils import timezone


class BaseModel(models.Model):
    """Creation and last-update timestamps (timezone-aware, set by the database layer)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class FailedTask(BaseModel):
    """A background task that gave up: its retries ran out or its failure was permanent.

    Staff see these in the admin and can re-queue them once the cause is fixed.
    """

    task_path = models.CharField(max_length=255, db_index=True)
    queue_name = models.CharField(max_length=64)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField()
    permanent = models.BooleanField(help_text="Failed in a way another attempt cannot fix")
    error_class = models.CharField(max_length=255)
    error_message = models.TextField()
    traceback = models.TextField()
    request_id = models.CharField(max_length=128, blank=True)
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.task_path} after {self.attempts} attempt(s): {self.error_class}"


class ScheduledRun(models.Model):
    """One claimed tick of a recurring job; the unique pair makes each tick run once,
    however many scheduler processes compete for it."""

    job = models.CharField(max_length=100)
    tick = models.BigIntegerField(help_text="Seconds since the epoch, floored to the interval")
    claimed_at = models.DateTimeField(auto_now_add=True)
    claimed_by = models.CharField(max_length=128)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("job", "tick"), name="scheduled_run_once"),)

    def __str__(self) -> str:
        return f"{self.job}@{self.tick}"


class OutboxMessage(models.Model):
    """Work that must follow a committed write: a task to enqueue or an event to deliver.

    Written in the same transaction as the change it follows, so it exists exactly when
    that change does; sent right after the commit and deleted once sent. Anything left
    behind (the task backend was unreachable, the process died) is sent by the relay.
    """

    class Kind(models.TextChoices):
        TASK = "task"
        EVENT = "event"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    path = models.CharField(max_length=255, help_text="Task function or event class path")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(
        default=timezone.now, help_text="The relay leaves the message alone until then"
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("id",)
        indexes = (models.Index(fields=("available_at", "id"), name="outbox_due"),)

    def __str__(self) -> str:
        return f"{self.kind} {self.path} #{self.pk}"


class TaskReceipt(models.Model):
    """Which relayed task has run: a task relayed twice (the relay died between sending
    and deleting its message) runs once. A retry (a later ``attempt``), the backend's
    redelivery of the claiming message (same ``claimed_by`` task id: its worker died), or
    any copy once the claim is older than its lease may claim it again."""

    key = models.CharField(max_length=64, primary_key=True)
    attempt = models.PositiveIntegerField(default=1)
    claimed_by = models.CharField(max_length=64, blank=True, help_text="Task result id")
    claimed_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key


class WorkerHeartbeat(models.Model):
    """A database-backend task worker that is alive, and the task it is running.

    Each ``manage.py run_worker`` on the database backend refreshes its row every few
    seconds (``TASK_HEARTBEAT_INTERVAL``). A task left RUNNING by a worker whose row went
    stale — the process was killed — is put back in the queue (``apps.common.workers``).
    """

    worker_id = models.CharField(
        max_length=64, primary_key=True, help_text="As stored in DBTaskResult.worker_ids"
    )
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    queues = models.CharField(max_length=255)
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="The task running now")

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.hostname} (pid {self.pid})"
