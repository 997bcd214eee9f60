"""Staff manage accounts in the admin: filters by role, verification and 2FA; disabling
an account or signing it out ends its sessions; codes are visible but never readable."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.authentication.models import AuthSession, OneTimeCode, User
from apps.authentication.services import ClientInfo, session_start, user_register
from apps.vendors.tests.factories import StaffFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(StaffFactory.create(is_staff=True, is_superuser=True))
    return client


def test_users_filter_by_role_verification_and_two_factor(staff_client: Client) -> None:
    VendorFactory.create(email="vic@example.com")
    UserFactory.create(email="new@example.com", is_email_verified=False, is_two_factor_enabled=True)

    vendors = staff_client.get("/admin/authentication/user/", {"role__exact": "vendor"})
    unverified = staff_client.get("/admin/authentication/user/", {"is_email_verified__exact": "0"})
    two_factor = staff_client.get(
        "/admin/authentication/user/", {"is_two_factor_enabled__exact": "1"}
    )

    assert vendors.status_code == 200
    assert b"vic@example.com" in vendors.content and b"new@example.com" not in vendors.content
    assert b"new@example.com" in unverified.content and b"vic@example.com" not in unverified.content
    assert b"new@example.com" in two_factor.content


def test_disabling_an_account_in_the_admin_ends_its_sessions(staff_client: Client) -> None:
    user = UserFactory.create(email="grace@example.com")
    session_start(user=user, client=ClientInfo())
    page = staff_client.get(f"/admin/authentication/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and key not in {"groups", "user_permissions", "password"}
    }
    data.update(
        is_active="",
        email=user.email,
        role=user.role,
        date_joined_0="2026-01-01",
        date_joined_1="10:00:00",
    )
    data.pop("date_joined", None)

    response = staff_client.post(f"/admin/authentication/user/{user.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not User.objects.get(pk=user.pk).is_active
    assert AuthSession.objects.get(user=user).revoke_reason == "deactivated"


def test_sign_out_everywhere_action(staff_client: Client) -> None:
    user = UserFactory.create()
    for _ in range(2):
        session_start(user=user, client=ClientInfo())

    staff_client.post(
        "/admin/authentication/user/",
        {"action": "sign_out_everywhere", "_selected_action": [user.pk]},
    )

    assert AuthSession.objects.filter(user=user, revoked_at__isnull=True).count() == 0


def test_code_and_session_pages_never_show_secrets(staff_client: Client) -> None:
    user_register(email="ada@example.com", password="a-Strong-pass-9", full_name="Ada")
    code = OneTimeCode.objects.get()
    session_start(user=User.objects.get(email="ada@example.com"), client=ClientInfo())

    codes = staff_client.get("/admin/authentication/onetimecode/")
    detail = staff_client.get(f"/admin/authentication/onetimecode/{code.pk}/change/")
    sessions = staff_client.get("/admin/authentication/authsession/")

    assert codes.status_code == detail.status_code == sessions.status_code == 200
    assert b"ada@example.com" in codes.content
    for page in (codes, detail):
        assert code.code_hash.encode() not in page.content
        assert code.nonce.encode() not in page.content
