"""``manage.py seed_demo``: demo data for the local run (safe to run repeatedly)."""

from typing import Any

from django.core.management.base import BaseCommand

from apps.authentication.services import DEMO_PASSWORD, demo_accounts_ensure


class Command(BaseCommand):
    help = "Create the demo accounts (and, as domains land, the demo catalogue and orders)."

    def handle(self, *args: Any, **options: Any) -> None:
        users = demo_accounts_ensure()
        for user in users:
            self.stdout.write(f"  {user.email:<24} role={user.role}")
        self.stdout.write(self.style.SUCCESS(f"Demo accounts ready (password {DEMO_PASSWORD!r})."))
