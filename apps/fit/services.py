"""Writes on size and fit: a store's size charts, and customers' fit feedback (which
keeps each product's fit summary in the same transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from django.db import transaction
from django.db.models import Count, Q

from apps.catalog.models import SIZE_SET, Category
from apps.common.errors import Conflict, FieldError, NotFound, ValidationFailed
from apps.fit.models import (
    MEASUREMENTS,
    NAME_MAX_LENGTH,
    UNIT_NOTE_MAX_LENGTH,
    FitAnswer,
    FitFeedback,
    FitSource,
    ProductFit,
    SizeChart,
    SizeChartRow,
)
from apps.orders.models import OrderLine
from apps.shipping.models import Shipment, ShipmentStatus
from apps.vendors.models import Store

logger = structlog.get_logger(__name__)

#: Largest measurement accepted, in cm (a long inseam or a body length stays far below).
MAX_CM = Decimal(500)
MAX_ROWS = len(SIZE_SET)
CHART_FIELDS = ("category_id", "name", "unit_note", "rows")


# --- size charts -------------------------------------------------------------------------


def _text(data: Mapping[str, Any], field: str, limit: int, errors: list[FieldError]) -> str:
    value = data.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(field, "Must be text.", "invalid_type"))
        return ""
    value = " ".join(value.split())
    if len(value) > limit:
        errors.append(FieldError(field, f"At most {limit} characters.", "too_long"))
    return value


def _centimetres(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or not Decimal(0) < number <= MAX_CM:
        return None
    if number != number.quantize(Decimal("0.1")):
        return None
    return number


def _rows(raw: Any, errors: list[FieldError]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ROWS:
        errors.append(FieldError("rows", f"A list of 1 to {MAX_ROWS} sizes.", "invalid"))
        return []
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, row in enumerate(raw):
        at = f"rows.{index}"
        if not isinstance(row, Mapping):
            errors.append(
                FieldError(at, "Must be an object with size and measurements.", "invalid_type")
            )
            continue
        size = row.get("size")
        if not isinstance(size, str) or size not in SIZE_SET:
            errors.append(
                FieldError(f"{at}.size", "Not a size of the catalogue.", "invalid_choice")
            )
        elif size in seen:
            errors.append(
                FieldError(f"{at}.size", "This size is already in the chart.", "duplicate_size")
            )
        else:
            seen.add(size)
        measurements = row.get("measurements")
        clean: dict[str, float] = {}
        if not isinstance(measurements, Mapping) or not measurements:
            errors.append(
                FieldError(f"{at}.measurements", "At least one measurement, in cm.", "required")
            )
        else:
            for name, value in measurements.items():
                if name not in MEASUREMENTS:
                    errors.append(
                        FieldError(
                            f"{at}.measurements.{name}",
                            f"Unknown measurement; one of: {', '.join(MEASUREMENTS)}.",
                            "unknown_measurement",
                        )
                    )
                    continue
                cm = _centimetres(value)
                if cm is None:
                    errors.append(
                        FieldError(
                            f"{at}.measurements.{name}",
                            f"Centimetres above 0 and up to {MAX_CM}, at most one decimal.",
                            "invalid_measurement",
                        )
                    )
                    continue
                clean[name] = float(cm)
        rows.append({"size": size, "measurements": clean})
    return rows


def size_chart_errors(
    *, store: Store, data: Mapping[str, Any], chart: SizeChart | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """The chart's fields cleaned, and every bad field: text lengths, a category that
    exists and has no other chart of this store (nor a second default), sizes from the
    catalogue (each once), known measurement names, positive centimetres."""
    errors: list[FieldError] = []
    clean: dict[str, Any] = {
        "name": _text(data, "name", NAME_MAX_LENGTH, errors),
        "unit_note": _text(data, "unit_note", UNIT_NOTE_MAX_LENGTH, errors),
        "rows": _rows(data.get("rows"), errors),
    }
    category_id = data.get("category_id")
    if category_id is not None and (
        isinstance(category_id, bool)
        or not isinstance(category_id, int)
        or not 0 < category_id < 2**63
        or not Category.objects.filter(pk=category_id).exists()
    ):
        errors.append(FieldError("category_id", "Unknown category.", "unknown_category"))
    else:
        others = SizeChart.objects.filter(store=store).filter(
            Q(category__isnull=True) if category_id is None else Q(category_id=category_id)
        )
        if chart is not None:
            others = others.exclude(pk=chart.pk)
        if others.exists():
            message = (
                "The store already has a chart for this category."
                if category_id is not None
                else "The store already has a default chart."
            )
            errors.append(FieldError("category_id", message, "duplicate_chart"))
    clean["category_id"] = category_id
    return clean, errors


def _raise(errors: list[FieldError]) -> None:
    if errors:
        detail = "; ".join(f"{error.field}: {error.message}" for error in errors[:5])
        raise ValidationFailed(detail, field_errors=errors)


def _write_rows(chart: SizeChart, rows: list[dict[str, Any]]) -> None:
    chart.rows.all().delete()
    SizeChartRow.objects.bulk_create(
        SizeChartRow(
            chart=chart, size=row["size"], position=index, measurements=row["measurements"]
        )
        for index, row in enumerate(rows)
    )


@transaction.atomic
def size_chart_create(*, store: Store, data: Mapping[str, Any]) -> SizeChart:
    """A chart for ``store``: ``category_id`` (null: the store's default), ``name``,
    ``unit_note``, ``rows`` of ``{size, measurements: {name: cm}}``. Raises
    ``ValidationFailed`` naming every bad field."""
    Store.objects.select_for_update().filter(pk=store.pk).first()
    clean, errors = size_chart_errors(store=store, data=data)
    _raise(errors)
    chart = SizeChart.objects.create(
        store=store,
        category_id=clean["category_id"],
        name=clean["name"],
        unit_note=clean["unit_note"],
    )
    _write_rows(chart, clean["rows"])
    logger.info("size_chart.created", chart_id=chart.pk, store_id=store.pk)
    return chart


def _own_chart(store: Store, chart_id: int) -> SizeChart:
    chart = None
    if 0 < chart_id < 2**63:
        chart = SizeChart.objects.select_for_update().filter(pk=chart_id, store=store).first()
    if chart is None:
        raise NotFound("Size chart not found.", code="size_chart_not_found")
    return chart


@transaction.atomic
def size_chart_update(*, store: Store, chart_id: int, data: Mapping[str, Any]) -> SizeChart:
    """Change some fields of one of ``store``'s charts (``rows``, when given, replace
    every row); the result is checked as a whole. Raises ``NotFound`` (another store's
    chart too) and ``ValidationFailed``."""
    Store.objects.select_for_update().filter(pk=store.pk).first()
    chart = _own_chart(store, chart_id)
    current: dict[str, Any] = {
        "category_id": chart.category_id,
        "name": chart.name,
        "unit_note": chart.unit_note,
        "rows": [{"size": row.size, "measurements": row.measurements} for row in chart.rows.all()],
    }
    merged = current | {key: value for key, value in data.items() if key in CHART_FIELDS}
    clean, errors = size_chart_errors(store=store, data=merged, chart=chart)
    _raise(errors)
    chart.category_id = clean["category_id"]
    chart.name = clean["name"]
    chart.unit_note = clean["unit_note"]
    chart.save()
    if "rows" in data:
        _write_rows(chart, clean["rows"])
    logger.info("size_chart.updated", chart_id=chart.pk, store_id=store.pk)
    return chart


@transaction.atomic
def size_chart_delete(*, store: Store, chart_id: int) -> None:
    """Remove one of ``store``'s charts. Raises ``NotFound``."""
    _own_chart(store, chart_id).delete()
    logger.info("size_chart.deleted", chart_id=chart_id, store_id=store.pk)


