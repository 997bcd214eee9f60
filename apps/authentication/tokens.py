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

from apps.authentication.models import AuthSession
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


# --- revocation -----------------------------------------------------------------------------
# The database (AuthSession.revoked_at) is the truth. The cache holds two markers that only
# spare the database a query: "revoked" for as long as an access token can live, and
# "live" for LIVE_MARK_SECONDS. With neither marker — a cold or flushed cache, a restarted
# process, an unreachable cache — the database answers, and the marker is written again.
# A revocation writes the database first, then sets "revoked" and drops "live"; if the
# cache is unreachable at that moment, a "live" marker written before may still be served
# for at most LIVE_MARK_SECONDS.
LIVE_MARK_SECONDS = 30
_LIVE_KEY = "auth:live-session:{}"


def revocation_key(session_id: str) -> str:
    """The cache key that marks ``session_id`` as ended."""
    return _REVOKED_KEY.format(session_id)


def session_state_keys(session_id: str) -> list[str]:
    """The cache keys to peek for ``session_id``: its "revoked" and its "live" marker."""
    return [_REVOKED_KEY.format(session_id), _LIVE_KEY.format(session_id)]


def session_state_from_markers(present: list[bool] | None) -> bool | None:
    """Whether the session is revoked, from the presence of its two markers (see
    :func:`session_state_keys`); ``None`` when the cache cannot tell."""
    if present is None:
        return None
    revoked, live = present
    if revoked:
        return True
    return False if live else None


def session_revoked_in_database(session_id: str) -> bool:
    """Whether ``session_id`` is ended (or unknown), asking the database, and the cache
    markers written again for the next request."""
    try:
        uuid.UUID(session_id)
    except ValueError:
        return True
    rows = list(AuthSession.objects.filter(pk=session_id).values_list("revoked_at", flat=True)[:1])
    revoked = not rows or rows[0] is not None
    if revoked:
        session_mark_revoked(session_id)
    else:
        session_mark_live(session_id)
    return revoked


def session_mark_live(session_id: str) -> None:
    """Remember for a short while that ``session_id`` is live (best effort)."""
    try:
        cache.set(_LIVE_KEY.format(session_id), 1, timeout=LIVE_MARK_SECONDS)
    except Exception:
        logger.warning("auth.revocation_cache_unavailable", session_id=session_id)


def session_mark_revoked(session_id: str) -> None:
    """Make every access token of ``session_id`` fail at once, without a database query
    (best effort: the database already says so — see above)."""
    ttl = int(access_token_lifetime().total_seconds()) + 60
    try:
        cache.set(revocation_key(session_id), 1, timeout=ttl)
        cache.delete(_LIVE_KEY.format(session_id))
    except Exception:
        logger.warning("auth.revocation_cache_unavailable", session_id=session_id)


def session_is_revoked(session_id: str) -> bool:
    """Whether ``session_id`` was ended: one round trip for the cache markers on the
    process' own client, the database when they do not tell."""
    keys = session_state_keys(session_id)
    present: list[bool] | None
    try:
        target = redis_target()
        if target is None:
            found = cache.get_many(keys)
            present = [key in found for key in keys]
        else:
            pipe = sync_client(target).pipeline(transaction=False)
            for key in keys:
                pipe.exists(target.key(key))
            present = [bool(value) for value in pipe.execute()]
    except Exception:
        logger.warning("auth.revocation_cache_unavailable", session_id=session_id)
        present = None
    state = session_state_from_markers(present)
    return session_revoked_in_database(session_id) if state is None else state
