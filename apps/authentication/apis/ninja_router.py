"""v2 accounts (async): registration, verification, sign-in, tokens, password reset,
profile. Each endpoint makes one hop into one sync service call."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.throttling import BaseThrottle

from apps.authentication import services
from apps.authentication.apis.ninja_auth import bearer_auth
from apps.authentication.models import User
from apps.authentication.selectors import user_get_active
from apps.authentication.services import ClientInfo, LoginChallenge, TokenPair
from apps.authentication.services.codes import CODE_LIFETIME
from apps.authentication.tokens import AccessPrincipal
from apps.common.apis.ninja_schemas import Problem
from apps.common.apis.throttles import NinjaAuthIpThrottle, PublicAccess
from apps.common.db import in_thread
from apps.common.http import client_ip
from apps.common.limits import MAX_CODE_LENGTH

router = Router(tags=["accounts"])

# Sign-up, sign-in and reset have their own per-address limit (``auth_ip``) and do not
# spend the browsing budget (``anon``): a shopper who browsed a lot can still sign in,
# and guessing passwords does not eat into anyone's browsing.
AUTH_THROTTLES: list[BaseThrottle] = [NinjaAuthIpThrottle()]
# Public operations, counted for their throttles in one async cache round trip.
AUTH_ACCESS = PublicAccess("auth_ip")
PUBLIC_ACCESS = PublicAccess("anon")
CODE_PATTERN = r"^\s*\d{6}\s*$"
CODE_SENT = "If the address needs a code, it is on its way; codes are valid for 10 minutes."

Email = Field(..., min_length=3, max_length=254, examples=["ada@example.com"])
Password = Field(..., min_length=1, max_length=128)
Code = Field(
    ...,
    pattern=CODE_PATTERN,
    max_length=MAX_CODE_LENGTH,
    description="The 6-digit code from the email.",
)


class RegisterIn(Schema):
    email: str = Email
    password: str = Password
    full_name: str = Field(..., min_length=1, max_length=150)
    role: Literal["customer", "vendor"] = "customer"
    store_name: str | None = Field(
        None, max_length=120, description="Vendors: the store's name (default: your name)."
    )


class ProfileOut(Schema):
    id: int
    email: str
    full_name: str
    role: str
    is_email_verified: bool
    two_factor_enabled: bool
    date_joined: datetime

    @staticmethod
    def resolve_two_factor_enabled(obj: User) -> bool:
        return obj.is_two_factor_enabled


class RegisteredOut(Schema):
    user: ProfileOut
    detail: str
    code_expires_in: int


class VerifyEmailIn(Schema):
    email: str = Email
    code: str = Code


class EmailIn(Schema):
    email: str = Email


class LoginIn(Schema):
    email: str = Email
    password: str = Password


class LoginVerifyIn(Schema):
    challenge_id: UUID
    code: str = Code


class RefreshIn(Schema):
    refresh: str = Field(..., min_length=20, max_length=200)


class TokensOut(Schema):
    access: str
    refresh: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="Seconds the access token stays valid.")
    user: ProfileOut


class ChallengeOut(Schema):
    challenge_id: UUID
    detail: str
    expires_in: int


class DetailOut(Schema):
    detail: str


class PasswordResetConfirmIn(Schema):
    email: str = Email
    code: str = Code
    new_password: str = Password


class PasswordChangeIn(Schema):
    current_password: str = Password
    new_password: str = Password


class ProfileIn(Schema):
    full_name: str | None = Field(None, min_length=1, max_length=150)


class TwoFactorIn(Schema):
    enabled: bool
    password: str = Password


def _client(request: HttpRequest) -> ClientInfo:
    return ClientInfo(
        ip_address=client_ip(request), user_agent=request.headers.get("User-Agent", "")
    )


def _tokens(pair: TokenPair) -> dict[str, object]:
    return {
        "access": pair.access,
        "refresh": pair.refresh,
        "expires_in": pair.expires_in,
        "user": pair.user,
    }


def _strip(code: str) -> str:
    return code.strip()


def _principal(request: HttpRequest) -> AccessPrincipal:
    principal: AccessPrincipal = request.auth  # type: ignore[attr-defined]
    return principal


@router.post(
    "/auth/register/",
    response={201: RegisteredOut, 409: Problem, 422: Problem, 429: Problem},
    auth=AUTH_ACCESS,
    throttle=AUTH_THROTTLES,
    summary="Create an account",
)
async def register(request: HttpRequest, payload: RegisterIn) -> Status:
    """Create a customer or vendor account and email a 6-digit code; the account signs in
    after verifying it. A vendor's store starts pending until staff approve it. 409 when
    the address is taken, 422 naming the field for bad input."""
    user = await in_thread(services.user_register, **payload.model_dump())
    return Status(
        201,
        {
            "user": user,
            "detail": f"We emailed a 6-digit code to {user.email}.",
            "code_expires_in": int(CODE_LIFETIME.total_seconds()),
        },
    )


@router.post(
    "/auth/verify-email/",
    response={200: TokensOut, 422: Problem, 429: Problem},
    auth=AUTH_ACCESS,
    throttle=AUTH_THROTTLES,
    summary="Verify the email address",
)
async def verify_email(request: HttpRequest, payload: VerifyEmailIn) -> dict[str, object]:
    """The registration code verifies the address and signs the account in."""
    pair = await in_thread(
        services.email_verify,
        email=payload.email,
        code=_strip(payload.code),
        client=_client(request),
    )
    return _tokens(pair)


@router.post(
    "/auth/resend-code/",
    response={202: DetailOut, 422: Problem, 429: Problem},
    auth=AUTH_ACCESS,
    throttle=AUTH_THROTTLES,
    summary="Send a new verification code",
)
async def resend_code(request: HttpRequest, payload: EmailIn) -> Status:
    """Same answer whether or not the address has an account waiting for verification.
    429 with Retry-After within 60 s of the last code or after 5 codes in an hour."""
    await in_thread(services.verification_code_resend, email=payload.email)
    return Status(202, DetailOut(detail=CODE_SENT))


@router.post(
    "/auth/login/",
    response={
        200: TokensOut,
        202: ChallengeOut,
        401: Problem,
        403: Problem,
        422: Problem,
        429: Problem,
    },
    auth=AUTH_ACCESS,
    throttle=AUTH_THROTTLES,
    summary="Sign in",
)
async def login(request: HttpRequest, payload: LoginIn) -> dict[str, object] | Status:
    """200 with tokens; 202 with a ``challenge_id`` when the account has two-factor login
    on (the code is emailed; finish at ``/auth/login/verify/``). 401 for a wrong email or
    password, 403 until the address is verified."""
    result = await in_thread(
        services.login_start,
        email=payload.email,
        password=payload.password,
        client=_client(request),
    )
    if isinstance(result, LoginChallenge):
        return Status(
            202,
            ChallengeOut(
                challenge_id=result.challenge_id,
                detail="We emailed you a sign-in code.",
                expires_in=result.expires_in,
            ),
        )
    return _tokens(result)


@router.post(
    "/auth/login/verify/",
    response={200: TokensOut, 422: Problem, 429: Problem},
    auth=AUTH_ACCESS,
    throttle=AUTH_THROTTLES,
    summary="Finish a two-factor sign-in",
)
async def login_verify(request: HttpRequest, payload: LoginVerifyIn) -> dict[str, object]:
    """The emailed code for ``challenge_id`` → tokens. Five wrong codes end the challenge."""
    pair = await in_thread(
        services.login_verify,
        challenge_id=payload.challenge_id,
        code=_strip(payload.code),
        client=_client(request),
    )
    return _tokens(pair)


@router.post(
    "/auth/token/refresh/",
    response={200: TokensOut, 401: Problem, 422: Problem},
    auth=PUBLIC_ACCESS,
    summary="Rotate the refresh token",
)
async def token_refresh(request: HttpRequest, payload: RefreshIn) -> dict[str, object]:
    """A new access and refresh token; the presented refresh token is used up. Presenting
    it again signs the whole session out (401)."""
    return _tokens(await in_thread(services.tokens_refresh, refresh=payload.refresh))


@router.post(
    "/auth/logout/",
    response={204: None, 422: Problem},
    auth=PUBLIC_ACCESS,
    summary="Sign out",
)
async def logout(request: HttpRequest, payload: RefreshIn) -> Status:
    """Revoke the session of this refresh token: it and the session's access tokens stop
    working. Unknown or already revoked tokens also answer 204."""
    await in_thread(services.logout, refresh=payload.refresh)
    return Status(204, None)


@router.post(
    "/auth/password/reset/",
    response={202: DetailOut, 422: Problem, 429: Problem},
    auth=AUTH_ACCESS,
    throttle=AUTH_THROTTLES,
    summary="Ask for a password reset code",
)
async def password_reset(request: HttpRequest, payload: EmailIn) -> Status:
    """Same answer whether or not the address has an account."""
    await in_thread(services.password_reset_request, email=payload.email)
    return Status(202, DetailOut(detail=CODE_SENT))


@router.post(
    "/auth/password/reset/confirm/",
    response={200: DetailOut, 422: Problem, 429: Problem},
    auth=AUTH_ACCESS,
    throttle=AUTH_THROTTLES,
    summary="Set a new password with the reset code",
)
async def password_reset_confirm(
    request: HttpRequest, payload: PasswordResetConfirmIn
) -> DetailOut:
    """Sets the password, signs every session out and emails the owner."""
    await in_thread(
        services.password_reset_confirm,
        email=payload.email,
        code=_strip(payload.code),
        new_password=payload.new_password,
    )
    return DetailOut(detail="Your password was changed; sign in with the new one.")


@router.get(
    "/auth/me/",
    response={200: ProfileOut, 401: Problem},
    auth=bearer_auth,
    summary="My profile",
    operation_id="me_get",
)
async def me(request: HttpRequest) -> User:
    """The signed-in account."""
    return await in_thread(user_get_active, user_id=_principal(request).user_id)


@router.patch(
    "/auth/me/",
    response={200: ProfileOut, 401: Problem, 422: Problem},
    auth=bearer_auth,
    summary="Update my profile",
)
async def me_update(request: HttpRequest, payload: ProfileIn) -> User:
    """Change ``full_name``. The email address is the login and does not change here."""
    return await in_thread(
        services.profile_update,
        user_id=_principal(request).user_id,
        data=payload.model_dump(exclude_unset=True),
    )


@router.post(
    "/auth/me/two-factor/",
    response={200: ProfileOut, 401: Problem, 422: Problem, 429: Problem},
    auth=bearer_auth,
    summary="Switch two-factor sign-in on or off",
)
async def two_factor(request: HttpRequest, payload: TwoFactorIn) -> User:
    """With two-factor on, each sign-in also needs a code emailed to you. Needs your
    password (422 on ``password`` when wrong)."""
    return await in_thread(
        services.two_factor_set,
        user_id=_principal(request).user_id,
        enabled=payload.enabled,
        password=payload.password,
    )


@router.post(
    "/auth/password/change/",
    response={200: DetailOut, 401: Problem, 422: Problem, 429: Problem},
    auth=bearer_auth,
    summary="Change my password",
)
async def password_change(request: HttpRequest, payload: PasswordChangeIn) -> DetailOut:
    """Needs the current password; signs every session out (this one too) and emails you."""
    await in_thread(
        services.password_change,
        user_id=_principal(request).user_id,
        current_password=payload.current_password,
        new_password=payload.new_password,
    )
    return DetailOut(detail="Your password was changed; sign in again.")
