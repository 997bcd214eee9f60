"""Account emails, sent in the background on the ``emails`` queue."""

from __future__ import annotations

from datetime import datetime

import structlog
from django.utils import timezone

from apps.authentication.models import CodePurpose, OneTimeCode, User
from apps.authentication.services import code_derive
from apps.authentication.services.codes import CODE_LIFETIME
from apps.common.background import background_task
from apps.common.emails import send_templated_email

logger = structlog.get_logger(__name__)

CODE_TEMPLATES = {
    CodePurpose.REGISTRATION: "accounts/registration_code",
    CodePurpose.PASSWORD_RESET: "accounts/password_reset_code",
    CodePurpose.LOGIN: "accounts/login_code",
}


@background_task(queue="emails")
def send_one_time_code(*, code_id: int) -> str:
    """Mail a code to its account. A code that is no longer usable is not mailed (a newer
    one replaced it, or it expired while the queue was slow). Retries re-derive the same
    code, so a repeated delivery sends the same digits."""
    code_row = OneTimeCode.objects.select_related("user").get(pk=code_id, user__isnull=False)
    if code_row.used_at or code_row.superseded_at or code_row.expires_at <= timezone.now():
        logger.info("otp.email_skipped", code_id=code_id)
        return "skipped"
    user = code_row.user
    assert user is not None
    send_templated_email(
        to=user.email,
        template=CODE_TEMPLATES[CodePurpose(code_row.purpose)],
        context={
            "full_name": user.full_name,
            "code": code_derive(code_row),
            "expires_minutes": int(CODE_LIFETIME.total_seconds() // 60),
            "expires_at": code_row.expires_at,
        },
    )
    return "sent"


@background_task(queue="emails")
def send_password_changed(*, user_id: int, changed_at: str) -> str:
    """Tell the owner their password changed (so an unexpected change gets noticed)."""
    user = User.objects.get(pk=user_id)
    send_templated_email(
        to=user.email,
        template="accounts/password_changed",
        context={"full_name": user.full_name, "changed_at": datetime.fromisoformat(changed_at)},
    )
    return "sent"
