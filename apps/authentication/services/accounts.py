"""Accounts: registration and email verification, password reset and change, profile and
the two-factor switch."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import structlog
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.authentication.events import PasswordChanged
from apps.authentication.models import CodePurpose, OneTimeCode, Role, User, normalize_email
from apps.authentication.selectors import user_get_active
from apps.authentication.services.codes import code_consume, code_issue, code_latest_live
from apps.authentication.services.sessions import (
    ClientInfo,
    TokenPair,
    session_start,
    sessions_revoke_for_user,
)
from apps.common.errors import Conflict, FieldError, ValidationFailed
from apps.common.events import publish
from apps.common.ratelimit import rate_for, rate_limit_hit
from apps.vendors.services import store_create_for_vendor

logger = structlog.get_logger(__name__)

SELF_SERVICE_ROLES = (Role.CUSTOMER, Role.VENDOR)
FULL_NAME_MAX_LENGTH = 150


def _clean_email(email: str, field: str = "email") -> str:
    email = normalize_email(email or "")
    try:
        validate_email(email)
    except DjangoValidationError as error:
        raise ValidationFailed.for_field(
            field, "Enter a valid email address.", "invalid"
        ) from error
    return email


def _clean_full_name(full_name: str) -> str:
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise ValidationFailed.for_field("full_name", "Tell us your name.", "required")
    if len(full_name) > FULL_NAME_MAX_LENGTH:
        raise ValidationFailed.for_field(
            "full_name", f"At most {FULL_NAME_MAX_LENGTH} characters.", "max_length"
        )
    return full_name


def _check_password(password: str, *, user: User, field: str) -> None:
    """Django's password validators, reported on ``field``."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as error:
        raise ValidationFailed(
            "The password is too weak.",
            field_errors=[
                FieldError(field, message, "weak_password") for message in error.messages
            ],
        ) from error


def user_register(
    *,
    email: str,
    password: str,
    full_name: str,
    role: str = Role.CUSTOMER,
    store_name: str | None = None,
) -> User:
    """Create an unverified account and email it a verification code.

    A vendor also gets a pending store (``store_name``, or their name), which staff
    approve. Raises ``ValidationFailed`` (email, password, full_name, role, store_name)
    and ``Conflict`` (the address already has an account).
    """
    email = _clean_email(email)
    full_name = _clean_full_name(full_name)
    if role not in SELF_SERVICE_ROLES:
        raise ValidationFailed.for_field("role", "Choose 'customer' or 'vendor'.", "invalid_choice")
    candidate = User(email=email, full_name=full_name, role=role)
    _check_password(password, user=candidate, field="password")
    taken = Conflict(
        "An account with this email address already exists.",
        code="email_taken",
        field_errors=[FieldError("email", "Already registered; sign in instead.", "taken")],
    )
    if User.objects.filter(email__iexact=email).exists():
        raise taken
    try:
        with transaction.atomic():
            user = User.objects.create_user(email, password, full_name=full_name, role=role)
            if role == Role.VENDOR:
                try:
                    store_create_for_vendor(user=user, name=store_name or full_name)
                except ValidationFailed as error:  # reported on the field the client sent
                    raise ValidationFailed(
                        error.message,
                        field_errors=[replace(e, field="store_name") for e in error.field_errors],
                    ) from error
            # Registration happens once per address, so it is not held to the send limits.
            code_issue(
                email=email, purpose=CodePurpose.REGISTRATION, user=user, enforce_limits=False
            )
    except IntegrityError as error:  # a concurrent registration of the same address won
        raise taken from error
    logger.info("auth.registered", user_id=user.pk, role=role)
    return user


