"""Size charts per store and category, customers' fit feedback on delivered lines, and
each product's fit summary (the counts behind its fit signal)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.catalog.models import SIZES
from apps.common.models import BaseModel

#: Body measurements a chart may give, in centimetres.
MEASUREMENTS: tuple[str, ...] = (
    "chest",
    "bust",
    "under_bust",
    "waist",
    "hips",
    "neck",
    "shoulder",
    "sleeve",
    "length",
    "inseam",
    "thigh",
    "foot_length",
    "foot_width",
)
CM_PER_INCH = 2.54
NAME_MAX_LENGTH = 80
UNIT_NOTE_MAX_LENGTH = 200


class FitAnswer(models.TextChoices):
    RUNS_SMALL = "runs_small", "Runs small"
    TRUE_TO_SIZE = "true_to_size", "True to size"
    RUNS_LARGE = "runs_large", "Runs large"


class FitSource(models.TextChoices):
    CUSTOMER = "customer", "Said by the customer"
    RETURN = "return", "From a size-related return"


class SizeChart(BaseModel):
    """A store's measurements per size for one category (and, through the category tree,
    its subcategories); without a category, the store's default chart."""

    store = models.ForeignKey("vendors.Store", on_delete=models.CASCADE, related_name="size_charts")
    category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="size_charts",
        help_text="Empty: the store's default chart.",
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    unit_note = models.CharField(
        max_length=UNIT_NOTE_MAX_LENGTH,
        blank=True,
        help_text="How to measure, or the size system used (e.g. 'Body measurements, EU fit').",
    )

    class Meta:
        ordering: ClassVar = ["store_id", "category_id", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["store", "category"],
                condition=Q(category__isnull=False),
                name="sizechart_one_per_store_category",
            ),
            models.UniqueConstraint(
                fields=["store"],
                condition=Q(category__isnull=True),
                name="sizechart_one_default_per_store",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Size chart {self.pk}"


class SizeChartRow(models.Model):
    """One size of a chart: measurement name -> centimetres (one decimal)."""

    chart = models.ForeignKey(SizeChart, on_delete=models.CASCADE, related_name="rows")
    size = models.CharField(max_length=16, choices=[(s, s) for s in SIZES])
    position = models.PositiveSmallIntegerField(default=0)
    measurements = models.JSONField(default=dict, help_text='e.g. {"chest": 96, "waist": 80}')

    class Meta:
        ordering: ClassVar = ["chart_id", "position", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["chart", "size"], name="sizechartrow_size_once"),
        ]

    def __str__(self) -> str:
        return self.size


class FitFeedback(BaseModel):
    """How the size of one delivered order line fits, said by the customer who bought it
    (or by a size-related return). One per line: a later answer replaces the earlier."""

    order_line = models.OneToOneField(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="fit_feedback"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fit_feedback"
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="fit_feedback"
    )
    store = models.ForeignKey("vendors.Store", on_delete=models.CASCADE, related_name="+")
    size = models.CharField(max_length=16)
    fit = models.CharField(max_length=16, choices=FitAnswer.choices)
    source = models.CharField(max_length=16, choices=FitSource.choices)

    class Meta:
        ordering: ClassVar = ["-updated_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["product", "fit"], name="fitfeedback_product_idx")
        ]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(fit__in=FitAnswer.values), name="fitfeedback_fit"),
            models.CheckConstraint(
                condition=Q(source__in=FitSource.values), name="fitfeedback_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_fit_display()} (line {self.order_line_id})"


class ProductFit(models.Model):
    """The counts of a product's fit answers, kept with every answer (same transaction),
    so the fit signal is one primary-key read."""

    product = models.OneToOneField(
        "catalog.Product", on_delete=models.CASCADE, primary_key=True, related_name="fit_summary"
    )
    runs_small = models.PositiveIntegerField(default=0)
    true_to_size = models.PositiveIntegerField(default=0)
    runs_large = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "product fit summary"
        verbose_name_plural = "product fit summaries"

    def __str__(self) -> str:
        return f"Fit of product {self.product_id}"

    @property
    def answers(self) -> int:
        return self.runs_small + self.true_to_size + self.runs_large

    def counts(self) -> dict[str, int]:
        return {answer: int(getattr(self, answer)) for answer in FitAnswer.values}
