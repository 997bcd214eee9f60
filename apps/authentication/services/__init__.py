"""Writes on accounts: registration, codes, sign-in sessions, passwords, profile."""

from apps.authentication.services.accounts import (
    email_verify,
    password_change,
    password_reset_confirm,
    password_reset_request,
    profile_update,
    two_factor_set,
    user_register,
    verification_code_resend,
)
from apps.authentication.services.codes import code_consume, code_derive, code_issue
from apps.authentication.services.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_accounts_ensure
from apps.authentication.services.sessions import (
    ClientInfo,
    LoginChallenge,
    TokenPair,
    login_start,
    login_verify,
    logout,
    session_revoke,
    session_start,
    sessions_revoke_for_user,
    tokens_refresh,
)

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "ClientInfo",
    "LoginChallenge",
    "TokenPair",
    "code_consume",
    "code_derive",
    "code_issue",
    "demo_accounts_ensure",
    "email_verify",
    "login_start",
    "login_verify",
    "logout",
    "password_change",
    "password_reset_confirm",
    "password_reset_request",
    "profile_update",
    "session_revoke",
    "session_start",
    "sessions_revoke_for_user",
    "tokens_refresh",
    "two_factor_set",
    "user_register",
    "verification_code_resend",
]
