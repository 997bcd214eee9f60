"""The standard colour palette (name and swatch). Staff can add more in the admin."""

from django.db import migrations

PALETTE = [
    ("Black", "#000000"), ("White", "#FFFFFF"), ("Ivory", "#FFFFF0"), ("Beige", "#F5F5DC"),
    ("Camel", "#C19A6B"), ("Brown", "#6F4E37"), ("Grey", "#808080"), ("Charcoal", "#36454F"),
    ("Navy", "#000080"), ("Blue", "#1F5FBF"), ("Sky Blue", "#87CEEB"), ("Denim", "#1560BD"),
    ("Teal", "#008080"), ("Green", "#2E8B57"), ("Olive", "#808000"), ("Khaki", "#C3B091"),
    ("Yellow", "#FFD700"), ("Mustard", "#E1AD01"), ("Orange", "#FF8C00"), ("Red", "#C8102E"),
    ("Burgundy", "#800020"), ("Pink", "#FFC0CB"), ("Fuchsia", "#FF00FF"), ("Purple", "#6A0DAD"),
    ("Lilac", "#C8A2C8"), ("Gold", "#D4AF37"), ("Silver", "#C0C0C0"), ("Ankara Print", "#E0522B"),
]


def add_palette(apps, schema_editor):
    Colour = apps.get_model("catalog", "Colour")
    existing = set(Colour.objects.values_list("name", flat=True))
    Colour.objects.bulk_create(
        [Colour(name=name, hex_code=hex_code) for name, hex_code in PALETTE if name not in existing]
    )


def remove_palette(apps, schema_editor):
    Colour = apps.get_model("catalog", "Colour")
    Colour.objects.filter(name__in=[name for name, _ in PALETTE], variants__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(add_palette, remove_palette)]
