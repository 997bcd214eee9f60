"""Sign-in sessions: login (with the optional second factor), refresh rotation, logout.

A session is the family of refresh tokens rotated from one login. Refresh tokens are
single use; presenting one that was already used means it leaked (or two clients raced
with one token), so the whole session is revoked — the OAuth refresh-token-reuse rule.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import structlog
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from apps.authentication.models import (
    AuthSession,
    CodePurpose,
    OneTimeCode,
    RefreshToken,
    User,
    normalize_email,
)
from apps.authentication.services.codes import CODE_LIFETIME, code_consume, code_issue
from apps.authentication.tokens import (
    access_token_issue,
    session_mark_live,
    session_mark_revoked,
)
from apps.common.errors import NotAuthenticated, PermissionDenied
from apps.common.ratelimit import rate_for, rate_limit_hit

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ClientInfo:
    """Where a sign-in comes from, kept on the session for the account owner and staff."""

    ip_address: str | None = None
    user_agent: str = ""


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int
    user: User


@dataclass(frozen=True)
class LoginChallenge:
    """Password accepted, second factor pending: a code went to the user's address."""

    challenge_id: UUID
    expires_in: int


def _refresh_lifetime() -> timedelta:
    return timedelta(seconds=int(settings.REFRESH_TOKEN_LIFETIME_SECONDS))


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh(session: AuthSession) -> str:
    token = secrets.token_urlsafe(32)
    RefreshToken.objects.create(
        session=session,
        token_hash=_hash_refresh(token),
        expires_at=timezone.now() + _refresh_lifetime(),
    )
    return token


def _pair(session: AuthSession, user: User, refresh: str) -> TokenPair:
    access, expires_in = access_token_issue(
        user_id=user.pk, session_id=str(session.pk), role=user.role
    )
    return TokenPair(access=access, refresh=refresh, expires_in=expires_in, user=user)


@transaction.atomic
def session_start(*, user: User, client: ClientInfo) -> TokenPair:
    """Open a session for ``user`` (already authenticated) and issue its first tokens."""
    session = AuthSession.objects.create(
        user=user, ip_address=client.ip_address or None, user_agent=client.user_agent[:200]
    )
    User.objects.filter(pk=user.pk).update(last_login=session.created_at)
    transaction.on_commit(lambda: session_mark_live(str(session.pk)))
    logger.info("auth.session_started", session_id=str(session.pk), user_id=user.pk)
    return _pair(session, user, _new_refresh(session))


def login_start(*, email: str, password: str, client: ClientInfo) -> TokenPair | LoginChallenge:
    """Check the password; return tokens, or a challenge when the account has 2FA on.

    Raises ``RateLimited`` (too many attempts for this account), ``NotAuthenticated``
    (wrong email or password, or a disabled account — one answer for all three) and
    ``PermissionDenied`` (email not verified yet).
    """
    email = normalize_email(email)
    rate_limit_hit("login", email, rate_for("auth_account"))
    user = authenticate(email=email, password=password)
    if not isinstance(user, User):
        logger.info("auth.login_failed")
        raise NotAuthenticated("Wrong email or password.", code="invalid_credentials")
    if not user.is_email_verified:
        raise PermissionDenied(
            "Verify your email address first; we can send a new code.",
            code="email_not_verified",
        )
    if user.is_two_factor_enabled:
        code_row = code_issue(email=user.email, purpose=CodePurpose.LOGIN, user=user)
        return LoginChallenge(
            challenge_id=code_row.public_id, expires_in=int(CODE_LIFETIME.total_seconds())
        )
    return session_start(user=user, client=client)


def login_verify(*, challenge_id: UUID, code: str, client: ClientInfo) -> TokenPair:
    """Finish a two-factor login with the emailed code. Raises ``ValidationFailed``
    (``code``) for a wrong, used, expired or unknown challenge and ``RateLimited``."""
    rate_limit_hit("login-verify", str(challenge_id), rate_for("auth_account"))
    code_row = (
        OneTimeCode.objects.select_related("user")
        .filter(public_id=challenge_id, purpose=CodePurpose.LOGIN)
        .first()
    )
    user = code_consume(code_row=code_row, code=code)
    if not user.is_active:
        raise NotAuthenticated("Wrong email or password.", code="invalid_credentials")
    return session_start(user=user, client=client)


def tokens_refresh(*, refresh: str) -> TokenPair:
    """Trade a refresh token for a new pair; the presented token is used up.

    Raises ``NotAuthenticated``: unknown, expired or revoked token — and a token used
    before, which also ends its whole session.
    """
    now = timezone.now()
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_related("session__user")
            .filter(token_hash=_hash_refresh(refresh))
            .first()
        )
        if row is None or row.expires_at <= now or row.session.revoked_at is not None:
            raise NotAuthenticated("The refresh token is not valid.", code="refresh_invalid")
        session, user = row.session, row.session.user
        if not user.is_active:
            raise NotAuthenticated("The refresh token is not valid.", code="refresh_invalid")
        # The conditional update is the single-use guarantee under concurrency.
        claimed = RefreshToken.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
        if claimed:
            AuthSession.objects.filter(pk=session.pk).update(last_refreshed_at=now)
            return _pair(session, user, _new_refresh(session))
    session_revoke(session_id=session.pk, reason="refresh_reused")
    logger.warning("auth.refresh_reused", session_id=str(session.pk), user_id=user.pk)
    raise NotAuthenticated("The refresh token was already used.", code="refresh_reused")


def session_revoke(*, session_id: UUID, reason: str) -> bool:
    """End a session: its refresh tokens stop working at once, its access tokens on their
    next request. Returns False if it was already ended."""
    with transaction.atomic():
        ended = AuthSession.objects.filter(pk=session_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoke_reason=reason
        )
        transaction.on_commit(lambda: session_mark_revoked(str(session_id)))
    if ended:
        logger.info("auth.session_revoked", session_id=str(session_id), reason=reason)
    return bool(ended)


def logout(*, refresh: str) -> None:
    """Revoke the session of ``refresh``. Unknown tokens are ignored (logging out twice
    is not an error and reveals nothing)."""
    row = RefreshToken.objects.filter(token_hash=_hash_refresh(refresh)).first()
    if row is not None:
        session_revoke(session_id=row.session_id, reason="logout")


def sessions_revoke_for_user(*, user_id: int, reason: str) -> int:
    """End every open session of a user (password change, deactivation)."""
    session_ids = list(
        AuthSession.objects.filter(user_id=user_id, revoked_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    return sum(session_revoke(session_id=pk, reason=reason) for pk in session_ids)
