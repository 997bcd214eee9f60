"""Bearer authentication for the v1 (DRF) layer over the same ``access_token_verify``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from apps.authentication.models import User
from apps.authentication.tokens import AccessPrincipal, access_token_verify
from apps.common.errors import NotAuthenticated
from apps.common.request_id import bind_user_id


class BearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <access>`` → ``request.user`` (the active account) and
    ``request.auth`` (the token's principal). Bad tokens answer 401."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, AccessPrincipal] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise NotAuthenticated("Malformed Authorization header.", code="token_invalid")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise NotAuthenticated(
                "The access token is not valid.", code="token_invalid"
            ) from error
        principal = access_token_verify(token)
        user = User.objects.filter(pk=principal.user_id, is_active=True).first()
        if user is None:
            raise NotAuthenticated("This account is disabled.", code="token_invalid")
        bind_user_id(user.pk)
        return user, principal

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the bearer token in the v1 OpenAPI schema."""

    target_class = BearerAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
