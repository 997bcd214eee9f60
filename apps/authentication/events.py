"""Account events (ids and values only)."""

from __future__ import annotations

from datetime import datetime

from apps.common.events import Event


class OneTimeCodeIssued(Event):
    """A code was issued for a real account and must be mailed."""

    name = "accounts.code_issued"
    code_id: int
    purpose: str


class PasswordChanged(Event):
    name = "accounts.password_changed"
    user_id: int
    changed_at: datetime