# --- fit feedback --------------------------------------------------------------------------


def product_fit_refresh(*, product_id: int) -> ProductFit:
    """Recount ``product_id``'s answers into its summary row. Call it inside a
    transaction holding the summary's lock (``fit_feedback_record`` does), or to repair."""
    counts = dict(
        FitFeedback.objects.filter(product_id=product_id)
        .order_by()
        .values_list("fit")
        .annotate(n=Count("id"))
    )
    values = {answer: int(counts.get(answer, 0)) for answer in FitAnswer.values}
    summary, _ = ProductFit.objects.update_or_create(product_id=product_id, defaults=values)
    return summary


@transaction.atomic
def fit_feedback_record(
    *, customer_id: int, order_line_id: int, fit: str, source: str = "customer"
) -> FitFeedback:
    """Record how the size of a delivered order line fits (``runs_small``,
    ``true_to_size``, ``runs_large``), said by the customer who bought it or taken from a
    size-related return (``source="return"``). One answer per line: a later one replaces
    the earlier. The product's fit summary changes in the same transaction.

    Raises ``ValidationFailed`` (``fit``, ``source``), ``NotFound``
    (``order_line_not_found``: no such line, or another customer's) and ``Conflict``
    (``not_delivered``: the line's parcel has not arrived)."""
    errors = []
    if fit not in FitAnswer.values:
        errors.append(
            FieldError("fit", f"One of: {', '.join(FitAnswer.values)}.", "invalid_choice")
        )
    if source not in FitSource.values:
        errors.append(
            FieldError("source", f"One of: {', '.join(FitSource.values)}.", "invalid_choice")
        )
    _raise(errors)
    line = None
    if 0 < order_line_id < 2**63:
        line = (
            OrderLine.objects.select_for_update()
            .filter(pk=order_line_id, order__customer_id=customer_id)
            .only("id", "order_id", "store_id", "variant_id", "size")
            .first()
        )
    if line is None:
        raise NotFound("Order line not found.", code="order_line_not_found")
    status = (
        Shipment.objects.filter(order_id=line.order_id, store_id=line.store_id, is_exchange=False)
        .values_list("status", flat=True)
        .first()
    )
    if status != ShipmentStatus.DELIVERED:
        raise Conflict(
            "Say how it fits once the parcel has been delivered.",
            code="not_delivered",
            details={"shipment_status": status},
        )
    product_id = OrderLine.objects.filter(pk=line.pk).values_list("variant__product_id", flat=True)[
        0
    ]
    # The summary row is the product's lock: answers to the same product are counted one
    # transaction after the other, so no count is lost.
    ProductFit.objects.get_or_create(product_id=product_id)
    ProductFit.objects.select_for_update().filter(pk=product_id).first()
    feedback, created = FitFeedback.objects.update_or_create(
        order_line_id=line.pk,
        defaults={
            "customer_id": customer_id,
            "product_id": product_id,
            "store_id": line.store_id,
            "size": line.size,
            "fit": fit,
            "source": source,
        },
    )
    product_fit_refresh(product_id=product_id)
    logger.info(
        "fit_feedback.recorded",
        order_line_id=line.pk,
        product_id=product_id,
        fit=fit,
        source=source,
        replaced=not created,
    )
    return feedback


__all__ = [
    "fit_feedback_record",
    "product_fit_refresh",
    "size_chart_create",
    "size_chart_delete",
    "size_chart_errors",
    "size_chart_update",
]


def size_chart_row_errors(*, size: Any, measurements: Any) -> list[FieldError]:
    """The errors of one chart row on its own (the admin checks each row with it)."""
    errors: list[FieldError] = []
    _rows([{"size": size, "measurements": measurements}], errors)
    return [
        FieldError(error.field.removeprefix("rows.0."), error.message, error.code)
        for error in errors
    ]
