"""``manage.py seed_demo``: demo data for the local run (safe to run repeatedly)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.authentication.models import Role
from apps.authentication.services import DEMO_PASSWORD, demo_accounts_ensure
from apps.catalog.demo import catalog_seed_demo
from apps.fit.demo import fit_seed_demo
from apps.orders.demo import orders_seed_demo
from apps.returns.demo import returns_seed_demo
from apps.shipping.demo import shipping_seed_demo


class Command(BaseCommand):
    help = "Create the demo accounts, the demo catalogue and an order history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--small",
            action="store_true",
            help="A tiny data set (3 stores, 30 products, about 150 orders).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed of the demo data.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        users = demo_accounts_ensure()
        for user in users:
            self.stdout.write(f"  {user.email:<24} role={user.role}")
        self.stdout.write(self.style.SUCCESS(f"Demo accounts ready (password {DEMO_PASSWORD!r})."))

        vendor = next(user for user in users if user.role == Role.VENDOR)
        size = {"stores": 3, "products": 30} if options["small"] else {}
        catalogue = catalog_seed_demo(
            vendor=vendor, seed=options["seed"], progress=not options["no_progress"], **size
        )
        verb = "created" if catalogue.created else "already there"
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalogue {verb}: {catalogue.stores} stores, {catalogue.products} "
                f"products, {catalogue.variants} variants."
            )
        )

        methods = shipping_seed_demo()
        if methods:
            self.stdout.write(self.style.SUCCESS(f"Demo shipping methods created: {methods}."))

        orders = orders_seed_demo(
            seed=options["seed"], small=options["small"], progress=not options["no_progress"]
        )
        message = f"Demo orders created: {orders}." if orders else "Demo orders already there."
        self.stdout.write(self.style.SUCCESS(message))

        returns = returns_seed_demo(seed=options["seed"])
        if returns:
            self.stdout.write(self.style.SUCCESS(f"Demo returns created: {returns}."))

        charts, answers = fit_seed_demo(seed=options["seed"])
        if charts or answers:
            self.stdout.write(
                self.style.SUCCESS(f"Demo size charts: {charts}; fit answers: {answers}.")
            )
