"""Access tokens: one verification function behind both API layers.

An access token is a short-lived JWT (HS256) naming the user (``sub``) and the sign-in
session it belongs to (``sid``). Verification checks the signature with the one accepted
algorithm (so ``alg: none`` and algorithm swaps fail), the issuer, audience, type and
expiry, and then whether the session was revoked (logout, password reset, a replayed
refresh token). Revocations are kept in the shared cache for as long as an access token
can live, so checking one costs a cache read, not a database query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import structlog
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac

from apps.common.errors import NotAuthenticated
from apps.common.redis_client import redis_target, sync_client

logger = structlog.get_logger(__name__)

ALGORITHM = "HS256"
ISSUER = "fashionistar"
AUDIENCE = "fashionistar-api"
ACCESS_TYPE = "access"
_REVOKED_KEY = "auth:revoked-session:{}"


@dataclass(frozen=True)
class AccessPrincipal:
    """Who an access token speaks for."""

    user_id: int
    session_id: str
    role: str


def access_token_lifetime() -> timedelta:
    return timedelta(seconds=int(settings.ACCESS_TOKEN_LIFETIME_SECONDS))


def _signing_key() -> str:
    # Derived from SECRET_KEY under its own salt: no second secret to manage, and the key
    # is useless for anything else Django signs. Rotating SECRET_KEY signs everyone out.
    return salted_hmac("fashionistar.access-token", "signing-key", algorithm="sha256").hexdigest()


def access_token_issue(*, user_id: int, session_id: str, role: str) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    now = timezone.now()
    lifetime = access_token_lifetime()
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "typ": ACCESS_TYPE,
        "sub": str(user_id),
        "sid": session_id,
        "role": role,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _signing_key(), algorithm=ALGORITHM), int(lifetime.total_seconds())


def access_token_decode(token: str) -> AccessPrincipal:
    """The principal named by a well-signed, unexpired access token — without asking
    whether its session was revoked (:func:`access_token_verify` does both; the v2 layer
    checks revocation in the same cache round trip as its rate limit).

    Raises ``NotAuthenticated`` with code ``token_expired`` or ``token_invalid`` (bad
    signature, wrong algorithm, malformed, wrong type).
    """
    try:
        claims = jwt.decode(
            token,
            _signing_key(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "typ"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise NotAuthenticated("The access token has expired.", code="token_expired") from error
    except jwt.PyJWTError as error:
        raise NotAuthenticated("The access token is not valid.", code="token_invalid") from error
    if claims.get("typ") != ACCESS_TYPE or not str(claims["sub"]).isdigit():
        raise NotAuthenticated("The access token is not valid.", code="token_invalid")
    return AccessPrincipal(
        user_id=int(claims["sub"]),
        session_id=str(claims["sid"]),
        role=str(claims.get("role", "")),
    )


def access_token_verify(token: str) -> AccessPrincipal:
    """The principal of a valid access token of a live session.

    Raises ``NotAuthenticated`` with code ``token_expired``, ``token_revoked`` or
    ``token_invalid`` (bad signature, wrong algorithm, malformed, wrong type).
    """
    principal = access_token_decode(token)
    if session_is_revoked(principal.session_id):
        raise session_revoked_error()
    return principal


def session_revoked_error() -> NotAuthenticated:
    return NotAuthenticated("This session has ended; sign in again.", code="token_revoked")


def revocation_key(session_id: str) -> str:
    """The cache key that marks ``session_id`` as ended."""
    return _REVOKED_KEY.format(session_id)


def session_mark_revoked(session_id: str) -> None:
    """Make every access token of ``session_id`` fail from now on (until they expire)."""
    ttl = int(access_token_lifetime().total_seconds()) + 60
    try:
        cache.set(revocation_key(session_id), 1, timeout=ttl)
    except Exception:
        logger.exception("auth.revocation_cache_unavailable", session_id=session_id)


def session_is_revoked(session_id: str) -> bool:
    """Whether ``session_id`` was ended (one cache read on the process' own client)."""
    try:
        target = redis_target()
        if target is None:
            return cache.get(revocation_key(session_id)) is not None
        return bool(sync_client(target).exists(target.key(revocation_key(session_id))))
    except Exception:
        revocation_unknown(session_id)
        return False


def revocation_unknown(session_id: str) -> None:
    """Log that revocation could not be checked: the request is let through.

    Fail open: with the cache down every signed-in request would otherwise fail.
    Signatures and expiry still hold; the exposure is one access-token lifetime.
    """
    logger.error("auth.revocation_cache_unavailable", session_id=session_id)
