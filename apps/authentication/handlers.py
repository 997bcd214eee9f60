"""Reactions to account events: mail in the background."""

from __future__ import annotations

from apps.authentication.events import OneTimeCodeIssued, PasswordChanged
from apps.authentication.tasks import send_one_time_code, send_password_changed
from apps.common.events import subscribe


@subscribe(OneTimeCodeIssued)
def mail_one_time_code(event: OneTimeCodeIssued) -> None:
    send_one_time_code.enqueue(code_id=event.code_id)


@subscribe(PasswordChanged)
def mail_password_changed(event: PasswordChanged) -> None:
    send_password_changed.enqueue(user_id=event.user_id, changed_at=event.changed_at.isoformat())