def email_verify(*, email: str, code: str, client: ClientInfo) -> TokenPair:
    """Mark the account verified with its registration code and sign it in.

    Raises ``ValidationFailed`` (``code``: wrong, used, expired or unknown address — one
    answer) and ``RateLimited``.
    """
    email = normalize_email(email)
    rate_limit_hit("verify-email", email, rate_for("auth_account"))
    user = code_consume(
        code_row=code_latest_live(email=email, purpose=CodePurpose.REGISTRATION), code=code
    )
    User.objects.filter(pk=user.pk).update(is_email_verified=True)
    user.is_email_verified = True
    logger.info("auth.email_verified", user_id=user.pk)
    return session_start(user=user, client=client)


def verification_code_resend(*, email: str) -> OneTimeCode:
    """Send a new registration code if the address has an unverified account; otherwise
    do the same bookkeeping and send nothing. Raises ``RateLimited`` either way."""
    email = _clean_email(email)
    user = User.objects.filter(email=email, is_active=True, is_email_verified=False).first()
    return code_issue(email=email, purpose=CodePurpose.REGISTRATION, user=user)


def password_reset_request(*, email: str) -> OneTimeCode:
    """Email a reset code if the address has an active account; otherwise do the same
    bookkeeping and send nothing. Raises ``RateLimited`` either way."""
    email = _clean_email(email)
    user = User.objects.filter(email=email, is_active=True).first()
    return code_issue(email=email, purpose=CodePurpose.PASSWORD_RESET, user=user)


def _password_set(user: User, password: str, *, reason: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password", "is_email_verified", "updated_at"])
        sessions_revoke_for_user(user_id=user.pk, reason=reason)
        publish(PasswordChanged(user_id=user.pk, changed_at=now))
    logger.info("auth.password_changed", user_id=user.pk, reason=reason)


def password_reset_confirm(*, email: str, code: str, new_password: str) -> User:
    """Set a new password with the emailed reset code; every session is signed out.

    The code proves the address, so an unverified account becomes verified. Raises
    ``ValidationFailed`` (``new_password``; ``code`` for a wrong, used or expired code or
    an unknown address) and ``RateLimited``.
    """
    email = normalize_email(email)
    rate_limit_hit("password-reset-confirm", email, rate_for("auth_account"))
    code_row = code_latest_live(email=email, purpose=CodePurpose.PASSWORD_RESET)
    _check_password(
        new_password,
        user=code_row.user if code_row and code_row.user else User(email=email),
        field="new_password",
    )
    user = code_consume(code_row=code_row, code=code)
    user.is_email_verified = True
    _password_set(user, new_password, reason="password_reset")
    return user


def _require_password(user: User, password: str, *, field: str = "password") -> None:
    rate_limit_hit("password-check", str(user.pk), rate_for("auth_account"))
    if not user.check_password(password):
        raise ValidationFailed.for_field(field, "That is not your password.", "wrong_password")


def password_change(*, user_id: int, current_password: str, new_password: str) -> None:
    """Change the password of a signed-in user; every session is signed out and an email
    tells the owner. Raises ``ValidationFailed`` (``current_password``, ``new_password``),
    ``NotAuthenticated`` (account disabled) and ``RateLimited``."""
    user = user_get_active(user_id=user_id)
    _require_password(user, current_password, field="current_password")
    _check_password(new_password, user=user, field="new_password")
    _password_set(user, new_password, reason="password_changed")


def profile_update(*, user_id: int, data: dict[str, Any]) -> User:
    """Change profile fields (``full_name``). Raises ``ValidationFailed``."""
    user = user_get_active(user_id=user_id)
    if "full_name" in data:
        user.full_name = _clean_full_name(data["full_name"])
        user.save(update_fields=["full_name", "updated_at"])
    return user


def two_factor_set(*, user_id: int, enabled: bool, password: str) -> User:
    """Switch the emailed second factor on or off; needs the current password.
    Raises ``ValidationFailed`` (``password``) and ``RateLimited``."""
    user = user_get_active(user_id=user_id)
    _require_password(user, password)
    if user.is_two_factor_enabled != enabled:
        user.is_two_factor_enabled = enabled
        user.save(update_fields=["is_two_factor_enabled", "updated_at"])
        logger.info("auth.two_factor_changed", user_id=user.pk, enabled=enabled)
    return user
