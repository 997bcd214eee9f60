"""Size and fit in the admin: size charts (editable, rows inline), fit feedback and the
products' fit summaries (read-only: they come from customers)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from apps.fit.models import FitFeedback, ProductFit, SizeChart, SizeChartRow
from apps.fit.services import size_chart_row_errors


class SizeChartRowForm(forms.ModelForm[SizeChartRow]):
    class Meta:
        model = SizeChartRow
        fields = ("size", "position", "measurements")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for error in size_chart_row_errors(
            size=data.get("size"), measurements=data.get("measurements")
        ):
            field = error.field.split(".")[0]
            self.add_error(field if field in self.fields else None, error.message)
        return data


class SizeChartRowInline(admin.TabularInline[SizeChartRow, SizeChart]):
    model = SizeChartRow
    form = SizeChartRowForm
    extra = 1


@admin.register(SizeChart)
class SizeChartAdmin(admin.ModelAdmin[SizeChart]):
    list_display = ("__str__", "store", "category", "unit_note", "updated_at")
    list_select_related = ("store", "category")
    search_fields = ("name", "store__name", "category__name")
    raw_id_fields = ("store", "category")
    inlines = (SizeChartRowInline,)


class _ReadOnly[M: Any](admin.ModelAdmin[M]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FitFeedback)
class FitFeedbackAdmin(_ReadOnly[FitFeedback]):
    list_display = ("order_line", "product", "store", "size", "fit", "source", "updated_at")
    list_filter = ("fit", "source")
    search_fields = ("customer__email", "product__name")
    list_select_related = ("order_line", "product", "store")
    ordering = ("-updated_at",)


@admin.register(ProductFit)
class ProductFitAdmin(_ReadOnly[ProductFit]):
    list_display = ("product", "runs_small", "true_to_size", "runs_large", "updated_at")
    search_fields = ("product__name",)
    list_select_related = ("product",)
    ordering = ("-updated_at",)
