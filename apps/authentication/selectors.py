"""Reads on accounts."""

from __future__ import annotations

from apps.authentication.models import User
from apps.common.errors import NotAuthenticated


def user_get_active(*, user_id: int) -> User:
    """The active account ``user_id``; a deleted or disabled one raises
    ``NotAuthenticated`` (its tokens no longer speak for anyone)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotAuthenticated("This account is disabled.", code="token_invalid")
    return user
