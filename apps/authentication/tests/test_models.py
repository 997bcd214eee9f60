"""The custom user: email login regardless of case, roles, and the demo accounts."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import IntegrityError, connection

from apps.authentication.models import Role, User
from apps.authentication.services import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_user_model_is_ours() -> None:
    assert get_user_model() is User


def test_email_is_stored_normalised_and_unique_regardless_of_case() -> None:
    User.objects.create_user("Ada@Example.COM ", "a-Strong-pass-9")

    assert User.objects.get().email == "ada@example.com"
    with pytest.raises(IntegrityError):
        User.objects.create_user("ADA@example.com", "another-pass-9")


def test_database_rejects_case_variant_even_when_written_raw() -> None:
    User.objects.create_user("ada@example.com", "a-Strong-pass-9")
    table = User._meta.db_table

    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (email, password, full_name, role, is_email_verified, "  # noqa: S608
            "is_two_factor_enabled, is_active, is_staff, is_superuser, date_joined, "
            "created_at, updated_at) VALUES ('ADA@EXAMPLE.COM', '', '', 'customer', "
            "false, false, true, false, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)"
        )


def test_login_matches_email_in_any_case() -> None:
    User.objects.create_user("ada@example.com", "a-Strong-pass-9")

    assert authenticate(username="ADA@example.com", password="a-Strong-pass-9") is not None
    assert authenticate(username="ada@example.com", password="wrong") is None


def test_new_users_are_unverified_customers() -> None:
    user = User.objects.create_user("new@example.com", "a-Strong-pass-9")

    assert user.role == Role.CUSTOMER
    assert user.is_email_verified is False
    assert user.is_two_factor_enabled is False


def test_superuser_is_verified_staff() -> None:
    user = User.objects.create_superuser("root@example.com", "a-Strong-pass-9")

    assert (user.role, user.is_staff, user.is_superuser, user.is_email_verified) == (
        Role.STAFF,
        True,
        True,
        True,
    )


def test_seed_demo_is_repeatable() -> None:
    call_command("seed_demo", "--small", stdout=None)
    seeded = User.objects.count()
    User.objects.filter(email="customer@example.com").update(full_name="Changed")
    call_command("seed_demo", "--small", stdout=None)

    assert User.objects.count() == seeded, "a second run adds nothing"
    demo = ("customer@example.com", "vendor@example.com", "staff@example.com")
    users = {user.email: user for user in User.objects.filter(email__in=demo)}
    assert set(users) == set(demo)
    assert all(user.check_password(DEMO_PASSWORD) for user in users.values())
    assert users["staff@example.com"].is_staff
    assert users["vendor@example.com"].role == Role.VENDOR
    assert all(user.is_email_verified for user in users.values())
