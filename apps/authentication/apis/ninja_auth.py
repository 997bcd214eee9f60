"""Bearer authentication for the v2 (Ninja) layer over the one access-token check.

Authentication is where a v2 request first needs the shared cache, so it does the cache
work of the whole request in one async round trip: the markers that say whether the
token's session is live or revoked, and the caller's rate-limit count (per user with a
valid token, per address without one). The throttle then only reads that count
(``apps.common.apis.throttles``). Only when the markers do not tell (a cold, flushed or
unreachable cache) does the database answer, in one hop; the database is the truth about
revocation (``apps.authentication.tokens``), the cache never means "allow" by absence.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from apps.authentication.tokens import (
    AccessPrincipal,
    access_token_decode,
    session_revoked_error,
    session_revoked_in_database,
    session_state_from_markers,
    session_state_keys,
)
from apps.common.apis.throttles import precount
from apps.common.db import in_thread
from apps.common.errors import NotAuthenticated
from apps.common.request_id import bind_user_id


async def _verify_and_count(request: HttpRequest, token: str) -> AccessPrincipal:
    """The token's principal, its session checked and its request counted in one round
    trip. Raises ``NotAuthenticated`` (invalid, expired or revoked)."""
    principal = access_token_decode(token)  # the signature is checked before any I/O
    markers = await precount(
        request, [("user", str(principal.user_id))], peek=session_state_keys(principal.session_id)
    )
    revoked = session_state_from_markers(markers)
    if revoked is None:  # a cold, flushed or unreachable cache: the database decides
        revoked = await in_thread(session_revoked_in_database, principal.session_id)
    if revoked:
        raise session_revoked_error()
    bind_user_id(principal.user_id)
    return principal


class BearerAuth(HttpBearer):
    """Requires ``Authorization: Bearer <access>``; ``request.auth`` is the principal."""

    async def authenticate(self, request: HttpRequest, token: str) -> AccessPrincipal:
        return await _verify_and_count(request, token)


class Anonymous:
    """``request.auth`` of a caller without a valid token on a public endpoint."""

    user_id = None

    def __bool__(self) -> bool:
        return True


ANONYMOUS = Anonymous()


class OptionalBearerAuth(HttpBearer):
    """Public endpoints: a valid token identifies the caller (for per-user rate limits),
    no token or a stale one browses anonymously."""

    async def __call__(self, request: HttpRequest) -> AccessPrincipal | Anonymous:
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not token.strip():
            return await self._anonymous(request)
        return await self.authenticate(request, token.strip())

    async def authenticate(self, request: HttpRequest, token: str) -> AccessPrincipal | Anonymous:
        try:
            return await _verify_and_count(request, token)
        except NotAuthenticated:
            return await self._anonymous(request)

    @staticmethod
    async def _anonymous(request: HttpRequest) -> Anonymous:
        await precount(request, [("anon", None)])
        return ANONYMOUS


bearer_auth = BearerAuth()
optional_bearer_auth = OptionalBearerAuth()
