"""Indexes for the public catalogue reads.

* Partial indexes on visible products (active, with a price) for the newest-first and
  price sorts, replacing the full-table ones and the index on ``created_at`` alone.
* ``UPPER(brand)`` for the case-insensitive brand filter (``brand__iexact``), replacing
  the plain ``brand`` index no query used.
* On PostgreSQL only: the ``pg_trgm`` extension and trigram GIN indexes on
  ``UPPER(name)``, ``UPPER(brand)`` and ``UPPER(description)``, the exact expressions of
  Django's ``icontains`` (``UPPER("col"::text) LIKE UPPER('%term%')``) used by the text
  search. SQLite has no such index and skips them; they are not part of the model state,
  so no later migration (nor SQLite's table rebuilds) ever tries to create them there.
  ``fastupdate`` is off: products change rarely, and without a pending list a search is
  as cheap right after a bulk import as it is after the next vacuum.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Upper

TRIGRAM_COLUMNS = ("name", "brand", "description")


def add_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in TRIGRAM_COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX "product_{column}_trgm_idx" ON "catalog_product" '
            f'USING gin (UPPER("{column}") gin_trgm_ops) WITH (fastupdate = off)'
        )


def remove_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in TRIGRAM_COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "product_{column}_trgm_idx"')


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_colour_palette"),
        ("vendors", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="product", name="product_newest_idx"),
        migrations.RemoveIndex(model_name="product", name="product_price_idx"),
        migrations.AlterField(
            model_name="product",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AlterField(
            model_name="product",
            name="brand",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                condition=models.Q(("is_active", True), ("min_price__isnull", False)),
                fields=["-created_at", "-id"],
                name="product_visible_newest_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                condition=models.Q(("is_active", True), ("min_price__isnull", False)),
                fields=["min_price", "id"],
                name="product_visible_price_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(Upper("brand"), name="product_brand_upper_idx"),
        ),
        # A no-op on anything but PostgreSQL.
        TrigramExtension(),
        migrations.RunPython(add_trigram_indexes, remove_trigram_indexes, elidable=False),
    ]
