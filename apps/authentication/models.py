"""The user: email is the login (unique regardless of case), with a marketplace role."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.common.models import BaseModel


class Role(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    VENDOR = "vendor", "Vendor"
    STAFF = "staff", "Staff"


def normalize_email(email: str) -> str:
    """Addresses are compared and stored in lower case (mailbox names in practice are)."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True, role=Role.STAFF, is_email_verified=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin, BaseModel):
    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    is_email_verified = models.BooleanField(default=False)
    is_two_factor_enabled = models.BooleanField("two-factor login", default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField("admin access", default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["role"])]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email])[0]

    @property
    def is_vendor(self) -> bool:
        return self.role == Role.VENDOR

    @property
    def is_marketplace_staff(self) -> bool:
        return self.role == Role.STAFF or self.is_staff


class CodePurpose(models.TextChoices):
    REGISTRATION = "registration", "Email verification"
    PASSWORD_RESET = "password_reset", "Password reset"
    LOGIN = "login", "Second-factor login"


class OneTimeCode(models.Model):
    """An emailed 6-digit code, bound to one purpose and one address.

    The code itself is never stored: ``code_hash`` is a keyed hash (server secret) of it,
    and ``nonce`` lets the mailing task re-derive the code from the server secret, so a
    retried or redelivered email carries the same code. A row is also written for a
    request that mails nothing (unknown or already verified address, ``user`` empty): send
    limits then count the same for every address and reveal nothing about accounts.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(max_length=254)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="one_time_codes"
    )
    purpose = models.CharField(max_length=16, choices=CodePurpose.choices)
    nonce = models.CharField(max_length=64, editable=False)
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["email", "created_at"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(failed_attempts__lte=5), name="otp_attempts_at_most_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} code for {self.email}"


class AuthSession(models.Model):
    """One sign-in: the family of refresh tokens rotated from one login.

    Access tokens name their session (``sid``); revoking the session (logout, password
    reset, a replayed refresh token, deactivation) ends all of them.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=32, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.user_id}"


class RefreshToken(models.Model):
    """A refresh token, stored as its SHA-256 (the token is 256 random bits, so a plain
    hash is enough). Each is single use: refreshing marks it used and issues the next."""

    session = models.ForeignKey(AuthSession, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token of session {self.session_id}"
