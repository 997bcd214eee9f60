"""``manage.py api_reference``: rewrite the operations index of docs/api.md from the two
OpenAPI documents (``--check``: only say whether it is current)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.apis.reference import (
    api_documents,
    manual_path,
    manual_with_index,
    operations_index,
)


class Command(BaseCommand):
    help = "Rewrite the operations index of docs/api.md from the OpenAPI documents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Fail if docs/api.md is out of date."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = manual_path()
        current = path.read_text()
        wanted = manual_with_index(current, operations_index(api_documents()))
        if options["check"]:
            if wanted != current:
                raise CommandError("docs/api.md is out of date: run manage.py api_reference")
            self.stdout.write("docs/api.md is current.")
            return
        path.write_text(wanted)
        self.stdout.write(self.style.SUCCESS(f"Wrote the operations index of {path}."))
