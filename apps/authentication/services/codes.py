"""Emailed one-time codes: issue, derive for mailing, check.

Rules: 6 digits from a keyed PRF over a random nonce; stored only as a keyed hash; valid
10 minutes; single use; dead after 5 wrong attempts; one purpose each; at most one send
per 60 s and 5 per hour per address (rows written for addresses without an account count
the same, so limits reveal nothing). Issuing a code supersedes the address's earlier live
codes of the same purpose.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

import structlog
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from apps.authentication.events import OneTimeCodeIssued
from apps.authentication.models import CodePurpose, OneTimeCode, User
from apps.common.errors import RateLimited, ValidationFailed
from apps.common.events import publish

logger = structlog.get_logger(__name__)

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_FAILED_ATTEMPTS = 5
RESEND_COOLDOWN = timedelta(seconds=60)
SENDS_PER_HOUR = 5


def code_derive(code_row: OneTimeCode) -> str:
    """The plaintext code of ``code_row`` (for the email only; never stored)."""
    digest = salted_hmac("fashionistar.otp.code", code_row.nonce, algorithm="sha256").digest()
    return f"{int.from_bytes(digest, 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def _code_hash(public_id: object, code: str) -> str:
    return salted_hmac(
        "fashionistar.otp.hash", f"{public_id}:{code}", algorithm="sha256"
    ).hexdigest()


def _send_limits_check(*, email: str, purpose: CodePurpose, now: datetime) -> None:
    """The resend cooldown is per purpose (a sign-in code is not held back by the sign-up
    code sent a moment ago); the hourly cap counts every code to the address."""
    sent = list(
        OneTimeCode.objects.filter(email=email, created_at__gt=now - timedelta(hours=1))
        .order_by("-created_at")
        .values_list("created_at", "purpose")
    )
    recent = [created for created, _ in sent]
    same_purpose = [created for created, sent_for in sent if sent_for == purpose]
    if same_purpose and now - same_purpose[0] < RESEND_COOLDOWN:
        wait = math.ceil((same_purpose[0] + RESEND_COOLDOWN - now).total_seconds())
        raise RateLimited(
            f"A code was sent moments ago; wait {wait} seconds before asking again.",
            code="code_cooldown",
            retry_after=max(wait, 1),
        )
    if len(recent) >= SENDS_PER_HOUR:
        oldest_counted = recent[SENDS_PER_HOUR - 1]
        wait = math.ceil((oldest_counted + timedelta(hours=1) - now).total_seconds())
        raise RateLimited(
            f"At most {SENDS_PER_HOUR} codes per hour; try again in {wait} seconds.",
            code="code_hourly_limit",
            retry_after=max(wait, 1),
        )


@transaction.atomic
def code_issue(
    *, email: str, purpose: CodePurpose, user: User | None, enforce_limits: bool = True
) -> OneTimeCode:
    """Issue a code for ``email`` and ``purpose``; ``user`` None writes a row that is
    never mailed and can never be used. Raises ``RateLimited`` (cooldown, hourly cap)."""
    if user is not None:
        # Serialise issuing per account so two racing requests cannot both pass the limits.
        User.objects.select_for_update().filter(pk=user.pk).first()
    now = timezone.now()
    if enforce_limits:
        _send_limits_check(email=email, purpose=purpose, now=now)
    OneTimeCode.objects.filter(
        email=email, purpose=purpose, used_at__isnull=True, superseded_at__isnull=True
    ).update(superseded_at=now)
    code_row = OneTimeCode(
        email=email,
        user=user,
        purpose=purpose,
        nonce=secrets.token_hex(32),
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    code_row.code_hash = _code_hash(code_row.public_id, code_derive(code_row))
    code_row.save()
    if user is not None:
        publish(OneTimeCodeIssued(code_id=code_row.pk, purpose=purpose))
    logger.info("otp.issued", code_id=code_row.pk, purpose=str(purpose), mailed=user is not None)
    return code_row


def _invalid_code() -> ValidationFailed:
    # One answer for every failure (wrong, used, expired, burnt, unknown address): the
    # difference would tell a stranger which addresses have accounts.
    return ValidationFailed.for_field(
        "code", "This code is wrong, used or expired. Ask for a new one.", "invalid_code"
    )


def _live(now: datetime) -> Q:
    return Q(
        used_at__isnull=True,
        superseded_at__isnull=True,
        expires_at__gt=now,
        failed_attempts__lt=MAX_FAILED_ATTEMPTS,
        user__isnull=False,
    )


def code_latest_live(*, email: str, purpose: CodePurpose) -> OneTimeCode | None:
    now = timezone.now()
    return (
        OneTimeCode.objects.select_related("user")
        .filter(_live(now), email=email, purpose=purpose)
        .order_by("-created_at")
        .first()
    )


def code_consume(*, code_row: OneTimeCode | None, code: str) -> User:
    """Use ``code`` against ``code_row``; returns the code's account.

    A wrong code counts an attempt that stays counted although this call fails, so call
    it outside any transaction that the failure rolls back. The right code is consumed
    by one conditional update: of two racing correct submissions only one succeeds.
    Raises ``ValidationFailed`` on ``code``.
    """
    now = timezone.now()
    if code_row is None or code_row.user is None:
        raise _invalid_code()
    live = OneTimeCode.objects.filter(_live(now), pk=code_row.pk)
    if not constant_time_compare(_code_hash(code_row.public_id, code), code_row.code_hash):
        live.update(failed_attempts=F("failed_attempts") + 1)
        logger.info("otp.wrong_code", code_id=code_row.pk, purpose=code_row.purpose)
        raise _invalid_code()
    if live.update(used_at=now) != 1:
        raise _invalid_code()
    return code_row.user
