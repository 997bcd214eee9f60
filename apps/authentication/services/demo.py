"""Writes on accounts."""

from __future__ import annotations

from django.db import transaction

from apps.authentication.models import Role, User, normalize_email

DEMO_PASSWORD = "fashionistar-demo"  # noqa: S105 - published demo credential, local data only
DEMO_ACCOUNTS: tuple[tuple[str, str, Role], ...] = (
    ("customer@example.com", "Ada Customer", Role.CUSTOMER),
    ("vendor@example.com", "Vic Vendor", Role.VENDOR),
    ("staff@example.com", "Sam Staff", Role.STAFF),
)


@transaction.atomic
def demo_accounts_ensure() -> list[User]:
    """Create (or repair) the three demo accounts; running it again changes nothing."""
    users = []
    for email, full_name, role in DEMO_ACCOUNTS:
        is_staff = role == Role.STAFF
        user, created = User.objects.get_or_create(
            email=normalize_email(email),
            defaults={
                "full_name": full_name,
                "role": role,
                "is_email_verified": True,
                "is_staff": is_staff,
                "is_superuser": is_staff,
            },
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password", "updated_at"])
        users.append(user)
    return users
