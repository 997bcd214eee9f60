"""Refunds carry an idempotency key, an attempt count and a retry time.

The key is unique per refund: added nullable, filled row by row for existing refunds,
then made unique and required (one default for every row would collide)."""

import uuid

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def fill_keys(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Refund = apps.get_model("payments", "Refund")
    for pk in Refund.objects.filter(idempotency_key__isnull=True).values_list("pk", flat=True):
        Refund.objects.filter(pk=pk).update(idempotency_key=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="idempotency_key",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="refund",
            name="idempotency_key",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="Sent with every provider call for this refund (Stripe, Square), "
                "or looked for among the payment's refunds (Paystack): a repeat is never a "
                "second refund.",
                unique=True,
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="attempts",
            field=models.PositiveSmallIntegerField(
                default=0, help_text="Provider calls made for this refund."
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="next_attempt_at",
            field=models.DateTimeField(
                blank=True,
                help_text="The provider is not asked again before this: a call is out, or its "
                "outcome is unknown and the provider may still be working on it.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="last_error",
            field=models.CharField(
                blank=True, help_text="Why the last call had no definite answer.", max_length=255
            ),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["next_attempt_at"],
                name="refund_pending_due",
            ),
        ),
    ]
