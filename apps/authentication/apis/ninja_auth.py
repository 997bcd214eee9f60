"""Bearer authentication for the v2 (Ninja) layer over ``access_token_verify``.

``authenticate`` is a coroutine that does no database work (the token and the shared
cache are enough), so an async endpoint pays no thread hop to know its caller.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from apps.authentication.tokens import AccessPrincipal, access_token_verify
from apps.common.errors import NotAuthenticated
from apps.common.request_id import bind_user_id


class BearerAuth(HttpBearer):
    """Requires ``Authorization: Bearer <access>``; ``request.auth`` is the principal."""

    async def authenticate(self, request: HttpRequest, token: str) -> AccessPrincipal:
        principal = access_token_verify(token)
        bind_user_id(principal.user_id)
        return principal


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
            return ANONYMOUS
        return await self.authenticate(request, token.strip())

    async def authenticate(self, request: HttpRequest, token: str) -> AccessPrincipal | Anonymous:
        try:
            principal = access_token_verify(token)
        except NotAuthenticated:
            return ANONYMOUS
        bind_user_id(principal.user_id)
        return principal


bearer_auth = BearerAuth()
optional_bearer_auth = OptionalBearerAuth()
